"""Batch programs: the perl and python one-liners of the docs' Job examples.

The Job example ``perl -Mbignum=bpi -wle "print bpi(2000)"`` really computes pi
to 2000 significant digits (Machin's formula in integers, rounded as
Math::BigFloat rounds), charging ``PI_CPU_SECONDS_PER_1000_DIGITS`` of CPU so a
CPU limit slows it down, then prints it and exits 0. ``perl -e 'print "..."'``
and ``python -c 'print(...)'`` print literals and integer arithmetic; a script
beyond that is refused with the message a missing interpreter feature would
give, and exit code 1 (this is not a Python or perl interpreter).
"""

from __future__ import annotations

import ast
import re

from engine.runtime.programs.base import ProcessContext, Program

PI_CPU_SECONDS_PER_1000_DIGITS = 2.5
"""Roughly what perl's Math::BigFloat needs on one core (bpi(2000) takes ~5 s)."""


def pi_digits(digits: int) -> str:
    """Pi to ``digits`` significant digits, rounded half up: ``pi_digits(5) == "3.1416"``."""
    guard = 10
    scale = 10 ** (digits + guard)

    def arctan_inverse(x: int) -> int:
        total, term, n, sign = 0, scale // x, 1, 1
        x2 = x * x
        while term:
            total += sign * (term // n)
            term //= x2
            n += 2
            sign = -sign
        return total

    pi = 4 * (4 * arctan_inverse(5) - arctan_inverse(239))     # pi * 10**(digits+guard)
    rounded = (pi + 5 * 10 ** (guard)) // 10 ** (guard + 1)    # digits significant digits (one before the point)
    text = str(rounded)
    return text[0] + "." + text[1:] if digits > 1 else text


class Perl(Program):
    """perl: ``-Mbignum=bpi ... print bpi(N)`` and ``print "text"``."""

    def start(self, ctx: ProcessContext) -> None:
        super().start(ctx)
        ctx.set_memory(12_000_000)
        script = next((ctx.argv[i + 1] for i, a in enumerate(ctx.argv[:-1]) if re.fullmatch(r"-\w*e", a)), None)
        if script is None:
            ctx.exit(0)          # perl reading an empty stdin does nothing
            return
        newline = any(re.fullmatch(r"-\w*l\w*", a) for a in ctx.argv)
        pi = re.fullmatch(r"\s*print\s+bpi\((\d+)\)\s*;?\s*", script)
        if pi:
            digits = int(pi.group(1))
            text = pi_digits(digits) + ("\n" if newline else "")
            ctx.compute(PI_CPU_SECONDS_PER_1000_DIGITS * digits / 1000, lambda: self.finish(text))
            return
        literal = re.fullmatch(r'\s*print\s+"((?:[^"\\]|\\.)*)"\s*;?\s*', script)
        if literal:
            self.finish(literal.group(1).replace("\\n", "\n") + ("\n" if newline else ""))
            return
        ctx.stderr(f"syntax error at -e line 1, near \"{script[:20]}\"\nExecution of -e aborted due to "
                   "compilation errors.\n")
        ctx.exit(255)

    def finish(self, text: str) -> None:
        self.ctx.stdout(text)
        self.ctx.exit(0)


class Python(Program):
    """python -c with ``print(...)`` of literals and arithmetic, ``import time; time.sleep(N)``."""

    def start(self, ctx: ProcessContext) -> None:
        super().start(ctx)
        ctx.set_memory(9_000_000)
        script = next((ctx.argv[i + 1] for i, a in enumerate(ctx.argv[:-1]) if a == "-c"), None)
        if script is None:
            ctx.exit(0)          # the REPL with no terminal reads EOF and exits
            return
        self.statements = [s.strip() for s in re.split(r"[;\n]", script) if s.strip()]
        self.next_statement()

    def next_statement(self) -> None:
        while self.statements:
            statement = self.statements.pop(0)
            if statement in ("import time", "import sys", "import os"):
                continue
            sleep = re.fullmatch(r"time\.sleep\(([\d.]+)\)", statement)
            if sleep:
                self.ctx.call_later(float(sleep.group(1)), self.next_statement)
                return
            exit_call = re.fullmatch(r"sys\.exit\((\d+)\)", statement)
            if exit_call:
                self.ctx.exit(int(exit_call.group(1)))
                return
            printed = re.fullmatch(r"print\((.*)\)", statement)
            if printed:
                try:
                    self.ctx.stdout(" ".join(str(_evaluate(arg)) for arg in _arguments(printed.group(1))) + "\n")
                    continue
                except (ValueError, SyntaxError):
                    pass
            self.ctx.stderr(f'  File "<string>", line 1\n    {statement}\nNotImplementedError: the simulated '
                            "python runs print, time.sleep and sys.exit only\n")
            self.ctx.exit(1)
            return
        self.ctx.exit(0)


def _arguments(text: str) -> list[ast.expr]:
    call = ast.parse(f"f({text})", mode="eval").body
    assert isinstance(call, ast.Call)
    return list(call.args)


def _evaluate(node: ast.expr) -> object:
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub, ast.Mult, ast.Pow, ast.Mod,
                                                           ast.FloorDiv)):
        left, right = _evaluate(node.left), _evaluate(node.right)
        if isinstance(node.op, ast.Pow) and isinstance(right, int) and right > 10000:
            raise ValueError("exponent too large")
        return {ast.Add: lambda: left + right, ast.Sub: lambda: left - right, ast.Mult: lambda: left * right,
                ast.Pow: lambda: left ** right, ast.Mod: lambda: left % right,
                ast.FloorDiv: lambda: left // right}[type(node.op)]()
    raise ValueError("unsupported expression")
