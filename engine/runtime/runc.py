"""runc in miniature: a container is namespaces plus a cgroup, and a process inside them.

Namespaces: every container gets its own pid and mnt namespaces; net, ipc and
uts are the sandbox's (the pause container's), which is why containers of one
pod share localhost and a hostname. Namespace ids look like the inode numbers
``ls -l /proc/PID/ns`` shows.

Cgroup (cgroup v1 names, as ``cpu.stat`` and ``memory.*`` report them):
    cpu.shares        = max(2, milliCPU request * 1024 / 1000)
    cpu.cfs_quota_us  = milliCPU limit * cpu.cfs_period_us / 1000 (min 1000),
                        period 100000; no limit means no quota
    memory.limit_in_bytes = the memory limit
CPU demand above the quota is throttled: usage grows at most at quota/period
cores, ``nr_periods`` / ``nr_throttled`` count 100 ms periods, and
``throttled_time`` grows by the demand the quota refused (for d busy threads
held to q cores, each throttled period costs (d - q) * period of thread time).
Files written to a tmpfs (an emptyDir with medium Memory) are charged to the
cgroup as ``shmem``, on top of what the process itself holds. Memory above the limit invokes the OOM killer: SIGKILL, exit 137, reason
OOMKilled. What runc never does: decide restarts, or pick limits (the
kubelet computes them; ``linux_resources`` is the kubelet's rule).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from engine.api.quantity import cpu_millis, memory_bytes
from engine.runtime.cri import EXIT_SIGKILL, SIGKILL, LinuxContainerResources
from engine.runtime.programs.base import ProcessContext

if TYPE_CHECKING:
    from engine.sim.loop import Loop

MIN_SHARES = 2
MAX_SHARES = 262144
SHARES_PER_CPU = 1024
QUOTA_PERIOD = 100000      # microseconds, the CFS default
MIN_QUOTA_PERIOD = 1000

FIRST_NAMESPACE_INODE = 4026532000


def namespace_inodes() -> Iterator[int]:
    """A node's source of namespace ids (one per runtime, so two clusters never share one)."""
    return itertools.count(FIRST_NAMESPACE_INODE)


def milli_cpu_to_shares(milli_cpu: int) -> int:
    """The kubelet's MilliCPUToShares."""
    if milli_cpu == 0:
        return MIN_SHARES
    shares = milli_cpu * SHARES_PER_CPU // 1000
    return min(max(shares, MIN_SHARES), MAX_SHARES)


def milli_cpu_to_quota(milli_cpu: int, period: int = QUOTA_PERIOD) -> int:
    """The kubelet's MilliCPUToQuota: 0 (no quota) without a limit."""
    if milli_cpu == 0:
        return 0
    return max(milli_cpu * period // 1000, MIN_QUOTA_PERIOD)


def linux_resources(resources: dict[str, Any] | None) -> LinuxContainerResources:
    """Cgroup settings from a container's ``resources`` (requests default to limits, as the API server does)."""
    resources = resources or {}
    limits = resources.get("limits") or {}
    requests = {**limits, **(resources.get("requests") or {})}
    cpu_request = cpu_millis(requests["cpu"]) if "cpu" in requests else 0
    cpu_limit = cpu_millis(limits["cpu"]) if "cpu" in limits else 0
    return LinuxContainerResources(
        cpu_period=QUOTA_PERIOD if cpu_limit else 0,
        cpu_quota=milli_cpu_to_quota(cpu_limit),
        cpu_shares=milli_cpu_to_shares(cpu_request),
        memory_limit_in_bytes=memory_bytes(limits["memory"]) if "memory" in limits else 0,
    )


@dataclass
class Namespaces:
    pid: int
    net: int
    mnt: int
    uts: int
    ipc: int

    @classmethod
    def for_sandbox(cls, inodes: Iterator[int]) -> Namespaces:
        """The pause container's: it owns the net, ipc and uts namespaces the pod shares."""
        return cls(*(next(inodes) for _ in range(5)))

    def for_container(self, inodes: Iterator[int]) -> Namespaces:
        """A container's: its own pid and mnt, the sandbox's net, uts and ipc."""
        return Namespaces(next(inodes), self.net, next(inodes), self.uts, self.ipc)

    @classmethod
    def initial(cls) -> Namespaces:
        """The machine's own namespaces (init's: the kernel's fixed PROC_*_INIT_INO for pid, uts and ipc; the
        net and mnt numbers a booted kernel usually gives), which hostNetwork / hostPID / hostIPC pods join."""
        return cls(pid=4026531836, net=4026531840, mnt=4026531841, uts=4026531838, ipc=4026531839)


@dataclass
class Cgroup:
    """One container's cgroup: its limits and the accounting the kernel keeps."""

    path: str
    resources: LinuxContainerResources = field(default_factory=LinuxContainerResources)
    cpu_demand: float = 0.0
    usage_seconds: float = 0.0
    periods: float = 0.0
    throttled_periods: float = 0.0
    throttled_seconds: float = 0.0
    memory_usage: int = 0
    memory_max_usage: int = 0
    shmem: int = 0
    """tmpfs bytes charged to this cgroup; part of memory_usage."""
    oom_kills: int = 0
    on_oom: Callable[[], None] | None = None
    _since: float = 0.0

    def cpu_limit_cores(self) -> float:
        r = self.resources
        return r.cpu_quota / r.cpu_period if r.cpu_quota > 0 and r.cpu_period > 0 else float("inf")

    def settle(self, now: float) -> None:
        """Account the CPU used since the last change of demand."""
        elapsed = now - self._since
        self._since = now
        if elapsed <= 0 or self.cpu_demand <= 0:
            return
        limit = self.cpu_limit_cores()
        used = min(self.cpu_demand, limit)
        self.usage_seconds += used * elapsed
        if limit != float("inf"):
            periods = elapsed / (self.resources.cpu_period / 1_000_000)
            self.periods += periods
            if self.cpu_demand > limit:
                self.throttled_periods += periods
                self.throttled_seconds += (self.cpu_demand - limit) * elapsed

    def set_cpu_demand(self, now: float, cores: float) -> None:
        self.settle(now)
        self.cpu_demand = max(0.0, cores)

    def set_memory(self, now: float, size: int) -> None:
        """The process's resident memory is now ``size`` bytes (tmpfs pages come on top)."""
        self.memory_usage = max(0, int(size)) + self.shmem
        self.memory_max_usage = max(self.memory_max_usage, self.memory_usage)
        limit = self.resources.memory_limit_in_bytes
        if limit and self.memory_usage > limit:
            self.oom_kills += 1
            if self.on_oom is not None:
                self.on_oom()

    def charge_shmem(self, now: float, delta: int) -> None:
        """Charge (or uncharge) tmpfs bytes written by the container; may OOM-kill like any allocation."""
        resident = self.memory_usage - self.shmem
        self.shmem = max(0, self.shmem + int(delta))
        self.set_memory(now, resident)

    def cpu_stat(self, now: float) -> dict[str, int]:
        """``cpu.stat`` and ``cpuacct.usage`` as the kernel reports them (integers)."""
        self.settle(now)
        return {
            "usage_usec": round(self.usage_seconds * 1_000_000),
            "nr_periods": round(self.periods),
            "nr_throttled": round(self.throttled_periods),
            "throttled_usec": round(self.throttled_seconds * 1_000_000),
        }


class Process:
    """PID 1 of a container: a program inside its namespaces and cgroup."""

    def __init__(
        self,
        loop: Loop,
        program: Any,
        *,
        argv: list[str],
        env: dict[str, str],
        fs: dict[str, str],
        hostname: str,
        namespaces: Namespaces,
        cgroup: Cgroup,
        write: Callable[[str, str], None],
        on_exit: Callable[[int, bool], None],
    ) -> None:
        self.loop = loop
        self.program = program
        self.namespaces = namespaces
        self.cgroup = cgroup
        self.oom_killed = False
        self._on_exit = on_exit
        cgroup._since = loop.now
        cgroup.on_oom = self._oom
        self.ctx = ProcessContext(
            loop, argv=argv, env=env, fs=fs, hostname=hostname, write=write, cgroup=cgroup, on_exit=self._exited
        )

    def start(self) -> None:
        self.program.start(self.ctx)

    @property
    def alive(self) -> bool:
        return self.ctx.alive

    def kill(self, signal: int) -> None:
        """Deliver a signal; SIGKILL cannot be caught, anything else goes to the program."""
        if not self.ctx.alive:
            return
        if signal == SIGKILL:
            self.ctx.exit(EXIT_SIGKILL)
        else:
            self.program.on_signal(signal)

    def _oom(self) -> None:
        if self.ctx.alive:
            self.oom_killed = True
            self.ctx.exit(EXIT_SIGKILL)

    def _exited(self, code: int) -> None:
        self.cgroup.set_cpu_demand(self.loop.now, 0.0)
        self.cgroup.memory_usage = 0
        self._on_exit(code, self.oom_killed)
