"""Recreate (pkg/controller/deployment/recreate.go): every old pod goes before any new pod comes.

One sync: scale every active old set to 0 (then stop, status only); while
any old pod is still running (an old set reports replicas, or a pod of an
old set is not yet Succeeded/Failed) wait; then create the new set if
needed and scale it to spec.replicas. Old sets beyond revisionHistoryLimit
are cleaned up once the rollout is complete.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine.controllers.deployment import util
from engine.controllers.deployment.progress import sync_rollout_status

if TYPE_CHECKING:
    from engine.controllers.deployment.controller import DeploymentController


def old_pods_running(new: dict | None, old: list[dict], pod_map: dict[str, list[dict]]) -> bool:
    """oldPodsRunning: an old set still reports replicas, or one of its pods is not in a terminal phase."""
    if util.actual_replica_count(old) > 0:
        return True
    new_uid = new["metadata"]["uid"] if new is not None else None
    for uid, pods in pod_map.items():
        if uid == new_uid:
            continue
        if any((pod.get("status") or {}).get("phase") not in ("Failed", "Succeeded") for pod in pods):
            return True
    return False


def rollout_recreate(dc: "DeploymentController", d: dict, rs_list: list[dict], pod_map: dict[str, list[dict]]) -> None:
    new, old = dc.get_all_replica_sets_and_sync_revision(d, rs_list, create_if_not_existed=False)
    all_sets: list[dict | None] = old + [new]
    scaled = False
    for rs in util.filter_active(old):
        changed, _ = dc.scale_replica_set_and_record_event(rs, 0, d)
        scaled = scaled or changed
    if scaled or old_pods_running(new, old, pod_map):
        sync_rollout_status(dc, all_sets, new, d)
        return
    if new is None:
        new, old = dc.get_all_replica_sets_and_sync_revision(d, rs_list, create_if_not_existed=True)
        all_sets = old + [new]
    assert new is not None
    dc.scale_replica_set_and_record_event(new, util.replicas_of(d), d)
    if util.deployment_complete(d, d.get("status") or {}):
        dc.cleanup_deployment(old, d)
    sync_rollout_status(dc, all_sets, new, d)
