"""Fixtures of the grading tests: a temporary course directory where nbgrader (``nbgrader_runner``) generated
the labs, and ``graded``: every lab's submissions (the round trip's and the hostile catalogue's) graded
through ``python -m grading``, the code path of ``make grade``: the first lab alone, then all the others in one
batch (their submissions sharing the batch's places).

Everything happens in a temporary copy of the course (``course``, once per session: creating a
gradebook alone costs seconds), so the repository never gets a ``gradebook.db``, ``submitted/``,
``autograded/`` or ``feedback/``.
"""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import build_labs  # noqa: E402
from grading_batch import SEEDED_MANUAL_SCORE, grade, write_submission  # noqa: E402
from nbgrader_runner import run_nbgrader  # noqa: E402


@pytest.fixture(scope="session")
def course(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A temporary course directory whose ``labs/`` nbgrader generated from the committed ``solutions/``."""
    root = build_labs.course_copy(tmp_path_factory.mktemp("course"))
    outcome = run_nbgrader(root, [("generate_assignment", lab) for lab in build_labs.LABS])
    failed = [result for result in outcome["results"] if not result["success"]]
    assert not failed, failed
    return root


@pytest.fixture(scope="session")
def graded(course: Path) -> dict:
    """Every lab's round-trip students and hostile catalogue handed in, then graded: the first lab in a batch
    of its own, then the other labs in one batch.

    Between the batches, a manual score is written straight into the gradebook for every graded cell
    of the first lab, and one automatic score is changed: the next batch must undo and report them.
    """
    import hostile
    import round_trip_students

    submissions: dict[str, dict] = {}
    for lab in build_labs.LABS:
        full = lab == hostile.full_catalogue_lab(list(build_labs.LABS))
        made = {**round_trip_students.submissions(course, lab), **hostile.catalogue(course, lab, full=full)}
        submissions[lab] = made
        for student, files in made.items():
            write_submission(course, lab, student, files if isinstance(files, dict) else files.files)
    first, *later = build_labs.LABS
    results = grade(course, [first])
    with sqlite3.connect(course / "gradebook.db") as connection:
        connection.execute("UPDATE grade SET manual_score = ?", (SEEDED_MANUAL_SCORE,))
        connection.execute("UPDATE grade SET auto_score = 0.5 WHERE id = (SELECT min(id) FROM grade)")
    seeded = [first]
    if later:
        results.update(grade(course, later))
    return {"course": course, "results": results, "submissions": submissions, "seeded": seeded}
