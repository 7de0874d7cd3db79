"""CgroupView: each container's cgroup limits against what it uses, on one node (a live widget).

For every container on the node's runtime it shows what the kernel would
show: the cgroup settings the kubelet computes from the pod's requests and
limits (``linux_resources``: cpu shares, cpu quota over its period,
memory limit) and the accounting since the last look (the CPU
used per second of virtual time, the share of CFS periods that were
throttled, the memory in use), as bars: CPU use against the quota, memory
against the limit, red when throttled or near the limit (90 %). A container
without a limit is drawn against its node's capacity and says "no limit".

``CgroupView(cluster, node)`` is an ``ipywidgets.VBox``; ``refresh()``
looks again and redraws it, and ``rows()`` returns the figures of the last
look (use since the look before). It reads the CRI
(``container_stats``) and the pods of ``namespace``, never changes anything.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import TYPE_CHECKING

import ipywidgets as widgets

from engine.runtime import cri
from engine.runtime.runc import linux_resources

if TYPE_CHECKING:
    from engine.cluster import Cluster

WARN = 0.9
"""Memory use at this fraction of the limit turns the bar red."""


@dataclass(frozen=True)
class CgroupRow:
    """One container's cgroup: its settings and its use since the previous look."""

    pod: str
    container: str
    shares: int
    quota_cores: float          # quota / period; 0: no limit
    memory_limit: int           # bytes; 0: no limit
    cpu_cores: float            # CPU used per second since the previous look
    throttled: float            # fraction of the periods throttled since the previous look
    memory: int                 # bytes in use
    oom_kills: int


class CgroupView(widgets.VBox):
    """The cgroups of the running containers of one node (see the module docstring)."""

    def __init__(self, cluster: "Cluster", node: str = "node-1", namespace: str = "default") -> None:
        self.cluster = cluster
        self.namespace = namespace
        self.runtime = cluster.runtimes[node]
        self._last: dict[str, tuple[float, int, int, int]] = {}
        self._rows: list[CgroupRow] = []
        self.body = widgets.HTML()
        super().__init__([widgets.HTML(f"<b>cgroups on {html.escape(node)}</b>"), self.body])
        self.refresh()

    def rows(self) -> list[CgroupRow]:
        """The figures of the last ``refresh`` (use since the look before it)."""
        return list(self._rows)

    def _measure(self) -> list[CgroupRow]:
        found = []
        now = self.cluster.now
        specs = {(pod["metadata"]["name"], c["name"]): c.get("resources")
                 for pod in self.cluster.list("pods", namespace=self.namespace)
                 for c in [*(pod["spec"].get("initContainers") or []), *pod["spec"]["containers"]]}
        for record in self.runtime.list_containers():
            status = self.runtime.container_status(record.id)
            if status.state != cri.CONTAINER_RUNNING:
                continue
            stats = self.runtime.container_stats(record.id)
            pod = status.labels.get("io.kubernetes.pod.name", "")
            settings = linux_resources(specs.get((pod, status.metadata.name)))
            then, usage, periods, throttled = self._last.get(record.id, (now, 0, 0, 0))
            elapsed = now - then
            self._last[record.id] = (now, stats["usage_usec"], stats["nr_periods"], stats["nr_throttled"])
            new_periods = stats["nr_periods"] - periods
            found.append(CgroupRow(
                pod=pod, container=status.metadata.name,
                shares=settings.cpu_shares,
                quota_cores=settings.cpu_quota / settings.cpu_period if settings.cpu_period else 0.0,
                memory_limit=settings.memory_limit_in_bytes,
                cpu_cores=(stats["usage_usec"] - usage) / 1e6 / elapsed if elapsed > 0 else 0.0,
                throttled=(stats["nr_throttled"] - throttled) / new_periods if new_periods > 0 else 0.0,
                memory=stats["memory_working_set_bytes"], oom_kills=stats["oom_kills"]))
        return sorted(found, key=lambda row: (row.pod, row.container))

    def refresh(self) -> None:
        """Look again: use since the previous look, and redraw."""
        self._rows = self._measure()
        self.body.value = render_rows(self._rows)


def _bar(fraction: float, red: bool, text: str) -> str:
    width = max(0.0, min(fraction, 1.0)) * 100
    colour = "#d9534f" if red else "#5cb85c"
    return (f'<div style="width:220px;border:1px solid #999;position:relative;height:16px">'
            f'<div style="width:{width:.0f}%;background:{colour};height:100%"></div>'
            f'<span style="position:absolute;left:4px;top:0;font-size:11px">{html.escape(text)}</span></div>')


def render_rows(rows: list[CgroupRow]) -> str:
    """The table of bars for these rows (HTML)."""
    lines = ["<table><tr><th>pod/container</th><th>cpu.shares</th><th>CPU use / quota</th>"
             "<th>memory / limit</th></tr>"]
    for row in rows:
        if row.quota_cores:
            cpu = _bar(row.cpu_cores / row.quota_cores, row.throttled > 0,
                       f"{row.cpu_cores:.2f} of {row.quota_cores:.2f} cores, {row.throttled:.0%} throttled")
        else:
            cpu = _bar(0.0, False, f"{row.cpu_cores:.2f} cores, no limit")
        mib = row.memory / 2**20
        if row.memory_limit:
            memory = _bar(row.memory / row.memory_limit, row.memory >= WARN * row.memory_limit,
                          f"{mib:.0f} of {row.memory_limit / 2**20:.0f} MiB" + (f", {row.oom_kills} OOM kills"
                                                                                if row.oom_kills else ""))
        else:
            memory = _bar(0.0, False, f"{mib:.0f} MiB, no limit")
        lines.append(f"<tr><td>{html.escape(row.pod)}/{html.escape(row.container)}</td><td>{row.shares}</td>"
                     f"<td>{cpu}</td><td>{memory}</td></tr>")
    lines.append("</table>")
    return "".join(lines)


__all__ = ["CgroupRow", "CgroupView", "render_rows"]
