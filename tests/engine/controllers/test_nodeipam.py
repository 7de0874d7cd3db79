import dataclasses

import pytest

import engine
from engine.components import COMPONENTS
from engine.controllers.nodeipam import NO_CIDRS_LEFT, CIDRSet, CIDRSetExhausted


def test_blocks_are_handed_out_round_robin_and_reused_last() -> None:
    cidrs = CIDRSet("10.244.0.0/16", 24)
    assert [cidrs.allocate_next() for _ in range(3)] == ["10.244.0.0/24", "10.244.1.0/24", "10.244.2.0/24"]
    cidrs.release("10.244.0.0/24")
    assert cidrs.allocate_next() == "10.244.3.0/24"


def test_occupied_blocks_are_skipped_and_exhaustion_is_the_upstream_error() -> None:
    cidrs = CIDRSet("10.244.0.0/23", 24)
    cidrs.occupy("10.244.0.0/24")
    assert cidrs.allocate_next() == "10.244.1.0/24"
    with pytest.raises(CIDRSetExhausted, match=NO_CIDRS_LEFT):
        cidrs.allocate_next()


def test_without_allocate_node_cidrs_nodes_get_no_pod_cidr() -> None:
    cluster = engine.Cluster(nodes=1)
    assert "podCIDR" not in cluster.get("nodes", "node-1", None)["spec"]


def test_a_node_beyond_the_cluster_cidr_gets_the_cidr_not_available_event() -> None:
    kcm = dataclasses.replace(COMPONENTS[0], options={"allocate-node-cidrs": True, "cluster-cidr": "10.244.0.0/23"})
    cluster = engine.Cluster(nodes=2, components=[kcm, *COMPONENTS[1:]])
    cluster.run(5)
    cidrs = [cluster.get("nodes", n, None)["spec"].get("podCIDRs") for n in cluster.node_names]
    assert sorted(c[0] for c in cidrs if c) == ["10.244.0.0/24", "10.244.1.0/24"] and cidrs.count(None) == 1
    events = [e for e in cluster.list("events", all_namespaces=True) if e["reason"] == "CIDRNotAvailable"]
    assert events and events[0]["source"]["component"] == "cidrAllocator"
    node = events[0]["involvedObject"]["name"]
    assert events[0]["message"] == f"Node {node} status is now: CIDRNotAvailable"


def test_a_lab_can_choose_the_block_and_the_bitmap_still_records_it() -> None:
    seen = []

    def choose(cluster: str, mask: int, taken: list[str], last: str | None) -> str:
        seen.append((cluster, mask, list(taken), last))
        return "10.244.7.0/24" if last is None else "10.244.3.0/24"

    cidrs = CIDRSet("10.244.0.0/16", 24, choose)
    cidrs.occupy("10.244.1.0/24")
    assert [cidrs.allocate_next(), cidrs.allocate_next()] == ["10.244.7.0/24", "10.244.3.0/24"]
    assert seen == [("10.244.0.0/16", 24, ["10.244.1.0/24"], None),
                    ("10.244.0.0/16", 24, ["10.244.1.0/24", "10.244.7.0/24"], "10.244.7.0/24")]
    with pytest.raises(CIDRSetExhausted):          # a taken block (or None) is no allocation
        cidrs.allocate_next()
