"""The scheduling framework (pkg/scheduler/framework): extension points, Status, CycleState, FitError.

Interface: a plugin is an object with a ``name`` and only the methods of the
extension points it serves, called in this order for one pod:

    pre_filter(state, pod, nodes) -> Status | None
    add_pod / remove_pod(state, pod, other_pod, node_info) -> Status | None   # PreFilterExtensions
    filter(state, pod, node_info) -> Status | None           # per node
    post_filter(state, pod, statuses) -> (nominated node | None, Status | None)   # when no node fits
    pre_score(state, pod, nodes) -> Status | None
    score(state, pod, node_info) -> int                       # per feasible node
    normalize_score(state, pod, scores: dict[node, int]) -> None   # in place, to 0..100
    reserve(state, pod, node) -> Status | None / unreserve(state, pod, node)
    permit(state, pod, node) -> Status | None
    pre_bind(state, pod, node) -> Status | None
    bind(state, pod, node) -> Status | None                   # a SKIP status passes to the next binder

As in the framework, ``None`` is success; a ``Status`` carries a code and the
reasons a user reads (``Insufficient cpu``). A PreScore or PreFilter that
returns ``SKIP`` makes the framework skip that plugin's Score or Filter for
this pod. A PreFilter plugin whose state depends on other pods also offers
``add_pod`` / ``remove_pod``: preemption's what-if (and nominated pods) change
the pods of a node copy, and the plugin updates its state copy to match.
Per-cycle data a plugin computes in PreFilter or PreScore lives in
``CycleState`` under the plugin's key, never on the plugin.

``Framework`` runs one profile's plugins; it never talks to the API server
itself (binders do, through the client they were built with).
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass, field
from itertools import repeat
from operator import add, mul
from typing import Any, Callable, Collection, Sequence, TypeVar

MAX_NODE_SCORE = 100
MIN_NODE_SCORE = 0

SUCCESS = "Success"
ERROR = "Error"
UNSCHEDULABLE = "Unschedulable"
UNSCHEDULABLE_AND_UNRESOLVABLE = "UnschedulableAndUnresolvable"
WAIT = "Wait"
SKIP = "Skip"
PENDING = "Pending"

NO_NODE_AVAILABLE_MSG = "0/{} nodes are available"


def _plus_weighted(totals: Sequence[int], weight: int, scores: dict[str, int], names: Sequence[str]) -> array:
    """``totals[i] + weight * scores[names[i]]`` for every i, one pass in C, as an ``array('q')`` (what
    ``select_host`` searches fastest, and what the garbage collector never traverses)."""
    values = map(scores.__getitem__, names)
    return array("q", map(add, totals, map(mul, repeat(weight), values) if weight != 1 else values))


def _all_equal(values: Sequence[int]) -> bool:
    """Whether every value equals the first (true for none). An ``array`` is compared as bytes, without making
    a Python int per node as ``values.count`` would."""
    if isinstance(values, array):
        data = values.tobytes()
        return data == data[:values.itemsize] * len(values)
    return not values or values.count(values[0]) == len(values)


Breakdown = Callable[[], dict[str, dict[str, int]]]
"""A function giving, per node, each Score plugin's weighted, normalized score."""


class ScoreBreakdown:
    """Per node, each Score plugin's weighted, normalized score in one Score run, worked out when asked (a
    ``Breakdown``). A kept decision holds it: one object over the run's columns rather than a closure with a cell
    per variable, so the garbage collector, which walks every kept decision again and again, has less to walk."""

    __slots__ = ("plugins", "fixed", "fixed_raw", "normalized", "names", "weights")

    def __init__(self, plugins: list, fixed: list, fixed_raw: list[Sequence[int]],
                 normalized: dict[str, dict[str, int] | int], names: Sequence[str], weights: dict[str, int]) -> None:
        self.plugins, self.fixed, self.fixed_raw = plugins, fixed, fixed_raw
        self.normalized, self.names, self.weights = normalized, names, weights

    def __call__(self) -> dict[str, dict[str, int]]:
        weights = self.weights
        fixed_weights = [weights.get(p.name, 1) for p in self.fixed]
        result: dict[str, dict[str, int]] = {}
        for index, name in enumerate(self.names):
            per_plugin: dict[str, int] = {}
            for plugin, weight, raw in zip(self.fixed, fixed_weights, self.fixed_raw):
                per_plugin[plugin.name] = weight * raw[index]
            for plugin_name, values in self.normalized.items():
                value = values if isinstance(values, int) else values[name]
                per_plugin[plugin_name] = weights.get(plugin_name, 1) * value
            result[name] = {p.name: per_plugin[p.name] for p in self.plugins}
        return result


@dataclass
class LocalScores:
    """The node-local Score plugins' raw scores over the nodes being scored (``engine.scheduler.memo``)."""

    sums: Sequence[int]                   # per node: weight * raw summed over Framework.score_plugins' fixed ones
    fixed_raw: list[Sequence[int]]        # per fixed plugin, per node
    normalizing_raw: list[Sequence[int]]  # per node-local plugin with NormalizeScore, per node


@dataclass
class Status:
    """The outcome of a plugin: a code, the reasons (user-readable), and the plugin that failed."""

    code: str = SUCCESS
    reasons: list[str] = field(default_factory=list)
    plugin: str = ""

    @property
    def message(self) -> str:
        return ", ".join(self.reasons)

    def is_success(self) -> bool:
        return self.code == SUCCESS

    def is_rejected(self) -> bool:
        return self.code in (UNSCHEDULABLE, UNSCHEDULABLE_AND_UNRESOLVABLE, PENDING)


def unschedulable(*reasons: str, resolvable: bool = True) -> Status:
    return Status(UNSCHEDULABLE if resolvable else UNSCHEDULABLE_AND_UNRESOLVABLE, list(reasons))


def is_success(status: Status | None) -> bool:
    return status is None or status.code == SUCCESS


class CycleState(dict):
    """Data plugins share within one scheduling cycle of one pod, keyed by plugin name."""

    def clone(self) -> "CycleState":
        copy = CycleState()
        for key, value in self.items():
            copy[key] = value.clone() if hasattr(value, "clone") else value
        return copy


@dataclass
class Diagnosis:
    """Why a pod fits nowhere: each node's failing status, and messages from PreFilter and PostFilter."""

    node_to_status: dict[str, Status] = field(default_factory=dict)
    pre_filter_msg: str = ""
    post_filter_msg: str = ""
    unschedulable_plugins: set[str] = field(default_factory=set)


class FitError(Exception):
    """``0/5 nodes are available: ...``: the message of the PodScheduled condition and the event."""

    def __init__(self, pod: dict, num_all_nodes: int, diagnosis: Diagnosis) -> None:
        super().__init__()
        self.pod = pod
        self.num_all_nodes = num_all_nodes
        self.diagnosis = diagnosis

    def __str__(self) -> str:
        return fit_error_message(self.num_all_nodes, self.diagnosis)


def reasons_histogram(node_to_status: dict[str, Status]) -> list[str]:
    """``["1 node(s) had untolerated taint {...}", "4 Insufficient cpu"]``: counted, then sorted as strings."""
    counts: dict[str, int] = {}
    for status in node_to_status.values():
        for reason in status.reasons:
            counts[reason] = counts.get(reason, 0) + 1
    return sorted(f"{count} {reason}" for reason, count in counts.items())


def fit_error_message(num_all_nodes: int, diagnosis: Diagnosis) -> str:
    message = NO_NODE_AVAILABLE_MSG.format(num_all_nodes) + ":"
    if diagnosis.pre_filter_msg:
        message += f" {diagnosis.pre_filter_msg}."
    else:
        histogram = reasons_histogram(diagnosis.node_to_status)
        if histogram:
            message += f" {', '.join(histogram)}."
    if diagnosis.post_filter_msg:
        # SeparatorFormat " %v." again: a PostFilter message that ends in a period gives the real ".." ending.
        message += f" {diagnosis.post_filter_msg}."
    return message


def default_normalize_score(max_priority: int, reverse: bool, scores: dict[str, int]) -> None:
    """helper.DefaultNormalizeScore: scale to 0..max by the highest score; ``reverse`` flips it."""
    max_count = max(scores.values(), default=0)
    if max_count == 0:
        if reverse:
            for name in scores:
                scores[name] = max_priority
        return
    for name, score in scores.items():
        score = max_priority * score // max_count
        scores[name] = max_priority - score if reverse else score


_T = TypeVar("_T")


def _score_split(plugins: list) -> tuple[list, list, list, list]:
    """``score_plugins``' four lists of ``plugins``."""
    local = [p for p in plugins if getattr(p, "node_local", False)]
    return (plugins, [p for p in local if not hasattr(p, "normalize_score")],
            [p for p in local if hasattr(p, "normalize_score")], [p for p in plugins if p not in local])


class Framework:
    """One profile's instantiated plugins, and the functions that run each extension point."""

    def __init__(self, profile_name: str, plugins: dict[str, Any], points: dict[str, list[str]],
                 weights: dict[str, int], percentage_of_nodes_to_score: int | None = None) -> None:
        self.profile_name = profile_name
        self.plugins = plugins
        self.weights = weights
        self.percentage_of_nodes_to_score = percentage_of_nodes_to_score
        self.points = {point: [plugins[name] for name in names] for point, names in points.items()}
        self._splits: dict[tuple, Any] = {}

    def plugin(self, name: str) -> Any:
        return self.plugins.get(name)

    def _point(self, name: str) -> list[Any]:
        return self.points.get(name, [])

    def split(self, point: str, skipped: Collection[str], build: Callable[[list], _T]) -> _T:
        """``build`` of the extension point's plugins that PreFilter / PreScore did not skip (in profile order),
        worked out once per point, plugin list and skip set and shared by every cycle after: never change it."""
        plugins = tuple(self._point(point))
        key = (point, frozenset(skipped), plugins)
        split = self._splits.get(key)
        if split is None:
            split = self._splits[key] = build([p for p in plugins if p.name not in skipped])
        return split

    # -- the scheduling cycle -------------------------------------------------------
    def run_pre_filter(self, state: CycleState, pod: dict, nodes: list) -> Status | None:
        skipped: set[str] = set()
        for plugin in self._point("preFilter"):
            status = plugin.pre_filter(state, pod, nodes)
            if status is None:
                continue
            if status.code == SKIP:
                skipped.add(plugin.name)
                continue
            status.plugin = status.plugin or plugin.name
            return status
        state["__skip_filter"] = skipped
        return None

    def run_pre_filter_extension(self, method: str, state: CycleState, pod: dict, other: dict,
                                 node_info: Any) -> Status | None:
        """RunPreFilterExtensionAddPod / RemovePod (``method``: "add_pod" or "remove_pod") on a state copy."""
        skipped = state.get("__skip_filter", ())
        for plugin in self._point("preFilter"):
            if plugin.name in skipped or not hasattr(plugin, method):
                continue
            status = getattr(plugin, method)(state, pod, other, node_info)
            if not is_success(status):
                status.plugin = status.plugin or plugin.name
                return status
        return None

    def run_filter(self, state: CycleState, pod: dict, node_info: Any, plugins: list | None = None) -> Status | None:
        """The first failing Filter's status (``plugins``: only these, in the profile's order)."""
        skipped = state.get("__skip_filter", ())
        for plugin in self._point("filter") if plugins is None else plugins:
            if plugin.name in skipped:
                continue
            status = plugin.filter(state, pod, node_info)
            if status is not None and status.code != SUCCESS:
                status.plugin = status.plugin or plugin.name
                return status
        return None

    def run_post_filter(self, state: CycleState, pod: dict, statuses: dict[str, Status]) -> tuple[str | None, Status | None]:
        """RunPostFilterPlugins: the first success wins; else every plugin's reasons, and the last nomination
        a plugin asked for ("" clears the pod's nominatedNodeName, None leaves it)."""
        result: str | None = None
        reasons: list[str] = []
        rejector = ""
        for plugin in self._point("postFilter"):
            nominated, status = plugin.post_filter(state, pod, statuses)
            if status is None or status.code == SUCCESS:
                return nominated, None
            if status.code == UNSCHEDULABLE_AND_UNRESOLVABLE:
                status.plugin = plugin.name
                return nominated, status
            if not status.is_rejected():
                return None, Status(ERROR, list(status.reasons), plugin.name)
            if nominated is not None:
                result = nominated
            reasons += status.reasons
            rejector = rejector or plugin.name
        return result, Status(UNSCHEDULABLE, reasons, rejector)

    def run_pre_score(self, state: CycleState, pod: dict, nodes: list) -> Status | None:
        skipped: set[str] = set()
        for plugin in self._point("preScore"):
            status = plugin.pre_score(state, pod, nodes)
            if status is None:
                continue
            if status.code == SKIP:
                skipped.add(plugin.name)
                continue
            status.plugin = plugin.name
            return status
        state["__skip_score"] = skipped
        state.pop("__score_plugins", None)
        return None

    def score_plugins(self, state: CycleState) -> tuple[list, list, list, list]:
        """This cycle's Score plugins (those PreScore did not skip): (all, node-local ones without NormalizeScore,
        node-local ones with it, the others), each in the profile's order; worked out once per profile and skip set
        (``split``), so the lists a kept decision's breakdown holds are shared, not one set per cycle."""
        split = state.get("__score_plugins")
        if split is None:
            split = state["__score_plugins"] = self.split("score", state.get("__skip_score", ()), _score_split)
        return split

    def score_relative(self, state: CycleState, pod: dict, nodes: list, names: Sequence[str] | None = None,
                       local: LocalScores | None = None) -> tuple[Sequence[int], int, Breakdown]:
        """Each node's total (weighted, normalized scores summed) less a part every node shares, that part, and a
        function giving the breakdown: (totals - offset, offset, breakdown).

        A plugin whose normalized score is the same on every node adds it to ``offset`` instead of to each
        total: the highest total and its ties are the same with or without it.

        ``local`` (kept by ``engine.scheduler.memo``) holds the raw scores of the node-local plugins
        (``node_local = True``) over ``nodes``; the other plugins score live. A node-local plugin whose raw
        scores are all equal is normalized from one of them, which is the same for every normalization of
        node-local plugins here (each is a function of the value, the minimum and the maximum). ``names``,
        when given, are the names of ``nodes``.
        """
        plugins, fixed, normalizing, live = self.score_plugins(state)
        if names is None:
            names = [info.name for info in nodes]
        if local is None:
            fixed, normalizing, live = [], [], plugins
            totals: Sequence[int] = array("q", bytes(8 * len(nodes)))
            fixed_raw: list[Sequence[int]] = []
            normalizing_raw: list[Sequence[int]] = []
        else:
            totals, fixed_raw, normalizing_raw = local.sums, local.fixed_raw, local.normalizing_raw
        weights = self.weights
        offset = 0
        normalized: dict[str, dict[str, int] | int] = {}
        for plugin, raw in zip(normalizing, normalizing_raw):
            weight = weights.get(plugin.name, 1)
            first = raw[0] if len(raw) else 0
            if _all_equal(raw):
                one = {names[0]: first} if len(raw) else {}
                plugin.normalize_score(state, pod, one)
                value = next(iter(one.values()), 0)
                normalized[plugin.name] = value
                offset += weight * value
                continue
            scores = dict(zip(names, raw))
            plugin.normalize_score(state, pod, scores)
            normalized[plugin.name] = scores
            totals = _plus_weighted(totals, weight, scores, names)
        for plugin in live:
            weight = weights.get(plugin.name, 1)
            scores = {info.name: plugin.score(state, pod, info) for info in nodes}
            if hasattr(plugin, "normalize_score"):
                plugin.normalize_score(state, pod, scores)
            normalized[plugin.name] = scores
            totals = _plus_weighted(totals, weight, scores, names)

        return totals, offset, ScoreBreakdown(plugins, fixed, fixed_raw, normalized, names, weights)

    def run_reserve(self, state: CycleState, pod: dict, node: str) -> Status | None:
        for plugin in self._point("reserve"):
            status = plugin.reserve(state, pod, node)
            if not is_success(status):
                status.plugin = plugin.name
                return status
        return None

    def run_unreserve(self, state: CycleState, pod: dict, node: str) -> None:
        for plugin in reversed(self._point("reserve")):
            if hasattr(plugin, "unreserve"):
                plugin.unreserve(state, pod, node)

    def run_permit(self, state: CycleState, pod: dict, node: str) -> Status | None:
        for plugin in self._point("permit"):
            status = plugin.permit(state, pod, node)
            if not is_success(status):
                status.plugin = plugin.name
                return status
        return None

    def run_pre_bind(self, state: CycleState, pod: dict, node: str) -> Status | None:
        for plugin in self._point("preBind"):
            status = plugin.pre_bind(state, pod, node)
            if not is_success(status):
                status.plugin = plugin.name
                return status
        return None

    def run_bind(self, state: CycleState, pod: dict, node: str) -> Status | None:
        for plugin in self._point("bind"):
            status = plugin.bind(state, pod, node)
            if status is not None and status.code == SKIP:
                continue
            if status is not None:
                status.plugin = plugin.name
            return status
        return Status(SKIP, ["no bind plugin bound the pod"])

    def has_filters(self) -> bool:
        return bool(self._point("filter"))

    def has_scores(self) -> bool:
        return bool(self._point("score"))
