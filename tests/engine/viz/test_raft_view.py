"""The Raft views are functions of the model's state (and of real members' status); the explorer drives it."""

from __future__ import annotations

from engine.sim import Loop
from engine.store.etcd_client import MemberStatus
from engine.store.raft import RaftModel
from engine.viz.raft import RaftExplorer, etcd_members_diagram, raft_diagram, render_raft_html


def elected() -> RaftModel:
    raft = RaftModel(loop=Loop(seed=1))
    raft.run(3.0)
    return raft


def test_the_html_lists_each_member_with_its_role_term_and_log():
    raft = elected()
    leader = raft.leader()
    text = render_raft_html(raft)
    for name, member in raft.members.items():
        assert f'data-member="{name}"' in text
    assert f"<th>{leader}</th><td>leader</td><td>{raft.members[leader].term}</td>" in text
    assert f"leader: {leader}" in text and "quorum 2 of 3" in text


def test_the_diagram_draws_messages_in_flight_and_partitions():
    raft = elected()
    raft.propose("x=1")
    source = raft_diagram(raft).source
    assert "AppendEntries" in source and "leader" in source
    raft.partition({"etcd-0"}, {"etcd-1", "etcd-2"})
    assert "cluster_1" in raft_diagram(raft).source and "partition 2" in raft_diagram(raft).source


def test_the_same_state_renders_the_same_and_rendering_changes_nothing():
    raft = elected()
    now, events = raft.loop.now, list(raft.events)
    assert render_raft_html(raft) == render_raft_html(raft)
    assert raft_diagram(raft).source == raft_diagram(raft).source
    assert (raft.loop.now, raft.events) == (now, events)


def test_the_explorer_buttons_step_propose_stop_isolate_and_heal():
    raft = elected()
    explorer = RaftExplorer(raft)
    before = raft.loop.now
    explorer.run_button.click()
    assert raft.loop.now == before + 0.5
    explorer.propose_button.click()
    assert "x=1" in [entry.command for entry in raft.members[raft.leader()].log]
    explorer.member.value = "etcd-2"
    explorer.toggle_button.click()
    assert not raft.members["etcd-2"].running and "<td>stopped</td>" in explorer.body.value
    explorer.toggle_button.click()
    assert raft.members["etcd-2"].running
    explorer.isolate_button.click()
    assert raft.groups == [{"etcd-2"}, {"etcd-0", "etcd-1"}]
    explorer.heal_button.click()
    assert raft.groups == [{"etcd-0", "etcd-1", "etcd-2"}]
    steps = raft.loop.fired
    explorer.step_button.click()
    assert raft.loop.fired == steps + 1
    assert explorer.diagram.value.startswith("<?xml") or "<svg" in explorer.diagram.value


def test_the_real_cluster_diagram_marks_the_leader_its_followers_and_a_member_down():
    statuses = [MemberStatus("http://127.0.0.1:1", 11, 22, 3, 40, 9, 1, "3.4.23"),
                MemberStatus("http://127.0.0.1:2", 22, 22, 3, 40, 9, 1, "3.4.23"), None]
    source = etcd_members_diagram(["etcd-0", "etcd-1", "etcd-2"], statuses).source
    assert "etcd-1\nleader\nraft term 3\nraft index 40" in source
    assert "etcd-0\nfollower" in source and "etcd-2\ndown" in source
    assert '"etcd-1" -> "etcd-0"' in source and '"etcd-1" -> "etcd-2"' not in source
