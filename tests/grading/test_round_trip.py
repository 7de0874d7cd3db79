"""Round trips through ``make grade``'s code path: submissions of every kind, graded in two batches (conftest.py).

Students (the same few for every lab; ``round_trip_students.py``), graded in the same batch as the
hostile catalogue (``test_hostile.py``, fixture ``graded`` in conftest.py) to save kernel starts:

- ``solution``: the instructor's notebook handed in as is: full marks;
- ``blank``: the released lab untouched: zero in every graded cell, and the batch goes on;
- ``wrong_*``: typical mistakes: partial marks, and feedback that names the mistake;
- ``broken_*``: invalid JSON and an infinite loop (lab 2), a deleted test cell and an exception at
  import (lab 3): graded (or recorded) without stopping the batch, while the others in the same batch
  are still graded. One kind per lab is enough, and every kernel start costs seconds.

The per-cell timeout is small (conftest ``GRADE_ARGS``) so that the infinite loop costs seconds.
"""

from __future__ import annotations

import json
from html import unescape as html_unescape

import pytest

import build_labs

FULL = {lab: spec.FULL for lab, spec in build_labs.LABS.items()}
WRONG = {lab: spec.wrong_answers() for lab, spec in build_labs.LABS.items()}
BROKEN = {lab: spec.BROKEN for lab, spec in build_labs.LABS.items()}


def _scores(graded: dict, lab: str, student: str) -> dict[str, float]:
    return {test["name"]: test["score"] for test in graded["results"][lab]["by_student"][student]["tests"]}


def _autograded(graded: dict, student: str, lab: str) -> dict:
    return json.loads((graded["course"] / "autograded" / student / lab / f"{lab}.ipynb").read_text())


def _feedback(graded: dict, student: str, lab: str, cell_id: str) -> str:
    cell = next(c for c in _autograded(graded, student, lab)["cells"] if c["id"] == cell_id)
    return "\n".join(f"{o.get('ename', '')}: {o.get('evalue', '')}\n" + "\n".join(o.get("traceback", []))
                     for o in cell.get("outputs", []) if o["output_type"] == "error")


def _selected(graded: dict, lab: str) -> None:
    """These cases use one lab's broken submissions: skip them when ``GRADING_LABS`` leaves that lab out."""
    if lab not in graded["results"]:
        pytest.skip(f"{lab} is not among GRADING_LABS")


@pytest.mark.parametrize("lab", sorted(build_labs.LABS))
def test_the_solution_gets_full_marks(graded: dict, lab: str) -> None:
    assert _scores(graded, lab, "solution") == FULL[lab]


@pytest.mark.parametrize("lab", sorted(build_labs.LABS))
def test_the_blank_lab_gets_zero_in_every_graded_cell(graded: dict, lab: str) -> None:
    assert _scores(graded, lab, "blank") == {cell: 0 for cell in FULL[lab]}


@pytest.mark.parametrize("lab, student", [(lab, student) for lab in sorted(WRONG) for student in sorted(WRONG[lab])])
def test_a_typical_mistake_gets_partial_marks_and_feedback_that_names_it(graded: dict, lab: str, student: str) -> None:
    _, _, failing, words = WRONG[lab][student]
    expected = {cell: 0 if cell in failing else points for cell, points in FULL[lab].items()}
    assert _scores(graded, lab, student) == expected
    texts = [_feedback(graded, student, lab, cell) for cell in failing]
    assert any(words in text for text in texts), texts
    for text in texts:
        assert "Traceback" not in text and "BEGIN HIDDEN" not in text     # the message alone, no test code


def test_invalid_json_is_recorded_as_nothing_and_the_batch_goes_on(graded: dict) -> None:
    _selected(graded, "lab02_etcd")
    assert sum(_scores(graded, "lab02_etcd", "broken_json").values()) == 0
    assert graded["results"]["lab02_etcd"]["by_student"]["broken_json"]["status"] == "failed"
    assert _scores(graded, "lab02_etcd", "solution") == FULL["lab02_etcd"]          # graded in the same batch
    assert sum(_scores(graded, "lab02_etcd", "wrong_read_then_write").values())    # after it (name order)


def test_an_infinite_loop_costs_only_its_own_cells(graded: dict) -> None:
    _selected(graded, "lab02_etcd")
    loop = _scores(graded, "lab02_etcd", "broken_loop")
    cas_cells = {"test_cas_basics", "test_cas_race"}
    assert loop == {cell: 0 if cell in cas_cells else points for cell, points in FULL["lab02_etcd"].items()}
    assert "CellTimeoutError" in _feedback(graded, "broken_loop", "lab02_etcd", "cas_update") or \
        "KeyboardInterrupt" in _feedback(graded, "broken_loop", "lab02_etcd", "cas_update")


@pytest.mark.parametrize("lab", sorted(lab for lab in BROKEN if "broken_loop" in BROKEN[lab]))
def test_an_infinite_loop_times_out_in_its_own_cell_in_every_lab_that_hands_one_in(graded: dict, lab: str) -> None:
    cells = _autograded(graded, "broken_loop", lab)["cells"]
    looping = [cell for cell in cells if cell["metadata"].get("nbgrader", {}).get("solution")][-1]
    assert "while True" in "".join(looping["source"])
    text = _feedback(graded, "broken_loop", lab, looping["id"])
    assert "CellTimeoutError" in text or "KeyboardInterrupt" in text
    scores = _scores(graded, lab, "broken_loop")
    assert 0 < sum(scores.values()) < sum(FULL[lab].values())        # the cells before the loop still count


def test_a_deleted_test_cell_is_put_back_and_graded(graded: dict) -> None:
    _selected(graded, "lab03_apiserver")
    # add_missing_cells puts the instructor's cell back (with a new cell id) and runs it against the
    # student's code: deleting a test cannot hide it, nor keep an old score.
    scores = _scores(graded, "lab03_apiserver", "broken_deleted_cell")
    assert scores == FULL["lab03_apiserver"]
    cells = _autograded(graded, "broken_deleted_cell", "lab03_apiserver")["cells"]
    put_back = [cell for cell in cells if cell["metadata"].get("nbgrader", {}).get("grade_id") == "test_rbac_rules"]
    assert len(put_back) == 1 and "added back by nbgrader" in "".join(put_back[0]["source"])


def test_an_exception_at_import_fails_what_depends_on_it_and_nothing_else(graded: dict) -> None:
    _selected(graded, "lab03_apiserver")
    scores = _scores(graded, "lab03_apiserver", "broken_import")
    assert scores["test_rbac_rules"] == 0 and scores["test_selector_sets"] == FULL["lab03_apiserver"]["test_selector_sets"]
    assert "ModuleNotFoundError" in _feedback(graded, "broken_import", "lab03_apiserver", "rule_matches")


@pytest.mark.parametrize("lab, student", [(lab, student) for lab in sorted(WRONG) for student in sorted(WRONG[lab])])
def test_feedback_names_the_mistake_and_hides_the_hidden_tests(graded: dict, lab: str, student: str) -> None:
    html = (graded["course"] / "feedback" / student / lab / f"{lab}.html").read_text()
    words = WRONG[lab][student][3]
    assert html_unescape(words) in html_unescape(html)
    for secret in ("BEGIN HIDDEN TESTS", *build_labs.LABS[lab].SECRETS):
        assert secret not in html


@pytest.mark.parametrize("lab", sorted(build_labs.LABS))
def test_no_graded_notebook_writes_to_stderr(graded: dict, lab: str) -> None:
    # The batch ran every kernel with PYTHONWARNINGS=default: the engine's warnings would show here.
    autograded = sorted((graded["course"] / "autograded").glob(f"*/{lab}/{lab}.ipynb"))
    expected = {"solution", "blank", *WRONG[lab], *BROKEN[lab]} - {"broken_json"}     # invalid JSON runs nothing
    assert expected <= {path.parent.parent.name for path in autograded}
    for path in autograded:
        student = path.parent.parent.name
        if student not in expected:
            continue
        for cell in json.loads(path.read_text())["cells"]:
            streams = [o for o in cell.get("outputs", []) if o.get("name") == "stderr"]
            assert not streams, (student, cell["id"], streams)
