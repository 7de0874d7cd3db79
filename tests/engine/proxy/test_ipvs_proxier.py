"""The ipvs Proxier: virtual servers with rr over ready endpoints, kube-ipvs0 addresses, ipsets, its few rules."""

from __future__ import annotations

from collections import Counter

from engine.proxy.ipvs.proxier import Proxier
from engine.proxy.iptables.rules import RulesConfig
from engine.sim.loop import Loop
from engine.network.packet import Packet

from proxy_fakes import HostStandIn, endpoint_slice, service


def make(loop: Loop) -> tuple[Proxier, HostStandIn]:
    host = HostStandIn(loop)
    proxier = Proxier(host.iptables, host.ipvs, loop, RulesConfig(node_name="node-1", cluster_cidr="10.244.0.0/16"),
                      node_ips=[host.address])
    proxier.start()
    return proxier, host


def test_a_service_becomes_a_round_robin_virtual_server_over_its_ready_endpoints() -> None:
    loop = Loop(seed=1)
    proxier, host = make(loop)
    proxier.on_service_add(service(type_="NodePort", ports=[{"name": "http", "port": 80, "protocol": "TCP",
                                                             "nodePort": 30080}]))
    proxier.on_endpoint_slice_add(endpoint_slice(endpoints=[("10.244.1.5", "node-1", True),
                                                            ("10.244.2.5", "node-2", True),
                                                            ("10.244.3.5", "node-3", False)]))
    proxier.on_services_synced()
    proxier.on_endpoint_slices_synced()
    loop.run_for(0.1)
    picks = [host.ipvs.schedule("TCP", "10.96.0.20", 80, f"10.0.0.{i}") for i in range(4)]
    assert picks == [("10.244.1.5", 8080), ("10.244.2.5", 8080)] * 2
    assert "10.96.0.20" in host.ipvs.dummy_addresses
    assert host.ipvs.get("TCP", host.address, 30080) is not None, "a NodePort listens on the node address"
    sets = host.iptables.ipsets
    assert "10.96.0.20,tcp:80" in sets.get("KUBE-CLUSTER-IP")
    assert "30080" in sets.get("KUBE-NODE-PORT-TCP")
    assert "10.244.1.5,tcp:8080,10.244.1.5" in sets.get("KUBE-LOOP-BACK"), "local endpoints can hairpin"
    dump = host.ipvs.dump()
    assert "TCP  10.96.0.20:80 rr" in dump and "10.244.3.5" not in dump
    proxier.stop()


def test_its_iptables_rules_match_services_through_ipsets() -> None:
    loop = Loop(seed=1)
    proxier, host = make(loop)
    proxier.on_service_add(service())
    proxier.on_endpoint_slice_add(endpoint_slice(endpoints=[("10.244.1.5", "node-1", True)]))
    proxier.on_services_synced()
    proxier.on_endpoint_slices_synced()
    loop.run_for(0.1)
    saved = host.iptables.save()
    assert ('-A KUBE-SERVICES ! -s 10.244.0.0/16 -m comment --comment "Kubernetes service cluster ip + port for '
            'masquerade purpose" -m set --match-set KUBE-CLUSTER-IP dst,dst -j KUBE-MARK-MASQ') in saved
    assert "-A KUBE-SERVICES -m set --match-set KUBE-CLUSTER-IP dst,dst -j ACCEPT" in saved
    outside = Packet("192.168.0.9", "10.96.0.20", 1, 80)
    verdict = host.iptables.traverse("nat", "PREROUTING", outside)
    assert verdict.dnat is None and outside.mark & 0x4000, "ipvs does the DNAT; iptables only marks"
    proxier.stop()


def test_session_affinity_becomes_persistence_and_removed_services_disappear() -> None:
    loop = Loop(seed=1)
    proxier, host = make(loop)
    svc = service(sessionAffinity="ClientIP", sessionAffinityConfig={"clientIP": {"timeoutSeconds": 600}})
    proxier.on_service_add(svc)
    proxier.on_endpoint_slice_add(endpoint_slice(endpoints=[("10.244.1.5", "node-1", True),
                                                            ("10.244.2.5", "node-2", True)]))
    proxier.on_services_synced()
    proxier.on_endpoint_slices_synced()
    loop.run_for(0.1)
    assert host.ipvs.get("TCP", "10.96.0.20", 80).persistent == 600
    assert len(Counter(host.ipvs.schedule("TCP", "10.96.0.20", 80, "10.0.0.1") for _ in range(10))) == 1
    proxier.on_service_delete(svc)
    loop.run_for(0.1)
    assert host.ipvs.get("TCP", "10.96.0.20", 80) is None and not host.ipvs.dummy_addresses
    proxier.stop()
