"""IPVS virtual servers: round robin, weight 0, persistence, ipvsadm -Ln; ipsets as kube-proxy uses them."""

from __future__ import annotations

from engine.network.ipset import IPSets
from engine.network.ipvs import IPVS
from engine.network.packet import Packet


def test_round_robin_takes_the_real_servers_in_turn_skipping_weight_zero(clock) -> None:
    ipvs = IPVS(clock)
    server = ipvs.ensure_virtual_server("TCP", "10.96.0.20", 80)
    ipvs.set_real_servers(server, [("10.244.1.5", 8080, 1), ("10.244.2.5", 8080, 0), ("10.244.3.5", 8080, 1)])
    picks = [ipvs.schedule("TCP", "10.96.0.20", 80, f"10.0.0.{i}") for i in range(4)]
    assert picks == [("10.244.1.5", 8080), ("10.244.3.5", 8080)] * 2
    assert ipvs.schedule("UDP", "10.96.0.20", 80, "10.0.0.1") is None


def test_persistence_keeps_a_client_on_its_real_server_until_the_template_expires(clock) -> None:
    ipvs = IPVS(clock)
    server = ipvs.ensure_virtual_server("TCP", "10.96.0.20", 80, persistent=10800)
    ipvs.set_real_servers(server, [("10.244.1.5", 80, 1), ("10.244.2.5", 80, 1)])
    first = ipvs.schedule("TCP", "10.96.0.20", 80, "10.0.0.1")
    assert all(ipvs.schedule("TCP", "10.96.0.20", 80, "10.0.0.1") == first for _ in range(5))
    assert ipvs.schedule("TCP", "10.96.0.20", 80, "10.0.0.2") != first
    clock.now += 10801
    ipvs.schedule("TCP", "10.96.0.20", 80, "10.0.0.3")
    assert ipvs.schedule("TCP", "10.96.0.20", 80, "10.0.0.1") != first or len(server.reals) == 1


def test_no_real_server_means_no_destination(clock) -> None:
    ipvs = IPVS(clock)
    ipvs.ensure_virtual_server("TCP", "10.96.0.20", 80)
    assert ipvs.schedule("TCP", "10.96.0.20", 80, "10.0.0.1") is None


def test_dump_looks_like_ipvsadm(clock) -> None:
    ipvs = IPVS(clock)
    server = ipvs.ensure_virtual_server("TCP", "10.96.0.10", 53)
    ipvs.set_real_servers(server, [("10.244.0.2", 53, 1)])
    ipvs.ensure_virtual_server("TCP", "10.96.0.1", 443, persistent=10800)
    lines = ipvs.dump().splitlines()
    assert lines[0] == "IP Virtual Server version 1.2.1 (size=4096)"
    assert lines[3] == "TCP  10.96.0.1:443 rr persistent 10800"
    assert lines[4] == "TCP  10.96.0.10:53 rr"
    assert lines[5].split() == ["->", "10.244.0.2:53", "Masq", "1", "0", "0"]


def test_ipsets_match_packets_by_the_directions_given() -> None:
    sets = IPSets()
    sets.ensure("KUBE-CLUSTER-IP", "hash:ip,port").add("10.96.0.20,tcp:80")
    sets.ensure("KUBE-NODE-PORT-TCP", "bitmap:port").add("30080")
    sets.ensure("KUBE-LOOP-BACK", "hash:ip,port,ip").add("10.244.1.5,tcp:80,10.244.1.5")
    assert sets.test("KUBE-CLUSTER-IP", Packet("10.0.0.1", "10.96.0.20", 1, 80), ["dst", "dst"])
    assert not sets.test("KUBE-CLUSTER-IP", Packet("10.0.0.1", "10.96.0.20", 1, 81), ["dst", "dst"])
    assert sets.test("KUBE-NODE-PORT-TCP", Packet("1.2.3.4", "172.18.0.3", 1, 30080), ["dst"])
    assert sets.test("KUBE-LOOP-BACK", Packet("10.244.1.5", "10.244.1.5", 1, 80), ["dst", "dst", "src"])
    assert "add KUBE-CLUSTER-IP 10.96.0.20,tcp:80" in sets.save()


def test_only_round_robin_is_modelled(clock) -> None:
    import pytest
    with pytest.raises(ValueError, match="unknown scheduler"):
        IPVS(clock).ensure_virtual_server("TCP", "10.96.0.20", 80, scheduler="lc")
