"""The namespace controller (``pkg/controller/namespace``): empties a deleted namespace, then finalizes it.

Deleting a Namespace only marks it (``deletionTimestamp``, phase
``Terminating``); the ``kubernetes`` entry of ``spec.finalizers`` keeps it
until this controller has deleted every namespaced object inside
(``deleteAllContent``: every namespaced resource discovery lists that can be
listed and deleted, custom resources included, in background propagation, so owners' dependents go through the garbage
collector). After each pass it writes the five ``NamespaceDeletion*`` /
``Namespace*Remaining`` conditions as upstream (``SomeResourcesRemain``
"Some resources are remaining: pods. has 2 resource instances", or the
"ok" variants), and while anything remains it looks again after half the
estimate plus a second (pods: their remaining grace period; anything held
by finalizers: 15 s). When nothing is left it removes ``kubernetes``
through ``namespaces/<name>/finalize`` and the API server deletes the
Namespace. It never touches a namespace that is not being deleted.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from engine.api import errors
from engine.api.frozen import thaw
from engine.client.discovery import APIResource, server_preferred_resources
from engine.api.meta import parse_timestamp, timestamp
from engine.client.workqueue import WorkQueue, run_workers
from engine.components import ComponentContext

log = logging.getLogger(__name__)

FINALIZER = "kubernetes"
FINALIZER_ESTIMATE_SECONDS = 15
CONDITION_TYPES = ("NamespaceDeletionDiscoveryFailure", "NamespaceDeletionGroupVersionParsingFailure",
                   "NamespaceDeletionContentFailure", "NamespaceContentRemaining", "NamespaceFinalizersRemaining")
OK_REASONS = {
    "NamespaceDeletionDiscoveryFailure": ("ResourcesDiscovered", "All resources successfully discovered"),
    "NamespaceDeletionGroupVersionParsingFailure": ("ParsedGroupVersions", "All legacy kube types successfully parsed"),
    "NamespaceDeletionContentFailure": ("ContentDeleted",
                                        "All content successfully deleted, may be waiting on finalization"),
    "NamespaceContentRemaining": ("ContentRemoved", "All content successfully removed"),
    "NamespaceFinalizersRemaining": ("ContentHasNoFinalizers", "All content-preserving finalizers finished"),
}


class ContentRemaining(Exception):
    """ResourcesRemainingError: some objects are still going; look again after ``estimate`` / 2 + 1 seconds."""

    def __init__(self, estimate: int) -> None:
        super().__init__(f"some content remains in the namespace, estimate {estimate} seconds before it is removed")
        self.estimate = estimate


@dataclass
class Remaining:
    """allGVRDeletionMetadata: what is still there, per resource and per finalizer."""

    by_resource: dict[str, int] = field(default_factory=dict)     # "pods." -> count
    by_finalizer: dict[str, int] = field(default_factory=dict)


def deletable_kinds(kinds: list[APIResource]) -> list[APIResource]:
    """The namespaced resources the controller can list and delete, in a stable order."""
    return sorted((k for k in kinds if k.namespaced and "list" in k.verbs and "delete" in k.verbs),
                  key=lambda k: (k.group, k.plural))


def pod_grace_estimate(pods: list[dict], now: float) -> int:
    """estimateGracefulTerminationForPods: the longest grace period a pod still has."""
    estimate = 0
    for pod in pods:
        if (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed"):
            continue
        meta = pod["metadata"]
        grace = meta.get("deletionGracePeriodSeconds")
        if grace is None:
            grace = (pod.get("spec") or {}).get("terminationGracePeriodSeconds", 30)
        if meta.get("deletionTimestamp"):
            grace = max(0, int(parse_timestamp(meta["deletionTimestamp"]) - now))
        estimate = max(estimate, int(grace))
    return estimate


def content_conditions(remaining: Remaining, old: list[dict], now: float) -> list[dict]:
    """namespaceConditionUpdater.Update: the five conditions, keeping an unchanged one's transition time."""
    failing: dict[str, tuple[str, str, str]] = {}
    resources = sorted(f"{name} has {count} resource instances" for name, count in remaining.by_resource.items()
                       if count)
    if resources:
        failing["NamespaceContentRemaining"] = ("True", "SomeResourcesRemain",
                                                "Some resources are remaining: " + ", ".join(resources))
    finalizers = sorted(f"{name} in {count} resource instances" for name, count in remaining.by_finalizer.items()
                        if count)
    if finalizers:
        failing["NamespaceFinalizersRemaining"] = (
            "True", "SomeFinalizersRemain",
            "Some content in the namespace has finalizers remaining: " + ", ".join(finalizers))
    previous = {c.get("type"): c for c in old}
    conditions = []
    for type_ in CONDITION_TYPES:
        status, reason, message = failing.get(type_, ("False", *OK_REASONS[type_]))
        before = previous.get(type_)
        if before and (before.get("status"), before.get("reason"), before.get("message")) == (status, reason, message):
            conditions.append(dict(before))
        else:
            conditions.append({"type": type_, "status": status, "lastTransitionTime": timestamp(now),
                               "reason": reason, "message": message})
    return conditions


class NamespaceController:
    """Deletes everything in a Terminating namespace, then lets the namespace go."""

    name = "namespace"
    service_account = "namespace-controller"

    def __init__(self, context: ComponentContext) -> None:
        self.client = context.client
        self.loop = context.loop
        self.queue = WorkQueue(context.loop, name="namespace")
        self.namespaces = context.informers.informer("namespaces")
        self.namespaces.add_event_handler(on_add=self._enqueue, on_update=lambda old, new: self._enqueue(new))
        self.workers = None

    def _enqueue(self, namespace: dict) -> None:
        if namespace["metadata"].get("deletionTimestamp"):
            self.queue.add_key(namespace)

    def start(self) -> None:
        self.workers = run_workers(self.queue, self._sync_with_retry)

    def stop(self) -> None:
        if self.workers is not None:
            self.workers.stop()

    def _sync_with_retry(self, key: str) -> None:
        try:
            self.sync(key)
        except ContentRemaining as remaining:
            self.queue.add_after(key, remaining.estimate / 2 + 1)

    def sync(self, name: str) -> None:
        """namespacedResourcesDeleter.Delete."""
        try:
            namespace = self.client.get("namespaces", name)
        except errors.NotFound:
            return
        if not namespace["metadata"].get("deletionTimestamp"):
            return
        if FINALIZER not in ((namespace.get("spec") or {}).get("finalizers") or ()):
            return
        estimate = self.delete_all_content(namespace)
        if estimate > 0:
            raise ContentRemaining(estimate)
        fresh = thaw(self.client.get("namespaces", name))
        fresh["spec"]["finalizers"] = [f for f in fresh["spec"].get("finalizers") or () if f != FINALIZER]
        try:
            self.client.update(fresh, subresource="finalize")
        except errors.NotFound:
            return

    def delete_all_content(self, namespace: dict) -> int:
        """deleteAllContent: delete every kind's objects, count what is left, write the conditions."""
        name = namespace["metadata"]["name"]
        remaining = Remaining()
        estimate = 0
        for kind in deletable_kinds(server_preferred_resources(self.client)):    # discovery, asked each pass
            left, kind_estimate = self._delete_kind(kind, name, remaining)
            if left:
                remaining.by_resource[f"{kind.plural}.{kind.group}"] = left
            estimate = max(estimate, kind_estimate)
        conditions = content_conditions(remaining, (namespace.get("status") or {}).get("conditions") or [],
                                        self.loop.now)
        if conditions != (namespace.get("status") or {}).get("conditions"):
            updated = thaw(namespace)
            updated.setdefault("status", {})["conditions"] = conditions
            try:
                self.client.update_status(updated)
            except errors.ApiError as error:
                log.info("namespace %s: status update failed: %s", name, error)
        return estimate

    def _delete_kind(self, kind: APIResource, namespace: str, remaining: Remaining) -> tuple[int, int]:
        """deleteAllContentForGroupVersionResource: delete, list again, estimate how long the rest takes."""
        try:
            items = self.client.list(kind.resource, namespace)["items"]
        except (errors.NotFound, errors.MethodNotAllowed, errors.Forbidden):
            return 0, 0
        for obj in items:
            if obj["metadata"].get("deletionTimestamp"):
                continue
            try:
                self.client.delete(kind.resource, obj["metadata"]["name"], namespace, propagation_policy="Background")
            except (errors.NotFound, errors.Conflict):
                continue
        try:
            left = self.client.list(kind.resource, namespace)["items"]
        except errors.NotFound:                  # its CRD went while we deleted
            return 0, 0
        if not left:
            return 0, 0
        for obj in left:
            for finalizer in obj["metadata"].get("finalizers") or ():
                remaining.by_finalizer[finalizer] = remaining.by_finalizer.get(finalizer, 0) + 1
        estimate = pod_grace_estimate(left, self.loop.now) if kind.kind == "Pod" and kind.group == "" else 0
        return len(left), estimate or FINALIZER_ESTIMATE_SECONDS
