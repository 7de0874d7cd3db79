"""``make grade LAB=<lab>``: every submission of a lab graded in isolation, the gradebook kept honest.

``grade_labs(course, labs, limits, jobs)`` (``grade_lab`` for one lab):

1. reads the course's ``nbgrader_config.py``; makes sure each lab is in ``gradebook.db``
   (``grading.gradebook.ensure_lab``) and builds a template gradebook of each lab alone;
2. for each ``submitted/<student>/<lab>/``, lays out a course of its own in a private temporary
   folder (``grading.worker.prepare``) and runs nbgrader's ``Autograde`` there in a forked
   worker, whose kernel runs in the bubblewrap sandbox (``grading.sandbox``); ``jobs`` workers
   at once, each stopped at ``limits.wall_seconds``. The submissions of all the labs share the
   ``jobs`` places, in lab order, so that one lab's last submissions, its feedback and reports,
   and a submission waiting out a cell timeout, leave no place idle while work is left;
3. once every submission of a lab is done (and the labs before it are finished), copies each
   submission's scores into the real gradebook through nbgrader's ``Gradebook`` API (only this
   process writes it) and its autograded notebook into ``autograded/``;
4. audits the gradebook (``grading.gradebook.audit``, every lab, against what the grader last
   wrote: this lab's results, and the other labs' ``results.json``): changes no grader made are
   undone and reported;
5. runs nbgrader's ``GenerateFeedback`` into ``feedback/`` for this batch's submissions, writes a
   feedback page itself for a submission nbgrader could not run, and removes (and reports) any page
   that shows a hidden test;
6. writes ``reports/<lab>/grades.csv`` and ``reports/<lab>/results.json`` (``grading.report``): this
   batch's results beside the earlier ones of the students it did not grade (``--students``).

Steps 3 to 6 run one lab at a time, in lab order, so each lab's audit sees the labs before it
already reported. The returned ``LabReport`` of each lab says what happened to every submission;
nothing a submission does can stop the batch.
"""

from __future__ import annotations

import copy
import json
import multiprocessing
import os
import shutil
import signal
import tempfile
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from nbgrader.converters import GenerateFeedback
from sqlalchemy.exc import SAWarning
from nbgrader.coursedir import CourseDirectory
from traitlets.config import Config
from traitlets.config.loader import PyFileConfigLoader

from grading import gradebook, report, worker
from grading.sandbox import Limits, bubblewrap


@dataclass
class LabReport:
    """The outcome of grading one lab."""

    lab: str
    results: list[dict[str, Any]] = field(default_factory=list)
    undone: list[str] = field(default_factory=list)         # gradebook changes no grader made, undone
    problems: list[str] = field(default_factory=list)       # feedback removed for showing hidden tests, ...
    reports: tuple[Path, ...] = ()

    def summary(self) -> str:
        lines = [f"{self.lab}: {len(self.results)} submissions graded"]
        for result in self.results:
            line = f"  {result['student']}: {result['score']:g} / {result['max_score']:g} ({result['status']})"
            if result["output"]:
                line += f": {result['output']}"
            lines.append(line)
        lines += [f"  gradebook change undone: {line}" for line in self.undone]
        lines += [f"  problem: {line}" for line in self.problems]
        lines += [f"  report: {path}" for path in self.reports]
        return "\n".join(lines)


def course_config(course: Path) -> Config:
    """The course's ``nbgrader_config.py`` (it roots the course where it lives)."""
    config = PyFileConfigLoader("nbgrader_config.py", path=str(course)).load_config()
    config.CourseDirectory.root = str(course)
    return config


def _submissions(course: Path, config: Config, lab: str, students: list[str] | None) -> dict[str, Path]:
    submitted = course / config.CourseDirectory.get("submitted_directory", "submitted")
    found = {path.parent.name: path for path in sorted(submitted.glob(f"*/{lab}")) if path.is_dir()
             and not path.parent.is_symlink() and not path.is_symlink()}
    return {student: path for student, path in found.items() if students is None or student in students}


def _run(workspace: Path, lab: str, student: str, config: Config, limits: Limits) -> None:
    os.setsid()                                  # its own process group: the batch can stop it whole
    log = os.open(workspace / "worker.log", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.dup2(log, 1)                              # nbgrader's and SQLAlchemy's chatter: not the instructor's terminal
    os.dup2(log, 2)
    try:
        worker.autograde(workspace, lab, student, config, limits)
    finally:
        os._exit(0)


@dataclass
class _Job:
    lab: str
    student: str
    workspace: Path
    skipped: list[str]
    process: Any = None
    started: float = 0.0
    timed_out: bool = False


@dataclass
class _Lab:
    """One lab of a batch: what its finishing steps (3 to 6) need."""

    name: str
    source: Path
    points: dict[str, float]
    hidden: list[str]
    jobs: list[_Job] = field(default_factory=list)


def _run_all(jobs: list[_Job], config: Config, limits: Limits, parallel: int,
             finished: Callable[[_Job], None] = lambda job: None) -> None:
    """Run ``jobs`` in order, ``parallel`` at once; ``finished(job)`` is called (in this process) for each one
    that ended, after the free places have been refilled, so that the work it does overlaps running submissions."""
    context = multiprocessing.get_context("fork")
    waiting, running, ended = list(jobs), [], []
    while waiting or running:
        while waiting and len(running) < parallel:
            job = waiting.pop(0)
            job.process = context.Process(target=_run, args=(job.workspace, job.lab, job.student, config, limits))
            job.process.start()
            job.started = time.monotonic()
            running.append(job)
        for job in ended:
            finished(job)
        ended = []
        time.sleep(0.05)
        for job in list(running):
            if job.process.exitcode is not None:
                running.remove(job)
                ended.append(job)
            elif time.monotonic() - job.started > limits.wall_seconds:
                job.timed_out = True
                try:
                    os.killpg(job.process.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                job.process.join()
                running.remove(job)
                ended.append(job)
    for job in ended:
        finished(job)


def _outcome(job: _Job, lab: str, limits: Limits) -> tuple[str, str]:
    """``(status, reason)`` of a finished job."""
    if job.timed_out:
        return "failed", f"grading stopped after the wall-time limit of {limits.wall_seconds} s"
    result_file = job.workspace / "result.json"
    if not result_file.exists():
        return "failed", f"the grading worker stopped unexpectedly (exit code {job.process.exitcode})"
    result = json.loads(result_file.read_text())
    if result["status"] == "graded" and not (job.workspace / "autograded" / job.student / lab).exists():
        return "failed", "nbgrader could not run the notebook"
    return result["status"], result.get("error", "")


def grade_lab(course: Path, lab: str, limits: Limits = Limits(), jobs: int = 2, students: list[str] | None = None,
              reports: Path | None = None) -> LabReport:
    """Grade every submission of ``lab`` in ``course``; see the module docstring."""
    return grade_labs(course, [lab], limits, jobs, students, reports)[0]


def grade_labs(course: Path, labs: list[str], limits: Limits = Limits(), jobs: int = 2,
               students: list[str] | None = None, reports: Path | None = None) -> list[LabReport]:
    """Grade every submission of each of ``labs`` in ``course``, sharing ``jobs`` places; see the module
    docstring. ``reports`` (where grades.csv and results.json go) is for a batch of one lab only."""
    if reports is not None and len(labs) != 1:
        raise ValueError("a reports folder of its own is for a batch of one lab")
    course = course.resolve()
    bubblewrap()
    # nbgrader's Gradebook makes SQLAlchemy warn about its own session use on every new submission.
    warnings.filterwarnings("ignore", category=SAWarning)
    config = course_config(course)
    db_url = config.CourseDirectory.db_url
    graded: dict[str, _Lab] = {}
    for lab in dict.fromkeys(labs):
        source = course / config.CourseDirectory.get("source_directory", "source") / lab / f"{lab}.ipynb"
        if not source.exists():
            raise SystemExit(f"grade: no lab {lab!r} ({source} is missing)")
        gradebook.ensure_lab(config, lab)
        graded[lab] = _Lab(lab, source, gradebook.max_scores(db_url, lab), report.hidden_lines(source))
    outcomes: dict[str, LabReport] = {}
    with tempfile.TemporaryDirectory(prefix="grading-") as temporary:
        scratch = Path(temporary)
        for number, lab in enumerate(graded.values()):
            template = gradebook.template(config, lab.name, scratch / f"template-{number}")
            for student, folder in _submissions(course, config, lab.name, students).items():
                workspace = scratch / f"submission-{number}-{len(lab.jobs)}"
                lab.jobs.append(_Job(lab.name, student, workspace, worker.prepare(workspace, lab.name, student,
                                                                                   folder, template)))
        done: set[int] = set()
        order = list(graded.values())

        def finished(job: _Job) -> None:
            done.add(id(job))
            while order and all(id(other) in done for other in order[0].jobs):
                lab = order.pop(0)
                outcomes[lab.name] = _finish(course, config, lab, limits, reports)

        _run_all([job for lab in graded.values() for job in lab.jobs], config, limits, max(1, jobs), finished)
        while order:                       # labs with no submission
            lab = order.pop(0)
            outcomes[lab.name] = _finish(course, config, lab, limits, reports)
    return [outcomes[lab] for lab in graded]


def _finish(course: Path, config: Config, lab: _Lab, limits: Limits, reports: Path | None) -> LabReport:
    """Steps 3 to 6 for ``lab``, every submission of which has been run."""
    db_url, points = config.CourseDirectory.db_url, lab.points
    outcome = LabReport(lab.name)
    written: dict[str, dict[str, float]] = {}
    feedback_made: dict[str, dict | None] = {}
    for job in lab.jobs:
        status, reason = _outcome(job, lab.name, limits)
        scores = gradebook.read_scores(job.workspace / "gradebook.db", lab.name, job.student) \
            if status == "graded" else {}
        final = {name: float(scores.get(name, (0.0, points[name]))[0] or 0.0) for name in points}
        gradebook.record(db_url, lab.name, job.student, final)
        written[job.student] = final
        notebook = None
        produced = job.workspace / "autograded" / job.student / lab.name / f"{lab.name}.ipynb"
        target = course / "autograded" / job.student / lab.name
        shutil.rmtree(target, ignore_errors=True)
        if status == "graded" and produced.exists():
            target.mkdir(parents=True)
            notebook = json.loads(produced.read_text())
            report.hide_tests(notebook, lab.hidden)
            (target / produced.name).write_text(json.dumps(notebook, indent=1))
        tests = report.test_results(notebook, {name: (final[name], points[name]) for name in points}, note=reason)
        output = "; ".join(filter(None, [reason, *job.skipped]))
        outcome.results.append({"student": job.student, "status": status, "output": output,
                                "score": sum(test["score"] for test in tests),
                                "max_score": sum(test["max_score"] for test in tests), "tests": tests})
        feedback_made[job.student] = notebook
        shutil.rmtree(job.workspace, ignore_errors=True)
    outcome.undone = gradebook.audit(db_url, _ledger(course, db_url, lab.name, written))
    _feedback(course, config, lab.name, outcome, feedback_made, lab.source)
    folder = reports or course / "reports" / lab.name
    outcome.reports = report.write_reports(folder, lab.name, _with_earlier(folder, outcome.results),
                                           outcome.undone, outcome.problems)
    return outcome


def _with_earlier(folder: Path, results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``results`` beside the earlier results in ``folder`` of the students this batch did not grade (a batch of
    ``--students``, late submissions say), by student: the lab's reports stay the whole class's."""
    earlier = folder / "results.json"
    if not earlier.exists():
        return results
    graded = {result["student"] for result in results}
    kept = [result for result in json.loads(earlier.read_text())["submissions"] if result["student"] not in graded]
    return sorted(kept + results, key=lambda result: result["student"])


def _ledger(course: Path, db_url: str, lab: str, written: dict[str, dict[str, float]]) -> dict[str, dict]:
    """What the grader last wrote for every lab: each lab's ``reports/<lab>/results.json``, then this batch."""
    ledger: dict[str, dict[str, dict[str, float]]] = {}
    for lab in gradebook.labs(db_url):
        path = course / "reports" / lab / "results.json"
        if path.exists():
            ledger[lab] = {result["student"]: {test["name"]: test["score"] for test in result["tests"]}
                           for result in json.loads(path.read_text())["submissions"]}
    ledger[lab] = {**ledger.get(lab, {}), **written}
    return ledger


def _others(course: Path, lab: str, graded: list[str]) -> list[str]:
    """The students of ``autograded/`` with ``lab`` whom this batch did not grade (nbgrader's exclude list is
    comma-separated: a name with a comma in it cannot be excluded and has its page made again, as before)."""
    folder = course / "autograded"
    names = sorted(path.parent.name for path in folder.glob(f"*/{lab}")) if folder.is_dir() else []
    return [name for name in names if name not in graded and "," not in name]


def _feedback(course: Path, config: Config, lab: str, outcome: LabReport, notebooks: dict[str, dict | None],
              source: Path) -> None:
    """nbgrader's feedback for the graded notebooks, a page of ours for the others; none shows hidden tests."""
    graded = [student for student, notebook in notebooks.items() if notebook is not None]
    for student in notebooks:
        shutil.rmtree(course / "feedback" / student / lab, ignore_errors=True)
    if graded:
        made = copy.deepcopy(config)
        made.CourseDirectory.assignment_id = lab
        made.CourseDirectory.student_id = "*"
        # Only this batch's pages: the other students' were made (and checked for leaks) when they were graded.
        made.CourseDirectory.student_id_exclude = ",".join(_others(course, lab, graded))
        made.GenerateFeedback.force = True
        converter = GenerateFeedback(coursedir=CourseDirectory(config=made), config=made)
        converter.coursedir.student_id = "*"
        try:
            converter.start()
        except Exception as error:       # nbgrader names the failing notebooks in its log; the batch goes on
            outcome.problems.append(f"generate_feedback: {error}")
    hidden = report.hidden_lines(source)      # the same lines hide_tests cleared: a safety net
    by_student = {result["student"]: result for result in outcome.results}
    for student, notebook in notebooks.items():
        page = course / "feedback" / student / lab / f"{lab}.html"
        if notebook is None:
            page.parent.mkdir(parents=True, exist_ok=True)
            result = by_student[student]
            page.write_text(report.failure_feedback(lab, student, result["output"] or "it did not run",
                                                    result["tests"]))
            continue
        if not page.exists():
            outcome.problems.append(f"{student}: nbgrader made no feedback page")
            continue
        shown = report.leaks(page.read_text(errors="replace"), hidden, report.own_lines(notebook))
        if shown:
            page.unlink()
            outcome.problems.append(f"{student}: feedback removed, it showed hidden tests ({shown[0]!r})")
