"""InterPodAffinity's PreFilter and PreScore inputs kept in step with the scheduler cache (a fast path).

For every pod, InterPodAffinity's PreFilter counts, per topology pair (key, value), the placed pods whose
required anti-affinity terms match the pod (``existing_anti``), and the placed pods that match the pod's own
required affinity (all its terms) and anti-affinity terms; its PreScore visits the nodes holding pods whose
affinity can score. Done plainly, every pod scans every placed pod with affinity: a cluster of P such pods
costs P per pod. Here each node's share of those counts is remembered, per term, and recomputed only for
the nodes the cache reports changed (the dirty-set subscription ``engine.scheduler.memo`` uses), so a pod
costs the number of distinct terms and pairs, not the number of pods.

Promises (``tests/engine/scheduler/test_fast_path.py`` compares placements with the plain scan's on random
clusters): the counts are exactly the scan's (same pairs, same numbers, never a zero entry), and the
dicts handed out are the caller's own. Terms with the same ``Term.key`` match the same pods (the plain scan
relies on that too), so one of them stands for all. Nothing here calls the API server or changes a NodeInfo.
"""

from __future__ import annotations

from array import array
from typing import TYPE_CHECKING, Any, Callable

if TYPE_CHECKING:
    from engine.scheduler.cache import SchedulerCache
    from engine.scheduler.nodeinfo import NodeInfo
    from engine.scheduler.plugins.inter_pod_affinity import Term

Pair = tuple[str, str]
OWN_TERMS_KEPT = 64
"""Distinct term lists of scheduled pods whose counts are kept; past this many they start over."""
LOG_KEPT = 100_000
"""Entries of the counts' log kept for ``RejectedNodes`` to catch up from; one further behind starts over."""


def _add(totals: dict[Pair, int], shares: dict[Pair, int], sign: int, log: list | None = None,
         source: Any = None) -> None:
    """Add ``sign`` times ``shares`` to ``totals``; a pair that appears or goes is noted in ``log``."""
    for pair, count in shares.items():
        before = totals.get(pair, 0)
        left = before + sign * count
        if left:
            totals[pair] = left
        else:
            del totals[pair]
        if log is not None and (not before) != (not left):
            log.append((source, pair, 1 if left else -1))


class _OwnCounts:
    """Placed pods matching one pod's terms: per pair, and each node's share."""

    def __init__(self, key: tuple, terms: list["Term"], every: bool) -> None:
        self.key = key
        self.terms = terms
        self.every = every              # True: a pod counts for every term once it matches them all (affinity)
        self.shares: dict[str, dict[Pair, int]] = {}
        self.totals: dict[Pair, int] = {}

    def share(self, info: "NodeInfo", labels: Any) -> dict[Pair, int]:
        counts: dict[Pair, int] = {}
        node_labels = info.labels
        for existing in info.pods.values():
            if self.every:
                if not all(term.matches(existing, labels) for term in self.terms):
                    continue
                matching = self.terms
            else:
                matching = [term for term in self.terms if term.matches(existing, labels)]
            for term in matching:
                value = node_labels.get(term.topology_key)
                if value is not None:
                    pair = (term.topology_key, value)
                    counts[pair] = counts.get(pair, 0) + 1
        return counts


class AffinityCounts:
    """The counts of one InterPodAffinity plugin over one cache, brought up to date on every read."""

    def __init__(self, cache: "SchedulerCache", terms_of: Callable[[dict, str, bool], list["Term"]],
                 namespace_labels: Any) -> None:
        self.cache = cache
        self.terms_of = terms_of
        self.namespace_labels = namespace_labels
        self.dirty: set[str] = set()
        self.known = False                                   # every node's share computed once
        self.anti_shares: dict[str, list[tuple[tuple, Pair]]] = {}      # node -> (term key, pair) per term
        self.anti_totals: dict[tuple, dict[Pair, int]] = {}            # term key -> pair -> placed terms
        self.anti_terms: dict[tuple, "Term"] = {}                       # term key -> one such term
        self.scoring_nodes: dict[str, None] = {}            # nodes holding a pod whose affinity can score
        self.own: dict[tuple, _OwnCounts] = {}
        self.log: list[tuple[Any, Pair, int]] = []         # (source, pair, +1 | -1): a count appeared or went
        self.log_start = 0                                  # the log position of log[0]
        self.rejections: dict[tuple, RejectedNodes] = {}
        cache.subscribe(self.dirty)

    # -- keeping up ----------------------------------------------------------------------
    def _sync(self) -> None:
        nodes = self.cache.nodes
        if len(self.log) > LOG_KEPT:
            self.log_start += len(self.log)
            self.log = []
        if not self.known:
            self.dirty.clear()
            for name in nodes:
                self._recount(name)
            self.known = True
            return
        if not self.dirty:
            return
        dirty = list(self.dirty)
        self.dirty.clear()
        for name in dirty:
            self._recount(name)

    def _recount(self, name: str) -> None:
        """Replace ``name``'s share of every count with what its NodeInfo holds now."""
        for key, pair in self.anti_shares.pop(name, ()):
            totals = self.anti_totals[key]
            _add(totals, {pair: 1}, -1, self.log, key)
            if not totals:
                del self.anti_totals[key], self.anti_terms[key]
        self.scoring_nodes.pop(name, None)
        info = self.cache.nodes.get(name)
        for own in self.own.values():
            old = own.shares.pop(name, None)
            if old:
                _add(own.totals, old, -1, self.log, own)
            if info is not None:
                new = own.share(info, self.namespace_labels)
                if new:
                    own.shares[name] = new
                    _add(own.totals, new, 1, self.log, own)
        if info is None:
            return
        shares: list[tuple[tuple, Pair]] = []
        labels = info.labels
        for existing in info.affinity_pods.values():
            if _can_score(existing):
                self.scoring_nodes[name] = None
            for term in self.terms_of(existing, "podAntiAffinity", True):
                value = labels.get(term.topology_key)
                if value is None:
                    continue
                pair = (term.topology_key, value)
                shares.append((term.key, pair))
                totals = self.anti_totals.get(term.key)
                if totals is None:
                    totals = self.anti_totals[term.key] = {}
                    self.anti_terms[term.key] = term
                before = totals.get(pair, 0)
                totals[pair] = before + 1
                if not before:
                    self.log.append((term.key, pair, 1))
        if shares:
            self.anti_shares[name] = shares

    # -- reading -------------------------------------------------------------------------
    def existing_anti(self, pod: dict) -> dict[Pair, int]:
        """Per pair, the placed pods' required anti-affinity terms that match ``pod``."""
        self._sync()
        result: dict[Pair, int] = {}
        for key, totals in self.anti_totals.items():
            if self.anti_terms[key].matches(pod, self.namespace_labels):
                if result:
                    _add(result, totals, 1)
                else:
                    result = dict(totals)
        return result

    def matching(self, terms: list["Term"], every: bool) -> dict[Pair, int]:
        """Per pair, the placed pods matching ``terms``: all of them at once (``every``), else each term alone."""
        self._sync()
        key = (every, tuple(term.key for term in terms))
        own = self.own.get(key)
        if own is None:
            if len(self.own) >= OWN_TERMS_KEPT:
                self.own.clear()
            own = self.own[key] = _OwnCounts(key, terms, every)
            for name, info in self.cache.nodes.items():
                share = own.share(info, self.namespace_labels)
                if share:
                    own.shares[name] = share
                    _add(own.totals, share, 1, self.log, own)
        return dict(own.totals)

    def rejected(self, pod: dict, anti: list["Term"]) -> "RejectedNodes":
        """Where ``pod`` is refused for anti-affinity (the placed pods' terms matching it, and its own ``anti``
        terms, whose counts ``matching(anti, False)`` made), kept in step with the counts."""
        self._sync()
        existing = frozenset(key for key, term in self.anti_terms.items() if term.matches(pod, self.namespace_labels))
        own = self.own.get((False, tuple(term.key for term in anti))) if anti else None
        key = (existing, own.key if own is not None else None)
        rejected = self.rejections.get(key)
        if rejected is None or rejected.own is not own:
            if len(self.rejections) >= OWN_TERMS_KEPT:
                self.rejections.clear()
            rejected = self.rejections[key] = RejectedNodes(self, existing, own)
        rejected.update()
        return rejected

    def nodes_that_can_score(self) -> list["NodeInfo"]:
        """The nodes holding a pod with podAffinity or preferred podAntiAffinity (the others add no score)."""
        self._sync()
        nodes = self.cache.nodes
        return [nodes[name] for name in self.scoring_nodes]


def _can_score(pod: dict) -> bool:
    """What InterPodAffinity's PreScore looks at on a placed pod: required-only anti-affinity never scores."""
    affinity = (pod.get("spec") or {}).get("affinity") or {}
    return bool(affinity.get("podAffinity") or (affinity.get("podAntiAffinity") or {}).get(
        "preferredDuringSchedulingIgnoredDuringExecution"))


class RejectedNodes:
    """The nodes one pod shape is refused on for anti-affinity, as a bytearray by node position (1: refused).

    ``existing``: the keys of placed pods' required anti-affinity terms that match the pod (a positive count
    refuses the domain: ErrReasonExistingAntiAffinityRulesNotMatch); ``own``: the counts of the pods matching
    the pod's own required anti-affinity terms (ErrReasonAntiAffinityRulesNotMatch, which wins where both
    refuse, as in the plugin's ``rejected_nodes``). Kept in step by replaying the counts' log of pairs that
    appeared or went, so a pod costs the changes since the last one, not the number of refused domains; built
    again when the node order or any node changed, or the log moved on without it.
    """

    def __init__(self, counts: AffinityCounts, existing: frozenset, own: _OwnCounts | None) -> None:
        self.counts = counts
        self.existing = existing
        self.own = own
        self._build()

    def _build(self) -> None:
        counts, cache = self.counts, self.counts.cache
        size = len(cache.node_infos)
        self.order_generation, self.nodes_generation = cache.order_generation, cache.nodes_generation
        self.position = counts.log_start + len(counts.log)
        self.refs: dict[tuple[int, Pair], int] = {}          # (0 existing | 1 own, pair) -> positive sources
        self.cover = (array("l", [0]) * size, array("l", [0]) * size)    # refusing pairs per node position
        self.mask = bytearray(size)
        for key in self.existing:
            for pair in counts.anti_totals.get(key, ()):
                self._pair(0, pair, 1)
        if self.own is not None:
            for pair in self.own.totals:
                self._pair(1, pair, 1)

    def update(self) -> None:
        counts, cache = self.counts, self.counts.cache
        if (cache.order_generation, cache.nodes_generation) != (self.order_generation, self.nodes_generation) \
                or self.position < counts.log_start:
            self._build()
            return
        log = counts.log
        existing, own = self.existing, self.own
        for source, pair, delta in log[self.position - counts.log_start:]:
            if source is own:
                self._pair(1, pair, delta)
            elif source in existing:
                self._pair(0, pair, delta)
        self.position = counts.log_start + len(log)

    def _pair(self, kind: int, pair: Pair, delta: int) -> None:
        key = (kind, pair)
        before = self.refs.get(key, 0)
        after = before + delta
        if after:
            self.refs[key] = after
        else:
            del self.refs[key]
        if before and after:
            return
        cache, cover, mask = self.counts.cache, self.cover, self.mask
        positions = cache.node_positions
        mine, other = cover[kind], cover[1 - kind]
        for name in cache.nodes_with_label(*pair):
            index = positions[name]
            mine[index] += delta
            mask[index] = 1 if mine[index] or other[index] else 0

    def own_refuses(self, index: int) -> bool:
        """Whether the pod's own terms refuse the node at ``index`` (else only placed pods' terms do)."""
        return bool(self.cover[1][index])
