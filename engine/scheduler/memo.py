"""The scheduler's fast path: node-local verdicts and scores remembered per pod shape, in step with the cache.

Kubernetes runs every Filter on every node it visits and every Score on
every feasible node, for every pod. Most default plugins are *node-local*
(``node_local = True``): their verdict and raw score on a node depend only
on the pod's shape and that node. Pods of one shape (the ``signature``:
everything of a pod those plugins read) under one profile therefore share a
``VerdictMemo``: per node, the verdict of the leading node-local filters and
the raw node-local scores. The filter and score loops then touch each node
through a dict lookup, and whole runs of feasible nodes through list slices.

Promises (what makes the placements equal to the straightforward path's,
which ``tests/engine/scheduler/test_fast_path.py`` checks on random clusters):

- a node's entries are dropped whenever the cache reports the node changed
  (a pod added, removed or assumed there, the Node object updated, the node
  added or removed), before the memo is next read;
- every score row is dropped when any node is added, changed or removed,
  because ImageLocality scales its score by how many nodes hold an image;
- plugins that are not node-local (InterPodAffinity, PodTopologySpread, a
  lab's plugins) run live, after the memoized ones, in profile order; a live
  plugin that can list, for this cycle, every node it rejects
  (``rejected_nodes``, InterPodAffinity without required affinity) is asked
  once instead of node by node.

The memo never calls the API server and never changes a NodeInfo.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from engine.scheduler.framework import CycleState, Framework, Status

if TYPE_CHECKING:
    from engine.scheduler.cache import SchedulerCache

MEMO_SIGNATURES = 256
"""Pod shapes remembered per profile; past this many the memos start over."""


def signature(pod: dict) -> tuple:
    """Everything of a pod that the node-local plugins read: pods with equal signatures get equal verdicts."""
    spec = pod.get("spec") or {}

    def containers(key: str) -> tuple:
        return tuple((c.get("image"), repr(c.get("resources")), repr(c.get("ports")), c.get("restartPolicy"))
                     for c in spec.get(key) or [])

    return (containers("containers"), containers("initContainers"), repr(spec.get("overhead")),
            repr(spec.get("tolerations")), repr(spec.get("nodeSelector")),
            repr((spec.get("affinity") or {}).get("nodeAffinity")), spec.get("nodeName") or "")


class VerdictMemo:
    """One pod shape under one profile: per node, the leading node-local filters' verdict and the score row."""

    def __init__(self, local_filters: list) -> None:
        self.local_filters = local_filters
        self.statuses: dict[str, Status | None] = {}
        self.rejected: set[str] = set()                 # names whose status is not None
        self.rows: dict[str, tuple] = {}                # see Framework.score_totals
        self.dirty: set[str] = set()                    # filled by the cache on every node change
        self.nodes_generation = -1

    def sync(self, framework: Framework, state: CycleState, pod: dict, cache: "SchedulerCache") -> None:
        """Forget what changed since the last read; verdicts of known nodes that changed are recomputed."""
        if self.dirty:
            statuses, rejected, nodes = self.statuses, self.rejected, cache.nodes
            for name in self.dirty:
                self.rows.pop(name, None)
                if statuses.pop(name, False) is False:
                    continue                            # never computed: ensure() computes it when needed
                rejected.discard(name)
                info = nodes.get(name)
                if info is not None:
                    status = statuses[name] = framework.run_filter(state, pod, info, self.local_filters)
                    if status is not None:
                        rejected.add(name)
            self.dirty.clear()
        if cache.nodes_generation != self.nodes_generation:
            self.rows.clear()
            self.nodes_generation = cache.nodes_generation

    def ensure(self, framework: Framework, state: CycleState, pod: dict, names: list[str],
               cache: "SchedulerCache") -> None:
        """Compute the verdicts still missing among ``names``."""
        statuses = self.statuses
        if len(statuses) >= len(cache.nodes):
            return                                      # every node is known (sync keeps them current)
        for name in set(names).difference(statuses):
            status = statuses[name] = framework.run_filter(state, pod, cache.nodes[name], self.local_filters)
            if status is not None:
                self.rejected.add(name)


def memo_for(framework: Framework, cache: "SchedulerCache", pod: dict, local_filters: list) -> VerdictMemo:
    """The memo of ``pod``'s shape under ``framework`` (created, and subscribed to the cache, on first use)."""
    memos: dict[tuple, VerdictMemo] = framework.__dict__.setdefault("_memos", {})
    key = (signature(pod), tuple(p.name for p in local_filters))
    memo = memos.get(key)
    if memo is None:
        if len(memos) >= MEMO_SIGNATURES:
            for old in memos.values():
                cache.unsubscribe(old.dirty)
            memos.clear()
        memo = memos[key] = VerdictMemo(local_filters)
        cache.subscribe(memo.dirty)
    return memo


def find_feasible(framework: Framework, state: CycleState, pod: dict, memo: VerdictMemo, cache: "SchedulerCache",
                  start: int, to_find: int, live: list) -> tuple[list, list[str], int, list[tuple[int, Any]]]:
    """findNodesThatPassFilters over the memo: (feasible NodeInfos, their names, nodes processed, rejections).

    Nodes are visited from ``start`` round the node list, as the plain loop visits them, until ``to_find``
    are feasible; a rejection is (offset from ``start``, its Status). Runs of nodes the memo knows to be
    feasible (with no live filter to run) are taken as whole slices.
    """
    memo.sync(framework, state, pod, cache)
    nodes, names = cache.node_infos, cache.node_names
    live_rejected = _live_rejections(state, pod, live)
    if live_rejected is not None:
        live = []
    count = len(nodes)
    statuses, rejected = memo.statuses, memo.rejected
    feasible: list = []
    feasible_names: list[str] = []
    rejections: list[tuple[int, Any]] = []
    offset = 0
    need = to_find
    while offset < count and need > 0:
        low = (start + offset) % count
        high = min(low + need, count, low + count - offset)
        chunk_names, chunk = names[low:high], nodes[low:high]
        memo.ensure(framework, state, pod, chunk_names, cache)
        if not live and rejected.isdisjoint(chunk_names) and (
                live_rejected is None or live_rejected.keys().isdisjoint(chunk_names)):
            feasible.extend(chunk)
            feasible_names.extend(chunk_names)
            need -= high - low
            offset += high - low
            continue
        if not live:
            # Every verdict is known: keep the feasible positions, up to the ones still needed.
            others = live_rejected if live_rejected is not None else {}
            passing = [j for j, name in enumerate(chunk_names) if name not in rejected and name not in others]
            span = passing[need - 1] + 1 if len(passing) >= need else high - low
            passing = passing[:need]
            feasible.extend(map(chunk.__getitem__, passing))
            feasible_names.extend(map(chunk_names.__getitem__, passing))
            kept = set(passing)
            rejections.extend((offset + j, statuses[chunk_names[j]] or others[chunk_names[j]])
                              for j in range(span) if j not in kept)
            need -= len(passing)
            offset += span
            continue
        for j, info in enumerate(chunk):
            status = statuses[chunk_names[j]]
            if status is None:
                status = framework.run_filter(state, pod, info, live)
            if status is None:
                feasible.append(info)
                feasible_names.append(chunk_names[j])
                need -= 1
                if need == 0:
                    offset += j + 1
                    break
            else:
                rejections.append((offset + j, status))
        else:
            offset += high - low
    return feasible, feasible_names, offset, rejections


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
