"""xtables: rules parsed from kube-proxy's restore words and printed the way iptables-save prints them."""

from __future__ import annotations

import pytest

from engine.network.xtables import RuleError, parse_rule


@pytest.mark.parametrize("written, saved", [
    ('-A KUBE-SERVICES -m comment --comment "ns1/svc1 cluster IP" -m tcp -p tcp -d 172.30.1.1 --dport 80 '
     "-j KUBE-SVC-AQI2S6QIMU7PVVRP",
     '-A KUBE-SERVICES -d 172.30.1.1/32 -p tcp -m comment --comment "ns1/svc1 cluster IP" -m tcp --dport 80 '
     "-j KUBE-SVC-AQI2S6QIMU7PVVRP"),
    ('-A KUBE-SVC-X -m comment --comment "ns1/svc1 -> 10.0.1.1:80" -m statistic --mode random '
     "--probability 0.3333333333 -j KUBE-SEP-A",
     '-A KUBE-SVC-X -m comment --comment "ns1/svc1 -> 10.0.1.1:80" -m statistic --mode random '
     "--probability 0.33333333349 -j KUBE-SEP-A"),
    ("-A KUBE-MARK-MASQ -j MARK --or-mark 0x00004000", "-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000"),
    ("-A KUBE-POSTROUTING -j MARK --xor-mark 0x4000", "-A KUBE-POSTROUTING -j MARK --set-xmark 0x4000/0x0"),
    ("-A KUBE-POSTROUTING -m mark ! --mark 0x00004000/0x00004000 -j RETURN",
     "-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN"),
    ("-A KUBE-SEP-A -m comment --comment ns1/svc1 -m recent --name KUBE-SEP-A --set -m tcp -p tcp -j DNAT "
     "--to-destination 10.0.1.1:80",
     '-A KUBE-SEP-A -p tcp -m comment --comment "ns1/svc1" -m recent --set --name KUBE-SEP-A '
     "--mask 255.255.255.255 --rsource -m tcp -j DNAT --to-destination 10.0.1.1:80"),
    ("-A KUBE-FW -m comment --comment kubernetes-only -s 10.0.0.0/8 -j ACCEPT",
     "-A KUBE-FW -s 10.0.0.0/8 -m comment --comment kubernetes-only -j ACCEPT"),
    ("-A KUBE-SERVICES -m comment --comment x -p tcp -d 10.0.0.1 -j REJECT",
     "-A KUBE-SERVICES -d 10.0.0.1/32 -p tcp -m comment --comment x -j REJECT --reject-with icmp-port-unreachable"),
], ids=["matches are reordered: addresses, protocol, then extensions, hosts as /32",
        "the probability is the kernel's 31-bit integer printed with 11 decimals",
        "MARK --or-mark is saved as --set-xmark value/value",
        "MARK --xor-mark is saved as --set-xmark value/0",
        "a negated mark match keeps its '!' before the option",
        "recent --set is saved with its default mask and --rsource",
        "a comment of only letters, digits and dashes is not quoted",
        "REJECT is saved with its default --reject-with"])
def test_rules_are_saved_in_iptables_save_spelling(written: str, saved: str) -> None:
    rule = parse_rule(written)
    assert rule.text() == saved
    assert parse_rule(saved).text() == saved


def test_dport_without_a_match_module_loads_the_protocol_match_implicitly() -> None:
    assert parse_rule("-A X -p udp --dport 53 -j ACCEPT").text() == "-A X -p udp -m udp --dport 53 -j ACCEPT"


@pytest.mark.parametrize("written", ["-A X --dport 80 -j ACCEPT", "-A X -m tcp --dport", "-A X -j", "-A X foo",
                                     "-A X -d not-an-ip -j ACCEPT"])
def test_rules_iptables_would_refuse_raise(written: str) -> None:
    with pytest.raises(RuleError):
        parse_rule(written)
