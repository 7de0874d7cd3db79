"""DefaultPreemption (PostFilter): when a pod fits nowhere, evict lower-priority pods to make room.

The real evaluator's steps (pkg/scheduler/framework/preemption):

1. eligibility: a pod with ``preemptionPolicy: Never`` never preempts
   (``not eligible due to preemptionPolicy=Never.``), nor does one whose
   nominated node already has a lower-priority pod terminating;
2. candidates: only nodes whose filter verdict was resolvable
   (others: ``Preemption is not helpful for scheduling``); starting at a
   random offset, a dry run on a copy of each node removes every pod of lower
   priority, checks that the pod then fits, and reprieves the victims one by
   one, most important first, PDB-violating ones first, keeping each that can
   stay; a node without lower-priority pods: ``No preemption victims found
   for incoming pod``. The dry run stops once it has 10% of the nodes (at
   least 100) as candidates, one of them violating no PodDisruptionBudget;
3. the chosen candidate: fewest PDB violations, then the lowest highest
   victim priority, the lowest sum of priorities, the fewest victims, the
   latest start among the most important victims, then the first found;
4. the victims are deleted (a ``Preempted`` event each) and the pod is
   nominated to the node (``status.nominatedNodeName``); it is scheduled
   there once the victims are gone.

With no candidate the message is a second ``0/N nodes are available: ...``,
prefixed ``preemption:``. What-if checks here use node copies; the PreFilter
state of InterPodAffinity and PodTopologySpread is not adjusted for victims.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from engine.api.errors import ApiError
from engine.api.selectors import from_label_selector
from engine.scheduler.framework import (UNSCHEDULABLE, UNSCHEDULABLE_AND_UNRESOLVABLE, Diagnosis, Status,
                                        fit_error_message)

NAME = "DefaultPreemption"
MIN_CANDIDATE_NODES_PERCENTAGE = 10
MIN_CANDIDATE_NODES_ABSOLUTE = 100
NOT_HELPFUL = "Preemption is not helpful for scheduling"
NO_VICTIMS = "No preemption victims found for incoming pod"
MAX_INT32 = 2**31 - 1


def priority(pod: dict) -> int:
    return (pod.get("spec") or {}).get("priority") or 0


def start_time(pod: dict) -> str:
    return (pod.get("status") or {}).get("startTime") or pod["metadata"].get("creationTimestamp") or ""


def importance_key(pod: dict) -> tuple:
    """MoreImportantPod: higher priority first, then the earlier start."""
    return (-priority(pod), start_time(pod))


@dataclass
class Candidate:
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

    def post_filter(self, state: dict, pod: dict, statuses: dict[str, Status]) -> tuple[str | None, Status | None]:
        eligible, reason = self._eligible(pod)
        if not eligible:
            return None, Status(UNSCHEDULABLE, [f"preemption: {reason}"])
        nodes = self.handle.snapshot.node_infos
        node_statuses: dict[str, Status] = {}
        potential = []
        for info in nodes:
            status = statuses.get(info.name)
            if status is not None and status.code == UNSCHEDULABLE_AND_UNRESOLVABLE:
                node_statuses[info.name] = Status(UNSCHEDULABLE_AND_UNRESOLVABLE, [NOT_HELPFUL])
            else:
                potential.append(info)
        candidates: list[Candidate] = []
        if potential:
            candidates = self._dry_run(state, pod, potential, node_statuses)
        if not candidates:
            message = fit_error_message(len(nodes), Diagnosis(node_statuses))
            return None, Status(UNSCHEDULABLE, [f"preemption: {message}"])
        best = self._select(candidates)
        self._prepare(pod, best)
        return best.node, None

    def _eligible(self, pod: dict) -> tuple[bool, str]:
        if (pod.get("spec") or {}).get("preemptionPolicy") == "Never":
            return False, "not eligible due to preemptionPolicy=Never."
        nominated = (pod.get("status") or {}).get("nominatedNodeName")
        if nominated:
            info = self.handle.snapshot.get(nominated)
            if info is not None and any(p["metadata"].get("deletionTimestamp") and priority(p) < priority(pod)
                                        for p in info.pods.values()):
                return False, "not eligible due to a terminating pod on the nominated node."
        return True, ""

    def _dry_run(self, state: dict, pod: dict, potential: list, node_statuses: dict[str, Status]) -> list[Candidate]:
        count = len(potential)
        wanted = max(count * self.min_percentage // 100, self.min_absolute)
        wanted = min(wanted, count)
        offset = self.handle.loop.random.randrange(count)
        pdbs = self._pdbs()
        violating: list[Candidate] = []
        non_violating: list[Candidate] = []
        for i in range(count):
            info = potential[(offset + i) % count]
            victims, violations, status = self._select_victims(state, pod, info.clone(), pdbs)
            if status is None and victims:
                (violating if violations else non_violating).append(Candidate(info.name, victims, violations))
            else:
                node_statuses[info.name] = status or Status(UNSCHEDULABLE, [NO_VICTIMS])
            if non_violating and len(non_violating) + len(violating) >= wanted:
                break
        return non_violating + violating

    def _select_victims(self, state: dict, pod: dict, info: Any, pdbs: list[dict]):
        fits = self.handle.filter_node_for_preemption
        lower = sorted((p for p in info.pods.values() if priority(p) < priority(pod)), key=importance_key)
        if not lower:
            return [], 0, Status(UNSCHEDULABLE_AND_UNRESOLVABLE, [NO_VICTIMS])
        for victim in lower:
            info.remove_pod(_key(victim))
        status = fits(state, pod, info)
        if status is not None:
            return [], 0, status
        violating, non_violating = self._split_by_pdb(lower, pdbs)
        victims: list[dict] = []
        violations = 0
        for group, is_violating in ((violating, True), (non_violating, False)):
            for candidate in group:
                info.add_pod(_key(candidate), candidate)
                if fits(state, pod, info) is not None:
                    info.remove_pod(_key(candidate))
                    victims.append(candidate)
                    if is_violating:
                        violations += 1
        victims.sort(key=importance_key)
        return victims, violations, None

    def _pdbs(self) -> list[dict]:
        lister = getattr(self.handle, "pdb_lister", None)
        return lister().list() if lister is not None else []

    @staticmethod
    def _split_by_pdb(pods: list[dict], pdbs: list[dict]) -> tuple[list[dict], list[dict]]:
        """filterPodsWithPDBViolation: a pod whose eviction would take a PDB below its allowance violates it."""
        allowed = {id(pdb): int((pdb.get("status") or {}).get("disruptionsAllowed") or 0) for pdb in pdbs}
        violating, non_violating = [], []
        for pod in pods:
            metadata = pod["metadata"]
            violates = False
            for pdb in pdbs:
                if pdb["metadata"].get("namespace") != metadata.get("namespace"):
                    continue
                selector = from_label_selector((pdb.get("spec") or {}).get("selector"))
                if selector.empty or not selector.matches(metadata.get("labels") or {}):
                    continue
                if metadata["name"] in ((pdb.get("status") or {}).get("disruptedPods") or {}):
                    continue
                allowed[id(pdb)] -= 1
                if allowed[id(pdb)] < 0:
                    violates = True
            (violating if violates else non_violating).append(pod)
        return violating, non_violating

    @staticmethod
    def _select(candidates: list[Candidate]) -> Candidate:
        """pickOneNodeForPreemption: each criterion keeps the best; ties go on to the next."""
        criteria = [
            lambda c: -c.pdb_violations,
            lambda c: -priority(c.victims[0]),
            lambda c: -sum(priority(v) + MAX_INT32 + 1 for v in c.victims),
            lambda c: -len(c.victims),
            lambda c: min(start_time(v) for v in c.victims if priority(v) == priority(c.victims[0])),
        ]
        remaining = candidates
        for criterion in criteria:
            best = max(criterion(c) for c in remaining)
            remaining = [c for c in remaining if criterion(c) == best]
            if len(remaining) == 1:
                break
        return remaining[0]

    def _prepare(self, pod: dict, candidate: Candidate) -> None:
        client, recorder = self.handle.client, self.handle.recorder
        for victim in candidate.victims:
            metadata = victim["metadata"]
            try:
                client.delete("pods", metadata["name"], metadata.get("namespace") or "default")
            except ApiError:
                continue
            recorder.event(victim, "Normal", "Preempted",
                           f"Preempted by pod {pod['metadata'].get('uid', '')} on node {candidate.node}")


def _key(pod: dict) -> str:
    return f"{pod['metadata'].get('namespace') or 'default'}/{pod['metadata']['name']}"


def new(args: dict[str, Any] | None = None, handle: Any = None) -> DefaultPreemption:
    return DefaultPreemption(args, handle)
