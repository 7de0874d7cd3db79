"""The sandbox a submission's kernel runs in while nbgrader autogrades it: bubblewrap plus resource limits.

nbgrader executes a notebook through a Jupyter kernel that it starts with a kernel manager;
``SandboxedKernelManager`` is that manager (``Execute.kernel_manager_class``), and starts the
kernel as

    prlimit --as --cpu --fsize --core  bwrap [a filesystem of its own]  python -P -c LAUNCHER -f <connection>

so the learner's code, and everything it starts, sees only

- the operating system read-only (``/usr``, the Python installation, the virtualenv),
- the installed ``engine`` package read-only, at its own path, and nothing else of the course
  (no ``solutions/``, no gradebook, no other student's work),
- its own working folder (a copy of that student's files) read-write, a private ``/tmp``,
- no network (a network namespace of its own; the kernel talks to nbgrader over Unix sockets
  in a folder shared with it alone), no other process (a PID namespace), no capabilities;

with an address-space limit (memory), a CPU-time limit for the whole kernel, and a file-size
limit. The wall-time limit belongs to the grading batch (``grading.batch``), which stops a
submission that runs too long.

The kernel imports the installed ``engine`` before it runs any cell, and ``-P`` keeps the
notebook's folder off ``sys.path``, so an ``engine.py`` or ``engine/`` beside the notebook never
shadows it. This module never touches the gradebook.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jupyter_client.manager import AsyncKernelManager

LAUNCHER = ("import engine, engine.grading.integrity\n"          # the installed engine, before any cell runs
            "engine.grading.integrity.snapshot()\n"                  # ... remembered as untampered
            "from ipykernel import kernelapp\n"
            "kernelapp.launch_new_instance()\n")


@dataclass(frozen=True)
class Limits:
    """What one submission may use. The defaults suit a lab that runs in well under a minute."""

    cell_seconds: int = 120           # nbgrader's per-cell timeout (ExecutePreprocessor.timeout)
    cpu_seconds: int = 300            # CPU time of the whole kernel (RLIMIT_CPU): it is killed past it
    wall_seconds: int = 900           # the whole submission, kernel start to feedback
    memory_bytes: int = 2 << 30       # address space of the kernel (RLIMIT_AS): MemoryError past it
    file_bytes: int = 64 << 20        # largest file the kernel may write (RLIMIT_FSIZE)
    output_bytes: int = 1 << 20       # output kept per cell; the rest is dropped with a note

    def for_kernel(self) -> list[str]:
        return ["prlimit", f"--as={self.memory_bytes}", f"--cpu={self.cpu_seconds}",
                f"--fsize={self.file_bytes}", "--core=0", "--"]


def engine_package() -> Path:
    """The installed ``engine`` package directory, as this (trusted) process imports it."""
    spec = importlib.util.find_spec("engine")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the engine is not installed: run `make setup`")
    return Path(list(spec.submodule_search_locations)[0]).resolve()


def bubblewrap() -> str:
    found = shutil.which("bwrap")
    if found is None:
        raise RuntimeError("bubblewrap (bwrap) is missing: run `make setup` (scripts/install-system-deps.sh)")
    return found


@dataclass(frozen=True)
class Sandbox:
    """The filesystem view and limits of one submission's kernel."""

    workdir: Path                      # the student's autograded folder, the kernel's working directory
    runtime: Path                      # the connection file and Unix sockets of the kernel
    limits: Limits = field(default_factory=Limits)
    python: str = sys.executable

    def read_only(self) -> list[Path]:
        engine = engine_package()
        paths = [Path("/usr"), Path(sys.base_prefix), Path(sys.prefix), engine]
        return list(dict.fromkeys(path for path in paths if path.exists()))

    def command(self, kernel_argv: list[str]) -> list[str]:
        """The kernel's command line (``kernel_argv`` after the launcher) in the limits and bubblewrap."""
        return self.wrap([self.python, "-P", "-c", LAUNCHER, "--quiet", *kernel_argv])

    def wrap(self, argv: list[str]) -> list[str]:
        """``argv`` run in the limits and bubblewrap."""
        engine = engine_package()
        command = [*self.limits.for_kernel(), bubblewrap(), "--unshare-all", "--die-with-parent",
                   "--uid", "65534", "--gid", "65534", "--cap-drop", "ALL",
                   "--tmpfs", "/tmp", "--proc", "/proc", "--dev", "/dev"]     # first: the binds below may be in /tmp
        for path in self.read_only():
            command += ["--ro-bind", str(path), str(path)]
        for link in ("bin", "lib", "lib64", "sbin"):
            target = Path("/") / link
            if target.is_symlink():
                command += ["--symlink", os.readlink(target), str(target)]
            elif target.exists():
                command += ["--ro-bind", str(target), str(target)]
        for name in ("ld.so.cache", "localtime", "passwd", "group", "nsswitch.conf", "hosts"):
            command += ["--ro-bind-try", f"/etc/{name}", f"/etc/{name}"]
        command += ["--bind", str(self.workdir), str(self.workdir), "--bind", str(self.runtime), str(self.runtime),
                    "--chdir", str(self.workdir), "--clearenv"]
        environment = {"PATH": f"{Path(self.python).parent}:/usr/bin:/bin", "HOME": "/tmp",
                       "PYTHONPATH": str(engine.parent), "PYTHONDONTWRITEBYTECODE": "1",
                       "IPYTHONDIR": "/tmp/.ipython", "MPLCONFIGDIR": "/tmp/.matplotlib", "MALLOC_ARENA_MAX": "2",
                       "LANG": "C.UTF-8", "NBGRADER_EXECUTION": "autograde"}
        if os.environ.get("PYTHONWARNINGS"):
            environment["PYTHONWARNINGS"] = os.environ["PYTHONWARNINGS"]
        for key, value in environment.items():
            command += ["--setenv", key, value]
        return [*command, "--", *argv]


class SandboxedKernelManager(AsyncKernelManager):
    """nbgrader's kernel manager for autograding: the kernel runs in ``SandboxedKernelManager.sandbox``.

    The kernel talks over Unix sockets (``transport = ipc``) in the sandbox's runtime folder,
    since it has no network at all. ``sandbox`` is set by the grading worker before autograde.
    """

    sandbox: Sandbox | None = None

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if self.sandbox is None:
            raise RuntimeError("SandboxedKernelManager.sandbox is not set")
        self.transport = "ipc"
        self.connection_file = str(self.sandbox.runtime / "kernel.json")
        self.ip = str(self.sandbox.runtime / "kernel-ipc")

    async def pre_start_kernel(self, **kwargs: Any) -> tuple[list[str], dict[str, Any]]:
        # The kernel's own stdout and stderr (not the notebook's streams) go to a log beside its sockets,
        # never to the grader's terminal.
        assert self.sandbox is not None
        log = open(self.sandbox.runtime / "kernel.log", "ab")
        kwargs.setdefault("stdout", log)
        kwargs.setdefault("stderr", log)
        kwargs.setdefault("stdin", subprocess.DEVNULL)
        return await super().pre_start_kernel(**kwargs)

    async def interrupt_kernel(self) -> None:
        # A signal to the process group would reach bubblewrap, not the kernel behind its PID namespace (and
        # bubblewrap would die of it): ask the kernel on its control channel, as kernels with
        # interrupt_mode "message" are asked; ipykernel then sends SIGINT to itself.
        if self.has_kernel:
            self._connect_control_socket()
            self.session.send(self._control_socket, self.session.msg("interrupt_request", content={}))

    def format_kernel_cmd(self, extra_arguments: list[str] | None = None) -> list[str]:
        """``python -m ipykernel_launcher -f {connection_file}`` becomes the sandboxed launcher."""
        assert self.sandbox is not None
        return self.sandbox.command(["-f", self.connection_file, *(extra_arguments or [])])
