"""The hosts' network: listening ports the API server dials, and host-local pod addresses."""

from __future__ import annotations

import pytest

from engine.sim.hostnet import ConnectionRefused, HostLocalIPAM, HostNetwork


def test_a_dial_reaches_the_listener_and_refuses_once_it_closed():
    net = HostNetwork()
    handler = object()
    net.listen("172.18.0.3", 10250, handler)
    assert net.dial("172.18.0.3", 10250) is handler
    net.close("172.18.0.3", 10250)
    with pytest.raises(ConnectionRefused, match=r"dial tcp 172.18.0.3:10250: connect: connection refused"):
        net.dial("172.18.0.3", 10250)


def test_two_listeners_cannot_share_a_port():
    net = HostNetwork()
    net.listen("10.0.0.1", 80, "a")
    with pytest.raises(OSError, match="address already in use"):
        net.listen("10.0.0.1", 80, "b")


def test_host_local_hands_out_the_lowest_free_address_after_the_bridge():
    ipam = HostLocalIPAM("10.244.1.0/24")
    assert [ipam.add("s1"), ipam.add("s2")] == ["10.244.1.2", "10.244.1.3"]
    ipam.delete("s1")
    assert ipam.add("s3") == "10.244.1.2"
    assert ipam.add("s2") == "10.244.1.3"
