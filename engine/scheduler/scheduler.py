"""kube-scheduler: watches unassigned pods, picks a node for each, and binds it through the API server.

The component, as pkg/scheduler/scheduler.go and schedule_one.go shape it:

- informers on nodes and on pods that have not finished
  (``status.phase!=Succeeded,status.phase!=Failed``); pods without a node and
  with a ``schedulerName`` served by one of our profiles go to the
  ``SchedulingQueue``, pods with a node go to the ``SchedulerCache``;
- while it leads (Lease ``kube-system/kube-scheduler``), one pod at a time is
  popped and scheduled: PreFilter, Filter on the nodes from the round-robin
  start index until enough feasible nodes are found
  (percentageOfNodesToScore), PreScore, Score with NormalizeScore and
  weights, the highest total wins (ties broken at random, from the loop's
  seeded source), then Reserve, Permit, the pod is assumed in the cache, and
  PreBind and Bind post a Binding;
- a pod that fits nowhere runs PostFilter (preemption), gets the
  PodScheduled=False condition (reason Unschedulable) with the ``0/N nodes
  are available: ...`` message and a ``FailedScheduling`` Warning event, and
  waits in the queue; a bound pod gets a ``Scheduled`` event.

Every attempt is explained: ``last_decision`` and ``explain(namespace, name)``
(see ``engine.scheduler.explain``). The scheduler writes only Bindings, pod
status, and Events; it never modifies a pod's spec itself.
"""

from __future__ import annotations

import logging
from collections import OrderedDict, deque
from typing import Any

from engine.api.errors import ApiError
from engine.api.meta import new_uid, timestamp
from engine.client.leaderelection import LeaderElector, LeaseLock
from engine.client.record import NORMAL, WARNING, EventRecorder
from engine.client.client import STRATEGIC_MERGE_PATCH
from engine.components import ComponentContext
from engine.scheduler.cache import SchedulerCache, pod_key
from engine.scheduler.explain import Decision, EvaluatedNodes, ShiftedTotals
from engine.scheduler.framework import (ERROR, CycleState, Diagnosis,
                                        FitError, Framework, Status, is_success)
from engine.scheduler.memo import Runs, find_feasible, memo_for, release_memos
from engine.scheduler.plugins.default_preemption import WHAT_IF_KEY
from engine.scheduler.profile import build_frameworks, default_configuration
from engine.scheduler.queue import QueuedPodInfo, SchedulingQueue
from engine.scheduler.select_host import select_host
from engine.scheduler.registry import Registry, default_registry

log = logging.getLogger(__name__)

LEASE_NAMESPACE = "kube-system"
LEASE_NAME = "kube-scheduler"
MIN_FEASIBLE_NODES_TO_FIND = 100
MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND = 5
NO_NODES_AVAILABLE = "no nodes available to schedule pods"
DECISIONS_KEPT = 1000
SCORED_NODES_KEPT = 20_000
"""The latest decisions keep their per-node scores while these cover at most this many scored nodes in all
(every kept decision of a cluster of up to 20 nodes, the latest 200 at 100 nodes, the latest 40 at 5,000 nodes);
older ones keep their verdicts. The scores of one decision at 5,000 nodes are ~16 kB of arrays written once
and rarely read: keeping 200 of them (the limit was 100,000) cost each scheduled pod ~9% more last-level cache
misses (cachegrind, 1 MiB, 1,000 nodes) for memory nobody reads."""

# Which plugins' verdicts a cluster event may change (the queueing hints' EventsToRegister, simplified).
NODE_EVENT_PLUGINS = None            # any node change may help any pod
ASSIGNED_POD_DELETE_PLUGINS = {"NodeResourcesFit", "NodePorts", "InterPodAffinity", "PodTopologySpread",
                               "DefaultPreemption"}
ASSIGNED_POD_ADD_PLUGINS = {"InterPodAffinity", "PodTopologySpread"}


def num_feasible_nodes_to_find(percentage: int | None, num_all_nodes: int) -> int:
    """numFeasibleNodesToFind: all below 100 nodes; else the percentage (adaptive when 0), at least 100."""
    if num_all_nodes < MIN_FEASIBLE_NODES_TO_FIND:
        return num_all_nodes
    if not percentage or percentage <= 0:
        percentage = 50 - num_all_nodes // 125
        if percentage < MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND:
            percentage = MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND
    if percentage >= 100:
        return num_all_nodes
    num_nodes = num_all_nodes * percentage // 100
    return max(num_nodes, MIN_FEASIBLE_NODES_TO_FIND)


class Scheduler:
    """The kube-scheduler component: informers, queue, cache, one framework per profile."""

    name = "kube-scheduler"
    fast_path = True
    """Reuse node-local plugins' verdicts and scores for unchanged nodes (same placements, less work)."""

    def __init__(self, context: ComponentContext) -> None:
        self.context = context
        self.client = context.client
        self.loop = context.loop
        options = context.options
        self.configuration: dict = options.get("configuration") or default_configuration()
        registry: Registry = options.get("registry") or default_registry()
        self.cache = SchedulerCache()
        self.queue = SchedulingQueue(self.loop, on_active=self._wake,
                                     initial_backoff=float(self.configuration.get("podInitialBackoffSeconds", 1)),
                                     max_backoff=float(self.configuration.get("podMaxBackoffSeconds", 10)))
        self.frameworks: dict[str, Framework] = build_frameworks(self.configuration, registry, self)
        self.recorder = EventRecorder(self.client, "default-scheduler", context.node_name or "")
        self.next_start_node_index = 0
        self.decisions: OrderedDict[str, Decision] = OrderedDict()
        self.last_decision: Decision | None = None
        self.keep_decisions = bool(options.get("keep_decisions", True))
        self._scored: deque[Decision] = deque()       # kept decisions holding per-node scores, oldest first
        self._scored_nodes = 0
        self.scheduled = 0
        self.leading = False
        self._wake_timer = None
        informers = context.informers
        self.nodes = informers.informer("nodes")
        self.pods = informers.informer("pods", field_selector="status.phase!=Succeeded,status.phase!=Failed")
        self._workloads = {resource: informers.informer(resource).lister
                           for resource in ("services", "replicationcontrollers", "replicasets", "statefulsets")}
        self.namespaces = informers.informer("namespaces")
        registry_kinds = self.client.server.registry
        self._pdbs = (informers.informer("poddisruptionbudgets")
                      if registry_kinds.find("poddisruptionbudgets") is not None else None)
        self.nominated: dict[str, dict[str, dict]] = {}      # node -> pod key -> pod nominated there
        self._nominated_node_of: dict[str, str] = {}
        self._framework: Framework | None = None
        self.nodes.add_event_handler(on_add=self._node_added, on_update=self._node_updated,
                                     on_delete=self._node_deleted)
        self.pods.add_event_handler(on_add=self._pod_added, on_update=self._pod_updated,
                                    on_delete=self._pod_deleted)
        identity = f"{context.node_name or 'control-plane'}_{new_uid(self.loop.random)}"
        self.elector = LeaderElector(LeaseLock(self.client, LEASE_NAMESPACE, LEASE_NAME, identity),
                                     on_started_leading=self._start_leading,
                                     on_stopped_leading=self._stop_leading, name=LEASE_NAME)

    # -- what plugins may use (the framework Handle) -----------------------------------
    @property
    def snapshot(self) -> SchedulerCache:
        return self.cache

    def workload_listers(self, resource: str) -> Any:
        """Listers of what selects pods (services, replicationcontrollers, replicasets, statefulsets):
        PodTopologySpread's defaults."""
        return self._workloads[resource]

    def pdb_lister(self) -> Any:
        """PodDisruptionBudgets, where the cluster serves them (preemption respects them)."""
        class _Empty:
            @staticmethod
            def list() -> list:
                return []
        return self._pdbs.lister if self._pdbs is not None else _Empty()

    def filter_node_for_preemption(self, state: CycleState, pod: dict, info: Any) -> Status | None:
        """Run the current profile's filters (with nominated pods) on a node copy: preemption's what-if."""
        return self._run_filters(self._framework, state, pod, info)

    def pre_filter_extension(self, method: str, state: CycleState, pod: dict, other: dict, info: Any) -> Status | None:
        """The current profile's PreFilter extensions (``add_pod`` / ``remove_pod``) on a state copy."""
        return self._framework.run_pre_filter_extension(method, state, pod, other, info)

    def nominated_pods_for_node(self, node: str) -> list[dict]:
        """The pending pods nominated to ``node`` (PodNominator.NominatedPodsForNode)."""
        return list(self.nominated.get(node, {}).values())

    def latest_pod(self, pod: dict) -> dict | None:
        """The informer's current version of ``pod`` (None once it is gone)."""
        return self.pods.indexer.get_by_key(pod_key(pod))

    def namespace_labels(self, namespace: str) -> dict:
        obj = self.namespaces.indexer.get_by_key(namespace)
        return (obj or {}).get("metadata", {}).get("labels") or {}

    # -- component -----------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self.elector.running

    def start(self) -> None:
        self.context.informers.start()
        self.elector.run()

    def stop(self) -> None:
        self.elector.cancel()
        self._stop_leading()
        self.context.informers.stop()

    def _start_leading(self) -> None:
        if self.leading:
            return
        self.leading = True
        self.queue.run()
        self._wake()

    def _stop_leading(self) -> None:
        if not self.leading:
            return
        self.leading = False
        self.queue.stop()
        if self._wake_timer is not None:
            self._wake_timer.cancel()
            self._wake_timer = None

    # -- informer handlers -------------------------------------------------------------------
    def _responsible(self, pod: dict) -> bool:
        return (pod.get("spec") or {}).get("schedulerName", "default-scheduler") in self.frameworks

    @staticmethod
    def _assigned(pod: dict) -> bool:
        return bool((pod.get("spec") or {}).get("nodeName"))

    def _track_nominated(self, pod: dict | None, key: str) -> None:
        old = self._nominated_node_of.pop(key, None)
        if old is not None:
            self.nominated.get(old, {}).pop(key, None)
        node = ((pod or {}).get("status") or {}).get("nominatedNodeName") if pod is not None else None
        if node and not self._assigned(pod):
            self._nominated_node_of[key] = node
            self.nominated.setdefault(node, {})[key] = pod

    def _pod_added(self, pod: dict) -> None:
        self._track_nominated(pod, pod_key(pod))
        if self._assigned(pod):
            self.cache.add_pod(pod)
            self.queue.move_all_to_active_or_backoff("AssignedPodAdd", ASSIGNED_POD_ADD_PLUGINS)
        elif self._responsible(pod) and not pod["metadata"].get("deletionTimestamp"):
            self.queue.add(pod)

    def _pod_updated(self, old: dict, new: dict) -> None:
        self._track_nominated(new, pod_key(new))
        if self._assigned(new):
            if not self._assigned(old):
                self.queue.delete(new)
                self.queue.done(pod_key(new))
            self.cache.update_pod(new)
        elif self._responsible(new):
            if new["metadata"].get("deletionTimestamp"):
                self.queue.delete(new)
            else:
                self.queue.update(old, new)

    def _pod_deleted(self, obj: Any) -> None:
        pod = getattr(obj, "obj", obj)
        if pod is None:
            return
        self._track_nominated(None, pod_key(pod))
        if self._assigned(pod) or self.cache.is_assumed(pod):
            self.cache.remove_pod(pod)
            self.queue.move_all_to_active_or_backoff("AssignedPodDelete", ASSIGNED_POD_DELETE_PLUGINS)
        self.queue.delete(pod)

    def _node_added(self, node: dict) -> None:
        self.cache.add_node(node)
        self.queue.move_all_to_active_or_backoff("NodeAdd", NODE_EVENT_PLUGINS)

    def _node_updated(self, old: dict, new: dict) -> None:
        self.cache.update_node(new)
        if (old.get("spec") != new.get("spec") or old["metadata"].get("labels") != new["metadata"].get("labels")
                or (old.get("status") or {}).get("allocatable") != (new.get("status") or {}).get("allocatable")):
            self.queue.move_all_to_active_or_backoff("NodeUpdate", NODE_EVENT_PLUGINS)

    def _node_deleted(self, obj: Any) -> None:
        node = getattr(obj, "obj", obj)
        if node is not None:
            self.cache.remove_node(node["metadata"]["name"])

    def reconfigure(self, configuration: dict, registry: Registry) -> None:
        """Build the profiles again from ``configuration`` and ``registry`` (a new KubeSchedulerConfiguration, or
        a lab's plugins); what the old profiles kept in step with the cache stops following it."""
        for framework in self.frameworks.values():
            release_memos(framework, self.cache)
            for plugin in framework.plugins.values():
                if hasattr(plugin, "release"):
                    plugin.release()
        self.configuration = configuration
        self.frameworks = build_frameworks(configuration, registry, self)

    # -- the loop ------------------------------------------------------------------------------
    def _wake(self) -> None:
        if self.leading and self._wake_timer is None:
            self._wake_timer = self.loop.call_soon(self._run_once, label="kube-scheduler scheduleOne")

    def _run_once(self) -> None:
        self._wake_timer = None
        if not self.leading:
            return
        entry = self.queue.pop()
        if entry is None:
            return
        try:
            self.schedule_one(entry)
        finally:
            if self.queue.has_active():
                self._wake()

    def schedule_one(self, entry: QueuedPodInfo) -> None:
        """One scheduling cycle, then the binding cycle, for one popped pod."""
        pod = entry.pod
        framework = self.frameworks.get((pod.get("spec") or {}).get("schedulerName", "default-scheduler"))
        if framework is None or pod["metadata"].get("deletionTimestamp") or self.cache.is_assumed(pod):
            self.queue.done(entry.key)
            return
        cycle = self.queue.scheduling_cycle
        state = CycleState()
        self._framework = framework
        decision = Decision(entry.key, self.loop.now, framework.profile_name, weights=framework.weights)
        try:
            node_name = self.schedule_pod(framework, state, pod, decision)
        except FitError as fit_error:
            nominated, status = None, None
            if framework.points.get("postFilter"):
                nominated, status = framework.run_post_filter(state, pod, fit_error.diagnosis.node_to_status)
                if status is not None and status.message:
                    fit_error.diagnosis.post_filter_msg = status.message
            entry.unschedulable_plugins = {s.plugin for s in fit_error.diagnosis.node_to_status.values() if s.plugin}
            if nominated is not None:
                self._track_nominated(dict(pod, status=dict(pod.get("status") or {}, nominatedNodeName=nominated)),
                                      entry.key)
            decision.message = str(fit_error)
            decision.nominated_node = nominated or None
            decision.preemption = state.get(WHAT_IF_KEY)
            self._record(decision)
            self._failure(entry, cycle, str(fit_error), nominated=nominated)
            return
        except _Error as error:
            decision.message = error.status.message
            self._record(decision)
            self._failure(entry, cycle, error.status.message, error=True)
            return
        except _NoNodes:
            decision.message = NO_NODES_AVAILABLE
            self._record(decision)
            entry.unschedulable_plugins = set()
            self._failure(entry, cycle, NO_NODES_AVAILABLE)
            return
        decision.selected = node_name
        self._record(decision)
        assumed = self.cache.assume_pod(pod, node_name)
        status = framework.run_reserve(state, assumed, node_name) or framework.run_permit(state, assumed, node_name)
        if is_success(status):
            status = framework.run_pre_bind(state, assumed, node_name) or framework.run_bind(state, assumed, node_name)
        if not is_success(status):
            framework.run_unreserve(state, assumed, node_name)
            self.cache.forget_pod(pod)
            self._failure(entry, cycle, f"running {status.plugin} plugin: {status.message}", error=True)
            return
        self.scheduled += 1
        self.queue.done(entry.key)
        metadata = pod["metadata"]
        self.recorder.event(pod, NORMAL, "Scheduled", f"Successfully assigned "
                            f"{metadata.get('namespace') or 'default'}/{metadata['name']} to {node_name}")

    # -- scheduling one pod ---------------------------------------------------------------------
    def schedule_pod(self, framework: Framework, state: CycleState, pod: dict, decision: Decision) -> str:
        """schedulePod: the chosen node's name, or FitError."""
        nodes = self.cache.node_infos
        if not nodes:
            raise _NoNodes()
        decision.num_all_nodes = len(nodes)
        feasible = self.find_nodes_that_fit(framework, state, pod, nodes, decision)
        if len(feasible) == 1:
            return feasible[0].name
        status = framework.run_pre_score(state, pod, feasible)
        if not is_success(status):
            raise _Error(status)
        memo, segments = state.get("__memo"), state.get("__memo_segments")
        local = memo.scores(framework, state, pod, self.cache, segments) if memo is not None else None
        names = state.get("__memo_names") or tuple(info.name for info in feasible)
        totals, offset, breakdown = framework.score_relative(state, pod, feasible, names, local)
        decision.score_source, decision.scored = breakdown, len(names)
        decision.totals_source = ShiftedTotals(names, totals, offset)
        return feasible[select_host(totals, self.loop.random)].name

    def find_nodes_that_fit(self, framework: Framework, state: CycleState, pod: dict, nodes: list,
                            decision: Decision) -> list:
        diagnosis = Diagnosis()
        status = framework.run_pre_filter(state, pod, nodes)
        if status is not None and not status.is_success():
            if status.code == ERROR:
                raise _Error(status)
            for info in nodes:
                diagnosis.node_to_status[info.name] = status
                decision.evaluated.append((info.name, status))
            diagnosis.pre_filter_msg = status.message
            raise FitError(pod, len(nodes), diagnosis)
        nominated = ((pod.get("status") or {}).get("nominatedNodeName"))
        if nominated:
            info = self.cache.get(nominated)
            if info is not None and self._evaluate(framework, state, pod, info, decision, diagnosis):
                return [info]
        num_all = len(nodes)
        to_find = num_feasible_nodes_to_find(framework.percentage_of_nodes_to_score, num_all)
        decision.nodes_to_find = to_find
        decision.start_index = self.next_start_node_index
        start = self.next_start_node_index % num_all
        if self.fast_path:
            feasible, processed = self._find_with_memo(framework, state, pod, start, to_find, decision, diagnosis)
        else:
            feasible, processed = [], 0
            for i in range(num_all):
                info = nodes[(start + i) % num_all]
                processed += 1
                if self._evaluate(framework, state, pod, info, decision, diagnosis):
                    feasible.append(info)
                    if len(feasible) >= to_find:
                        break
        self.next_start_node_index = (start + processed) % num_all
        if not feasible:
            raise FitError(pod, num_all, diagnosis)
        return feasible

    def _find_with_memo(self, framework: Framework, state: CycleState, pod: dict, start: int, to_find: int,
                        decision: Decision, diagnosis: Diagnosis) -> tuple[Runs, int]:
        """The filter loop over the memo of node-local verdicts (engine.scheduler.memo): the same verdicts
        in the same order; the decision gets its list of evaluated nodes on demand."""
        leading, live = _filter_split(framework, state.get("__skip_filter", ()))
        memo = memo_for(framework, self.cache, pod, leading)
        segments, processed, rejections = find_feasible(
            framework, state, pod, memo, self.cache, start, to_find, live,
            self._nominated_here(pod), lambda info: self._run_filters(framework, state, pod, info))
        names = self.cache.node_names
        feasible = Runs(self.cache.node_infos, segments)
        state["__memo"], state["__memo_segments"], state["__memo_names"] = memo, segments, Runs(names, segments)
        count = len(names)
        for offset, status in rejections:
            if status.code == ERROR:
                raise _Error(status)
            diagnosis.node_to_status[names[(start + offset) % count]] = status
        decision.evaluated_source = EvaluatedNodes(names, start, processed, rejections or ())
        return feasible, processed

    def _nominated_here(self, pod: dict) -> dict[int, Any]:
        """The nodes (by position in the cache's order) where pods nominated with the same or a higher priority
        must be counted (RunFilterPluginsWithNominatedPods): the memo's verdicts do not hold there."""
        positions, nodes = self.cache.node_positions, self.cache.nodes
        return {positions[node]: nodes[node] for node in self.nominated
                if node in positions and self._nominated_before(pod, node)}

    def _nominated_before(self, pod: dict, node: str) -> list[tuple[str, dict]]:
        """The other pods nominated on ``node`` whose priority is the same as ``pod``'s or higher."""
        nominated = self.nominated.get(node)
        if not nominated:
            return []
        own_key, own_priority = pod_key(pod), (pod.get("spec") or {}).get("priority") or 0
        return [(key, p) for key, p in nominated.items()
                if key != own_key and ((p.get("spec") or {}).get("priority") or 0) >= own_priority]

    def _run_filters(self, framework: Framework, state: CycleState, pod: dict, info: Any) -> Status | None:
        """RunFilterPluginsWithNominatedPods: pods nominated here with equal or higher priority count too."""
        others = self._nominated_before(pod, info.name)
        if others:
            with_nominated, state_with_nominated = info.clone(), state.clone()
            for key, other in others:
                with_nominated.add_pod(key, other)
                status = framework.run_pre_filter_extension("add_pod", state_with_nominated, pod, other,
                                                            with_nominated)
                if status is not None:
                    return Status(ERROR, list(status.reasons), status.plugin)
            status = framework.run_filter(state_with_nominated, pod, with_nominated)
            if status is not None:
                return status
        return framework.run_filter(state, pod, info)

    def _evaluate(self, framework: Framework, state: CycleState, pod: dict, info: Any, decision: Decision,
                  diagnosis: Diagnosis) -> bool:
        status = self._run_filters(framework, state, pod, info)
        decision.evaluated.append((info.name, status))
        if status is None:
            return True
        if status.code == ERROR:
            raise _Error(status)
        diagnosis.node_to_status[info.name] = status
        return False

    # -- failures -------------------------------------------------------------------------------
    def _failure(self, entry: QueuedPodInfo, cycle: int, message: str, *, error: bool = False,
                 nominated: str | None = None) -> None:
        """handleSchedulingFailure: requeue, event, and the PodScheduled condition."""
        self.queue.add_unschedulable(entry, cycle, error=error)
        pod = entry.pod
        self.recorder.event(pod, WARNING, "FailedScheduling", message)
        condition = {"type": "PodScheduled", "status": "False", "lastProbeTime": None,
                     "lastTransitionTime": timestamp(self.loop.now),
                     "reason": "SchedulerError" if error else "Unschedulable", "message": message}
        current = next((c for c in (pod.get("status") or {}).get("conditions") or []
                        if c.get("type") == "PodScheduled"), None)
        if current is not None and current.get("status") == "False":
            condition["lastTransitionTime"] = current.get("lastTransitionTime")
        patch: dict = {"status": {"conditions": [condition]}}
        if nominated is not None and nominated != ((pod.get("status") or {}).get("nominatedNodeName") or ""):
            patch["status"]["nominatedNodeName"] = nominated or None      # "" clears the nomination
        if current is not None and all(current.get(k) == condition.get(k) for k in ("status", "reason", "message")) \
                and "nominatedNodeName" not in patch["status"]:
            return
        metadata = pod["metadata"]
        try:
            self.client.patch("pods", metadata["name"], patch, metadata.get("namespace") or "default",
                              patch_type=STRATEGIC_MERGE_PATCH, subresource="status")
        except ApiError as api_error:
            log.debug("could not update the status of %s: %s", entry.key, api_error)

    def _record(self, decision: Decision) -> None:
        self.last_decision = decision
        if not self.keep_decisions:
            return
        self.decisions[decision.pod] = decision
        self.decisions.move_to_end(decision.pod)
        while len(self.decisions) > DECISIONS_KEPT:
            self.decisions.popitem(last=False)
        if decision.scored:
            self._scored.append(decision)
            self._scored_nodes += decision.scored
            while self._scored_nodes > SCORED_NODES_KEPT:
                oldest = self._scored.popleft()
                self._scored_nodes -= oldest.scored
                oldest.drop_scores()

    # -- explanations ---------------------------------------------------------------------------
    def explain(self, namespace: str, name: str) -> Decision | None:
        """The latest decision about ``namespace/name`` (None if the scheduler never tried it)."""
        return self.decisions.get(f"{namespace}/{name}")


def _filter_split(framework: Framework, skipped: set[str] | tuple) -> tuple[list, list]:
    """The Filter plugins PreFilter did not skip, split into the leading node-local ones (the memo's) and the rest
    (run live), in profile order; remembered per profile and skip set (``Framework.split``)."""
    return framework.split("filter", skipped, _leading_node_local)


def _leading_node_local(active: list) -> tuple[list, list]:
    local = 0
    while local < len(active) and getattr(active[local], "node_local", False):
        local += 1
    return active[:local], active[local:]


class _NoNodes(Exception):
    pass


class _Error(Exception):
    def __init__(self, status: Status) -> None:
        super().__init__(status.message)
        self.status = status
