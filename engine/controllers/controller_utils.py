"""Shared controller machinery (pkg/controller/controller_utils.go and pkg/api/v1/pod/util.go).

What the workload controllers (ReplicaSet, Deployment, Job, DaemonSet,
StatefulSet, ...) share, as upstream shares it:

- ``ControllerExpectations``: per controller key, how many creations and
  deletions the controller has asked for but not yet seen in its informer.
  A controller whose expectations are not satisfied does not act on its
  (possibly stale) cache, so it never double-creates. Expectations older
  than ``EXPECTATIONS_TIMEOUT`` (5 minutes) count as satisfied, in case a
  watch event was lost. ``UIDTrackingControllerExpectations`` also
  remembers *which* pods it deletes, so a deletion is counted once;
- ``PodControl``: creates pods from a template (``generateName: <name>-``,
  the controller's ownerReference with controller and blockOwnerDeletion
  true) and deletes pods, recording ``SuccessfulCreate`` / ``FailedCreate``
  / ``SuccessfulDelete`` / ``FailedDelete`` Events with the real messages;
- pod predicates: ``is_pod_active``, ``is_pod_ready``, ``is_pod_available``
  (Ready for at least minReadySeconds), ``filter_active_pods``;
- ``active_pods_rank_key``/``sort_active_pods_with_ranks``: the order
  in which a controller deletes surplus pods (ActivePodsWithRanks.Less,
  with LogarithmicScaleDown on, as it is by default);
- ``slow_start_batch``: create in batches of 1, 2, 4, ... and stop at the
  first batch with a failure (so a quota or admission error costs one call);
- ``compute_hash``: the pod-template-hash (FNV-32a, SafeEncodeString).

Everything except ``PodControl`` is a pure function of plain data or of the
time it is given. Nothing here reads the store or another component: pods
reach the API server only through the client.
"""

from __future__ import annotations

import functools
import json
import logging
import math
from dataclasses import dataclass
from typing import Any, Callable, Iterable

from engine.api import errors
from engine.api.meta import parse_timestamp
from engine.api.selectors import is_dns1123_subdomain
from engine.client.client import STRATEGIC_MERGE_PATCH, Client
from engine.client.record import EventRecorder

log = logging.getLogger(__name__)

EXPECTATIONS_TIMEOUT = 5 * 60.0
"""ExpectationsTimeout: after this long, unfulfilled expectations are ignored (a lost watch event)."""
SLOW_START_INITIAL_BATCH_SIZE = 1

SUCCESSFUL_CREATE = "SuccessfulCreate"
FAILED_CREATE = "FailedCreate"
SUCCESSFUL_DELETE = "SuccessfulDelete"
FAILED_DELETE = "FailedDelete"


# -- expectations ---------------------------------------------------------------------

@dataclass
class ControleeExpectations:
    """Creations (``add``) and deletions (``dele``) still to be observed, and when they were set."""

    add: int
    dele: int
    timestamp: float

    def fulfilled(self) -> bool:
        return self.add <= 0 and self.dele <= 0


class ControllerExpectations:
    """Expected creations and deletions per controller key (``namespace/name``), on a virtual clock."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self.clock = clock
        self.store: dict[str, ControleeExpectations] = {}

    def get(self, key: str) -> ControleeExpectations | None:
        return self.store.get(key)

    def satisfied(self, key: str) -> bool:
        """True if the controller may act: nothing pending, the wait has expired, or nothing ever recorded."""
        expectation = self.store.get(key)
        if expectation is None:
            return True                       # a new controller, or one whose expectations were deleted
        if expectation.fulfilled():
            return True
        if self.clock() - expectation.timestamp > EXPECTATIONS_TIMEOUT:
            log.debug("controller %s: expectations expired %s", key, expectation)
            return True
        return False

    def set(self, key: str, add: int, dele: int) -> None:
        self.store[key] = ControleeExpectations(add, dele, self.clock())

    def expect_creations(self, key: str, adds: int) -> None:
        self.set(key, adds, 0)

    def expect_deletions(self, key: str, dels: int) -> None:
        self.set(key, 0, dels)

    def raise_expectations(self, key: str, add: int, dele: int) -> None:
        expectation = self.store.get(key)
        if expectation is not None:
            expectation.add += add
            expectation.dele += dele

    def lower_expectations(self, key: str, add: int, dele: int) -> None:
        expectation = self.store.get(key)
        if expectation is not None:
            expectation.add -= add
            expectation.dele -= dele

    def creation_observed(self, key: str) -> None:
        self.lower_expectations(key, 1, 0)

    def deletion_observed(self, key: str) -> None:
        self.lower_expectations(key, 0, 1)

    def delete(self, key: str) -> None:
        self.store.pop(key, None)


class UIDTrackingControllerExpectations(ControllerExpectations):
    """Expectations that also track the keys of the pods being deleted, so each deletion counts once."""

    def __init__(self, clock: Callable[[], float]) -> None:
        super().__init__(clock)
        self.uids: dict[str, set[str]] = {}

    def get_uids(self, controller_key: str) -> set[str]:
        return self.uids.get(controller_key, set())

    def expect_deletions(self, controller_key: str, deleted_keys: Iterable[str]) -> None:  # type: ignore[override]
        keys = set(deleted_keys)
        pending = self.uids.setdefault(controller_key, set())
        if pending:
            log.debug("clobbering existing delete keys of %s: %s", controller_key, sorted(pending))
        self.uids[controller_key] = keys
        super().expect_deletions(controller_key, len(keys))

    def deletion_observed(self, controller_key: str, deleted_key: str = "") -> None:  # type: ignore[override]
        pending = self.uids.get(controller_key)
        if pending is not None and deleted_key in pending:
            pending.discard(deleted_key)
            super().deletion_observed(controller_key)

    def delete(self, controller_key: str) -> None:
        super().delete(controller_key)
        self.uids.pop(controller_key, None)


# -- pod predicates (pkg/api/v1/pod/util.go) ----------------------------------------

def _timestamp(value: Any) -> float | None:
    return parse_timestamp(value) if value else None


def pod_ready_condition(pod: dict) -> dict | None:
    for condition in (pod.get("status") or {}).get("conditions") or []:
        if condition.get("type") == "Ready":
            return condition
    return None


def is_pod_ready(pod: dict) -> bool:
    condition = pod_ready_condition(pod)
    return condition is not None and condition.get("status") == "True"


def is_pod_available(pod: dict, min_ready_seconds: int, now: float) -> bool:
    """Ready, and (with minReadySeconds) Ready since strictly more than that many seconds before ``now``."""
    if not is_pod_ready(pod):
        return False
    if not min_ready_seconds:
        return True
    since = _timestamp((pod_ready_condition(pod) or {}).get("lastTransitionTime"))
    return since is not None and since + min_ready_seconds < now


def is_pod_active(pod: dict) -> bool:
    """Not Succeeded, not Failed, not being deleted."""
    phase = (pod.get("status") or {}).get("phase")
    return phase not in ("Succeeded", "Failed") and not pod["metadata"].get("deletionTimestamp")


def filter_active_pods(pods: Iterable[dict]) -> list[dict]:
    return [pod for pod in pods if is_pod_active(pod)]


def is_pod_terminating(pod: dict) -> bool:
    phase = (pod.get("status") or {}).get("phase")
    return phase not in ("Succeeded", "Failed") and bool(pod["metadata"].get("deletionTimestamp"))


# -- deletion ranking (ActivePodsWithRanks) -------------------------------------------

_PHASE_ORDINAL = {"Pending": 0, "Unknown": 1, "Running": 2}


def _ready_time(pod: dict) -> float | None:
    if is_pod_ready(pod):
        return _timestamp((pod_ready_condition(pod) or {}).get("lastTransitionTime"))
    return None


def _max_container_restarts(pod: dict) -> int:
    statuses = (pod.get("status") or {}).get("containerStatuses") or []
    return max((int(status.get("restartCount") or 0) for status in statuses), default=0)


def _deletion_cost(pod: dict) -> int:
    value = ((pod["metadata"].get("annotations") or {}).get("controller.kubernetes.io/pod-deletion-cost"))
    try:
        return int(value) if value is not None else 0
    except ValueError:
        return 0


def _log_rank(moment: float, now: float) -> int:
    """logarithmicRankDiff's rank: floor(log2(age in nanoseconds)), -1 for no age."""
    age = (now - moment) * 1e9
    return int(math.log2(age)) if age > 0 else -1


def _compare_times(t1: float | None, t2: float | None, now: float | None, uid1: str, uid2: str) -> bool:
    """``t1`` sorts first: zero first, then newer first in log2 buckets, ties by uid (LogarithmicScaleDown)."""
    if now is None or t1 is None or t2 is None:
        if t1 is None or t2 is None:          # afterOrZero
            return t1 is None
        return t1 > t2
    diff = _log_rank(t1, now) - _log_rank(t2, now)
    if diff == 0:
        return uid1 < uid2
    return diff < 0


def active_pods_less(pod_i: dict, rank_i: int, pod_j: dict, rank_j: int, now: float | None) -> bool:
    """ActivePodsWithRanks.Less: True if ``pod_i`` should be deleted before ``pod_j``."""
    node_i = (pod_i.get("spec") or {}).get("nodeName") or ""
    node_j = (pod_j.get("spec") or {}).get("nodeName") or ""
    # 1. unassigned < assigned
    if node_i != node_j and (not node_i or not node_j):
        return not node_i
    # 2. Pending < Unknown < Running
    phase_i = _PHASE_ORDINAL.get((pod_i.get("status") or {}).get("phase") or "", 0)
    phase_j = _PHASE_ORDINAL.get((pod_j.get("status") or {}).get("phase") or "", 0)
    if phase_i != phase_j:
        return phase_i < phase_j
    # 3. not ready < ready
    ready_i, ready_j = is_pod_ready(pod_i), is_pod_ready(pod_j)
    if ready_i != ready_j:
        return not ready_i
    # 4. lower pod-deletion-cost < higher
    cost_i, cost_j = _deletion_cost(pod_i), _deletion_cost(pod_j)
    if cost_i != cost_j:
        return cost_i < cost_j
    # 5. doubled up < not doubled up: more related pods on the same node first
    if rank_i != rank_j:
        return rank_i > rank_j
    uid_i, uid_j = pod_i["metadata"].get("uid", ""), pod_j["metadata"].get("uid", "")
    # 6. been ready for less time < more time
    if ready_i and ready_j:
        time_i, time_j = _ready_time(pod_i), _ready_time(pod_j)
        if time_i != time_j:
            return _compare_times(time_i, time_j, now, uid_i, uid_j)
    # 7. more container restarts < fewer
    restarts_i, restarts_j = _max_container_restarts(pod_i), _max_container_restarts(pod_j)
    if restarts_i != restarts_j:
        return restarts_i > restarts_j
    # 8. empty creation time < newer < older
    created_i = _timestamp(pod_i["metadata"].get("creationTimestamp"))
    created_j = _timestamp(pod_j["metadata"].get("creationTimestamp"))
    if created_i != created_j:
        return _compare_times(created_i, created_j, now, uid_i, uid_j)
    return False


def sort_active_pods_with_ranks(pods: list[dict], ranks: list[int], now: float | None) -> list[dict]:
    """The pods in deletion order: the ones to delete first come first."""
    def compare(a: tuple[dict, int], b: tuple[dict, int]) -> int:
        if active_pods_less(a[0], a[1], b[0], b[1], now):
            return -1
        if active_pods_less(b[0], b[1], a[0], a[1], now):
            return 1
        return 0
    return [pod for pod, _ in sorted(zip(pods, ranks), key=functools.cmp_to_key(compare))]


def ranks_by_related_pods_on_same_node(pods: list[dict], related: Iterable[dict]) -> list[int]:
    """For each pod, how many active related pods share its node (getPodsRankedByRelatedPodsOnSameNode)."""
    on_node: dict[str, int] = {}
    for pod in related:
        if is_pod_active(pod):
            node = (pod.get("spec") or {}).get("nodeName") or ""
            on_node[node] = on_node.get(node, 0) + 1
    return [on_node.get((pod.get("spec") or {}).get("nodeName") or "", 0) for pod in pods]


# -- slow start -----------------------------------------------------------------------

def slow_start_batch(count: int, initial_batch_size: int, fn: Callable[[], None]) -> tuple[int, Exception | None]:
    """Call ``fn`` ``count`` times in batches of 1, 2, 4, ...; stop after the first batch with a failure.

    Returns the number of successful calls and the first error (None if all succeeded). As upstream,
    a failing batch still runs all its calls (they run in parallel there).
    """
    remaining, successes = count, 0
    batch = min(remaining, initial_batch_size)
    while batch > 0:
        first_error: Exception | None = None
        for _ in range(batch):
            try:
                fn()
                successes += 1
            except Exception as error:  # noqa: BLE001 - the caller decides what an error means
                first_error = first_error or error
        if first_error is not None:
            return successes, first_error
        remaining -= batch
        batch = min(2 * batch, remaining)
    return successes, None


# -- the pod-template-hash -------------------------------------------------------------

_SAFE_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"


def safe_encode_string(text: str) -> str:
    """apimachinery rand.SafeEncodeString: each byte to one character of a vowel-free alphabet."""
    return "".join(_SAFE_ALPHABET[byte % len(_SAFE_ALPHABET)] for byte in text.encode())


def fnv32a(data: bytes) -> int:
    value = 0x811C9DC5
    for byte in data:
        value = ((value ^ byte) * 0x01000193) & 0xFFFFFFFF
    return value


def compute_hash(template: dict, collision_count: int | None) -> str:
    """controller.ComputeHash: FNV-32a of the pod template (and the collisionCount), safe-encoded.

    Upstream hashes Go's spew dump of the struct; here the template is serialised as canonical
    JSON, so the value differs from a real cluster's but has the same properties (stable,
    changes with the template, changes with collisionCount).
    """
    data = json.dumps(template, sort_keys=True, separators=(",", ":"), default=str).encode()
    value = fnv32a(data)
    if collision_count is not None:
        # hasher.Write(collisionCountBytes): little-endian uint32, continuing the same hash
        state = value
        for byte in int(collision_count).to_bytes(4, "little", signed=False):
            state = ((state ^ byte) * 0x01000193) & 0xFFFFFFFF
        value = state
    return safe_encode_string(str(value))


# -- PodControl ----------------------------------------------------------------------

def pods_prefix(controller_name: str) -> str:
    """getPodsPrefix: ``<name>-`` if that makes a valid generateName, else the name itself."""
    prefix = f"{controller_name}-"
    # ValidatePodName(prefix, true) masks the trailing dash before validating
    return prefix if not is_dns1123_subdomain(controller_name + "a") else controller_name


def pod_from_template(template: dict, parent: dict, controller_ref: dict | None) -> dict:
    """GetPodFromTemplate: labels, annotations and finalizers from the template, its spec, our owner."""
    template_meta = template.get("metadata") or {}
    metadata: dict[str, Any] = {"generateName": pods_prefix(parent["metadata"]["name"])}
    for field in ("labels", "annotations"):
        if template_meta.get(field):
            metadata[field] = dict(template_meta[field])
    if template_meta.get("finalizers"):
        metadata["finalizers"] = list(template_meta["finalizers"])
    if controller_ref is not None:
        metadata["ownerReferences"] = [dict(controller_ref)]
    return {"apiVersion": "v1", "kind": "Pod", "metadata": metadata,
            "spec": json.loads(json.dumps(template.get("spec") or {}))}


def _namespace_terminating(error: errors.ApiError) -> bool:
    causes = (error.details or {}).get("causes") or []
    return any(cause.get("reason") == "NamespaceTerminating" for cause in causes)


class PodControl:
    """RealPodControl: creates, deletes and patches pods on behalf of a controller, with its Events."""

    def __init__(self, client: Client, recorder: EventRecorder) -> None:
        self.client = client
        self.recorder = recorder

    def create_pods(self, namespace: str, template: dict, controller: dict, controller_ref: dict) -> dict:
        """Create one pod from ``template`` owned by ``controller``; raises the API error after an Event."""
        pod = pod_from_template(template, controller, controller_ref)
        if not pod["metadata"].get("labels"):
            raise ValueError("unable to create pods, no labels")
        try:
            created = self.client.create(pod, namespace)
        except errors.ApiError as error:
            if not _namespace_terminating(error):
                self.recorder.event(controller, "Warning", FAILED_CREATE, f"Error creating: {error}")
            raise
        self.recorder.event(controller, "Normal", SUCCESSFUL_CREATE, f"Created pod: {created['metadata']['name']}")
        return created

    def delete_pod(self, namespace: str, name: str, controller: dict) -> None:
        """Delete one pod; NotFound is raised without an Event (someone else deleted it first)."""
        try:
            self.client.delete("pods", name, namespace)
        except errors.NotFound:
            log.debug("pod %s/%s has already been deleted", namespace, name)
            raise
        except errors.ApiError as error:
            self.recorder.event(controller, "Warning", FAILED_DELETE, f"Error deleting: {error}")
            raise
        self.recorder.event(controller, "Normal", SUCCESSFUL_DELETE, f"Deleted pod: {name}")

    def patch_pod(self, namespace: str, name: str, patch: dict) -> dict:
        return self.client.patch("pods", name, patch, namespace, patch_type=STRATEGIC_MERGE_PATCH)


# -- the controller-uid index ------------------------------------------------------------

CONTROLLER_UID_INDEX = "controllerUID"
ORPHAN_INDEX_KEY = "_ORPHAN_POD"


def _controller_uid_values(obj: dict) -> list[str]:
    for ref in obj["metadata"].get("ownerReferences") or []:
        if ref.get("controller"):
            return [ref.get("uid", "")]
    return [f"{obj['metadata'].get('namespace', '')}/{ORPHAN_INDEX_KEY}"]


def add_controller_uid_indexer(informer: Any) -> None:
    """AddPodControllerUIDIndexer: index objects by their controller's uid (orphans under ``ns/_ORPHAN_POD``).

    Several controllers share one informer; the index is added once.
    """
    if CONTROLLER_UID_INDEX not in informer.indexer.get_indexers():
        informer.add_indexers({CONTROLLER_UID_INDEX: _controller_uid_values})


def owned_or_orphaned(informer: Any, namespace: str, uid: str) -> list[dict]:
    """The objects controlled by ``uid`` and the orphans of ``namespace``: what an owner may claim."""
    return (informer.indexer.by_index(CONTROLLER_UID_INDEX, uid)
            + informer.indexer.by_index(CONTROLLER_UID_INDEX, f"{namespace}/{ORPHAN_INDEX_KEY}"))
