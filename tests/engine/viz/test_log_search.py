"""The Kibana-style log search widget: its request, its histogram and table, and the widget over a store."""

from __future__ import annotations

from types import SimpleNamespace

from engine.addons.logging.index import Index
from engine.addons.logging.mapping import format_millis, virtual_to_millis
from engine.addons.logging.search import search
from engine.addons.logging.store import LogStoreError
from engine.viz.log_search import ALL, LogSearch, histogram_svg, hits_html, interval_for, search_body


def doc(when: float, pod: str, stream: str, text: str) -> dict:
    return {"@timestamp": format_millis(virtual_to_millis(when)), "stream": stream, "log": text,
            "kubernetes": {"pod_name": pod, "namespace_name": "default", "container_name": "main"}}


class Store:
    """Elasticsearch's search over one index, answering at the cluster's time; ``down`` refuses."""

    def __init__(self, cluster: SimpleNamespace) -> None:
        self.cluster = cluster
        self.index = Index("logstash-2025.01.01", "u", 0)
        for n in range(120):
            self.index.add(str(n), doc(n * 5.0, f"web-{n % 2}", "stderr" if n % 10 == 0 else "stdout",
                                       f"request {n} {'failed' if n % 10 == 0 else 'served'}"))
        self.index.refresh()
        self.down = False
        self.bodies: list[dict] = []

    def search(self, body: dict) -> dict:
        if self.down:
            raise LogStoreError("curl: (7) Failed to connect to 10.96.0.9 port 9200 after 0 ms")
        self.bodies.append(body)
        return search([self.index], body, self.cluster.now)


def test_the_interval_gives_at_most_forty_round_bars():
    assert [interval_for(s) for s in (60, 300, 900, 3600, 86400)] == ["2s", "10s", "30s", "2m", "1h"]


def test_the_request_filters_by_keyword_and_time_and_asks_for_the_histogram_and_choices():
    body = search_body("log:failed", {"kubernetes.pod_name.keyword": "web-1"}, "now-5m", "10s")
    assert body["query"] == {"bool": {"must": [{"query_string": {"query": "log:failed"}}], "filter": [
        {"term": {"kubernetes.pod_name.keyword": "web-1"}}, {"range": {"@timestamp": {"gte": "now-5m"}}}]}}
    assert body["sort"] == [{"@timestamp": {"order": "desc"}}]
    assert body["aggs"]["histogram"]["date_histogram"]["fixed_interval"] == "10s"
    assert body["aggs"]["pod"] == {"terms": {"field": "kubernetes.pod_name.keyword", "size": 50}}


def test_the_histogram_draws_a_bar_per_bucket_scaled_to_the_peak():
    svg = histogram_svg([{"key_as_string": "2025-01-01T00:00:00.000Z", "doc_count": 4},
                         {"key_as_string": "2025-01-01T00:00:10.000Z", "doc_count": 0},
                         {"key_as_string": "2025-01-01T00:00:20.000Z", "doc_count": 2}])
    assert svg.count("<rect") == 3 and "<title>2025-01-01T00:00:00.000Z: 4</title>" in svg
    assert ">00:00:20<" in svg and "no documents" in histogram_svg([])


def test_the_hits_table_marks_the_query_terms_and_escapes_the_lines():
    table = hits_html([{"_source": doc(5, "web-1", "stderr", "request <7> failed")}], "log:failed")
    assert "<mark>failed</mark>" in table and "&lt;7&gt;" in table and "web-1" in table
    assert "No results" in hits_html([])


def test_the_widget_searches_charts_and_offers_the_field_values():
    cluster = SimpleNamespace(now=600.0)
    store = Store(cluster)
    view = LogSearch(cluster, store=store, query="failed", since="now-15m")
    assert "<b>12</b> hits" in view.status.value
    assert view.table.value.count("<tr>") == 13
    assert view.chart.value.count("<rect") >= 30
    assert list(view.filters["pod"].options) == [ALL, "web-0"]          # the values among the hits
    view.filters["stream"].value = "stderr"
    assert store.bodies[-1]["query"]["bool"]["filter"][0] == {"term": {"stream.keyword": "stderr"}}
    view.query.value = "served"
    assert "<b>0</b> hits" in view.status.value           # served lines are all on stdout


def test_when_the_store_is_down_the_widget_says_so_and_keeps_the_last_results():
    cluster = SimpleNamespace(now=600.0)
    store = Store(cluster)
    view = LogSearch(cluster, store=store, since="")
    rows = view.table.value
    store.down = True
    view.refresh()
    assert "Elasticsearch did not answer" in view.status.value and "Failed to connect" in view.status.value
    assert view.table.value == rows
