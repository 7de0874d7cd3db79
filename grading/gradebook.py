"""The course's real gradebook: only the grader writes it, and changes no grader made are undone.

Interface:

- ``ensure_lab(config, lab)``: the lab's notebooks and test cells are in the gradebook; when they
  are not (a fresh course), nbgrader's ``GenerateAssignment`` records them from ``solutions/``,
  releasing into a temporary folder so that the committed ``labs/`` is left alone.
- ``template(config, lab, folder)``: a gradebook holding only that lab (no student), the one each
  submission is graded against (``grading.worker``).
- ``read_scores(db)``: ``{grade cell: (score, max_score)}`` of the one submission a worker graded.
- ``record(db_url, lab, student, scores)``: the scores written through nbgrader's ``Gradebook`` API
  as automatic scores.
- ``audit(db_url, ledger)``: every grade and comment of every lab compared with what the grader
  last wrote (``ledger``: lab -> student -> grade cell -> score; the batch keeps it in each lab's
  ``results.json``) and with "no manual scores, no extra credit, no manual comments" (this
  course's labs are graded automatically only). Each difference is undone and returned as a
  line of the report.

Importing this module also answers nbgrader's one question to alembic in this process: nbgrader asks
``alembic heads`` in a child process whenever it creates a gradebook (``nbgrader.api.get_alembic_version``),
and that child imports all of nbgrader afresh, seconds each time (every lab's template gradebook). The same
answer, from the same migration scripts, is read here with alembic's ``ScriptDirectory`` in milliseconds.
"""

from __future__ import annotations

import copy
import functools
import shutil
import tempfile
from pathlib import Path

import nbgrader.api
from alembic.script import ScriptDirectory
from nbgrader.api import Gradebook, MissingEntry
from nbgrader.converters import GenerateAssignment
from nbgrader.coursedir import CourseDirectory
from nbgrader.dbutil import ALEMBIC_DIR
from traitlets.config import Config


@functools.cache
def alembic_head() -> str:
    """The gradebook schema's revision nbgrader stamps a new gradebook with (what ``alembic heads`` prints first)."""
    heads = ScriptDirectory(ALEMBIC_DIR).get_heads()
    if len(heads) != 1:
        raise RuntimeError(f"nbgrader's gradebook migrations have {len(heads)} heads: {heads}")
    return heads[0]


nbgrader.api.get_alembic_version = alembic_head


def _generate(config: Config, lab: str, root: str, db_url: str, source: str) -> None:
    with tempfile.TemporaryDirectory(prefix="grading-release-") as release:
        made = copy.deepcopy(config)
        made.CourseDirectory.root = root
        made.CourseDirectory.source_directory = source
        made.CourseDirectory.release_directory = release
        made.CourseDirectory.db_url = db_url
        made.CourseDirectory.assignment_id = lab
        made.GenerateAssignment.force = True
        made.GenerateAssignment.create_assignment = True
        GenerateAssignment(coursedir=CourseDirectory(config=made), config=made).start()


def has_lab(db_url: str, lab: str) -> bool:
    with Gradebook(db_url) as gradebook:
        try:
            return bool(gradebook.find_assignment(lab).notebooks)
        except MissingEntry:
            return False


def ensure_lab(config: Config, lab: str) -> bool:
    """Record the lab in the course's gradebook unless it is there; True when it had to."""
    db_url = config.CourseDirectory.db_url
    if has_lab(db_url, lab):
        return False
    root = config.CourseDirectory.root
    _generate(config, lab, root, db_url, str(Path(root) / config.CourseDirectory.source_directory))
    return True


def template(config: Config, lab: str, folder: Path) -> Path:
    """A gradebook of the lab alone, made from ``solutions/`` by nbgrader, at ``folder/gradebook.db``."""
    root = config.CourseDirectory.root
    folder.mkdir(parents=True, exist_ok=True)
    db = folder / "gradebook.db"
    _generate(config, lab, str(folder), f"sqlite:///{db}", str(Path(root) / config.CourseDirectory.source_directory))
    shutil.rmtree(folder / "release", ignore_errors=True)
    return db


def read_scores(db: Path, lab: str, student: str) -> dict[str, tuple[float | None, float]]:
    """The grade cells' ``(auto_score, max_score)`` of ``student``'s one notebook in a worker's gradebook."""
    scores: dict[str, tuple[float | None, float]] = {}
    with Gradebook(f"sqlite:///{db}") as gradebook:
        try:
            submission = gradebook.find_submission(lab, student)
        except MissingEntry:
            return scores
        for notebook in submission.notebooks:
            for grade in notebook.grades:
                scores[grade.name] = (grade.auto_score, grade.max_score)
    return scores


def max_scores(db_url: str, lab: str) -> dict[str, float]:
    """Points of every grade cell of the lab, from the gradebook."""
    with Gradebook(db_url) as gradebook:
        assignment = gradebook.find_assignment(lab)
        return {cell.name: cell.max_score for notebook in assignment.notebooks for cell in notebook.grade_cells}


def record(db_url: str, lab: str, student: str, scores: dict[str, float]) -> None:
    """Write ``scores`` (every grade cell of the lab) as the student's automatic scores.

    Manual scores, extra credit and manual comments are left for ``audit`` to find and report.
    """
    with Gradebook(db_url) as gradebook:
        gradebook.update_or_create_student(student)
        submission = gradebook.update_or_create_submission(lab, student)
        for notebook in submission.notebooks:
            for grade in notebook.grades:
                grade.auto_score = scores.get(grade.name, 0.0)
                grade.needs_manual_grade = False
        gradebook.db.commit()


def labs(db_url: str) -> list[str]:
    """Every lab (assignment) the gradebook holds."""
    with Gradebook(db_url) as gradebook:
        return [assignment.name for assignment in gradebook.assignments]


def audit(db_url: str, ledger: dict[str, dict[str, dict[str, float]]]) -> list[str]:
    """Undo every change of the gradebook's grades no grader made; one line per change undone.

    ``ledger``: lab -> student -> grade cell -> the automatic score the grader last wrote. Every lab
    is checked for manual scores, extra credit and manual comments; automatic scores are checked
    where the ledger knows them.
    """
    undone: list[str] = []
    with Gradebook(db_url) as gradebook:
        for assignment in gradebook.assignments:
            lab, written = assignment.name, ledger.get(assignment.name, {})
            for submission in gradebook.assignment_submissions(lab):
                student = submission.student.id
                for notebook in submission.notebooks:
                    for grade in notebook.grades:
                        where = f"{student}/{lab}/{grade.name}"
                        if grade.manual_score is not None:
                            undone.append(f"{where}: manual score {grade.manual_score:g} removed")
                            grade.manual_score = None
                        if grade.extra_credit is not None:
                            undone.append(f"{where}: extra credit {grade.extra_credit:g} removed")
                            grade.extra_credit = None
                        expected = written.get(student, {}).get(grade.name)
                        if expected is not None and grade.auto_score != expected:
                            undone.append(f"{where}: automatic score {grade.auto_score} put back to {expected:g}")
                            grade.auto_score = expected
                    for comment in notebook.comments:
                        if comment.manual_comment is not None:
                            undone.append(f"{student}/{lab}/{comment.name}: manual comment removed")
                            comment.manual_comment = None
        gradebook.db.commit()
    return undone
