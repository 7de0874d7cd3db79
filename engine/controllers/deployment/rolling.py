"""RollingUpdate (pkg/controller/deployment/rolling.go): replace pods a few at a time within maxSurge / maxUnavailable.

One sync takes at most one step. ``rolling_update_step`` is the decision, a
pure function of numbers (a lab replaces it):

1. reconcileNewReplicaSet: if the new set is bigger than desired, scale it
   down to desired; else grow it as far as the surge allows: total pods
   (sum of spec.replicas) at most ``desired + maxSurge``, the new set at most
   ``desired``. If that changes the new set, this is the step;
2. reconcileOldReplicaSets: with ``minAvailable = desired - maxUnavailable``,
   at most ``allPods - minAvailable - newUnavailable`` old replicas may go
   (newUnavailable: the new set's replicas not yet available, so that broken
   new pods never let old ones go). First cleanupUnhealthyReplicas: old sets,
   oldest first, lose their *unavailable* replicas (that does not lower
   availability). Then scaleDownOldReplicaSetsForRollingUpdate: while more
   pods are available than ``minAvailable``, old sets, oldest first, lose
   the surplus.

``rollout_rolling`` applies the step through the controller (scaling sets,
recording ``ScalingReplicaSet`` events) and then syncs the rollout status.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from engine.controllers.deployment import util
from engine.controllers.deployment.progress import sync_rollout_status

if TYPE_CHECKING:
    from engine.controllers.deployment.controller import DeploymentController


@dataclass(frozen=True)
class ReplicaSetState:
    """What the step needs of one ReplicaSet: its name, spec.replicas and status.availableReplicas."""

    name: str
    replicas: int
    available: int


def rolling_update_step(desired: int, max_surge: int, max_unavailable: int, new: ReplicaSetState,
                        old: list[ReplicaSetState]) -> list[tuple[str, int]]:
    """One rolling-update step: ``[(set name, new spec.replicas), ...]`` in the order to apply them.

    ``max_surge`` and ``max_unavailable`` are already resolved to numbers; ``old`` are the active
    old sets, oldest first. An empty list means nothing can move this sync.
    """
    # 1. reconcileNewReplicaSet
    if new.replicas > desired:
        return [(new.name, desired)]
    if new.replicas < desired:
        total = new.replicas + sum(rs.replicas for rs in old)
        max_total = desired + max_surge
        target = new.replicas if total >= max_total else new.replicas + min(max_total - total,
                                                                            desired - new.replicas)
        if target != new.replicas:
            return [(new.name, target)]
    # 2. reconcileOldReplicaSets
    if sum(rs.replicas for rs in old) == 0:
        return []
    all_pods = new.replicas + sum(rs.replicas for rs in old)
    min_available = desired - max_unavailable
    new_unavailable = new.replicas - new.available
    max_scaled_down = all_pods - min_available - new_unavailable
    if max_scaled_down <= 0:
        return []
    steps: list[tuple[str, int]] = []
    sizes = {rs.name: rs.replicas for rs in old}
    cleaned = 0
    for rs in old:                                            # cleanupUnhealthyReplicas
        if cleaned >= max_scaled_down:
            break
        if rs.replicas == 0 or rs.replicas == rs.available:
            continue
        count = min(max_scaled_down - cleaned, rs.replicas - rs.available)
        sizes[rs.name] = rs.replicas - count
        steps.append((rs.name, sizes[rs.name]))
        cleaned += count
    available = new.available + sum(rs.available for rs in old)   # scaleDownOldReplicaSetsForRollingUpdate
    if available <= min_available:
        return steps
    to_scale_down = available - min_available
    scaled = 0
    for rs in old:
        if scaled >= to_scale_down:
            break
        if sizes[rs.name] == 0:
            continue
        count = min(sizes[rs.name], to_scale_down - scaled)
        sizes[rs.name] -= count
        steps.append((rs.name, sizes[rs.name]))
        scaled += count
    return steps


def state_of(rs: dict) -> ReplicaSetState:
    return ReplicaSetState(rs["metadata"]["name"], util.replicas_of(rs),
                           int((rs.get("status") or {}).get("availableReplicas") or 0))


def rollout_rolling(dc: "DeploymentController", d: dict, rs_list: list[dict]) -> None:
    """rolloutRolling: one step, then status; old sets are cleaned up once the rollout is complete."""
    new, old = dc.get_all_replica_sets_and_sync_revision(d, rs_list, create_if_not_existed=True)
    assert new is not None
    all_sets = old + [new]
    active_old = util.by_creation(util.filter_active(old))
    steps = dc.rolling_update_step(util.replicas_of(d), util.max_surge(d), util.max_unavailable(d),
                                state_of(new), [state_of(rs) for rs in active_old])
    by_name = {rs["metadata"]["name"]: rs for rs in all_sets}
    scaled = False
    for name, size in steps:
        changed, updated = dc.scale_replica_set_and_record_event(by_name[name], size, d)
        by_name[name] = updated
        scaled = scaled or changed
    all_sets = [by_name[rs["metadata"]["name"]] for rs in all_sets]
    new = by_name[new["metadata"]["name"]]
    if not scaled and util.deployment_complete(d, d.get("status") or {}):
        dc.cleanup_deployment(old, d)
    sync_rollout_status(dc, all_sets, new, d)
