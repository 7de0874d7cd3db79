"""Elasticsearch's mappings and analysis, the part a log store needs: how a JSON document's fields are indexed.

Dynamic mapping, as Elasticsearch does it for a field seen the first time: a string that parses as a date
(``strict_date_optional_time``: ``2025-01-01T00:00:05.000Z``) becomes a ``date``; any other string a ``text``
field (analyzed for full-text search) with a ``keyword`` sub-field ``<field>.keyword`` (the exact value,
``ignore_above: 256``), which is what ``term`` queries, sorting and ``terms`` aggregations use; an integer a
``long``, a float a ``float``, a boolean a ``boolean``; an object's fields are mapped under dotted paths
(``kubernetes.labels.app``). A value that does not fit its field's type is a ``document_parsing_exception``.

The ``standard`` analyzer turns text into lower-cased terms, splitting at what Unicode's word boundaries
(UAX #29) split: spaces, punctuation, ``-``, ``/``; a ``.`` or ``'`` between letters or digits stays in the term
(``index.html``, ``10.244.1.5``), an ``_`` joins. Terms remember their position, for phrase queries.
Dates are kept as epoch milliseconds; ``parse_date`` also takes date math (``now-15m``, ``now/d``) against
the engine's virtual clock. What it never does: keep documents (``index`` does).
"""

from __future__ import annotations

import datetime as _dt
import re
from typing import Any

from engine.api.meta import EPOCH

IGNORE_ABOVE = 256
MAX_TOKEN_LENGTH = 255
UNIX = _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc)
_TOKEN = re.compile(r"\w+(?:[.'’]\w+)*")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?)?(?:Z|[+-]\d{2}:?\d{2})?$")
_MATH = re.compile(r"([+-]\d+|/)([yMwdhHms])")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "H": 3600, "d": 86400, "w": 7 * 86400}


class MappingError(ValueError):
    """A value that does not fit its field (``document_parsing_exception``) or a bad date."""


def analyze(text: str) -> list[str]:
    """The standard analyzer: lower-cased terms in order (a term's index is its position)."""
    return [token.lower()[:MAX_TOKEN_LENGTH] for token in _TOKEN.findall(str(text))]


# -- dates ---------------------------------------------------------------------------------
def virtual_to_millis(now: float) -> int:
    """Virtual seconds (the engine's clock) as Unix epoch milliseconds."""
    return round(((EPOCH - UNIX).total_seconds() + now) * 1000)


def format_millis(millis: int) -> str:
    """``2025-01-01T00:00:05.000Z``: how Elasticsearch prints a date's ``key_as_string``."""
    moment = UNIX + _dt.timedelta(milliseconds=millis)
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + f".{millis % 1000:03d}Z"


def looks_like_date(text: str) -> bool:
    return bool(_DATE.match(text))


def parse_date(value: Any, now: float | None = None) -> int:
    """Epoch milliseconds from an ISO date, epoch millis, or date math (``now-1h``, ``now/d``)."""
    if isinstance(value, bool):
        raise MappingError(f"failed to parse date field [{value}]")
    if isinstance(value, (int, float)):
        return int(value)
    text = str(value).strip()
    if text.startswith("now"):
        if now is None:
            raise MappingError(f"failed to parse date field [{text}]: now is not available here")
        return _date_math(virtual_to_millis(now), text[3:])
    if "||" in text:
        base, math = text.split("||", 1)
        return _date_math(parse_date(base), math)
    if text.isdigit():
        return int(text)
    if not looks_like_date(text):
        raise MappingError(f"failed to parse date field [{text}] with format [strict_date_optional_time||"
                           "epoch_millis]")
    iso = text.replace(" ", "T").replace("Z", "+00:00")
    if "." in iso:       # Python takes at most 6 fractional digits
        head, _, rest = iso.partition(".")
        digits = re.match(r"\d*", rest).group(0)
        iso = f"{head}.{digits[:6].ljust(6, '0')}{rest[len(digits):]}"
    moment = _dt.datetime.fromisoformat(iso)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=_dt.timezone.utc)
    return round((moment - UNIX).total_seconds() * 1000)


def _date_math(millis: int, math: str) -> int:
    if _MATH.sub("", math):
        raise MappingError(f"failed to parse date math [{math}]")
    for operator, unit in _MATH.findall(math):
        if operator == "/":
            millis = _round_down(millis, unit)
        elif unit in ("y", "M"):
            moment = UNIX + _dt.timedelta(milliseconds=millis)
            months = moment.year * 12 + moment.month - 1 + int(operator) * (12 if unit == "y" else 1)
            moment = moment.replace(year=months // 12, month=months % 12 + 1)
            millis = round((moment - UNIX).total_seconds() * 1000)
        else:
            millis += int(operator) * _UNIT_SECONDS[unit] * 1000
    return millis


def _round_down(millis: int, unit: str) -> int:
    moment = UNIX + _dt.timedelta(milliseconds=millis)
    if unit in ("y", "M"):
        moment = moment.replace(month=1 if unit == "y" else moment.month, day=1, hour=0, minute=0, second=0,
                                microsecond=0)
        return round((moment - UNIX).total_seconds() * 1000)
    size = _UNIT_SECONDS[unit] * 1000
    if unit == "w":       # weeks start on Monday
        return millis - (millis - 4 * 86400 * 1000) % size
    return millis - millis % size


# -- dynamic mapping -----------------------------------------------------------------------
def flatten(source: dict, prefix: str = "") -> list[tuple[str, Any]]:
    """(dotted field, value) for every leaf of a document; each element of an array is a value of the field."""
    leaves: list[tuple[str, Any]] = []
    for key, value in source.items():
        path = f"{prefix}{key}"
        values = value if isinstance(value, list) else [value]
        for item in values:
            if isinstance(item, dict):
                leaves.extend(flatten(item, path + "."))
            elif item is not None:
                leaves.append((path, item))
    return leaves


def dynamic_type(value: Any) -> str:
    """The type Elasticsearch's dynamic mapping gives a new field from its first value."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "long"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str) and looks_like_date(value):
        return "date"
    return "text"


def coerce(field_type: str, value: Any, field: str) -> Any:
    """The value as the field's type indexes it (dates as epoch millis), or MappingError."""
    try:
        if field_type == "date":
            return parse_date(value)
        if field_type == "long":
            if isinstance(value, bool):
                raise ValueError(value)
            return int(value)
        if field_type == "float":
            return float(value)
        if field_type == "boolean":
            if isinstance(value, bool):
                return value
            if value in ("true", "false"):
                return value == "true"
            raise ValueError(value)
    except (ValueError, TypeError, MappingError):
        raise MappingError(f"failed to parse field [{field}] of type [{field_type}]") from None
    return str(value)


def properties(fields: dict[str, str]) -> dict:
    """The mapping as ``GET /<index>/_mapping`` shows it: nested ``properties``, text with its keyword."""
    root: dict = {}
    for field, field_type in sorted(fields.items()):
        if field.endswith(".keyword") and fields.get(field[:-len(".keyword")]) == "text":
            continue
        node = root
        parts = field.split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {"properties": {}})["properties"]
        entry: dict[str, Any] = {"type": field_type}
        if field_type == "text":
            entry["fields"] = {"keyword": {"type": "keyword", "ignore_above": IGNORE_ABOVE}}
        node[parts[-1]] = entry
    return root
