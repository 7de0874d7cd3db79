"""Elasticsearch's query DSL, the subset log search uses, evaluated against one ``Index``.

``matches(query, index, now) -> {document number: score}`` for the searchable documents:
    match_all                                  every document, score 1
    match {"field": "text" | {"query", "operator": "or"|"and"}}
                                               the query analyzed as the field is (text: its terms, OR by
                                               default; keyword / date / number fields: the exact value)
    match_phrase {"field": "text"}             the terms at consecutive positions
    multi_match {"query", "fields", "operator"}  the best field's match
    term {"field": value}, terms {"field": [values]}
                                               exact values, not analyzed: on a text field they meet its
                                               lower-cased terms (``term {"log": "Error"}`` finds nothing)
    prefix {"field": "val"}, wildcard {"field": "v*l?"}, exists {"field"}
    range {"field": {"gte"|"gt"|"lte"|"lt": value}}   numbers, or dates (ISO, epoch millis, ``now-15m``)
    bool {"must", "filter", "should", "must_not", "minimum_should_match"}
    query_string {"query", "default_field", "default_operator"}   (``query_string``)
Scores are BM25 (k1 1.2, b 0.75) for full-text clauses; term-level clauses score 1 (a constant), filter and
must_not clauses do not score. An unknown query or a bad value raises ``QueryError`` (a 400
``parsing_exception`` / ``query_shard_exception``). What it never does: sort, page or aggregate (``search``).
"""

from __future__ import annotations

import fnmatch
import math
from typing import Any

from engine.addons.logging.index import Index
from engine.addons.logging.mapping import MappingError, analyze, coerce, parse_date

K1 = 1.2
B = 0.75


class QueryError(ValueError):
    """A query Elasticsearch refuses: ``kind`` is its error type."""

    def __init__(self, message: str, kind: str = "parsing_exception") -> None:
        super().__init__(message)
        self.kind = kind


Scores = dict[int, float]


def matches(query: dict | None, index: Index, now: float) -> Scores:
    """The searchable documents the query matches, with their scores."""
    if not query:
        return dict.fromkeys(index.live(), 1.0)
    if not isinstance(query, dict) or len(query) != 1:
        raise QueryError("[_na] query malformed, must start with start_object")
    (kind, body), = query.items()
    handler = _QUERIES.get(kind)
    if handler is None:
        raise QueryError(f"unknown query [{kind}]")
    scores = handler(body, index, now)
    limit, deleted = index.searchable, index.deleted
    return {number: score for number, score in scores.items() if number < limit and number not in deleted}


def _single(kind: str, body: Any) -> tuple[str, Any]:
    if not isinstance(body, dict) or len(body) != 1:
        raise QueryError(f"[{kind}] query doesn't support multiple fields, found [{', '.join(body or [])}]")
    (field, value), = body.items()
    return field, value


# -- full text ---------------------------------------------------------------------------------
def bm25(index: Index, field: str, terms: list[str]) -> Scores:
    """The BM25 score of each document holding any of ``terms`` in ``field``."""
    postings = index.postings.get(field, {})
    lengths = index.lengths.get(field, {})
    live = [n for n in lengths if n < index.searchable and n not in index.deleted]
    if not live:
        return {}
    average = sum(lengths[n] for n in live) / len(live)
    scores: Scores = {}
    for term in terms:
        docs = {n: p for n, p in postings.get(term, {}).items() if n < index.searchable}
        if not docs:
            continue
        idf = math.log(1 + (len(live) - len(docs) + 0.5) / (len(docs) + 0.5))
        for number, positions in docs.items():
            tf = len(positions)
            norm = tf + K1 * (1 - B + B * lengths[number] / average)
            scores[number] = scores.get(number, 0.0) + idf * tf * (K1 + 1) / norm
    return scores


def _match_field(index: Index, field: str, text: Any, operator: str, now: float) -> Scores:
    field_type = index.fields.get(field)
    if field_type is None:
        return {}
    if field_type != "text":
        return _exact(index, field, [text], now)
    terms = analyze(str(text))
    scores = bm25(index, field, terms)
    if operator.lower() == "and":
        postings = index.postings.get(field, {})
        scores = {n: s for n, s in scores.items() if all(n in postings.get(t, {}) for t in terms)}
    return scores


def _match(body: Any, index: Index, now: float) -> Scores:
    field, value = _single("match", body)
    options = value if isinstance(value, dict) else {"query": value}
    return _match_field(index, field, options.get("query", ""), str(options.get("operator", "or")), now)


def _phrase(index: Index, field: str, text: str) -> Scores:
    terms = analyze(text)
    postings = index.postings.get(field, {})
    if not terms or index.fields.get(field) != "text":
        return {}
    candidates = set(postings.get(terms[0], {}))
    for term in terms[1:]:
        candidates &= set(postings.get(term, {}))
    found = [n for n in candidates if n < index.searchable and any(
        all(start + i in postings[t][n] for i, t in enumerate(terms)) for start in postings[terms[0]][n])]
    scores = bm25(index, field, terms)
    return {n: scores.get(n, 1.0) for n in found}


def _match_phrase(body: Any, index: Index, now: float) -> Scores:
    field, value = _single("match_phrase", body)
    text = value.get("query", "") if isinstance(value, dict) else value
    return _phrase(index, field, str(text))


def _multi_match(body: Any, index: Index, now: float) -> Scores:
    scores: Scores = {}
    for field in body.get("fields") or default_fields(index, "*"):
        for n, s in _match_field(index, field.split("^")[0], body.get("query", ""),
                                 str(body.get("operator", "or")), now).items():
            scores[n] = max(s, scores.get(n, 0.0))
    return scores


# -- term level --------------------------------------------------------------------------------
def _exact(index: Index, field: str, values: list[Any], now: float) -> Scores:
    field_type = index.fields.get(field)
    found: set[int] = set()
    for value in values:
        if field_type == "text":
            found |= set(index.postings.get(field, {}).get(str(value), {}))
            continue
        try:
            key = coerce(field_type, value, field) if field_type else value
        except MappingError:
            raise QueryError(f"failed to create query: {field_type} field [{field}] cannot take [{value}]",
                             "query_shard_exception") from None
        found |= index.exact.get(field, {}).get(key, set())
    return dict.fromkeys(found, 1.0)


def _term(body: Any, index: Index, now: float) -> Scores:
    field, value = _single("term", body)
    return _exact(index, field, [value.get("value") if isinstance(value, dict) else value], now)


def _terms(body: Any, index: Index, now: float) -> Scores:
    fields = {k: v for k, v in body.items() if k != "boost"}
    field, values = _single("terms", fields)
    if not isinstance(values, list):
        raise QueryError(f"[terms] query does not support [{field}] as a value: give a list")
    return _exact(index, field, values, now)


def _keys(index: Index, field: str) -> list[str]:
    if index.fields.get(field) == "text":
        return list(index.postings.get(field, {}))
    return [k for k in index.exact.get(field, {}) if isinstance(k, str)]


def _pattern(index: Index, field: str, accept: Any) -> Scores:
    found: set[int] = set()
    table = index.postings.get(field, {}) if index.fields.get(field) == "text" else index.exact.get(field, {})
    for key in _keys(index, field):
        if accept(key):
            found |= set(table[key])
    return dict.fromkeys(found, 1.0)


def _prefix(body: Any, index: Index, now: float) -> Scores:
    field, value = _single("prefix", body)
    prefix = str(value.get("value") if isinstance(value, dict) else value)
    return _pattern(index, field, lambda key: key.startswith(prefix))


def _wildcard(body: Any, index: Index, now: float) -> Scores:
    field, value = _single("wildcard", body)
    pattern = str(value.get("value") if isinstance(value, dict) else value)
    return _pattern(index, field, lambda key: fnmatch.fnmatchcase(key, pattern))


def _exists(body: Any, index: Index, now: float) -> Scores:
    field = body.get("field", "")
    found = set(index.lengths.get(field, {})) | set(index.values.get(field, {}))
    return dict.fromkeys(found, 1.0)


def _range(body: Any, index: Index, now: float) -> Scores:
    field, bounds = _single("range", body)
    field_type = index.fields.get(field)
    if field_type is None:
        return {}
    if field_type == "text":
        raise QueryError(f"range queries on text field [{field}] are not supported here: use [{field}.keyword]",
                         "query_shard_exception")

    def value(raw: Any) -> Any:
        try:
            return parse_date(raw, now) if field_type == "date" else coerce(field_type, raw, field)
        except MappingError as error:
            raise QueryError(str(error), "query_shard_exception") from None

    tests = [(op, value(bounds[op])) for op in ("gte", "gt", "lte", "lt") if bounds.get(op) is not None]
    checks = {"gte": lambda v, b: v >= b, "gt": lambda v, b: v > b, "lte": lambda v, b: v <= b,
              "lt": lambda v, b: v < b}
    found = [n for n, values in index.values.get(field, {}).items()
             if any(all(checks[op](v, b) for op, b in tests) for v in values)]
    return dict.fromkeys(found, 1.0)


# -- compound -----------------------------------------------------------------------------------
def _clauses(value: Any) -> list[dict]:
    return value if isinstance(value, list) else [value] if value else []


def _bool(body: Any, index: Index, now: float) -> Scores:
    must, filters = _clauses(body.get("must")), _clauses(body.get("filter"))
    should, must_not = _clauses(body.get("should")), _clauses(body.get("must_not"))
    result: Scores | None = None
    for clause in must + filters:
        scores = matches(clause, index, now)
        scored = clause in must
        if result is None:
            result = {n: (s if scored else 0.0) for n, s in scores.items()}
        else:
            result = {n: total + (scores[n] if scored else 0.0) for n, total in result.items() if n in scores}
    minimum = body.get("minimum_should_match", 0 if (must or filters) else 1 if should else 0)
    if should:
        counts: dict[int, int] = {}
        extra: Scores = {}
        for clause in should:
            for n, s in matches(clause, index, now).items():
                counts[n] = counts.get(n, 0) + 1
                extra[n] = extra.get(n, 0.0) + s
        if result is None:
            result = {n: extra[n] for n in counts if counts[n] >= int(minimum)}
        else:
            result = {n: s + extra.get(n, 0.0) for n, s in result.items() if counts.get(n, 0) >= int(minimum)}
    if result is None:
        result = dict.fromkeys(index.live(), 0.0 if filters or must_not else 1.0)
    for clause in must_not:
        excluded = matches(clause, index, now)
        result = {n: s for n, s in result.items() if n not in excluded}
    return result


def _query_string(body: Any, index: Index, now: float) -> Scores:
    from engine.addons.logging.query_string import parse
    options = body if isinstance(body, dict) else {"query": body}
    query = parse(str(options.get("query", "")), index, default_field=options.get("default_field", "*"),
                  default_operator=str(options.get("default_operator", "or")))
    return matches(query, index, now)


def default_fields(index: Index, pattern: str) -> list[str]:
    """The fields a ``*`` default field searches: every text and keyword field matching the pattern."""
    return [f for f, t in sorted(index.fields.items()) if t in ("text", "keyword") and fnmatch.fnmatchcase(f, pattern)]


_QUERIES = {"match_all": lambda body, index, now: dict.fromkeys(index.live(), float((body or {}).get("boost", 1.0))),
            "match_none": lambda body, index, now: {},
            "match": _match, "match_phrase": _match_phrase, "multi_match": _multi_match, "term": _term,
            "terms": _terms, "prefix": _prefix, "wildcard": _wildcard, "exists": _exists, "range": _range,
            "bool": _bool, "query_string": _query_string}
