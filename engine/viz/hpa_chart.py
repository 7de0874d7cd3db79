"""An HorizontalPodAutoscaler over time: its target's replicas and the measured utilization, drawn as SVG.

``HPAChart(cluster, "php-apache")`` is an observer: call ``observe()`` after each step of ``cluster.run``
and it records, from the API server, the HPA's ``status`` (current and desired replicas, the current
utilization of its first Resource metric), its target utilization and a ``load`` label the caller may
give (``observe(load="1 load generator")``). ``samples`` holds them; ``svg()`` draws two panels against
the virtual clock (replicas as steps, with ``minReplicas`` and ``maxReplicas``; utilization against its
target line), with the load labels as shaded spans, and the chart shows itself in JupyterLab.
``rows()`` is the same as text. Like every view it never changes the cluster, and the same history gives
the same drawing.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from engine.cluster import Cluster

WIDTH, PANEL, GAP, LEFT, RIGHT, TOP = 720, 130, 36, 56, 16, 40


@dataclass(frozen=True)
class Sample:
    """One look at an HPA: when, its target's replicas, what it wants, the utilization measured, the load."""

    time: float
    replicas: int
    desired: int
    utilization: int | None
    load: str


class HPAChart:
    """Replicas and utilization of one HPA, sampled by ``observe()``."""

    def __init__(self, cluster: "Cluster", name: str, namespace: str = "default") -> None:
        self.cluster, self.name, self.namespace = cluster, name, namespace
        self.samples: list[Sample] = []
        self.target: int | None = None
        self.bounds = (1, 1)

    def observe(self, load: str = "") -> Sample:
        """Record the HPA as it is now; ``load`` labels the period that ends here."""
        hpa = self.cluster.get("horizontalpodautoscalers", self.name, self.namespace)
        spec, status = hpa.get("spec") or {}, hpa.get("status") or {}
        self.bounds = (int(spec.get("minReplicas") or 1), int(spec["maxReplicas"]))
        utilization = None
        for metric in spec.get("metrics") or ():
            target = ((metric.get("resource") or {}).get("target") or {}).get("averageUtilization")
            if target is not None:
                self.target = int(target)
                break
        for metric in status.get("currentMetrics") or ():
            current = ((metric.get("resource") or {}).get("current") or {}).get("averageUtilization")
            if current is not None:
                utilization = int(current)
                break
        sample = Sample(self.cluster.now, int(status.get("currentReplicas") or 0),
                        int(status.get("desiredReplicas") or 0), utilization, load)
        self.samples.append(sample)
        return sample

    def rows(self) -> str:
        """The samples as a text table."""
        lines = [f"{'time':>7}  {'replicas':>8}  {'desired':>7}  {'cpu':>5}  load"]
        for s in self.samples:
            cpu = f"{s.utilization}%" if s.utilization is not None else "-"
            lines.append(f"{s.time:7.0f}  {s.replicas:8d}  {s.desired:7d}  {cpu:>5}  {s.load}")
        return "\n".join(lines)

    # -- drawing ------------------------------------------------------------------------------------
    def svg(self) -> str:
        if not self.samples:
            return f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="40"><text x="8" y="24" ' \
                   f'font-family="sans-serif" font-size="12">no samples yet: call observe()</text></svg>'
        start, end = self.samples[0].time, max(self.samples[-1].time, self.samples[0].time + 1)
        height = TOP + 2 * PANEL + GAP + 28
        x = lambda t: LEFT + (t - start) / (end - start) * (WIDTH - LEFT - RIGHT)   # noqa: E731
        parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
                 f'font-family="sans-serif" font-size="11">',
                 f'<text x="{LEFT}" y="16" font-size="13" font-weight="bold">HPA {escape(self.name)}</text>']
        parts += self._load_spans(x, height)
        top_replicas = max(self.bounds[1], max(s.replicas for s in self.samples), 1)
        parts += self._panel(TOP, "replicas", top_replicas, [(s.time, s.replicas) for s in self.samples], x,
                             "#1f77b4", guides=[(self.bounds[0], "min"), (self.bounds[1], "max")], steps=True)
        measured = [(s.time, s.utilization) for s in self.samples if s.utilization is not None]
        top_cpu = max([self.target or 0, 100] + [u for _, u in measured])
        parts += self._panel(TOP + PANEL + GAP, "cpu % of request", top_cpu, measured, x, "#d62728",
                             guides=[(self.target, "target")] if self.target is not None else [], steps=False)
        parts.append(f'<text x="{WIDTH - RIGHT}" y="{height - 6}" text-anchor="end">virtual time (s): '
                     f'{start:.0f} to {end:.0f}</text></svg>')
        return "".join(parts)

    def _load_spans(self, x, height: int) -> list[str]:
        spans, previous = [], self.samples[0].time
        for sample in self.samples[1:]:
            if sample.load:
                spans.append(f'<rect x="{x(previous):.1f}" y="{TOP}" width="{x(sample.time) - x(previous):.1f}" '
                             f'height="{height - TOP - 24}" fill="#ffdd88" opacity="0.35"/>')
            previous = sample.time
        labels, last = [], None
        for sample in self.samples[1:]:
            if sample.load and sample.load != last:
                labels.append(f'<text x="{x(sample.time) - 2:.1f}" y="{TOP - 4}" fill="#996600">'
                              f'{escape(sample.load)}</text>')
            last = sample.load
        return spans + labels

    def _panel(self, top: int, title: str, high: float, points: list[tuple[float, int]], x, colour: str, *,
               guides: list[tuple[int, str]], steps: bool) -> list[str]:
        y = lambda v: top + PANEL - v / high * PANEL                                 # noqa: E731
        out = [f'<rect x="{LEFT}" y="{top}" width="{WIDTH - LEFT - RIGHT}" height="{PANEL}" fill="none" '
               f'stroke="#999"/>',
               f'<text x="{LEFT - 6}" y="{top + 10}" text-anchor="end">{high:g}</text>',
               f'<text x="{LEFT - 6}" y="{top + PANEL}" text-anchor="end">0</text>',
               f'<text x="{LEFT + 4}" y="{top + 12}" fill="{colour}">{escape(title)}</text>']
        for value, label in guides:
            out.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(value):.1f}" y2="{y(value):.1f}" '
                       f'stroke="#888" stroke-dasharray="4 3"/><text x="{WIDTH - RIGHT - 2}" y="{y(value) - 2:.1f}" '
                       f'text-anchor="end" fill="#666">{escape(label)} {value}</text>')
        if points:
            coords = []
            for index, (t, v) in enumerate(points):
                if steps and index:
                    coords.append(f"{x(t):.1f},{y(points[index - 1][1]):.1f}")
                coords.append(f"{x(t):.1f},{y(v):.1f}")
            out.append(f'<polyline points="{" ".join(coords)}" fill="none" stroke="{colour}" stroke-width="2"/>')
        return out

    def _repr_svg_(self) -> str:
        return self.svg()
