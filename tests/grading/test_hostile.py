"""The catalogue of hostile and broken submissions (``hostile.py``): all of it for one lab, the lab-specific kinds
for every lab, graded by ``make grade``'s code path in the same batch as the round trip (fixture ``graded``).

Each submission gets a clear result and feedback and no mark it did not earn; the batch completes; the
gradebook holds exactly what the grader wrote (changes made behind its back are undone and reported); the
honest solution still gets full marks; no feedback page shows a hidden test.
"""

from __future__ import annotations

import json

import pytest

import build_labs
import hostile
from grading_batch import SEEDED_MANUAL_SCORE, gradebook_rows


def _cases(graded: dict) -> list[tuple[str, str]]:
    return [(lab, student) for lab in sorted(graded["submissions"]) for student in sorted(graded["submissions"][lab])
            if student.startswith("hostile_")]


def _labs_with(graded: dict, student: str) -> list[str]:
    labs = [lab for lab in sorted(graded["submissions"]) if student in graded["submissions"][lab]]
    assert labs, student
    return labs


def _autograded_text(graded: dict, lab: str, student: str) -> str:
    path = graded["course"] / "autograded" / student / lab / f"{lab}.ipynb"
    return path.read_text() if path.exists() else ""


def test_every_hostile_submission_gets_a_clear_result_and_no_mark_it_did_not_earn(graded: dict) -> None:
    checked = 0
    for lab, student in _cases(graded):
        spec = graded["submissions"][lab][student]
        result = graded["results"][lab]["by_student"][student]
        full = build_labs.LABS[lab].FULL
        scores = {test["name"]: test["score"] for test in result["tests"]}
        expected = dict(full) if spec.full_marks else {name: 0 for name in full}
        assert (result["status"], scores) == (spec.status, expected), (lab, student, result)
        text = _autograded_text(graded, lab, student)
        outputs = result["output"] + "\n" + "\n".join(test["output"] for test in result["tests"]) + "\n" + text
        assert spec.words in outputs, (lab, student, spec.words, result)
        for word in spec.absent:
            assert word not in text, (lab, student, word)
        feedback = graded["course"] / "feedback" / student / lab / f"{lab}.html"
        assert feedback.exists(), (lab, student)
        checked += 1
    assert checked == 14 + len(hostile.EVERY_LAB) * (len(build_labs.LABS) - 1)


@pytest.mark.parametrize("lab", sorted(build_labs.LABS))
def test_the_honest_solution_still_gets_full_marks_through_the_same_command(graded: dict, lab: str) -> None:
    # Every kernel of the batch ran with PYTHONWARNINGS=default (hostile_stderr shows it reached the kernel):
    # with warnings enabled the engine still writes nothing to stderr, so no test cell loses its marks.
    result = graded["results"][lab]["by_student"]["solution"]
    cells = json.loads(_autograded_text(graded, lab, "solution"))["cells"]
    assert not [o for cell in cells for o in cell.get("outputs", []) if o.get("name") == "stderr"]
    assert result["status"] == "graded" and result["score"] == result["max_score"] == 10
    assert {test["name"]: test["score"] for test in result["tests"]} == build_labs.LABS[lab].FULL


@pytest.mark.parametrize("lab", sorted(build_labs.LABS))
def test_the_batch_completes_and_feedback_never_shows_hidden_tests(graded: dict, lab: str) -> None:
    results = graded["results"][lab]
    assert set(results["by_student"]) == set(graded["submissions"][lab])
    assert results["problems"] == []
    for student in graded["submissions"][lab]:
        page = (graded["course"] / "feedback" / student / lab / f"{lab}.html").read_text()
        for secret in ("BEGIN HIDDEN TESTS", "ensure_installed()", *build_labs.LABS[lab].SECRETS):
            assert secret not in page, (student, secret)


def test_a_dead_kernel_scores_what_ran_before_it_and_says_what_happened(graded: dict) -> None:
    for lab in _labs_with(graded, "hostile_os_exit"):
        cells = json.loads(_autograded_text(graded, lab, "hostile_os_exit"))["cells"]
        errors = [output["ename"] for cell in cells for output in cell.get("outputs", [])
                  if output["output_type"] == "error"]
        assert errors[0] == "KernelDied" and set(errors[1:]) == {"NotRun"}, errors


def test_huge_output_is_cut_and_the_notebook_stays_small(graded: dict) -> None:
    for lab in _labs_with(graded, "hostile_huge_output"):
        assert len(_autograded_text(graded, lab, "hostile_huge_output")) < 3 << 20


def test_the_gradebook_holds_what_the_grader_wrote_and_changes_behind_its_back_are_undone(graded: dict) -> None:
    seeded_lab = graded["seeded"][0]
    later = [lab for lab in sorted(build_labs.LABS) if lab != seeded_lab]
    if not later:
        pytest.skip("one lab graded (GRADING_LABS): no later batch undoes the seeded scores")
    undone = graded["results"][later[0]]["gradebook_changes_undone"]
    manual = [line for line in undone if f"manual score {SEEDED_MANUAL_SCORE} removed" in line]
    assert len(manual) == len(graded["submissions"][seeded_lab]) * len(build_labs.LABS[seeded_lab].FULL)
    assert any("automatic score 0.5 put back" in line for line in undone), undone
    rows = gradebook_rows(graded["course"])
    assert all(manual is None and extra is None for *_, manual, extra in rows)
    for lab, student, cell, auto, _, _ in rows:
        reported = {test["name"]: test["score"] for test in graded["results"][lab]["by_student"][student]["tests"]}
        assert auto == reported[cell], (lab, student, cell)
    assert {(lab, student) for lab, student, *_ in rows} == \
        {(lab, student) for lab in graded["submissions"] for student in graded["submissions"][lab]}
