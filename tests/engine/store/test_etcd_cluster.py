"""A real three-member etcd cluster on loopback: one leader, writes with a member down, none without quorum,
a returning member catching up, and no acknowledged write lost on any member."""

from __future__ import annotations

import time

import pytest

from engine.store.etcd_client import EtcdClient, EtcdUnavailable, encode_key, encode_value
from engine.store.etcd_process import EtcdCluster
from engine.store.types import StoreError


@pytest.fixture(scope="module")
def cluster():
    members = EtcdCluster(3).start()
    yield members
    members.stop()


def put(endpoint: str, key: str, value: str, *, timeout: float = 3.0) -> int:
    """One write through ``endpoint``; returns its revision once etcd acknowledged it."""
    client = EtcdClient(endpoint, timeout=timeout)
    try:
        response = client.call("kv/put", {"key": encode_key(key), "value": encode_value(value.encode())})
    finally:
        client.close()
    return int(response["header"]["revision"])


def put_until_acknowledged(endpoint: str, key: str, value: str, *, within: float = 15.0) -> int:
    """Retry a write while an election is going on (etcd answers 'leader changed' or times out)."""
    deadline = time.monotonic() + within
    while True:
        try:
            return put(endpoint, key, value)
        except StoreError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def local_read(endpoint: str, key: str) -> str | None:
    """A serializable read: what this member's own copy holds, without asking the leader."""
    client = EtcdClient(endpoint, timeout=3.0)
    try:
        response = client.call("kv/range", {"key": encode_key(key), "serializable": True})
    finally:
        client.close()
    kvs = response.get("kvs", [])
    return kvs[0].get("value") if kvs else None


def revisions(cluster: EtcdCluster) -> list[int | None]:
    return [status.revision if status else None for status in cluster.status()]


def wait_for_same_revision(cluster: EtcdCluster, within: float = 15.0) -> list[int | None]:
    deadline = time.monotonic() + within
    while True:
        seen = revisions(cluster)
        if None not in seen and len(set(seen)) == 1:
            return seen
        if time.monotonic() > deadline:
            return seen
        time.sleep(0.1)


def test_quorum_decides_which_writes_succeed_and_no_acknowledged_write_is_lost(cluster):
    acknowledged: dict[str, str] = {}
    statuses = cluster.status()
    leader = cluster.leader_index()
    assert len({status.leader for status in statuses}) == 1, "every member follows the same leader"
    term = statuses[leader].raft_term

    for index in range(5):
        acknowledged[f"/acked/{index}"] = f"all-up-{index}"
        put(cluster.endpoints[index % 3], f"/acked/{index}", f"all-up-{index}")

    # The leader goes down: the two others elect a new one in a higher term, and writes go on.
    cluster.stop_member(leader)
    first_down = leader
    alive = [index for index in range(3) if index != first_down]
    for index in range(5, 10):
        value = f"one-down-{index}"
        put_until_acknowledged(cluster.endpoints[alive[index % 2]], f"/acked/{index}", value)
        acknowledged[f"/acked/{index}"] = value
    new_leader = cluster.leader_index()
    assert new_leader != first_down
    assert cluster.status()[new_leader].raft_term > term, "an election starts a new term"

    # A second member goes down: one of three is no quorum, and a write cannot be acknowledged.
    second_down = alive[0]
    cluster.stop_member(second_down)
    survivor = alive[1]
    started = time.monotonic()
    with pytest.raises(EtcdUnavailable):
        put(cluster.endpoints[survivor], "/unacknowledged", "lost?", timeout=3.0)
    assert time.monotonic() - started < 10, "the failure comes within a bounded wait"

    # Both come back: the cluster elects a leader, and the members that were down catch up.
    cluster.start_member(second_down)
    cluster.start_member(first_down)
    cluster.leader_index()
    value = "after-return"
    put_until_acknowledged(cluster.endpoints[first_down], "/acked/last", value)
    acknowledged["/acked/last"] = value
    same = wait_for_same_revision(cluster)
    assert len(set(same)) == 1, f"every member reaches the same revision: {same}"
    for index, endpoint in enumerate(cluster.endpoints):
        held = {key: local_read(endpoint, key) for key in acknowledged}
        expected = {key: encode_value(value.encode()) for key, value in acknowledged.items()}
        assert held == expected, f"member {index} lost an acknowledged write"
