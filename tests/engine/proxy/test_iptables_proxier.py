"""The iptables Proxier on a node stand-in: sync after the informers, rate limits, endpoint changes, canaries."""

from __future__ import annotations

from collections import Counter

import pytest

from engine.proxy.iptables.proxier import Proxier
from engine.proxy.iptables.rules import RulesConfig
from engine.sim.loop import Loop
from engine.network.packet import Packet

from proxy_fakes import HostStandIn, endpoint_slice, service

THREE = [("10.244.1.5", "node-1", True), ("10.244.2.5", "node-2", True), ("10.244.3.5", "node-3", True)]


@pytest.fixture
def loop() -> Loop:
    return Loop(seed=3)


@pytest.fixture
def host(loop: Loop) -> HostStandIn:
    return HostStandIn(loop)


@pytest.fixture
def proxier(loop: Loop, host: HostStandIn) -> Proxier:
    proxier = Proxier(host.iptables, loop, RulesConfig(node_name="node-1", node_ip=host.address,
                                                        cluster_cidr="10.244.0.0/16"))
    proxier.start()
    yield proxier
    proxier.stop()


def synced(proxier: Proxier, loop: Loop) -> None:
    proxier.on_services_synced()
    proxier.on_endpoint_slices_synced()
    loop.run_for(0.5)


def destinations(host: HostStandIn, count: int, dst: str = "10.96.0.20", port: int = 80, src: str = "10.244.1.9",
                 chain: str = "OUTPUT") -> Counter:
    return Counter(host.iptables.traverse("nat", chain, Packet(f"{src}", dst, 30000 + i, port)).dnat
                   for i in range(count))


def test_nothing_is_programmed_until_services_and_endpoint_slices_have_synced(proxier, loop, host) -> None:
    proxier.on_service_add(service())
    proxier.on_endpoint_slice_add(endpoint_slice(endpoints=THREE))
    loop.run_for(5)
    assert proxier.syncs == 0 and host.iptables.chain("nat", "KUBE-SERVICES") is None
    synced(proxier, loop)
    assert proxier.syncs == 1
    assert host.iptables.restores == 1, "one iptables-restore per sync"


def test_requests_spread_about_a_third_to_each_of_three_ready_endpoints(proxier, loop, host) -> None:
    proxier.on_service_add(service())
    proxier.on_endpoint_slice_add(endpoint_slice(endpoints=THREE))
    synced(proxier, loop)
    spread = destinations(host, 3000)
    assert set(spread) == {("10.244.1.5", 8080), ("10.244.2.5", 8080), ("10.244.3.5", 8080)}
    assert all(900 < n < 1100 for n in spread.values()), spread


def test_rules_follow_endpoint_changes_at_most_burst_then_once_per_min_sync_period(proxier, loop, host) -> None:
    svc = service()
    proxier.on_service_add(svc)
    slice_ = endpoint_slice(endpoints=THREE)
    proxier.on_endpoint_slice_add(slice_)
    synced(proxier, loop)
    not_ready = endpoint_slice(endpoints=[THREE[0], ("10.244.2.5", "node-2", False), THREE[2]])
    proxier.on_endpoint_slice_update(slice_, not_ready)
    loop.run_for(0.01)
    assert set(destinations(host, 300)) == {("10.244.1.5", 8080), ("10.244.3.5", 8080)}
    runs = proxier.syncs               # the burst of 2 is spent: further syncs come at most once a second
    for i in range(10):                # a storm of changes over half a second costs one sync
        proxier.on_endpoint_slice_update(slice_, endpoint_slice(endpoints=THREE[: 1 + i % 3]))
        loop.run_for(0.05)
    loop.run_for(2.0)
    assert proxier.syncs == runs + 1
    assert set(destinations(host, 300)) == {("10.244.1.5", 8080)}, "the last state (one endpoint) wins"
    proxier.on_endpoint_slice_delete(slice_)
    loop.run_for(1.1)
    assert host.iptables.traverse("filter", "OUTPUT", Packet("10.244.1.9", "10.96.0.20", 40000, 80)).action == "REJECT"
    assert not [c for c in host.iptables.table("nat").chains if c.startswith(("KUBE-SVC-", "KUBE-SEP-"))]


def test_session_affinity_sends_a_client_to_the_same_endpoint(proxier, loop, host) -> None:
    proxier.on_service_add(service(sessionAffinity="ClientIP",
                                   sessionAffinityConfig={"clientIP": {"timeoutSeconds": 10800}}))
    proxier.on_endpoint_slice_add(endpoint_slice(endpoints=THREE))
    synced(proxier, loop)
    for client in ("10.244.1.9", "10.244.2.9", "10.244.3.9"):
        assert len(destinations(host, 30, src=client)) == 1


def test_nodeport_from_outside_is_dnated_and_marked_for_masquerade(proxier, loop, host) -> None:
    proxier.on_service_add(service(type_="NodePort", ports=[{"name": "http", "port": 80, "protocol": "TCP",
                                                             "targetPort": 8080, "nodePort": 30080}]))
    proxier.on_endpoint_slice_add(endpoint_slice(endpoints=THREE))
    synced(proxier, loop)
    packet = Packet("192.168.0.50", host.address, 40000, 30080)
    verdict = host.iptables.traverse("nat", "PREROUTING", packet)
    assert verdict.dnat in {("10.244.1.5", 8080), ("10.244.2.5", 8080), ("10.244.3.5", 8080)}
    assert packet.mark & 0x4000
    assert host.iptables.traverse("nat", "POSTROUTING", packet).masquerade
    other = host.iptables.traverse("nat", "PREROUTING", Packet("192.168.0.50", "172.18.0.99", 40000, 30080))
    assert other.dnat is None, "a NodePort answers only on the node's own addresses"


def test_a_flushed_table_is_noticed_by_the_canary_and_rewritten(proxier, loop, host) -> None:
    proxier.on_service_add(service())
    proxier.on_endpoint_slice_add(endpoint_slice(endpoints=THREE))
    synced(proxier, loop)
    host.iptables.restore("*nat\nCOMMIT\n")           # someone ran iptables -t nat -F; -X
    assert destinations(host, 5) == Counter({None: 5})
    loop.run_for(30.5)
    assert None not in destinations(host, 5)


def test_a_deleted_service_loses_its_rules(proxier, loop, host) -> None:
    svc = service()
    proxier.on_service_add(svc)
    proxier.on_endpoint_slice_add(endpoint_slice(endpoints=THREE))
    synced(proxier, loop)
    proxier.on_service_delete(svc)
    loop.run_for(1.1)
    assert "default/web" not in host.iptables.save()


def test_a_lab_can_plug_its_own_rule_writer_in(loop, host) -> None:
    from engine.proxy.iptables.rules import build_restore_input
    calls = []

    def learner(services, endpoints, config, existing):
        calls.append(sorted(str(name) for name in services))
        return build_restore_input(services, endpoints, config, existing)

    proxier = Proxier(host.iptables, loop, RulesConfig(node_name="node-1"), build=learner)
    proxier.start()
    proxier.on_service_add(service())
    proxier.on_endpoint_slice_add(endpoint_slice(endpoints=THREE))
    synced(proxier, loop)
    assert calls == [["default/web:http"]]
    assert None not in destinations(host, 5)
    proxier.stop()
