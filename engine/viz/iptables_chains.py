"""A Service's iptables chains as kube-proxy wrote them on one node, as a ``graphviz.Digraph``.

The packet's way through the nat table: the hooks (``PREROUTING`` for
packets from pods and other hosts, ``OUTPUT`` for the node's own) jump to
``KUBE-SERVICES``; the Service's rule there (its cluster IP and port, or a
load balancer IP) jumps to ``KUBE-SVC-<hash>`` (``KUBE-NODEPORTS`` ->
``KUBE-EXT-<hash>`` for a NodePort); that chain picks an endpoint chain
``KUBE-SEP-<hash>`` with ``-m statistic --probability p``, and each SEP
chain DNATs to one pod. Every arrow out of a Service chain is labelled with
its probability as written and the share of all new connections it gets
(the i-th of n rules matches 1/(n-i) of what is left: 1/n each); session
affinity (``-m recent --rcheck``) arrows are dashed, jumps to
``KUBE-MARK-MASQ`` dotted. ``iptables_chains(source, service)`` takes a
``Netfilter``, iptables-save text, or a Cluster with ``node=``; ``service``
(``namespace/name``) limits the drawing to that Service's chains. It only
reads: the same rules give the same DOT source.
"""

from __future__ import annotations

import random
import re
import shlex
from typing import Any

import graphviz

from engine.network.netfilter import Netfilter
from engine.network.xtables import Rule

HOOKS = ("PREROUTING", "OUTPUT")
COLORS = {"hook": "#eeeeee", "KUBE-SERVICES": "#bbdefb", "KUBE-NODEPORTS": "#bbdefb", "KUBE-SVC-": "#c5e1a5",
          "KUBE-SVL-": "#c5e1a5", "KUBE-EXT-": "#ffe0b2", "KUBE-FW-": "#ffccbc", "KUBE-SEP-": "#fff59d",
          "KUBE-MARK-MASQ": "#e1bee7", "pod": "#ffffff"}


def _netfilter(source: Any, node: str | None) -> Netfilter:
    if isinstance(source, Netfilter):
        return source
    if isinstance(source, str):
        loaded = Netfilter(lambda: 0.0, random.Random(0))
        loaded.restore(source)
        return loaded
    if node is None:
        raise ValueError("iptables_chains(cluster, ...) needs node=: the rules are per node")
    return source.machines[node].network_stack.iptables


def _color(chain: str) -> str:
    for prefix, color in COLORS.items():
        if chain.startswith(prefix):
            return color
    return COLORS["hook"]


def _comment(rule: Rule) -> str:
    for match in rule.matches:
        if match.module == "comment":
            return match.options[0].values[0]
    return ""


def _probability(rule: Rule) -> float | None:
    for match in rule.matches:
        if match.module == "statistic":
            option = match.get("--probability")
            return float(option.values[0]) if option else None
    return None


def _is_affinity(rule: Rule) -> bool:
    return any(m.module == "recent" and m.get("--rcheck") for m in rule.matches)


def _belongs(rule: Rule, service: str | None) -> bool:
    if service is None:
        return True
    comment = _comment(rule)
    return comment == service or comment.startswith((service + ":", service + " "))


def _entry_label(rule: Rule) -> str:
    words = shlex.split(rule.text())
    parts = []
    for flag in ("-d", "--dport"):
        if flag in words:
            parts.append(words[words.index(flag) + 1].removesuffix("/32"))
    return ":".join(parts) if parts else re.sub(r'^.*--comment "?([^"]*)"?.*$', r"\1", _comment(rule))


def iptables_chains(source: Any, service: str | None = None, *, node: str | None = None) -> graphviz.Digraph:
    """The nat-table chains a Service's packets walk on one node (every Service's without ``service``)."""
    netfilter = _netfilter(source, node)
    table = netfilter.table("nat")
    graph = graphviz.Digraph("iptables", graph_attr={"rankdir": "LR", "fontname": "Helvetica"},
                             node_attr={"shape": "box", "style": "rounded,filled", "fontname": "Helvetica",
                                        "fontsize": "10"}, edge_attr={"fontname": "Helvetica", "fontsize": "9"})
    drawn: set[str] = set()

    def node_for(chain: str) -> None:
        if chain not in drawn:
            drawn.add(chain)
            graph.node(chain, chain, fillcolor=_color(chain))

    frontier: list[str] = []
    for hook in HOOKS:
        for rule in table.chains[hook].rules if hook in table.chains else ():
            if rule.target == "KUBE-SERVICES":
                node_for(hook)
                node_for("KUBE-SERVICES")
                graph.edge(hook, "KUBE-SERVICES")
    for entry in ("KUBE-SERVICES", "KUBE-NODEPORTS"):
        chain = table.chains.get(entry)
        if chain is None:
            continue
        for rule in chain.rules:
            if rule.target == "KUBE-NODEPORTS":
                if service is None or any(_belongs(r, service) for r in table.chains.get("KUBE-NODEPORTS").rules):
                    node_for(entry)
                    node_for("KUBE-NODEPORTS")
                    graph.edge(entry, "KUBE-NODEPORTS", label="dst-type LOCAL")
                continue
            if rule.target and rule.target.startswith("KUBE-") and _belongs(rule, service):
                node_for(entry)
                node_for(rule.target)
                graph.edge(entry, rule.target, label=_entry_label(rule))
                frontier.append(rule.target)
    seen: set[str] = set()
    while frontier:
        name = frontier.pop(0)
        if name in seen or name not in table.chains or name == "KUBE-MARK-MASQ":
            continue
        seen.add(name)
        left = 1.0
        for rule in table.chains[name].rules:
            target = rule.target
            if target == "DNAT":
                pod = rule.target_option("--to-destination") or "?"
                ident = "pod " + pod.replace(":", "/")        # a ':' in a DOT edge would name a port
                if ident not in drawn:
                    drawn.add(ident)
                    graph.node(ident, f"DNAT\\n{pod}", fillcolor=COLORS["pod"], shape="component")
                graph.edge(name, ident)
                continue
            if not target or target not in table.chains:
                continue
            node_for(target)
            if target == "KUBE-MARK-MASQ":
                graph.edge(name, target, style="dotted", label="mark for SNAT")
                continue
            if _is_affinity(rule):
                graph.edge(name, target, style="dashed", label="seen this client (recent)")
            elif name.startswith(("KUBE-SVC-", "KUBE-SVL-")):
                probability = _probability(rule)
                share = left * (probability if probability is not None else 1.0)
                left -= share
                written = f"p={probability:.4f}" if probability is not None else "otherwise"
                graph.edge(name, target, label=f"{written}\\n{share:.0%} of new connections")
            else:
                graph.edge(name, target)
            frontier.append(target)
    return graph
