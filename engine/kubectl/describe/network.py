"""describe for NetworkPolicies: which pods a policy selects and what traffic it lets in and out.

Interface: ``describe_networkpolicy(policy, client, now)``, as
``describeNetworkPolicy`` words it: the pod selector, then for each direction
named in ``policyTypes`` the allowed ports and peers of each rule (rules
separated by ``----------``), or that the selected pods are isolated.
"""

from __future__ import annotations

import datetime as _dt
from typing import TYPE_CHECKING

from engine.api.meta import EPOCH, parse_timestamp
from engine.api.selectors import format_label_selector
from engine.kubectl.describe.writer import Writer, print_annotations, print_labels

if TYPE_CHECKING:
    from engine.client.client import Client

INDENT = "    "


def _go_time(timestamp: str | None) -> str:
    """Go's ``time.Time.String()`` of a virtual timestamp: ``2025-01-01 00:00:01 +0000 UTC``."""
    if not timestamp:
        return "0001-01-01 00:00:00 +0000 UTC"
    moment = EPOCH + _dt.timedelta(seconds=parse_timestamp(timestamp))
    return moment.strftime("%Y-%m-%d %H:%M:%S +0000 UTC")


def _rules(w: Writer, rules: list[dict], direction: str) -> None:
    peers_key, peer_word, isolated, unrestricted = (
        ("from", "From", "<none> (Selected pods are isolated for ingress connectivity)",
         "From: <any> (traffic not restricted by source)") if direction == "ingress" else
        ("to", "To", "<none> (Selected pods are isolated for egress connectivity)",
         "To: <any> (traffic not restricted by destination)"))
    if not rules:
        w.write(0, f"{INDENT}{isolated}\n")
        return
    for index, rule in enumerate(rules):
        ports = rule.get("ports") or []
        if not ports:
            w.write(0, f"{INDENT}To Port: <any> (traffic allowed to all ports)\n")
        for port in ports:
            w.write(0, f"{INDENT}To Port: {port.get('port', '')}/{port.get('protocol') or 'TCP'}\n")
        peers = rule.get(peers_key) or []
        if not peers:
            w.write(0, f"{INDENT}{unrestricted}\n")
        for peer in peers:
            w.write(0, f"{INDENT}{peer_word}:\n")
            pods, namespaces, block = peer.get("podSelector"), peer.get("namespaceSelector"), peer.get("ipBlock")
            if pods is not None and namespaces is not None:
                w.write(1, f"{INDENT}NamespaceSelector: {format_label_selector(namespaces)}\n")
                w.write(1, f"{INDENT}PodSelector: {format_label_selector(pods)}\n")
            elif pods is not None:
                w.write(1, f"{INDENT}PodSelector: {format_label_selector(pods)}\n")
            elif namespaces is not None:
                w.write(1, f"{INDENT}NamespaceSelector: {format_label_selector(namespaces)}\n")
            elif block is not None:
                w.write(1, f"{INDENT}IPBlock:\n")
                w.write(2, f"{INDENT}CIDR: {block.get('cidr', '')}\n")
                w.write(2, f"{INDENT}Except: {', '.join(block.get('except') or [])}\n")
        if index != len(rules) - 1:
            w.write(0, f"{INDENT}----------\n")


def describe_networkpolicy(policy: dict, client: "Client", now: float) -> str:
    w = Writer()
    metadata, spec = policy["metadata"], policy.get("spec") or {}
    w.write(0, f"Name:\t{metadata['name']}\n")
    w.write(0, f"Namespace:\t{metadata.get('namespace', '')}\n")
    w.write(0, f"Created on:\t{_go_time(metadata.get('creationTimestamp'))}\n")
    print_labels(w, "Labels", metadata.get("labels"))
    print_annotations(w, "Annotations", metadata.get("annotations"))
    w.write(0, "Spec:\n")
    w.write(1, "PodSelector: ")
    selector = spec.get("podSelector") or {}
    if not selector.get("matchLabels") and not selector.get("matchExpressions"):
        w.write(2, "<none> (Allowing the specific traffic to all pods in this namespace)\n")
    else:
        w.write(2, f"{format_label_selector(selector)}\n")
    types = spec.get("policyTypes") or []
    for direction, title in (("ingress", "Ingress"), ("egress", "Egress")):
        if title in types:
            w.write(1, f"Allowing {direction} traffic:\n")
            _rules(w, spec.get(direction) or [], direction)
        else:
            w.write(1, f"Not affecting {direction} traffic\n")
    w.write(1, f"Policy Types: {', '.join(types)}\n")
    return w.text()
