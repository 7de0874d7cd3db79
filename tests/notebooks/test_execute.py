"""Every notebook of the course and every lab solution runs top to bottom in a fresh kernel.

This is what a learner does (open, Run All) and what nbgrader does when it
autogrades: a fresh ``python3`` kernel from this environment, the notebook's
own folder as the working directory, every cell in order. A notebook fails
here when a cell raises or times out (the message names the cell and shows
the error), and also when any cell writes to stderr: nbgrader scores a test
cell that writes to stderr as zero (DESIGN.md, Known pitfalls), so nothing a
learner runs may do it.

Each notebook runs in its own process (a small nbclient runner), two at a
time on the two cores this project budgets for, so that the module stays
well under three minutes. The runner records which cell was executing, so a
timeout names its cell too; its kernel talks over Unix sockets, so that two
kernels starting together never race for a TCP port.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[2]
FOLDERS = ("course", "solutions")
CELL_TIMEOUT = 120
"""Seconds one cell may take: generous, so only a truly stuck cell fails on time (budgets are benchmarks')."""
PARALLEL = 2
ANSI_COLOURS = re.compile(r"\x1b\[[0-9;]*m")


def notebooks() -> list[Path]:
    found: list[Path] = []
    for folder in FOLDERS:
        found += sorted(path for path in (ROOT / folder).rglob("*.ipynb") if ".ipynb_checkpoints" not in path.parts)
    return found


# Runs in a child process: executes one notebook and writes the executed notebook plus a small report.
RUNNER = r"""
import json, sys, tempfile, time, traceback
from pathlib import Path
import nbformat
from jupyter_client.manager import AsyncKernelManager
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

source, executed, report_path, timeout = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]), int(sys.argv[4])
nb = nbformat.read(source, as_version=4)
report = {"cell": None, "error": None, "seconds": None}

def started(cell, cell_index, **_):
    report["cell"] = cell_index

# The kernel's channels are Unix sockets in a folder of its own, not TCP ports: a TCP port is picked free and
# bound by the kernel a moment later, and another kernel or any loopback connection may take it in between
# (the kernel then dies before replying to kernel_info, as CI once saw).
sockets = tempfile.TemporaryDirectory(prefix="kernel-")
km = AsyncKernelManager(kernel_name="python3", transport="ipc", ip=str(Path(sockets.name) / "channel"))
client = NotebookClient(nb, km=km, timeout=timeout, kernel_name="python3", allow_errors=False,
                        resources={"metadata": {"path": str(source.parent)}}, on_cell_execute=started)
begin = time.monotonic()
try:
    client.execute()
    report["cell"] = None
except CellTimeoutError as error:
    report["error"] = f"timed out after {timeout} s: {error}"
except (CellExecutionError, DeadKernelError) as error:
    report["error"] = str(error)
except Exception:
    report["error"] = traceback.format_exc()
report["seconds"] = round(time.monotonic() - begin, 2)
sockets.cleanup()
nbformat.write(nb, executed)
report_path.write_text(json.dumps(report))
"""


def _execute(source: Path, workdir: Path) -> dict:
    stem = f"{source.parent.name}__{source.stem}"
    executed, report_path = workdir / f"{stem}.ipynb", workdir / f"{stem}.json"
    begin = time.monotonic()
    process = subprocess.run([sys.executable, "-c", RUNNER, str(source), str(executed), str(report_path),
                              str(CELL_TIMEOUT)], capture_output=True, text=True, cwd=source.parent)
    if not report_path.exists():
        return {"error": f"the notebook runner crashed (exit {process.returncode}):\n{process.stderr[-4000:]}",
                "cell": None, "seconds": round(time.monotonic() - begin, 2), "notebook": None}
    report = json.loads(report_path.read_text())
    if report["error"] and process.stderr.strip():   # a kernel that died wrote why here
        report["error"] += f"\n\nthe runner's and kernel's stderr:\n{process.stderr[-4000:]}"
    report["notebook"] = nbformat.read(executed, as_version=4) if executed.exists() else None
    return report


@pytest.fixture(scope="module")
def executions(request, tmp_path_factory) -> dict[Path, Future]:
    """Start every selected notebook at once, ``PARALLEL`` at a time; each test waits for its own."""
    selected = [item.callspec.params["notebook"] for item in request.session.items
                if item.module is request.module and hasattr(item, "callspec")]
    workdir = tmp_path_factory.mktemp("executed")
    pool = ThreadPoolExecutor(max_workers=PARALLEL)
    futures = {path: pool.submit(_execute, path, workdir) for path in dict.fromkeys(selected)}
    yield futures
    pool.shutdown(wait=True, cancel_futures=True)


def _where(notebook: nbformat.NotebookNode | None, index: int | None) -> str:
    if notebook is None or index is None or index >= len(notebook.cells):
        return ""
    source = notebook.cells[index].source
    return f"cell {index}:\n{source[:600]}\n"


@pytest.mark.parametrize("notebook", notebooks(), ids=lambda path: str(path.relative_to(ROOT)))
def test_notebook_runs_top_to_bottom_in_a_fresh_kernel_without_writing_to_stderr(notebook, executions):
    report = executions[notebook].result()
    print(f"{notebook.relative_to(ROOT)}: {report['seconds']} s")
    if report["error"]:
        pytest.fail(f"{notebook.relative_to(ROOT)} failed at {_where(report['notebook'], report['cell'])}"
                    f"\n{ANSI_COLOURS.sub('', report['error'])}", pytrace=False)
    written = []
    for index, cell in enumerate(report["notebook"].cells):
        for output in cell.get("outputs", []):
            if output.get("output_type") == "stream" and output.get("name") == "stderr":
                written.append(f"{_where(report['notebook'], index)}wrote to stderr:\n{output.get('text', '')[:1000]}")
    assert not written, (f"{notebook.relative_to(ROOT)}: nbgrader scores a cell that writes to stderr as zero; "
                         "make these cells quiet:\n\n" + "\n".join(written))
