"""DefaultPreemption (PostFilter): when a pod fits nowhere, evict lower-priority pods to make room.

The real evaluator's steps (pkg/scheduler/framework/preemption, plugins/defaultpreemption):

0. the pod is read again from the scheduler's informer (its latest version);
1. eligibility (PodEligibleToPreemptOthers): a pod with ``preemptionPolicy:
   Never`` never preempts (``not eligible due to preemptionPolicy=Never.``);
   nor does one whose nominated node still holds a lower-priority pod that
   preemption is terminating (DisruptionTarget, reason
   PreemptionByScheduler), unless the filters now find that node
   unresolvable;
2. candidates (findCandidates, DryRunPreemption): only nodes whose filter
   verdict was ``Unschedulable`` (the others: ``Preemption is not helpful for
   scheduling``); from a random offset, each node is copied with the
   CycleState; SelectVictimsOnNode removes every lower-priority pod (telling
   PreFilter plugins through their ``remove_pod`` extension), re-runs the
   filters with the nominated pods, then reprieves the pods most important
   first (priority, then the earlier start; a pod not started yet counts as
   starting now), PDB-violating ones first, each kept if the pod still fits.
   A node without lower-priority pods: ``No preemption victims found for
   incoming pod``. The dry run stops once it holds max(10% of the potential
   nodes, 100) candidates and at least one violates no budget
   (minCandidateNodesPercentage, minCandidateNodesAbsolute);
3. the chosen candidate (pickOneNodeForPreemption): fewest PDB violations,
   then the lowest highest-victim priority, the lowest sum of priorities
   (each + 2^31), the fewest victims, the latest start among the highest
   priority victims, then the first found;
4. prepareCandidate: each victim not already terminating gets the
   ``DisruptionTarget`` condition (reason ``PreemptionByScheduler``, message
   ``default-scheduler: preempting to accommodate a higher priority pod``)
   through the status subresource, is deleted through the API server, and
   gets a ``Preempted`` event (``Preempted by pod <uid> on node <node>``);
   lower-priority pods nominated to that node lose their nomination. The pod
   is nominated (``status.nominatedNodeName``, written by the scheduler) and
   retried once the victims are gone.

With no candidate the result clears the pod's nomination and the message is
a second FitError, ``0/N nodes are available: ...``; every message gets the
``preemption: `` prefix. PodDisruptionBudgets are read from their informer:
a pod violates one when ``status.disruptionsAllowed`` (kept by the
disruption controller) is used up (filterPodsWithPDBViolation). What it
found (candidates and their victims, the choice, the nodes it would not help)
is left in the CycleState under ``WHAT_IF_KEY`` for the scheduler's
explanation (``engine.scheduler.explain.PreemptionWhatIf``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from engine.api.errors import ApiError, NotFound
from engine.api.meta import timestamp
from engine.api.selectors import from_label_selector
from engine.client.client import STRATEGIC_MERGE_PATCH
from engine.scheduler.explain import PreemptionWhatIf
from engine.scheduler.framework import (ERROR, UNSCHEDULABLE, UNSCHEDULABLE_AND_UNRESOLVABLE, Diagnosis, Status,
                                        fit_error_message)

NAME = "DefaultPreemption"
WHAT_IF_KEY = NAME + "/what-if"
"""Where the last attempt's findings are left in the CycleState, for the scheduler's explanation."""
MIN_CANDIDATE_NODES_PERCENTAGE = 10
MIN_CANDIDATE_NODES_ABSOLUTE = 100
NOT_HELPFUL = "Preemption is not helpful for scheduling"
NO_VICTIMS = "No preemption victims found for incoming pod"
MAX_INT32 = 2**31 - 1
DISRUPTION_TARGET = "DisruptionTarget"
PREEMPTION_BY_SCHEDULER = "PreemptionByScheduler"
NOT_STARTED = "\uffff"
"""GetPodStartTime's ``now`` for a pod without status.startTime: later than any RFC 3339 time."""


def priority(pod: dict) -> int:
    return (pod.get("spec") or {}).get("priority") or 0


def start_time(pod: dict) -> str:
    return (pod.get("status") or {}).get("startTime") or NOT_STARTED


def importance_key(pod: dict) -> tuple:
    """MoreImportantPod: higher priority first, then the one that started earlier."""
    return (-priority(pod), start_time(pod))


def terminating_by_preemption(pod: dict) -> bool:
    """podTerminatingByPreemption: being deleted, with the DisruptionTarget condition preemption sets."""
    if not pod["metadata"].get("deletionTimestamp"):
        return False
    for condition in (pod.get("status") or {}).get("conditions") or []:
        if condition.get("type") == DISRUPTION_TARGET:
            return condition.get("status") == "True" and condition.get("reason") == PREEMPTION_BY_SCHEDULER
    return False


@dataclass
class Candidate:
    """A node where the pod fits once ``victims`` (most important first) are gone."""

    node: str
    victims: list[dict] = field(default_factory=list)
    pdb_violations: int = 0


class DefaultPreemption:
    name = NAME

    def __init__(self, args: dict[str, Any] | None, handle: Any) -> None:
        args = args or {}
        self.handle = handle
        self.min_percentage = int(args.get("minCandidateNodesPercentage", MIN_CANDIDATE_NODES_PERCENTAGE))
        self.min_absolute = int(args.get("minCandidateNodesAbsolute", MIN_CANDIDATE_NODES_ABSOLUTE))

    # -- PostFilter ------------------------------------------------------------------------
    def post_filter(self, state: dict, pod: dict, statuses: dict[str, Status]) -> tuple[str | None, Status | None]:
        """Preempt: (nominated node or None, status); "" as the node clears the pod's nomination."""
        nominated, status = self.preempt(state, pod, statuses)
        if status is not None and status.message:
            status = Status(status.code, [f"preemption: {status.message}"])
        return nominated, status

    def preempt(self, state: dict, pod: dict, statuses: dict[str, Status]) -> tuple[str | None, Status | None]:
        latest = getattr(self.handle, "latest_pod", None)
        if latest is not None:
            pod = latest(pod)
            if pod is None:
                return None, Status(ERROR, ["the preemptor pod is gone"])
        what_if = state[WHAT_IF_KEY] = PreemptionWhatIf()
        eligible, reason = self.pod_eligible_to_preempt_others(pod, statuses)
        if not eligible:
            what_if.reason = reason
            return None, Status(UNSCHEDULABLE, [reason])
        nodes = self.handle.snapshot.node_infos
        candidates, node_statuses = self.find_candidates(state, pod, nodes, statuses)
        for candidate in candidates:
            what_if.candidates[candidate.node] = [_key(victim) for victim in candidate.victims]
            what_if.pdb_violations[candidate.node] = candidate.pdb_violations
        if not candidates:
            for info in nodes:
                node_statuses.setdefault(info.name, Status(UNSCHEDULABLE_AND_UNRESOLVABLE, [NOT_HELPFUL]))
        what_if.not_helpful = {info.name: NOT_HELPFUL for info in nodes
                               if (statuses.get(info.name) or Status(UNSCHEDULABLE_AND_UNRESOLVABLE)).code
                               != UNSCHEDULABLE}
        what_if.not_helpful.update((node, status.message) for node, status in node_statuses.items())
        if not candidates:
            return "", Status(UNSCHEDULABLE, [fit_error_message(len(nodes), Diagnosis(node_statuses))])
        best = self.select_candidate(candidates)
        what_if.chosen = best.node
        self.prepare_candidate(best, pod)
        return best.node, None

    def pod_eligible_to_preempt_others(self, pod: dict, statuses: dict[str, Status]) -> tuple[bool, str]:
        if (pod.get("spec") or {}).get("preemptionPolicy") == "Never":
            return False, "not eligible due to preemptionPolicy=Never."
        nominated = (pod.get("status") or {}).get("nominatedNodeName")
        if nominated:
            status = statuses.get(nominated)
            if status is not None and status.code == UNSCHEDULABLE_AND_UNRESOLVABLE:
                return True, ""
            info = self.handle.snapshot.get(nominated)
            if info is not None and any(priority(p) < priority(pod) and terminating_by_preemption(p)
                                        for p in info.pods.values()):
                return False, "not eligible due to a terminating pod on the nominated node."
        return True, ""

    # -- candidates ---------------------------------------------------------------------------
    def find_candidates(self, state: dict, pod: dict, nodes: list,
                        statuses: dict[str, Status]) -> tuple[list[Candidate], dict[str, Status]]:
        """Nodes where the filters said Unschedulable are dry-run; the others are not helped by preemption."""
        potential = [info for info in nodes
                     if (statuses.get(info.name) or Status(UNSCHEDULABLE_AND_UNRESOLVABLE)).code == UNSCHEDULABLE]
        if not potential:
            return [], {}
        count = len(potential)
        offset = self.handle.loop.random.randrange(count)
        return self.dry_run_preemption(state, pod, potential, self._pdbs(), offset, self.calculate_num_candidates(count))

    def calculate_num_candidates(self, num_nodes: int) -> int:
        return min(max(num_nodes * self.min_percentage // 100, self.min_absolute), num_nodes)

    def dry_run_preemption(self, state: dict, pod: dict, potential: list, pdbs: list[dict], offset: int,
                           wanted: int) -> tuple[list[Candidate], dict[str, Status]]:
        violating: list[Candidate] = []
        non_violating: list[Candidate] = []
        node_statuses: dict[str, Status] = {}
        for i in range(len(potential)):
            info = potential[(offset + i) % len(potential)]
            victims, violations, status = self.select_victims_on_node(state.clone(), pod, info.clone(), pdbs)
            if status is None and victims:
                (violating if violations else non_violating).append(Candidate(info.name, victims, violations))
                if non_violating and len(non_violating) + len(violating) >= wanted:
                    break
                continue
            node_statuses[info.name] = status or Status(ERROR, [f'expected at least one victim pod on node "{info.name}"'])
        return non_violating[:wanted] + violating[:wanted], node_statuses

    def select_victims_on_node(self, state: dict, pod: dict, info: Any,
                               pdbs: list[dict]) -> tuple[list[dict], int, Status | None]:
        """SelectVictimsOnNode on copies of the state and the node: the fewest, least important victims."""
        handle = self.handle

        def remove(victim: dict) -> Status | None:
            info.remove_pod(_key(victim))
            return handle.pre_filter_extension("remove_pod", state, pod, victim, info)

        def add(victim: dict) -> Status | None:
            info.add_pod(_key(victim), victim)
            return handle.pre_filter_extension("add_pod", state, pod, victim, info)

        potential = [p for p in info.pods.values() if priority(p) < priority(pod)]
        for victim in potential:
            status = remove(victim)
            if status is not None:
                return [], 0, Status(ERROR, status.reasons)
        if not potential:
            return [], 0, Status(UNSCHEDULABLE_AND_UNRESOLVABLE, [NO_VICTIMS])
        status = handle.filter_node_for_preemption(state, pod, info)
        if status is not None:
            return [], 0, status
        potential.sort(key=importance_key)
        violating, non_violating = filter_pods_with_pdb_violation(potential, pdbs)
        victims: list[dict] = []
        violations = 0
        for group, is_violating in ((violating, True), (non_violating, False)):
            for candidate in group:
                status = add(candidate)
                if status is not None:
                    return [], 0, Status(ERROR, status.reasons)
                if handle.filter_node_for_preemption(state, pod, info) is not None:
                    status = remove(candidate)
                    if status is not None:
                        return [], 0, Status(ERROR, status.reasons)
                    victims.append(candidate)
                    violations += is_violating
        if violating and non_violating:
            victims.sort(key=importance_key)
        return victims, violations, None

    def _pdbs(self) -> list[dict]:
        lister = getattr(self.handle, "pdb_lister", None)
        return lister().list() if lister is not None else []

    # -- choosing and preparing -----------------------------------------------------------------
    @staticmethod
    def select_candidate(candidates: list[Candidate]) -> Candidate:
        """pickOneNodeForPreemption: each criterion keeps the best; ties go on to the next, then the first."""
        def earliest_start_of_most_important(c: Candidate) -> str:
            top = priority(c.victims[0])
            return min(start_time(v) for v in c.victims if priority(v) == top)

        criteria = [
            lambda c: -c.pdb_violations,
            lambda c: -priority(c.victims[0]),
            lambda c: -sum(priority(v) + MAX_INT32 + 1 for v in c.victims),
            lambda c: -len(c.victims),
            earliest_start_of_most_important,             # the latest of these wins
        ]
        remaining = candidates
        for criterion in criteria:
            if len(remaining) == 1:
                break
            best = max(criterion(c) for c in remaining)
            remaining = [c for c in remaining if criterion(c) == best]
        return remaining[0]

    def prepare_candidate(self, candidate: Candidate, pod: dict) -> None:
        client, recorder = self.handle.client, self.handle.recorder
        scheduler_name = (pod.get("spec") or {}).get("schedulerName") or "default-scheduler"
        for victim in candidate.victims:
            metadata = victim["metadata"]
            if metadata.get("deletionTimestamp"):
                continue                       # graceful deletion already started
            name, namespace = metadata["name"], metadata.get("namespace") or "default"
            condition = {"type": DISRUPTION_TARGET, "status": "True", "reason": PREEMPTION_BY_SCHEDULER,
                         "message": f"{scheduler_name}: preempting to accommodate a higher priority pod",
                         "lastProbeTime": None, "lastTransitionTime": timestamp(self.handle.loop.now)}
            try:
                client.patch("pods", name, {"status": {"conditions": [condition]}}, namespace,
                             patch_type=STRATEGIC_MERGE_PATCH, subresource="status")
                client.delete("pods", name, namespace)
            except NotFound:
                continue
            except ApiError:
                continue
            recorder.event(victim, "Normal", "Preempted",
                           f"Preempted by pod {pod['metadata'].get('uid', '')} on node {candidate.node}")
        lower = [p for p in self.handle.nominated_pods_for_node(candidate.node)
                 if priority(p) < priority(pod) and _key(p) != _key(pod)]
        for nominated in lower:
            metadata = nominated["metadata"]
            try:
                client.patch("pods", metadata["name"], {"status": {"nominatedNodeName": None}},
                             metadata.get("namespace") or "default", patch_type=STRATEGIC_MERGE_PATCH,
                             subresource="status")
            except ApiError:
                continue


def filter_pods_with_pdb_violation(pods: list[dict], pdbs: list[dict]) -> tuple[list[dict], list[dict]]:
    """filterPodsWithPDBViolation: (violating, non-violating), each in the given order.

    A pod violates a budget of its namespace whose selector (nil or empty: none) matches it once the
    budget's ``status.disruptionsAllowed`` is used up by the pods before it; a pod already listed in
    ``status.disruptedPods`` does not use the budget up.
    """
    allowed = [int((pdb.get("status") or {}).get("disruptionsAllowed") or 0) for pdb in pdbs]
    selectors = [from_label_selector((pdb.get("spec") or {}).get("selector")) for pdb in pdbs]
    violating, non_violating = [], []
    for pod in pods:
        metadata = pod["metadata"]
        labels = metadata.get("labels") or {}
        violates = False
        if labels:
            for i, pdb in enumerate(pdbs):
                if (pdb["metadata"].get("namespace") or "default") != (metadata.get("namespace") or "default"):
                    continue
                if selectors[i].empty or not selectors[i].matches(labels):
                    continue
                if metadata["name"] in ((pdb.get("status") or {}).get("disruptedPods") or {}):
                    continue
                allowed[i] -= 1
                if allowed[i] < 0:
                    violates = True
        (violating if violates else non_violating).append(pod)
    return violating, non_violating


def _key(pod: dict) -> str:
    return f"{pod['metadata'].get('namespace') or 'default'}/{pod['metadata']['name']}"


def new(args: dict[str, Any] | None = None, handle: Any = None) -> DefaultPreemption:
    return DefaultPreemption(args, handle)
