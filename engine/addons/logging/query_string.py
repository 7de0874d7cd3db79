"""The ``query_string`` query's syntax (Lucene's classic query parser), the subset a log search box needs.

``parse(text, index)`` turns a search box's text into the query DSL ``query`` evaluates:
    error                       the term in every default field (``*``: all text and keyword fields)
    log:error                   the term in one field (a text field analyzes it; a keyword field takes it whole)
    "connection refused"        a phrase (``match_phrase``); ``log:"connection refused"`` in one field
    kubernetes.pod_name:web*    a prefix; ``?`` and ``*`` inside a term make a wildcard
    a AND b, a OR b, NOT a      also ``&&``, ``||``, ``!``; ``+a`` must, ``-a`` must not; ``( ... )`` groups
    stream:stderr AND NOT log:debug
    @timestamp:[now-5m TO now]  an inclusive range, ``{a TO b}`` exclusive, ``*`` open
    _exists_:kubernetes.labels.app
Terms without an operator between them are joined by ``default_operator`` (OR). AND binds tighter than OR,
and NOT tighter than AND. What it never does: fuzzy (``~``) or boosts (``^``), which it refuses with a
``QueryError`` naming the character, as Elasticsearch does for a query it cannot parse.
"""

from __future__ import annotations

import re
from typing import Any

from engine.addons.logging.index import Index
from engine.addons.logging.query import QueryError, default_fields

_TOKEN = re.compile(r'\s*(?:(\()|(\))|("(?:[^"\\]|\\.)*")|(\[|\{)|(&&|\|\||!|\+|-(?=\S))|([^\s()"]+))')
_RANGE = re.compile(r'\s*([^\s\]\}]+)\s+TO\s+([^\s\]\}]+)\s*(\]|\})')


class _Parser:
    def __init__(self, text: str, index: Index, default_field: str, default_operator: str) -> None:
        self.text = text
        self.pos = 0
        self.index = index
        self.default_field = default_field
        self.default_and = default_operator.lower() == "and"

    def error(self, detail: str) -> QueryError:
        return QueryError(f"Failed to parse query [{self.text}]: {detail}", "query_shard_exception")

    def peek(self) -> tuple[str, str] | None:
        match = _TOKEN.match(self.text, self.pos)
        if match is None or match.end() == self.pos:
            return None
        kinds = ("open", "close", "phrase", "range", "op", "word")
        kind = next(k for k, group in zip(kinds, match.groups()) if group is not None)
        return kind, match.group(kinds.index(kind) + 1)

    def take(self) -> tuple[str, str]:
        token = self.peek()
        if token is None:
            raise self.error("unexpected end of query")
        self.pos = _TOKEN.match(self.text, self.pos).end()
        return token

    def at_end(self) -> bool:
        return not self.text[self.pos:].strip()

    # -- grammar: or := and (OR and)* ; and := unary ((AND)? unary)* ; unary := (NOT|-|+|!)? atom -------
    def parse_or(self) -> dict:
        clauses = [self.parse_and()]
        while (token := self.peek()) is not None and token[1] in ("OR", "||"):
            self.take()
            clauses.append(self.parse_and())
        return clauses[0] if len(clauses) == 1 else {"bool": {"should": clauses, "minimum_should_match": 1}}

    def parse_and(self) -> dict:
        must: list[dict] = []
        must_not: list[dict] = []
        should: list[dict] = []
        explicit_and = False
        while (token := self.peek()) is not None and token[0] != "close" and token[1] not in ("OR", "||"):
            if token[1] in ("AND", "&&"):
                self.take()
                explicit_and = True
                continue
            negated, required, clause = self.parse_unary()
            if negated:
                must_not.append(clause)
            elif required or explicit_and or self.default_and:
                must.append(clause)
            else:
                should.append(clause)
        if explicit_and:         # "a AND b c": with an AND every plain clause of the group is required
            must, should = must + should, []
        if not must and not must_not and len(should) == 1:
            return should[0]
        if len(must) == 1 and not must_not and not should:
            return must[0]
        if not must and not must_not and not should:
            raise self.error("empty query")
        body: dict[str, Any] = {}
        if must:
            body["must"] = must
        if should:
            body["should"] = should
            if not must:
                body["minimum_should_match"] = 1
        if must_not:
            body["must_not"] = must_not
        return {"bool": body}

    def parse_unary(self) -> tuple[bool, bool, dict]:
        kind, value = self.take()
        if kind == "op" or (kind == "word" and value == "NOT"):
            if value in ("NOT", "!", "-"):
                _, required, clause = self.parse_unary()
                return True, False, clause
            negated, _, clause = self.parse_unary()
            return negated, True, clause
        return False, False, self.parse_atom(kind, value, None)

    def parse_atom(self, kind: str, value: str, field: str | None) -> dict:
        if kind == "open":       # field:(a OR b) searches the group's terms in that field
            saved = self.default_field
            self.default_field = field if field is not None else saved
            clause = self.parse_or()
            self.default_field = saved
            if self.take()[0] != "close":
                raise self.error("missing )")
            return clause
        if kind == "phrase":
            return self.field_query(field, value[1:-1].replace('\\"', '"'), phrase=True)
        if kind == "range":
            return self.range(field, value)
        if kind != "word":
            raise self.error(f"unexpected [{value}]")
        if field is None and ":" in value and not value.startswith(":"):
            name, _, rest = value.partition(":")
            name = name.replace("\\", "")
            if rest[:1] in ("[", "{"):
                self.pos -= len(rest) - 1
                return self.range(name, rest[0])
            if rest:
                return self.field_query(name, rest)
            return self.parse_atom(*self.take(), name)
        return self.field_query(field, value)

    def range(self, field: str | None, opening: str) -> dict:
        match = _RANGE.match(self.text, self.pos)
        if match is None or field is None:
            raise self.error("a range is field:[from TO to]")
        self.pos = match.end()
        low, high, closing = match.groups()
        bounds: dict[str, str] = {}
        if low != "*":
            bounds["gte" if opening == "[" else "gt"] = low
        if high != "*":
            bounds["lte" if closing == "]" else "lt"] = high
        return {"range": {field: bounds}}

    def field_query(self, field: str | None, text: str, phrase: bool = False) -> dict:
        if not phrase and ("~" in text or "^" in text):
            raise self.error(f"fuzzy and boosted terms ({text}) are not supported")
        if field == "_exists_":
            return {"exists": {"field": text}}
        fields = [field] if field is not None else default_fields(self.index, self.default_field)
        clauses = [self.one(f, text, phrase) for f in fields]
        if len(clauses) == 1:
            return clauses[0]
        return {"bool": {"should": clauses or [{"match_none": {}}], "minimum_should_match": 1}}

    def one(self, field: str, text: str, phrase: bool) -> dict:
        field_type = self.index.fields.get(field)
        if not phrase and ("*" in text or "?" in text):
            pattern = text.lower() if field_type == "text" else text
            if pattern.endswith("*") and not re.search(r"[*?]", pattern[:-1]):
                return {"prefix": {field: pattern[:-1]}}
            return {"wildcard": {field: pattern}}
        if field_type == "text":
            return {"match_phrase" if phrase else "match": {field: text}}
        return {"term": {field: text}}


def parse(text: str, index: Index, default_field: str = "*", default_operator: str = "or") -> dict:
    """The query DSL for a ``query_string`` (an empty string matches everything)."""
    if not text.strip():
        return {"match_all": {}}
    parser = _Parser(text, index, default_field, default_operator)
    query = parser.parse_or()
    if not parser.at_end():
        raise parser.error(f"unexpected [{parser.text[parser.pos:].strip()}]")
    return query
