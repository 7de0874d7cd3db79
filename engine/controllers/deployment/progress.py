"""Rollout progress (pkg/controller/deployment/progress.go): the Progressing condition and the deadline.

``sync_rollout_status`` computes the Deployment's status from its sets and,
when ``progressDeadlineSeconds`` is set and the rollout is not already
complete, sets Progressing:

- complete (all replicas updated, available, observed): True,
  ``NewReplicaSetAvailable``, ``ReplicaSet "web-5d8f7" has successfully progressed.``;
- progress since the last status (more updated, fewer old, more ready or
  available): True, ``ReplicaSetUpdated``, ``ReplicaSet "web-5d8f7" is
  progressing.``, with a fresh lastUpdateTime (the deadline restarts);
- no progress for progressDeadlineSeconds after lastUpdateTime: False,
  ``ProgressDeadlineExceeded``, ``ReplicaSet "web-5d8f7" has timed out progressing.``

A ReplicaFailure condition of the sets is copied to the Deployment. When
nothing changed and the rollout is stuck, the Deployment is queued again for
the moment its deadline passes (requeueStuckDeployment), so the timeout is
reported on time without polling.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine.api.frozen import thaw
from engine.api.meta import parse_timestamp
from engine.controllers.deployment import util
from engine.controllers.deployment.status import calculate_status

if TYPE_CHECKING:
    from engine.controllers.deployment.controller import DeploymentController


def _what(d: dict, new: dict | None) -> str:
    return f'ReplicaSet "{new["metadata"]["name"]}"' if new is not None else f'Deployment "{d["metadata"]["name"]}"'


def rollout_status(d: dict, all_sets: list[dict | None], new: dict | None, now: float) -> dict:
    """The status syncRolloutStatus would write (pure)."""
    status = calculate_status(all_sets, new, d, now)
    if not util.has_progress_deadline(d):
        util.remove_condition(status, "Progressing")
    current = util.get_condition(d.get("status") or {}, "Progressing")
    complete = (int(status.get("replicas") or 0) == int(status.get("updatedReplicas") or 0)
                and current is not None and current.get("reason") == util.NEW_RS_AVAILABLE)
    if util.has_progress_deadline(d) and not complete:
        if util.deployment_complete(d, status):
            util.set_condition(status, util.new_condition(
                "Progressing", "True", util.NEW_RS_AVAILABLE, f"{_what(d, new)} has successfully progressed.", now))
        elif util.deployment_progressing(d, status):
            condition = util.new_condition("Progressing", "True", util.REPLICA_SET_UPDATED,
                                           f"{_what(d, new)} is progressing.", now)
            if current is not None:
                if current.get("status") == "True":
                    condition["lastTransitionTime"] = current.get("lastTransitionTime")
                util.remove_condition(status, "Progressing")
            util.set_condition(status, condition)
        elif util.deployment_timed_out(d, status, now):
            util.set_condition(status, util.new_condition(
                "Progressing", "False", util.TIMED_OUT, f"{_what(d, new)} has timed out progressing.", now))
    failures = replica_failures(all_sets, new)
    if failures:
        util.set_condition(status, failures[0])
    else:
        util.remove_condition(status, "ReplicaFailure")
    return status


def replica_failures(all_sets: list[dict | None], new: dict | None) -> list[dict]:
    """getReplicaFailures: the new set's ReplicaFailure conditions, else the old sets'."""
    def of(rs: dict | None) -> list[dict]:
        if rs is None:
            return []
        return [{"type": c["type"], "status": c["status"], "lastUpdateTime": c.get("lastTransitionTime"),
                 "lastTransitionTime": c.get("lastTransitionTime"), "reason": c.get("reason"),
                 "message": c.get("message")}
                for c in (rs.get("status") or {}).get("conditions") or [] if c.get("type") == "ReplicaFailure"]
    found = of(new)
    if found:
        return found
    return [c for rs in all_sets for c in of(rs)]


def sync_rollout_status(dc: "DeploymentController", all_sets: list[dict | None], new: dict | None,
                        d: dict) -> None:
    status = rollout_status(d, all_sets, new, dc.loop.now)
    if status == (d.get("status") or {}):
        requeue_stuck_deployment(dc, d, status)
        return
    updated = thaw(d)
    updated["status"] = status
    dc.update_deployment_status(updated)


def requeue_stuck_deployment(dc: "DeploymentController", d: dict, status: dict) -> float:
    """When the deadline of a stuck rollout passes, sync it again; returns the delay (-1: not needed)."""
    current = util.get_condition(d.get("status") or {}, "Progressing")
    if not util.has_progress_deadline(d) or current is None:
        return -1
    if util.deployment_complete(d, status) or current.get("reason") == util.TIMED_OUT:
        return -1
    after = parse_timestamp(current["lastUpdateTime"]) + int(d["spec"]["progressDeadlineSeconds"]) - dc.loop.now
    if after < 1:
        dc.queue.add_rate_limited(dc.key_of(d))
        return 0
    dc.queue.add_after(dc.key_of(d), after)
    return after
