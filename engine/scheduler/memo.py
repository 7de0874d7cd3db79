"""The scheduler's fast path: node-local verdicts and scores remembered per pod shape, in step with the cache.

Kubernetes runs every Filter on every node it visits and every Score on
every feasible node, for every pod. Most default plugins are *node-local*
(``node_local = True``): their verdict and raw score on a node depend only
on the pod's shape and that node. Pods of one shape (``nodeinfo.shape``:
everything of a pod those plugins read) under one profile therefore share a
``VerdictMemo``: per node, the verdict of the leading node-local filters and
the raw node-local scores, kept as flat arrays by the node's position in the
cache's node order. The filter loop then finds runs of feasible nodes with
``bytearray.find``, and scoring takes each plugin's column over those runs
as slices, instead of touching nodes one by one.

Promises (what makes the placements equal to the straightforward path's,
which ``tests/engine/scheduler/test_fast_path.py`` checks on random clusters):

- a node's entries are dropped whenever the cache reports the node changed
  (a pod added, removed or assumed there, the Node object updated, the node
  added or removed), before the memo is next read; a change of the node
  order drops everything;
- every score is dropped when any node is added, changed or removed,
  because ImageLocality scales its score by how many nodes hold an image;
- plugins that are not node-local (InterPodAffinity, PodTopologySpread, a
  lab's plugins) run live, after the memoized ones, in profile order; a live
  plugin that can list, for this cycle, every node it rejects
  (``rejected_nodes``, InterPodAffinity without required affinity) is asked
  once instead of node by node.

The memo never calls the API server and never changes a NodeInfo.
"""

from __future__ import annotations

from array import array
from collections import deque
from collections.abc import Sequence
from functools import partial
from itertools import repeat
from operator import is_not
from typing import TYPE_CHECKING, Any, Callable, Iterator

from engine.scheduler.framework import CycleState, Framework, LocalScores, Status
from engine.scheduler.nodeinfo import footprint

if TYPE_CHECKING:
    from engine.scheduler.cache import SchedulerCache

_known = partial(is_not, None)
MEMO_SIGNATURES = 256
"""Pod shapes remembered per profile; past this many the memos start over."""


def _zeros(size: int) -> array:
    return array("q", bytes(8 * size))


def _gather(column: array, segments: list[tuple[int, int]]) -> array:
    """The values of ``column`` over ``segments`` (runs of positions), in order."""
    if len(segments) == 1:
        low, high = segments[0]
        return column[low:high]
    gathered = array("q")
    for low, high in segments:
        gathered += column[low:high]
    return gathered


class Runs(Sequence):
    """The items of ``base`` over ``runs`` (``(low, high)`` positions, in order), read in place.

    What a filter pass found feasible, as the cache's node list (or its names) and the runs of feasible
    positions in it: a cycle reads one or two of its nodes, so copying hundreds of them into a list (and
    dropping the copy again, with a reference count touched per node each time) costs more than reading
    through the runs on the rare occasions something walks them all. ``base`` must not change while the view
    is in use: the cache replaces its node list instead of changing it.
    """

    __slots__ = ("_base", "_runs", "_length")

    def __init__(self, base: list, runs: list[tuple[int, int]]) -> None:
        self._base, self._runs = base, runs
        self._length = sum(high - low for low, high in runs)

    def __len__(self) -> int:
        return self._length

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return list(self)[index]
        if index < 0:
            index += self._length
        if not 0 <= index < self._length:
            raise IndexError("Runs index out of range")
        for low, high in self._runs:
            if index < high - low:
                return self._base[low + index]
            index -= high - low
        raise AssertionError("unreachable")

    def __iter__(self) -> Iterator:
        base = self._base
        for low, high in self._runs:
            yield from base[low:high]

    def __repr__(self) -> str:
        return f"Runs({list(self)!r})"


class ScoreColumns:
    """One memo's node-local Score plugins: per plugin, each node's raw score, by node position."""

    def __init__(self, fixed: list, normalizing: list, weights: dict[str, int], size: int) -> None:
        self.fixed = fixed
        self.normalizing = normalizing
        self.fixed_weights = [weights.get(p.name, 1) for p in fixed]
        self.known = bytearray(size)                  # 1: the node's scores are current
        self.sums = _zeros(size)                      # weight * raw summed over ``fixed``
        self.fixed_raw = [_zeros(size) for _ in fixed]
        self.normalizing_raw = [_zeros(size) for _ in normalizing]

    def over(self, state: CycleState, pod: dict, nodes: list, segments: list[tuple[int, int]]) -> LocalScores:
        """The scores over ``segments`` of ``nodes`` (the cache's node order), computing the missing ones."""
        known = self.known
        for low, high in segments:
            index = known.find(0, low, high)
            while index != -1:
                info = nodes[index]
                total = 0
                for plugin, weight, column in zip(self.fixed, self.fixed_weights, self.fixed_raw):
                    column[index] = value = plugin.score(state, pod, info)
                    total += weight * value
                self.sums[index] = total
                for plugin, column in zip(self.normalizing, self.normalizing_raw):
                    column[index] = plugin.score(state, pod, info)
                known[index] = 1
                index = known.find(0, index + 1, high)
        return LocalScores(_gather(self.sums, segments), [_gather(c, segments) for c in self.fixed_raw],
                           [_gather(c, segments) for c in self.normalizing_raw])


class VerdictMemo:
    """One pod shape under one profile: per node, the leading node-local filters' verdict and the scores."""

    def __init__(self, local_filters: list) -> None:
        self.local_filters = local_filters
        self.statuses: dict[str, Status] = {}           # the rejected nodes' statuses, by name
        self.known = bytearray()                        # by node position: 1 when the verdict is current
        self.passing = bytearray()                      # by node position: 1 when the verdict is success
        self.columns: dict[tuple, ScoreColumns] = {}    # by the names of the plugins they hold
        self.dirty: set[str] = set()                    # filled by the cache on every node change
        self.order_generation = -1
        self.nodes_generation = -1

    def sync(self, cache: "SchedulerCache") -> None:
        """Forget what changed since the last read (it is computed again when next needed)."""
        if cache.order_generation != self.order_generation:
            size = len(cache.nodes)
            self.known, self.passing = bytearray(size), bytearray(size)
            self.statuses.clear()
            self.columns.clear()
            self.dirty.clear()
            self.order_generation, self.nodes_generation = cache.order_generation, cache.nodes_generation
            return
        if self.dirty:
            positions, known, columns = cache.node_positions, self.known, self.columns.values()
            for name in self.dirty:
                index = positions.get(name)
                if index is not None:
                    known[index] = 0
                    for column in columns:
                        column.known[index] = 0
            self.dirty.clear()
        if cache.nodes_generation != self.nodes_generation:
            for column in self.columns.values():
                column.known = bytearray(len(column.known))
            self.nodes_generation = cache.nodes_generation

    def ensure(self, framework: Framework, state: CycleState, pod: dict, nodes: list, low: int, high: int) -> None:
        """Compute the verdicts still missing among positions ``low``..``high`` of ``nodes``."""
        known, passing, statuses = self.known, self.passing, self.statuses
        index = known.find(0, low, high)
        while index != -1:
            info = nodes[index]
            status = framework.run_filter(state, pod, info, self.local_filters)
            if status is None:
                passing[index] = 1
                statuses.pop(info.name, None)
            else:
                passing[index] = 0
                statuses[info.name] = status
            known[index] = 1
            index = known.find(0, index + 1, high)

    def scores(self, framework: Framework, state: CycleState, pod: dict, cache: "SchedulerCache",
               segments: list[tuple[int, int]]) -> LocalScores:
        """The node-local plugins' raw scores over ``segments`` of the cache's node order."""
        _, fixed, normalizing, _ = framework.score_plugins(state)
        key = tuple(p.name for p in fixed) + ("/",) + tuple(p.name for p in normalizing)
        columns = self.columns.get(key)
        if columns is None:
            columns = self.columns[key] = ScoreColumns(fixed, normalizing, framework.weights, len(self.known))
        return columns.over(state, pod, cache.node_infos, segments)


def memo_for(framework: Framework, cache: "SchedulerCache", pod: dict, local_filters: list) -> VerdictMemo:
    """The memo of ``pod``'s shape under ``framework`` (created, and subscribed to the cache, on first use)."""
    memos: dict[tuple, VerdictMemo] = framework.__dict__.setdefault("_memos", {})
    key = (footprint(pod, cache.memo)[3], tuple(p.name for p in local_filters))
    memo = memos.get(key)
    if memo is None:
        if len(memos) >= MEMO_SIGNATURES:
            for old in memos.values():
                cache.unsubscribe(old.dirty)
            memos.clear()
        memo = memos[key] = VerdictMemo(local_filters)
        cache.subscribe(memo.dirty)
    return memo


def release_memos(framework: Framework, cache: "SchedulerCache") -> None:
    """Stop ``framework``'s memos following ``cache`` (the profile is being replaced)."""
    for memo in framework.__dict__.pop("_memos", {}).values():
        cache.unsubscribe(memo.dirty)


def find_feasible(framework: Framework, state: CycleState, pod: dict, memo: VerdictMemo, cache: "SchedulerCache",
                  start: int, to_find: int, live: list, special: dict[int, Any] | None = None,
                  evaluate: Callable[[Any], Status | None] | None = None,
                  ) -> tuple[list[tuple[int, int]], int, list[tuple[int, Any]]]:
    """findNodesThatPassFilters over the memo: (the feasible nodes as runs of positions in the cache's node
    order, in visiting order; nodes processed; rejections).

    Nodes are visited from ``start`` round the node list, as the plain loop visits them, until ``to_find``
    are feasible; a rejection is (offset from ``start``, its Status). Where no live filter must run node by
    node, runs of feasible nodes are found with ``bytearray.find``. ``special`` (position -> NodeInfo): nodes
    whose verdict is ``evaluate(node)`` instead (where nominated pods count), whatever the memo holds.
    """
    memo.sync(cache)
    nodes, names = cache.node_infos, cache.node_names
    count = len(nodes)
    blocked, blocked_status = _blocked(state, pod, live, cache)
    if blocked is not None:
        live = []                           # every live filter's rejections are in ``blocked``
    passing, statuses = memo.passing, memo.statuses
    segments: list[tuple[int, int]] = []
    rejections: list[tuple[int, Any]] = []
    offset = 0
    need = to_find
    while offset < count and need > 0:
        low = (start + offset) % count
        high = min(low + need, count, low + count - offset)
        memo.ensure(framework, state, pod, nodes, low, high)
        overrides = {index: evaluate(info) for index, info in special.items()   # type: ignore[misc]
                     if low <= index < high} if special else {}
        if live:
            for index in range(low, high):
                if index in overrides:
                    status = overrides[index]
                else:
                    status = statuses.get(names[index]) if not passing[index] else framework.run_filter(
                        state, pod, nodes[index], live)
                if status is None:
                    _append(segments, index)
                    need -= 1
                    if need == 0:
                        offset += index - low + 1
                        break
                else:
                    rejections.append((offset + index - low, status))
            else:
                offset += high - low
            continue
        chunk = passing[low:high]
        if blocked:
            chunk = _and_not(chunk, blocked[low:high])
        if overrides:
            chunk = bytearray(chunk)
            for index, status in overrides.items():
                chunk[index - low] = status is None
        size, at = high - low, 0
        while at < size and need > 0:
            begin = chunk.find(1, at)
            end_of_rejected = size if begin == -1 else begin
            for j in range(at, end_of_rejected):
                index = low + j
                rejections.append((offset + j, overrides[index] if index in overrides
                                   else statuses.get(names[index]) or blocked_status(index)))
            if begin == -1:
                at = size
                break
            end = chunk.find(0, begin)
            taken = min((size if end == -1 else end) - begin, need)
            segments.append((low + begin, low + begin + taken))
            need -= taken
            at = begin + taken
        offset += at
    return segments, offset, rejections


def _and_not(passing: bytes, blocked: bytes) -> bytes:
    """Bytes of 0 and 1: ``passing`` with a 0 wherever ``blocked`` has a 1 (one big-integer operation)."""
    size = len(passing)
    return (int.from_bytes(passing, "big") & ~int.from_bytes(blocked, "big")).to_bytes(size, "big")


def _append(segments: list[tuple[int, int]], index: int) -> None:
    """Add position ``index`` to the runs, extending the last run when it is next to it."""
    if segments and segments[-1][1] == index:
        segments[-1] = (segments[-1][0], index + 1)
    else:
        segments.append((index, index + 1))


def _blocked(state: CycleState, pod: dict, live: list, cache: "SchedulerCache",
             ) -> tuple[bytes | None, Callable[[int], Status]]:
    """The nodes the live filters reject, as bytes by node position (1: rejected; empty when none is) and the
    Status at a rejected position; None when some live filter must visit the nodes one by one."""
    if len(live) == 1 and hasattr(live[0], "rejected_mask"):
        masked = live[0].rejected_mask(state, pod)
        if masked is not None:
            return masked
    rejected = _live_rejections(state, pod, live)
    if not rejected:
        return (None if rejected is None and live else b""), _never
    names, positions = cache.node_names, cache.node_positions
    mask = bytearray(len(names))
    deque(map(mask.__setitem__, filter(_known, map(positions.get, rejected)), repeat(1)), maxlen=0)
    return mask, lambda index: rejected[names[index]]


def _never(index: int) -> Status:
    raise AssertionError(f"no live filter rejected position {index}")


def _live_rejections(state: CycleState, pod: dict, live: list) -> dict[str, Any] | None:
    """The nodes the live filters reject, in their order (the first rejection wins), when every one of them
    can list its rejections (``rejected_nodes``); None when some node must be visited."""
    if not live:
        return None
    merged: dict[str, Any] | None = None
    for plugin in live:
        listing = getattr(plugin, "rejected_nodes", None)
        rejected = listing(state, pod) if listing is not None else None
        if rejected is None:
            return None
        if merged is None:
            merged = dict(rejected)
            continue
        for name, status in rejected.items():
            merged.setdefault(name, status)
    return merged
