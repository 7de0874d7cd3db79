"""Round trips through nbgrader: submissions of every kind are autograded in one batch per lab.

Students (the same few for both labs, so one ``autograde`` call grades a whole lab):

- ``solution``: the instructor's notebook handed in as is: full marks;
- ``blank``: the released lab untouched: zero in every graded cell, and the batch goes on;
- ``wrong_*``: typical mistakes: partial marks, and feedback that names the mistake;
- ``broken_*``: invalid JSON and an infinite loop (lab 2), a deleted test cell and an exception at
  import (lab 3): graded (or recorded) without stopping the batch, while the others in the same batch
  are still graded. One kind per lab is enough, and every kernel start costs seconds.

The per-cell timeout is set small (``CELL_TIMEOUT``) so that the infinite loop costs seconds.
"""

from __future__ import annotations

import copy
import json
from html import unescape as html_unescape
from pathlib import Path

import pytest

import build_labs
from nbgrader_runner import run_nbgrader

CELL_TIMEOUT = 8
"""Seconds per cell: the slowest honest cell (three cluster boots and 150 real requests) needs about one."""

FULL = {lab: spec.FULL for lab, spec in build_labs.LABS.items()}
WRONG = {lab: spec.wrong_answers() for lab, spec in build_labs.LABS.items()}
BROKEN = {lab: spec.BROKEN for lab, spec in build_labs.LABS.items()}
STUDENTS = ["solution", "blank", *sorted({s for wrong in WRONG.values() for s in wrong}),
            *sorted({s for broken in BROKEN.values() for s in broken})]


def _source_of(lab: str, cell_id: str) -> str:
    notebook = json.loads((build_labs.ROOT / "solutions" / lab / f"{lab}.ipynb").read_text())
    return next("".join(cell["source"]) for cell in notebook["cells"] if cell["id"] == cell_id)


def _released(course: Path, lab: str) -> dict:
    return json.loads((course / "labs" / lab / f"{lab}.ipynb").read_text())


def _answered(course: Path, lab: str) -> dict:
    """The released lab with every answer cell holding the solution (as a good student hands it in)."""
    notebook = _released(course, lab)
    for cell in notebook["cells"]:
        if cell["metadata"].get("nbgrader", {}).get("solution"):
            cell["source"] = _source_of(lab, cell["id"])
    return notebook


def _replace(notebook: dict, cell_id: str, source: str) -> dict:
    notebook = copy.deepcopy(notebook)
    for cell in notebook["cells"]:
        if cell["id"] == cell_id:
            cell["source"] = source.strip("\n")
            return notebook
    raise AssertionError(f"no cell {cell_id}")


def _submissions(course: Path, lab: str) -> dict[str, dict | str]:
    answered = _answered(course, lab)
    made: dict[str, dict | str] = {
        "solution": json.loads((build_labs.ROOT / "solutions" / lab / f"{lab}.ipynb").read_text()),
        "blank": _released(course, lab),
    }
    for student, (cell_id, source, _, _) in WRONG[lab].items():
        made[student] = _replace(answered, cell_id, source)
    solutions = [cell["id"] for cell in answered["cells"] if cell["metadata"]["nbgrader"].get("solution")]
    broken: dict[str, dict | str] = {
        "broken_json": '{"cells": [ this is not JSON',
        "broken_loop": _replace(answered, solutions[-1], "while True:\n    pass"),
        "broken_import": _replace(answered, solutions[0], "import kubernetes_helpers_that_do_not_exist\n"
                                  + _source_of(lab, solutions[0])),
    }
    deleted = copy.deepcopy(answered)
    deleted["cells"] = [cell for cell in deleted["cells"] if cell["id"] != _first_test(deleted)]
    broken["broken_deleted_cell"] = deleted
    made.update({student: broken[student] for student in BROKEN[lab]})
    return made


def _first_test(notebook: dict) -> str:
    return next(cell["id"] for cell in notebook["cells"] if cell["metadata"]["nbgrader"].get("grade"))


@pytest.fixture(scope="module")
def graded(course: Path) -> dict:
    """Submit every student's notebook for both labs, autograde each lab in one batch; scores and notebooks."""
    for lab in build_labs.LABS:
        for student, notebook in _submissions(course, lab).items():
            path = course / "submitted" / student / lab / f"{lab}.ipynb"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(notebook if isinstance(notebook, str) else json.dumps(notebook, indent=1))
    commands = [(command, lab) for command in ("autograde", "generate_feedback") for lab in build_labs.LABS]
    outcome = run_nbgrader(course, commands, timeout=CELL_TIMEOUT, scores=list(build_labs.LABS), students=STUDENTS)
    outcome["course"] = course
    return outcome


def _autograded(graded: dict, student: str, lab: str) -> dict:
    return json.loads((graded["course"] / "autograded" / student / lab / f"{lab}.ipynb").read_text())


def _feedback(graded: dict, student: str, lab: str, cell_id: str) -> str:
    cell = next(c for c in _autograded(graded, student, lab)["cells"] if c["id"] == cell_id)
    return "\n".join(f"{o.get('ename', '')}: {o.get('evalue', '')}\n" + "\n".join(o.get("traceback", []))
                     for o in cell.get("outputs", []) if o["output_type"] == "error")


@pytest.mark.parametrize("lab", sorted(build_labs.LABS))
def test_the_solution_gets_full_marks(graded: dict, lab: str) -> None:
    assert graded["scores"][lab]["solution"] == FULL[lab]


@pytest.mark.parametrize("lab", sorted(build_labs.LABS))
def test_the_blank_lab_gets_zero_in_every_graded_cell(graded: dict, lab: str) -> None:
    assert graded["scores"][lab]["blank"] == {cell: 0 for cell in FULL[lab]}


@pytest.mark.parametrize("lab, student", [(lab, student) for lab in sorted(WRONG) for student in sorted(WRONG[lab])])
def test_a_typical_mistake_gets_partial_marks_and_feedback_that_names_it(graded: dict, lab: str, student: str) -> None:
    _, _, failing, words = WRONG[lab][student]
    expected = {cell: 0 if cell in failing else points for cell, points in FULL[lab].items()}
    assert graded["scores"][lab][student] == expected
    texts = [_feedback(graded, student, lab, cell) for cell in failing]
    assert any(words in text for text in texts), texts
    for text in texts:
        assert "Traceback" not in text and "BEGIN HIDDEN" not in text     # the message alone, no test code


def test_invalid_json_is_recorded_as_nothing_and_the_batch_goes_on(graded: dict) -> None:
    scores = graded["scores"]["lab02_etcd"]
    assert sum(scores.get("broken_json", {}).values()) == 0
    assert scores["solution"] == FULL["lab02_etcd"]          # graded in the same batch
    assert scores["wrong_read_then_write"]                    # graded after it (students go in name order)


def test_an_infinite_loop_costs_only_its_own_cells(graded: dict) -> None:
    loop = graded["scores"]["lab02_etcd"]["broken_loop"]
    cas_cells = {"test_cas_basics", "test_cas_race"}
    assert loop == {cell: 0 if cell in cas_cells else points for cell, points in FULL["lab02_etcd"].items()}
    assert "CellTimeoutError" in _feedback(graded, "broken_loop", "lab02_etcd", "cas_update") or \
        "KeyboardInterrupt" in _feedback(graded, "broken_loop", "lab02_etcd", "cas_update")


def test_a_deleted_test_cell_is_put_back_and_graded(graded: dict) -> None:
    # add_missing_cells puts the instructor's cell back (with a new cell id) and runs it against the
    # student's code: deleting a test cannot hide it, nor keep an old score.
    scores = graded["scores"]["lab03_apiserver"]["broken_deleted_cell"]
    assert scores == FULL["lab03_apiserver"]
    cells = _autograded(graded, "broken_deleted_cell", "lab03_apiserver")["cells"]
    put_back = [cell for cell in cells if cell["metadata"].get("nbgrader", {}).get("grade_id") == "test_rbac_rules"]
    assert len(put_back) == 1 and "added back by nbgrader" in "".join(put_back[0]["source"])


def test_an_exception_at_import_fails_what_depends_on_it_and_nothing_else(graded: dict) -> None:
    scores = graded["scores"]["lab03_apiserver"]["broken_import"]
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
    autograded = sorted((graded["course"] / "autograded").glob(f"*/{lab}/{lab}.ipynb"))
    expected = {"solution", "blank", *WRONG[lab], *BROKEN[lab]} - {"broken_json"}     # invalid JSON runs nothing
    assert {path.parent.parent.name for path in autograded} == expected
    for path in autograded:
        student = path.parent.parent.name
        for cell in json.loads(path.read_text())["cells"]:
            streams = [o for o in cell.get("outputs", []) if o.get("name") == "stderr"]
            assert not streams, (student, cell["id"], streams)
