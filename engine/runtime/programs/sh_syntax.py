"""The syntax of the small sh: tokens, the parse tree, ``$(( ))`` arithmetic and ``date``'s format.

``parse(script)`` turns a script into a tree of dataclasses (Seq, AndOr, Pipe,
Simple, Loop, For, If, Case, Group); words keep their quotes, because expansion
happens when the interpreter (``shell.py``) reaches them, as in a real shell.
``ShellSyntaxError`` carries the message sh prints before exiting 2.
"""

from __future__ import annotations

import ast
import datetime as _dt
import operator
import re
from dataclasses import dataclass, field
from typing import Any

from engine.api.meta import EPOCH

_OPERATORS = ["&&", "||", ";;", "2>&1", "1>&2", ">&2", "2>>", "1>>", ">>", "2>", "1>", ";", "\n", "|", "&", ">", "<",
              "(", ")"]
REDIRECTIONS = (">", ">>", "<", "1>", "1>>", "2>", "2>>", "2>&1", ">&2", "1>&2")
"""``[N]>FILE``, ``[N]>>FILE``, ``<FILE``, and the duplications ``2>&1`` ``>&2`` ``1>&2`` (no file word)."""
_NO_TARGET = ("2>&1", ">&2", "1>&2")


class ShellSyntaxError(Exception):
    pass


# -- parsing -------------------------------------------------------------------

@dataclass
class Simple:
    assigns: list[tuple[str, str]]
    words: list[str]
    redirs: list[tuple[str, str]]
    arrays: list[tuple[str, list[str]]] = field(default_factory=list)
    """bash only: ``NAME=(WORD ...)`` array assignments."""


@dataclass
class Seq:
    items: list[Any]


@dataclass
class AndOr:
    first: Any
    rest: list[tuple[str, Any]]


@dataclass
class Pipe:
    commands: list[Any]


@dataclass
class Loop:
    cond: Any
    body: Any
    until: bool = False


@dataclass
class For:
    name: str
    words: list[str]
    body: Any


@dataclass
class If:
    branches: list[tuple[Any, Any]]
    otherwise: Any = None


@dataclass
class Case:
    word: str
    items: list[tuple[list[str], Any]]
    """Each ``PATTERN[|PATTERN]) LIST ;;`` arm: its patterns (quotes kept) and its list."""


@dataclass
class Group:
    body: Any
    redirs: list[tuple[str, str]] = field(default_factory=list)


def tokenize(text: str) -> list[str]:
    """Words (quotes kept, for expansion later) and operators."""
    tokens: list[str] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c in " \t":
            i += 1
            continue
        if c == "#" and (not tokens or tokens[-1] in _OPERATORS):
            while i < n and text[i] != "\n":
                i += 1
            continue
        if c == "\\" and i + 1 < n and text[i + 1] == "\n":
            i += 2
            continue
        op = next((o for o in _OPERATORS if text.startswith(o, i)), None)
        if op is not None and not (op[0] in "12" and (i > 0 and text[i - 1] not in " \t;|&")):
            tokens.append(op)
            i += len(op)
            continue
        start = i
        while i < n and text[i] not in " \t\n;|&<>()":
            if text[i] == "\\":
                i += 2
            elif text[i] == "'":
                end = text.find("'", i + 1)
                if end < 0:
                    raise ShellSyntaxError("unterminated quoted string")
                i = end + 1
            elif text[i] == '"':
                i = skip_double_quoted(text, i + 1)
            elif text.startswith("$(", i):
                i = skip_parens(text, i + 1)
            elif text[i] == "`":
                end = text.find("`", i + 1)
                i = (end if end > 0 else n - 1) + 1
            else:
                i += 1
        tokens.append(text[start:i])
    return tokens


def skip_double_quoted(text: str, i: int) -> int:
    while i < len(text) and text[i] != '"':
        if text[i] == "\\":
            i += 1
        elif text.startswith("$(", i):
            i = skip_parens(text, i + 1) - 1
        i += 1
    if i >= len(text):
        raise ShellSyntaxError("unterminated quoted string")
    return i + 1


def skip_parens(text: str, i: int) -> int:
    depth = 0
    while i < len(text):
        if text[i] == "(":
            depth += 1
        elif text[i] == ")":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    raise ShellSyntaxError("unterminated $(")


class _Parser:
    def __init__(self, tokens: list[str], bash: bool = False) -> None:
        self.tokens = tokens
        self.pos = 0
        self.bash = bash

    def peek(self) -> str | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self, expected: str | None = None) -> str:
        token = self.peek()
        if token is None or (expected is not None and token != expected):
            raise ShellSyntaxError(f"syntax error: unexpected {token or 'end of file'} (expecting \"{expected}\")")
        self.pos += 1
        return token

    def skip_newlines(self) -> None:
        while self.peek() in ("\n", ";"):
            self.pos += 1

    def parse_list(self, stop: tuple[str, ...] = ()) -> Seq:
        items = []
        self.skip_newlines()
        while self.peek() is not None and self.peek() not in stop and self.peek() != ")":
            items.append(self.parse_and_or())
            if self.peek() in (";", "\n", "&"):
                self.skip_newlines()
                if self.peek() == "&":
                    self.pos += 1
        return Seq(items)

    def parse_and_or(self) -> Any:
        first = self.parse_pipe()
        rest = []
        while self.peek() in ("&&", "||"):
            op = self.take()
            while self.peek() == "\n":
                self.pos += 1
            rest.append((op, self.parse_pipe()))
        return AndOr(first, rest) if rest else first

    def parse_pipe(self) -> Any:
        commands = [self.parse_command()]
        while self.peek() == "|":
            self.take()
            commands.append(self.parse_command())
        return Pipe(commands) if len(commands) > 1 else commands[0]

    def parse_command(self) -> Any:
        token = self.peek()
        if token in ("while", "until"):
            self.take()
            cond = self.parse_list(("do",))
            self.take("do")
            body = self.parse_list(("done",))
            self.take("done")
            return Loop(cond, body, until=token == "until")
        if token == "for":
            self.take()
            name = self.take()
            words: list[str] = []
            if self.peek() == "in":
                self.take()
                while self.peek() not in (";", "\n", None):
                    words.append(self.take())
            self.skip_newlines()
            self.take("do")
            body = self.parse_list(("done",))
            self.take("done")
            return For(name, words, body)
        if token == "if":
            self.take()
            branches, otherwise = [], None
            cond = self.parse_list(("then",))
            self.take("then")
            branches.append((cond, self.parse_list(("elif", "else", "fi"))))
            while self.peek() == "elif":
                self.take()
                cond = self.parse_list(("then",))
                self.take("then")
                branches.append((cond, self.parse_list(("elif", "else", "fi"))))
            if self.peek() == "else":
                self.take()
                otherwise = self.parse_list(("fi",))
            self.take("fi")
            return If(branches, otherwise)
        if token == "case":
            return self.parse_case()
        if token in ("{", "("):
            self.take()
            body = self.parse_list(("}",) if token == "{" else ())
            self.take("}" if token == "{" else ")")
            return Group(body, self._redirs())
        return self.parse_simple()

    def parse_case(self) -> Case:
        """``case WORD in [(]PATTERN[|PATTERN]) LIST ;; ... esac``."""
        self.take("case")
        word = self.take()
        while self.peek() == "\n":
            self.pos += 1
        self.take("in")
        items: list[tuple[list[str], Any]] = []
        self.skip_newlines()
        while self.peek() != "esac":
            if self.peek() == "(":
                self.take()
            patterns = [self.take()]
            while self.peek() == "|":
                self.take()
                patterns.append(self.take())
            self.take(")")
            items.append((patterns, self.parse_list((";;", "esac"))))
            if self.peek() == ";;":
                self.take()
            self.skip_newlines()
        self.take("esac")
        return Case(word, items)

    def _redirs(self) -> list[tuple[str, str]]:
        redirs = []
        while self.peek() in REDIRECTIONS:
            op = self.take()
            redirs.append((op, "" if op in _NO_TARGET else self.take()))
        return redirs

    def parse_simple(self) -> Simple:
        assigns: list[tuple[str, str]] = []
        words: list[str] = []
        redirs: list[tuple[str, str]] = []
        arrays: list[tuple[str, list[str]]] = []
        while True:
            token = self.peek()
            if token is None or token in ("\n", ";", "&", "&&", "||", "|", ")", ";;"):
                break
            if token in REDIRECTIONS:
                redirs.extend(self._redirs())
                continue
            if words and token in ("}",):
                break
            if not words and token in ("do", "done", "then", "elif", "else", "fi", "}", "esac"):
                break
            self.pos += 1
            match = re.fullmatch(r"([A-Za-z_][A-Za-z0-9_]*)=(.*)", token, re.DOTALL)
            if not words and match and not match.group(2) and self.peek() == "(":
                if not self.bash:                   # ash has no arrays
                    raise ShellSyntaxError('syntax error: unexpected "("')
                arrays.append((match.group(1), self._array_words()))
            elif not words and match:
                assigns.append((match.group(1), match.group(2)))
            else:
                words.append(token)
        if not words and not assigns and not redirs and not arrays:
            raise ShellSyntaxError(f"syntax error: unexpected {self.peek() or 'end of file'}")
        return Simple(assigns, words, redirs, arrays)

    def _array_words(self) -> list[str]:
        """bash's ``(WORD ...)`` after ``NAME=``, newlines allowed."""
        self.take("(")
        words = []
        while self.peek() != ")":
            token = self.take()
            if token != "\n":
                words.append(token)
        self.take(")")
        return words


def parse(script: str, bash: bool = False) -> Seq:
    """The tree of a script; ``bash`` adds what bash has beyond busybox ash (arrays)."""
    parser = _Parser(tokenize(script), bash)
    tree = parser.parse_list()
    if parser.peek() is not None:
        raise ShellSyntaxError(f"syntax error: unexpected \"{parser.peek()}\"")
    return tree


# -- arithmetic ------------------------------------------------------------------

_BINARY = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Mod: operator.mod,
           ast.FloorDiv: operator.floordiv, ast.Div: operator.floordiv}
_COMPARE = {ast.Lt: operator.lt, ast.LtE: operator.le, ast.Gt: operator.gt, ast.GtE: operator.ge,
            ast.Eq: operator.eq, ast.NotEq: operator.ne}


def arithmetic(expression: str, variables: dict[str, str]) -> int:
    """``$(( ))``: integers, + - * / %, comparisons, parentheses; names read as variables."""
    def value(node: ast.AST) -> int:
        if isinstance(node, ast.Constant) and isinstance(node.value, int):
            return node.value
        if isinstance(node, ast.Name):
            text = variables.get(node.id, "0") or "0"
            return int(text) if text.lstrip("-").isdigit() else 0
        if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
            return int(_BINARY[type(node.op)](value(node.left), value(node.right)))
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            return -value(node.operand) if isinstance(node.op, ast.USub) else value(node.operand)
        if isinstance(node, ast.Compare) and len(node.ops) == 1 and type(node.ops[0]) in _COMPARE:
            return int(_COMPARE[type(node.ops[0])](value(node.left), value(node.comparators[0])))
        raise ShellSyntaxError(f"arithmetic syntax error: {expression}")

    cleaned = expression.replace("$", "").replace("/", "//").replace("////", "//").strip()
    try:
        return value(ast.parse(cleaned, mode="eval").body)
    except (SyntaxError, ZeroDivisionError) as error:
        raise ShellSyntaxError(f"arithmetic syntax error: {expression}") from error


def busybox_date(now: float) -> str:
    """``date``'s default format: ``Wed Jan  1 00:00:05 UTC 2025``."""
    moment = EPOCH + _dt.timedelta(seconds=int(now))
    return f"{moment:%a %b} {moment.day:>2} {moment:%H:%M:%S} UTC {moment.year}"
