"""The shell's word expansion: quote removal, ``$VAR`` ``${VAR:-default}`` ``$?`` ``$#`` ``$1``, ``$(( ))``,
``$( )`` and backquotes, field splitting, ``case`` patterns, and (bash only) ``${NAME[INDEX]}``.

``Expansion`` is the part of ``shell.Shell`` that turns a word as parsed (quotes kept) into fields, the way
busybox ash does when the interpreter reaches the word; it reads the shell's ``vars``, ``status`` and
``args`` and runs command substitutions through the shell's ``substitute``. It never runs commands itself.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from engine.runtime.programs.sh_syntax import arithmetic, skip_double_quoted, skip_parens


def _glob(text: str) -> str:
    """Unquoted pattern text as a regular expression: ``*`` ``?`` ``[...]`` (``[!...]`` negates)."""
    out, i = [], 0
    while i < len(text):
        c = text[i]
        end = text.find("]", i + 2) if c == "[" else -1
        if c == "*":
            out.append(".*")
        elif c == "?":
            out.append(".")
        elif end > 0:
            body = text[i + 1:end]
            negate = body[:1] == "!"
            out.append("[" + ("^" if negate else "") + re.escape(body[1:] if negate else body).replace("\\-", "-")
                       + "]")
            i = end
        else:
            out.append(re.escape(c))
        i += 1
    return "".join(out)


class Expansion:
    """Word expansion for a shell that has ``vars``, ``status``, ``args`` and ``substitute(script)``."""

    vars: dict[str, str]
    status: int
    args: list[str]
    bash: bool
    arrays: dict[str, list[str]]
    substitute: Callable[[str], str]

    def _element(self, name: str, subscript: str) -> str:
        """bash's ``${NAME[SUBSCRIPT]}``: an arithmetic index, or ``@`` / ``*`` for every element."""
        values = self.arrays.get(name, [self.vars[name]] if name in self.vars else [])
        if subscript in ("@", "*"):
            return " ".join(values)
        index = arithmetic(subscript, self.vars)
        return values[index] if -len(values) <= index < len(values) else ""

    def expand(self, raw: str, split: bool = True) -> list[str]:
        """Quote removal, parameter, arithmetic and command expansion, then field splitting."""
        fields: list[str] = []
        current: list[str] = []
        quoted_any = False
        i, n = 0, len(raw)

        def add(text: str, splittable: bool) -> None:
            if splittable and split:
                pieces = text.split()
                if not pieces:
                    return
                if text[:1].isspace() and current:
                    fields.append("".join(current))
                    current.clear()
                current.append(pieces[0])
                for piece in pieces[1:]:
                    fields.append("".join(current))
                    current.clear()
                    current.append(piece)
                if text[-1:].isspace():
                    fields.append("".join(current))
                    current.clear()
            else:
                current.append(text)

        while i < n:
            c = raw[i]
            if c == "\\" and i + 1 < n:
                current.append(raw[i + 1])
                i += 2
            elif c == "'":
                end = raw.index("'", i + 1)
                current.append(raw[i + 1:end])
                quoted_any = True
                i = end + 1
            elif c == '"':
                end = skip_double_quoted(raw, i + 1) - 1
                current.append(self._expand_quoted(raw[i + 1:end]))
                quoted_any = True
                i = end + 1
            elif c == "$" or c == "`":
                text, i = self._dollar(raw, i)
                add(text, True)
            else:
                current.append(c)
                i += 1
        if current or quoted_any:
            fields.append("".join(current))
        return fields if split else ["".join(fields) if len(fields) <= 1 else " ".join(fields)]

    def pattern(self, raw: str) -> re.Pattern[str]:
        """A ``case`` pattern: ``*`` ``?`` ``[...]`` are globs where unquoted (expansions too), literal where quoted."""
        pieces: list[tuple[str, bool]] = []            # (text, quoted)
        i, n = 0, len(raw)
        while i < n:
            c = raw[i]
            if c == "\\" and i + 1 < n:
                pieces.append((raw[i + 1], True))
                i += 2
            elif c == "'":
                end = raw.index("'", i + 1)
                pieces.append((raw[i + 1:end], True))
                i = end + 1
            elif c == '"':
                end = skip_double_quoted(raw, i + 1) - 1
                pieces.append((self._expand_quoted(raw[i + 1:end]), True))
                i = end + 1
            elif c in "$`":
                text, i = self._dollar(raw, i)
                pieces.append((text, False))
            elif pieces and not pieces[-1][1]:
                pieces[-1] = (pieces[-1][0] + c, False)     # one run of unquoted text, so [...] stays whole
                i += 1
            else:
                pieces.append((c, False))
                i += 1
        return re.compile("".join(re.escape(text) if quoted else _glob(text) for text, quoted in pieces), re.DOTALL)

    def _expand_quoted(self, text: str) -> str:
        out, i = [], 0
        while i < len(text):
            if text[i] == "\\" and i + 1 < len(text) and text[i + 1] in '$`"\\':
                out.append(text[i + 1])
                i += 2
            elif text[i] in "$`":
                value, i = self._dollar(text, i)
                out.append(value)
            else:
                out.append(text[i])
                i += 1
        return "".join(out)

    def _dollar(self, text: str, i: int) -> tuple[str, int]:
        if text[i] == "`":
            end = text.index("`", i + 1)
            return self.substitute(text[i + 1:end]), end + 1
        if text.startswith("$((", i):
            end = skip_parens(text, i + 1)
            return str(arithmetic(text[i + 3:end - 2], self.vars)), end
        if text.startswith("$(", i):
            end = skip_parens(text, i + 1)
            return self.substitute(text[i + 2:end - 1]), end
        if text.startswith("${", i):
            end = text.index("}", i)
            name, _, default = text[i + 2:end].partition(":-")
            element = re.fullmatch(r"([A-Za-z_][A-Za-z0-9_]*)\[(.*)\]", name) if self.bash else None
            if element is not None:
                return self._element(element.group(1), element.group(2)) or default, end + 1
            return self.vars.get(name) or default, end + 1
        match = re.match(r"\$([A-Za-z_][A-Za-z0-9_]*|[?$#0-9])", text[i:])
        if match is None:
            return "$", i + 1
        name = match.group(1)
        if name == "?":
            value = str(self.status)
        elif name == "$":
            value = "1"
        elif name == "#":
            value = str(len(self.args) - 1)
        elif name.isdigit():
            value = self.args[int(name)] if int(name) < len(self.args) else ""
        else:
            value = self.vars.get(name, "")
        return value, i + match.end()
