"""The API server's etcd compactor (k8s.io/apiserver/pkg/storage/etcd3/compact.go).

etcd keeps every revision of every key until someone compacts it; kube-apiserver does, every
``--etcd-compaction-interval`` (five minutes). Without it a cluster that runs for an hour (a live demo, a
notebook left open) keeps every node heartbeat and Lease renewal it ever wrote, and the watch cache's window
with them: memory grows for as long as the cluster runs.

Each tick is one transaction on the key ``compact_rev_key``, whose version is the "compact time" the API
servers sharing an etcd agree on: if its version is still the one this compactor last saw, the compactor
bumps it (writing the revision it saw at the previous tick) and compacts at that revision; otherwise another
API server compacted meanwhile, and this one only catches up. Either way the revision of the transaction
becomes the next compaction point, so history is kept for one to two intervals and the first tick (at boot)
compacts nothing.

Interface:
    Compactor(apiserver, interval).start()   tick every ``interval`` virtual seconds from now
    compactor.stop()                         no more ticks
    compactor.compactions                    how many compactions this compactor made
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine.sim.loop import Timer
from engine.store.types import CompactedError, Compare, PutOp, RangeOp

if TYPE_CHECKING:
    from engine.apiserver.server import APIServer

COMPACT_REV_KEY = "compact_rev_key"
"""The etcd key (outside ``/registry``) whose version is the compact time and whose value the last point."""


class Compactor:
    """Compacts the API server's store, and its watch caches with it, every ``interval`` virtual seconds."""

    def __init__(self, apiserver: "APIServer", interval: float) -> None:
        self.apiserver = apiserver
        self.interval = interval
        self.compactions = 0
        self._compact_time = 0
        """The version of ``compact_rev_key`` this compactor last saw (0: the key does not exist yet)."""
        self._revision = 0
        """The store's revision at the previous tick: the next compaction point (0: none yet, at boot)."""
        self._timer: Timer | None = None

    def start(self) -> None:
        """The first tick comes one interval from now, as after kube-apiserver starts."""
        if self.interval > 0 and self._timer is None:
            self._timer = self.apiserver.loop.call_later(self.interval, self._tick, label="etcd compactor")

    def stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _tick(self) -> None:
        self._timer = None
        self._compact()
        self.start()

    def _compact(self) -> None:
        store = self.apiserver.store
        response = store.txn([Compare(COMPACT_REV_KEY, "VERSION", "=", self._compact_time)],
                             [PutOp(COMPACT_REV_KEY, str(self._revision).encode())],
                             [RangeOp(COMPACT_REV_KEY)])
        previous, self._revision = self._revision, response.revision
        if not response.succeeded:
            # Another API server compacted since our last tick: take its compact time, try again next interval.
            self._compact_time = response.responses[0].kvs[0].version
            return
        self._compact_time += 1
        if previous == 0:
            return                                  # "We don't compact on bootstrap."
        try:
            self.apiserver.compact(previous)
        except CompactedError:
            return                                  # someone compacted further by hand: nothing to drop here
        self.compactions += 1
