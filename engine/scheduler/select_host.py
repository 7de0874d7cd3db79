"""selectHost (pkg/scheduler/schedule_one.go): the node with the highest total score, ties broken at random.

Upstream walks the scored nodes once and keeps one of the tied best by
reservoir sampling; ``select_host`` draws once from the loop's seeded source
instead (``int(random() * ties)``-th of the tied best, in the order the
nodes were scored), which gives every tied node the same chance. The result
is the position of the chosen node in ``totals``.

On long node lists held as an ``array('q')`` (what the fast path's score
columns give, ``engine.scheduler.memo``), the maximum and the ties are found
with numpy over the array's buffer, without a Python object per node; short
lists, and plain lists, are walked in Python. Both ways choose the same node
for the same draw (``tests/engine/scheduler/test_select_host.py``).
"""

from __future__ import annotations

import random as _random
from array import array
from itertools import compress, count, islice
from typing import Sequence

VECTOR_MIN = 64
"""From this many scored nodes on, an ``array('q')`` of totals is searched with numpy."""


def select_host(totals: Sequence[int], source: _random.Random) -> int:
    """The position in ``totals`` of the chosen node (``totals`` is not empty)."""
    if len(totals) >= VECTOR_MIN and isinstance(totals, array) and totals.typecode == "q":
        return _vectorised(totals, source)
    best = max(totals)
    ties = totals.count(best)
    if ties == 1:
        return totals.index(best)
    chosen = int(source.random() * ties)
    return next(islice(compress(count(), map(best.__eq__, totals)), chosen, None))


def _vectorised(totals: array, source: _random.Random) -> int:
    import numpy   # only here: small clusters never pay for importing it

    data = totals.tobytes()
    if data == data[:8] * len(totals):        # every node tied: no search needed
        return int(source.random() * len(totals))
    values = numpy.frombuffer(data, dtype=numpy.int64)
    tied = (values == numpy.maximum.reduce(values)).nonzero()[0]       # the ufunc itself: no wrapper calls
    if len(tied) == 1:
        return int(tied[0])
    return int(tied[int(source.random() * len(tied))])
