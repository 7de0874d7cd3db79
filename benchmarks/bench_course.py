"""The course (course/, solutions/, grading/): DESIGN.md's budgets for running notebooks and grading labs.

* notebooks: every ``course/*.ipynb`` and lab solution ``solutions/*/*.ipynb``
  executed once, top to bottom, as tests/notebooks/test_execute.py executes
  them: a fresh ``python3`` kernel started by nbclient in a process of its
  own, the notebook's folder as the working directory. Seconds from the
  kernel's start to its shutdown, per notebook, and the slowest; budget:
  under 30 s each;
* kernel start: the same for an empty notebook, in a plain kernel and in the
  grader's sandboxed one (``grading.sandbox``: prlimit, bubblewrap, the
  engine imported before ipykernel starts); median of three of each;
* autograding, of the first lab and of the lab whose solution executed
  slowest above (between them, the range of the labs): ``python -m grading
  <lab>`` (what ``make grade`` runs) on a temporary copy of the course whose
  submissions are the lab's solution notebook, one job at a time. An untimed first run records the lab in the
  gradebook (INSTRUCTORS.md's step 1). Then the whole command for one
  submission (Python's start, nbgrader, the lab's template gradebook, the
  sandboxed autograde, the gradebook audit, feedback, reports), median of
  three, and for three submissions, median of three: the difference over two
  is what each further submission costs. Then the batch's unit of work alone,
  nbgrader's autograde of one submission in the sandbox
  (``grading.worker.autograde``, in a process of its own, its workspace laid
  out untimed), median of three. Both are read beside the sandboxed kernel's
  start. Budget: a few seconds per submission, most of it the kernel's start.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CELL_TIMEOUT = 120
"""Seconds one cell may take before nbclient gives up: only a stuck cell; the budget is read off the figure."""
NOTEBOOK_BUDGET = 30.0
KERNEL_STARTS = 3
FIRST_LAB = "lab02_etcd"
GRADE_RUNS = 3
MORE_SUBMISSIONS = 2


def notebooks() -> list[Path]:
    """The course's notebooks, then the lab solutions, as the notebook tests find them."""
    found = sorted((ROOT / "course").glob("*.ipynb")) + sorted((ROOT / "solutions").glob("*/*.ipynb"))
    return [path for path in found if ".ipynb_checkpoints" not in path.parts]


def execute(path: str, sandbox: str = "") -> float:
    """Run in the child: seconds to execute the notebook at ``path`` (an empty one if "") in a fresh kernel.

    With ``sandbox`` (a scratch folder), the kernel is the grader's sandboxed one, working in that folder.
    """
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.read(path, as_version=4) if path else nbformat.v4.new_notebook()
    folder = Path(path).parent if path else Path.cwd()
    options = {}
    if sandbox:
        from grading.sandbox import Sandbox, SandboxedKernelManager

        folder, runtime = Path(sandbox) / "work", Path(sandbox) / "runtime"
        folder.mkdir()
        runtime.mkdir()
        SandboxedKernelManager.sandbox = Sandbox(workdir=folder, runtime=runtime)
        options["kernel_manager_class"] = SandboxedKernelManager
    client = NotebookClient(notebook, timeout=CELL_TIMEOUT, kernel_name="python3",
                            resources={"metadata": {"path": str(folder)}}, **options)
    started = time.perf_counter()
    client.execute()
    return time.perf_counter() - started


def autograde(course: str, lab: str, student: str) -> float:
    """Run in the child: seconds of nbgrader's autograde of ``student``'s submission in the sandbox, the
    batch's unit of work (``grading.worker.autograde``), its course laid out untimed as the batch lays it out."""
    from grading import batch, gradebook, worker
    from grading.sandbox import Limits

    config = batch.course_config(Path(course))
    with tempfile.TemporaryDirectory(prefix="bench-autograde-") as folder:
        scratch = Path(folder)
        template = gradebook.template(config, lab, scratch / "template")
        workspace = scratch / "submission"
        worker.prepare(workspace, lab, student, Path(course) / "submitted" / student / lab, template)
        started = time.perf_counter()
        worker.autograde(workspace, lab, student, config, Limits())
        elapsed = time.perf_counter() - started
        result = json.loads((workspace / "result.json").read_text())
    if result["status"] != "graded":
        raise RuntimeError(f"autograde of {lab} failed: {result['error']}")
    return elapsed


def _in_child(function: str, *arguments: object) -> float:
    """``function(*arguments)`` of this module in a process of its own, whose output (the kernel's log lines
    included) is kept from the table."""
    result = subprocess.run([sys.executable, "-c", "import sys, benchmarks.bench_course as b; "
                             f"print(b.{function}(*sys.argv[1:]))", *map(str, arguments)],
                            cwd=ROOT, env=_environment(), capture_output=True, text=True)
    if result.returncode:
        raise RuntimeError(f"{function}{arguments} failed:\n{result.stderr[-3000:]}")
    return float(result.stdout.strip().splitlines()[-1])


def _environment() -> dict[str, str]:
    """This environment with the interpreter's bin first on PATH, as ``make`` runs things (nbgrader runs
    ``alembic`` from PATH)."""
    environment = dict(os.environ)
    environment["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{environment.get('PATH', '')}"
    return environment


def _kernel_starts() -> tuple[float, float]:
    """Median seconds of an empty notebook in a plain kernel and in the grader's sandboxed kernel."""
    plain = statistics.median(_in_child("execute", "") for _ in range(KERNEL_STARTS))
    sandboxed = []
    for _ in range(KERNEL_STARTS):
        with tempfile.TemporaryDirectory(prefix="bench-sandbox-") as scratch:
            sandboxed.append(_in_child("execute", "", scratch))
    return plain, statistics.median(sandboxed)


def _grade_seconds(course: Path, lab: str, students: list[str]) -> float:
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "grading", lab, "--course", str(course), "--jobs", "1",
                             "--students", ",".join(students)], cwd=ROOT, env=_environment(),
                            capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    graded = f"{lab}: {len(students)} submissions graded"
    if result.returncode or graded not in result.stdout or "(graded)" not in result.stdout:
        raise RuntimeError(f"grading {lab} failed:\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}")
    return elapsed


def _grading(lab: str) -> tuple[float, float, float]:
    """Median seconds of ``python -m grading`` for one submission, what each further one adds, and nbgrader's
    autograde of one submission alone."""
    students = [f"student-{index}" for index in range(1 + MORE_SUBMISSIONS)]
    with tempfile.TemporaryDirectory(prefix="bench-course-") as folder:
        course = Path(folder)
        shutil.copy2(ROOT / "nbgrader_config.py", course / "nbgrader_config.py")
        shutil.copytree(ROOT / "solutions", course / "solutions")
        for student in students:
            submitted = course / "submitted" / student / lab
            submitted.mkdir(parents=True)
            shutil.copy2(ROOT / "solutions" / lab / f"{lab}.ipynb", submitted / f"{lab}.ipynb")
        _grade_seconds(course, lab, students[:1])               # records the lab in the gradebook: untimed
        # The single-submission runs come first: a batch's feedback step renders every graded student's page.
        one = statistics.median(_grade_seconds(course, lab, students[:1]) for _ in range(GRADE_RUNS))
        more = statistics.median(_grade_seconds(course, lab, students) for _ in range(GRADE_RUNS))
        alone = statistics.median(_in_child("autograde", course, lab, students[0]) for _ in range(GRADE_RUNS))
    return one, (more - one) / MORE_SUBMISSIONS, alone


def run() -> list[tuple[str, float, str]]:
    rows: list[tuple[str, float, str]] = []
    seconds = {path: _in_child("execute", path) for path in notebooks()}
    for path, value in seconds.items():
        rows.append((f"execute {path.relative_to(ROOT)}", value, "s"))
    slowest = max(seconds, key=seconds.__getitem__)
    rows.append((f"slowest notebook ({slowest.relative_to(ROOT)})", seconds[slowest], "s"))
    rows.append(("  budget (DESIGN.md): every notebook and lab under", NOTEBOOK_BUDGET, "s"))
    plain, sandboxed = _kernel_starts()
    rows.append(("kernel start and shutdown (empty notebook), plain", plain, "s"))
    rows.append(("kernel start and shutdown, the grader's sandboxed kernel", sandboxed, "s"))
    labs = [path.parent.name for path in seconds if path.parent.parent.name == "solutions"]
    slowest_lab = max(labs, key=lambda lab: seconds[ROOT / "solutions" / lab / f"{lab}.ipynb"])
    for lab in dict.fromkeys([FIRST_LAB, slowest_lab]):
        one, each, alone = _grading(lab)
        rows.append((f"python -m grading {lab}, 1 submission, whole command", one, "s"))
        rows.append((f"  each further submission ({1 + MORE_SUBMISSIONS} graded minus 1, over {MORE_SUBMISSIONS})",
                     each, "s"))
        rows.append(("  the sandboxed kernel's start as a share of it", 100 * sandboxed / each, "%"))
        rows.append(("  nbgrader's autograde of one submission alone (grading.worker.autograde)", alone, "s"))
        rows.append(("  the sandboxed kernel's start as a share of it", 100 * sandboxed / alone, "%"))
    rows.append(("  budget (DESIGN.md): a few seconds per submission, most of it (over) the kernel's start", 50, "%"))
    return rows
