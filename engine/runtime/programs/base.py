"""Program and ProcessContext: the contract between a simulated process and runc.

A Program never sleeps or blocks: it schedules its next step with
``ctx.call_later`` and declares its resource use with ``ctx.set_cpu`` (cores
it would like to use) and ``ctx.set_memory`` (bytes resident). Timers a
process scheduled die with it. ``ctx.exit(code)`` ends the process once; the
runtime turns the code into the container's exit code and reason. A program
connects out with ``ctx.dial(address, port)`` (the host network unless the
network layer routes the pod's connections); a process of a hostNetwork pod
also sees its node's ``ctx.machine``.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from engine.sim.hostnet import ConnectionRefused

if TYPE_CHECKING:
    from engine.sim.loop import Loop, Timer


@dataclass
class ExecResult:
    exit_code: int
    stdout: str = ""
    stderr: str = ""
    elapsed: float = 0.0
    """Virtual seconds the command would have taken (its sleeps); exec probes time out on it."""


class Program:
    """Base class of simulated programs: does nothing until signalled, then dies of the signal."""

    ctx: ProcessContext

    def start(self, ctx: ProcessContext) -> None:
        self.ctx = ctx

    def on_signal(self, signal: int) -> None:
        """Default disposition of SIGTERM / SIGINT / SIGQUIT: terminate, exit code 128 + signal."""
        self.ctx.exit(128 + signal)

    def exec(self, argv: list[str], ctx: ProcessContext) -> ExecResult:
        """A command run beside this process (exec probes, kubectl exec): busybox by default."""
        from engine.runtime.programs.shell import run_sync

        return run_sync(argv, ctx)

    def handle_http(self, request: dict[str, Any]) -> dict[str, Any] | None:
        """Answer an HTTP request on a listening port; None means connection refused."""
        return None


def _no_network(address: str, port: int) -> Any:
    raise ConnectionRefused(address, port)


class ProcessContext:
    """What a process sees of the world. Built by runc; one per container start."""

    def __init__(
        self,
        loop: Loop,
        *,
        argv: list[str],
        env: dict[str, str],
        fs: dict[str, str],
        hostname: str,
        write: Callable[[str, str], None],
        cgroup: Any,
        on_exit: Callable[[int], None],
    ) -> None:
        self.loop = loop
        self.argv = argv
        self.env = env
        self.fs = fs
        self.hostname = hostname
        self.cgroup = cgroup
        self.ports: set[int] = set()
        self.alive = True
        self.exit_code: int | None = None
        self._write = write
        self._on_exit = on_exit
        self._timers: list[Timer] = []
        self._at_exit: list[Callable[[], None]] = []
        self.resolve: Callable[[str], list[str]] | None = None
        """DNS as the pod sees it (name -> addresses), wired in by the network layer; None: nothing resolves."""
        self.lookup: Callable[[str], tuple[str, list[str]]] | None = None
        """The same lookup, also saying which name answered (``web`` -> ``web.default.svc.cluster.local``, the
        search list's candidate): ``(name, addresses)``; wired in by the network layer, else None."""
        self.http: Callable[[str], dict[str, Any] | None] | None = None
        """An HTTP GET from inside the pod (url -> response, None: refused); None: no network yet."""
        self.dial: Callable[[str, int], Any] = _no_network
        """Connect out: ``dial(address, port)`` returns what listens there (the API server's endpoint, ...) or
        raises ``ConnectionRefused``. containerd sets it: the host network by default; the network layer
        replaces it per pod so the connection travels through the packet model."""
        self.ping: Callable[[str, int], dict[str, Any]] | None = None
        """One ICMP echo from the pod: ``ping(address, seq)`` -> ``{"ttl": N}`` or ``{"error": "timeout" |
        "unreachable"}``, wired in by the network layer; None: no network yet."""
        self.machine: Any = None
        """The node's ``Machine`` for a process in the node's network namespace (a hostNetwork pod); else None."""

    @property
    def now(self) -> float:
        return self.loop.now

    @property
    def random(self) -> random.Random:
        return self.loop.random

    # -- output ---------------------------------------------------------------
    def stdout(self, text: str) -> None:
        """Write to stdout; a newline ends a log line."""
        if self.alive:
            self._write("stdout", text)

    def stderr(self, text: str) -> None:
        if self.alive:
            self._write("stderr", text)

    # -- time ---------------------------------------------------------------
    def call_later(self, delay: float, callback: Callable[..., Any], *args: Any) -> Timer | None:
        """Run ``callback`` after ``delay`` virtual seconds, unless the process has died by then."""
        if not self.alive:
            return None

        def guarded() -> None:
            if self.alive:
                callback(*args)

        timer = self.loop.call_later(delay, guarded, label="process")
        self._timers = [t for t in self._timers if not t.cancelled and t.when >= self.loop.now]
        self._timers.append(timer)
        return timer

    # -- resources ------------------------------------------------------------
    def set_cpu(self, cores: float) -> None:
        """How many cores the process would use now if nothing held it back."""
        if self.alive:
            self.cgroup.set_cpu_demand(self.loop.now, cores)

    def set_memory(self, size: int) -> None:
        """Resident memory in bytes; above the cgroup's limit the OOM killer ends the process."""
        if self.alive:
            self.cgroup.set_memory(self.loop.now, size)

    @property
    def memory(self) -> int:
        """Resident memory of the process (tmpfs files it wrote are charged to the cgroup, not counted here)."""
        return self.cgroup.memory_usage - self.cgroup.shmem

    def compute(self, cpu_seconds: float, then: Callable[[], None], cores: float = 1.0) -> None:
        """Burn ``cpu_seconds`` of CPU on ``cores`` threads, slowed by the CFS quota, then call ``then``."""
        rate = min(cores, self.cgroup.cpu_limit_cores())
        previous = self.cgroup.cpu_demand
        self.set_cpu(previous + cores)

        def finished() -> None:
            self.set_cpu(previous)
            then()

        self.call_later(cpu_seconds / rate if rate > 0 else 0.0, finished)

    # -- network and life -------------------------------------------------------
    def listen(self, port: int) -> None:
        self.ports.add(port)

    def at_exit(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` when the process ends, however it ends (exit, signal, SIGKILL, OOM kill): what the
        kernel tears down with a process (its threads, its sockets) goes there."""
        self._at_exit.append(callback)

    def exit(self, code: int) -> None:
        """End the process with ``code``; later calls are ignored."""
        if not self.alive:
            return
        self.alive = False
        self.exit_code = code
        for timer in self._timers:
            timer.cancel()
        self._timers.clear()
        self.ports.clear()
        callbacks, self._at_exit = self._at_exit, []
        for callback in callbacks:
            callback()
        self._on_exit(code)
