"""busybox ``sh`` in miniature: the shell the Kubernetes docs' examples are written for.

It runs ``sh -c SCRIPT`` (and bare commands such as ``sleep 3600``) on the
virtual clock. Supported: ``;`` ``&&`` ``||`` ``|`` and newlines; ``while`` /
``until`` / ``for`` / ``if`` / ``case`` / ``{ }``; assignments, ``$VAR`` ``${VAR}`` ``$?``
``$((arithmetic))`` ``$(command)``, quotes and backslashes; redirections
``>`` ``>>`` ``<`` ``1>`` ``2>`` ``2>>`` (``/dev/null``, ``/dev/stdout``, ``/dev/stderr`` too) and the
duplications ``2>&1`` ``>&2`` ``1>&2``, applied left to right; ``trap``. A container's stdout and stderr
are its two CRI log streams. Commands: echo, printf, sleep,
touch, rm, cat, test / [, true, false, exit, date, mkdir, ls, env, printenv,
hostname, export, unset, cd, pwd, grep, head, wc, seq, nslookup, wget, kill, rev. Run as ``bash``
it also has arrays (``items=(a b c)``, ``${items[$i]}``), which ash refuses as a syntax error.

Contract: only ``sleep`` and the wait for an answer (``wget``: the seconds the server took) take virtual
time; ``run`` is a generator that yields the seconds to wait, so a script never blocks the loop. A loop that
never sleeps is charged a CPU and 0.1 ms of virtual time per command,
like the busy loop it is. As PID 1, sh has no handler for SIGTERM, so it
ignores it (the container is SIGKILLed after the grace period, exit 137)
unless the script set a ``trap``, which runs when the foreground command
(the current ``sleep``) ends, as in a real shell. Errors are worded as
busybox words them (``sh: foo: not found``, exit 127; a write under a
read-only volume: ``touch: /etc/config/x: Read-only file system``, exit 1).
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterator
from typing import Any

from engine.runtime.mounts import ReadOnlyFilesystem
from engine.runtime.programs.base import ExecResult, ProcessContext, Program
from engine.runtime.programs.sh_expand import Expansion
from engine.runtime.programs.sh_syntax import (
    AndOr,
    Case,
    For,
    Group,
    If,
    Loop,
    Pipe,
    Seq,
    ShellSyntaxError,
    Simple,
    parse,
)

Run = Generator[float, None, int]
Sink = Callable[[str], None]
"""Where a file descriptor's writes go."""

SHELLS = {"sh", "/bin/sh", "bash", "/bin/bash", "/usr/local/bin/bash", "ash", "/bin/ash"}
BUSY_BATCH = 100
BUSY_SLICE = 0.01
"""A loop that never sleeps gets BUSY_SLICE seconds of one CPU per BUSY_BATCH commands (0.1 ms each)."""


DUPLICATIONS = {"2>&1": (2, 1), ">&2": (1, 2), "1>&2": (1, 2)}
"""``N>&M``: descriptor N writes where M writes now."""
STDOUT_PATHS = {"/dev/stdout", "/proc/1/fd/1", "/proc/self/fd/1", "/dev/fd/1"}
STDERR_PATHS = {"/dev/stderr", "/proc/1/fd/2", "/proc/self/fd/2", "/dev/fd/2"}


def _discard(text: str) -> None:
    """/dev/null."""


class ShellExit(Exception):
    def __init__(self, code: int) -> None:
        self.code = code


# -- the interpreter ----------------------------------------------------------------

class Shell(Expansion):
    """One shell process's state: variables, cwd, traps, where output goes."""

    def __init__(self, ctx: ProcessContext, *, capture: bool = False, args: list[str] | None = None) -> None:
        self.ctx = ctx
        self.vars: dict[str, str] = dict(ctx.env)
        self.args = args or ["sh"]
        self.status = 0
        self.cwd = ctx.env.get("PWD", "/") or "/"
        self.traps: dict[str, str] = {}
        self.bash = False
        """Running as bash (``bash -c``): arrays parse and expand."""
        self.arrays: dict[str, list[str]] = {}
        self.capture = capture
        self.out: list[str] = []
        self.err: list[str] = []
        """What a captured run (exec, probes) wrote to its stdout and stderr."""
        self.fds: dict[int, Sink] = {1: self.out.append, 2: self.err.append} if capture else \
            {1: ctx.stdout, 2: ctx.stderr}
        """Where file descriptors 1 and 2 point now: redirections, pipes and ``$( )`` swap them."""
        self.busy = 0
        self.waiting = 0.0
        """Seconds the command just run waited on something outside (a server's answer), taken before the next."""

    def write(self, text: str) -> None:
        self.fds[1](text)

    def write_err(self, text: str) -> None:
        self.fds[2](text)

    def _stdout_into(self, buffer: list[str]) -> dict[int, Sink]:
        """Point fd 1 at ``buffer`` (a pipe, a command substitution); returns the descriptors to restore."""
        saved = self.fds
        self.fds = {**saved, 1: buffer.append}
        return saved

    def path(self, name: str) -> str:
        full = name if name.startswith("/") else f"{self.cwd.rstrip('/')}/{name}"
        parts: list[str] = []
        for part in full.split("/"):
            if part == "..":
                if parts:
                    parts.pop()
            elif part and part != ".":
                parts.append(part)
        return "/" + "/".join(parts)

    def is_dir(self, path: str) -> bool:
        return path == "/" or path + "/" in self.ctx.fs or any(k.startswith(path + "/") for k in self.ctx.fs)

    # -- running ---------------------------------------------------------------
    def run(self, node: Any, stdin: str = "") -> Run:
        if isinstance(node, Seq):
            for item in node.items:
                self.status = yield from self.run(item, stdin)
            return self.status
        if isinstance(node, AndOr):
            status = yield from self.run(node.first, stdin)
            for op, right in node.rest:
                if (op == "&&") == (status == 0):
                    status = yield from self.run(right, stdin)
            self.status = status
            return status
        if isinstance(node, Pipe):
            data = stdin
            for command in node.commands[:-1]:
                piped: list[str] = []
                saved = self._stdout_into(piped)
                try:
                    yield from self.run(command, data)
                finally:
                    self.fds = saved
                data = "".join(piped)
            self.status = yield from self.run(node.commands[-1], data)
            return self.status
        if isinstance(node, Loop):
            while True:
                status = yield from self.run(node.cond, stdin)
                if (status == 0) == node.until:
                    break
                yield from self.run(node.body, stdin)
                yield from self._breathe()
            return 0
        if isinstance(node, For):
            words = [field for word in node.words for field in self.expand(word)]
            for word in words:
                self.vars[node.name] = word
                yield from self.run(node.body, stdin)
            return self.status
        if isinstance(node, If):
            for cond, body in node.branches:
                if (yield from self.run(cond, stdin)) == 0:
                    return (yield from self.run(body, stdin))
            if node.otherwise is not None:
                return (yield from self.run(node.otherwise, stdin))
            return 0
        if isinstance(node, Case):
            word = "".join(self.expand(node.word, split=False))
            for patterns, body in node.items:
                if any(self.pattern(raw).fullmatch(word) for raw in patterns):
                    return (yield from self.run(body, stdin))
            self.status = 0
            return 0
        if isinstance(node, Group):
            return (yield from self._redirected(node.redirs, lambda s: self.run(node.body, s), stdin))
        return (yield from self._simple(node, stdin))

    def _breathe(self) -> Generator[float, None, None]:
        self.busy += 1
        if self.busy >= BUSY_BATCH and not self.capture:
            self.busy = 0
            self.ctx.set_cpu(1.0)
            yield BUSY_SLICE
            self.ctx.set_cpu(0.0)

    def _simple(self, node: Simple, stdin: str) -> Run:
        words = [f for word in node.words for f in self.expand(word)]
        values = [(name, "".join(self.expand(raw, split=False))) for name, raw in node.assigns]
        for name, raw_words in node.arrays:
            self.arrays[name] = [f for word in raw_words for f in self.expand(word)]
            self.vars[name] = self.arrays[name][0] if self.arrays[name] else ""      # $NAME is element 0
        if not words:
            self.vars.update(values)
            self.status = 0
            return 0
        saved = {name: self.vars.get(name) for name, _ in values}
        self.vars.update(values)
        try:
            status = yield from self._redirected(node.redirs, lambda s: self.command(words, s), stdin)
        finally:
            for name, old in saved.items():
                if old is None:
                    self.vars.pop(name, None)
                else:
                    self.vars[name] = old
        self.status = status
        yield from self._breathe()
        return status

    def _redirected(self, redirs: list[tuple[str, str]], body: Any, stdin: str) -> Run:
        """Apply redirections left to right (``2>&1 >f`` differs from ``>f 2>&1``), run ``body``, restore."""
        saved = self.fds
        self.fds = dict(saved)
        try:
            for op, raw in redirs:
                target = "".join(self.expand(raw, split=False)) if raw else ""
                if op == "<":
                    path = self.path(target)
                    if path not in self.ctx.fs:
                        self.write_err(f"sh: can't open '{target}': No such file or directory\n")
                        return 1
                    stdin = self.ctx.fs[path]
                elif op in DUPLICATIONS:
                    to, source = DUPLICATIONS[op]
                    self.fds[to] = self.fds[source]
                else:
                    sink = self._open(target, append=op.endswith(">>"))
                    if sink is None:
                        return 1
                    self.fds[2 if op.startswith("2") else 1] = sink
            return (yield from body(stdin))
        finally:
            self.fds = saved

    def _open(self, target: str, append: bool) -> Sink | None:
        """A file opened for writing, as a sink; None (after sh's message) when it cannot be created."""
        if target == "/dev/null":
            return _discard
        if target in STDOUT_PATHS:
            return self.fds[1]
        if target in STDERR_PATHS:
            return self.fds[2]
        path, fs = self.path(target), self.ctx.fs
        try:
            fs[path] = fs.get(path, "") if append else ""
        except ReadOnlyFilesystem:
            self.write_err(f"sh: can't create {target}: Read-only file system\n")
            return None

        def sink(text: str) -> None:
            fs[path] = fs.get(path, "") + text
        return sink

    # -- expansion ---------------------------------------------------------------
    def substitute(self, script: str) -> str:
        """``$(...)``: run to completion (sleeps take no time here) and capture stdout."""
        captured: list[str] = []
        saved = self._stdout_into(captured)
        try:
            drain(self.run(parse(script, self.bash)))
        except ShellExit as done:
            self.status = done.code
        finally:
            self.fds = saved
        return "".join(captured).rstrip("\n")

    # -- commands ------------------------------------------------------------------
    def command(self, argv: list[str], stdin: str) -> Run:
        from engine.runtime.programs import commands

        name = argv[0].rsplit("/", 1)[-1] if argv[0].startswith("/") else argv[0]
        if name == "sleep":
            seconds = commands.sleep_seconds(argv[1:])
            if seconds is None:
                self.write_err(f"sleep: invalid number '{' '.join(argv[1:])}'\n")
                return 1
            self.busy = 0
            yield seconds
            return 0
        if name == "ping":
            from engine.runtime.programs.ping import ping
            return (yield from ping(self, argv))
        if name in ("sh", "bash", "ash") and len(argv) >= 3 and argv[1] == "-c":
            child = Shell(self.ctx, capture=self.capture, args=argv[2:])
            child.fds, child.vars, child.bash = dict(self.fds), dict(self.vars), name == "bash"
            try:
                return (yield from child.run(parse(argv[2], child.bash)))
            except ShellExit as done:
                return done.code
        handler = commands.BUILTINS.get(name)
        if handler is None:
            self.write_err(f"sh: {argv[0]}: not found\n")
            return 127
        try:
            status = handler(self, argv, stdin)
        except ReadOnlyFilesystem as error:   # a write under a readOnly volume mount
            self.write_err(f"{name}: {error.path}: Read-only file system\n")
            return 1
        if self.waiting > 0:
            waited, self.waiting, self.busy = self.waiting, 0.0, 0
            yield waited
        return status


def drain(run: Run, slept: list[float] | None = None) -> int:
    """Run a script to the end, letting sleeps take no time (command substitution, exec); ``slept`` sums them."""
    try:
        while True:
            seconds = next(run)
            if slept is not None:
                slept[0] += seconds
    except StopIteration as stop:
        return int(stop.value or 0)


BASH = {"bash", "/bin/bash", "/usr/local/bin/bash"}


def script_of(argv: list[str]) -> tuple[Any, list[str]]:
    """The tree to run for a container's argv: ``sh -c SCRIPT [ARG0 ARGS]`` or a bare command."""
    if argv and argv[0] in SHELLS:
        if len(argv) >= 3 and argv[1] == "-c":
            return parse(argv[2], argv[0] in BASH), argv[3:] or [argv[0]]
        return Seq([]), [argv[0]]
    return Simple([], [_quote(word) for word in argv], []), ["sh"]


def _quote(word: str) -> str:
    return "'" + word.replace("'", "'\\''") + "'"


def run_sync(argv: list[str], ctx: ProcessContext) -> ExecResult:
    """Run a command to completion beside a process (exec probes, kubectl exec), capturing its output."""
    shell = Shell(ctx, capture=True)
    slept = [0.0]
    try:
        tree, shell.args = script_of(argv)
        shell.bash = bool(argv) and argv[0] in BASH
        code = drain(shell.run(tree), slept)
    except ShellExit as done:
        code = done.code
    except ShellSyntaxError as error:
        shell.err.append(f"sh: {error}\n")
        code = 2
    return ExecResult(code, "".join(shell.out), "".join(shell.err), slept[0])


class ShellProgram(Program):
    """busybox, alpine, ubuntu, ...: PID 1 is the command the pod spec gives, run by sh."""

    def start(self, ctx: ProcessContext) -> None:
        super().start(ctx)
        ctx.set_memory(600_000)
        self.shell = Shell(ctx)
        self.pending_signal: int | None = None
        try:
            tree, self.shell.args = script_of(ctx.argv)
            self.shell.bash = bool(ctx.argv) and ctx.argv[0] in BASH
        except ShellSyntaxError as error:
            ctx.stderr(f"sh: {error}\n")
            ctx.exit(2)
            return
        self.steps: Iterator[float] = self.shell.run(tree)
        self.step()

    def step(self) -> None:
        if self.pending_signal is not None:
            signal, self.pending_signal = self.pending_signal, None
            if self._run_trap(signal):
                return
        try:
            delay = next(self.steps)
        except StopIteration as stop:
            self.ctx.exit(int(stop.value or 0))
            return
        except ShellExit as done:
            self.ctx.exit(done.code)
            return
        self.ctx.call_later(delay, self.step)

    def _run_trap(self, signal: int) -> bool:
        action = self.shell.traps.get(str(signal))
        if action is None:
            return False
        try:
            drain(self.shell.run(parse(action, self.shell.bash)))
        except ShellExit as done:
            self.ctx.exit(done.code)
            return True
        return False

    def on_signal(self, signal: int) -> None:
        """PID 1 ignores signals it has no handler for; a trap runs once the current command ends."""
        if str(signal) in self.shell.traps:
            self.pending_signal = signal
