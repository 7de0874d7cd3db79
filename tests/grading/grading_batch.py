"""``make grade``'s code path as the grading tests drive it: submissions written, ``python -m grading`` run.

(A module of its own, not conftest.py: several test folders have a conftest.py, so ``import conftest``
could find another one.)
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import build_labs


GRADE_ARGS = ["--cell-timeout", "25", "--cpu", "60", "--wall", "240", "--memory", "1536", "--jobs", "3"]
"""The limits of the graded batches: most cells take about a second, but lab05's in-cluster cells run whole
rollouts and a node failure (up to ~10 s with two kernels on two cores), so 25 s per cell stops the infinite loop
without cutting a slow honest cell; 1.5 GB of address space is ample for a kernel (about 250 MB). Three
submissions at once on CI's two cores: a kernel that waits out a cell timeout uses no CPU, so the third place
keeps both cores busy meanwhile."""

SEEDED_MANUAL_SCORE = 99
"""Written straight into the gradebook between the batches: a manual score no grader gave."""


def write_submission(course: Path, lab: str, student: str, files: dict[str, str]) -> None:
    folder = course / "submitted" / student / lab
    for name, text in files.items():
        path = folder / (f"{lab}.ipynb" if name == "NOTEBOOK" else name)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def grade(course: Path, labs: list[str], students: list[str] | None = None) -> dict[str, dict]:
    """``python -m grading <lab> ...`` (what ``make grade`` runs) on ``course``, ``--students`` when given: each
    lab's results.json, and the command's output."""
    env = build_labs.nbgrader_env()
    env["PYTHONWARNINGS"] = "default"            # the kernels show every warning: none may reach a test cell
    only = ["--students", ",".join(students)] if students else []
    process = subprocess.run([sys.executable, "-m", "grading", *labs, "--course", str(course), *GRADE_ARGS, *only],
                             cwd=build_labs.ROOT, env=env, capture_output=True, text=True, timeout=1800)
    assert process.returncode == 0, process.stdout + process.stderr
    graded = {}
    for lab in labs:
        results = json.loads((course / "reports" / lab / "results.json").read_text())
        results["stdout"], results["stderr"] = process.stdout, process.stderr
        results["by_student"] = {result["student"]: result for result in results["submissions"]}
        graded[lab] = results
    return graded


def gradebook_rows(course: Path) -> list[tuple]:
    """``(lab, student, grade cell, auto, manual, extra credit)`` of every grade in the course's gradebook."""
    with sqlite3.connect(course / "gradebook.db") as connection:
        return connection.execute(
            "SELECT a.name, s.student_id, c.name, g.auto_score, g.manual_score, g.extra_credit FROM grade g "
            "JOIN submitted_notebook n ON g.notebook_id = n.id JOIN submitted_assignment s ON n.assignment_id = s.id "
            "JOIN assignment a ON s.assignment_id = a.id JOIN base_cell c ON g.cell_id = c.id").fetchall()
