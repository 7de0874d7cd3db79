"""The iptables chains of a Service drawn from kube-proxy's rules: hooks -> KUBE-SERVICES -> KUBE-SVC -> KUBE-SEP -> pod."""

from __future__ import annotations

import random

import pytest

from engine.network.netfilter import Netfilter
from engine.proxy.endpoint import endpoints_map
from engine.proxy.iptables.rules import RulesConfig, build_restore_input, endpoint_chain, service_chain
from engine.proxy.serviceport import service_ports
from engine.viz.iptables_chains import iptables_chains

JUMPS = ('*nat\n-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES\n'
         '-A OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES\nCOMMIT\n')


def _service(name: str, ip: str, affinity: bool = False, node_port: int = 0) -> dict:
    spec = {"type": "NodePort" if node_port else "ClusterIP", "clusterIP": ip,
            "ports": [{"name": "http", "port": 80, "protocol": "TCP", **({"nodePort": node_port} if node_port else {})}]}
    if affinity:
        spec["sessionAffinity"] = "ClientIP"
    return {"metadata": {"name": name, "namespace": "default"}, "spec": spec}


def _slice(name: str, ips: list[str]) -> dict:
    return {"metadata": {"name": f"{name}-x", "namespace": "default", "labels": {"kubernetes.io/service-name": name}},
            "addressType": "IPv4", "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}],
            "endpoints": [{"addresses": [ip], "conditions": {"ready": True}, "nodeName": "node-1"} for ip in ips]}


@pytest.fixture
def rules() -> Netfilter:
    services = {**service_ports(_service("web", "10.96.0.20", node_port=30080)),
                **service_ports(_service("db", "10.96.0.30", affinity=True))}
    slices = [_slice("web", ["10.244.1.5", "10.244.2.5", "10.244.3.5"]), _slice("db", ["10.244.1.7"])]
    netfilter = Netfilter(lambda: 0.0, random.Random(0))
    netfilter.restore(build_restore_input(services, endpoints_map(slices, "node-1"),
                                          RulesConfig(node_name="node-1", cluster_cidr="10.244.0.0/16")), noflush=True)
    netfilter.restore(JUMPS, noflush=True)
    return netfilter


def test_the_path_runs_from_the_hooks_through_the_service_chain_to_each_pod(rules, helpers) -> None:
    svc = service_chain("default/web:http", "tcp")
    seps = [endpoint_chain("default/web:http", "tcp", f"10.244.{i}.5:8080") for i in (1, 2, 3)]
    edges = {(tail, head) for tail, head, _ in helpers.edges_of(iptables_chains(rules, "default/web").source)}
    assert ("PREROUTING", "KUBE-SERVICES") in edges and ("OUTPUT", "KUBE-SERVICES") in edges
    assert ("KUBE-SERVICES", svc) in edges
    assert {(svc, sep) for sep in seps} <= edges
    assert {(sep, f"pod 10.244.{i}.5/8080") for sep, i in zip(seps, (1, 2, 3))} <= edges
    assert ("KUBE-NODEPORTS", service_chain("default/web:http", "tcp", "KUBE-EXT-")) in edges
    assert not any("10.244.1.7" in head for _, head in edges), "another Service's chains are left out"


def test_each_endpoint_arrow_shows_its_probability_and_a_third_of_new_connections(rules, helpers) -> None:
    svc = service_chain("default/web:http", "tcp")
    labels = [attrs for tail, head, attrs in helpers.edges_of(iptables_chains(rules, "default/web").source)
              if tail == svc and head.startswith("KUBE-SEP-")]
    assert len(labels) == 3
    assert "p=0.3333" in labels[0] and "p=0.5000" in labels[1] and "otherwise" in labels[2]
    assert all("33% of new connections" in label for label in labels)


def test_affinity_checks_are_dashed_and_masquerade_marks_dotted(rules, helpers) -> None:
    source = iptables_chains(rules, "default/db").source
    svc = service_chain("default/db:http", "tcp")
    edges = helpers.edges_of(source)
    assert any(tail == svc and "dashed" in attrs and "recent" in attrs for tail, _, attrs in edges)
    assert any(head == "KUBE-MARK-MASQ" and "dotted" in attrs for _, head, attrs in edges)


def test_saved_text_draws_the_same_graph(rules) -> None:
    assert iptables_chains(rules.save(), "default/web").source == iptables_chains(rules, "default/web").source


def test_a_cluster_needs_a_node() -> None:
    with pytest.raises(ValueError, match="node="):
        iptables_chains(object(), "default/web")
