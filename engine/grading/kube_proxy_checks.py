"""Lab 8's checks: a learner's kube-proxy rules graded by where the traffic lands, never by their text.

- ``check_cluster_endpoints(cluster_endpoints, seed)``: the endpoints a Service port's traffic may go
  to, compared with the engine's (``engine.proxy.endpoint``: ready ones, else serving-and-terminating
  ones, each at the port its own EndpointSlice gives the port name) on seeded EndpointSlices;
- ``check_service_rules(service_rules, seed)``: for seeded Services, the learner's lines loaded on a
  node stand-in (``engine.grading.kube_proxy.NodeStandIn``); thousands of new connections to each
  cluster IP must all be DNATed to the usable endpoints, evenly (a chi-squared test at p = 0.0001),
  and a pod reaching itself through its Service must be marked for masquerade (hairpin) while other
  pods keep their source address;
- ``check_node_port_rules(service_rules, node_port_rules, seed)``: connections to the node's
  NodePorts go where the cluster IP's go, and are all marked for masquerade;
- in a running cluster: ``engine.grading.kube_proxy_live.check_in_cluster``.

Every failure names the case, what the packets did and, where it recognises one, the typical
mistake (1/n on every rule, not-ready endpoints, DNAT to the Service's port, no hairpin masquerade,
a restore error with its line). An answer that hands the work to the engine's own rule writer gets
no marks. Nothing here prints or writes to stderr.
"""

from __future__ import annotations

import random
from collections import Counter
from typing import Any, Callable

from engine.grading.delegation import OwnWork
from engine.grading.feedback import compare, fail
from engine.grading.kube_proxy import (CLIENT_IP, NODE_IP, NOT_DNATED, OUTSIDE_IP, LearnerError, NodeStandIn,
                                       RulesRejected)
from engine.proxy.endpoint import SERVICE_NAME_LABEL, categorize_endpoints, endpoints_map
from engine.proxy.iptables import rules as engine_rules
from engine.proxy.ipvs import proxier as ipvs_proxier
from engine.proxy.serviceport import ServicePortInfo, ServicePortName

SEE = "course/08_kube_proxy.ipynb and the lab's instructions above this cell"
CHI2_P001 = {1: 10.83, 2: 13.82, 3: 16.27, 4: 18.47, 5: 20.52, 6: 22.46}
"""Chi-squared at p = 0.001 by degrees of freedom: an even spread passes 999 times in 1000."""
CHI2_P0001 = {1: 15.14, 2: 18.42, 3: 21.11, 4: 23.51, 5: 25.74, 6: 27.86}
"""At p = 0.0001, for the stand-in's many ports: thousands of connections make a real skew stand far out."""
PER_ENDPOINT = 250
ENGINE_PIECES = [engine_rules.build_restore_input, engine_rules._service_rules, engine_rules._endpoint_rules,
                 categorize_endpoints, endpoints_map, ipvs_proxier.Proxier]


def own_work(what: str) -> OwnWork:
    """Watches an answer named ``what`` for handing its work to the engine's kube-proxy."""
    return OwnWork(what, ENGINE_PIECES, see=SEE)


# -- the engine's answer ---------------------------------------------------------------------------
def reference_endpoints(slices: list[dict], port_name: str) -> list[str]:
    """kube-proxy's endpoints for a port name (Cluster traffic policy), as sorted ``ip:port`` strings."""
    found = [eps for name, eps in endpoints_map(slices, None).items() if name.port == (port_name or "")]
    merged = {str(ep): ep for eps in found for ep in eps}
    info = ServicePortInfo(ServicePortName("", "", port_name or ""), "10.96.0.1", 80)
    return sorted(str(ep) for ep in categorize_endpoints(sorted(merged.values(), key=str), info).cluster)


# -- seeded Services and EndpointSlices ------------------------------------------------------------
def _slice(service: str, namespace: str, suffix: str, endpoints: list[dict], ports: list[dict]) -> dict:
    return {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
            "metadata": {"name": f"{service}-{suffix}", "namespace": namespace,
                         "labels": {SERVICE_NAME_LABEL: service}},
            "addressType": "IPv4", "endpoints": endpoints, "ports": ports}


def _endpoint(rng: random.Random, ip: str, state: str) -> dict:
    conditions = {"ready": {"ready": True, "serving": True, "terminating": False},
                  "unset": {},
                  "not-ready": {"ready": False, "serving": False, "terminating": False},
                  "terminating": {"ready": False, "serving": True, "terminating": True},
                  "gone": {"ready": False, "serving": False, "terminating": True}}[state]
    return {"addresses": [ip], "conditions": dict(conditions), "nodeName": rng.choice(("node-1", "node-2"))}


def random_case(rng: random.Random, index: int) -> tuple[dict, list[dict]]:
    """A Service (ClusterIP or NodePort, one or two ports) and its EndpointSlices, endpoints in every state."""
    namespace = rng.choice(("default", "shop", "team-a"))
    name = rng.choice(("web", "api", "cart", "search", "db-proxy")) + f"-{index}"
    ports, slice_ports = [], []
    for port_name, port, target in rng.sample([("http", 80, 8080), ("metrics", 9100, 9102), ("grpc", 81, 9376)],
                                              rng.choice((1, 1, 2))):
        port_name = port_name if rng.random() < 0.85 else ""
        ports.append({"name": port_name, "port": port, "protocol": "TCP",
                      "targetPort": port_name or target})
        slice_ports.append({"name": port_name, "port": target, "protocol": "TCP"})
    if len(ports) == 2 and not all(p["name"] for p in ports):
        ports, slice_ports = ports[:1], slice_ports[:1]
    node_port = rng.random() < 0.5
    if node_port:
        for port in ports:
            port["nodePort"] = rng.randint(30000, 32767)
    service = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": namespace},
               "spec": {"type": "NodePort" if node_port else "ClusterIP",
                        "clusterIP": f"10.96.{rng.randint(1, 250)}.{rng.randint(2, 250)}", "ports": ports}}
    states = rng.choice([["ready"] * 3 + ["not-ready"], ["ready", "unset", "ready", "ready", "terminating"],
                         ["terminating", "terminating", "not-ready", "gone"], ["not-ready", "gone"],
                         ["ready"] * rng.randint(1, 5) + ["not-ready"] * rng.randint(0, 2)])
    ips = rng.sample(range(2, 250), len(states))
    endpoints = [_endpoint(rng, f"10.244.{rng.randint(1, 2)}.{ip}", state) for ip, state in zip(ips, states)]
    cut = rng.randint(0, len(endpoints))
    slices = [_slice(name, namespace, "a1b2c", endpoints[:cut] or endpoints, slice_ports)]
    if endpoints[cut:] and cut:
        slices.append(_slice(name, namespace, "d3e4f", endpoints[cut:], slice_ports))
    if rng.random() < 0.3:                    # a pod whose named port resolves to another number: its own slice
        extra = _endpoint(rng, f"10.244.3.{rng.randint(2, 250)}", "ready")
        slices.append(_slice(name, namespace, "g5h6i", [extra], [dict(p, port=p["port"] + 1) for p in slice_ports]))
    return service, slices


def fixed_cases() -> list[tuple[dict, list[dict]]]:
    """The lab's own example first (three ready of four), then four endpoints: every mistake shows there."""
    rng = random.Random(8)
    service = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": "default"},
               "spec": {"type": "NodePort", "clusterIP": "10.96.0.20",
                        "ports": [{"name": "http", "port": 80, "protocol": "TCP", "targetPort": "http",
                                   "nodePort": 30080}]}}
    endpoints = [_endpoint(rng, ip, state) for ip, state in
                 [("10.244.1.5", "ready"), ("10.244.2.6", "ready"), ("10.244.2.7", "not-ready"),
                  ("10.244.1.9", "ready"), ("10.244.2.8", "ready")]]
    slices = [_slice("web", "default", "x7k2p", endpoints, [{"name": "http", "port": 8080, "protocol": "TCP"}])]
    return [(service, slices)]


def cases(seed: int, count: int = 14) -> list[tuple[dict, list[dict]]]:
    rng = random.Random(seed)
    return fixed_cases() + [random_case(rng, i) for i in range(count)]


def describe_case(service: dict, slices: list[dict]) -> str:
    meta, spec = service["metadata"], service["spec"]
    ports = ", ".join(f"{p.get('name') or '(unnamed)'} {p['port']} -> targetPort {p.get('targetPort')}"
                      + (f", nodePort {p['nodePort']}" if p.get("nodePort") else "") for p in spec["ports"])
    parts = []
    for slice_ in slices:
        listed = []
        for endpoint in slice_["endpoints"]:
            conditions = endpoint.get("conditions") or {}
            state = ", ".join(f"{k}={v}" for k, v in conditions.items()) or "no conditions"
            listed.append(f"{endpoint['addresses'][0]} ({state})")
        ports_of = ", ".join(f"{p.get('name') or '(unnamed)'}={p['port']}" for p in slice_["ports"])
        parts.append(f"slice {slice_['metadata']['name']} [ports {ports_of}]: " + "; ".join(listed))
    return (f"Service {meta['namespace']}/{meta['name']} {spec['type']} clusterIP {spec['clusterIP']} ({ports}); "
            + " | ".join(parts))


# -- cluster_endpoints ------------------------------------------------------------------------------
def _diagnose_endpoints(case: tuple, expected: Any, got: Any) -> str | None:
    slices, port_name = case
    want, have = set(expected.value), set(got.value or ())
    everyone = {f"{e['addresses'][0]}" for s in slices for e in s["endpoints"]}
    if have - want and {a.split(":")[0] for a in have - want} <= everyone and \
            {a.split(":")[1] for a in have - want} <= {a.split(":")[1] for a in want | have}:
        return "only ready endpoints get traffic (conditions.ready true or missing); the others get none"
    if not have and want:
        return ("when no endpoint is ready, kube-proxy falls back to the serving endpoints that are terminating "
                "(conditions.serving and conditions.terminating both true)")
    if {a.split(":")[0] for a in have} == {a.split(":")[0] for a in want}:
        return "each endpoint's port is the port of its own EndpointSlice whose name is the Service port's name"
    return None


def check_cluster_endpoints(cluster_endpoints: Callable, seed: int) -> None:
    own = own_work("cluster_endpoints")
    checked = []
    for service, slices in cases(seed):
        for port in service["spec"]["ports"]:
            checked.append((slices, port.get("name") or ""))
    compare(own.wrap(cluster_endpoints), reference_endpoints, checked,
            describe=lambda slices, port_name: f"port name {port_name!r} of " + describe_case(
                {"metadata": {"namespace": slices[0]["metadata"]["namespace"],
                              "name": slices[0]["metadata"]["labels"][SERVICE_NAME_LABEL]},
                 "spec": {"type": "?", "clusterIP": "?", "ports": []}}, slices).split("; ", 1)[1],
            normalize=lambda value: sorted(str(v) for v in value) if isinstance(value, (list, tuple, set)) else value,
            what="cluster_endpoints", diagnose=_diagnose_endpoints, see=SEE)
    own.check(cluster_endpoints)


# -- service_rules on a node stand-in ---------------------------------------------------------------
def _load(node: NodeStandIn, service: dict, slices: list[dict], *functions: Callable) -> None:
    try:
        node.load(service, slices, *functions)
    except LearnerError as error:
        fail(f"{error}\nfor {describe_case(service, slices)}", see=SEE)
    except RulesRejected as error:
        fail(f"iptables-restore refused the rules kube-proxy wrote with yours:\n{error}\n"
             f"for {describe_case(service, slices)}",
             hint="declare every chain you create with a chain line ':NAME - [0:0]' before rules jump to it, and "
                  "write rules as '-A CHAIN matches -j TARGET' (no *nat or COMMIT: kube-proxy writes those)", see=SEE)


def uneven(spread: Counter, expected: list[str], table: dict[int, float] = CHI2_P001) -> bool:
    """Is the spread over ``expected`` too uneven to come from an even random choice (chi-squared)?"""
    count = sum(spread[e] for e in expected)
    if len(expected) < 2 or count == 0:
        return False
    mean = count / len(expected)
    chi2 = sum((spread[e] - mean) ** 2 / mean for e in expected)
    return chi2 > table[min(len(expected) - 1, max(table))]


def _spread_text(spread: Counter, expected: list[str]) -> str:
    total = sum(spread.values()) or 1
    return ", ".join(f"{where}: {spread[where]} ({100 * spread[where] / total:.0f}%)"
                     for where in [*expected, *sorted(set(spread) - set(expected))] if spread[where])


def _judge(where: str, spread: Counter, expected: list[str], service: dict, slices: list[dict],
           port: dict) -> str | None:
    """What is wrong with where connections to ``where`` went, or None."""
    strays = sorted(set(spread) - set(expected))
    shares = _spread_text(spread, expected)
    if not expected:
        if set(strays) - {NOT_DNATED}:
            return (f"connections to {where} were DNATed ({shares}), but no endpoint of that port is ready (nor "
                    "serving and terminating): kube-proxy writes no nat rules for it (the filter table rejects it)")
        return None
    if NOT_DNATED in spread:
        return (f"of {sum(spread.values())} connections to {where}, {spread[NOT_DNATED]} were not DNATed: "
                f"{shares}. KUBE-SERVICES needs a rule for the cluster IP and port that jumps to the Service's "
                "chain, and the last endpoint rule of that chain must take every connection that is left")
    if strays:
        usable_ips = {e.split(":")[0] for e in expected}
        ips = {e['addresses'][0] for s in slices for e in s["endpoints"]}
        if all(s.split(":")[0] in usable_ips and s.split(":")[1] == str(port["port"]) for s in strays):
            return (f"connections to {where} went to {shares}: DNAT sends them to the endpoint's port (its "
                    f"EndpointSlice's port: the Service's targetPort resolved), not to the Service's port "
                    f"{port['port']}")
        if all(s.split(":")[0] in ips for s in strays):
            return (f"connections to {where} went to {shares}, but only ready endpoints ({', '.join(expected)}) "
                    "get traffic: an endpoint whose conditions.ready is false gets none")
        return f"connections to {where} went to {shares}; only {', '.join(expected)} should get them"
    missing = [e for e in expected if not spread[e]]
    if missing:
        return f"connections to {where} went to {shares}: {', '.join(missing)} got none"
    if uneven(spread, expected, CHI2_P0001):
        n = len(expected)
        return (f"the spread of connections to {where} is uneven: {shares}. Each of the {n} endpoints should get "
                f"1/{n}: the first rule of the KUBE-SVC chain matches with probability 1/{n}, the second with "
                f"1/{n - 1} of what is left, ..., the last takes the rest (with 1/{n} on every rule, the later "
                "endpoints get too little and the last one far too much)")
    return None


def _ports(service: dict) -> list[dict]:
    return list(service["spec"]["ports"])


def check_service_rules(service_rules: Callable, seed: int) -> None:
    own = own_work("service_rules")
    watched = own.wrap(service_rules)
    for number, (service, slices) in enumerate(cases(seed)):
        node = NodeStandIn(seed * 100 + number)
        _load(node, service, slices, watched)
        vip = service["spec"]["clusterIP"]
        for port in _ports(service):
            expected = reference_endpoints(slices, port.get("name") or "")
            spread, marked = node.spread(vip, port["port"], PER_ENDPOINT * max(len(expected), 1))
            problem = _judge(f"{vip}:{port['port']}", spread, expected, service, slices, port)
            if problem is None and expected and marked:
                problem = (f"{marked} connections from another pod ({CLIENT_IP}) to {vip}:{port['port']} were "
                           "marked for masquerade (KUBE-MARK-MASQ): mark only an endpoint's own traffic "
                           "(-s <endpoint IP>), so that the pods behind the Service see their clients' addresses")
            for endpoint in expected if problem is None else ():
                ip = endpoint.split(":")[0]
                walks = [node.walk(vip, port["port"], src=ip, sport=50000 + i) for i in range(12 * len(expected))]
                unmarked = [w for w, mark in walks if w == endpoint and not mark]
                if unmarked:
                    problem = (f"a pod reaching itself through its Service ({ip} -> {vip}:{port['port']} -> "
                               f"{endpoint}) was not marked for masquerade: the endpoint's chain needs "
                               f"'-s {ip} -j KUBE-MARK-MASQ' before its DNAT (hairpin traffic: without it the pod "
                               "answers itself directly and the answer never reaches the client's socket)")
                    break
            if problem:
                fail(f"{problem}\nfor {describe_case(service, slices)}", see=SEE)
    own.check(service_rules)


# -- node_port_rules -------------------------------------------------------------------------------
def check_node_port_rules(service_rules: Callable, node_port_rules: Callable, seed: int) -> None:
    own = own_work("node_port_rules")
    watched = own.wrap(node_port_rules)
    for number, (service, slices) in enumerate(cases(seed)):
        if service["spec"]["type"] != "NodePort":
            continue
        node = NodeStandIn(seed * 100 + number)
        _load(node, service, slices, service_rules, watched)
        vip = service["spec"]["clusterIP"]
        for port in _ports(service):
            via_vip, _ = node.spread(vip, port["port"], 300)
            reached = set(via_vip) - {NOT_DNATED}
            spread, marked = node.spread(NODE_IP, port["nodePort"], 300, src=OUTSIDE_IP)
            where = f"the node's port {port['nodePort']} ({NODE_IP}:{port['nodePort']})"
            shares = _spread_text(spread, sorted(reached))
            problem = None
            if not reached:
                if set(spread) != {NOT_DNATED}:
                    problem = (f"connections to {where} went to {shares}, but the Service's cluster IP reaches no "
                               "endpoint: a port without endpoints gets no NodePort rules")
            elif NOT_DNATED in spread:
                problem = (f"of 300 connections from another node to {where}, {spread[NOT_DNATED]} were not DNATed "
                           f"({shares}): KUBE-NODEPORTS needs a rule for --dport {port['nodePort']} that ends in the "
                           "Service's KUBE-SVC chain")
            elif set(spread) - reached:
                problem = (f"connections to {where} went to {shares}; the cluster IP's go to "
                           f"{', '.join(sorted(reached))}: a NodePort leads to the same endpoints")
            elif marked < sum(spread.values()):
                problem = (f"only {marked} of {sum(spread.values())} connections from another node to {where} were "
                           "marked for masquerade: the endpoint may be on another node, and its answer must come "
                           "back through this one (KUBE-MARK-MASQ in the KUBE-EXT chain, before the jump to KUBE-SVC)")
            if problem:
                fail(f"{problem}\nfor {describe_case(service, slices)}", see=SEE)
    own.check(node_port_rules)


__all__ = ["CHI2_P001", "SEE", "cases", "check_cluster_endpoints", "check_node_port_rules", "check_service_rules",
           "describe_case", "fixed_cases", "own_work", "random_case", "reference_endpoints", "uneven"]
