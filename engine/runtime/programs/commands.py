"""The commands busybox's sh finds on its PATH, each worded as busybox words it.

Each is ``handler(shell, argv, stdin) -> exit status``, writing through
``shell.write`` / ``shell.write_err`` and reading the container's filesystem
(``shell.ctx.fs``, path -> content; a directory is any prefix of a path, or a
key ending in ``/``). None takes virtual time (``sleep`` is the shell's own, and so is ``ping``:
``engine.runtime.programs.ping``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING

from engine.runtime.programs.sh_syntax import busybox_date
from engine.runtime.programs.shell import ShellExit

if TYPE_CHECKING:
    from engine.runtime.programs.shell import Shell

Handler = Callable[["Shell", list[str], str], int]

_SIGNALS = {"HUP": 1, "INT": 2, "QUIT": 3, "KILL": 9, "USR1": 10, "USR2": 12, "TERM": 15, "EXIT": 0}


def sleep_seconds(args: list[str]) -> float | None:
    """``sleep 30``, ``sleep 1.5``, ``sleep 2m``, ``sleep infinity``: the total, or None if invalid."""
    if not args:
        return None
    total = 0.0
    for arg in args:
        if arg in ("infinity", "inf"):
            return 10.0 ** 9
        match = re.fullmatch(r"(\d+(?:\.\d*)?|\.\d+)([smhd]?)", arg)
        if match is None:
            return None
        total += float(match.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}[match.group(2)]
    return total


def _echo(shell: Shell, argv: list[str], stdin: str) -> int:
    args, newline, escapes = argv[1:], True, False
    while args and args[0] in ("-n", "-e", "-ne", "-en", "-E"):
        newline = newline and "n" not in args[0]
        escapes = escapes or "e" in args[0]
        args = args[1:]
    text = " ".join(args)
    if escapes:
        text = text.replace("\\n", "\n").replace("\\t", "\t")
    shell.write(text + ("\n" if newline else ""))
    return 0


def _printf(shell: Shell, argv: list[str], stdin: str) -> int:
    if len(argv) < 2:
        shell.write_err("printf: usage: printf FORMAT [ARGUMENT]...\n")
        return 1
    fmt = argv[1].replace("\\n", "\n").replace("\\t", "\t")
    args = iter(argv[2:])
    shell.write(re.sub(r"%[sd%]", lambda m: "%" if m.group() == "%%" else next(args, ""), fmt))
    return 0


def _touch(shell: Shell, argv: list[str], stdin: str) -> int:
    for name in argv[1:]:
        if name.startswith("-"):
            continue
        shell.ctx.fs.setdefault(shell.path(name), "")
    return 0


def _rm(shell: Shell, argv: list[str], stdin: str) -> int:
    flags = "".join(a[1:] for a in argv[1:] if a.startswith("-"))
    status = 0
    for name in (a for a in argv[1:] if not a.startswith("-")):
        path = shell.path(name)
        if path in shell.ctx.fs:
            del shell.ctx.fs[path]
        elif shell.is_dir(path) and "r" in flags:
            for key in [k for k in shell.ctx.fs if k.startswith(path + "/")]:
                del shell.ctx.fs[key]
        elif "f" not in flags:
            shell.write_err(f"rm: can't remove '{name}': No such file or directory\n")
            status = 1
    return status


def _cat(shell: Shell, argv: list[str], stdin: str) -> int:
    names = [a for a in argv[1:] if a != "-"] or None
    if names is None:
        shell.write(stdin)
        return 0
    status = 0
    for name in names:
        path = shell.path(name)
        if path in shell.ctx.fs:
            shell.write(shell.ctx.fs[path])
        else:
            shell.write_err(f"cat: can't open '{name}': No such file or directory\n")
            status = 1
    return status


def _rev(shell: Shell, argv: list[str], stdin: str) -> int:
    """busybox rev: each line reversed, from the files named or stdin."""
    texts, status = [], 0
    for name in argv[1:] or ["-"]:
        path = shell.path(name)
        if name == "-":
            texts.append(stdin)
        elif path in shell.ctx.fs:
            texts.append(shell.ctx.fs[path])
        else:
            shell.write_err(f"rev: {name}: No such file or directory\n")
            status = 1
    for text in texts:
        shell.write("".join(line.rstrip("\n")[::-1] + ("\n" if line.endswith("\n") else "")
                            for line in text.splitlines(keepends=True)))
    return status


def _test(shell: Shell, argv: list[str], stdin: str) -> int:
    args = argv[1:]
    if argv[0] == "[":
        if not args or args[-1] != "]":
            shell.write_err("[: missing ]\n")
            return 2
        args = args[:-1]
    negate = bool(args) and args[0] == "!"
    if negate:
        args = args[1:]
    result = _evaluate(shell, args)
    return int(result == negate)


def _evaluate(shell: Shell, args: list[str]) -> bool:
    if not args:
        return False
    if len(args) == 1:
        return args[0] != ""
    if len(args) == 2:
        op, operand = args
        path = shell.path(operand)
        fs = shell.ctx.fs
        checks = {
            "-e": lambda: path in fs or shell.is_dir(path),
            "-f": lambda: path in fs,
            "-d": lambda: shell.is_dir(path) and path not in fs,
            "-s": lambda: bool(fs.get(path)),
            "-r": lambda: path in fs, "-w": lambda: path in fs, "-x": lambda: False,
            "-z": lambda: operand == "", "-n": lambda: operand != "",
        }
        return checks.get(op, lambda: False)()
    left, op, right = args[0], args[1], args[2]
    if op in ("=", "=="):
        return left == right
    if op == "!=":
        return left != right
    numbers = {"-eq": int.__eq__, "-ne": int.__ne__, "-lt": int.__lt__, "-le": int.__le__,
               "-gt": int.__gt__, "-ge": int.__ge__}
    if op in numbers:
        try:
            return bool(numbers[op](int(left), int(right)))
        except ValueError:
            return False
    return False


def _exit(shell: Shell, argv: list[str], stdin: str) -> int:
    code = int(argv[1]) if len(argv) > 1 and argv[1].lstrip("-").isdigit() else shell.status
    raise ShellExit(code & 0xFF)


def _date(shell: Shell, argv: list[str], stdin: str) -> int:
    import datetime as _dt

    from engine.api.meta import EPOCH

    formats = [a for a in argv[1:] if a.startswith("+")]
    if formats:
        moment = EPOCH + _dt.timedelta(seconds=int(shell.ctx.now))
        shell.write(moment.strftime(formats[0][1:]).replace("%s", str(int(moment.timestamp()))) + "\n")
    else:
        shell.write(busybox_date(shell.ctx.now) + "\n")
    return 0


def _mkdir(shell: Shell, argv: list[str], stdin: str) -> int:
    for name in (a for a in argv[1:] if not a.startswith("-")):
        shell.ctx.fs.setdefault(shell.path(name) + "/", "")
    return 0


def _ls(shell: Shell, argv: list[str], stdin: str) -> int:
    target = shell.path(next((a for a in argv[1:] if not a.startswith("-")), "."))
    if target in shell.ctx.fs:
        shell.write(target.rsplit("/", 1)[-1] + "\n")
        return 0
    if not shell.is_dir(target):
        shell.write_err(f"ls: {target}: No such file or directory\n")
        return 1
    prefix = target.rstrip("/") + "/"
    names = sorted({k[len(prefix):].split("/", 1)[0] for k in shell.ctx.fs if k.startswith(prefix)} - {""})
    for name in names:
        shell.write(name + "\n")
    return 0


def _env(shell: Shell, argv: list[str], stdin: str) -> int:
    names = argv[1:] if argv[0] == "printenv" else []
    if names:
        found = [shell.vars[n] for n in names if n in shell.vars]
        for value in found:
            shell.write(value + "\n")
        return 0 if len(found) == len(names) else 1
    for name in sorted(shell.vars):
        shell.write(f"{name}={shell.vars[name]}\n")
    return 0


def _export(shell: Shell, argv: list[str], stdin: str) -> int:
    for arg in argv[1:]:
        name, sep, value = arg.partition("=")
        if sep:
            shell.vars[name] = value
    return 0


def _unset(shell: Shell, argv: list[str], stdin: str) -> int:
    for name in argv[1:]:
        shell.vars.pop(name, None)
    return 0


def _cd(shell: Shell, argv: list[str], stdin: str) -> int:
    target = shell.path(argv[1] if len(argv) > 1 else "/")
    if not shell.is_dir(target):
        shell.write_err(f"sh: cd: can't cd to {argv[1]}: No such file or directory\n")
        return 2
    shell.cwd = target
    return 0


def _grep(shell: Shell, argv: list[str], stdin: str) -> int:
    flags = "".join(a[1:] for a in argv[1:] if a.startswith("-"))
    rest = [a for a in argv[1:] if not a.startswith("-")]
    if not rest:
        shell.write_err("BusyBox v1.36.1 multi-call binary.\n\nUsage: grep [-HhnlLoqvsrRiwFE] PATTERN [FILE]...\n")
        return 2
    pattern, files = rest[0], rest[1:]
    text = "".join(shell.ctx.fs.get(shell.path(f), "") for f in files) if files else stdin
    regex = re.compile(pattern, re.IGNORECASE if "i" in flags else 0)
    lines = [line for line in text.splitlines() if bool(regex.search(line)) != ("v" in flags)]
    if "q" not in flags:
        for line in lines:
            shell.write(line + "\n")
    return 0 if lines else 1


def _head(shell: Shell, argv: list[str], stdin: str) -> int:
    count, files = 10, []
    args = iter(argv[1:])
    for arg in args:
        if arg == "-n":
            count = int(next(args, "10"))
        elif arg.startswith("-") and arg[1:].isdigit():
            count = int(arg[1:])
        else:
            files.append(arg)
    text = "".join(shell.ctx.fs.get(shell.path(f), "") for f in files) if files else stdin
    for line in text.splitlines()[:count]:
        shell.write(line + "\n")
    return 0


def _wc(shell: Shell, argv: list[str], stdin: str) -> int:
    files = [a for a in argv[1:] if not a.startswith("-")]
    text = "".join(shell.ctx.fs.get(shell.path(f), "") for f in files) if files else stdin
    shell.write(f"{text.count(chr(10))}\n" if "-l" in argv else f"{len(text.split())}\n")
    return 0


def _seq(shell: Shell, argv: list[str], stdin: str) -> int:
    numbers = [int(a) for a in argv[1:]]
    first, last = (1, numbers[0]) if len(numbers) == 1 else (numbers[0], numbers[-1])
    step = numbers[1] if len(numbers) == 3 else 1
    for value in range(first, last + (1 if step > 0 else -1), step):
        shell.write(f"{value}\n")
    return 0


def _nslookup(shell: Shell, argv: list[str], stdin: str) -> int:
    """Asks ``ctx.lookup`` (the cluster DNS through the pod's resolver, once the network layer wires it in; else
    ``ctx.resolve``); without either nothing resolves. Prints busybox's lines: the server (the first nameserver
    of /etc/resolv.conf, 127.0.0.1 without one) and, per address, the name that answered (through the search
    list: ``nslookup web`` prints ``Name: web.default.svc.cluster.local``)."""
    name = argv[1] if len(argv) > 1 else ""
    if shell.ctx.lookup is not None:
        answered, addresses = shell.ctx.lookup(name)
    else:
        answered, addresses = name, shell.ctx.resolve(name) if shell.ctx.resolve is not None else []
    server = _nameserver(shell.ctx.fs.get("/etc/resolv.conf", ""))
    shell.write(f"Server:\t\t{server}\nAddress:\t{server}:53\n\n")
    if not addresses:
        shell.write_err(f"** server can't find {name}: NXDOMAIN\n\n")
        return 1
    for address in addresses:
        shell.write(f"Name:\t{answered}\nAddress: {address}\n")
    shell.write("\n")
    return 0


def _nameserver(resolv_conf: str) -> str:
    """The first ``nameserver`` of a resolv.conf; busybox falls back to 127.0.0.1."""
    for line in resolv_conf.splitlines():
        fields = line.split()
        if len(fields) >= 2 and fields[0] == "nameserver":
            return fields[1]
    return "127.0.0.1"


def _wget(shell: Shell, argv: list[str], stdin: str) -> int:
    """``wget -qO- URL`` through ``ctx.http`` (the network layer); without it no host resolves.

    ``ctx.http`` answers a response, None (connection refused), or ``{"error": "unresolved" | "timeout" |
    "unreachable"}`` (a name that does not resolve, a packet dropped by a NetworkPolicy, no route)."""
    url = next((a for a in argv[1:] if not a.startswith("-")), "")
    host = url.split("://", 1)[-1].split("/", 1)[0]
    quiet = any(a.startswith("-") and "q" in a for a in argv[1:])
    answer = shell.ctx.http(url) if shell.ctx.http is not None else None
    if shell.ctx.http is None:
        shell.write_err(f"wget: bad address '{host}'\n")
        return 1
    if answer is None:
        shell.write_err(f"wget: can't connect to remote host ({host}): Connection refused\n")
        return 1
    failure = answer.get("error")      # the packet model's other failures, worded as busybox does
    if failure is not None:
        shell.write_err({"unresolved": f"wget: bad address '{host}'\n", "timeout": "wget: download timed out\n"}
                        .get(failure, f"wget: can't connect to remote host ({host}): No route to host\n"))
        return 1
    if not quiet:
        shell.write_err(f"Connecting to {host} ({host})\n")
    shell.waiting += float(answer.get("elapsed") or 0.0)      # the server took that long to answer
    status = int(answer.get("status", 200))
    if status >= 400:
        reason = {404: "Not Found", 500: "Internal Server Error", 503: "Service Unavailable"}.get(status, "Error")
        shell.write_err(f"wget: server returned error: HTTP/1.1 {status} {reason}\n")
        return 1
    shell.write(str(answer.get("body", "")))
    return 0


def _trap(shell: Shell, argv: list[str], stdin: str) -> int:
    if len(argv) < 3:
        return 0
    for name in argv[2:]:
        key = name.upper().removeprefix("SIG")
        number = _SIGNALS.get(key, int(key) if key.isdigit() else None)
        if number is not None:
            shell.traps[str(number)] = argv[1]
    return 0


def _kill(shell: Shell, argv: list[str], stdin: str) -> int:
    return 0


def _true(shell: Shell, argv: list[str], stdin: str) -> int:
    return 0


def _false(shell: Shell, argv: list[str], stdin: str) -> int:
    return 1


BUILTINS: dict[str, Handler] = {
    "echo": _echo, "printf": _printf, "touch": _touch, "rm": _rm, "cat": _cat, "test": _test, "[": _test,
    "true": _true, ":": _true, "false": _false, "exit": _exit, "date": _date, "mkdir": _mkdir, "ls": _ls,
    "env": _env, "printenv": _env, "export": _export, "unset": _unset, "cd": _cd,
    "pwd": lambda shell, argv, stdin: (shell.write(shell.cwd + "\n"), 0)[1],
    "hostname": lambda shell, argv, stdin: (shell.write(shell.ctx.hostname + "\n"), 0)[1],
    "grep": _grep, "head": _head, "wc": _wc, "seq": _seq, "nslookup": _nslookup, "wget": _wget,
    "trap": _trap, "kill": _kill, "rev": _rev,
}
