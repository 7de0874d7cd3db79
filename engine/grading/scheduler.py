"""A learner's scheduler plugins inside a running kube-scheduler: the adapters and the plug.

Interface:

- ``plug_scheduler_plugins(cluster, fit_filter=..., taint_filter=..., score=..., configuration=...)``:
  rebuild the running scheduler's profiles from ``configuration`` (a KubeSchedulerConfiguration
  dict; the v1 default when None) with a registry in which ``NodeResourcesFit`` and
  ``TaintToleration`` are adapters around the learner's plain functions:

    fit_filter(pod, node_info) -> list of reasons       NodeResourcesFit's Filter ([] or None: it fits)
    score(pod, node_info, resources) -> int 0..100      NodeResourcesFit's Score (LeastAllocated);
                                                        ``resources``: [(name, weight), ...] from the profile
    taint_filter(pod, node_info) -> reason or None      TaintToleration's Filter

  A function left out keeps the engine's own code at that point; TaintToleration's Score
  (PreferNoSchedule) is always the engine's. Returns the ``Plugged`` record.
- ``scheduler_cluster(nodes, seed)``: a cluster of an API server and a kube-scheduler only, with
  these Node objects: pods are bound and never run, so scheduling is all that happens.
- ``configure_scheduler(cluster, configuration)``: the same with the engine's plugins only (the
  reference cluster a grading check compares with).

Promises: the learner's functions get the pod (read-only, as the informer cache holds it) and a copy
of the scheduler's NodeInfo, so nothing they do changes the scheduler's cache. Each call is recorded
beside the engine's own answer for the same input (``Plugged.calls``). A function that raises or
returns the wrong type never crashes the scheduler: the attempt fails with a scheduler error (as a
failing plugin does in Kubernetes) and ``Plugged.errors`` keeps the exception. Plug before the pods
arrive: profiles are rebuilt, not patched.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from engine.scheduler.framework import ERROR, CycleState, Status, unschedulable
from engine.scheduler.nodeinfo import NodeInfo
from engine.scheduler.plugins import node_resources_fit, taint_toleration
from engine.scheduler.profile import default_configuration
from engine.scheduler.registry import Registry, default_registry

FitFilter = Callable[[dict, NodeInfo], Any]
TaintFilter = Callable[[dict, NodeInfo], Any]
Score = Callable[[dict, NodeInfo, list], Any]


@dataclass(frozen=True)
class Call:
    """One call of a learner's function by the running scheduler, and the engine's answer to it."""

    function: str
    pod: str                     # namespace/name
    node: str
    learner: Any
    reference: Any


@dataclass
class Plugged:
    """What the scheduler asked the learner's functions while they were plugged in."""

    calls: list[Call] = field(default_factory=list)
    errors: list[tuple[str, BaseException]] = field(default_factory=list)

    def disagreements(self) -> list[Call]:
        return [call for call in self.calls if call.learner != call.reference]


def _key(pod: dict) -> str:
    metadata = pod.get("metadata") or {}
    return f"{metadata.get('namespace') or 'default'}/{metadata.get('name')}"


def learner_view(info: NodeInfo) -> NodeInfo:
    """A copy of ``info`` the learner may read (or even change) without touching the scheduler's cache."""
    copy = info.clone()
    copy.allocatable = dict(info.allocatable)
    copy.labels = dict(info.labels)
    return copy


class _Adapter:
    def __init__(self, record: Plugged) -> None:
        self.record = record

    def _ask(self, function: str, call: Callable[[], Any], check: Callable[[Any], Any], pod: dict,
             node: str, reference: Any) -> tuple[Any, Status | None]:
        """The learner's answer (checked and normalized), or an ERROR status when it raised or was malformed."""
        try:
            answer = check(call())
        except Exception as error:                     # the learner's mistake: recorded, the scheduler goes on
            self.record.errors.append((function, error))
            return None, Status(ERROR, [f"{function}: {type(error).__name__}: {error}"])
        self.record.calls.append(Call(function, _key(pod), node, answer, reference))
        return answer, None


def _reasons(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, (list, tuple)) and all(isinstance(reason, str) for reason in value):
        return list(value)
    raise TypeError(f"fit_filter must return a list of reasons (strings), not {value!r}")


def _reason(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value or None
    raise TypeError(f"taint_filter must return a reason (a string) or None, not {value!r}")


def _score(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"the score must be an int from 0 to 100, not {value!r}")
    if not 0 <= value <= 100:
        raise ValueError(f"the score must be from 0 to 100, not {value}")
    return value


class ResourceFitAdapter(_Adapter):
    """NodeResourcesFit whose Filter and (LeastAllocated) Score are the learner's functions."""

    name = node_resources_fit.NAME

    def __init__(self, args: dict | None, record: Plugged, fit_filter: FitFilter | None,
                 score: Score | None) -> None:
        super().__init__(record)
        self.engine = node_resources_fit.NodeResourcesFit(args)
        self.fit_filter, self.learner_score = fit_filter, score

    def filter(self, state: CycleState, pod: dict, node_info: NodeInfo) -> Status | None:
        reference = self.engine.filter(CycleState(), pod, node_info)
        if self.fit_filter is None:
            return reference
        reasons, error = self._ask("fit_filter", lambda: self.fit_filter(pod, learner_view(node_info)), _reasons,
                                   pod, node_info.name, reference.reasons if reference else [])
        if error is not None:
            return error
        return unschedulable(*reasons) if reasons else None

    def score(self, state: CycleState, pod: dict, node_info: NodeInfo) -> int:
        reference = self.engine.score(CycleState(), pod, node_info)
        if self.learner_score is None:
            return reference
        resources = list(self.engine.resources)
        value, error = self._ask("score", lambda: self.learner_score(pod, learner_view(node_info), resources),
                                 _score, pod, node_info.name, reference)
        return reference if error is not None else value


class TaintTolerationAdapter(_Adapter):
    """TaintToleration whose Filter is the learner's function; its Score stays the engine's."""

    name = taint_toleration.NAME

    def __init__(self, record: Plugged, taint_filter: TaintFilter | None) -> None:
        super().__init__(record)
        self.engine = taint_toleration.TaintToleration()
        self.taint_filter = taint_filter

    def filter(self, state: CycleState, pod: dict, node_info: NodeInfo) -> Status | None:
        reference = self.engine.filter(state, pod, node_info)
        if self.taint_filter is None:
            return reference
        reason, error = self._ask("taint_filter", lambda: self.taint_filter(pod, learner_view(node_info)), _reason,
                                  pod, node_info.name, reference.reasons[0] if reference else None)
        if error is not None:
            return error
        # An untolerated taint is UnschedulableAndUnresolvable: preempting pods cannot remove it.
        return unschedulable(reason, resolvable=False) if reason else None

    def pre_score(self, state: CycleState, pod: dict, nodes: list) -> Status | None:
        return self.engine.pre_score(state, pod, nodes)

    def score(self, state: CycleState, pod: dict, node_info: NodeInfo) -> int:
        return self.engine.score(state, pod, node_info)

    def normalize_score(self, state: CycleState, pod: dict, scores: dict[str, int]) -> None:
        self.engine.normalize_score(state, pod, scores)


def scheduler_cluster(nodes: list[dict], seed: int = 0) -> Any:
    """A cluster of just an API server and a kube-scheduler, with these Node objects (status included).

    No kubelet runs: pods are bound to nodes and stay Pending there, which is all a scheduling test needs,
    and nothing else (node lifecycle, the kubelet's own components) changes the nodes under the scheduler.
    """
    from engine.cluster import Cluster
    from engine.scheduler import SCHEDULER
    cluster = Cluster(nodes=0, seed=seed, components=[SCHEDULER])
    admin = cluster.admin
    admin.create({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "default", "namespace": "default"}})
    for node in nodes:
        created = admin.create({key: value for key, value in node.items() if key != "status"})
        admin.update_status(dict(created, status=node.get("status") or {}))
    return cluster


def scheduler_of(cluster: Any) -> Any:
    """The running kube-scheduler component of ``cluster``."""
    scheduler = cluster.components.get(("kube-scheduler", None))
    if scheduler is None:
        raise RuntimeError("this cluster runs no kube-scheduler: build it with the scheduler among its components")
    return scheduler


def _install(cluster: Any, registry: Registry, configuration: dict | None) -> None:
    scheduler_of(cluster).reconfigure(configuration or default_configuration(), registry)


def configure_scheduler(cluster: Any, configuration: dict | None = None) -> None:
    """Rebuild the running scheduler's profiles from ``configuration``, with the engine's own plugins."""
    _install(cluster, default_registry(), configuration)


def plug_scheduler_plugins(cluster: Any, *, fit_filter: FitFilter | None = None, taint_filter: TaintFilter | None = None,
                           score: Score | None = None, configuration: dict | None = None) -> Plugged:
    """Make ``cluster``'s scheduler run the learner's functions as NodeResourcesFit and TaintToleration."""
    record = Plugged()
    registry = default_registry()
    registry.unregister(node_resources_fit.NAME)
    registry.register(node_resources_fit.NAME,
                      lambda args, handle: ResourceFitAdapter(args, record, fit_filter, score))
    registry.unregister(taint_toleration.NAME)
    registry.register(taint_toleration.NAME, lambda args, handle: TaintTolerationAdapter(record, taint_filter))
    _install(cluster, registry, configuration)
    return record
