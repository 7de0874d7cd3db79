"""CPython's cyclic garbage collector, set for a simulated cluster's heap.

Almost everything a running cluster allocates lives long: stored revisions,
watch-cache windows, informer caches, audit records, API objects. CPython's
collector is generational: the young generations are collected often and
cheaply, and by default (thresholds 700, 10, 10) every tenth collection of
the middle generation becomes a *full* collection, which walks every tracked
object of the process, i.e. the whole cluster, however little of it is
garbage. At scheduler_perf's sizes (5,000 nodes, 10,000 pods) that walking
was about a sixth of the scheduler benchmark's CPU time.

``tune_collector`` keeps the young generations' thresholds and spaces full
collections at least 100 middle-generation collections apart (roughly 70,000
net container allocations each). CPython's own rule still holds as well: a
full collection also waits until the long-lived objects grew by a quarter
since the last one, so garbage cycles are still found, only less often (the
way Go's collector waits for the heap to grow before it runs). The setting is
process-wide; it only ever raises the third threshold, never lowers one a
program set higher.
"""

from __future__ import annotations

import gc

FULL_COLLECTION_SPACING = 100
"""Middle-generation collections between two full collections at the least (CPython's default is 10)."""


def tune_collector() -> None:
    """Space full collections for a long-lived heap (called when a cluster is built)."""
    young, middle, old = gc.get_threshold()
    if young and old < FULL_COLLECTION_SPACING:
        gc.set_threshold(young, middle, FULL_COLLECTION_SPACING)
