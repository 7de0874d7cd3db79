"""The cluster view: every node as a box with its pods inside, as an ipywidgets widget.

``render_cluster_html(nodes, pods)`` is the whole view as a pure function of
plain API objects: one box per Node (control-plane nodes first, then by
name) with its Ready badge, a badge for each pressure condition that is True
(MemoryPressure, DiskPressure, PIDPressure, NetworkUnavailable), two bars
(the sum of its pods' requests against its allocatable CPU and memory: what
the scheduler counts), and its pods as chips coloured by state: Pending amber, Running green, Succeeded
grey, Failed red, Terminating purple. Pods without ``spec.nodeName`` sit in
a "Pending (unscheduled)" box; pods bound to a node that has no Node object
get a box of their own, marked "no Node object".

``ClusterView(cluster)`` shows that HTML and re-renders it on ``refresh()``.
It reads the API server's watch cache, the state a ``kubectl get`` would
see, without writing an audit entry: the view must not appear in the
request traces it sits next to. It never changes the cluster.

The HTML is deterministic (same objects, same text), escapes every name,
and its elements carry ``data-node`` / ``data-pod`` attributes and
``kv-phase-<state>`` classes so that tests and notebooks can find things.
"""

from __future__ import annotations

import html
from fractions import Fraction
from typing import TYPE_CHECKING, Any, Iterable

import ipywidgets as widgets

from engine.api.quantity import BINARY_SI, Quantity, parse_quantity
from engine.api.resources import pod_requests
from engine.viz._objects import node_ready, node_roles, pod_state, sort_nodes

if TYPE_CHECKING:
    from engine.cluster import Cluster

UNSCHEDULED = "Pending (unscheduled)"
CACHE_LIMIT = 100_000
PHASE_COLORS = {
    "Pending": "#ffb300",       # amber
    "Running": "#43a047",       # green
    "Succeeded": "#9e9e9e",     # grey
    "Failed": "#e53935",        # red
    "Terminating": "#8e24aa",   # purple
    "Unknown": "#546e7a",
}
TROUBLE_CONDITIONS = ("MemoryPressure", "DiskPressure", "PIDPressure", "NetworkUnavailable")
READY_COLORS = {"Ready": "#2e7d32", "NotReady": "#c62828", "Unknown": "#757575"}

STYLE = """<style>
.kv-cluster{font-family:Helvetica,Arial,sans-serif;font-size:12px;display:flex;flex-wrap:wrap;gap:8px}
.kv-node{border:2px solid #90a4ae;border-radius:8px;padding:6px;width:230px;background:#fafafa}
.kv-node.kv-notready{border-color:#c62828;background:#ffebee}
.kv-node.kv-unscheduled{border-style:dashed;border-color:#ffb300;background:#fff8e1}
.kv-node-head{display:flex;justify-content:space-between;font-weight:bold;margin-bottom:4px}
.kv-badge{color:white;border-radius:4px;padding:0 5px;font-size:11px;font-weight:normal}
.kv-roles{color:#607d8b;font-size:11px}
.kv-pressure{margin-left:4px}
.kv-changed{outline:3px solid #ff6f00;outline-offset:1px}
.kv-bar{display:flex;align-items:center;gap:4px;font-size:10px;color:#455a64}
.kv-bar-track{flex:1;height:7px;background:#e0e0e0;border-radius:3px;overflow:hidden}
.kv-bar-fill{height:7px;background:#1e88e5}
.kv-bar-fill.kv-over{background:#e53935}
.kv-pods{display:flex;flex-wrap:wrap;gap:3px;margin-top:4px}
.kv-pod{color:white;border-radius:4px;padding:1px 4px;font-size:10px;white-space:nowrap;max-width:210px;
overflow:hidden;text-overflow:ellipsis}
""" + "".join(f".kv-phase-{phase.lower()}{{background:{color}}}\n" for phase, color in PHASE_COLORS.items()) + \
    "</style>"


def _requests(pod: dict) -> dict[str, Quantity]:
    try:
        return pod_requests(pod)
    except (ValueError, TypeError):
        return {}


def _counts(pod: dict) -> bool:
    """Whether the pod holds its requests on the node: terminal pods do not (as the scheduler counts)."""
    return (pod.get("status") or {}).get("phase") not in ("Succeeded", "Failed")


def _bar(label: str, used: Quantity, total: Quantity | None, text: str) -> str:
    if total is None or total.is_zero():
        percent = 0.0
    else:
        percent = float(used.fraction / total.fraction) * 100
    over = " kv-over" if percent > 100 else ""
    width = min(percent, 100.0)
    return (f'<div class="kv-bar" data-resource="{label}" data-percent="{percent:.0f}">'
            f'<span style="width:3em">{label}</span><div class="kv-bar-track">'
            f'<div class="kv-bar-fill{over}" style="width:{width:.1f}%"></div></div>'
            f'<span>{html.escape(text)}</span></div>')


def _cpu_text(used: Quantity, total: Quantity | None) -> str:
    def cores(q: Quantity | None) -> str:
        if q is None:
            return "?"
        return f"{q.milli_value() / 1000:g}"
    return f"{cores(used)}/{cores(total)} cores"


def _memory_text(used: Quantity, total: Quantity | None) -> str:
    def mebibytes(q: Quantity | None) -> str:
        if q is None:
            return "?"
        value = q.value() / (1024 * 1024)
        return f"{value / 1024:.1f}Gi" if value >= 1024 else f"{value:.0f}Mi"
    return f"{mebibytes(used)}/{mebibytes(total)}"


def _changed(obj: dict | None, mark: str | None) -> str:
    """`` kv-changed`` for an object last written at the marked revision."""
    if obj is None or mark is None:
        return ""
    return " kv-changed" if (obj.get("metadata") or {}).get("resourceVersion") == mark else ""


def _pod_chip(pod: dict, mark: str | None = None) -> str:
    metadata = pod.get("metadata") or {}
    state = pod_state(pod)
    name = metadata.get("name", "")
    namespace = metadata.get("namespace", "")
    shown = name if namespace in ("default", "") else f"{namespace}/{name}"
    title = f"{namespace}/{name}: {state}"
    return (f'<span class="kv-pod kv-phase-{state.lower()}{_changed(pod, mark)}" data-pod="{html.escape(namespace)}/'
            f'{html.escape(name)}" data-state="{state}" title="{html.escape(title)}">{html.escape(shown)}</span>')


def _pod_usage(pod: dict, cache: dict | None) -> tuple[int, int]:
    """(cpu millicores, memory bytes) the pod requests; cached by uid and resourceVersion when asked."""
    metadata = pod.get("metadata") or {}
    key = (metadata.get("uid"), metadata.get("resourceVersion"))
    if cache is not None and key[0] and key in cache:
        return cache[key]
    requests = _requests(pod)
    usage = (requests["cpu"].milli_value() if "cpu" in requests else 0,
             requests["memory"].value() if "memory" in requests else 0)
    if cache is not None and key[0]:
        if len(cache) > CACHE_LIMIT:
            cache.clear()
        cache[key] = usage
    return usage


def _pressures(node: dict) -> list[str]:
    """The node's trouble conditions that are True (MemoryPressure, DiskPressure, ...), as kubectl names them."""
    return [condition["type"] for condition in (node.get("status") or {}).get("conditions") or []
            if condition.get("type") in TROUBLE_CONDITIONS and condition.get("status") == "True"]


def _node_box(name: str, node: dict | None, pods: list[dict], cache: dict | None = None,
              mark: str | None = None) -> str:
    chips = "".join(_pod_chip(pod, mark) for pod in pods)
    if node is None:
        return (f'<div class="kv-node kv-notready" data-node="{html.escape(name)}">'
                f'<div class="kv-node-head"><span>{html.escape(name)}</span>'
                f'<span class="kv-badge" style="background:#757575">no Node object</span></div>'
                f'<div class="kv-pods">{chips}</div></div>')
    ready = node_ready(node)
    allocatable = (node.get("status") or {}).get("allocatable") or {}
    cpu_total = parse_quantity(allocatable["cpu"]) if "cpu" in allocatable else None
    memory_total = parse_quantity(allocatable["memory"]) if "memory" in allocatable else None
    cpu_milli, memory_total_bytes = 0, 0
    for pod in pods:
        if _counts(pod):
            cpu, memory = _pod_usage(pod, cache)
            cpu_milli += cpu
            memory_total_bytes += memory
    cpu_used, memory_used = Quantity(Fraction(cpu_milli, 1000)), Quantity(memory_total_bytes, BINARY_SI)
    roles = ", ".join(node_roles(node))
    unschedulable = " · cordoned" if (node.get("spec") or {}).get("unschedulable") else ""
    pressures = "".join(f'<span class="kv-badge kv-pressure" style="background:#e65100">{kind}</span>'
                        for kind in _pressures(node))
    classes = "kv-node" + ("" if ready == "Ready" else " kv-notready") + _changed(node, mark)
    return (f'<div class="{classes}" data-node="{html.escape(name)}" data-ready="{ready}">'
            f'<div class="kv-node-head"><span>{html.escape(name)}</span>'
            f'<span class="kv-badge" style="background:{READY_COLORS[ready]}">{ready}</span></div>'
            f'<div class="kv-roles">{html.escape(roles or "worker")}{unschedulable} · {len(pods)} pods'
            f'{pressures}</div>'
            + _bar("cpu", cpu_used, cpu_total, _cpu_text(cpu_used, cpu_total))
            + _bar("mem", memory_used, memory_total, _memory_text(memory_used, memory_total))
            + f'<div class="kv-pods">{chips}</div></div>')


def _pod_key(pod: dict) -> tuple[str, str]:
    metadata = pod.get("metadata") or {}
    return metadata.get("namespace", ""), metadata.get("name", "")


def render_cluster_html(nodes: Iterable[dict], pods: Iterable[dict], *, cache: dict | None = None,
                        changed_at: int | None = None) -> str:
    """The cluster view as HTML: node boxes with their pods, and the unscheduled pods.

    ``cache`` (any dict the caller keeps) remembers each pod version's requests between renders.
    ``changed_at`` outlines (class ``kv-changed``) the nodes and pods last written at that revision.
    """
    mark = str(changed_at) if changed_at else None
    ordered = sort_nodes(nodes)
    by_node: dict[str, list[dict]] = {node["metadata"]["name"]: [] for node in ordered}
    orphans: dict[str, list[dict]] = {}
    unscheduled: list[dict] = []
    for pod in sorted(pods, key=_pod_key):
        node_name = (pod.get("spec") or {}).get("nodeName")
        if not node_name:
            unscheduled.append(pod)
        elif node_name in by_node:
            by_node[node_name].append(pod)
        else:
            orphans.setdefault(node_name, []).append(pod)
    parts = [STYLE, '<div class="kv-cluster">']
    parts += [_node_box(node["metadata"]["name"], node, by_node[node["metadata"]["name"]], cache, mark)
              for node in ordered]
    parts += [_node_box(name, None, orphans[name], cache, mark) for name in sorted(orphans)]
    if unscheduled:
        chips = "".join(_pod_chip(pod, mark) for pod in unscheduled)
        parts.append(f'<div class="kv-node kv-unscheduled" data-node="">'
                     f'<div class="kv-node-head"><span>{UNSCHEDULED}</span>'
                     f'<span class="kv-badge" style="background:{PHASE_COLORS["Pending"]}">'
                     f'{len(unscheduled)}</span></div><div class="kv-pods">{chips}</div></div>')
    if not ordered and not unscheduled and not orphans:
        parts.append("<i>no nodes and no pods</i>")
    parts.append("</div>")
    return "".join(parts)


def _summary(cluster: "Cluster", nodes: list[dict], pods: list[dict]) -> str:
    ready = sum(1 for node in nodes if node_ready(node) == "Ready")
    return (f'<b>t = {cluster.now:.1f} s</b> · etcd revision {cluster.store.revision} · '
            f'{ready}/{len(nodes)} nodes Ready · {len(pods)} pods')


class ClusterView(widgets.VBox):
    """Nodes and their pods, live: call ``refresh()`` (Controls does, on every tick)."""

    def __init__(self, cluster: "Cluster", **kwargs: Any) -> None:
        self.cluster = cluster
        self.header = widgets.HTML()
        self.body = widgets.HTML()
        self._requests: dict = {}
        super().__init__(children=[self.header, self.body], **kwargs)
        self.refresh()

    def refresh(self) -> None:
        """Re-read Nodes and Pods from the API server's watch cache and redraw."""
        nodes = list(self.cluster.apiserver.cached_list("nodes"))
        pods = list(self.cluster.apiserver.cached_list("pods"))
        self.header.value = _summary(self.cluster, nodes, pods)
        self.body.value = render_cluster_html(nodes, pods, cache=self._requests)
