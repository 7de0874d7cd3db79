"""nbgrader's Execute preprocessor, for untrusted notebooks: a sandboxed kernel, a kernel that dies, bounded output.

``SandboxedExecute`` replaces ``nbgrader.preprocessors.Execute`` in ``Autograde.autograde_preprocessors``
(``grading.worker`` configures it) and changes three things, nothing else:

- the kernel is started by ``grading.sandbox.SandboxedKernelManager`` (nbgrader's own ``Execute``
  forces its kernel manager class, so the subclass sets it);
- a kernel that dies (``os._exit``, a crash, the CPU-time limit) no longer aborts the whole
  notebook: the cell it died in gets a ``KernelDied`` error output saying so, every later code
  cell a ``NotRun`` error, and nbgrader goes on to score the notebook (a test cell with an error
  scores zero), so the learner gets a graded notebook and feedback instead of nothing;
- before every test cell, the kernel runs ``engine.grading.integrity.guard()`` from a copy of
  that module executed afresh from the installed file (so patching the loaded one cannot switch
  it off), then binds again every name the instructor's read-only cells import from the engine
  (``check``, ``fail``...): whatever the learner's cells monkeypatched or rebound is put back
  before any test of any lab relies on it; when it cannot be, the test cell is not run and
  scores zero, with the reason as its error;
- a cell's output beyond ``max_output_bytes`` is dropped as it arrives (with a note), so a
  notebook that prints gigabytes cannot exhaust the grader's memory; nbgrader's ``LimitOutput``
  then trims lines as usual.
"""

from __future__ import annotations

import ast
from typing import Any

from nbclient.exceptions import DeadKernelError
from nbformat import NotebookNode
from nbformat.v4 import new_code_cell, new_output
from nbgrader.preprocessors import Execute
from traitlets import Integer

from grading.sandbox import SandboxedKernelManager, engine_package


GUARD = """
def __grading_guard(path={path!r}):
    namespace = {{"__name__": "engine.grading.integrity", "__file__": path}}
    exec(compile(open(path).read(), path, "exec"), namespace)
    namespace["guard"]()
    import importlib
    for name, module, attribute in {rebind!r}:
        globals()[name] = getattr(importlib.import_module(module), attribute)
try:
    __grading_guard()
finally:
    del __grading_guard
"""
"""Run (out of the notebook's history) before each test cell: the installed engine put back by a copy of
engine.grading.integrity executed afresh, then the names the instructor's cells import from the engine."""


def engine_imports(cells: list) -> list[tuple[str, str, str]]:
    """``(name, module, attribute)`` of every ``from engine... import attribute as name`` in read-only code cells."""
    found = []
    for cell in cells:
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type != "code" or not meta.get("locked") or meta.get("grade"):
            continue
        try:
            tree = ast.parse(cell.source)
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "engine" \
                    and not node.level:
                found += [(alias.asname or alias.name, node.module, alias.name) for alias in node.names
                          if alias.name != "*"]
    return found


def _size(content: dict) -> int:
    if "text" in content:
        return len(content["text"])
    if "data" in content:
        return sum(len(str(value)) for value in content["data"].values())
    if "traceback" in content:
        return sum(len(line) for line in content["traceback"])
    return 0


class SandboxedExecute(Execute):
    """nbgrader's ``Execute`` with a sandboxed kernel, survivable kernel death and a cap on output."""

    max_output_bytes = Integer(1 << 20, help="Output kept per cell; more is dropped with a note.").tag(config=True)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["kernel_manager_class"] = SandboxedKernelManager
        super().__init__(*args, **kwargs)
        self._died: str | None = None
        self._sizes: dict[int, int] = {}

    def preprocess(self, nb: NotebookNode, resources: Any = None, km: Any = None) -> Any:
        self._died, self._sizes = None, {}
        self._guard_code = GUARD.format(path=str(engine_package() / "grading" / "integrity.py"),
                                        rebind=engine_imports(nb.cells))
        return super().preprocess(nb, resources, km)

    def preprocess_cell(self, cell: NotebookNode, resources: Any, index: int) -> Any:
        if cell.cell_type != "code":
            return cell, resources
        if self._died is not None:
            cell.outputs = [new_output("error", ename="NotRun", evalue=f"not run: {self._died}",
                                       traceback=[f"NotRun: not run: {self._died}"])]
            return cell, resources
        try:
            if cell.metadata.get("nbgrader", {}).get("grade") and not self._guard(cell, index):
                return cell, resources
            return super().preprocess_cell(cell, resources, index)
        except DeadKernelError:
            reason = self._death_reason()
            self._died = f"the kernel died in an earlier cell ({reason})"
            cell.outputs.append(new_output(
                "error", ename="KernelDied", evalue=f"the kernel died while running this cell ({reason})",
                traceback=[f"KernelDied: the kernel died while running this cell ({reason}); "
                           "the cells after it were not run"]))
            return cell, resources

    def _guard(self, cell: NotebookNode, index: int) -> bool:
        """Put the installed engine back before a test cell; False (and the reason as the cell's error) if not."""
        guard = new_code_cell(self._guard_code)
        self.execute_cell(guard, index, store_history=False)
        errors = [output for output in guard.outputs if output.output_type == "error"]
        if not errors:
            return True
        cell.outputs = [new_output("error", ename=errors[0].ename, evalue=errors[0].evalue,
                                   traceback=[f"{errors[0].ename}: {errors[0].evalue}"])]
        return False

    def _death_reason(self) -> str:
        process = getattr(getattr(self.km, "provisioner", None), "process", None)
        code = process.poll() if process is not None else None
        limits = SandboxedKernelManager.sandbox.limits if SandboxedKernelManager.sandbox else None
        if code in (128 + 24, -24) and limits:             # SIGXCPU
            return f"it used more than the CPU-time limit of {limits.cpu_seconds} s"
        if code in (128 + 9, -9):
            return "it was killed (SIGKILL), for example for running out of memory"
        if code is not None:
            return f"the process exited with status {code}: the code called exit, os._exit or crashed"
        return "it stopped answering"

    def output(self, outs: list, msg: dict, display_id: str | None, cell_index: int) -> Any:
        size = self._sizes.get(cell_index, 0)
        if size > self.max_output_bytes:
            return None
        size += _size(msg.get("content", {}))
        self._sizes[cell_index] = size
        if size > self.max_output_bytes:
            outs.append(new_output("stream", name="stdout",
                                   text=f"\n[the grader dropped the rest of this cell's output: more than "
                                        f"{self.max_output_bytes} bytes]\n"))
            return None
        return super().output(outs, msg, display_id, cell_index)
