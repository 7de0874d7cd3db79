"""Deployment helpers (pkg/controller/deployment/util/deployment_util.go): pure functions of plain data.

Revisions, the annotations a Deployment's ReplicaSets carry, which
ReplicaSet is "new" (its template equals the Deployment's, ignoring
``pod-template-hash``), surge and unavailability resolved from numbers or
percentages (surge rounded up, unavailability rounded down, both zero made
unavailability 1), replica sums over sets, proportions for scaling a
rollout, and the Progressing / Available conditions. Nothing here talks to
the API server or reads a clock: ``now`` is always given.
"""

from __future__ import annotations

import copy
import math
from typing import Any, Iterable

from engine.api.meta import parse_timestamp, timestamp

REVISION = "deployment.kubernetes.io/revision"
REVISION_HISTORY = "deployment.kubernetes.io/revision-history"
DESIRED_REPLICAS = "deployment.kubernetes.io/desired-replicas"
MAX_REPLICAS = "deployment.kubernetes.io/max-replicas"
ROLLBACK_TO = "deprecated.deployment.rollback.to"
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
POD_TEMPLATE_HASH = "pod-template-hash"
MAX_REV_HISTORY_LENGTH_IN_CHARS = 2000
MAX_INT32 = 2**31 - 1

# Reasons, as upstream spells them
ROLLBACK_REVISION_NOT_FOUND = "DeploymentRollbackRevisionNotFound"
ROLLBACK_TEMPLATE_UNCHANGED = "DeploymentRollbackTemplateUnchanged"
ROLLBACK_DONE = "DeploymentRollback"
REPLICA_SET_UPDATED = "ReplicaSetUpdated"
FAILED_RS_CREATE = "ReplicaSetCreateError"
NEW_REPLICA_SET = "NewReplicaSetCreated"
FOUND_NEW_RS = "FoundNewReplicaSet"
NEW_RS_AVAILABLE = "NewReplicaSetAvailable"
TIMED_OUT = "ProgressDeadlineExceeded"
PAUSED = "DeploymentPaused"
RESUMED = "DeploymentResumed"
MINIMUM_REPLICAS_AVAILABLE = "MinimumReplicasAvailable"
MINIMUM_REPLICAS_UNAVAILABLE = "MinimumReplicasUnavailable"

_ANNOTATIONS_TO_SKIP = {LAST_APPLIED, REVISION, REVISION_HISTORY, DESIRED_REPLICAS, MAX_REPLICAS, ROLLBACK_TO}


# -- small accessors -------------------------------------------------------------------

def replicas_of(obj: dict | None) -> int:
    """``spec.replicas`` (0 for no object)."""
    return int(((obj or {}).get("spec") or {}).get("replicas", 1 if obj else 0) or 0)


def _status(obj: dict | None, field: str) -> int:
    return int(((obj or {}).get("status") or {}).get(field) or 0)


def annotations_of(obj: dict) -> dict:
    return obj["metadata"].get("annotations") or {}


def revision(obj: dict) -> int:
    """The revision annotation as a number (0 if missing or not a number)."""
    try:
        return int(annotations_of(obj).get(REVISION, ""))
    except ValueError:
        return 0


def max_revision(sets: Iterable[dict | None]) -> int:
    return max((revision(rs) for rs in sets if rs is not None), default=0)


def last_revision(sets: Iterable[dict | None]) -> int:
    """The second-highest revision (LastRevision: where ``rollout undo`` with no revision goes)."""
    highest = second = 0
    for rs in sets:
        if rs is None:
            continue
        value = revision(rs)
        if value >= highest:
            highest, second = value, highest
        elif value > second:
            second = value
    return second


def created(obj: dict) -> float:
    stamp = obj["metadata"].get("creationTimestamp")
    return parse_timestamp(stamp) if stamp else 0.0


def by_creation(sets: Iterable[dict]) -> list[dict]:
    """ReplicaSetsByCreationTimestamp: oldest first, then by name."""
    return sorted(sets, key=lambda rs: (created(rs), rs["metadata"]["name"]))


def by_revision(sets: Iterable[dict]) -> list[dict]:
    """ReplicaSetsByRevision: lowest revision first, ties oldest first."""
    return sorted(sets, key=lambda rs: (revision(rs), created(rs), rs["metadata"]["name"]))


def by_size_older(sets: Iterable[dict]) -> list[dict]:
    """ReplicaSetsBySizeOlder: larger first; equal sizes oldest first (scaling down)."""
    return sorted(by_creation(sets), key=lambda rs: -replicas_of(rs))


def by_size_newer(sets: Iterable[dict]) -> list[dict]:
    """ReplicaSetsBySizeNewer: larger first; equal sizes newest first (scaling up)."""
    return sorted(list(reversed(by_creation(sets))), key=lambda rs: -replicas_of(rs))


def filter_active(sets: Iterable[dict | None]) -> list[dict]:
    """FilterActiveReplicaSets: sets with spec.replicas > 0."""
    return [rs for rs in sets if rs is not None and replicas_of(rs) > 0]


def replica_count(sets: Iterable[dict | None]) -> int:
    """GetReplicaCountForReplicaSets: the sum of spec.replicas."""
    return sum(replicas_of(rs) for rs in sets if rs is not None)


def actual_replica_count(sets: Iterable[dict | None]) -> int:
    return sum(_status(rs, "replicas") for rs in sets if rs is not None)


def ready_replica_count(sets: Iterable[dict | None]) -> int:
    return sum(_status(rs, "readyReplicas") for rs in sets if rs is not None)


def available_replica_count(sets: Iterable[dict | None]) -> int:
    return sum(_status(rs, "availableReplicas") for rs in sets if rs is not None)


# -- templates ---------------------------------------------------------------------------

def _without_hash(template: dict) -> dict:
    template = copy.deepcopy(template or {})
    labels = (template.get("metadata") or {}).get("labels")
    if labels:
        labels.pop(POD_TEMPLATE_HASH, None)
    return template


def equal_ignore_hash(template1: dict, template2: dict) -> bool:
    """EqualIgnoreHash: equal pod templates once ``pod-template-hash`` is removed from both."""
    return _without_hash(template1) == _without_hash(template2)


def find_new_replica_set(deployment: dict, sets: list[dict]) -> dict | None:
    """FindNewReplicaSet: the oldest set whose template equals the Deployment's."""
    template = deployment["spec"].get("template") or {}
    for rs in by_creation(sets):
        if equal_ignore_hash(rs["spec"].get("template") or {}, template):
            return rs
    return None


def find_old_replica_sets(deployment: dict, sets: list[dict]) -> tuple[list[dict], list[dict]]:
    """FindOldReplicaSets: (the old sets with replicas, every old set)."""
    new = find_new_replica_set(deployment, sets)
    old = [rs for rs in sets if new is None or rs["metadata"].get("uid") != new["metadata"].get("uid")]
    return [rs for rs in old if replicas_of(rs) != 0], old


def find_active_or_latest(new: dict | None, old: list[dict]) -> dict | None:
    """FindActiveOrLatest: the only active set, or the newest if none is active, else None."""
    if new is None and not old:
        return None
    old_newest_first = list(reversed(by_creation(old)))
    active = filter_active(old_newest_first + [new])
    if not active:
        return new if new is not None else old_newest_first[0]
    return active[0] if len(active) == 1 else None


# -- surge and unavailability -------------------------------------------------------------

def scaled_value(value: Any, total: int, round_up: bool) -> int:
    """intstr.GetScaledValueFromIntOrPercent: an int as is, ``"25%"`` of ``total`` rounded up or down."""
    if value is None:
        return 0
    if isinstance(value, int):
        return value
    text = str(value)
    if not text.endswith("%"):
        raise ValueError("invalid value for IntOrString: invalid type: string is not a percentage")
    percent = int(text[:-1])
    exact = percent * total / 100
    return math.ceil(exact) if round_up else math.floor(exact)


def resolve_fenceposts(max_surge: Any, max_unavailable: Any, desired: int) -> tuple[int, int]:
    """ResolveFenceposts: (surge, unavailable); if both resolve to 0, unavailable is 1."""
    surge = scaled_value(max_surge if max_surge is not None else 0, desired, True)
    unavailable = scaled_value(max_unavailable if max_unavailable is not None else 0, desired, False)
    if surge == 0 and unavailable == 0:
        unavailable = 1
    return surge, unavailable


def is_rolling_update(deployment: dict) -> bool:
    return ((deployment["spec"].get("strategy") or {}).get("type") or "RollingUpdate") == "RollingUpdate"


def _rolling(deployment: dict) -> dict:
    return (deployment["spec"].get("strategy") or {}).get("rollingUpdate") or {}


def max_surge(deployment: dict) -> int:
    if not is_rolling_update(deployment):
        return 0
    rolling = _rolling(deployment)
    return resolve_fenceposts(rolling.get("maxSurge"), rolling.get("maxUnavailable"), replicas_of(deployment))[0]


def max_unavailable(deployment: dict) -> int:
    desired = replicas_of(deployment)
    if not is_rolling_update(deployment) or desired == 0:
        return 0
    rolling = _rolling(deployment)
    unavailable = resolve_fenceposts(rolling.get("maxSurge"), rolling.get("maxUnavailable"), desired)[1]
    return min(unavailable, desired)


def new_rs_new_replicas(deployment: dict, all_sets: list[dict | None], new: dict) -> int:
    """NewRSNewReplicas: how big the new set may be now (RollingUpdate: within maxSurge; Recreate: all)."""
    desired = replicas_of(deployment)
    if not is_rolling_update(deployment):
        return desired
    surge = scaled_value(_rolling(deployment).get("maxSurge"), desired, True)
    current = replica_count(all_sets)
    max_total = desired + surge
    if current >= max_total:
        return replicas_of(new)
    return replicas_of(new) + min(max_total - current, desired - replicas_of(new))


# -- annotations -----------------------------------------------------------------------------

def _int_annotation(rs: dict, key: str) -> int | None:
    try:
        return int(annotations_of(rs)[key])
    except (KeyError, ValueError):
        return None


def desired_replicas_annotation(rs: dict) -> int | None:
    return _int_annotation(rs, DESIRED_REPLICAS)


def replicas_annotations_need_update(rs: dict, desired: int, maximum: int) -> bool:
    annotations = annotations_of(rs)
    return annotations.get(DESIRED_REPLICAS) != str(desired) or annotations.get(MAX_REPLICAS) != str(maximum)


def set_replicas_annotations(rs: dict, desired: int, maximum: int) -> bool:
    """SetReplicasAnnotations on a (thawed) set; True if anything changed."""
    annotations = rs["metadata"].setdefault("annotations", {})
    changed = False
    for key, value in ((DESIRED_REPLICAS, str(desired)), (MAX_REPLICAS, str(maximum))):
        if annotations.get(key) != value:
            annotations[key] = value
            changed = True
    return changed


def set_new_replica_set_annotations(deployment: dict, rs: dict, new_revision: str, exists: bool,
                                    history_limit_chars: int = MAX_REV_HISTORY_LENGTH_IN_CHARS) -> bool:
    """SetNewReplicaSetAnnotations on a (thawed) set: copy the Deployment's annotations, raise the revision."""
    annotations = rs["metadata"].setdefault("annotations", {})
    changed = False
    for key, value in annotations_of(deployment).items():
        if key in _ANNOTATIONS_TO_SKIP or annotations.get(key) == value:
            continue
        annotations[key] = value
        changed = True
    old_revision = annotations.get(REVISION)
    try:
        old_value = int(old_revision) if old_revision is not None else 0
    except ValueError:
        if old_revision != "":
            return False
        old_value = 0
    new_value = int(new_revision)
    if old_value < new_value:
        annotations[REVISION] = new_revision
        changed = True
    if old_revision is not None and old_value < new_value:
        history = annotations.get(REVISION_HISTORY, "")
        old_revisions = history.split(",")
        if not old_revisions[0]:
            annotations[REVISION_HISTORY] = old_revision
        else:
            total = len(history) + len(old_revision) + 1
            start = 0
            while total > history_limit_chars and start < len(old_revisions):
                total -= len(old_revisions[start]) + 1
                start += 1
            if total <= history_limit_chars:
                annotations[REVISION_HISTORY] = ",".join(old_revisions[start:] + [old_revision])
    desired = replicas_of(deployment)
    if not exists and set_replicas_annotations(rs, desired, desired + max_surge(deployment)):
        changed = True
    return changed


def set_deployment_revision(deployment: dict, value: str) -> bool:
    annotations = deployment["metadata"].setdefault("annotations", {})
    if annotations.get(REVISION) != value:
        annotations[REVISION] = value
        return True
    return False


def set_deployment_annotations_to(deployment: dict, rs: dict) -> None:
    """SetDeploymentAnnotationsTo: keep the skipped annotations, take the rest from the set (a rollback)."""
    kept = {k: v for k, v in annotations_of(deployment).items() if k in _ANNOTATIONS_TO_SKIP}
    kept.update({k: v for k, v in annotations_of(rs).items() if k not in _ANNOTATIONS_TO_SKIP})
    deployment["metadata"]["annotations"] = kept


def set_from_replica_set_template(deployment: dict, template: dict) -> None:
    """SetFromReplicaSetTemplate: the set's template, without ``pod-template-hash``, into the Deployment."""
    deployment["spec"]["template"] = _without_hash(template)


# -- proportions ----------------------------------------------------------------------------

def _round(value: float) -> int:
    """integer.RoundToInt32: half away from zero."""
    return int(math.floor(value + 0.5)) if value >= 0 else -int(math.floor(-value + 0.5))


def replica_set_fraction(rs: dict, deployment: dict) -> int:
    """getReplicaSetFraction: how many replicas this set gains (or loses) in a proportional scale."""
    if replicas_of(deployment) == 0:
        return -replicas_of(rs)
    deployment_max = replicas_of(deployment) + max_surge(deployment)
    before = _int_annotation(rs, MAX_REPLICAS)
    if not before:
        before = _status(deployment, "replicas")
        if not before:
            return 0
    return _round(replicas_of(rs) * deployment_max / before) - replicas_of(rs)


def proportion(rs: dict | None, deployment: dict, to_add: int, added: int) -> int:
    """GetProportion: this set's share of ``to_add``, never going past what is left of it."""
    if rs is None or replicas_of(rs) == 0 or to_add == 0 or to_add == added:
        return 0
    fraction = replica_set_fraction(rs, deployment)
    allowed = to_add - added
    return min(fraction, allowed) if to_add > 0 else max(fraction, allowed)


# -- conditions and progress ------------------------------------------------------------------

def get_condition(status: dict, type_: str) -> dict | None:
    for condition in status.get("conditions") or []:
        if condition.get("type") == type_:
            return condition
    return None


def new_condition(type_: str, status: str, reason: str, message: str, now: float) -> dict:
    stamp = timestamp(now)
    return {"type": type_, "status": status, "lastUpdateTime": stamp, "lastTransitionTime": stamp,
            "reason": reason, "message": message}


def set_condition(status: dict, condition: dict) -> None:
    """SetDeploymentCondition: same status and reason is a no-op; same status keeps lastTransitionTime."""
    current = get_condition(status, condition["type"])
    if current is not None and current.get("status") == condition["status"] \
            and current.get("reason") == condition["reason"]:
        return
    if current is not None and current.get("status") == condition["status"]:
        condition = dict(condition, lastTransitionTime=current.get("lastTransitionTime"))
    status["conditions"] = [c for c in status.get("conditions") or [] if c.get("type") != condition["type"]]
    status["conditions"].append(condition)


def remove_condition(status: dict, type_: str) -> None:
    conditions = [c for c in status.get("conditions") or [] if c.get("type") != type_]
    if conditions:
        status["conditions"] = conditions
    else:
        status.pop("conditions", None)


def has_progress_deadline(deployment: dict) -> bool:
    deadline = deployment["spec"].get("progressDeadlineSeconds")
    return deadline is not None and deadline != MAX_INT32


def has_revision_history_limit(deployment: dict) -> bool:
    limit = deployment["spec"].get("revisionHistoryLimit")
    return limit is not None and limit != MAX_INT32


def deployment_complete(deployment: dict, status: dict) -> bool:
    desired = replicas_of(deployment)
    return (int(status.get("updatedReplicas") or 0) == desired and int(status.get("replicas") or 0) == desired
            and int(status.get("availableReplicas") or 0) == desired
            and int(status.get("observedGeneration") or 0) >= int(deployment["metadata"].get("generation") or 0))


def deployment_progressing(deployment: dict, status: dict) -> bool:
    old = deployment.get("status") or {}

    def get(s: dict, field: str) -> int:
        return int(s.get(field) or 0)
    old_old = get(old, "replicas") - get(old, "updatedReplicas")
    new_old = get(status, "replicas") - get(status, "updatedReplicas")
    return (get(status, "updatedReplicas") > get(old, "updatedReplicas") or new_old < old_old
            or get(status, "readyReplicas") > get(old, "readyReplicas")
            or get(status, "availableReplicas") > get(old, "availableReplicas"))


def deployment_timed_out(deployment: dict, status: dict, now: float) -> bool:
    if not has_progress_deadline(deployment):
        return False
    condition = get_condition(status, "Progressing")
    if condition is None or condition.get("reason") == NEW_RS_AVAILABLE:
        return False
    if condition.get("reason") == TIMED_OUT:
        return True
    since = parse_timestamp(condition["lastUpdateTime"])
    return since + int(deployment["spec"]["progressDeadlineSeconds"]) < now
