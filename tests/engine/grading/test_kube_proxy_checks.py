"""The kube-proxy lab's plugs and checks: right rules pass, typical mistakes are named by what the packets did."""

from __future__ import annotations

import json

import pytest

from engine.grading import GradingFailure
from engine.grading.kube_proxy import NodeStandIn, Plugged, RulesRejected, kube_proxy_cluster, send
from engine.grading.kube_proxy_checks import (check_cluster_endpoints, check_node_port_rules, check_service_rules,
                                              fixed_cases)
from engine.grading.kube_proxy_live import check_in_cluster

LEARNER = '''
from engine.grading.kube_proxy import endpoint_chain, service_chain


def cluster_endpoints(endpoint_slices, port_name):
    ready, serving_terminating = [], []
    for slice_ in endpoint_slices:
        if slice_.get("addressType", "IPv4") != "IPv4":
            continue
        port = next((p["port"] for p in slice_.get("ports") or [] if (p.get("name") or "") == port_name), None)
        if port is None:
            continue
        for item in slice_.get("endpoints") or []:
            conditions = item.get("conditions") or {}
            is_ready = conditions.get("ready") is not False
            serving = is_ready if conditions.get("serving") is None else conditions["serving"]
            address = f"{item['addresses'][0]}:{port}"
            if is_ready and address not in ready:
                ready.append(address)
            elif not is_ready and serving and conditions.get("terminating") and address not in serving_terminating:
                serving_terminating.append(address)
    return sorted(ready or serving_terminating)


def service_rules(service, endpoint_slices):
    meta, spec = service["metadata"], service["spec"]
    lines = []
    for port in spec["ports"]:
        port_name = port.get("name") or ""
        name = f"{meta['namespace']}/{meta['name']}" + (f":{port_name}" if port_name else "")
        endpoints = cluster_endpoints(endpoint_slices, port_name)
        if not endpoints:
            continue
        svc = service_chain(name, "tcp")
        lines.append(f":{svc} - [0:0]")
        lines.append(f"-A KUBE-SERVICES -p tcp -d {spec['clusterIP']} --dport {port['port']} -j {svc}")
        n = len(endpoints)
        for i, address in enumerate(endpoints):
            sep = endpoint_chain(name, "tcp", address)
            chance = f" -m statistic --mode random --probability {1 / (n - i):0.10f}" if i < n - 1 else ""
            lines.append(f":{sep} - [0:0]")
            lines.append(f"-A {svc}{chance} -j {sep}")
            lines.append(f"-A {sep} -s {address.split(':')[0]} -j KUBE-MARK-MASQ")
            lines.append(f"-A {sep} -p tcp -j DNAT --to-destination {address}")
    return lines


def node_port_rules(service, endpoint_slices):
    meta = service["metadata"]
    lines = []
    for port in service["spec"]["ports"]:
        port_name = port.get("name") or ""
        if not port.get("nodePort") or not cluster_endpoints(endpoint_slices, port_name):
            continue
        name = f"{meta['namespace']}/{meta['name']}" + (f":{port_name}" if port_name else "")
        ext = service_chain(name, "tcp", "KUBE-EXT-")
        lines.append(f":{ext} - [0:0]")
        lines.append(f"-A KUBE-NODEPORTS -p tcp --dport {port['nodePort']} -j {ext}")
        lines.append(f"-A {ext} -j KUBE-MARK-MASQ")
        lines.append(f"-A {ext} -j {service_chain(name, 'tcp')}")
    return lines
'''


def learner(old: str = "", new: str = "") -> dict:
    """The functions a learner typed (compiled as a notebook cell is), with one line changed."""
    assert old in LEARNER
    namespace: dict = {}
    exec(compile(LEARNER.replace(old, new), "<ipython-input-7>", "exec"), namespace)
    return namespace


RIGHT = learner()


def test_right_rules_pass_the_checks_on_a_node() -> None:
    check_cluster_endpoints(RIGHT["cluster_endpoints"], seed=1)
    check_service_rules(RIGHT["service_rules"], seed=2)
    check_node_port_rules(RIGHT["service_rules"], RIGHT["node_port_rules"], seed=3)


def test_send_reports_where_connections_went() -> None:
    service, slices = fixed_cases()[0]
    spread = send(RIGHT["service_rules"], service, slices, 400)
    assert set(spread) == {"10.244.1.5:8080", "10.244.2.6:8080", "10.244.1.9:8080", "10.244.2.8:8080"}
    assert set(send(RIGHT["service_rules"], service, slices, 40, node_port_rules=RIGHT["node_port_rules"],
                    node_port=30080)) == set(spread)


@pytest.mark.parametrize("old, new, check, words", [
    ("{1 / (n - i):0.10f}", "{1 / n:0.10f}", "service", "the last one far too much"),
    ("            if is_ready and address not in ready:", "            if address not in ready:", "endpoints",
     "only ready endpoints get traffic"),
    ("            if is_ready and address not in ready:", "            if address not in ready:", "service",
     "an endpoint whose conditions.ready is false gets none"),
    ("-j DNAT --to-destination {address}", "-j DNAT --to-destination {address.split(':')[0]}:{port['port']}",
     "service", "not to the Service's port 80"),
    ("            lines.append(f\"-A {sep} -s {address.split(':')[0]} -j KUBE-MARK-MASQ\")\n", "", "service",
     "hairpin traffic"),
    ("            lines.append(f\"-A {sep} -s {address.split(':')[0]} -j KUBE-MARK-MASQ\")",
     "            lines.append(f\"-A {sep} -j KUBE-MARK-MASQ\")", "service", "mark only an endpoint's own traffic"),
    ("        lines.append(f\"-A {ext} -j KUBE-MARK-MASQ\")\n", "", "node_port", "marked for masquerade"),
    ("            lines.append(f\":{sep} - [0:0]\")\n", "", "service", "the line: -A KUBE-SEP-"),
    ("        port_name = port.get(\"name\") or \"\"\n        name =", "        name =", "service",
     "NameError: name 'port_name' is not defined (line"),
], ids=["1/n on every rule skews the spread", "not-ready endpoints are listed", "not-ready endpoints get traffic",
        "DNAT to the Service's port", "no hairpin masquerade", "every connection masqueraded",
        "NodePort traffic not masqueraded", "an undeclared chain fails iptables-restore, with its line",
        "an exception names the learner's line"])
def test_a_typical_mistake_is_named(old: str, new: str, check: str, words: str) -> None:
    wrong = learner(old, new)
    with pytest.raises(GradingFailure) as failure:
        if check == "endpoints":
            check_cluster_endpoints(wrong["cluster_endpoints"], seed=1)
        elif check == "service":
            check_service_rules(wrong["service_rules"], seed=2)
        else:
            check_node_port_rules(wrong["service_rules"], wrong["node_port_rules"], seed=3)
    assert words in str(failure.value)


def test_handing_the_work_to_the_engine_gets_no_marks() -> None:
    namespace: dict = {}
    exec(compile('''
def cluster_endpoints(endpoint_slices, port_name):
    from engine.proxy.endpoint import categorize_endpoints, endpoints_map
    from engine.proxy.serviceport import ServicePortInfo, ServicePortName
    found = {str(e): e for name, eps in endpoints_map(endpoint_slices, None).items() if name.port == port_name
             for e in eps}
    info = ServicePortInfo(ServicePortName("", "", port_name), "10.96.0.1", 80)
    return sorted(str(e) for e in categorize_endpoints(sorted(found.values(), key=str), info).cluster)
''', "<ipython-input-9>", "exec"), namespace)
    with pytest.raises(GradingFailure, match="hands the work to the engine's own implementation"):
        check_cluster_endpoints(namespace["cluster_endpoints"], seed=1)


def test_a_node_forgets_the_chains_of_endpoints_that_are_gone() -> None:
    service, slices = fixed_cases()[0]
    node = NodeStandIn()
    node.load(service, slices, RIGHT["service_rules"])
    before = {c for c in node.iptables.table("nat").chains if c.startswith("KUBE-SEP-")}
    fewer = [dict(slices[0], endpoints=slices[0]["endpoints"][:2])]
    node.load(service, fewer, RIGHT["service_rules"])
    after = {c for c in node.iptables.table("nat").chains if c.startswith("KUBE-SEP-")}
    assert len(before) == 4 and len(after) == 2 and after < before
    assert set(node.spread("10.96.0.20", 80, 200)[0]) == {"10.244.1.5:8080", "10.244.2.6:8080"}


def test_rules_that_iptables_restore_refuses_raise_with_the_line() -> None:
    service, slices = fixed_cases()[0]
    with pytest.raises(RulesRejected, match="the line: -A KUBE-NOPE"):
        NodeStandIn().load(service, slices, lambda svc, eps: ["-A KUBE-NOPE -j ACCEPT"])


def test_right_rules_carry_real_requests_in_a_cluster() -> None:
    check_in_cluster(RIGHT["service_rules"], RIGHT["node_port_rules"], seed=4)


def test_in_a_cluster_a_missing_hairpin_masquerade_times_out_and_errors_are_reported() -> None:
    wrong = learner("            lines.append(f\"-A {sep} -s {address.split(':')[0]} -j KUBE-MARK-MASQ\")\n", "")
    with pytest.raises(GradingFailure, match="a KUBE-MARK-MASQ is missing"):
        check_in_cluster(wrong["service_rules"], wrong["node_port_rules"], seed=4)
    plugged = Plugged()
    broken = kube_proxy_cluster(lambda svc, eps: 1 / 0, seed=4, nodes=1, plugged=plugged)
    broken.apply({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
                  "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]}})
    broken.run(2)
    assert plugged.errors and "ZeroDivisionError" in plugged.errors[0] and "default/web" in plugged.errors[0]
    kubernetes = broken.get("service", "kubernetes")["spec"]["clusterIP"]
    reached = broken.curl("node-1", f"https://{kubernetes}/version")      # the engine still writes the API server's
    assert reached.hops[-1].what == "received" and reached.hops[-1].headers.startswith(f"{kubernetes}:443 >")


def test_kube_proxys_rule_writer_reports_a_restore_error_and_keeps_the_engines_services() -> None:
    from types import SimpleNamespace

    from engine.grading.kube_proxy import CONFIG, LearnerRules
    from engine.proxy.endpoint import endpoints_map
    from engine.proxy.serviceport import service_ports

    service, slices = fixed_cases()[0]
    dns = dict(service, metadata={"name": "kube-dns", "namespace": "kube-system"},
               spec=dict(service["spec"], type="ClusterIP", clusterIP="10.96.0.10"))
    dns_slices = [dict(slices[0], metadata={"name": "kube-dns-1", "namespace": "kube-system",
                                             "labels": {"kubernetes.io/service-name": "kube-dns"}})]
    objects = {"default/web": service, "kube-system/kube-dns": dns}
    plugged = Plugged()
    rules = LearnerRules([lambda svc, eps: ["-A KUBE-SVC-MISSING -j ACCEPT"]], plugged)
    rules.attach(SimpleNamespace(indexer=SimpleNamespace(get_by_key=objects.get)),
                 SimpleNamespace(indexer=SimpleNamespace(list=lambda: slices + dns_slices)))
    text = rules({**service_ports(service), **service_ports(dns)}, endpoints_map(slices + dns_slices, "node-1"),
                 CONFIG, set())
    assert "Chain 'KUBE-SVC-MISSING' does not exist" in plugged.errors[0] and "the line: -A KUBE-SVC-MISSING" in \
        plugged.errors[0]
    assert '"kube-system/kube-dns:http cluster IP"' in text and '"default/web:http cluster IP"' not in text


def test_the_labs_kube_proxy_still_serves_its_health_servers() -> None:
    cluster = kube_proxy_cluster(RIGHT["service_rules"], RIGHT["node_port_rules"], seed=4, nodes=1)
    node = cluster.get("node", "node-1")
    at = next(a["address"] for a in node["status"]["addresses"] if a["type"] == "InternalIP")
    healthz = cluster.curl("node-1", f"http://{at}:10256/healthz")
    assert healthz.status == 200 and json.loads(healthz.body)["nodeEligible"] is True
    assert cluster.curl("node-1", f"http://{at}:10256/livez").status == 200
