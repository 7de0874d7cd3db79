"""Label and field selectors, as ``k8s.io/apimachinery/pkg/labels`` and ``pkg/fields`` define them.

Label selectors choose objects by their labels: a ReplicaSet's pods, a
Service's endpoints, ``kubectl get pods -l app=web``. Two spellings exist and
both are handled here:

- the string form, parsed exactly as ``labels.Parse`` parses it (``a=b``,
  ``a==b``, ``a!=b``, ``a in (b,c)``, ``a notin (b)``, ``a``, ``!a``, ``a>1``,
  ``a<1``; commas mean AND; spaces are ignored), with Go's error messages;
- the ``LabelSelector`` object of the API (``matchLabels`` and
  ``matchExpressions`` with ``In``, ``NotIn``, ``Exists``, ``DoesNotExist``),
  converted as ``metav1.LabelSelectorAsSelector`` converts it.

Both give a ``LabelSelector`` (requirements sorted by key) whose ``str()`` is
the canonical string Kubernetes prints. Two special selectors matter:
``EVERYTHING`` (an empty selector: ``{}`` in a manifest, ``""`` on the command
line) selects every object, while ``NOTHING`` (a *missing* selector, Go's nil,
``from_label_selector(None)``) selects none. So a Deployment with no selector
selects nothing (validation rejects it anyway), a NetworkPolicy's
``podSelector: {}`` selects every pod of its namespace, and a Service without a
``selector`` gets no endpoints from the endpoints controller.

Field selectors (``kubectl get pods --field-selector spec.nodeName=node-1``)
compare fields of an object: ``=``, ``==`` and ``!=`` joined by commas, with
backslash escapes in values as ``fields.ParseSelector`` has them. Each kind
supports only some fields; ``SUPPORTED_FIELDS`` is the real table from the API
server's field label conversion functions, and ``convert_field_selector``
rejects the rest with the real ``field label not supported: <field>``.
``selectable_fields(obj)`` computes the strings a selector is matched against,
as each registry's ``GetAttrs`` does.

Errors are ``SelectorError`` (a ``ValueError``) carrying Go's message text.
Nothing here reads or changes an object: it is all pure functions of plain data.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping

__all__ = [
    "EVERYTHING", "NOTHING", "FieldSelector", "LabelSelector", "Requirement", "SelectorError",
    "SUPPORTED_FIELDS", "convert_field_selector", "field_value", "format_label_selector",
    "from_label_selector", "from_set", "is_label_key", "is_label_value", "matches_fields",
    "new_requirement", "parse", "parse_field_selector", "selectable_fields",
]


class SelectorError(ValueError):
    """A selector that Kubernetes would reject; the message is the API server's."""


# -- label keys and values (k8s.io/apimachinery/pkg/api/validate/content) ---

_LABEL_KEY_FMT = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
_LABEL_KEY_RE = re.compile("^" + _LABEL_KEY_FMT + "$")
_LABEL_VALUE_FMT = "(" + _LABEL_KEY_FMT + ")?"
_LABEL_VALUE_RE = re.compile("^" + _LABEL_VALUE_FMT + "$")
_DNS1123_LABEL_FMT = "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_DNS1123_SUBDOMAIN_FMT = _DNS1123_LABEL_FMT + "(\\." + _DNS1123_LABEL_FMT + ")*"
_DNS1123_SUBDOMAIN_RE = re.compile("^" + _DNS1123_SUBDOMAIN_FMT + "$")
_LABEL_KEY_MSG = "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character"
_LABEL_VALUE_MSG = ("a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', "
                    "and must start and end with an alphanumeric character")
_SUBDOMAIN_MSG = ("a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', "
                  "and must start and end with an alphanumeric character")


def regex_error(msg: str, fmt: str, *examples: str) -> str:
    """Go's validation.RegexError: the message, examples, and the regex used."""
    if not examples:
        return f"{msg} (regex used for validation is '{fmt}')"
    return msg + " (e.g. " + "".join(("" if i == 0 else " or ") + f"'{e}', " for i, e in enumerate(examples)) + \
        f"regex used for validation is '{fmt}')"


def is_dns1123_subdomain(value: str) -> list[str]:
    errs = []
    if len(value) > 253:
        errs.append("must be no more than 253 characters")
    if not _DNS1123_SUBDOMAIN_RE.match(value):
        errs.append(regex_error(_SUBDOMAIN_MSG, _DNS1123_SUBDOMAIN_FMT, "example.com"))
    return errs


def is_label_key(value: str) -> list[str]:
    """The problems with a label key (a "qualified name"), as content.IsLabelKey words them."""
    errs: list[str] = []
    parts = value.split("/")
    if len(parts) == 1:
        name = parts[0]
    elif len(parts) == 2:
        prefix, name = parts
        if not prefix:
            errs.append("prefix part must be non-empty")
        else:
            errs.extend("prefix part " + m for m in is_dns1123_subdomain(prefix))
    else:
        return ["a valid label key " + regex_error(_LABEL_KEY_MSG, _LABEL_KEY_FMT, "MyName", "my.name", "123-abc")
                + " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"]
    if not name:
        errs.append("name part must be non-empty")
    elif len(name) > 63:
        errs.append("name part must be no more than 63 characters")
    if not _LABEL_KEY_RE.match(name):
        errs.append("name part " + regex_error(_LABEL_KEY_MSG, _LABEL_KEY_FMT, "MyName", "my.name", "123-abc"))
    return errs


def is_label_value(value: str) -> list[str]:
    """The problems with a label value, as content.IsLabelValue words them."""
    errs = []
    if len(value) > 63:
        errs.append("must be no more than 63 characters")
    if not _LABEL_VALUE_RE.match(value):
        errs.append(regex_error(_LABEL_VALUE_MSG, _LABEL_VALUE_FMT, "MyValue", "my_value", "12345"))
    return errs


def go_quote(s: str) -> str:
    """A string as Go's %q prints it."""
    out = ['"']
    for ch in s:
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ch == "\r":
            out.append("\\r")
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\x{ord(ch):02x}")
        elif not ch.isprintable():
            out.append(f"\\u{ord(ch):04x}" if ord(ch) <= 0xFFFF else f"\\U{ord(ch):08x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def _go_string_slice(values: Iterable[str] | None) -> str:
    if values is None:
        return "[]string(nil)"
    return "[]string{" + ", ".join(go_quote(v) for v in values) + "}"


# -- requirements ------------------------------------------------------------

IN, NOT_IN, EQUALS, DOUBLE_EQUALS, NOT_EQUALS = "in", "notin", "=", "==", "!="
EXISTS, DOES_NOT_EXIST, GREATER_THAN, LESS_THAN = "exists", "!", "gt", "lt"
_BINARY_OPERATORS = (IN, NOT_IN, EQUALS, DOUBLE_EQUALS, NOT_EQUALS, GREATER_THAN, LESS_THAN)
_UNARY_OPERATORS = (EXISTS, DOES_NOT_EXIST)
_INT_RE = re.compile(r"^[+-]?[0-9]+$")


def _parse_int64(s: str) -> int | None:
    if not _INT_RE.match(s):
        return None
    value = int(s)
    return value if -2**63 <= value < 2**63 else None


@dataclass(frozen=True)
class Requirement:
    """One condition on one label key (Go: ``labels.Requirement``); build it with ``new_requirement``."""

    key: str
    operator: str
    values: tuple[str, ...] = ()

    def matches(self, labels: Mapping[str, str]) -> bool:
        op = self.operator
        if op in (IN, EQUALS, DOUBLE_EQUALS):
            return self.key in labels and labels[self.key] in self.values
        if op in (NOT_IN, NOT_EQUALS):
            return self.key not in labels or labels[self.key] not in self.values
        if op == EXISTS:
            return self.key in labels
        if op == DOES_NOT_EXIST:
            return self.key not in labels
        if op in (GREATER_THAN, LESS_THAN):
            if self.key not in labels or len(self.values) != 1:
                return False
            have, want = _parse_int64(labels[self.key]), _parse_int64(self.values[0])
            if have is None or want is None:
                return False
            return have > want if op == GREATER_THAN else have < want
        return False

    def __str__(self) -> str:
        text = ("!" if self.operator == DOES_NOT_EXIST else "") + self.key
        if self.operator in _UNARY_OPERATORS:
            return text
        text += {EQUALS: "=", DOUBLE_EQUALS: "==", NOT_EQUALS: "!=", IN: " in ", NOT_IN: " notin ",
                 GREATER_THAN: ">", LESS_THAN: "<"}[self.operator]
        values = self.values[0] if len(self.values) == 1 else ",".join(sorted(self.values))
        return f"{text}({values})" if self.operator in (IN, NOT_IN) else text + values


def _field_error(path: str | None, value_text: str, detail: str) -> str:
    return f"{'<nil>' if path is None else path}: Invalid value: {value_text}: {detail}"


def _key_error(key: str, path: str | None) -> str | None:
    errs = is_label_key(key)
    return _field_error(path, go_quote(key), "; ".join(errs)) if errs else None


def new_requirement(key: str, operator: str, values: Iterable[str] | None = None) -> Requirement:
    """A validated requirement (Go: ``labels.NewRequirement``); raises ``SelectorError`` as Go errors."""
    vals = None if values is None else list(values)
    n = len(vals or ())
    errors: list[str] = []
    if (e := _key_error(key, "key")) is not None:
        errors.append(e)
    if operator in (IN, NOT_IN):
        if n == 0:
            errors.append(_field_error("values", _go_string_slice(vals),
                                       "for 'in', 'notin' operators, values set can't be empty"))
    elif operator in (EQUALS, DOUBLE_EQUALS, NOT_EQUALS):
        if n != 1:
            errors.append(_field_error("values", _go_string_slice(vals), "exact-match compatibility requires one single value"))
    elif operator in _UNARY_OPERATORS:
        if n != 0:
            errors.append(_field_error("values", _go_string_slice(vals), "values set must be empty for exists and does not exist"))
    elif operator in (GREATER_THAN, LESS_THAN):
        if n != 1:
            errors.append(_field_error("values", _go_string_slice(vals), "for 'Gt', 'Lt' operators, exactly one value is required"))
        for i, v in enumerate(vals or ()):
            if _parse_int64(v) is None:
                errors.append(_field_error(f"values[{i}]", go_quote(v), "for 'Gt', 'Lt' operators, the value must be an integer"))
    else:
        supported = ", ".join(go_quote(op) for op in _BINARY_OPERATORS + _UNARY_OPERATORS)
        errors.append(f"operator: Unsupported value: {go_quote(operator)}: supported values: {supported}")
    for i, v in enumerate(vals or ()):
        if errs := is_label_value(v):
            errors.append(_field_error(f"values[{i}][{key}]", go_quote(v), "; ".join(errs)))
    if errors:
        unique = list(dict.fromkeys(errors))  # an aggregate drops repeated messages
        raise SelectorError(unique[0] if len(unique) == 1 else "[" + ", ".join(unique) + "]")
    return Requirement(key, operator, tuple(vals or ()))


# -- selectors ---------------------------------------------------------------

@dataclass(frozen=True)
class LabelSelector:
    """An AND of requirements, sorted by key (Go: ``labels.Selector``). Empty selects everything."""

    requirements: tuple[Requirement, ...] = ()
    selects_nothing: bool = field(default=False, repr=False)

    @property
    def empty(self) -> bool:
        """True when the selector does not restrict anything (Go: ``Empty()``); false for ``NOTHING``."""
        return not self.selects_nothing and not self.requirements

    def matches(self, labels: Mapping[str, str] | None) -> bool:
        if self.selects_nothing:
            return False
        labels = labels or {}
        return all(r.matches(labels) for r in self.requirements)

    def add(self, *requirements: Requirement) -> "LabelSelector":
        if self.selects_nothing:
            return self
        return LabelSelector(tuple(sorted(self.requirements + requirements, key=lambda r: r.key)))

    def requires_exact_match(self, label: str) -> str | None:
        """The one value the selector requires for ``label``, if it requires exactly one."""
        for r in self.requirements:
            if r.key == label:
                if r.operator in (EQUALS, DOUBLE_EQUALS, IN) and len(r.values) == 1:
                    return r.values[0]
                return None
        return None

    def __str__(self) -> str:
        return ",".join(str(r) for r in self.requirements)


EVERYTHING = LabelSelector()
NOTHING = LabelSelector(selects_nothing=True)


def from_set(labels: Mapping[str, str] | None) -> LabelSelector:
    """``key=value`` for every entry, unvalidated (Go: ``labels.SelectorFromSet``); empty selects everything."""
    if not labels:
        return EVERYTHING
    return LabelSelector(tuple(Requirement(k, EQUALS, (v,)) for k, v in sorted(labels.items())))


_API_OPERATORS = {"In": IN, "NotIn": NOT_IN, "Exists": EXISTS, "DoesNotExist": DOES_NOT_EXIST}


def from_label_selector(selector: Mapping[str, Any] | None) -> LabelSelector:
    """The selector an API ``LabelSelector`` means (Go: ``metav1.LabelSelectorAsSelector``).

    ``None`` (a missing selector) selects nothing; ``{}`` selects everything.
    """
    if selector is None:
        return NOTHING
    match_labels = selector.get("matchLabels") or {}
    expressions = selector.get("matchExpressions") or []
    if not match_labels and not expressions:
        return EVERYTHING
    if not isinstance(match_labels, dict) or not isinstance(expressions, list):
        raise SelectorError("a LabelSelector has a map of matchLabels and a list of matchExpressions")
    requirements = []
    for k, v in sorted(match_labels.items()):
        if not isinstance(v, str):
            raise SelectorError(f"matchLabels[{k}] must be a string, not {v!r}")
        requirements.append(new_requirement(k, EQUALS, [v]))
    for expr in expressions:
        if not isinstance(expr, dict):
            raise SelectorError(f"a matchExpressions entry must be a map, not {expr!r}")
        op = _API_OPERATORS.get(expr.get("operator"))
        if op is None:
            raise SelectorError(f"{go_quote(str(expr.get('operator', '')))} is not a valid pod selector operator")
        values = expr.get("values")
        if not isinstance(expr.get("key", ""), str) or not (
                values is None or (isinstance(values, list) and all(isinstance(v, str) for v in values))):
            raise SelectorError(f"a matchExpressions entry has a string key and a list of string values, not {expr!r}")
        # Go copies the values with append([]string(nil), ...): no values at all is nil.
        requirements.append(new_requirement(expr.get("key", ""), op, list(values) if values else None))
    return EVERYTHING.add(*requirements)


def format_label_selector(selector: Mapping[str, Any] | None) -> str:
    """How kubectl describe prints a LabelSelector (Go: ``metav1.FormatLabelSelector``)."""
    try:
        text = str(from_label_selector(selector))
    except SelectorError:
        return "<error>"
    return text or "<none>"


# -- the string form: labels.Parse -------------------------------------------

_ERROR, _END, _CLOSE, _COMMA, _NOT, _DOUBLE_EQUALS, _EQUALS, _GT, _IDENT, _IN, _LT, _NOT_EQUALS, _NOT_IN, _OPEN = range(14)
_STRING_TO_TOKEN = {")": _CLOSE, ",": _COMMA, "!": _NOT, "==": _DOUBLE_EQUALS, "=": _EQUALS, ">": _GT, "in": _IN,
                    "<": _LT, "!=": _NOT_EQUALS, "notin": _NOT_IN, "(": _OPEN}
_SPECIAL = frozenset("=!(),><")
_WHITESPACE = frozenset(" \t\r\n")


def _lex(s: str) -> list[tuple[int, str]]:
    items: list[tuple[int, str]] = []
    pos, end = 0, len(s)
    while True:
        while pos < end and s[pos] in _WHITESPACE:
            pos += 1
        if pos >= end:
            items.append((_END, ""))
            return items
        if s[pos] in _SPECIAL:
            buffer, last = "", None
            while pos < end and s[pos] in _SPECIAL:
                buffer += s[pos]
                if buffer in _STRING_TO_TOKEN:
                    last = (_STRING_TO_TOKEN[buffer], buffer)
                    pos += 1
                elif last is not None:
                    break
                else:
                    pos += 1
            items.append(last if last is not None else (_ERROR, f"error expected: keyword found '{buffer}'"))
        else:
            start = pos
            while pos < end and s[pos] not in _SPECIAL and s[pos] not in _WHITESPACE:
                pos += 1
            word = s[start:pos]
            items.append((_STRING_TO_TOKEN.get(word, _IDENT), word))


class _Parser:
    def __init__(self, s: str) -> None:
        self.items = _lex(s)
        self.position = 0

    def lookahead(self, values: bool) -> tuple[int, str]:
        tok, lit = self.items[self.position]
        return (_IDENT, lit) if values and tok in (_IN, _NOT_IN) else (tok, lit)

    def consume(self, values: bool) -> tuple[int, str]:
        result = self.lookahead(values)
        self.position += 1
        return result

    def parse(self) -> list[Requirement]:
        requirements: list[Requirement] = []
        while True:
            tok, lit = self.lookahead(True)
            if tok in (_IDENT, _NOT):
                try:
                    requirements.append(self.requirement())
                except SelectorError as err:
                    raise SelectorError(f"unable to parse requirement: {err}") from None
                t, l = self.consume(True)
                if t == _END:
                    return requirements
                if t == _COMMA:
                    t2, l2 = self.lookahead(True)
                    if t2 not in (_IDENT, _NOT):
                        raise SelectorError(f"found '{l2}', expected: identifier after ','")
                else:
                    raise SelectorError(f"found '{l}', expected: ',' or 'end of string'")
            elif tok == _END:
                return requirements
            else:
                raise SelectorError(f"found '{lit}', expected: !, identifier, or 'end of string'")

    def requirement(self) -> Requirement:
        operator = None
        tok, key = self.consume(True)
        if tok == _NOT:
            operator = DOES_NOT_EXIST
            tok, key = self.consume(True)
        if tok != _IDENT:
            raise SelectorError(f"found '{key}', expected: identifier")
        if (e := _key_error(key, None)) is not None:
            raise SelectorError(e)
        if self.lookahead(True)[0] in (_END, _COMMA) and operator != DOES_NOT_EXIST:
            operator = EXISTS
        if operator in (EXISTS, DOES_NOT_EXIST):
            return new_requirement(key, operator, [])
        tok, lit = self.consume(False)
        operator = {_IN: IN, _EQUALS: EQUALS, _DOUBLE_EQUALS: DOUBLE_EQUALS, _GT: GREATER_THAN, _LT: LESS_THAN,
                    _NOT_IN: NOT_IN, _NOT_EQUALS: NOT_EQUALS}.get(tok)
        if operator is None:
            raise SelectorError(f"found '{lit}', expected: {', '.join(_BINARY_OPERATORS)}")
        values = self.set_values() if operator in (IN, NOT_IN) else self.exact_value()
        return new_requirement(key, operator, sorted(values))

    def exact_value(self) -> set[str]:
        if self.lookahead(True)[0] in (_END, _COMMA):
            return {""}
        tok, lit = self.consume(True)
        if tok == _IDENT:
            return {lit}
        raise SelectorError(f"found '{lit}', expected: identifier")

    def set_values(self) -> set[str]:
        tok, lit = self.consume(True)
        if tok != _OPEN:
            raise SelectorError(f"found '{lit}' expected: '('")
        tok, lit = self.lookahead(True)
        if tok in (_IDENT, _COMMA):
            values = self.identifiers()
            if self.consume(True)[0] != _CLOSE:
                raise SelectorError(f"found '{lit}', expected: ')'")
            return values
        if tok == _CLOSE:
            self.consume(True)
            return {""}
        raise SelectorError(f"found '{lit}', expected: ',', ')' or identifier")

    def identifiers(self) -> set[str]:
        values: set[str] = set()
        while True:
            tok, lit = self.consume(True)
            if tok == _IDENT:
                values.add(lit)
                tok2, lit2 = self.lookahead(True)
                if tok2 == _COMMA:
                    continue
                if tok2 == _CLOSE:
                    return values
                raise SelectorError(f"found '{lit2}', expected: ',' or ')'")
            if tok == _COMMA:
                if not values:
                    values.add("")  # "(,"
                tok2 = self.lookahead(True)[0]
                if tok2 == _CLOSE:
                    values.add("")  # ",)"
                    return values
                if tok2 == _COMMA:
                    values.add("")  # ",,"
            else:
                raise SelectorError(f"found '{lit}', expected: ',', or identifier")


def parse(selector: str) -> LabelSelector:
    """A label selector from its string form (Go: ``labels.Parse``). ``""`` selects everything."""
    requirements = _Parser(selector).parse()
    return LabelSelector(tuple(sorted(requirements, key=lambda r: r.key)))


# -- field selectors -----------------------------------------------------------

def _escape_value(value: str) -> str:
    return value.replace("\\", "\\\\").replace(",", "\\,").replace("=", "\\=")


def _unescape_value(value: str) -> str:
    if not any(c in value for c in "\\,="):
        return value
    out, in_slash = [], False
    for c in value:
        if in_slash:
            if c not in "\\,=":
                raise SelectorError(f"invalid field selector: invalid escape sequence: \\{c}")
            out.append(c)
            in_slash = False
        elif c == "\\":
            in_slash = True
        elif c in ",=":
            raise SelectorError(f"invalid field selector: unescaped character in value: {ord(c)}")
        else:
            out.append(c)
    if in_slash:
        raise SelectorError("invalid field selector: invalid escape sequence: \\")
    return "".join(out)


def _split_terms(selector: str) -> list[str]:
    if not selector:
        return []
    terms, start, in_slash = [], 0, False
    for i, c in enumerate(selector):
        if in_slash:
            in_slash = False
        elif c == "\\":
            in_slash = True
        elif c == ",":
            terms.append(selector[start:i])
            start = i + 1
    terms.append(selector[start:])
    return terms


@dataclass(frozen=True)
class FieldSelector:
    """An AND of ``field=value`` / ``field!=value`` terms (Go: ``fields.Selector``)."""

    terms: tuple[tuple[str, str, str], ...] = ()  # (field, "=" or "!=", value)

    @property
    def empty(self) -> bool:
        return not self.terms

    def matches(self, fields: Mapping[str, str]) -> bool:
        """True when every term holds; a field missing from ``fields`` reads as ``""``."""
        for name, op, value in self.terms:
            have = fields.get(name, "")
            if (have == value) != (op == "="):
                return False
        return True

    def requires_exact_match(self, name: str) -> str | None:
        for field_name, op, value in self.terms:
            if field_name == name and op == "=":
                return value
        return None

    def transform(self, fn: Callable[[str, str], tuple[str, str]]) -> "FieldSelector":
        terms = []
        for name, op, value in self.terms:
            new_name, new_value = fn(name, value)
            terms.append((new_name, op, new_value))
        return FieldSelector(tuple(terms))

    def __str__(self) -> str:
        return ",".join(f"{name}{op}{_escape_value(value)}" for name, op, value in self.terms)


def parse_field_selector(selector: str) -> FieldSelector:
    """A field selector from its string form (Go: ``fields.ParseSelector``). ``""`` selects everything."""
    terms = []
    for part in sorted(_split_terms(selector)):
        if not part:
            continue
        for i in range(len(part)):
            op = next((o for o in ("!=", "==", "=") if part.startswith(o, i)), None)
            if op is not None:
                name, rhs = part[:i], part[i + len(op):]
                break
        else:
            raise SelectorError(f"invalid selector: '{selector}'; can't understand '{part}'")
        terms.append((name, "!=" if op == "!=" else "=", _unescape_value(rhs)))
    return FieldSelector(tuple(terms))


# Which field labels each kind accepts: the API server's field label conversion
# functions (pkg/apis/core/v1/conversion.go, apps/v1, batch/v1). Kinds not listed
# accept metadata.name and metadata.namespace (runtime.DefaultMetaV1FieldSelectorConversion).
_META = ("metadata.name", "metadata.namespace")
SUPPORTED_FIELDS: dict[str, tuple[str, ...]] = {
    "Pod": _META + ("spec.nodeName", "spec.restartPolicy", "spec.schedulerName", "spec.serviceAccountName",
                    "spec.hostNetwork", "status.phase", "status.podIP", "status.podIPs", "status.nominatedNodeName"),
    "Node": ("metadata.name", "spec.unschedulable"),
    "Namespace": ("status.phase", "metadata.name"),
    "Event": ("involvedObject.kind", "involvedObject.namespace", "involvedObject.name", "involvedObject.uid",
              "involvedObject.apiVersion", "involvedObject.resourceVersion", "involvedObject.fieldPath",
              "reason", "reportingComponent", "source", "type") + _META,
    "Secret": ("type",) + _META,
    "Service": _META + ("spec.clusterIP", "spec.type"),
    "ReplicaSet": _META + ("status.replicas",),
    "ReplicationController": _META + ("status.replicas",),
    "Job": _META + ("status.successful",),
}
_FIELD_ALIASES = {("Pod", "spec.host"): "spec.nodeName"}  # for old v1 clients


def convert_field_selector(kind: str, selector: FieldSelector | str) -> FieldSelector:
    """Check a selector against what ``kind`` supports, as the API server does before listing.

    Raises ``SelectorError("field label not supported: <field>")`` for any other field.
    """
    if isinstance(selector, str):
        selector = parse_field_selector(selector)
    supported = SUPPORTED_FIELDS.get(kind, _META)

    def convert(name: str, value: str) -> tuple[str, str]:
        name = _FIELD_ALIASES.get((kind, name), name)
        if name not in supported:
            raise SelectorError(f"field label not supported: {name}")
        return name, value
    return selector.transform(convert)


def field_value(obj: Mapping[str, Any], path: str) -> str:
    """The string a field selector compares: ``field_value(pod, "spec.nodeName")``.

    Missing fields read as ``""``, booleans as ``true``/``false``, numbers in decimal.
    """
    value: Any = obj
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return ""
        value = value[part]
    return field_text(value)


def field_text(value: object) -> str:
    """A field's value as a field selector spells it: null as ``""``, booleans as ``true``/``false``, numbers
    in decimal, anything else (an object, a list) as ``""``."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float, str)):
        return str(value)
    return ""


def selectable_fields(obj: Mapping[str, Any], namespaced: bool | None = None) -> dict[str, str]:
    """The fields a selector can match on ``obj``, computed as the kind's registry ``GetAttrs`` does."""
    kind = obj.get("kind", "")
    metadata = obj.get("metadata") or {}
    if namespaced is None:
        namespaced = kind not in ("Node", "Namespace", "PersistentVolume", "StorageClass", "ClusterRole",
                                  "ClusterRoleBinding")
    fields = {"metadata.name": str(metadata.get("name", "") or "")}
    if namespaced:
        fields["metadata.namespace"] = str(metadata.get("namespace", "") or "")
    if kind == "Pod":
        pod_ips = (obj.get("status") or {}).get("podIPs") or []
        pod_ip = pod_ips[0].get("ip", "") if pod_ips and isinstance(pod_ips[0], dict) else \
            field_value(obj, "status.podIP")
        fields.update({
            "spec.nodeName": field_value(obj, "spec.nodeName"),
            "spec.restartPolicy": field_value(obj, "spec.restartPolicy"),
            "spec.schedulerName": field_value(obj, "spec.schedulerName"),
            "spec.serviceAccountName": field_value(obj, "spec.serviceAccountName"),
            "spec.hostNetwork": "true" if (obj.get("spec") or {}).get("hostNetwork") else "false",
            "status.phase": field_value(obj, "status.phase"),
            "status.podIP": pod_ip,
            "status.nominatedNodeName": field_value(obj, "status.nominatedNodeName"),
        })
    elif kind == "Node":
        fields["spec.unschedulable"] = "true" if (obj.get("spec") or {}).get("unschedulable") else "false"
    elif kind == "Namespace":
        fields["status.phase"] = field_value(obj, "status.phase")
    elif kind == "Secret":
        fields["type"] = field_value(obj, "type")
    elif kind == "Service":
        fields["spec.clusterIP"] = field_value(obj, "spec.clusterIP")
        fields["spec.type"] = field_value(obj, "spec.type")
    elif kind in ("ReplicaSet", "ReplicationController"):
        fields["status.replicas"] = str(int((obj.get("status") or {}).get("replicas") or 0))
    elif kind == "Job":
        fields["status.successful"] = str(int((obj.get("status") or {}).get("succeeded") or 0))
    elif kind == "Event":
        for name in ("kind", "namespace", "name", "uid", "apiVersion", "resourceVersion", "fieldPath"):
            fields[f"involvedObject.{name}"] = field_value(obj, f"involvedObject.{name}")
        source = field_value(obj, "source.component") or field_value(obj, "reportingComponent")
        fields.update({"reason": field_value(obj, "reason"), "reportingComponent": field_value(obj, "reportingComponent"),
                       "source": source, "type": field_value(obj, "type")})
    return fields


def matches_fields(obj: Mapping[str, Any], selector: FieldSelector | str) -> bool:
    """True when ``obj`` satisfies the field selector (unsupported fields read as empty)."""
    if isinstance(selector, str):
        selector = parse_field_selector(selector)
    return selector.matches(selectable_fields(obj))
