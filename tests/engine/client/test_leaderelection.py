"""Leader election on a Lease: one leader, takeover after the lease duration, release, transitions, lost renewals."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from engine import flags
from engine.api.meta import parse_timestamp
from engine.client.leaderelection import JITTER_FACTOR, LeaderElector, LeaseLock
from engine.client.record import EventRecorder

NAMESPACE, NAME = "kube-system", "kube-scheduler"
MAX_RETRY = flags.leader_elect_retry_period * (1 + JITTER_FACTOR)      # 4.4 s: the longest acquire wait


@dataclass
class Candidate:
    """A LeaderElector with callbacks that keep what happened, and when."""

    elector: LeaderElector
    log: list[tuple[float, str]] = field(default_factory=list)

    @property
    def leading(self) -> bool:
        return self.elector.state == "leading"


@pytest.fixture
def candidate(admin, loop):
    def make(identity: str, *, release_on_cancel: bool = False, recorder: EventRecorder | None = None) -> Candidate:
        lock = LeaseLock(admin, NAMESPACE, NAME, identity, recorder=recorder)
        result = Candidate(None)  # type: ignore[arg-type]
        result.elector = LeaderElector(
            lock, release_on_cancel=release_on_cancel,
            on_started_leading=lambda: result.log.append((loop.now, "started")),
            on_stopped_leading=lambda: result.log.append((loop.now, "stopped")),
            on_new_leader=lambda who: result.log.append((loop.now, f"leader={who}")))
        return result
    return make


def lease(admin) -> dict:
    return admin.get("leases", NAME, NAMESPACE)


def run_until(loop, condition, limit: float = 120.0) -> float:
    deadline = loop.now + limit
    while not condition():
        assert loop.now < deadline, "condition never became true"
        loop.step()
    return loop.now


def test_of_two_candidates_exactly_one_leads_and_both_know_who(admin, loop, candidate):
    a, b = candidate("a"), candidate("b")
    start = loop.now
    a.elector.run()
    b.elector.run()
    loop.run_for(30)
    assert a.leading and not b.leading
    assert a.elector.get_leader() == b.elector.get_leader() == "a"
    assert a.log == [(start, "leader=a"), (start, "started")] and b.log == [(start, "leader=a")]
    spec = lease(admin)["spec"]
    assert spec["holderIdentity"] == "a" and spec["leaseDurationSeconds"] == 15 and spec["leaseTransitions"] == 0
    assert parse_timestamp(spec["renewTime"]) > start + 28.0          # renewed every 2 s
    assert parse_timestamp(spec["acquireTime"]) == start              # kept across renewals


def test_a_leader_that_stops_renewing_is_replaced_only_after_the_lease_duration(admin, loop, candidate):
    a, b = candidate("a"), candidate("b")
    a.elector.run()
    b.elector.run()
    loop.run_for(30)
    cancelled = loop.now
    a.elector.cancel()                                                # a crash: no release
    last_renewal = parse_timestamp(lease(admin)["spec"]["renewTime"])
    assert lease(admin)["spec"]["holderIdentity"] == "a"
    loop.run_until(last_renewal + flags.leader_elect_lease_duration - 0.001)
    assert not b.leading                                              # a's lease has not expired for b yet
    took_over = run_until(loop, lambda: b.leading)
    assert took_over >= last_renewal + flags.leader_elect_lease_duration
    assert took_over <= last_renewal + flags.leader_elect_lease_duration + 2 * MAX_RETRY
    spec = lease(admin)["spec"]
    assert spec["holderIdentity"] == "b" and spec["leaseTransitions"] == 1
    assert parse_timestamp(spec["acquireTime"]) == pytest.approx(took_over, abs=1e-6)
    assert a.log[-1] == (cancelled, "stopped")


def test_release_on_cancel_hands_the_lease_over_at_the_next_retry(admin, loop, candidate):
    a, b = candidate("a", release_on_cancel=True), candidate("b")
    a.elector.run()
    b.elector.run()
    loop.run_for(30)
    cancelled = loop.now
    a.elector.cancel()
    spec = lease(admin)["spec"]
    assert spec["holderIdentity"] == "" and spec["leaseDurationSeconds"] == 1
    took_over = run_until(loop, lambda: b.leading)
    assert took_over - cancelled <= MAX_RETRY                         # not 15 s: at b's next retry
    assert lease(admin)["spec"]["leaseTransitions"] == 1
    loop.run_for(0)
    assert [entry for _, entry in b.log] == ["leader=a", "leader=b", "started"]
    assert a.log[-1] == (cancelled, "stopped")


def test_every_takeover_counts_as_a_transition(admin, loop, candidate):
    a, b = candidate("a", release_on_cancel=True), candidate("b", release_on_cancel=True)
    a.elector.run()
    loop.run_for(5)
    b.elector.run()
    loop.run_for(5)
    a.elector.cancel()
    run_until(loop, lambda: b.leading)
    a.elector.run()
    loop.run_for(5)
    b.elector.cancel()
    run_until(loop, lambda: a.leading)
    assert lease(admin)["spec"]["leaseTransitions"] == 2
    assert lease(admin)["spec"]["holderIdentity"] == "a"


def test_a_leader_that_cannot_renew_within_the_renew_deadline_stops_leading(admin, loop, candidate):
    a = candidate("a")
    a.elector.run()
    loop.run_for(20)
    stolen = lease(admin)                                             # someone else writes the lease
    stolen["spec"]["holderIdentity"] = "intruder"
    admin.update(stolen)
    stolen_at = loop.now
    stopped = run_until(loop, lambda: not a.elector.running)
    # the failing round starts at the first renewal after the theft; it gives up renew_deadline later
    assert stolen_at + flags.leader_elect_renew_deadline <= stopped
    assert stopped <= stolen_at + flags.leader_elect_retry_period + flags.leader_elect_renew_deadline
    assert a.log[-1] == (stopped, "stopped") and not a.elector.is_leader()
    assert a.elector.get_leader() == "intruder"


def test_on_stopped_leading_is_called_even_for_a_candidate_that_never_led(admin, loop, candidate):
    a, b = candidate("a"), candidate("b")
    a.elector.run()
    b.elector.run()
    loop.run_for(5)
    b.elector.cancel()
    assert [entry for _, entry in b.log] == ["leader=a", "stopped"]


def test_when_two_candidates_race_for_an_expired_lease_the_409_loser_backs_off(admin, loop, candidate):
    admin.create({"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
                  "metadata": {"name": NAME, "namespace": NAMESPACE},
                  "spec": {"holderIdentity": "old", "leaseDurationSeconds": 15}})
    a, b = candidate("a"), candidate("b")
    assert not a.elector.try_acquire_or_renew() and not b.elector.try_acquire_or_renew()   # held by "old"
    loop.run_for(16)                                                  # both now see it expired
    read = a.elector.lock.get

    def read_then_b_writes():
        result = read()
        assert b.elector.try_acquire_or_renew()                       # b writes between a's read and write
        return result

    a.elector.lock.get = read_then_b_writes                           # type: ignore[method-assign]
    assert not a.elector.try_acquire_or_renew()                       # a's update is a 409 Conflict
    assert lease(admin)["spec"]["holderIdentity"] == "b" and lease(admin)["spec"]["leaseTransitions"] == 1
    assert not a.elector.is_leader() and b.elector.is_leader()


def test_a_leader_whose_cached_lease_is_stale_falls_back_to_reading_it_again(admin, loop, candidate):
    a = candidate("a")
    a.elector.run()
    loop.run_for(1)
    touched = lease(admin)                                            # someone else writes the lease
    touched["metadata"]["labels"] = {"touched": "yes"}
    admin.update(touched)
    loop.run_for(4)                                                   # fast path 409, slow path succeeds
    assert a.leading and lease(admin)["spec"]["holderIdentity"] == "a"
    assert lease(admin)["metadata"]["labels"] == {"touched": "yes"}
    assert lease(admin)["spec"]["leaseTransitions"] == 0


def test_leader_election_events_are_recorded_on_the_lease(admin, loop, candidate):
    recorder = EventRecorder(admin, "kube-scheduler")
    a = candidate("a", recorder=recorder)
    a.elector.run()
    loop.run_for(1)
    events = admin.list("events", NAMESPACE)["items"]
    assert [(e["reason"], e["message"], e["involvedObject"]["kind"]) for e in events] == [
        ("LeaderElection", "a became leader", "Lease")]


@pytest.mark.parametrize("options, message", [
    pytest.param({"lease_duration": 10.0, "renew_deadline": 10.0}, "leaseDuration must be greater than renewDeadline",
                 id="the lease must outlast the renew deadline"),
    pytest.param({"renew_deadline": 2.0, "retry_period": 2.0}, "renewDeadline must be greater than retryPeriod",
                 id="the renew deadline must leave room for a jittered retry"),
])
def test_invalid_timings_are_refused(admin, options, message):
    with pytest.raises(ValueError, match=message):
        LeaderElector(LeaseLock(admin, NAMESPACE, NAME, "a"), **options)


def test_an_empty_identity_is_refused(admin):
    with pytest.raises(ValueError, match="identity"):
        LeaseLock(admin, NAMESPACE, NAME, "")


def test_the_same_seed_gives_the_same_election_history_to_the_event():
    from engine.cluster import Cluster

    def history(seed: int) -> list:
        cluster = Cluster(nodes=0, seed=seed, components=[])
        electors = [LeaderElector(LeaseLock(cluster.admin, NAMESPACE, NAME, identity)) for identity in "abc"]
        for elector in electors:
            elector.run()
        cluster.run(20)
        electors[0].cancel()
        cluster.run(40)
        return [(round(when, 9), label) for when, _, label in cluster.loop.history]

    assert history(7) == history(7)
    assert history(7) != history(8)                                   # the jitter really is drawn from the seed
