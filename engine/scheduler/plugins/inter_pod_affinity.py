"""InterPodAffinity: place a pod near (affinity) or away from (anti-affinity) pods with given labels.

A term selects pods (``labelSelector`` in ``namespaces``, or the pod's own
namespace, or those of ``namespaceSelector``) and names a ``topologyKey``: two
nodes are "near" when they carry the same value for it. Filter, in the real order:

1. the pod's required affinity: every term must find a matching pod in the
   node's domain (the very first pod of a group, matching its own terms while
   nothing else does, may go anywhere with the keys): else
   ``node(s) didn't match pod affinity rules`` (unresolvable);
2. its required anti-affinity: no term may find a matching pod in the node's
   domain: else ``node(s) didn't match pod anti-affinity rules``;
3. the required anti-affinity of pods already placed must not match this pod
   in their domain: else ``node(s) didn't satisfy existing pods anti-affinity rules``.

Score: per domain, the weights of the pod's preferred terms whose pods are
there (anti-affinity subtracts), plus, symmetrically, the preferred terms of
pods already there that match this pod, and their required affinity terms at
hardPodAffinityWeight (1); normalized to 0..100 between the lowest and highest node.
"""

from __future__ import annotations

import json
from itertools import chain, compress, repeat
from operator import gt
from dataclasses import dataclass, field
from typing import Any, Callable

from engine.api.selectors import LabelSelector, from_label_selector
from engine.scheduler.affinity_counts import AffinityCounts
from engine.scheduler.framework import MAX_NODE_SCORE, SKIP, Status, unschedulable
from engine.scheduler.nodeinfo import NodeInfo

NAME = "InterPodAffinity"
ERR_REASON_AFFINITY = "node(s) didn't match pod affinity rules"
ERR_REASON_ANTI_AFFINITY = "node(s) didn't match pod anti-affinity rules"
ERR_REASON_EXISTING_ANTI_AFFINITY = "node(s) didn't satisfy existing pods anti-affinity rules"
HARD_POD_AFFINITY_WEIGHT = 1


@dataclass
class Term:
    selector: LabelSelector
    namespaces: set[str] | None            # None: every namespace
    namespace_selector: LabelSelector | None
    topology_key: str
    weight: int = 0
    key: tuple = field(default=(), compare=False)
    """What makes two terms the same term (its text and, where it matters, the pod's namespace)."""

    def matches(self, pod: dict, namespace_labels: Any) -> bool:
        metadata = pod["metadata"]
        namespace = metadata.get("namespace") or "default"
        in_namespace = self.namespaces is None or namespace in self.namespaces
        if not in_namespace and self.namespace_selector is not None:
            in_namespace = self.namespace_selector.matches(namespace_labels(namespace))
        return in_namespace and self.selector.matches(metadata.get("labels") or {})


def _term(raw: dict, pod: dict, weight: int = 0) -> Term:
    term = _parse_term(raw, pod, weight)
    defaulted = not raw.get("namespaces") and raw.get("namespaceSelector") is None   # the pod's own namespace
    term.key = (json.dumps(raw, sort_keys=True), weight, pod["metadata"].get("namespace") or "default"
                if defaulted else "")
    return term


def _pod_identity(pod: dict) -> tuple:
    """What a term reads of a pod: equal identities, equal matches."""
    metadata = pod["metadata"]
    return (metadata.get("namespace") or "default", tuple((metadata.get("labels") or {}).items()))


def _parse_term(raw: dict, pod: dict, weight: int = 0) -> Term:
    namespaces = set(raw.get("namespaces") or [])
    namespace_selector = raw.get("namespaceSelector")
    selector = from_label_selector(raw.get("labelSelector"))
    ns_selector = None
    if namespace_selector is not None:
        ns_selector = from_label_selector(namespace_selector)
        if ns_selector.empty:
            return Term(selector, None, None, raw.get("topologyKey", ""), weight)
    elif not namespaces:
        namespaces = {pod["metadata"].get("namespace") or "default"}
    return Term(selector, namespaces, ns_selector, raw.get("topologyKey", ""), weight)


def _index_key(term: Term) -> tuple[str, list[str]]:
    for requirement in term.selector.requirements:
        if requirement.operator in ("=", "==", "in"):
            return requirement.key, sorted(set(requirement.values))
    raise ValueError("term has no equality requirement")


def _indexable(term: Term) -> bool:
    """A term whose selector requires a label to equal one of some values can use the label index."""
    return not term.selector.selects_nothing and any(
        r.operator in ("=", "==", "in") for r in term.selector.requirements)


def pod_terms(pod: dict, kind: str, required: bool) -> list[Term]:
    """The pod's terms of ``podAffinity`` or ``podAntiAffinity``, required or preferred (with weights)."""
    section = (((pod.get("spec") or {}).get("affinity") or {}).get(kind) or {})
    if required:
        return [_term(raw, pod) for raw in section.get("requiredDuringSchedulingIgnoredDuringExecution") or []]
    return [_term(raw.get("podAffinityTerm") or {}, pod, int(raw.get("weight") or 0))
            for raw in section.get("preferredDuringSchedulingIgnoredDuringExecution") or []]


class InterPodAffinity:
    name = NAME

    def __init__(self, args: dict[str, Any] | None, handle: Any) -> None:
        self.handle = handle
        self.hard_pod_affinity_weight = int((args or {}).get("hardPodAffinityWeight", HARD_POD_AFFINITY_WEIGHT))
        self._affinity_counts: AffinityCounts | None = None

    def _terms(self, pod: dict, kind: str, required: bool) -> list[Term]:
        """``pod_terms`` of a placed pod, parsed once per pod version (kept in the scheduler cache's memo)."""
        memo = getattr(self.handle.snapshot, "memo", None)
        metadata = pod["metadata"]
        if memo is None or not metadata.get("uid"):
            return pod_terms(pod, kind, required)
        key = ("terms", metadata["uid"], metadata.get("resourceVersion", ""), kind, required)
        terms = memo.get(key)
        if terms is None:
            terms = memo[key] = pod_terms(pod, kind, required)
        return terms

    def _counts(self) -> AffinityCounts | None:
        """The counts kept in step with the scheduler's cache, on its fast path (None: scan plainly)."""
        snapshot = self.handle.snapshot if self.handle is not None else None
        if not getattr(self.handle, "fast_path", False) or not hasattr(snapshot, "subscribe"):
            return None
        counts = self._affinity_counts
        if counts is None or counts.cache is not snapshot:
            counts = self._affinity_counts = AffinityCounts(snapshot, self._terms, self._namespace_labels)
        return counts

    def release(self) -> None:
        """Stop the counts following the scheduler's cache (this plugin's profile is being replaced)."""
        if self._affinity_counts is not None:
            self._affinity_counts.cache.unsubscribe(self._affinity_counts.dirty)
            self._affinity_counts = None

    def _namespace_labels(self, namespace: str) -> dict:
        lookup = getattr(self.handle, "namespace_labels", None)
        return lookup(namespace) if lookup is not None else {}

    # -- filter ---------------------------------------------------------------------
    def _nothing_to_weigh(self, pod: dict) -> bool:
        """The pod has no pod (anti-)affinity and no placed pod has any: Filter and Score have nothing to do."""
        affinity = (pod.get("spec") or {}).get("affinity") or {}
        return not affinity.get("podAffinity") and not affinity.get("podAntiAffinity") and \
            not getattr(self.handle.snapshot, "affinity_nodes", True)

    def pre_filter(self, state: dict, pod: dict, nodes: list) -> Status | None:
        if self._nothing_to_weigh(pod):
            return Status(SKIP)
        affinity = pod_terms(pod, "podAffinity", True)
        anti = pod_terms(pod, "podAntiAffinity", True)
        labels = self._namespace_labels
        existing_anti: dict[tuple[str, str], int] = {}
        affinity_counts: dict[tuple[str, str], int] = {}
        anti_counts: dict[tuple[str, str], int] = {}
        counts = self._counts()
        if counts is not None and all(term.namespace_selector is None for term in affinity + anti):
            # The same counts, kept in step with the cache (engine.scheduler.affinity_counts).
            existing_anti = counts.existing_anti(pod)
            affinity_counts = counts.matching(affinity, True) if affinity else {}
            anti_counts = counts.matching(anti, False) if anti else {}
            if not affinity and not anti and not existing_anti:
                return Status(SKIP)
            self_match = all(term.matches(pod, labels) for term in affinity)
            state[NAME] = (affinity, anti, existing_anti, affinity_counts, anti_counts, self_match)
            state[NAME + "/counts"] = counts
            return None
        snapshot = self.handle.snapshot
        indexed = hasattr(snapshot, "placed_pods_with_label")
        if indexed and (affinity or anti) and all(_indexable(term) for term in affinity + anti):
            self._count_from_index(snapshot, affinity, anti, affinity_counts, anti_counts)
            scan_terms = False
        else:
            scan_terms = True
        infos = snapshot.node_infos if scan_terms and (affinity or anti) or not indexed \
            else snapshot.nodes_with_affinity_pods
        matched: dict[tuple, bool] = {}              # term key -> whether it matches this pod
        for info in infos:
            node_labels = info.labels
            for existing in info.affinity_pods.values():
                for term in self._terms(existing, "podAntiAffinity", True):
                    value = node_labels.get(term.topology_key)
                    if value is None:
                        continue
                    hit = matched.get(term.key)
                    if hit is None:
                        hit = matched[term.key] = term.matches(pod, labels)
                    if hit:
                        pair = (term.topology_key, value)
                        existing_anti[pair] = existing_anti.get(pair, 0) + 1
            if not scan_terms or (not affinity and not anti):
                continue
            for existing in info.pods.values():
                if affinity and all(term.matches(existing, labels) for term in affinity):
                    for term in affinity:
                        value = node_labels.get(term.topology_key)
                        if value is not None:
                            pair = (term.topology_key, value)
                            affinity_counts[pair] = affinity_counts.get(pair, 0) + 1
                for term in anti:
                    value = node_labels.get(term.topology_key)
                    if value is not None and term.matches(existing, labels):
                        pair = (term.topology_key, value)
                        anti_counts[pair] = anti_counts.get(pair, 0) + 1
        if not affinity and not anti and not existing_anti:
            return Status(SKIP)
        self_match = all(term.matches(pod, labels) for term in affinity)
        state[NAME] = (affinity, anti, existing_anti, affinity_counts, anti_counts, self_match)
        return None

    # PreFilterExtensions: preemption's what-if removes victims (and adds nominated pods) on a node copy.
    def add_pod(self, state: dict, pod: dict, pod_to_add: dict, node_info: NodeInfo) -> Status | None:
        self._update_with_pod(state, pod, pod_to_add, node_info, 1)
        return None

    def remove_pod(self, state: dict, pod: dict, pod_to_remove: dict, node_info: NodeInfo) -> Status | None:
        self._update_with_pod(state, pod, pod_to_remove, node_info, -1)
        return None

    def _update_with_pod(self, state: dict, pod: dict, other: dict, node_info: NodeInfo, delta: int) -> None:
        """preFilterState.updateWithPod: the three counts for ``other`` on this node, on a copy of the state."""
        if NAME not in state:
            return
        affinity, anti, existing_anti, affinity_counts, anti_counts, self_match = state[NAME]
        existing_anti, affinity_counts, anti_counts = dict(existing_anti), dict(affinity_counts), dict(anti_counts)
        labels, node_labels = self._namespace_labels, node_info.labels

        def update(counts: dict, term: Term) -> None:
            value = node_labels.get(term.topology_key)
            if value is not None:
                pair = (term.topology_key, value)
                counts[pair] = counts.get(pair, 0) + delta
                if counts[pair] == 0:
                    del counts[pair]

        for term in self._terms(other, "podAntiAffinity", True):
            if term.matches(pod, labels):
                update(existing_anti, term)
        if affinity and all(term.matches(other, labels) for term in affinity):
            for term in affinity:
                update(affinity_counts, term)
        for term in anti:
            if term.matches(other, labels):
                update(anti_counts, term)
        state[NAME] = (affinity, anti, existing_anti, affinity_counts, anti_counts, self_match)

    def rejected_nodes(self, state: dict, pod: dict) -> dict[str, Status] | None:
        """Every node ``filter`` rejects, with its status, when the pod has no required affinity (the
        others pass); None when that cannot be told without visiting each node. A fast path: the
        rejections of anti-affinity are exactly the nodes in the domains their counts name."""
        lookup = getattr(self.handle.snapshot, "nodes_with_label", None)
        if NAME not in state or lookup is None:
            return None
        affinity, anti, existing_anti, _, anti_counts, _ = state[NAME]
        if affinity:
            return None
        rejected: dict[str, Status] = {}
        index = getattr(self.handle.snapshot, "node_label_index", None)
        # Existing pods' rule first, then the pod's own, which wins on a node both reject (the filter's order).
        for statuses, reason in ((existing_anti, ERR_REASON_EXISTING_ANTI_AFFINITY),
                                 (anti_counts, ERR_REASON_ANTI_AFFINITY)):
            pairs = list(compress(statuses, map(gt, statuses.values(), repeat(0))))
            if not pairs:
                continue
            status = unschedulable(reason)
            status.plugin = NAME
            if index is not None:
                names = chain.from_iterable(map(index.get, pairs, repeat(())))
            else:
                names = chain.from_iterable(lookup(key, value) for key, value in pairs)
            rejected.update(dict.fromkeys(names, status))
        return rejected

    def rejected_mask(self, state: dict, pod: dict) -> tuple[bytearray, Callable[[int], Status]] | None:
        """``rejected_nodes`` by the position of each node in the cache's node order, when PreFilter counted
        from the counts kept in step with the cache: a bytearray with 1 where ``filter`` refuses the node
        (kept from pod to pod, do not modify), and the status of a refused position."""
        counts = state.get(NAME + "/counts")
        if counts is None or NAME not in state:
            return None
        affinity, anti = state[NAME][:2]
        if affinity:
            return None
        rejected = counts.rejected(pod, anti)
        own, existing = unschedulable(ERR_REASON_ANTI_AFFINITY), unschedulable(ERR_REASON_EXISTING_ANTI_AFFINITY)
        own.plugin = existing.plugin = NAME
        return rejected.mask, lambda index: own if rejected.own_refuses(index) else existing

    def filter(self, state: dict, pod: dict, node_info: NodeInfo) -> Status | None:
        if NAME not in state:
            return None
        affinity, anti, existing_anti, affinity_counts, anti_counts, self_match = state[NAME]
        labels = node_info.labels
        if affinity:
            satisfied = True
            for term in affinity:
                value = labels.get(term.topology_key)
                if value is None:
                    return unschedulable(ERR_REASON_AFFINITY, resolvable=False)
                if affinity_counts.get((term.topology_key, value), 0) <= 0:
                    satisfied = False
            if not satisfied and not (not affinity_counts and self_match):
                return unschedulable(ERR_REASON_AFFINITY, resolvable=False)
        for term in anti:
            value = labels.get(term.topology_key)
            if value is not None and anti_counts.get((term.topology_key, value), 0) > 0:
                return unschedulable(ERR_REASON_ANTI_AFFINITY)
        if existing_anti:
            for key, value in labels.items():
                if existing_anti.get((key, value), 0) > 0:
                    return unschedulable(ERR_REASON_EXISTING_ANTI_AFFINITY)
        return None

    def _count_from_index(self, snapshot: Any, affinity: list[Term], anti: list[Term],
                          affinity_counts: dict, anti_counts: dict) -> None:
        """The same counts as the scan over every node, from the cache's label index: only pods
        carrying the label a term requires are candidates."""
        labels = self._namespace_labels
        seen: dict[tuple, bool] = {}                 # (term, pod identity) -> match

        def all_match(tag: object, terms: list[Term], existing: dict) -> bool:
            key = (tag, _pod_identity(existing))
            hit = seen.get(key)
            if hit is None:
                hit = seen[key] = all(term.matches(existing, labels) for term in terms)
            return hit

        if affinity:
            label, values = _index_key(affinity[0])
            for existing, info in snapshot.placed_pods_with_label(label, values):
                if all_match("affinity", affinity, existing):
                    for term in affinity:
                        value = info.labels.get(term.topology_key)
                        if value is not None:
                            pair = (term.topology_key, value)
                            affinity_counts[pair] = affinity_counts.get(pair, 0) + 1
        for position, term in enumerate(anti):
            label, values = _index_key(term)
            single = [term]
            for existing, info in snapshot.placed_pods_with_label(label, values):
                value = info.labels.get(term.topology_key)
                if value is not None and all_match(position, single, existing):
                    pair = (term.topology_key, value)
                    anti_counts[pair] = anti_counts.get(pair, 0) + 1

    # -- score -------------------------------------------------------------------------
    def pre_score(self, state: dict, pod: dict, nodes: list) -> Status | None:
        if self._nothing_to_weigh(pod):
            return Status(SKIP)
        preferred = pod_terms(pod, "podAffinity", False)
        preferred_anti = pod_terms(pod, "podAntiAffinity", False)
        has_constraints = bool(preferred or preferred_anti)
        labels = self._namespace_labels
        scores: dict[tuple[str, str], int] = {}

        def add(term: Term, node_labels: dict, weight: int) -> None:
            value = node_labels.get(term.topology_key)
            if value is not None and weight:
                pair = (term.topology_key, value)
                scores[pair] = scores.get(pair, 0) + weight

        snapshot = self.handle.snapshot
        counts = None if has_constraints else self._counts()
        if counts is not None:
            infos = counts.nodes_that_can_score()      # the other nodes' pods would all be skipped below
        else:
            infos = (snapshot.node_infos if has_constraints or not hasattr(snapshot, "nodes_with_affinity_pods")
                     else snapshot.nodes_with_affinity_pods)
        for info in infos:
            candidates = info.pods if has_constraints else info.affinity_pods
            for existing in candidates.values():
                for term in preferred:
                    if term.matches(existing, labels):
                        add(term, info.labels, term.weight)
                for term in preferred_anti:
                    if term.matches(existing, labels):
                        add(term, info.labels, -term.weight)
                affinity = (existing.get("spec") or {}).get("affinity") or {}
                if not affinity.get("podAffinity") and not (affinity.get("podAntiAffinity") or {}).get(
                        "preferredDuringSchedulingIgnoredDuringExecution"):
                    continue                 # only required anti-affinity: it never scores
                for term in self._terms(existing, "podAffinity", True):
                    if self.hard_pod_affinity_weight > 0 and term.matches(pod, labels):
                        add(term, info.labels, self.hard_pod_affinity_weight)
                for term in self._terms(existing, "podAffinity", False):
                    if term.matches(pod, labels):
                        add(term, info.labels, term.weight)
                for term in self._terms(existing, "podAntiAffinity", False):
                    if term.matches(pod, labels):
                        add(term, info.labels, -term.weight)
        if not scores and not has_constraints:
            return Status(SKIP)
        state[NAME + "/score"] = scores
        return None

    def score(self, state: dict, pod: dict, node_info: NodeInfo) -> int:
        scores = state[NAME + "/score"]
        if not scores:
            return 0
        return sum(scores.get((key, value), 0) for key, value in node_info.labels.items())

    def normalize_score(self, state: dict, pod: dict, scores: dict[str, int]) -> None:
        if not state.get(NAME + "/score"):
            return
        low, high = min(scores.values(), default=0), max(scores.values(), default=0)
        spread = high - low
        for name, score in scores.items():
            scores[name] = int(MAX_NODE_SCORE * ((score - low) / spread)) if spread > 0 else 0


def new(args: dict[str, Any] | None = None, handle: Any = None) -> InterPodAffinity:
    return InterPodAffinity(args, handle)
