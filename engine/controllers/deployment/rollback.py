"""Rollback by annotation (pkg/controller/deployment/rollback.go).

``kubectl rollout undo`` on apps/v1 patches the Deployment's template
itself (engine/kubectl/rollout.py). The controller also honours the older
path: the ``deprecated.deployment.rollback.to`` annotation naming a revision
(0: the previous one). It copies that ReplicaSet's template (without
``pod-template-hash``) and annotations into the Deployment, clears the
annotation, and records ``DeploymentRollback`` ``Rolled back deployment
"web" to revision 2``; ``DeploymentRollbackRevisionNotFound`` or
``DeploymentRollbackTemplateUnchanged`` when there is nothing to do. The
next sync then rolls out as for any template change.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine.controllers.deployment import util

if TYPE_CHECKING:
    from engine.controllers.deployment.controller import DeploymentController


def rollback_to(d: dict) -> int | None:
    """getRollbackTo: the revision asked for, or None (no annotation, or not a number)."""
    value = util.annotations_of(d).get(util.ROLLBACK_TO)
    if not value:
        return None
    try:
        return int(value)
    except ValueError:
        return None


def _clear_and_update(dc: "DeploymentController", d: dict) -> None:
    """updateDeploymentAndClearRollbackTo."""
    d["metadata"].setdefault("annotations", {}).pop(util.ROLLBACK_TO, None)
    dc.client.update(d)


def rollback(dc: "DeploymentController", d: dict, rs_list: list[dict]) -> None:
    new, old = dc.get_all_replica_sets_and_sync_revision(d, rs_list, create_if_not_existed=True)
    all_sets = old + ([new] if new is not None else [])
    target = rollback_to(d) or 0
    if target == 0:
        target = util.last_revision(all_sets)
        if target == 0:
            dc.recorder.event(d, "Warning", util.ROLLBACK_REVISION_NOT_FOUND, "Unable to find last revision.")
            _clear_and_update(dc, d)
            return
    for rs in all_sets:
        if util.revision(rs) != target:
            continue
        if not util.equal_ignore_hash(d["spec"]["template"], rs["spec"]["template"]):
            util.set_from_replica_set_template(d, rs["spec"]["template"])
            util.set_deployment_annotations_to(d, rs)
            _clear_and_update(dc, d)
            dc.recorder.event(d, "Normal", util.ROLLBACK_DONE,
                              f'Rolled back deployment "{d["metadata"]["name"]}" to revision {target}')
        else:
            dc.recorder.event(d, "Warning", util.ROLLBACK_TEMPLATE_UNCHANGED,
                              f'The rollback revision contains the same template as current deployment '
                              f'"{d["metadata"]["name"]}"')
            _clear_and_update(dc, d)
        return
    dc.recorder.event(d, "Warning", util.ROLLBACK_REVISION_NOT_FOUND, "Unable to find the revision to rollback to.")
    _clear_and_update(dc, d)
