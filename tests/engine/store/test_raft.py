"""The Raft model keeps Raft's safety properties under elections, partitions and crashes, and is deterministic."""

from __future__ import annotations

import pytest

from engine.sim import Loop
from engine.store.raft import RaftModel

NAMES = ["etcd-0", "etcd-1", "etcd-2"]


def model(seed: int = 0, names=NAMES) -> RaftModel:
    return RaftModel(names, loop=Loop(seed=seed))


def settled(raft: RaftModel) -> str:
    raft.run(3.0)
    leader = raft.leader()
    assert leader is not None, "a leader is elected within a few election timeouts"
    return leader


def test_a_leader_is_elected_and_every_member_follows_it_in_its_term():
    raft = model()
    leader = settled(raft)
    term = raft.members[leader].term
    assert [(m.role, m.term) for m in raft.members.values() if m.name != leader] == [("follower", term)] * 2
    assert raft.leaders == {term: leader}


def test_a_proposal_is_committed_once_a_majority_holds_it_and_reaches_every_member():
    raft = model()
    settled(raft)
    assert raft.propose("x=1") is not None
    raft.run(0.5)
    assert [e.command for e in raft.committed][-1] == "x=1"
    assert all(m.commit == len(raft.committed) and m.log == raft.committed for m in raft.members.values())


def test_a_leader_cut_off_from_the_majority_commits_nothing_and_steps_down_when_it_hears_the_new_term():
    raft = model(seed=1)
    old = settled(raft)
    old_term = raft.members[old].term
    others = set(NAMES) - {old}
    raft.partition({old}, others)
    raft.run(3.0)
    new = raft.leader()
    assert new in others and raft.members[new].term > old_term
    assert raft.members[old].role == "leader", "alone, the old leader does not know yet"
    raft.propose("stale", to=old)
    raft.propose("fresh")
    raft.run(1.0)
    assert "stale" not in [e.command for e in raft.committed], "one member is no quorum"
    raft.heal()
    raft.run(1.0)
    assert raft.members[old].role == "follower" and raft.members[old].term == raft.members[new].term
    assert any("steps down" in event for event in raft.events)
    assert [e.command for e in raft.members[old].log].count("stale") == 0, "its uncommitted entry is replaced"
    assert "fresh" in [e.command for e in raft.members[old].log]


def test_a_majority_is_needed_to_elect_so_one_member_alone_never_leads():
    raft = model(seed=2)
    settled(raft)
    raft.partition({"etcd-0"}, {"etcd-1"}, {"etcd-2"})
    raft.run(5.0)
    assert all(m.role != "leader" or m.term in raft.leaders and raft.leaders[m.term] == m.name
               for m in raft.members.values())
    terms_after = {m.name: m.term for m in raft.members.values()}
    assert max(terms_after.values()) > min(raft.leaders), "candidates keep starting new terms"
    assert list(raft.leaders) == [min(raft.leaders)], "no new term found a majority"


@pytest.mark.parametrize("seed", range(12))
def test_random_crashes_and_partitions_never_break_safety(seed):
    raft = model(seed, names=["a", "b", "c", "d", "e"])
    chaos = raft.loop.random
    written = 0
    for _ in range(30):
        action = chaos.random()
        names = list(raft.members)
        if action < 0.15:
            chaos.shuffle(names)
            cut = chaos.randint(1, 4)
            raft.partition(set(names[:cut]), set(names[cut:]))
        elif action < 0.25:
            raft.heal()
        elif action < 0.35:
            raft.stop(chaos.choice(names))
        elif action < 0.5:
            raft.start(chaos.choice(names))
        else:
            written += 1
            raft.propose(f"w{written}")
        raft.run(chaos.uniform(0.05, 1.5))
        assert raft.violations == []
    committed_before = list(raft.committed)
    raft.heal()
    for name in raft.members:
        raft.start(name)
    raft.run(5.0)
    leader = raft.leader()
    assert leader is not None
    assert raft.members[leader].log[:len(committed_before)] == committed_before, "committed entries are never lost"
    assert raft.violations == [], "never two leaders in one term, never a committed entry changed or lost"
    assert all(raft.leaders[m.term] == m.name for m in raft.members.values() if m.role == "leader")


def test_the_same_seed_gives_the_same_history():
    def history(seed):
        raft = model(seed)
        settled(raft)
        raft.propose("x")
        raft.partition({"etcd-0"}, {"etcd-1", "etcd-2"})
        raft.run(2.0)
        return raft.events, raft.loop.history

    assert history(4) == history(4)
    assert history(4)[0] != history(5)[0]
