"""Small programs for resource and failure lessons: a memory hog, a CPU burner, a crasher, redis.

    polinux/stress     ``stress --vm 1 --vm-bytes 250M --vm-hang 1``: allocates the
                       bytes in 100 ms steps of 50 MB, then holds them (the docs'
                       memory-limit example, OOMKilled under a 100Mi limit)
    vish/stress        ``-cpus 2``: keeps that many cores busy (the docs' CPU-limit example)
    course/memory-hog  grows by ``--rate`` MB (default 10) every second, forever
    course/cpu-burner  wants ``--cores`` cores (default 1), forever
    course/crasher     prints, then exits ``--exit-code`` (1) after ``--after`` seconds (5)
    redis              listens on 6379, saves and exits 0 on SIGTERM
Each reads its options from argv; numbers take the suffixes stress takes (250M, 1G).
"""

from __future__ import annotations

from engine.runtime.programs.base import ProcessContext, Program

MB = 1_000_000
_SUFFIXES = {"": 1, "B": 1, "K": 1024, "M": 1024 ** 2, "G": 1024 ** 3}


def option(argv: list[str], name: str, default: str) -> str:
    """The value after ``name`` in argv (``--vm-bytes 250M``) or ``name=value``."""
    for index, arg in enumerate(argv):
        if arg == name and index + 1 < len(argv):
            return argv[index + 1]
        if arg.startswith(name + "="):
            return arg.split("=", 1)[1]
    return default


def stress_bytes(text: str) -> int:
    """stress's size syntax: ``250M`` is 250 MiB."""
    text = text.strip().upper()
    suffix = text[-1] if text and text[-1] in _SUFFIXES else ""
    return int(float(text[: len(text) - len(suffix)] or 0) * _SUFFIXES[suffix])


class Stress(Program):
    """polinux/stress's vm worker: allocate ``--vm-bytes`` and hang on to it."""

    STEP = 0.1
    CHUNK = 50 * MB

    def start(self, ctx: ProcessContext) -> None:
        super().start(ctx)
        self.target = stress_bytes(option(ctx.argv, "--vm-bytes", "256M"))
        workers = int(option(ctx.argv, "--vm", "1"))
        cpus = int(option(ctx.argv, "--cpu", "0"))
        ctx.stdout(f"stress: info: [1] dispatching hogs: {cpus} cpu, 0 io, {workers} vm, 0 hdd\n")
        self.target *= workers
        ctx.set_cpu(float(cpus) + 0.1 * workers)
        self.grow()

    def grow(self) -> None:
        size = min(self.target, self.ctx.memory + self.CHUNK)
        self.ctx.set_memory(size)
        if self.ctx.alive and size < self.target:
            self.ctx.call_later(self.STEP, self.grow)


class CpuStress(Program):
    """vish/stress: burn ``-cpus`` cores."""

    def start(self, ctx: ProcessContext) -> None:
        super().start(ctx)
        cores = float(option(ctx.argv, "-cpus", "1"))
        ctx.stdout("I0101 00:00:00.000000       1 main.go:26] Allocating \"0\" memory, in \"4Ki\" chunks, "
                   "with a 1ms sleep between allocations\n")
        ctx.stdout("I0101 00:00:00.000000       1 main.go:39] Spawning a thread to consume CPU\n" * int(cores))
        ctx.set_memory(2 * MB)
        ctx.set_cpu(cores)


class MemoryHog(Program):
    """Leaks ``--rate`` MB a second until the OOM killer ends it."""

    def start(self, ctx: ProcessContext) -> None:
        super().start(ctx)
        self.rate = int(float(option(ctx.argv, "--rate", "10")) * MB)
        ctx.set_cpu(0.05)
        self.tick()

    def tick(self) -> None:
        self.ctx.set_memory(self.ctx.memory + self.rate)
        if self.ctx.alive:
            self.ctx.stdout(f"allocated {self.ctx.memory // MB} MB\n")
            self.ctx.call_later(1.0, self.tick)


class CpuBurner(Program):
    """Wants ``--cores`` cores forever."""

    def start(self, ctx: ProcessContext) -> None:
        super().start(ctx)
        ctx.set_memory(1 * MB)
        ctx.set_cpu(float(option(ctx.argv, "--cores", "1")))


class Crasher(Program):
    """Starts, logs, and exits with an error: CrashLoopBackOff material."""

    def start(self, ctx: ProcessContext) -> None:
        super().start(ctx)
        after = float(option(ctx.argv, "--after", "5"))
        code = int(option(ctx.argv, "--exit-code", "1"))
        ctx.set_memory(5 * MB)
        ctx.stdout("starting up\n")
        ctx.call_later(after, self.crash, code)

    def crash(self, code: int) -> None:
        self.ctx.stderr(f"panic: something went wrong (exit code {code})\n")
        self.ctx.exit(code)


class Redis(Program):
    """redis-server: listens on 6379; SIGTERM saves and exits 0."""

    def start(self, ctx: ProcessContext) -> None:
        super().start(ctx)
        ctx.set_memory(3 * MB)
        ctx.listen(6379)
        ctx.stdout("1:C 01 Jan 2025 00:00:00.000 # oO0OoO0OoO0Oo Redis is starting oO0OoO0OoO0Oo\n")
        ctx.stdout("1:M 01 Jan 2025 00:00:00.000 * Ready to accept connections tcp\n")
        self.data: dict[str, str] = {}

    def on_signal(self, signal: int) -> None:
        self.ctx.stdout("1:signal-handler Received SIGTERM scheduling shutdown...\n")
        self.ctx.stdout("1:M * Redis is now ready to exit, bye bye...\n")
        self.ctx.exit(0)

    def command(self, words: list[str]) -> str:
        """A RESP-less redis-cli: PING, SET, GET."""
        verb = words[0].upper() if words else ""
        if verb == "PING":
            return "PONG"
        if verb == "SET" and len(words) == 3:
            self.data[words[1]] = words[2]
            return "OK"
        if verb == "GET" and len(words) == 2:
            return self.data.get(words[1], "(nil)")
        return f"(error) ERR unknown command '{words[0] if words else ''}'"


class Fluentd(Program):
    """fluentd (the DaemonSet docs' log shipper): starts its worker, tails node logs, stops cleanly on SIGTERM."""

    def start(self, ctx: ProcessContext) -> None:
        super().start(ctx)
        ctx.set_memory(80 * MB)
        ctx.stdout('[info]: parsing config file is succeeded path="/etc/fluent/fluent.conf"\n')
        ctx.stdout('[info]: starting fluentd-1.4.2 pid=1 ruby="2.6.3"\n')
        ctx.stdout("[info]: #0 fluentd worker is now running worker=0\n")

    def on_signal(self, signal: int) -> None:
        self.ctx.stdout("[info]: Received graceful stop\n")
        self.ctx.stdout("[info]: #0 fluentd worker is now stopping worker=0\n")
        self.ctx.exit(0)
