"""A batch of some students only (``python -m grading <lab> --students bob``, late submissions say): the lab's
reports still hold the whole class, and the other students' feedback pages are left as they were."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import build_labs
from grading_batch import grade, write_submission

LAB = "lab02_etcd"


def _solution() -> str:
    return (build_labs.ROOT / "solutions" / LAB / f"{LAB}.ipynb").read_text()


def test_a_batch_of_some_students_keeps_the_others_reports_and_feedback(tmp_path: Path) -> None:
    course = build_labs.course_copy(tmp_path)
    write_submission(course, LAB, "alice", {"NOTEBOOK": _solution()})
    grade(course, [LAB])
    alice_page = course / "feedback" / "alice" / LAB / f"{LAB}.html"
    alice_page.write_text(alice_page.read_text() + "<!-- the page alice was sent -->")

    write_submission(course, LAB, "bob", {"NOTEBOOK": _solution()})
    graded = grade(course, [LAB], students=["bob"])[LAB]

    assert [result["student"] for result in graded["submissions"]] == ["alice", "bob"]
    assert all(result["status"] == "graded" and result["score"] == result["max_score"]
               for result in graded["submissions"]), graded["submissions"]
    with (course / "reports" / LAB / "grades.csv").open() as handle:
        assert [row["student"] for row in csv.DictReader(handle)] == ["alice", "bob"]
    assert graded["gradebook_changes_undone"] == [] and graded["problems"] == []
    assert "the page alice was sent" in alice_page.read_text(), "alice's feedback was made again"
    assert (course / "feedback" / "bob" / LAB / f"{LAB}.html").exists()
    assert json.loads((course / "reports" / LAB / "results.json").read_text())["lab"] == LAB
