"""kubectl's JSONPath templates (``k8s.io/client-go/util/jsonpath``), for ``-o jsonpath`` and custom columns.

Interface:

- ``render(template, data, allow_missing=True) -> str``: the text ``-o jsonpath=TEMPLATE`` prints.
- ``find_results(expression, data) -> list``: the values one ``{...}`` expression selects.
- ``relaxed(expression)``: ``RelaxedJSONPathExpression``: ``.a.b`` or ``{.a.b}`` becomes ``{.a.b}``.
- ``JSONPathError``: a template kubectl would reject, with its message.

The supported subset is what course material uses: literal text around
``{...}`` actions; ``$`` and ``@``; ``.field`` (``\\.`` escapes a dot in a key);
``..field`` (recursive descent); ``[*]``, ``[n]``, ``[-1]``, slices ``[a:b:c]``;
unions ``[a,b]`` and ``['key']``; filters ``[?(@.type=="Ready")]`` with
``== != < > <= >=`` or a bare path (exists); ``{range ...}...{end}``; and
string literals ``{"\\n"}``. Results are printed as the Go library prints them:
strings raw, numbers and booleans as text, maps and lists as compact JSON,
several results of one action separated by a space.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any


class JSONPathError(ValueError):
    """A template that does not parse or cannot be evaluated."""


_MISSING = object()


@dataclass
class _Step:
    kind: str                       # field, recursive, index, slice, wildcard, union, filter
    name: str = ""
    indices: list[Any] = field(default_factory=list)
    filter: tuple[list["_Step"], str, Any] | None = None


@dataclass
class _Action:
    steps: list[_Step]
    source: str


@dataclass
class _Range:
    steps: list[_Step]
    body: list[Any]


# -- parsing ------------------------------------------------------------------

def _split_template(template: str) -> list[tuple[str, str]]:
    """``[("text", ...), ("action", ...)]``: literal text and the insides of ``{...}``."""
    parts: list[tuple[str, str]] = []
    index = 0
    while index < len(template):
        start = template.find("{", index)
        if start < 0:
            parts.append(("text", template[index:]))
            break
        if start > index:
            parts.append(("text", template[index:start]))
        depth, cursor, quote = 0, start, ""
        while cursor < len(template):
            char = template[cursor]
            if quote:
                if char == "\\":
                    cursor += 1
                elif char == quote:
                    quote = ""
            elif char in "\"'":
                quote = char
            elif char == "{":
                depth += 1
            elif char == "}":
                depth -= 1
                if depth == 0:
                    break
            cursor += 1
        if cursor >= len(template):
            raise JSONPathError("unclosed action")
        parts.append(("action", template[start + 1:cursor].strip()))
        index = cursor + 1
    return parts


def _parse_literal(text: str) -> str:
    try:
        return json.loads(text) if text.startswith('"') else text[1:-1]
    except json.JSONDecodeError:
        raise JSONPathError(f"invalid string literal {text}") from None


def _parse_value(text: str) -> Any:
    text = text.strip()
    if text[:1] in "\"'":
        return _parse_literal(text) if text[:1] == '"' else text[1:-1]
    if re.fullmatch(r"-?\d+", text):
        return int(text)
    try:
        return float(text)
    except ValueError:
        pass
    if text in ("true", "false"):
        return text == "true"
    return _parse_path(text)


def _parse_path(text: str) -> list[_Step]:
    """The steps of one path expression (``$.items[*].metadata.name``)."""
    steps: list[_Step] = []
    index = 0
    if text[:1] in "$@":
        index = 1
    while index < len(text):
        char = text[index]
        if text.startswith("..", index):
            index += 2
            name, index = _read_name(text, index)
            steps.append(_Step("recursive", name))
        elif char == ".":
            index += 1
            if index < len(text) and text[index] == "[":
                continue
            name, index = _read_name(text, index)
            if name == "*":
                steps.append(_Step("wildcard"))
            elif name:
                steps.append(_Step("field", name))
        elif char == "[":
            end = _matching_bracket(text, index)
            steps.append(_parse_bracket(text[index + 1:end]))
            index = end + 1
        elif char.isspace():
            index += 1
        else:
            name, index = _read_name(text, index)
            if not name:
                raise JSONPathError(f"unrecognized character in action: {char!r}")
            steps.append(_Step("field", name))
    return steps


def _read_name(text: str, index: int) -> tuple[str, int]:
    chars = []
    while index < len(text):
        char = text[index]
        if char == "\\" and index + 1 < len(text):
            chars.append(text[index + 1])
            index += 2
            continue
        if char in ".[" or char.isspace():
            break
        chars.append(char)
        index += 1
    return "".join(chars), index


def _matching_bracket(text: str, start: int) -> int:
    depth, quote = 0, ""
    for index in range(start, len(text)):
        char = text[index]
        if quote:
            if char == quote:
                quote = ""
        elif char in "\"'":
            quote = char
        elif char == "[":
            depth += 1
        elif char == "]":
            depth -= 1
            if depth == 0:
                return index
    raise JSONPathError("unterminated array")


def _parse_bracket(inner: str) -> _Step:
    inner = inner.strip()
    if inner == "*":
        return _Step("wildcard")
    if inner.startswith("?(") and inner.endswith(")"):
        condition = inner[2:-1].strip()
        match = re.match(r"^(.*?)\s*(==|!=|<=|>=|<|>)\s*(.*)$", condition)
        if match:
            return _Step("filter", filter=(_parse_path(match.group(1).strip()), match.group(2),
                                           _parse_value(match.group(3))))
        return _Step("filter", filter=(_parse_path(condition), "exists", None))
    if ":" in inner and inner[:1] not in "\"'":
        parts = inner.split(":")
        if len(parts) > 3:
            raise JSONPathError(f"invalid slice {inner}")
        numbers = [int(p) if p.strip() else None for p in parts] + [None] * (3 - len(parts))
        return _Step("slice", indices=numbers)
    pieces = [piece.strip() for piece in inner.split(",")]
    values: list[Any] = []
    for piece in pieces:
        if piece[:1] in "\"'":
            values.append(piece[1:-1])
        else:
            try:
                values.append(int(piece))
            except ValueError:
                raise JSONPathError(f"invalid array index {piece}") from None
    if len(values) == 1 and isinstance(values[0], int):
        return _Step("index", indices=values)
    return _Step("union", indices=values)


def _parse_template(template: str) -> list[Any]:
    nodes: list[Any] = []
    stack: list[list[Any]] = [nodes]
    for kind, content in _split_template(template):
        if kind == "text":
            stack[-1].append(content)
        elif content == "end":
            if len(stack) == 1:
                raise JSONPathError("not in range, nothing to end")
            stack.pop()
        elif content.startswith("range ") or content == "range":
            block = _Range(_parse_path(content[5:].strip()), [])
            stack[-1].append(block)
            stack.append(block.body)
        elif content[:1] in "\"'":
            stack[-1].append(_parse_literal(content))
        else:
            stack[-1].append(_Action(_parse_path(content), content))
    if len(stack) != 1:
        raise JSONPathError("unclosed range")
    return nodes


# -- evaluation ---------------------------------------------------------------

def _descend(value: Any) -> list[Any]:
    """``value`` and everything under it, depth first (for ``..``)."""
    found = [value]
    if isinstance(value, dict):
        for key in value:
            found.extend(_descend(value[key]))
    elif isinstance(value, list):
        for item in value:
            found.extend(_descend(item))
    return found


def _compare(left: Any, operator: str, right: Any) -> bool:
    if operator == "==":
        return left == right
    if operator == "!=":
        return left != right
    try:
        return {"<": left < right, ">": left > right, "<=": left <= right, ">=": left >= right}[operator]
    except TypeError:
        return False


def _apply(step: _Step, values: list[Any], root: Any, allow_missing: bool) -> list[Any]:
    out: list[Any] = []
    for value in values:
        if step.kind == "field":
            if isinstance(value, dict):
                if step.name in value:
                    out.append(value[step.name])
                elif not allow_missing:
                    raise JSONPathError(f"{step.name} is not found")
            elif not allow_missing:
                raise JSONPathError(f"{step.name} is not found")
        elif step.kind == "recursive":
            for item in _descend(value):
                if isinstance(item, dict) and step.name in item:
                    out.append(item[step.name])
        elif step.kind == "wildcard":
            if isinstance(value, dict):
                out.extend(value[key] for key in sorted(value))
            elif isinstance(value, list):
                out.extend(value)
        elif step.kind == "index":
            if isinstance(value, list):
                position = step.indices[0]
                if -len(value) <= position < len(value):
                    out.append(value[position])
                elif not allow_missing:
                    raise JSONPathError(f"array index out of bounds: index {position}, length {len(value)}")
        elif step.kind == "slice":
            if isinstance(value, list):
                start, stop, stride = step.indices
                out.extend(value[slice(start, stop, stride)])
        elif step.kind == "union":
            for key in step.indices:
                if isinstance(key, int) and isinstance(value, list) and -len(value) <= key < len(value):
                    out.append(value[key])
                elif isinstance(key, str) and isinstance(value, dict) and key in value:
                    out.append(value[key])
        elif step.kind == "filter" and step.filter is not None:
            path, operator, expected = step.filter
            items = value if isinstance(value, list) else list(value.values()) if isinstance(value, dict) else []
            for item in items:
                found = _evaluate(path, item, root, True)
                if operator == "exists":
                    if found:
                        out.append(item)
                    continue
                right = _evaluate(expected, item, root, True) if isinstance(expected, list) else [expected]
                if found and right and _compare(found[0], operator, right[0]):
                    out.append(item)
    return out


def _evaluate(steps: list[_Step], current: Any, root: Any, allow_missing: bool) -> list[Any]:
    values = [current]
    for step in steps:
        values = _apply(step, values, root, allow_missing)
    return values


def _text(value: Any) -> str:
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False, sort_keys=True)
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "<nil>"
    return str(value)


def _run(nodes: list[Any], current: Any, root: Any, allow_missing: bool, out: list[str]) -> None:
    for node in nodes:
        if isinstance(node, str):
            out.append(node)
        elif isinstance(node, _Action):
            out.append(" ".join(_text(value) for value in _evaluate(node.steps, current, root, allow_missing)))
        elif isinstance(node, _Range):
            for item in _evaluate(node.steps, current, root, allow_missing):
                _run(node.body, item, root, allow_missing, out)


def render(template: str, data: Any, allow_missing: bool = True) -> str:
    """What ``kubectl get -o jsonpath=TEMPLATE`` prints for ``data``."""
    nodes = _parse_template(template)
    out: list[str] = []
    _run(nodes, data, data, allow_missing, out)
    return "".join(out)


def find_results(expression: str, data: Any) -> list[Any]:
    """The values one path expression (with or without braces) selects, missing keys allowed."""
    text = expression.strip()
    if text.startswith("{") and text.endswith("}"):
        text = text[1:-1]
    return _evaluate(_parse_path(text), data, data, True)


def relaxed(expression: str) -> str:
    """``RelaxedJSONPathExpression``: accept ``.a.b``, ``a.b`` and ``{.a.b}`` alike."""
    text = expression.strip()
    if text.startswith("{") and text.endswith("}"):
        text = text[1:-1]
    if not text.startswith(".") and not text.startswith("$"):
        text = "." + text
    return "{" + text + "}"


def validate(template: str) -> None:
    """Raise ``JSONPathError`` when ``template`` does not parse."""
    _parse_template(template)
