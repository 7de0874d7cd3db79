"""A packet's path, hop by hop, as a ``graphviz.Digraph``: where it went, what changed it, and why.

``packet_path(result)`` draws the hops of a ``Cluster.curl`` result (or any
list of ``engine.network.Hop``): one box per step, numbered in order and
chained by arrows, grouped by where it happened: a box per node
("node-2 · 172.18.0.4"), and inside it a box per pod on that node when
the cluster is given (``packet_path(result, cluster)``); the hops on the
wire between nodes sit in a "nodes' network 172.18.0.0/16" box. Each step
shows what happened (``route``, ``DNAT``, ``encapsulate``, ``deliver``...),
the rule or route that decided it, and the packet's headers after it; the
outer VXLAN header of an encapsulated packet is its own line.

Colours carry the lesson: address translations (DNAT, MASQUERADE, SNAT,
IPVS, conntrack) orange, encapsulation blue, the program answering green,
drops and refusals red. The answer's hops (after ``deliver``) are joined by
dashed arrows. ``path_table`` prints the same steps as text. Promises: the
same hops give the same DOT source; nothing in the cluster changes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterable

import graphviz

if TYPE_CHECKING:
    from engine.network.packet import Hop

NAT = {"DNAT", "SNAT", "MASQUERADE", "IPVS", "conntrack"}
TUNNEL = {"encapsulate", "decapsulate"}
ANSWER = {"deliver", "received"}
FAILED = {"policy DROP", "DROP", "REJECT", "refused", "unreachable", "lost", "blackhole"}
COLORS = {"nat": "#ef6c00", "tunnel": "#1565c0", "answer": "#2e7d32", "failed": "#c62828", "other": "#37474f"}
FILLS = {"nat": "#fff3e0", "tunnel": "#e3f2fd", "answer": "#e8f5e9", "failed": "#ffebee", "other": "#ffffff"}
WIRE = "nodes' network 172.18.0.0/16"


def _kind(what: str) -> str:
    if what in NAT:
        return "nat"
    if what in TUNNEL:
        return "tunnel"
    if what in ANSWER:
        return "answer"
    if what in FAILED:
        return "failed"
    return "other"


def _hops(result: Any) -> list["Hop"]:
    return list(getattr(result, "hops", result))


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _label(number: int, hop: "Hop") -> str:
    outer, _, inner = hop.headers.rpartition(" | ")
    rows = [f"<b>{number}. {_escape(hop.what)}</b>"]
    if hop.rule:
        rows.append(f'<font point-size="9">{_escape(hop.rule)}</font>')
    if outer:
        rows.append(f'<font point-size="9" color="{COLORS["tunnel"]}">outer {_escape(outer)}</font>')
    rows.append(f'<font point-size="9" face="monospace">{_escape(inner)}</font>')
    return "<" + "<br/>".join(rows) + ">"


def _place(hop: "Hop", pods_on: dict[str, str]) -> tuple[str, str | None]:
    """(node box, pod box or None) of a hop."""
    if hop.what == "wire" or hop.where in ("fabric", "vpc"):
        return WIRE, None
    if hop.where in pods_on:
        return pods_on[hop.where], hop.where
    return hop.where, None


def _pods_on(cluster: Any) -> tuple[dict[str, str], dict[str, str]]:
    """pod key -> node name, and node name -> address, from the cluster's network stacks."""
    fabric = getattr(cluster, "fabric", None) if cluster is not None else None
    if fabric is None:
        return {}, {}
    pods = {netns.pod: host.name for host in fabric.hosts.values() for netns in host.pods.values()}
    return pods, {host.name: host.address for host in fabric.hosts.values()}


def packet_path(result: Any, cluster: Any = None, *, title: str | None = None) -> graphviz.Digraph:
    """Draw the hops of ``result`` (a ``CurlResult`` or a list of hops), grouped by node and pod."""
    hops = _hops(result)
    pods_on, addresses = _pods_on(cluster)
    graph = graphviz.Digraph("packet_path", graph_attr={"rankdir": "TB", "fontname": "Helvetica",
                                                        "label": title or getattr(result, "url", ""),
                                                        "labelloc": "t", "compound": "true"},
                             node_attr={"shape": "box", "style": "rounded,filled", "fontname": "Helvetica",
                                        "fontsize": "10"})
    groups: dict[str, dict[str | None, list[tuple[str, str, str]]]] = {}
    for number, hop in enumerate(hops, 1):
        node, pod = _place(hop, pods_on)
        kind = _kind(hop.what)
        groups.setdefault(node, {}).setdefault(pod, []).append(
            (f"hop{number}", _label(number, hop), kind))
    for index, (node, pods) in enumerate(groups.items()):
        caption = f"{node} · {addresses[node]}" if node in addresses else node
        with graph.subgraph(name=f"cluster_{index}") as box:
            box.attr(label=caption, style="rounded", color="#90a4ae")
            for pod_index, (pod, steps) in enumerate(pods.items()):
                if pod is None:
                    _steps(box, steps)
                    continue
                with box.subgraph(name=f"cluster_{index}_{pod_index}") as pod_box:
                    pod_box.attr(label=f"pod {pod}", style="rounded,dashed", color="#78909c")
                    _steps(pod_box, steps)
    answered = False
    for number in range(1, len(hops)):
        answered = answered or hops[number - 1].what in ("deliver", "refused")
        graph.edge(f"hop{number}", f"hop{number + 1}", style="dashed" if answered else "solid",
                   color=COLORS["answer"] if answered else COLORS["other"])
    return graph


def _steps(box: graphviz.Digraph, steps: Iterable[tuple[str, str, str]]) -> None:
    for ident, label, kind in steps:
        box.node(ident, label=label, color=COLORS[kind], fillcolor=FILLS[kind])


def path_table(result: Any) -> str:
    """The hops as aligned text: number, where, what, headers, rule."""
    return "\n".join(f"{number:>3}. {hop}" for number, hop in enumerate(_hops(result), 1))
