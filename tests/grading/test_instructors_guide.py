"""course/INSTRUCTORS.md, followed as written on a copy of the course: release, collect (by hand and with
``zip_collect``), ``make grade``, feedback, export.

The copy holds what a clone holds for grading (the configuration, the labs, the Makefile, the grading
tooling and the set-up scripts) and shares this test run's virtualenv (``.venv`` is a link to it).
Each command must appear verbatim in the guide. ``make grade`` gets one variable more than the guide
shows, ``INSTALLED=pyproject.toml``: it tells the ``setup`` prerequisite that the environment matches
``pyproject.toml`` already, so that it does not reinstall the shared virtualenv from the copy.

The gradebook the guide's ``nbgrader generate_assignment`` creates is stamped with the schema revision nbgrader's
own ``alembic heads`` child names; the grading tooling answers that question in-process
(``grading.gradebook.alembic_head``), and the gradebook it made for the ``course`` fixture must carry the same.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import zipfile
from pathlib import Path

import build_labs

GUIDE = build_labs.ROOT / "course" / "INSTRUCTORS.md"
RELEASE = 'PATH="$PWD/.venv/bin:$PATH" nbgrader generate_assignment lab02_etcd --force'
BY_HAND = "mkdir -p submitted/bob/lab02_etcd && cp bob.ipynb submitted/bob/lab02_etcd/lab02_etcd.ipynb"
ZIP_COLLECT = 'PATH="$PWD/.venv/bin:$PATH" nbgrader zip_collect lab02_etcd'
GRADE = "make grade LAB=lab02_etcd"
EXPORT = 'PATH="$PWD/.venv/bin:$PATH" nbgrader export --to grades.csv'


def _copy_of_the_course(root: Path) -> Path:
    for name in ("nbgrader_config.py", "Makefile", "pyproject.toml"):
        shutil.copy2(build_labs.ROOT / name, root / name)
    for name in ("solutions", "labs", "grading", "scripts"):
        shutil.copytree(build_labs.ROOT / name, root / name, ignore=shutil.ignore_patterns("__pycache__"))
    (root / ".venv").symlink_to(Path(sys.executable).parent.parent)
    return root


def _run(course: Path, command: str) -> str:
    env = dict(os.environ)
    env.pop("VIRTUAL_ENV", None)
    process = subprocess.run(["bash", "-c", command], cwd=course, env=env, capture_output=True, text=True,
                             timeout=900)
    assert process.returncode == 0, f"{command}\n{process.stdout}\n{process.stderr}"
    return process.stdout


def _schema_revision(gradebook: Path) -> str:
    with sqlite3.connect(gradebook) as connection:
        return connection.execute("SELECT version_num FROM alembic_version").fetchone()[0]


def test_the_instructors_guide_works_as_written(tmp_path: Path, course: Path) -> None:
    guide = GUIDE.read_text()
    for command in (RELEASE, BY_HAND, ZIP_COLLECT, GRADE, EXPORT):
        assert command in guide, command
    fixture_gradebook = course / "gradebook.db"
    course = _copy_of_the_course(tmp_path)

    _run(course, RELEASE)
    assert (course / "gradebook.db").exists()
    assert _schema_revision(course / "gradebook.db") == _schema_revision(fixture_gradebook)
    assert (course / "labs" / "lab02_etcd" / "lab02_etcd.ipynb").read_text() == \
        (build_labs.ROOT / "labs" / "lab02_etcd" / "lab02_etcd.ipynb").read_text()

    shutil.copy2(course / "labs" / "lab02_etcd" / "lab02_etcd.ipynb", course / "bob.ipynb")     # handed in blank
    _run(course, BY_HAND)
    archive = course / "downloaded" / "lab02_etcd" / "archive"
    archive.mkdir(parents=True)
    with zipfile.ZipFile(archive / "submissions.zip", "w") as handle:
        handle.write(build_labs.ROOT / "solutions" / "lab02_etcd" / "lab02_etcd.ipynb", "alice__lab02_etcd.ipynb")
    _run(course, ZIP_COLLECT)
    assert (course / "submitted" / "alice" / "lab02_etcd" / "lab02_etcd.ipynb").exists()

    output = _run(course, GRADE + " INSTALLED=pyproject.toml")
    assert "alice: 10 / 10 (graded)" in output and "bob: 0 / 10 (graded)" in output, output
    for student in ("alice", "bob"):
        assert (course / "feedback" / student / "lab02_etcd" / "lab02_etcd.html").exists()
    results = json.loads((course / "reports" / "lab02_etcd" / "results.json").read_text())
    assert {r["student"]: r["score"] for r in results["submissions"]} == {"alice": 10, "bob": 0}
    assert (course / "reports" / "lab02_etcd" / "grades.csv").exists()

    _run(course, EXPORT)
    with (course / "grades.csv").open() as handle:
        rows = {(row["student_id"], row["assignment"]): float(row["score"]) for row in csv.DictReader(handle)}
    assert rows == {("alice", "lab02_etcd"): 10.0, ("bob", "lab02_etcd"): 0.0}
