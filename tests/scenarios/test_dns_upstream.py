"""Names outside cluster.local: CoreDNS forwards them to the nodes' resolver at the docker network's gateway."""

import pytest

import engine
from engine.network.door import lookup_from
from network_setup import pod


@pytest.fixture(scope="module")
def cluster() -> engine.Cluster:
    c = engine.Cluster(nodes=1, network="flannel")
    c.run(20)
    c.apply(pod("client", "node-1", image="busybox", command=["sleep", "3600"]))
    c.run(20)
    return c


def test_an_outside_name_wastes_the_search_list_then_coredns_forwards_it_upstream(cluster: engine.Cluster) -> None:
    found, hops = lookup_from(cluster, "client", "example.com")
    assert found.addresses == ["93.184.215.14"]
    assert found.wasted == 3                       # ndots:5: the three search domains first, each NXDOMAIN
    assert [hop.what for hop in hops].count("DNS query") == 4


def test_a_name_nobody_has_is_nxdomain_not_a_timeout(cluster: engine.Cluster) -> None:
    found, _ = lookup_from(cluster, "client", "no-such-name.example.")
    assert found.response is not None and found.response.rcode == "NXDOMAIN"
