"""A Deployment's status from its ReplicaSets (calculateStatus in pkg/controller/deployment/sync.go).

Pure: replicas, updatedReplicas (the new set's), readyReplicas,
availableReplicas, unavailableReplicas (never negative), observedGeneration,
collisionCount, the conditions carried over, and Available: True
(``MinimumReplicasAvailable``, "Deployment has minimum availability.") when
at least ``replicas - maxUnavailable`` pods are available, else False
(``MinimumReplicasUnavailable``). Zero counts are left out, as the API
serialises them (``omitempty``).
"""

from __future__ import annotations

from engine.controllers.deployment import util


def calculate_status(all_sets: list[dict | None], new: dict | None, d: dict, now: float) -> dict:
    old_status = d.get("status") or {}
    available = util.available_replica_count(all_sets)
    total = util.replica_count(all_sets)
    status: dict = {"observedGeneration": int(d["metadata"].get("generation") or 0)}
    counts = (("replicas", util.actual_replica_count(all_sets)),
              ("updatedReplicas", util.actual_replica_count([new])),
              ("readyReplicas", util.ready_replica_count(all_sets)),
              ("availableReplicas", available),
              ("unavailableReplicas", max(total - available, 0)))
    for field, value in counts:
        if value:
            status[field] = value
    if old_status.get("collisionCount") is not None:
        status["collisionCount"] = old_status["collisionCount"]
    conditions = [dict(c) for c in old_status.get("conditions") or []]
    if conditions:
        status["conditions"] = conditions
    if available >= util.replicas_of(d) - util.max_unavailable(d):
        condition = util.new_condition("Available", "True", util.MINIMUM_REPLICAS_AVAILABLE,
                                       "Deployment has minimum availability.", now)
    else:
        condition = util.new_condition("Available", "False", util.MINIMUM_REPLICAS_UNAVAILABLE,
                                       "Deployment does not have minimum availability.", now)
    util.set_condition(status, condition)
    return status
