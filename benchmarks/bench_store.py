"""etcd (engine/store/memory.py): raw store throughput.

* writes: 50,000 puts of 1.5 KB values under 1,000 prefixes (a pod-sized value each);
* reads: 50,000 single-key ranges at the current revision;
* watch fan-out: 100 prefix watchers on ``/registry/pods/``, 10,000 puts; events
  delivered to watch callbacks per second of wall time.

Each figure is the median of three runs.
"""

from __future__ import annotations

import statistics
import time

from engine.sim import Loop
from engine.store import MemoryStore, prefix_end

KEYS = 50_000
VALUE = b"x" * 1500
WATCHERS = 100
WATCHED_WRITES = 10_000
REPEATS = 3


def _writes_and_reads() -> tuple[float, float]:
    store = MemoryStore(Loop(0))
    keys = [f"/registry/pods/ns-{index % 1000}/pod-{index}" for index in range(KEYS)]
    started = time.perf_counter()
    for key in keys:
        store.put(key, VALUE)
    writes = KEYS / (time.perf_counter() - started)
    started = time.perf_counter()
    for key in keys:
        store.range(key)
    reads = KEYS / (time.perf_counter() - started)
    return writes, reads


def _watch_fanout() -> float:
    store = MemoryStore(Loop(0))
    delivered = 0

    def callback(events) -> None:
        nonlocal delivered
        delivered += len(events)

    prefix = "/registry/pods/"
    for _ in range(WATCHERS):
        store.watch(prefix, prefix_end(prefix), callback=callback)
    started = time.perf_counter()
    for index in range(WATCHED_WRITES):
        store.put(f"{prefix}default/pod-{index}", VALUE)
    elapsed = time.perf_counter() - started
    assert delivered == WATCHERS * WATCHED_WRITES
    return delivered / elapsed


def run() -> list[tuple[str, float, str]]:
    measured = [_writes_and_reads() for _ in range(REPEATS)]
    fanout = statistics.median(_watch_fanout() for _ in range(REPEATS))
    return [
        ("put (1.5 KB values)", statistics.median(w for w, _ in measured), "writes/s"),
        ("range of one key", statistics.median(r for _, r in measured), "reads/s"),
        (f"watch fan-out to {WATCHERS} watchers", fanout, "events delivered/s"),
    ]
