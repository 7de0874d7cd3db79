"""The networking lab's checks: right answers pass, typical mistakes are named, delegation earns nothing."""

from __future__ import annotations

import ipaddress

import pytest

from engine.api.selectors import from_label_selector
from engine.grading import GradingFailure
from engine.grading.networking import check_node_cidr, check_pod_ip, reference_node_cidr, reference_pod_ip
from engine.grading.networking_policy import check_connection_allowed, check_peer_matches


def node_cidr(cluster: str, mask: int, taken: list[str], last: str | None, round_robin: bool = True) -> str | None:
    blocks = [str(b) for b in ipaddress.ip_network(cluster).subnets(new_prefix=mask)]
    start = (blocks.index(last) + 1) % len(blocks) if last and round_robin else 0
    return next((blocks[(start + i) % len(blocks)] for i in range(len(blocks))
                 if blocks[(start + i) % len(blocks)] not in taken), None)


def pod_ip(subnet: str, reserved: list[str], last: str | None, skip_gateway: bool = True) -> str | None:
    network = ipaddress.ip_network(subnet)
    first, end = network.network_address + 1, network.broadcast_address - 1
    size = int(end) - int(first) + 1
    start = int(ipaddress.ip_address(last)) - int(first) + 1 if last else 0
    for offset in range(size):
        candidate = first + (start + offset) % size
        if (candidate != first or not skip_gateway) and str(candidate) not in reserved:
            return str(candidate)
    return None


def selects(selector: dict | None, labels: dict | None) -> bool:
    return from_label_selector(selector or {}).matches(labels or {})


def peer_matches(peer: dict, policy_namespace: str, ip: str, pod: dict | None, labels: dict, as_or: bool = False) -> bool:
    if "ipBlock" in peer:
        address = ipaddress.ip_address(ip)
        return address in ipaddress.ip_network(peer["ipBlock"]["cidr"]) and not any(
            address in ipaddress.ip_network(e) for e in peer["ipBlock"].get("except") or [])
    if pod is None:
        return False
    namespace = pod["metadata"]["namespace"]
    if as_or and "namespaceSelector" in peer and "podSelector" in peer:
        return selects(peer["namespaceSelector"], labels.get(namespace)) or selects(peer["podSelector"],
                                                                                    pod["metadata"]["labels"])
    if "namespaceSelector" in peer:
        if not selects(peer["namespaceSelector"], labels.get(namespace)):
            return False
    elif namespace != policy_namespace:
        return False
    return selects(peer["podSelector"], pod["metadata"]["labels"]) if "podSelector" in peer else True


def test_right_answers_pass() -> None:
    check_node_cidr(node_cidr, seed=1)
    check_pod_ip(pod_ip, seed=2)
    check_peer_matches(peer_matches, seed=3)
    check_connection_allowed(_own_allowed, seed=4)


def _own_allowed(policies: list, labels: dict, direction: str, pod: dict, ip: str, peer: dict | None, port: int,
                 protocol: str = "TCP") -> bool:
    namespace = pod["metadata"]["namespace"]
    section, key = ("ingress", "from") if direction == "Ingress" else ("egress", "to")
    receiver = pod if direction == "Ingress" else peer
    isolated = False
    for policy in policies:
        spec = policy["spec"]
        types = spec.get("policyTypes") or (["Ingress", "Egress"] if "egress" in spec else ["Ingress"])
        if policy["metadata"]["namespace"] != namespace or direction not in types or \
                not selects(spec.get("podSelector"), pod["metadata"]["labels"]):
            continue
        isolated = True
        for rule in spec.get(section) or []:
            if rule.get(key) and not any(peer_matches(p, namespace, ip, peer, labels) for p in rule[key]):
                continue
            if _ports(rule.get("ports"), port, protocol, receiver):
                return True
    return not isolated


def _ports(ports: list | None, port: int, protocol: str, receiver: dict | None) -> bool:
    if not ports:
        return True
    for entry in ports:
        if entry.get("protocol", "TCP") != protocol:
            continue
        wanted = entry.get("port")
        if wanted is None:
            return True
        if isinstance(wanted, str):
            named = [p["containerPort"] for c in (receiver or {}).get("spec", {}).get("containers", [])
                     for p in c.get("ports") or [] if p.get("name") == wanted and p.get("protocol", "TCP") == protocol]
            if port in named[:1]:
                return True
        elif wanted <= port <= entry.get("endPort", wanted):
            return True
    return False


@pytest.mark.parametrize("check, answer, words", [
    (check_node_cidr, lambda *a: node_cidr(*a, round_robin=False), "round robin"),
    (check_pod_ip, lambda *a: pod_ip(*a, skip_gateway=False), "never hands it out"),
    (check_peer_matches, lambda *a: peer_matches(*a, as_or=True), "are an AND"),
    (check_connection_allowed, lambda *a, **k: _own_allowed(*a, **k) and False, "not isolated"),
], ids=["a first-fit node allocator is not round robin", "host-local never hands out the gateway",
        "both selectors in one peer are an AND", "an unselected pod is open"])
def test_typical_mistakes_are_named(check, answer, words) -> None:
    with pytest.raises(GradingFailure, match=words):
        check(answer, seed=5)


def test_handing_the_work_to_the_engine_earns_nothing() -> None:
    with pytest.raises(GradingFailure, match="hands the work to the engine"):
        check_node_cidr(reference_node_cidr, seed=6)
    with pytest.raises(GradingFailure, match="hands the work to the engine"):
        check_pod_ip(lambda *args: reference_pod_ip(*args), seed=6)
