"""The NetworkPolicy decision (``networking.k8s.io/v1``), a pure function of plain objects.

``decide(policies, namespaces, pods, direction, pod, peer_ip, port, protocol)``
answers: may this connection *into* (``Ingress``) or *out of* (``Egress``)
``pod`` happen? The rules, as the API documents them:

- A pod is **isolated** for a direction when at least one policy of its
  namespace selects it (``spec.podSelector``; ``{}`` selects every pod) and
  has that direction in ``policyTypes``. ``policyTypes`` defaults to
  ``["Ingress"]``, plus ``"Egress"`` when the policy has an ``egress``
  section. A pod no policy isolates allows everything.
- An isolated pod allows a connection if **any** rule of **any** policy
  selecting it allows it: policies only add (there is no deny rule). A
  policy with no rules for the direction (``ingress: []`` or none) is a
  *default deny*.
- A rule allows when one of its peers (``from`` / ``to``) matches the other
  end **and** one of its ``ports`` matches; an empty or missing list matches
  everything. A peer is ``podSelector`` (pods of the policy's namespace),
  ``namespaceSelector`` (every pod of the matching namespaces), both in one
  element (those pods *in* those namespaces: an AND, unlike two elements,
  an OR), or ``ipBlock`` (``cidr`` minus its ``except`` ranges).
- A port is a number or the *name* of a container port (resolved on the
  pod that receives the connection), a protocol (``TCP`` by default) and
  an optional ``endPort`` for a range.

Only a connection's first packet is judged: the policy agent lets packets
of an established connection through in both directions (conntrack), so
the answers of an allowed connection come back although no rule names
them. What this never does: look anything up; the caller passes the pods
and namespaces it knows (the agent's informer caches).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Iterable

from engine.api.selectors import from_label_selector


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str
    policy: str = ""


def policy_types(policy: dict) -> list[str]:
    spec = policy.get("spec") or {}
    if spec.get("policyTypes"):
        return list(spec["policyTypes"])
    return ["Ingress", "Egress"] if "egress" in spec else ["Ingress"]


def _selects(selector: dict | None, labels: dict | None) -> bool:
    return from_label_selector(selector or {}).matches(labels or {})


def _key(obj: dict) -> str:
    return f"{obj['metadata'].get('namespace', 'default')}/{obj['metadata']['name']}"


def selecting(policies: Iterable[dict], pod: dict, direction: str) -> list[dict]:
    """The policies that isolate ``pod`` for ``direction``."""
    namespace = pod["metadata"].get("namespace", "default")
    return [p for p in policies if p["metadata"].get("namespace", "default") == namespace
            and direction in policy_types(p) and _selects((p.get("spec") or {}).get("podSelector"),
                                                          pod["metadata"].get("labels"))]


def _peer_matches(peer: dict, policy_namespace: str, peer_ip: str, peer_pod: dict | None,
                  namespaces: dict[str, dict]) -> bool:
    if "ipBlock" in peer:
        block = peer["ipBlock"]
        address = ipaddress.IPv4Address(peer_ip)
        if address not in ipaddress.IPv4Network(block["cidr"], strict=False):
            return False
        return not any(address in ipaddress.IPv4Network(e, strict=False) for e in block.get("except") or ())
    if peer_pod is None:
        return False
    pod_namespace = peer_pod["metadata"].get("namespace", "default")
    if "namespaceSelector" in peer:
        labels = (namespaces.get(pod_namespace) or {}).get("metadata", {}).get("labels") or {}
        if not _selects(peer["namespaceSelector"], labels):
            return False
    elif pod_namespace != policy_namespace:
        return False
    if "podSelector" in peer:
        return _selects(peer["podSelector"], peer_pod["metadata"].get("labels"))
    return True


def container_port(pod: dict | None, name: str, protocol: str) -> int | None:
    """A named port's number in ``pod`` (its containers' ``ports[].name``)."""
    for container in ((pod or {}).get("spec") or {}).get("containers") or ():
        for port in container.get("ports") or ():
            if port.get("name") == name and port.get("protocol", "TCP") == protocol:
                return int(port["containerPort"])
    return None


def _port_matches(ports: list[dict] | None, port: int, protocol: str, receiver: dict | None) -> bool:
    if not ports:
        return True
    for entry in ports:
        if entry.get("protocol", "TCP") != protocol:
            continue
        wanted = entry.get("port")
        if wanted is None:
            return True
        if isinstance(wanted, str) and not wanted.isdigit():
            if container_port(receiver, wanted, protocol) == port:
                return True
            continue
        end = entry.get("endPort")
        if int(wanted) == port or (end is not None and int(wanted) <= port <= int(end)):
            return True
    return False


def decide(policies: Iterable[dict], namespaces: dict[str, dict], direction: str, pod: dict, peer_ip: str,
           peer_pod: dict | None, port: int, protocol: str = "TCP") -> Decision:
    """May a connection reach (Ingress) or leave (Egress) ``pod``, with ``peer_ip`` / ``peer_pod`` at the
    other end and ``port`` the destination port?"""
    isolating = selecting(policies, pod, direction)
    if not isolating:
        return Decision(True, f"no NetworkPolicy selects {_key(pod)} for {direction}")
    receiver = pod if direction == "Ingress" else peer_pod
    section, peers_key = ("ingress", "from") if direction == "Ingress" else ("egress", "to")
    for policy in sorted(isolating, key=_key):
        namespace = policy["metadata"].get("namespace", "default")
        for rule in (policy.get("spec") or {}).get(section) or ():
            peers = rule.get(peers_key)
            if peers and not any(_peer_matches(p, namespace, peer_ip, peer_pod, namespaces) for p in peers):
                continue
            if _port_matches(rule.get("ports"), port, protocol, receiver):
                return Decision(True, f"allowed by NetworkPolicy {_key(policy)}", _key(policy))
    names = ", ".join(_key(p) for p in sorted(isolating, key=_key))
    return Decision(False, f"{direction} of {_key(pod)} denied: no rule of {names} allows {peer_ip} "
                           f"{protocol}/{port}")
