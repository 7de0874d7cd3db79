from engine.network.conntrack import Conntrack
from engine.network.packet import Packet


def test_a_dnat_is_replayed_on_the_flow_and_undone_on_the_reply() -> None:
    table = Conntrack()
    first = Packet("10.244.1.2", "10.96.0.20", 40000, 80)
    entry = table.track(first)
    table.set_dnat(entry, "10.244.2.3", 8080)
    again = Packet("10.244.1.2", "10.96.0.20", 40000, 80, flags="ACK")
    found, direction = table.lookup(again)
    assert direction == "original" and table.translate_destination(found, direction, again)
    assert (again.dst, again.dport) == ("10.244.2.3", 8080)
    reply = Packet("10.244.2.3", "10.244.1.2", 8080, 40000, flags="SYN-ACK")
    found, direction = table.lookup(reply)
    assert direction == "reply"
    assert table.translate_source(found, direction, reply)
    assert (reply.src, reply.sport) == ("10.96.0.20", 80)


def test_masquerade_changes_the_reply_tuple_and_is_undone_before_routing() -> None:
    table = Conntrack()
    entry = table.track(Packet("10.244.1.2", "172.18.0.4", 40000, 30080))
    table.set_snat(entry, "172.18.0.3")
    reply = Packet("172.18.0.4", "172.18.0.3", 30080, 40000)
    found, direction = table.lookup(reply)
    assert direction == "reply" and table.translate_destination(found, direction, reply)
    assert reply.dst == "10.244.1.2"
    assert "src=10.244.1.2 dst=172.18.0.4" in table.dump()


def test_an_unknown_flow_has_no_entry() -> None:
    assert Conntrack().lookup(Packet("1.1.1.1", "2.2.2.2", 1, 2)) is None


def test_a_new_syn_on_an_answered_connections_tuple_is_a_new_connection() -> None:
    table = Conntrack()
    entry = table.track(Packet("10.244.1.2", "10.96.0.20", 40000, 80))
    table.set_dnat(entry, "10.244.2.3", 8080)
    retransmitted = Packet("10.244.1.2", "10.96.0.20", 40000, 80)
    assert table.lookup(retransmitted) == (entry, "original"), "no answer yet: the same connection"
    found, _ = table.lookup(Packet("10.244.2.3", "10.244.1.2", 8080, 40000, flags="SYN-ACK"))
    found.state = "ESTABLISHED"
    assert table.lookup(Packet("10.244.1.2", "10.96.0.20", 40000, 80, flags="ACK")) == (entry, "original")
    assert table.lookup(Packet("10.244.1.2", "10.96.0.20", 40000, 80)) is None, "the port reused after the close"
    assert table.entries == [] and table.lookup(Packet("10.244.2.3", "10.244.1.2", 8080, 40000)) is None
