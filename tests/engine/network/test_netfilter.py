"""Netfilter: iptables-restore / iptables-save on real kube-proxy output, and packets walking the chains."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from engine.network.netfilter import Netfilter, RestoreError
from engine.network.packet import Packet


# Upstream's TestInternalTrafficPolicyE2E expectation (pkg/proxy/iptables/proxier_test.go): a ClusterIP
# Service ns1/svc1 at 172.30.1.1:80 with three endpoints, clusterCIDR 10.0.0.0/8.
UPSTREAM = (Path(__file__).parents[1] / "proxy" / "upstream_internal_traffic_policy_cluster.iptables").read_text()

JUMPS = """\
*nat
-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-A OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING
COMMIT
"""


@pytest.fixture
def loaded(netfilter: Netfilter) -> Netfilter:
    netfilter.restore(UPSTREAM, noflush=True)
    netfilter.restore(JUMPS, noflush=True)
    return netfilter


def test_save_prints_built_in_chains_then_user_chains_by_name_with_canonical_rules(loaded: Netfilter) -> None:
    saved = loaded.save(("nat",)).splitlines()
    assert saved[:5] == ["*nat", ":PREROUTING ACCEPT [0:0]", ":INPUT ACCEPT [0:0]", ":OUTPUT ACCEPT [0:0]",
                         ":POSTROUTING ACCEPT [0:0]"]
    assert saved[5:9] == [":KUBE-MARK-MASQ - [0:0]", ":KUBE-NODEPORTS - [0:0]", ":KUBE-POSTROUTING - [0:0]",
                          ":KUBE-SEP-3JOIVZTXZZRGORX4 - [0:0]"]
    assert ('-A KUBE-SVC-AQI2S6QIMU7PVVRP ! -s 10.0.0.0/8 -d 172.30.1.1/32 -p tcp -m comment --comment '
            '"ns1/svc1 cluster IP" -m tcp --dport 80 -j KUBE-MARK-MASQ') in saved
    assert ('-A KUBE-SVC-AQI2S6QIMU7PVVRP -m comment --comment "ns1/svc1 -> 10.0.1.1:80" -m statistic --mode random '
            "--probability 0.33333333349 -j KUBE-SEP-3JOIVZTXZZRGORX4") in saved
    assert saved[-1] == "COMMIT"


def test_restoring_the_saved_text_gives_the_same_tables(loaded: Netfilter, clock) -> None:
    import random
    again = Netfilter(clock, random.Random(0))
    again.restore(loaded.save())
    assert again.save() == loaded.save()


def test_a_packet_to_the_cluster_ip_is_dnated_to_one_endpoint_about_a_third_of_the_time_each(loaded) -> None:
    spread = Counter(loaded.traverse("nat", "OUTPUT", Packet("10.0.0.2", "172.30.1.1", 40000 + i, 80)).dnat
                     for i in range(3000))
    assert set(spread) == {("10.0.1.1", 80), ("10.0.1.2", 80), ("10.0.1.3", 80)}
    assert all(900 < n < 1100 for n in spread.values()), spread


def test_the_verdict_traces_every_matched_rule_and_marks_off_cluster_sources_for_masquerade(loaded) -> None:
    packet = Packet("192.168.1.9", "172.30.1.1", 40000, 80)
    verdict = loaded.traverse("nat", "PREROUTING", packet)
    assert verdict.trace[0] == '-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES'
    assert "-j KUBE-MARK-MASQ" in verdict.trace[2]
    assert packet.mark == 0x4000
    post = loaded.traverse("nat", "POSTROUTING", packet)
    assert post.masquerade and packet.mark == 0


def test_a_packet_to_a_port_the_service_does_not_have_is_left_alone(loaded) -> None:
    verdict = loaded.traverse("nat", "OUTPUT", Packet("10.0.0.2", "172.30.1.1", 40000, 81))
    assert verdict.dnat is None and verdict.action == "ACCEPT"


def test_restore_without_noflush_flushes_the_tables_it_names(loaded: Netfilter) -> None:
    loaded.restore("*nat\n:KUBE-SERVICES - [0:0]\nCOMMIT\n")
    assert set(loaded.table("nat").chains) == {"PREROUTING", "INPUT", "OUTPUT", "POSTROUTING", "KUBE-SERVICES"}
    assert loaded.rules("filter", "KUBE-FORWARD"), "a table not named is untouched"


def test_a_chain_line_flushes_an_existing_chain_and_dash_x_deletes_it(loaded: Netfilter) -> None:
    loaded.restore("*nat\n:KUBE-SEP-3JOIVZTXZZRGORX4 - [0:0]\n-X KUBE-SEP-3JOIVZTXZZRGORX4\n"
                   ":KUBE-SVC-AQI2S6QIMU7PVVRP - [0:0]\n"
                   "-A KUBE-SVC-AQI2S6QIMU7PVVRP -j KUBE-SEP-IO5XOSKPAXIFQXAJ\nCOMMIT\n", noflush=True)
    assert loaded.chain("nat", "KUBE-SEP-3JOIVZTXZZRGORX4") is None
    assert len(loaded.rules("nat", "KUBE-SVC-AQI2S6QIMU7PVVRP")) == 1


@pytest.mark.parametrize("text, line", [
    ("*nat\n-A NOPE -j ACCEPT\nCOMMIT\n", 2),
    ("*nat\n:KUBE-A - [0:0]\n-A KUBE-A -j KUBE-MISSING\nCOMMIT\n", 4),
    ("*nat\n-X KUBE-SVC-AQI2S6QIMU7PVVRP\nCOMMIT\n", 3),
    ("*nat\n:KUBE-A - [0:0]\n", 2),
], ids=["append to a chain that does not exist", "jump to a chain that does not exist",
        "delete a chain that is still jumped to", "no COMMIT"])
def test_a_failing_restore_changes_nothing_and_names_the_line(loaded: Netfilter, text: str, line: int) -> None:
    before = loaded.save()
    with pytest.raises(RestoreError) as failure:
        loaded.restore(text, noflush=True)
    assert failure.value.line == line
    assert str(failure.value).startswith(f"iptables-restore: line {line} failed")
    assert loaded.save() == before


def test_recent_remembers_a_source_for_the_given_seconds(netfilter: Netfilter, clock) -> None:
    netfilter.restore("*nat\n:KUBE-SEP-A - [0:0]\n:KUBE-SEP-B - [0:0]\n:KUBE-SVC - [0:0]\n"
                      "-A OUTPUT -j KUBE-SVC\n"
                      "-A KUBE-SVC -m recent --name KUBE-SEP-B --rcheck --seconds 10800 --reap -j KUBE-SEP-B\n"
                      "-A KUBE-SVC -m statistic --mode random --probability 0.5 -j KUBE-SEP-A\n"
                      "-A KUBE-SVC -j KUBE-SEP-B\n"
                      "-A KUBE-SEP-A -p tcp -j DNAT --to-destination 10.0.0.1:80\n"
                      "-A KUBE-SEP-B -m recent --name KUBE-SEP-B --set -p tcp -j DNAT --to-destination 10.0.0.2:80\n"
                      "COMMIT\n")
    first_b = next(i for i in range(50)
                   if netfilter.traverse("nat", "OUTPUT", Packet(f"10.1.0.{i}", "10.96.0.9", 40000, 80)).dnat[0] == "10.0.0.2")
    client = f"10.1.0.{first_b}"
    assert {netfilter.traverse("nat", "OUTPUT", Packet(client, "10.96.0.9", 40000, 80)).dnat for _ in range(20)} == \
        {("10.0.0.2", 80)}
    clock.now += 10801
    later = Counter(netfilter.traverse("nat", "OUTPUT", Packet(client, "10.96.0.9", 40000, 80)).dnat[0] for _ in range(40))
    assert later["10.0.0.1"] > 0, "after the timeout the client is balanced again"


def test_addrtype_local_and_mark_matches(netfilter: Netfilter) -> None:
    netfilter.restore("*nat\n-A PREROUTING -m addrtype --dst-type LOCAL -j MARK --or-mark 0x1\n"
                      "-A PREROUTING -m mark --mark 0x1 -j DNAT --to-destination 10.0.0.5\nCOMMIT\n")
    assert netfilter.traverse("nat", "PREROUTING", Packet("1.2.3.4", "172.18.0.3", 1, 30080)).dnat == \
        ("10.0.0.5", 30080)
    assert netfilter.traverse("nat", "PREROUTING", Packet("1.2.3.4", "172.18.0.4", 1, 30080)).dnat is None


def test_ensure_rule_prepends_once(netfilter: Netfilter) -> None:
    netfilter.ensure_chain("nat", "KUBE-SERVICES")
    args = ["-m", "comment", "--comment", "kubernetes service portals", "-j", "KUBE-SERVICES"]
    assert netfilter.ensure_rule("prepend", "nat", "OUTPUT", args) is False
    assert netfilter.ensure_rule("prepend", "nat", "OUTPUT", args) is True
    assert len(netfilter.rules("nat", "OUTPUT")) == 1


def test_filter_reject_and_policy(netfilter: Netfilter) -> None:
    netfilter.restore("*filter\n:FORWARD DROP [0:0]\n:KUBE-SERVICES - [0:0]\n-A OUTPUT -j KUBE-SERVICES\n"
                      "-A KUBE-SERVICES -d 10.96.0.9 -p tcp --dport 80 -j REJECT\nCOMMIT\n")
    assert netfilter.traverse("filter", "OUTPUT", Packet("10.0.0.1", "10.96.0.9", 40000, 80)).action == "REJECT"
    assert netfilter.traverse("filter", "OUTPUT", Packet("10.0.0.1", "10.96.0.8", 40000, 80)).action == "ACCEPT"
    assert netfilter.traverse("filter", "FORWARD", Packet("10.0.0.1", "10.96.0.8", 40000, 80)).action == "DROP"


def test_counters_count_the_packets_each_rule_matched(loaded: Netfilter) -> None:
    for i in range(10):
        loaded.traverse("nat", "OUTPUT", Packet("10.0.0.2", "172.30.1.1", 40000 + i, 80))
    counts = dict((text, packets) for packets, text in loaded.counters("nat"))
    assert counts['-A OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES'] == 10
    dnat = [packets for packets, text in loaded.counters("nat") if "-j DNAT" in text]
    assert sum(dnat) == 10
