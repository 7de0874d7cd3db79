"""One submission autograded by nbgrader in a course of its own: the unit of work of ``grading.batch``.

``prepare(workspace, lab, student, submitted, template_db)`` lays the submission's own course out
under ``workspace``: a copy of the lab's template gradebook (the lab's notebooks and test cells,
no student), the student's submitted files (regular files only: a symlink could make nbgrader
read ``solutions/`` for the student; of a cell copied with its grade id, only the first keeps its
nbgrader metadata) and an empty source folder, so nbgrader copies no instructor file into it. ``autograde(workspace, lab, student, config, limits)`` then runs
nbgrader's own ``Autograde`` converter there, with ``grading.execute.SandboxedExecute`` in place
of ``Execute``, and writes ``result.json``: ``{"status": "graded" | "failed", "error": ...}``.

It runs in a child process of the batch (forked, so nbgrader is imported once), with an address
space limit of its own, so that nothing a submission does can take the batch down. It never
opens the course's real gradebook: the batch copies the scores over afterwards.
"""

from __future__ import annotations

import copy
import json
import logging
import os
import resource
import shutil
import stat
from pathlib import Path

from nbgrader.converters import Autograde
from nbgrader.coursedir import CourseDirectory
from traitlets.config import Config

from grading.execute import SandboxedExecute
from grading.sandbox import Limits, Sandbox, SandboxedKernelManager

MAX_FILE_BYTES = 50 << 20
"""A submitted file larger than this is left out (and reported): labs are notebooks of a few hundred KB."""

GRADER_MEMORY_BYTES = 6 << 30
"""Address space of the worker itself (nbgrader and the converter, not the kernel): a safety net."""


def prepare(workspace: Path, lab: str, student: str, submitted: Path, template_db: Path) -> list[str]:
    """The submission's own course under ``workspace``; returns what was left out of the copy, and why."""
    skipped: list[str] = []
    target = workspace / "submitted" / student / lab
    target.mkdir(parents=True)
    (workspace / "source" / lab).mkdir(parents=True)
    (workspace / "runtime").mkdir()
    shutil.copy2(template_db, workspace / "gradebook.db")
    for folder, directories, files in os.walk(submitted, followlinks=False):
        relative = Path(folder).relative_to(submitted)
        for name in [*directories]:
            if (Path(folder) / name).is_symlink():
                skipped.append(f"left out {relative / name}: a symbolic link")
        for name in files:
            path = Path(folder) / name
            info = path.lstat()
            if not stat.S_ISREG(info.st_mode):
                skipped.append(f"left out {relative / name}: not a regular file")
            elif info.st_size > MAX_FILE_BYTES:
                skipped.append(f"left out {relative / name}: larger than {MAX_FILE_BYTES >> 20} MB")
            else:
                (target / relative).mkdir(parents=True, exist_ok=True)
                shutil.copyfile(path, target / relative / name)
    notebook = target / f"{lab}.ipynb"
    if notebook.exists():
        skipped += _deduplicate(notebook)
    return skipped


def _deduplicate(path: Path) -> list[str]:
    """Keep nbgrader metadata on the first cell of each grade id only (nbgrader 0.9's DeduplicateIds
    leaves the later copies half-marked, and autograde then fails on the whole notebook)."""
    try:
        notebook = json.loads(path.read_text())
        cells = notebook["cells"]
    except (ValueError, KeyError, TypeError):
        return []                                # nbgrader reports an unreadable notebook itself
    seen: set[str] = set()
    notes = []
    for cell in cells if isinstance(cells, list) else []:
        meta = cell.get("metadata", {}) if isinstance(cell, dict) else {}
        grade_id = meta.get("nbgrader", {}).get("grade_id") if isinstance(meta.get("nbgrader"), dict) else None
        if grade_id is None:
            continue
        if grade_id in seen:
            del meta["nbgrader"]
            notes.append(f"a copy of the cell {grade_id!r}: graded as an ordinary cell")
        seen.add(grade_id)
    if notes:
        path.write_text(json.dumps(notebook))
    return notes


def config(base: Config, workspace: Path, lab: str, student: str, limits: Limits) -> Config:
    """The course's nbgrader configuration, rooted in ``workspace``, with the sandboxed Execute."""
    made = copy.deepcopy(base)
    made.CourseDirectory.root = str(workspace)
    made.CourseDirectory.source_directory = "source"
    made.CourseDirectory.db_url = f"sqlite:///{workspace / 'gradebook.db'}"
    made.CourseDirectory.assignment_id = lab
    made.CourseDirectory.student_id = student
    made.Autograde.create_student = True
    made.Autograde.force = True
    made.Execute.timeout = limits.cell_seconds
    made.SandboxedExecute.max_output_bytes = limits.output_bytes
    made.Autograde.autograde_preprocessors = [
        SandboxedExecute if getattr(step, "__name__", "") == "Execute" else step
        for step in Autograde.class_traits()["autograde_preprocessors"].default()]
    return made


def autograde(workspace: Path, lab: str, student: str, base: Config, limits: Limits) -> None:
    """Run nbgrader's ``Autograde`` on the one submission in ``workspace``; writes ``result.json``."""
    resource.setrlimit(resource.RLIMIT_AS, (GRADER_MEMORY_BYTES, GRADER_MEMORY_BYTES))
    log = logging.getLogger("grading.worker")
    handler = logging.FileHandler(workspace / "autograde.log")
    result: dict = {"status": "failed", "error": ""}
    try:
        SandboxedKernelManager.sandbox = Sandbox(workdir=workspace / "autograded" / student / lab,
                                                 runtime=workspace / "runtime", limits=limits)
        cfg = config(base, workspace, lab, student, limits)
        converter = Autograde(coursedir=CourseDirectory(config=cfg), config=cfg)
        converter.log.handlers[:] = [handler]
        converter.log.propagate = False
        converter.start()
        result["status"] = "graded"
    except BaseException as error:              # nbgrader's own reasons (invalid JSON...) and anything else
        result["error"] = _reason(workspace, error)
        log.debug("autograde failed", exc_info=True)
    finally:
        (workspace / "result.json").write_text(json.dumps(result))


def _reason(workspace: Path, error: BaseException) -> str:
    """What went wrong, in one line a learner can read (nbgrader's log says it better than its exception)."""
    text = (workspace / "autograde.log").read_text(errors="replace") if (workspace / "autograde.log").exists() else ""
    for line in text.splitlines():
        lowered = line.lower()
        if "notjsonerror" in lowered or "not valid json" in lowered or "unreadable notebook" in lowered \
                or "jsondecodeerror" in lowered:
            return "the notebook file is not valid JSON (it was damaged, or saved by something other than Jupyter)"
        if "validationerror" in lowered or "schema" in lowered and "invalid" in lowered:
            return "the notebook file is not a valid notebook: " + line.strip()[-200:]
    return f"{type(error).__name__}: {error}"[:300]
