"""The event log: the cluster's Events as ``kubectl get events`` lists them, as a widget.

``event_rows(events, now)`` turns core/v1 Event objects into rows with
kubectl's columns and words: LAST SEEN (an age such as ``12s`` or ``3m5s``,
with ``(x3 over 2m)`` when the Event was counted several times), TYPE,
REASON, OBJECT (``pod/web``, the involved object's kind in lower case) and
MESSAGE, plus NAMESPACE. Rows are ordered by when each Event was last seen,
oldest first (what ``kubectl events`` does), then by the order of their last
write. ``events_text`` prints them as kubectl's table; ``EventLog(cluster)``
shows them as an HTML table that follows the cluster on each ``refresh()``
while *live* is ticked (``Controls`` refreshes it on every tick), and only
on its refresh button otherwise.

Everything is read from the API server's watch cache: no audit entries, no
change to the cluster.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any, Iterable

import ipywidgets as widgets

from engine.api.meta import parse_timestamp
from engine.kubectl.duration import human_duration

if TYPE_CHECKING:
    from engine.cluster import Cluster

COLUMNS = ("NAMESPACE", "LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE")
LIMIT = 200
"""Rows the widget shows: the newest ones."""


def _time(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return parse_timestamp(value)
    except ValueError:
        return None


def _last_seen(event: dict) -> float:
    for value in (event.get("lastTimestamp"), event.get("eventTime"),
                  (event.get("series") or {}).get("lastObservedTime"), event.get("firstTimestamp"),
                  (event.get("metadata") or {}).get("creationTimestamp")):
        moment = _time(value)
        if moment is not None:
            return moment
    return 0.0


def _first_seen(event: dict) -> float:
    for value in (event.get("firstTimestamp"), event.get("eventTime"),
                  (event.get("metadata") or {}).get("creationTimestamp")):
        moment = _time(value)
        if moment is not None:
            return moment
    return _last_seen(event)


def event_rows(events: Iterable[dict], now: float) -> list[dict[str, Any]]:
    """Rows with kubectl's columns, oldest last-seen first; ``time`` is the virtual last-seen time."""
    rows = []
    for event in events:
        metadata = event.get("metadata") or {}
        involved = event.get("involvedObject") or event.get("regarding") or {}
        count = int(event.get("count") or (event.get("series") or {}).get("count") or 1)
        last = _last_seen(event)
        seen = human_duration(now - last)
        if count > 1:
            seen = f"{seen} (x{count} over {human_duration(now - _first_seen(event))})"
        rows.append({
            "namespace": metadata.get("namespace", ""),
            "last_seen": seen,
            "type": event.get("type", ""),
            "reason": event.get("reason", ""),
            "object": f"{str(involved.get('kind', '')).lower()}/{involved.get('name', '')}",
            "message": event.get("message") or event.get("note") or "",
            "count": count,
            "time": last,
            "_order": int(metadata.get("resourceVersion") or 0),
            "name": metadata.get("name", ""),
        })
    rows.sort(key=lambda row: (row["time"], row["_order"], row["name"]))
    for row in rows:
        del row["_order"]
    return rows


def _cells(row: dict[str, Any]) -> list[str]:
    return [row["namespace"], row["last_seen"], row["type"], row["reason"], row["object"], row["message"]]


def format_events(rows: list[dict[str, Any]], *, namespaces: bool = True) -> str:
    """kubectl's table (columns padded by three spaces, as its tabwriter does)."""
    if not rows:
        return "No resources found"
    first = 0 if namespaces else 1
    table = [list(COLUMNS[first:])] + [_cells(row)[first:] for row in rows]
    widths = [max(len(line[index]) for line in table) for index in range(len(table[0]) - 1)]
    lines = []
    for line in table:
        padded = [cell.ljust(width + 3) for cell, width in zip(line, widths)] + [line[-1]]
        lines.append("".join(padded).rstrip())
    return "\n".join(lines)


def events_text(cluster: "Cluster", namespace: str | None = None) -> str:
    """``kubectl get events`` (``-A`` when ``namespace`` is None), read from the watch cache."""
    events = cluster.apiserver.cached_list("events", namespace)
    return format_events(event_rows(events, cluster.now), namespaces=namespace is None)


def render_events_html(rows: list[dict[str, Any]]) -> str:
    """The rows as an HTML table; Warning rows are tinted."""
    if not rows:
        return "<i>No events yet.</i>"
    head = "".join(f"<th style='text-align:left;padding:2px 8px'>{name}</th>" for name in COLUMNS)
    body = []
    for row in rows:
        tint = " style='background:#fff3e0'" if row["type"] == "Warning" else ""
        cells = "".join(f"<td style='padding:1px 8px;vertical-align:top'>{html.escape(cell)}</td>"
                        for cell in _cells(row))
        body.append(f"<tr class='kv-event kv-event-{html.escape(row['type'].lower())}'{tint}>{cells}</tr>")
    return ("<table style='font-family:monospace;font-size:12px;border-collapse:collapse'>"
            f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>")


class EventLog(widgets.VBox):
    """The cluster's Events, newest at the bottom; follows the cluster while ``live`` is ticked."""

    def __init__(self, cluster: "Cluster", *, live: bool = True, namespace: str | None = None,
                 limit: int = LIMIT, **kwargs: Any) -> None:
        self.cluster = cluster
        self.namespace = namespace
        self.limit = limit
        self.live = widgets.Checkbox(value=live, description="live", indent=False,
                                     layout=widgets.Layout(width="80px"))
        self.refresh_button = widgets.Button(description="refresh", icon="refresh")
        self.refresh_button.on_click(lambda _button: self.refresh(force=True))
        self.summary = widgets.HTML()
        self.table = widgets.HTML()
        super().__init__(children=[widgets.HBox([self.live, self.refresh_button, self.summary]), self.table],
                         **kwargs)
        self.rows: list[dict[str, Any]] = []
        self.refresh(force=True)

    def refresh(self, force: bool = False) -> None:
        """Re-read the Events (always when ``force``, else only in live mode)."""
        if not (force or self.live.value):
            return
        events = self.cluster.apiserver.cached_list("events", self.namespace)
        self.rows = event_rows(events, self.cluster.now)
        shown = self.rows[-self.limit:]
        more = f" (newest {len(shown)} shown)" if len(shown) < len(self.rows) else ""
        self.summary.value = f"{len(self.rows)} events at t = {self.cluster.now:.1f} s{more}"
        self.table.value = render_events_html(shown)
