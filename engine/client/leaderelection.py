"""Leader election on a Lease (client-go tools/leaderelection with resourcelock.LeaseLock).

kube-scheduler and kube-controller-manager run several replicas for
availability, but only one may act at a time. Each candidate runs a
``LeaderElector`` on the same ``coordination.k8s.io/v1`` Lease (e.g.
``kube-system/kube-scheduler``); the one whose identity is in
``spec.holderIdentity`` leads, and keeps leading only while it renews.

The algorithm is client-go's, step for step (``tryAcquireOrRenew``):

1. the leader first tries a fast path: update the Lease it last wrote,
   relying on its resourceVersion (optimistic concurrency: a 409 means
   someone else wrote meanwhile, and it falls back to step 2);
2. get the Lease, creating it (and so leading) if there is none;
3. if the record differs from the one last seen, remember it and *when it
   was seen*: expiry is judged from this candidate's own observed time plus
   ``leaseDurationSeconds``, never from ``renewTime`` in the record, so clocks
   of different machines never need to agree;
4. if someone else holds an unexpired lease, give up for now;
5. otherwise write the record: our identity, ``renewTime`` now, ``acquireTime``
   kept when renewing and set to now when taking over, and
   ``leaseTransitions`` incremented on a takeover.

Timing, from ``engine.flags`` (the real defaults): a candidate retries every
``retry_period`` (2 s) jittered by up to 1.2 times as much (``wait.JitterUntil``,
randomness from the loop); a leader renews every 2 s and, if no renewal
succeeds within ``renew_deadline`` (10 s), stops leading. A leader that just
stops (a crash) is replaced ``lease_duration`` (15 s) after the others last saw
its lease change; with ``release_on_cancel`` a leader that is cancelled writes
an empty holder and a 1-second duration, so a successor takes over at its next
retry.

Callbacks, as ``LeaderCallbacks``: ``on_started_leading()`` and
``on_new_leader(identity)`` run on the next loop turn (client-go starts them
in goroutines); ``on_stopped_leading()`` runs when ``run`` ends, *whether or not*
this candidate ever led (client-go defers it in ``Run``). A stopped elector
does not try again by itself: call ``run`` again to stand for election.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Callable

from engine import flags
from engine.api.errors import ApiError, NotFound
from engine.api.meta import micro_timestamp, parse_timestamp, timestamp
from engine.sim.loop import Timer

if TYPE_CHECKING:
    from engine.client.client import Client
    from engine.client.record import EventRecorder

log = logging.getLogger(__name__)

JITTER_FACTOR = 1.2
"""client-go's leaderelection.JitterFactor: an acquire retry waits retry_period * (1 + rand * 1.2)."""


@dataclass
class LeaderElectionRecord:
    """resourcelock.LeaderElectionRecord: what a Lease's spec says about its holder (times in virtual s)."""

    holder_identity: str = ""
    lease_duration_seconds: int = 0
    acquire_time: float | None = None
    renew_time: float | None = None
    leader_transitions: int = 0

    def raw(self) -> str:
        """The record as client-go compares it: JSON with second-precision times (metav1.Time)."""
        fields = asdict(self)
        for name in ("acquire_time", "renew_time"):
            fields[name] = timestamp(fields[name]) if fields[name] is not None else None
        return json.dumps(fields, sort_keys=True)


def record_from_spec(spec: dict) -> LeaderElectionRecord:
    """LeaseSpecToLeaderElectionRecord."""
    return LeaderElectionRecord(
        holder_identity=spec.get("holderIdentity") or "",
        lease_duration_seconds=int(spec.get("leaseDurationSeconds") or 0),
        acquire_time=parse_timestamp(spec["acquireTime"]) if spec.get("acquireTime") else None,
        renew_time=parse_timestamp(spec["renewTime"]) if spec.get("renewTime") else None,
        leader_transitions=int(spec.get("leaseTransitions") or 0),
    )


def spec_from_record(record: LeaderElectionRecord) -> dict:
    """LeaderElectionRecordToLeaseSpec (MicroTime: microsecond precision)."""
    return {
        "holderIdentity": record.holder_identity,
        "leaseDurationSeconds": record.lease_duration_seconds,
        "acquireTime": micro_timestamp(record.acquire_time or 0.0),
        "renewTime": micro_timestamp(record.renew_time or 0.0),
        "leaseTransitions": record.leader_transitions,
    }


class LeaseLock:
    """resourcelock.LeaseLock: reads and writes the election record in one Lease, through the client."""

    def __init__(self, client: "Client", namespace: str, name: str, identity: str, *,
                 recorder: "EventRecorder | None" = None) -> None:
        if not identity:
            raise ValueError("Lock identity is empty")
        self.client = client
        self.namespace = namespace
        self.name = name
        self.identity = identity
        self.recorder = recorder
        self.lease: dict | None = None
        """The Lease as last read or written: its resourceVersion guards the next update."""

    def get(self) -> tuple[LeaderElectionRecord, str]:
        self.lease = self.client.get("leases", self.name, self.namespace)
        record = record_from_spec(self.lease.get("spec") or {})
        return record, record.raw()

    def create(self, record: LeaderElectionRecord) -> None:
        self.lease = self.client.create({
            "apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
            "metadata": {"name": self.name, "namespace": self.namespace},
            "spec": spec_from_record(record),
        })

    def update(self, record: LeaderElectionRecord) -> None:
        if self.lease is None:
            raise RuntimeError("lease not initialized, call get or create first")
        lease = self.lease
        lease["spec"] = spec_from_record(record)
        self.lease = self.client.update(lease)

    def record_event(self, message: str) -> None:
        if self.recorder is None or self.lease is None:
            return
        subject = {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": self.lease["metadata"]}
        self.recorder.eventf(subject, "Normal", "LeaderElection", "%s %s", self.identity, message)

    def describe(self) -> str:
        return f"{self.namespace}/{self.name}"


class LeaderElector:
    """One candidate's leader election loop on the simulation loop."""

    def __init__(self, lock: LeaseLock, *, lease_duration: float = flags.leader_elect_lease_duration,
                 renew_deadline: float = flags.leader_elect_renew_deadline,
                 retry_period: float = flags.leader_elect_retry_period,
                 on_started_leading: Callable[[], object] | None = None,
                 on_stopped_leading: Callable[[], object] | None = None,
                 on_new_leader: Callable[[str], object] | None = None,
                 release_on_cancel: bool = False, name: str = "") -> None:
        if lease_duration <= renew_deadline:
            raise ValueError("leaseDuration must be greater than renewDeadline")
        if renew_deadline <= JITTER_FACTOR * retry_period:
            raise ValueError("renewDeadline must be greater than retryPeriod*JitterFactor")
        if lease_duration < 1 or renew_deadline < 1 or retry_period < 1:
            raise ValueError("leaseDuration, renewDeadline and retryPeriod must be at least one second")
        self.lock = lock
        self.loop = lock.client.loop
        self.lease_duration = lease_duration
        self.renew_deadline = renew_deadline
        self.retry_period = retry_period
        self.on_started_leading = on_started_leading
        self.on_stopped_leading = on_stopped_leading
        self.on_new_leader = on_new_leader
        self.release_on_cancel = release_on_cancel
        self.name = name or lock.describe()
        self.observed_record = LeaderElectionRecord()
        self.observed_raw = ""
        self.observed_time = float("-inf")
        self.reported_leader = ""
        self.state = "idle"
        """idle -> acquiring -> leading -> idle (or acquiring -> idle when cancelled first)."""
        self._timer: Timer | None = None
        self._renew_deadline_at = 0.0

    # -- what others may ask ------------------------------------------------------
    @property
    def identity(self) -> str:
        return self.lock.identity

    def is_leader(self) -> bool:
        """True if the last observed record names this candidate (client-go IsLeader)."""
        return self.observed_record.holder_identity == self.identity

    def get_leader(self) -> str:
        """The identity of the last observed leader ("" if none yet)."""
        return self.observed_record.holder_identity

    @property
    def running(self) -> bool:
        return self.state != "idle"

    # -- the loop ---------------------------------------------------------------------
    def run(self) -> None:
        """Stand for election: try now, then every retry period (jittered) until leading or cancelled."""
        if self.running:
            return
        self.state = "acquiring"
        log.debug("attempting to acquire leader lease %s...", self.lock.describe())
        self._schedule(0.0, self._acquire_tick)

    def cancel(self) -> None:
        """Stop (the context is cancelled): a leader releases the lease first if ``release_on_cancel``."""
        if not self.running:
            return
        self._cancel_timer()
        if self.state == "leading":
            self._end_leading()
        self._finish()

    def _acquire_tick(self) -> None:
        self._timer = None
        succeeded = self.try_acquire_or_renew()
        self._maybe_report_transition()
        if not succeeded:
            log.debug("failed to acquire lease %s", self.lock.describe())
            period = self.retry_period + self.loop.random.random() * JITTER_FACTOR * self.retry_period
            self._schedule(period, self._acquire_tick)
            return
        self.lock.record_event("became leader")
        log.debug("successfully acquired lease %s", self.lock.describe())
        self.state = "leading"
        if self.on_started_leading is not None:
            self.loop.call_soon(self.on_started_leading, label=f"leader {self.identity}")
        self._start_renew_round()

    def _start_renew_round(self) -> None:
        """wait.Until(..., RetryPeriod): one round is a PollImmediateUntil bounded by the renew deadline."""
        self._timer = None
        self._renew_deadline_at = self.loop.now + self.renew_deadline
        self._renew_tick()

    def _renew_tick(self) -> None:
        self._timer = None
        if self.try_acquire_or_renew():
            self._maybe_report_transition()
            self._schedule(self.retry_period, self._start_renew_round)
            return
        if self.loop.now + self.retry_period < self._renew_deadline_at:
            self._schedule(self.retry_period, self._renew_tick)
        else:
            self._schedule(self._renew_deadline_at - self.loop.now, self._renew_failed)

    def _renew_failed(self) -> None:
        self._timer = None
        self._maybe_report_transition()
        log.debug("failed to renew lease %s: timed out waiting for the condition", self.lock.describe())
        self._end_leading()
        self._finish()

    def _end_leading(self) -> None:
        if self.release_on_cancel:
            self.release()
        self.lock.record_event("stopped leading")

    def _finish(self) -> None:
        self.state = "idle"
        if self.on_stopped_leading is not None:
            self.on_stopped_leading()

    def _schedule(self, delay: float, callback: Callable[[], None]) -> None:
        self._timer = self.loop.call_later(delay, callback, label=f"leaderelection {self.identity}")

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    # -- one attempt ------------------------------------------------------------------
    def try_acquire_or_renew(self) -> bool:
        """One attempt to become or stay leader; True on success (client-go tryAcquireOrRenew)."""
        now = self.loop.now
        record = LeaderElectionRecord(self.identity, int(self.lease_duration), now, now, 0)

        # 1. fast path: the leader updates the lease it last wrote, trusting its resourceVersion.
        if self.is_leader() and self._lease_valid(now):
            record.acquire_time = self.observed_record.acquire_time
            record.leader_transitions = self.observed_record.leader_transitions
            try:
                self.lock.update(record)
            except ApiError as error:
                log.debug("failed to update lock optimistically: %s, falling back to slow path", error)
            else:
                self._set_observed(record)
                return True

        # 2. get or create the record.
        try:
            old, old_raw = self.lock.get()
        except NotFound:
            try:
                self.lock.create(record)
            except ApiError as error:
                log.debug("error initially creating leader election record: %s", error)
                return False
            self._set_observed(record)
            return True
        except ApiError as error:
            log.debug("error retrieving resource lock %s: %s", self.lock.describe(), error)
            return False

        # 3. a changed record restarts the expiry clock, as this candidate sees it.
        if self.observed_raw != old_raw:
            self._set_observed(old)
            self.observed_raw = old_raw
        if old.holder_identity and self._lease_valid(now) and not self.is_leader():
            log.debug("lock is held by %s and has not yet expired", old.holder_identity)
            return False

        # 4. write our record: keep acquireTime when renewing, count a transition when taking over.
        if self.is_leader():
            record.acquire_time = old.acquire_time
            record.leader_transitions = old.leader_transitions
        else:
            record.leader_transitions = old.leader_transitions + 1
        try:
            self.lock.update(record)
        except ApiError as error:             # a 409 Conflict: someone else wrote first
            log.debug("failed to update lock: %s", error)
            return False
        self._set_observed(record)
        return True

    def release(self) -> bool:
        """Give the lease up: empty holder, 1-second duration (so the next candidate need not wait)."""
        if not self.is_leader():
            return True
        now = self.loop.now
        record = LeaderElectionRecord("", 1, now, now, self.observed_record.leader_transitions)
        try:
            self.lock.update(record)
        except ApiError as error:
            log.debug("failed to release lock: %s", error)
            return False
        self._set_observed(record)
        return True

    def _lease_valid(self, now: float) -> bool:
        return self.observed_time + self.observed_record.lease_duration_seconds > now

    def _set_observed(self, record: LeaderElectionRecord) -> None:
        self.observed_record = record
        self.observed_time = self.loop.now

    def _maybe_report_transition(self) -> None:
        holder = self.observed_record.holder_identity
        if holder == self.reported_leader:
            return
        self.reported_leader = holder
        if self.on_new_leader is not None:
            self.loop.call_soon(self.on_new_leader, holder, label=f"leader {self.identity}")

    def __repr__(self) -> str:
        return f"LeaderElector({self.identity!r} on {self.lock.describe()}, {self.state}, leader={self.get_leader()!r})"
