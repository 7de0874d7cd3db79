"""Elasticsearch's index, query DSL, query_string and aggregations, on a handful of log documents."""

from __future__ import annotations

import pytest

from engine.addons.logging.index import Index
from engine.addons.logging.mapping import analyze, format_millis, parse_date, virtual_to_millis
from engine.addons.logging.query import QueryError, matches
from engine.addons.logging.query_string import parse
from engine.addons.logging.search import count, search

DOCS = [
    ("1", 10.0, "web-1", "default", "stdout", "GET /index.html 200"),
    ("2", 20.0, "web-1", "default", "stderr", "connection refused by upstream"),
    ("3", 70.0, "web-2", "default", "stdout", "GET /healthz 200"),
    ("4", 80.0, "db-0", "prod", "stderr", "ERROR: disk full, connection lost"),
    ("5", 130.0, "db-0", "prod", "stdout", "checkpoint complete: refused nothing"),
]


def doc(when: float, pod: str, namespace: str, stream: str, text: str) -> dict:
    return {"@timestamp": format_millis(virtual_to_millis(when)), "stream": stream, "log": text,
            "kubernetes": {"pod_name": pod, "namespace_name": namespace, "labels": {"app": pod.split("-")[0]}}}


@pytest.fixture(scope="module")
def index() -> Index:
    index = Index("logstash-2025.01.01", "uuid", 0)
    for doc_id, when, *fields in DOCS:
        index.check(doc(when, *fields))
        index.add(doc_id, doc(when, *fields))
    index.refresh()
    return index


def ids(index: Index, query: dict, now: float = 200.0) -> list[str]:
    return sorted(index.docs[n].id for n in matches(query, index, now))


@pytest.mark.parametrize("text, terms", [
    ("GET /index.html HTTP/1.1", ["get", "index.html", "http", "1.1"]),
    ("ERROR: disk-full at 10.244.1.5", ["error", "disk", "full", "at", "10.244.1.5"]),
    ("it's snake_case", ["it's", "snake_case"]),
], ids=["paths split at slashes, a dotted name stays whole", "hyphens and colons split, an address stays whole",
        "an apostrophe and an underscore join"])
def test_the_standard_analyzer(text, terms):
    assert analyze(text) == terms


def test_dynamic_mapping_gives_text_with_a_keyword_dates_and_objects(index):
    assert index.fields["log"] == "text" and index.fields["log.keyword"] == "keyword"
    assert index.fields["@timestamp"] == "date"
    assert index.fields["kubernetes.labels.app"] == "text"


@pytest.mark.parametrize("query, expected", [
    ({"match": {"log": "refused"}}, ["2", "5"]),
    ({"match": {"log": {"query": "connection refused", "operator": "and"}}}, ["2"]),
    ({"match": {"log": "connection refused"}}, ["2", "4", "5"]),
    ({"match_phrase": {"log": "connection refused"}}, ["2"]),
    ({"term": {"stream": "stderr"}}, ["2", "4"]),
    ({"term": {"kubernetes.pod_name.keyword": "web-1"}}, ["1", "2"]),
    ({"term": {"log": "ERROR"}}, []),
    ({"terms": {"kubernetes.namespace_name.keyword": ["prod", "nope"]}}, ["4", "5"]),
    ({"range": {"@timestamp": {"gte": "2025-01-01T00:01:00Z", "lt": "2025-01-01T00:02:00Z"}}}, ["3", "4"]),
    ({"range": {"@timestamp": {"gte": "now-80s"}}}, ["5"]),
    ({"prefix": {"kubernetes.pod_name.keyword": "web"}}, ["1", "2", "3"]),
    ({"wildcard": {"kubernetes.pod_name.keyword": "*-0"}}, ["4", "5"]),
    ({"exists": {"field": "kubernetes.labels.app"}}, ["1", "2", "3", "4", "5"]),
    ({"bool": {"must": [{"match": {"log": "connection"}}], "filter": [{"term": {"stream": "stderr"}}],
               "must_not": [{"term": {"kubernetes.namespace_name.keyword": "prod"}}]}}, ["2"]),
    ({"bool": {"should": [{"match": {"log": "healthz"}}, {"match": {"log": "checkpoint"}}]}}, ["3", "5"]),
], ids=["match finds a term", "match with operator and needs every term", "match ORs the terms by default",
        "match_phrase needs them in order", "term on a keyword-like text value finds its lower-cased term",
        "term on the keyword sub-field is exact", "term is not analyzed: an upper-case word finds nothing",
        "terms is any of the values", "range on a date", "range with date math from the virtual now",
        "prefix on a keyword", "wildcard on a keyword", "exists",
        "bool must, filter and must_not", "bool should alone needs one"])
def test_queries(index, query, expected):
    assert ids(index, query) == expected


def test_bm25_ranks_a_rarer_term_and_a_shorter_field_higher(index):
    scores = matches({"match": {"log": "connection refused"}}, index, 0)
    by_id = {index.docs[n].id: s for n, s in scores.items()}
    assert by_id["2"] > by_id["4"] and by_id["2"] > by_id["5"]


@pytest.mark.parametrize("text, expected", [
    ("refused", ["2", "5"]),
    ('"connection refused"', ["2"]),
    ("stream:stderr AND NOT kubernetes.namespace_name:prod", ["2"]),
    ("stream:stderr -log:disk", ["2"]),
    ("log:(healthz OR checkpoint)", ["3", "5"]),
    ('kubernetes.pod_name:"web-1"', ["1", "2"]),
    ("kubernetes.pod_name:web-1", ["1", "2", "3"]),
    ("kubernetes.pod_name.keyword:db*", ["4", "5"]),
    ("@timestamp:[2025-01-01T00:01:00Z TO *]", ["3", "4", "5"]),
    ("_exists_:stream AND log:GET", ["1", "3"]),
    ("", ["1", "2", "3", "4", "5"]),
], ids=["a bare term searches every field", "a quoted phrase", "field, AND, NOT", "a leading minus excludes",
        "a group in one field", "a quoted value in a text field is a phrase",
        "an unquoted hyphenated value is its terms ORed, as Elasticsearch does", "a prefix on a keyword",
        "an open-ended range", "_exists_", "nothing is everything"])
def test_query_strings(index, text, expected):
    assert ids(index, parse(text, index)) == expected


def test_a_query_string_it_cannot_parse_is_a_400(index):
    with pytest.raises(QueryError) as raised:
        parse("log:refused~2", index)
    assert raised.value.kind == "query_shard_exception"


def test_search_sorts_pages_and_counts(index):
    response = search([index], {"query": {"match_all": {}}, "sort": [{"@timestamp": "desc"}], "from": 1,
                                "size": 2}, 0)
    assert [h["_id"] for h in response["hits"]["hits"]] == ["4", "3"]
    assert response["hits"]["total"] == {"value": 5, "relation": "eq"}
    assert response["hits"]["hits"][0]["sort"] == [parse_date("2025-01-01T00:01:20Z")]
    assert count([index], {"query": {"term": {"stream": "stdout"}}}, 0) == {
        "count": 3, "_shards": {"total": 1, "successful": 1, "skipped": 0, "failed": 0}}


def test_sorting_on_a_text_field_is_refused_as_elasticsearch_does(index):
    with pytest.raises(QueryError, match="Text fields are not optimised"):
        search([index], {"sort": ["log"]}, 0)


def test_terms_and_date_histogram_aggregations(index):
    aggs = {"pods": {"terms": {"field": "kubernetes.pod_name.keyword", "size": 2}},
            "per_minute": {"date_histogram": {"field": "@timestamp", "fixed_interval": "1m"},
                           "aggs": {"streams": {"terms": {"field": "stream.keyword"}}}}}
    result = search([index], {"size": 0, "aggs": aggs}, 0)["aggregations"]
    assert [(b["key"], b["doc_count"]) for b in result["pods"]["buckets"]] == [("db-0", 2), ("web-1", 2)]
    assert result["pods"]["sum_other_doc_count"] == 1
    minutes = result["per_minute"]["buckets"]
    assert [(b["key_as_string"], b["doc_count"]) for b in minutes] == [
        ("2025-01-01T00:00:00.000Z", 2), ("2025-01-01T00:01:00.000Z", 2), ("2025-01-01T00:02:00.000Z", 1)]
    assert {b["key"]: b["doc_count"] for b in minutes[1]["streams"]["buckets"]} == {"stdout": 1, "stderr": 1}


def test_a_document_is_searchable_only_after_a_refresh_and_a_replaced_one_is_gone():
    index = Index("i", "u", 0)
    index.add("a", {"log": "first"})
    assert ids(index, {"match_all": {}}) == []
    index.refresh()
    index.add("a", {"log": "second"})
    index.refresh()
    assert ids(index, {"match": {"log": "first"}}) == [] and ids(index, {"match": {"log": "second"}}) == ["a"]


def test_segments_on_disk_bring_back_the_index_and_merge_ten_at_a_time():
    fs: dict[str, str] = {}
    index = Index("logs", "u1", 0)
    for n in range(25):
        index.add(str(n), {"log": f"line {n}"})
        index.write_segment(fs, "/data")
    index.delete("3")
    index.write_segment(fs, "/data")
    segments = sorted(p for p in fs if p.endswith(".seg"))
    assert len(segments) < 10
    loaded = Index.load(fs, "/data/indices/u1")
    assert len(loaded) == 24 and loaded.get("3") is None and loaded.get("24").source == {"log": "line 24"}
