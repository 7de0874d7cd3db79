import pytest

from engine.network.routing import Route, RoutingTable


@pytest.fixture
def table() -> RoutingTable:
    table = RoutingTable()
    table.add(Route("default", "eth0", via="172.18.0.1", proto="boot"))
    table.add(Route("172.18.0.0/16", "eth0", scope="link", src="172.18.0.3"))
    table.add(Route("10.244.1.0/24", "cni0", scope="link", src="10.244.1.1"))
    table.add(Route("10.244.2.0/24", "flannel.1", via="10.244.2.0", onlink=True, proto="boot"))
    table.add(Route("10.244.1.7/32", "cali0123456789a", scope="link", proto="static"))
    return table


@pytest.mark.parametrize("address, device", [
    ("10.244.1.5", "cni0"),
    ("10.244.1.7", "cali0123456789a"),
    ("10.244.2.9", "flannel.1"),
    ("172.18.0.4", "eth0"),
    ("8.8.8.8", "eth0"),
], ids=["the node's own pod subnet is on the bridge", "a /32 beats the /24 around it",
        "another node's subnet goes through the overlay", "the nodes' segment is a link route",
        "anything else takes the default route"])
def test_longest_prefix_wins(table: RoutingTable, address: str, device: str) -> None:
    assert table.lookup(address).dev == device


def test_show_prints_routes_as_ip_route_does(table: RoutingTable) -> None:
    lines = table.show().splitlines()
    assert lines[0] == "default via 172.18.0.1 dev eth0"
    assert "10.244.2.0/24 via 10.244.2.0 dev flannel.1 onlink" in lines
    assert "172.18.0.0/16 dev eth0 proto kernel scope link src 172.18.0.3" in lines


def test_no_route_without_a_default() -> None:
    table = RoutingTable()
    table.add(Route("10.0.0.0/8", "eth0"))
    assert table.lookup("192.168.1.1") is None
