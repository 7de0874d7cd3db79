"""A timeline of what happened to nodes and pods: lanes of marks on the virtual clock, drawn as SVG.

``ClusterTimeline(cluster, pods="app=web", nodes=["node-2"])`` is an
observer: call ``observe()`` after each step of ``cluster.run`` and it turns
what changed since the last look into marks, one lane per watched node and
one per pod:

- a node: its ``Ready`` condition (``Ready`` / ``NotReady`` / ``Unknown``)
  and every taint added or removed (``+unreachable:NoExecute``);
- a pod: created (and on which node once scheduled), ``Ready``, not ready,
  terminating (its deletion started), gone.

``observe()`` returns the new marks as text lines (handy to print);
``svg()`` draws the lanes against the time axis, and the timeline shows
itself in JupyterLab. Like every view it reads the watch cache only, never
changes the cluster, and the same history gives the same drawing. How often
``observe`` is called is the resolution: a change between two looks is
stamped with the time of the second.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from typing import TYPE_CHECKING

from engine.api.selectors import parse as parse_selector
from engine.viz._objects import node_ready

if TYPE_CHECKING:
    from engine.cluster import Cluster

COLORS = {"created": "#1565c0", "Ready": "#2e7d32", "NotReady": "#ef6c00", "Unknown": "#c62828",
          "taint": "#6a1b9a", "untaint": "#8e24aa", "Terminating": "#c62828", "gone": "#616161"}
LANE_HEIGHT = 34
LABEL_WIDTH = 150
PLOT_WIDTH = 720


@dataclass(frozen=True)
class Mark:
    """One thing that happened: when, on which lane, what (and its colour's key in ``COLORS``)."""

    time: float
    lane: str
    label: str
    kind: str

    def text(self) -> str:
        return f"t={self.time:7.1f}s  {self.lane:28} {self.label}"


def _pod_ready(pod: dict) -> bool:
    return any(c.get("type") == "Ready" and c.get("status") == "True"
               for c in (pod.get("status") or {}).get("conditions") or ())


def _taints(node: dict) -> set[str]:
    return {f"{t.get('key', '').rsplit('/', 1)[-1]}:{t.get('effect', '')}"
            for t in (node.get("spec") or {}).get("taints") or ()}


class ClusterTimeline:
    """Marks on lanes for the watched nodes and the pods a selector picks, from repeated observation."""

    def __init__(self, cluster: "Cluster", *, pods: str = "", nodes: list[str] | tuple[str, ...] = (),
                 namespace: str = "default", title: str = "") -> None:
        self.cluster = cluster
        self.selector = parse_selector(pods) if pods else None
        self.nodes = list(nodes)
        self.namespace = namespace
        self.title = title
        self.marks: list[Mark] = []
        self.lanes: list[str] = [f"node/{name}" for name in self.nodes]
        self.start = cluster.now
        self._node_seen: dict[str, tuple[str, set[str]]] = {}
        self._pod_seen: dict[str, tuple[str, bool, bool]] = {}
        self.observe()

    # -- observing -------------------------------------------------------------------------------
    def _mark(self, lane: str, label: str, kind: str) -> Mark:
        if lane not in self.lanes:
            self.lanes.append(lane)
        mark = Mark(self.cluster.now, lane, label, kind)
        self.marks.append(mark)
        return mark

    def observe(self) -> list[str]:
        """Compare the cluster with the last look; record and return what changed."""
        new: list[Mark] = []
        apiserver = self.cluster.apiserver
        nodes = {n["metadata"]["name"]: n for n in apiserver.cached_list("nodes")}
        for name in self.nodes:
            node = nodes.get(name)
            if node is None:
                continue
            ready, taints = node_ready(node), _taints(node)
            before_ready, before_taints = self._node_seen.get(name, ("", set()))
            lane = f"node/{name}"
            if ready != before_ready:
                new.append(self._mark(lane, ready, ready))
            for taint in sorted(taints - before_taints):
                new.append(self._mark(lane, f"+{taint}", "taint"))
            for taint in sorted(before_taints - taints):
                new.append(self._mark(lane, f"-{taint}", "untaint"))
            self._node_seen[name] = (ready, taints)
        pods = {p["metadata"]["name"]: p for p in apiserver.cached_list("pods", self.namespace)
                if self.selector is None or self.selector.matches(p["metadata"].get("labels") or {})}
        for name in sorted(pods, key=lambda n: (pods[n]["metadata"].get("creationTimestamp", ""), n)):
            pod = pods[name]
            lane = f"pod/{name}"
            node = (pod.get("spec") or {}).get("nodeName") or ""
            ready, terminating = _pod_ready(pod), bool(pod["metadata"].get("deletionTimestamp"))
            before = self._pod_seen.get(name)
            if before is None:
                new.append(self._mark(lane, f"created{' on ' + node if node else ''}", "created"))
                before = (node, False, False)
            elif node and not before[0]:
                new.append(self._mark(lane, f"scheduled on {node}", "created"))
            if ready != before[1]:
                new.append(self._mark(lane, "Ready" if ready else "not ready", "Ready" if ready else "NotReady"))
            if terminating and not before[2]:
                new.append(self._mark(lane, "terminating", "Terminating"))
            self._pod_seen[name] = (node, ready, terminating)
        for name in sorted(set(self._pod_seen) - set(pods)):
            new.append(self._mark(f"pod/{name}", "gone", "gone"))
            del self._pod_seen[name]
        return [mark.text() for mark in new]

    # -- drawing ---------------------------------------------------------------------------------
    def svg(self) -> str:
        """The lanes, one row each, with every mark at its time; labels alternate above and below."""
        end = max([self.cluster.now] + [m.time for m in self.marks])
        span = max(end - self.start, 1.0)
        height = 40 + LANE_HEIGHT * len(self.lanes) + 30

        def x(time: float) -> float:
            return LABEL_WIDTH + (time - self.start) / span * PLOT_WIDTH

        parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{LABEL_WIDTH + PLOT_WIDTH + 60}" '
                 f'height="{height}" font-family="sans-serif" font-size="10">']
        if self.title:
            parts.append(f'<text x="4" y="14" font-size="13" font-weight="bold">{escape(self.title)}</text>')
        for row, lane in enumerate(self.lanes):
            y = 40 + row * LANE_HEIGHT + LANE_HEIGHT / 2
            parts.append(f'<text x="4" y="{y + 4:.1f}" font-size="11">{escape(lane)}</text>')
            parts.append(f'<line x1="{LABEL_WIDTH}" y1="{y:.1f}" x2="{LABEL_WIDTH + PLOT_WIDTH}" y2="{y:.1f}" '
                         'stroke="#ddd"/>')
            for index, mark in enumerate(m for m in self.marks if m.lane == lane):
                color = COLORS.get(mark.kind, "#000")
                label_y = y - 6 if index % 2 == 0 else y + 13
                parts.append(f'<circle cx="{x(mark.time):.1f}" cy="{y:.1f}" r="4" fill="{color}">'
                             f'<title>{escape(mark.text())}</title></circle>')
                parts.append(f'<text x="{x(mark.time) + 5:.1f}" y="{label_y:.1f}" fill="{color}">'
                             f'{escape(mark.label)}</text>')
        axis_y = 40 + LANE_HEIGHT * len(self.lanes) + 6
        parts.append(f'<line x1="{LABEL_WIDTH}" y1="{axis_y}" x2="{LABEL_WIDTH + PLOT_WIDTH}" y2="{axis_y}" '
                     'stroke="#444"/>')
        step = _tick_step(span)
        tick = 0.0
        while tick <= span + 1e-9:
            parts.append(f'<line x1="{x(self.start + tick):.1f}" y1="{axis_y}" x2="{x(self.start + tick):.1f}" '
                         f'y2="{axis_y + 4}" stroke="#444"/>')
            parts.append(f'<text x="{x(self.start + tick):.1f}" y="{axis_y + 15}" text-anchor="middle">'
                         f'{self.start + tick:.0f}s</text>')
            tick += step
        parts.append("</svg>")
        return "".join(parts)

    def _repr_html_(self) -> str:
        return self.svg()


def _tick_step(span: float) -> float:
    """A round step giving about ten ticks over ``span`` seconds."""
    for step in (1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1200, 3600):
        if span / step <= 12:
            return float(step)
    return span / 10
