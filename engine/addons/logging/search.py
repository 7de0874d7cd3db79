"""A search request over indices: ``_search`` and ``_count`` bodies in, Elasticsearch's responses out.

``search(indices, body, now)`` runs ``query`` (``query.matches``) on every index, then:
    sort      ``_score`` (the default, highest first), a field (``"@timestamp"``, ``{"@timestamp": "desc"}``,
              ``{"f": {"order": "asc"}}``), several of them in order; each hit carries its ``sort`` values.
              Sorting on a text field is the real 400: "Text fields are not optimised ... use a keyword field".
    from / size   paging (``size`` 10 by default); ``from + size`` over ``index.max_result_window`` (10000) is a 400
    track_total_hits   ``hits.total`` counts up to 10,000 (``relation: gte`` beyond), ``true`` counts all
    _source   ``false`` or a list of fields to keep
    aggs / aggregations
        terms {"field", "size": 10}        buckets by value, most documents first (ties by key), with
                                           ``doc_count_error_upper_bound`` and ``sum_other_doc_count``
        date_histogram {"field", "fixed_interval": "30s" | "calendar_interval": "1m"/"minute"/"hour"/"day",
                        "min_doc_count": 0, "extended_bounds"}   buckets from the first to the last document,
                                           the empty ones included; ``key`` in epoch millis, ``key_as_string``
        min / max / value_count / cardinality {"field"}
        and any of them nested under a bucket aggregation's ``aggs``.
``count(indices, body, now)`` is ``_count``. Errors are ``QueryError`` (400s). What it never does: index.
"""

from __future__ import annotations

import re
from typing import Any

from engine.addons.logging.index import Index
from engine.addons.logging.mapping import format_millis, parse_date
from engine.addons.logging.query import QueryError, matches

MAX_RESULT_WINDOW = 10_000
TRACK_TOTAL_HITS = 10_000
_CALENDAR = {"minute": 60, "1m": 60, "hour": 3600, "1h": 3600, "day": 86400, "1d": 86400, "week": 604800,
             "1w": 604800}
_FIXED = re.compile(r"^(\d+)(ms|s|m|h|d)$")
_FIXED_UNITS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000}
TEXT_FIELD_ERROR = ("Text fields are not optimised for operations that require per-document field data like "
                    "aggregations and sorting, so these operations are disabled by default. Please use a keyword "
                    "field instead. Alternatively, set fielddata=true on [{field}] in order to load field data by "
                    "uninverting the inverted index. Note that this can use significant memory.")


Hit = tuple[Index, int, float]


def _hits(indices: list[Index], body: dict, now: float) -> list[Hit]:
    found: list[Hit] = []
    for index in indices:
        found.extend((index, number, score) for number, score in matches(body.get("query"), index, now).items())
    return found


def _value(index: Index, number: int, field: str) -> Any:
    if index.fields.get(field) == "text":
        raise QueryError(TEXT_FIELD_ERROR.format(field=field), "illegal_argument_exception")
    values = index.values.get(field, {}).get(number)
    return min(values) if values else None


def _sort_spec(sort: Any) -> list[tuple[str, bool]]:
    """[(field, descending)]."""
    spec = []
    for item in sort if isinstance(sort, list) else [sort]:
        if isinstance(item, str):
            spec.append((item, item == "_score"))
        elif isinstance(item, dict):
            for field, order in item.items():
                order = order.get("order", "desc" if field == "_score" else "asc") if isinstance(order, dict) \
                    else order
                spec.append((field, str(order).lower() == "desc"))
    return spec


def _sort(hits: list[Hit], spec: list[tuple[str, bool]]) -> list[tuple[Hit, list[Any]]]:
    keyed = []
    for hit in hits:
        index, number, score = hit
        values = [score if field == "_score" else _value(index, number, field) for field, _ in spec]
        keyed.append((hit, values))
    for position in reversed(range(len(spec))):        # a stable sort per key, last key first
        descending = spec[position][1]
        present = [k for k in keyed if k[1][position] is not None]
        missing = [k for k in keyed if k[1][position] is None]           # missing values sort last
        present.sort(key=lambda k: k[1][position], reverse=descending)
        keyed = present + missing
    return keyed


def _source(doc: dict, wanted: Any) -> dict | None:
    if wanted is False:
        return None
    if not isinstance(wanted, list):
        return doc
    kept: dict = {}
    for field in wanted:
        node: Any = doc
        for part in field.split("."):
            node = node.get(part) if isinstance(node, dict) else None
        if node is not None:
            target = kept
            parts = field.split(".")
            for part in parts[:-1]:
                target = target.setdefault(part, {})
            target[parts[-1]] = node
    return kept


def search(indices: list[Index], body: dict | None, now: float) -> dict:
    """The ``_search`` response for ``body`` over ``indices``."""
    body = body or {}
    start, size = int(body.get("from", 0)), int(body.get("size", 10))
    if start + size > MAX_RESULT_WINDOW:
        raise QueryError(f"Result window is too large, from + size must be less than or equal to: "
                         f"[{MAX_RESULT_WINDOW}] but was [{start + size}]. See the scroll api for a more efficient "
                         "way to request large data sets.", "illegal_argument_exception")
    hits = _hits(indices, body, now)
    spec = _sort_spec(body.get("sort", "_score"))
    ordered = _sort(hits, spec)
    if spec == [("_score", True)]:       # ties by index then document, as shards return them
        ordered.sort(key=lambda k: (-k[0][2], k[0][0].name, k[0][1]))
    page = ordered[start:start + size]
    track = body.get("track_total_hits", TRACK_TOTAL_HITS)
    limit = len(hits) if track is True else int(track) if track is not False else 0
    total = {"value": min(len(hits), limit), "relation": "eq" if len(hits) <= limit else "gte"}
    scored = any(field == "_score" for field, _ in spec)
    rendered = []
    for (index, number, score), values in page:
        doc = index.docs[number]
        hit: dict[str, Any] = {"_index": index.name, "_id": doc.id, "_score": score if scored else None}
        source = _source(doc.source, body.get("_source", True))
        if source is not None:
            hit["_source"] = source
        if spec != [("_score", True)]:
            hit["sort"] = values
        rendered.append(hit)
    response: dict[str, Any] = {
        "took": 1, "timed_out": False,
        "_shards": {"total": len(indices), "successful": len(indices), "skipped": 0, "failed": 0},
        "hits": {"total": total, "max_score": max((s for _, _, s in hits), default=None) if scored else None,
                 "hits": rendered}}
    if track is False:
        del response["hits"]["total"]
    aggs = body.get("aggs", body.get("aggregations"))
    if aggs:
        response["aggregations"] = aggregate(aggs, [(i, n) for i, n, _ in hits], now)
    return response


def count(indices: list[Index], body: dict | None, now: float) -> dict:
    """The ``_count`` response."""
    hits = _hits(indices, body or {}, now)
    return {"count": len(hits), "_shards": {"total": len(indices), "successful": len(indices), "skipped": 0,
                                            "failed": 0}}


# -- aggregations ----------------------------------------------------------------------------
def aggregate(aggs: dict, docs: list[tuple[Index, int]], now: float) -> dict:
    """Every aggregation of ``aggs`` over ``docs``."""
    results = {}
    for name, spec in aggs.items():
        nested = spec.get("aggs", spec.get("aggregations"))
        kinds = [k for k in spec if k not in ("aggs", "aggregations", "meta")]
        if len(kinds) != 1:
            raise QueryError(f"Expected exactly one aggregation type for [{name}]")
        kind = kinds[0]
        handler = _AGGREGATIONS.get(kind)
        if handler is None:
            raise QueryError(f"Unknown aggregation type [{kind}] did you mean [terms]?", "x_content_parse_exception")
        results[name] = handler(spec[kind], docs, now, nested)
    return results


def _values(docs: list[tuple[Index, int]], field: str) -> list[tuple[tuple[Index, int], Any]]:
    found = []
    for index, number in docs:
        if index.fields.get(field) == "text":
            raise QueryError(TEXT_FIELD_ERROR.format(field=field), "illegal_argument_exception")
        for value in index.values.get(field, {}).get(number, []):
            found.append(((index, number), value))
    return found


def _bucket(key: Any, members: list[tuple[Index, int]], now: float, nested: dict | None, **extra: Any) -> dict:
    bucket = {"key": key, **extra, "doc_count": len(members)}
    if nested:
        bucket.update(aggregate(nested, members, now))
    return bucket


def _terms(spec: dict, docs: list[tuple[Index, int]], now: float, nested: dict | None) -> dict:
    groups: dict[Any, list[tuple[Index, int]]] = {}
    for doc, value in _values(docs, spec["field"]):
        members = groups.setdefault(value, [])
        if not members or members[-1] != doc:
            members.append(doc)
    ordered = sorted(groups.items(), key=lambda item: (-len(item[1]), str(item[0])))
    size = int(spec.get("size", 10))
    kept = [(k, m) for k, m in ordered[:size] if len(m) >= int(spec.get("min_doc_count", 1))]
    return {"doc_count_error_upper_bound": 0, "sum_other_doc_count": sum(len(m) for _, m in ordered[size:]),
            "buckets": [_bucket(k, m, now, nested) for k, m in kept]}


def _interval(spec: dict) -> int:
    if "fixed_interval" in spec:
        match = _FIXED.match(str(spec["fixed_interval"]))
        if match is None:
            raise QueryError(f"failed to parse setting [date_histogram.fixedInterval] with value "
                             f"[{spec['fixed_interval']}] as a time value", "illegal_argument_exception")
        return int(match.group(1)) * _FIXED_UNITS[match.group(2)]
    calendar = str(spec.get("calendar_interval", spec.get("interval", "")))
    if calendar not in _CALENDAR:
        raise QueryError(f"The supplied interval [{calendar}] could not be parsed as a calendar interval.",
                         "illegal_argument_exception")
    return _CALENDAR[calendar] * 1000


def _date_histogram(spec: dict, docs: list[tuple[Index, int]], now: float, nested: dict | None) -> dict:
    interval = _interval(spec)
    groups: dict[int, list[tuple[Index, int]]] = {}
    for doc, value in _values(docs, spec["field"]):
        groups.setdefault(value - value % interval, []).append(doc)
    keys = set(groups)
    minimum = int(spec.get("min_doc_count", 0))
    bounds = spec.get("extended_bounds") or {}
    if minimum == 0 and (keys or bounds):
        low = [parse_date(bounds["min"], now)] if "min" in bounds else []
        high = [parse_date(bounds["max"], now)] if "max" in bounds else []
        first = min(list(keys) + [b - b % interval for b in low])
        last = max(list(keys) + [b - b % interval for b in high])
        keys = set(range(first, last + 1, interval))
    buckets = [_bucket(key, groups.get(key, []), now, nested, key_as_string=format_millis(key))
               for key in sorted(keys) if len(groups.get(key, [])) >= minimum]
    return {"buckets": buckets}


def _metric(kind: str) -> Any:
    def run(spec: dict, docs: list[tuple[Index, int]], now: float, nested: dict | None) -> dict:
        values = [value for _, value in _values(docs, spec["field"])]
        if kind == "value_count":
            return {"value": len(values)}
        if kind == "cardinality":
            return {"value": len(set(values))}
        if not values:
            return {"value": None}
        value = min(values) if kind == "min" else max(values)
        is_date = any(index.fields.get(spec["field"]) == "date" for index, _ in docs)
        return {"value": value, "value_as_string": format_millis(value)} if is_date else {"value": value}
    return run


_AGGREGATIONS = {"terms": _terms, "date_histogram": _date_histogram, "min": _metric("min"), "max": _metric("max"),
                 "value_count": _metric("value_count"), "cardinality": _metric("cardinality")}
