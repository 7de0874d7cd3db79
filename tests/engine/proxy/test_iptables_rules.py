"""The iptables mode's restore input: the exact chains and rules kube-proxy writes for each kind of Service."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from engine.network.netfilter import Netfilter
from engine.proxy.endpoint import endpoints_map
from engine.proxy.iptables.rules import RulesConfig, build_restore_input, endpoint_chain, probability, service_chain
from engine.proxy.serviceport import service_ports

from proxy_fakes import endpoint_slice, service

NODE = "node-1"
CONFIG = RulesConfig(node_name=NODE, node_ip="172.18.0.3", cluster_cidr="10.244.0.0/16")


def restore_input(svc: dict, slices: list[dict], config: RulesConfig = CONFIG) -> str:
    return build_restore_input(service_ports(svc), endpoints_map(slices, NODE), config)


def nat_rules(text: str) -> list[str]:
    nat = text.split("*nat\n", 1)[1]
    return [line for line in nat.splitlines() if line.startswith("-A")]


def filter_rules(text: str) -> list[str]:
    return [line for line in text.split("*nat\n", 1)[0].splitlines() if line.startswith("-A")]


THREE = [("10.244.1.5", "node-1", True), ("10.244.2.5", "node-2", True), ("10.244.3.5", "node-3", True)]


@pytest.mark.parametrize("name, protocol, expected", [
    ("default/kubernetes:https", "tcp", "KUBE-SVC-NPX46M4PTMTKRN6Y"),
    ("kube-system/kube-dns:dns", "udp", "KUBE-SVC-TCOU7JCQXEZGVUNU"),
    ("kube-system/kube-dns:dns-tcp", "tcp", "KUBE-SVC-ERIFXISQEP7F7OF4"),
    ("ns1/svc1", "tcp", "KUBE-SVC-AQI2S6QIMU7PVVRP"),
], ids=["the kubernetes Service's chain on every cluster", "kube-dns over UDP", "kube-dns over TCP",
        "upstream's test Service"])
def test_service_chain_names_are_upstream_hashes(name: str, protocol: str, expected: str) -> None:
    assert service_chain(name, protocol) == expected


def test_endpoint_chain_names_are_upstream_hashes() -> None:
    assert endpoint_chain("ns1/svc1", "tcp", "10.0.1.1:80") == "KUBE-SEP-3JOIVZTXZZRGORX4"
    assert endpoint_chain("ns1/svc1", "tcp", "10.0.1.2:80") == "KUBE-SEP-IO5XOSKPAXIFQXAJ"


@pytest.mark.parametrize("n, text", [(3, "0.3333333333"), (2, "0.5000000000"), (4, "0.2500000000"),
                                     (7, "0.1428571429")])
def test_probabilities_are_one_over_the_endpoints_left_with_ten_decimals(n: int, text: str) -> None:
    assert probability(n) == text


def test_a_cluster_ip_service_with_three_endpoints_gets_exactly_upstreams_rules() -> None:
    svc = service("svc1", "ns1", cluster_ip="172.30.1.1", ports=[{"port": 80, "protocol": "TCP"}])
    slices = [endpoint_slice("svc1", "ns1", port=80, port_name="", endpoints=[
        ("10.0.1.1", NODE, True), ("10.0.1.2", "host1", True), ("10.0.1.3", "host2", True)])]
    config = RulesConfig(node_name=NODE, cluster_cidr="10.0.0.0/8", random_fully=False)
    mine = Netfilter(lambda: 0.0, random.Random(0))
    mine.restore(restore_input(svc, slices, config), noflush=True)
    upstream = Netfilter(lambda: 0.0, random.Random(0))
    upstream.restore((Path(__file__).parent / "upstream_internal_traffic_policy_cluster.iptables").read_text(),
                     noflush=True)
    assert mine.save() == upstream.save()


def test_cluster_ip_rules_text() -> None:
    svc_chain = service_chain("default/web:http", "tcp")
    seps = [endpoint_chain("default/web:http", "tcp", f"{ip}:8080") for ip, _, _ in THREE]
    assert nat_rules(restore_input(service(), [endpoint_slice(endpoints=THREE)])) == [
        "-A KUBE-POSTROUTING -m mark ! --mark 0x00004000/0x00004000 -j RETURN",
        "-A KUBE-POSTROUTING -j MARK --xor-mark 0x00004000",
        '-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE '
        "--random-fully",
        "-A KUBE-MARK-MASQ -j MARK --or-mark 0x00004000",
        f'-A KUBE-SERVICES -m comment --comment "default/web:http cluster IP" -m tcp -p tcp -d 10.96.0.20 '
        f"--dport 80 -j {svc_chain}",
        f'-A {svc_chain} -m comment --comment "default/web:http cluster IP" -m tcp -p tcp -d 10.96.0.20 '
        "--dport 80 ! -s 10.244.0.0/16 -j KUBE-MARK-MASQ",
        f'-A {svc_chain} -m comment --comment "default/web:http -> 10.244.1.5:8080" -m statistic --mode random '
        f"--probability 0.3333333333 -j {seps[0]}",
        f'-A {svc_chain} -m comment --comment "default/web:http -> 10.244.2.5:8080" -m statistic --mode random '
        f"--probability 0.5000000000 -j {seps[1]}",
        f'-A {svc_chain} -m comment --comment "default/web:http -> 10.244.3.5:8080" -j {seps[2]}',
        f"-A {seps[0]} -m comment --comment default/web:http -s 10.244.1.5 -j KUBE-MARK-MASQ",
        f"-A {seps[0]} -m comment --comment default/web:http -m tcp -p tcp -j DNAT --to-destination 10.244.1.5:8080",
        f"-A {seps[1]} -m comment --comment default/web:http -s 10.244.2.5 -j KUBE-MARK-MASQ",
        f"-A {seps[1]} -m comment --comment default/web:http -m tcp -p tcp -j DNAT --to-destination 10.244.2.5:8080",
        f"-A {seps[2]} -m comment --comment default/web:http -s 10.244.3.5 -j KUBE-MARK-MASQ",
        f"-A {seps[2]} -m comment --comment default/web:http -m tcp -p tcp -j DNAT --to-destination 10.244.3.5:8080",
        '-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in '
        'this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS',
    ]


def test_only_ready_endpoints_get_rules() -> None:
    text = restore_input(service(), [endpoint_slice(endpoints=[
        ("10.244.1.5", "node-1", True), ("10.244.2.5", "node-2", False), ("10.244.3.5", "node-3", False, True, True)])])
    assert "10.244.1.5:8080" in text
    assert "10.244.2.5" not in text and "10.244.3.5" not in text
    assert "--probability" not in text, "one endpoint: the only rule matches always"


def test_serving_terminating_endpoints_are_used_only_when_none_is_ready() -> None:
    text = restore_input(service(), [endpoint_slice(endpoints=[("10.244.3.5", "node-3", False, True, True)])])
    assert "DNAT --to-destination 10.244.3.5:8080" in text


def test_nodeport_jumps_to_the_ext_chain_which_masquerades() -> None:
    svc = service(type_="NodePort", ports=[{"name": "http", "port": 80, "protocol": "TCP", "targetPort": 8080,
                                             "nodePort": 30080}])
    rules = nat_rules(restore_input(svc, [endpoint_slice(endpoints=THREE)]))
    ext = service_chain("default/web:http", "tcp", "KUBE-EXT-")
    svc_chain = service_chain("default/web:http", "tcp")
    assert f"-A KUBE-NODEPORTS -m comment --comment default/web:http -m tcp -p tcp --dport 30080 -j {ext}" in rules
    assert rules[rules.index(f"-A KUBE-NODEPORTS -m comment --comment default/web:http -m tcp -p tcp --dport 30080 "
                             f"-j {ext}") + 2:][:2] == [
        f'-A {ext} -m comment --comment "masquerade traffic for default/web:http external destinations" '
        "-j KUBE-MARK-MASQ",
        f"-A {ext} -j {svc_chain}"]


def test_session_affinity_checks_recent_lists_before_the_probabilities() -> None:
    svc = service(sessionAffinity="ClientIP", sessionAffinityConfig={"clientIP": {"timeoutSeconds": 10800}})
    rules = nat_rules(restore_input(svc, [endpoint_slice(endpoints=THREE)]))
    svc_chain = service_chain("default/web:http", "tcp")
    sep = endpoint_chain("default/web:http", "tcp", "10.244.1.5:8080")
    chain_rules = [r for r in rules if r.startswith(f"-A {svc_chain} ")]
    assert chain_rules[1] == (f'-A {svc_chain} -m comment --comment "default/web:http -> 10.244.1.5:8080" '
                              f"-m recent --name {sep} --rcheck --seconds 10800 --reap -j {sep}")
    assert all("--rcheck" in r for r in chain_rules[1:4]) and "statistic" in chain_rules[4]
    assert (f"-A {sep} -m comment --comment default/web:http -m recent --name {sep} --set -m tcp -p tcp -j DNAT "
            "--to-destination 10.244.1.5:8080") in rules


def test_a_service_without_endpoints_is_rejected_in_the_filter_table_and_has_no_nat_chains() -> None:
    svc = service(type_="NodePort", ports=[{"name": "http", "port": 80, "protocol": "TCP", "nodePort": 30080}])
    text = restore_input(svc, [])
    assert filter_rules(text)[:2] == [
        '-A KUBE-FIREWALL -m comment --comment "block incoming localnet connections" -d 127.0.0.0/8 '
        "! -s 127.0.0.0/8 -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP",
        '-A KUBE-SERVICES -m comment --comment "default/web:http has no endpoints" -m tcp -p tcp -d 10.96.0.20 '
        "--dport 80 -j REJECT"]
    assert ('-A KUBE-EXTERNAL-SERVICES -m comment --comment "default/web:http has no endpoints" -m addrtype '
            "--dst-type LOCAL -m tcp -p tcp --dport 30080 -j REJECT") in filter_rules(text)
    assert "KUBE-SVC-" not in text and "KUBE-EXT-" not in text


def test_headless_and_external_name_services_get_no_rules() -> None:
    headless = restore_input(service(cluster_ip="None"), [endpoint_slice(endpoints=THREE)])
    external = restore_input(service(cluster_ip="", type_="ExternalName", externalName="example.com"), [])
    for text in (headless, external):
        assert "default/web" not in text


def test_external_traffic_policy_local_sends_outside_traffic_only_to_local_endpoints() -> None:
    svc = service(type_="NodePort", externalTrafficPolicy="Local",
                  ports=[{"name": "http", "port": 80, "protocol": "TCP", "nodePort": 30080}])
    rules = nat_rules(restore_input(svc, [endpoint_slice(endpoints=THREE)]))
    ext = service_chain("default/web:http", "tcp", "KUBE-EXT-")
    svl = service_chain("default/web:http", "tcp", "KUBE-SVL-")
    svc_chain = service_chain("default/web:http", "tcp")
    ext_rules = [r for r in rules if r.startswith(f"-A {ext} ")]
    assert ext_rules == [
        f'-A {ext} -m comment --comment "pod traffic for default/web:http external destinations" '
        f"-s 10.244.0.0/16 -j {svc_chain}",
        f'-A {ext} -m comment --comment "masquerade LOCAL traffic for default/web:http external destinations" '
        "-m addrtype --src-type LOCAL -j KUBE-MARK-MASQ",
        f'-A {ext} -m comment --comment "route LOCAL traffic for default/web:http external destinations" '
        f"-m addrtype --src-type LOCAL -j {svc_chain}",
        f"-A {ext} -j {svl}"]
    assert [r for r in rules if r.startswith(f"-A {svl} ")] == [
        f'-A {svl} -m comment --comment "default/web:http -> 10.244.1.5:8080" '
        f'-j {endpoint_chain("default/web:http", "tcp", "10.244.1.5:8080")}']


def test_external_traffic_policy_local_without_local_endpoints_drops_outside_traffic() -> None:
    svc = service(type_="NodePort", externalTrafficPolicy="Local",
                  ports=[{"name": "http", "port": 80, "protocol": "TCP", "nodePort": 30080}])
    text = restore_input(svc, [endpoint_slice(endpoints=THREE[1:])])
    assert ('-A KUBE-EXTERNAL-SERVICES -m comment --comment "default/web:http has no local endpoints" -m addrtype '
            "--dst-type LOCAL -m tcp -p tcp --dport 30080 -j DROP") in filter_rules(text)
    assert "KUBE-SVL-" not in text


def test_internal_traffic_policy_local_without_local_endpoints_drops_cluster_ip_traffic() -> None:
    text = restore_input(service(internalTrafficPolicy="Local"), [endpoint_slice(endpoints=THREE[1:])])
    assert ('-A KUBE-SERVICES -m comment --comment "default/web:http has no local endpoints" -m tcp -p tcp '
            "-d 10.96.0.20 --dport 80 -j DROP") in filter_rules(text)


def test_load_balancer_ingress_ips_and_source_ranges() -> None:
    svc = service(type_="LoadBalancer", loadBalancerSourceRanges=["203.0.113.0/24"],
                  ports=[{"name": "http", "port": 80, "protocol": "TCP", "nodePort": 30080}],
                  status={"loadBalancer": {"ingress": [{"ip": "198.51.100.7"}]}})
    text = restore_input(svc, [endpoint_slice(endpoints=THREE)])
    fw = service_chain("default/web:http", "tcp", "KUBE-FW-")
    ext = service_chain("default/web:http", "tcp", "KUBE-EXT-")
    assert (f'-A KUBE-SERVICES -m comment --comment "default/web:http loadbalancer IP" -m tcp -p tcp '
            f"-d 198.51.100.7 --dport 80 -j {fw}") in nat_rules(text)
    assert (f'-A {fw} -m comment --comment "default/web:http loadbalancer IP" -s 203.0.113.0/24 -j {ext}'
            in nat_rules(text))
    assert (f'-A KUBE-PROXY-FIREWALL -m comment --comment "default/web:http traffic not accepted by {fw}" '
            "-m tcp -p tcp -d 198.51.100.7 --dport 80 -j DROP") in filter_rules(text)


def test_stale_service_chains_are_flushed_and_deleted() -> None:
    text = build_restore_input({}, {}, CONFIG, existing_nat_chains={"KUBE-SVC-OLD", "KUBE-SEP-OLD", "CNI-FOO"})
    assert "-X KUBE-SEP-OLD" in text and "-X KUBE-SVC-OLD" in text and "CNI-FOO" not in text
