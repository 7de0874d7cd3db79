"""The kubelet's node status agent: its periodic status updates and Lease renewals over a long run."""

import engine
from engine import flags


def test_each_periodic_loop_keeps_only_its_next_tick():
    cluster = engine.Cluster(nodes=1, seed=0, keep_history=False)
    agent = cluster.components[("kubelet", "node-1")].node_status
    cluster.run(60 * flags.node_status_update_frequency)
    assert len(agent._timers) == 2                      # status update and Lease renewal
    assert all(not timer.cancelled and timer.when > cluster.now for timer in agent._timers.values())


def test_a_stopped_agent_leaves_no_tick_behind():
    cluster = engine.Cluster(nodes=1, seed=0, keep_history=False)
    agent = cluster.components[("kubelet", "node-1")].node_status
    timers = list(agent._timers.values())
    agent.stop()
    assert agent._timers == {} and all(timer.cancelled for timer in timers)
