"""A Kibana-style log search over the logging add-on's Elasticsearch: a search box, filters, a histogram, hits.

``LogSearch(cluster)`` is a widget (Kibana's Discover, in miniature):
  - a search box taking Elasticsearch's ``query_string`` syntax (``log:error AND NOT stream:stdout``,
    ``"connection refused"``, ``kubernetes.pod_name:"web-1"``); Enter or the button searches;
  - field filters: namespace, pod, container, stream (each a ``term`` filter on the ``.keyword`` field, the
    choices read from a ``terms`` aggregation of the documents) and the time range (``@timestamp`` from
    ``now-5m``... measured on the cluster's virtual clock);
  - a histogram of the hits over time (a ``date_histogram`` aggregation, about 40 bars over the range, drawn
    as SVG) and the number of hits;
  - the newest hits as a table: time, namespace, pod, container, stream and the log line, the query's terms
    marked.
Every search is one ``_search`` request through ``engine.addons.logging.LogStore`` (from the control-plane
node, over the cluster's network). When the store cannot be reached the widget says so, and shows the last
answer it had. ``refresh()`` searches again (``Controls`` calls it on every tick). ``search_body``,
``histogram_svg`` and ``hits_html`` are the pure parts. What it never does: change the cluster or the store.
"""

from __future__ import annotations

import html
import re
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets

from engine.addons.logging.mapping import parse_date
from engine.addons.logging.store import LogStore, LogStoreError, query_body

if TYPE_CHECKING:
    from engine.cluster import Cluster

RANGES = (("Last 1 minute", "now-1m"), ("Last 5 minutes", "now-5m"), ("Last 15 minutes", "now-15m"),
          ("Last 1 hour", "now-1h"), ("Last 24 hours", "now-24h"), ("All time", ""))
FILTERS = (("namespace", "kubernetes.namespace_name.keyword"), ("pod", "kubernetes.pod_name.keyword"),
           ("container", "kubernetes.container_name.keyword"), ("stream", "stream.keyword"))
INTERVALS = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400)
"""Histogram bar widths, in seconds (Kibana's auto interval picks among round ones like these)."""
BARS = 40
ROWS = 50
ALL = "(all)"
WIDTH, HEIGHT, MARGIN = 720, 140, 36


def interval_for(span_seconds: float, bars: int = BARS) -> str:
    """The smallest round interval giving at most ``bars`` bars over the span (``"30s"``, ``"5m"``, ``"1h"``)."""
    seconds = next((i for i in INTERVALS if span_seconds / i <= bars), INTERVALS[-1])
    if seconds % 3600 == 0:
        return f"{seconds // 3600}h"
    if seconds % 60 == 0:
        return f"{seconds // 60}m"
    return f"{seconds}s"


def search_body(query: str, filters: dict[str, str], since: str, interval: str, size: int = ROWS) -> dict:
    """The ``_search`` body the widget sends: the query, newest hits first, the histogram, the filters' choices."""
    aggs: dict[str, Any] = {"histogram": {"date_histogram": {"field": "@timestamp", "fixed_interval": interval,
                                                             "min_doc_count": 0}}}
    for name, field in FILTERS:
        aggs[name] = {"terms": {"field": field, "size": 50}}
    if since:
        aggs["histogram"]["date_histogram"]["extended_bounds"] = {"min": since, "max": "now"}
    return {"query": query_body(query or None, filters={f: v for f, v in filters.items() if v}, since=since or None),
            "size": size, "sort": [{"@timestamp": {"order": "desc"}}], "track_total_hits": True, "aggs": aggs}


def histogram_svg(buckets: list[dict], *, width: int = WIDTH, height: int = HEIGHT) -> str:
    """Bars of ``doc_count`` per bucket, the time under the first, middle and last one, the peak on the axis."""
    if not buckets:
        return f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}"><text x="{MARGIN}" ' \
               f'y="{height // 2}" font-size="12" fill="#616161">no documents in this range</text></svg>'
    peak = max(b["doc_count"] for b in buckets) or 1
    plot_w, plot_h = width - MARGIN - 8, height - 30
    step = plot_w / len(buckets)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif">',
             f'<line x1="{MARGIN}" y1="{plot_h + 4}" x2="{width - 8}" y2="{plot_h + 4}" stroke="#9e9e9e"/>',
             f'<text x="{MARGIN - 4}" y="14" font-size="10" text-anchor="end" fill="#616161">{peak}</text>',
             f'<text x="{MARGIN - 4}" y="{plot_h + 4}" font-size="10" text-anchor="end" fill="#616161">0</text>']
    for i, bucket in enumerate(buckets):
        bar = round(bucket["doc_count"] / peak * (plot_h - 6), 1)
        x = round(MARGIN + i * step + 1, 1)
        title = f'{html.escape(bucket.get("key_as_string", ""))}: {bucket["doc_count"]}'
        parts.append(f'<rect x="{x}" y="{round(plot_h + 4 - bar, 1)}" width="{max(round(step - 2, 1), 1)}" '
                     f'height="{bar}" fill="#54b399"><title>{title}</title></rect>')
    for i in sorted({0, len(buckets) // 2, len(buckets) - 1}):
        label = buckets[i].get("key_as_string", "")[11:19]
        parts.append(f'<text x="{round(MARGIN + i * step + step / 2, 1)}" y="{height - 6}" font-size="10" '
                     f'text-anchor="middle" fill="#616161">{html.escape(label)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _terms(query: str) -> list[str]:
    """Words of the query worth marking in the lines (no operators, no field names)."""
    words = re.findall(r'[\w.@-]+(?::)?', query)
    return [w for w in words if not w.endswith(":") and w not in ("AND", "OR", "NOT", "TO") and len(w) > 1]


def _mark(text: str, terms: list[str]) -> str:
    escaped = html.escape(text)
    for term in sorted(set(terms), key=len, reverse=True):
        escaped = re.sub(rf"(?i)\b({re.escape(html.escape(term))})\b", r"<mark>\1</mark>", escaped)
    return escaped


def hits_html(hits: list[dict], query: str = "") -> str:
    """The hits as a table: time, namespace, pod, container, stream, log (the query's terms marked)."""
    if not hits:
        return "<p><i>No results match your search criteria.</i></p>"
    terms = _terms(query)
    head = "".join(f"<th style='text-align:left'>{name}</th>"
                   for name in ("@timestamp", "namespace", "pod", "container", "stream", "log"))
    rows = []
    for hit in hits:
        source = hit.get("_source", {})
        meta = source.get("kubernetes", {})
        cells = [source.get("@timestamp", ""), meta.get("namespace_name", ""), meta.get("pod_name", ""),
                 meta.get("container_name", ""), source.get("stream", "")]
        colour = " style='color:#c62828'" if source.get("stream") == "stderr" else ""
        rows.append("<tr>" + "".join(f"<td><code>{html.escape(str(c))}</code></td>" for c in cells) +
                    f"<td{colour}><code>{_mark(str(source.get('log', '')), terms)}</code></td></tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


class LogSearch(widgets.VBox):
    """Search box, filters, histogram and hits over the cluster's logs (``store`` defaults to ``LogStore``)."""

    def __init__(self, cluster: "Cluster", *, store: Any = None, query: str = "", since: str = "now-15m") -> None:
        self.cluster = cluster
        self.store = store if store is not None else LogStore(cluster)
        self.query = widgets.Text(value=query, placeholder='Search (e.g. log:error AND kubernetes.pod_name:"web-1")',
                                  layout=widgets.Layout(width="560px"))
        self.button = widgets.Button(description="Search", button_style="primary")
        self.range = widgets.Dropdown(options=list(RANGES), value=since if since in dict(RANGES).values() else "",
                                      description="Time", layout=widgets.Layout(width="220px"))
        self.filters = {name: widgets.Dropdown(options=[ALL], value=ALL, description=name,
                                               layout=widgets.Layout(width="220px")) for name, _ in FILTERS}
        self.status = widgets.HTML()
        self.chart = widgets.HTML()
        self.table = widgets.HTML()
        self.response: dict | None = None
        self.error = ""
        self._rendering = False
        self.button.on_click(lambda _: self.refresh())
        self.query.continuous_update = False
        self.query.observe(self._changed, names="value")
        for dropdown in (self.range, *self.filters.values()):
            dropdown.observe(self._changed, names="value")
        super().__init__([widgets.HBox([self.query, self.button, self.range]),
                          widgets.HBox(list(self.filters.values())), self.status, self.chart, self.table])
        self.refresh()

    def _changed(self, change: Any) -> None:
        if not self._rendering:      # a filter's choices being rewritten is not a new search
            self.refresh()

    def chosen_filters(self) -> dict[str, str]:
        return {field: self.filters[name].value for name, field in FILTERS if self.filters[name].value != ALL}

    def _span(self, since: str) -> float:
        now = self.cluster.now
        if since:
            return (parse_date("now", now) - parse_date(since, now)) / 1000
        return max(now, 1.0)

    def refresh(self) -> None:
        """Search again with the box, the filters and the range as they are now."""
        since = self.range.value
        body = search_body(self.query.value, self.chosen_filters(), since, interval_for(self._span(since)))
        try:
            self.response = self.store.search(body=body)
            self.error = ""
        except LogStoreError as error:
            self.error = str(error)
        self._render()

    def _render(self) -> None:
        if self.error:
            self.status.value = (f"<b style='color:#c62828'>Elasticsearch did not answer: "
                                 f"{html.escape(self.error)}</b>" + (" (showing the last results)" if self.response
                                                                     else ""))
        if self.response is None:
            return
        hits = self.response["hits"]
        aggregations = self.response.get("aggregations", {})
        if not self.error:
            total = hits.get("total", {}).get("value", len(hits["hits"]))
            self.status.value = f"<b>{total}</b> hits" + (f" (newest {len(hits['hits'])} shown)"
                                                           if total > len(hits["hits"]) else "")
        self.chart.value = histogram_svg(aggregations.get("histogram", {}).get("buckets", []))
        self.table.value = hits_html(hits["hits"], self.query.value)
        self._rendering = True
        try:
            self._update_choices(aggregations)
        finally:
            self._rendering = False

    def _update_choices(self, aggregations: dict) -> None:
        for name, _ in FILTERS:
            dropdown = self.filters[name]
            keys = [str(b["key"]) for b in aggregations.get(name, {}).get("buckets", [])]
            options = [ALL] + sorted(set(keys) | ({dropdown.value} - {ALL}))
            if list(dropdown.options) != options:
                current = dropdown.value
                dropdown.options = options
                dropdown.value = current if current in options else ALL


def log_search(cluster: "Cluster", query: str = "", since: str = "now-15m") -> LogSearch:
    """A ``LogSearch`` widget over ``cluster``'s logging add-on (install it first:
    ``engine.addons.logging.install(cluster)``)."""
    return LogSearch(cluster, query=query, since=since)


__all__ = ["LogSearch", "log_search", "search_body", "histogram_svg", "hits_html", "interval_for"]
