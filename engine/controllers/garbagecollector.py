"""The garbage collector (``pkg/controller/garbagecollector``): dependents follow their owners.

The ``GraphBuilder`` watches every resource discovery lists that can be
listed, watched and deleted (Events excepted), custom resources included,
and keeps a graph of uids: each object's owners
(its ``ownerReferences``) and dependents. An owner referenced but not seen
is a *virtual* node, checked against the API server. Two queues act on it:

- ``attemptToDelete``: an object whose owners may all be gone. Owners are
  looked up live (``classifyReferences``): with any *solid* owner left, the
  references to absent (dangling) owners or owners being deleted in the
  foreground are removed; otherwise the object is deleted, in the
  foreground if an owner waits for it and it has dependents of its own
  (background deletion and dangling references end here).
- Foreground deletion: an owner deleted with ``propagationPolicy:
  Foreground`` carries the ``foregroundDeletion`` finalizer; its dependents
  are deleted, and the finalizer is removed (so the owner goes) once no
  dependent with ``blockOwnerDeletion: true`` is left.
- ``attemptToOrphan``: an owner deleted with ``Orphan`` carries the
  ``orphan`` finalizer; its dependents lose their references to it, then
  the finalizer is removed.

Discovery is read again every 30 s (``garbageCollector.Sync``): a resource a
new CustomResourceDefinition serves gets a monitor (an informer), one whose
CRD is gone loses it. Owner references are resolved through the same
discovery (the REST mapper), read again when a reference names a kind it
does not know. An owner that exists but whose resource is not monitored yet
is looked at again with the queue's backoff until its monitor reports it.

It only ever deletes objects, removes owner references and removes these
two finalizers; it never creates anything.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from engine.api import errors
from engine.api.frozen import thaw
from engine.client.cache import DeletedFinalStateUnknown
from engine.client.discovery import APIResource, deletable_resources, server_preferred_resources
from engine.client.workqueue import WorkQueue, run_workers
from engine.components import ComponentContext

log = logging.getLogger(__name__)

FOREGROUND = "foregroundDeletion"
ORPHAN = "orphan"
IGNORED = {("", "events"), ("events.k8s.io", "events")}
DISCOVERY_RESYNC_SECONDS = 30.0
"""How often the collector reads discovery again for resources to monitor (kube-controller-manager's 30 s)."""


@dataclass
class Node:
    """One object of the graph (``node``), or a virtual one known only from a reference."""

    uid: str
    api_version: str
    kind: str
    name: str
    namespace: str | None
    owners: list[dict] = field(default_factory=list)
    dependents: set[str] = field(default_factory=set)
    being_deleted: bool = False
    deleting_dependents: bool = False
    virtual: bool = False

    def blocking_dependents(self, graph: dict[str, "Node"]) -> list["Node"]:
        """Dependents whose reference to this node says ``blockOwnerDeletion: true``."""
        found = []
        for uid in sorted(self.dependents):
            dependent = graph.get(uid)
            if dependent is not None and any(ref.get("uid") == self.uid and ref.get("blockOwnerDeletion")
                                             for ref in dependent.owners):
                found.append(dependent)
        return found


def monitored_kinds(kinds: list[APIResource]) -> list[APIResource]:
    """GetDeletableResources minus the ignored ones: what the graph builder watches."""
    return [k for k in kinds if {"list", "watch", "delete"} <= set(k.verbs)
            and (k.group, k.plural) not in IGNORED]


class NotObserved(Exception):
    """An owner exists but its resource has no monitor yet: look again later (with the queue's backoff)."""


def classify_references(refs: list[dict], lookup) -> tuple[list[dict], list[dict], list[dict]]:
    """classifyReferences: (solid, dangling, waitingForDependentsDeletion) owner references.

    ``lookup(ref)`` returns the owner as the API server has it, or None if it is absent.
    """
    solid, dangling, waiting = [], [], []
    for ref in refs:
        owner = lookup(ref)
        if owner is None or owner["metadata"].get("uid") != ref.get("uid"):
            dangling.append(ref)
        elif owner["metadata"].get("deletionTimestamp") and FOREGROUND in (owner["metadata"].get("finalizers") or ()):
            waiting.append(ref)
        else:
            solid.append(ref)
    return solid, dangling, waiting


def deletion_policy(obj: dict) -> str:
    """The propagation policy to delete a dependent with: what its own finalizers ask, else Background."""
    finalizers = obj["metadata"].get("finalizers") or ()
    if ORPHAN in finalizers:
        return "Orphan"
    if FOREGROUND in finalizers:
        return "Foreground"
    return "Background"


class GarbageCollector:
    """Deletes dependents whose owners are gone, and carries out foreground and orphan deletion."""

    name = "garbage-collector-controller"
    service_account = "generic-garbage-collector"

    def __init__(self, context: ComponentContext) -> None:
        self.client = context.client
        self.graph: dict[str, Node] = {}
        self.attempt_to_delete = WorkQueue(context.loop, name="garbage_collector_attempt_to_delete")
        self.attempt_to_orphan = WorkQueue(context.loop, name="garbage_collector_attempt_to_orphan")
        self.loop = context.loop
        self.informers = context.informers
        self.monitors: dict[APIResource, object] = {}
        """Each monitored resource's informer (``monitors`` in the GraphBuilder)."""
        self.mapping: dict[tuple[str, str], APIResource] = {}
        """(apiVersion, kind) -> resource: the REST mapper, from the last discovery read."""
        self._resync_timer = None
        self.sync_monitors()
        self.workers: list = []

    def start(self) -> None:
        self.workers = [run_workers(self.attempt_to_delete, self.attempt_to_delete_item),
                        run_workers(self.attempt_to_orphan, self.attempt_to_orphan_item)]
        self._resync_timer = self.loop.call_later(DISCOVERY_RESYNC_SECONDS, self._resync,
                                                  label="garbage collector discovery")

    def stop(self) -> None:
        for workers in self.workers:
            workers.stop()
        if self._resync_timer is not None:
            self._resync_timer.cancel()
            self._resync_timer = None

    # -- monitors (GraphBuilder.syncMonitors) -------------------------------------------------------
    def sync_monitors(self) -> None:
        """Monitor every deletable resource discovery lists now; forget those no longer served."""
        resources = monitored_kinds(deletable_resources(self.client))
        self.mapping = {(r.api_version, r.kind): r for r in server_preferred_resources(self.client)}
        for resource in resources:
            if resource not in self.monitors:
                informer = self.informers.informer(resource.resource)
                informer.add_event_handler(on_add=self._observe, on_update=lambda old, new: self._observe(new),
                                           on_delete=self._observe_deletion)
                self.monitors[resource] = informer
        for resource in [r for r in self.monitors if r not in resources]:
            informer = self.monitors.pop(resource)
            informer.stop()
            for key, shared in list(self.informers.informers.items()):
                if shared is informer:
                    del self.informers.informers[key]

    def _resync(self) -> None:
        self._resync_timer = self.loop.call_later(DISCOVERY_RESYNC_SECONDS, self._resync,
                                                  label="garbage collector discovery")
        before = set(self.monitors)
        self.sync_monitors()
        if set(self.monitors) - before:
            self.informers.start()

    def _kind_of(self, ref: dict) -> APIResource | None:
        """The REST mapping of a reference's apiVersion and kind; discovery is read again on a miss."""
        key = (ref.get("apiVersion", ""), ref.get("kind", ""))
        if key not in self.mapping:
            self.mapping = {(r.api_version, r.kind): r for r in server_preferred_resources(self.client)}
        return self.mapping.get(key)

    # -- the graph builder (processGraphChanges) -------------------------------------------------
    def _observe(self, obj: dict) -> None:
        meta = obj["metadata"]
        uid = meta["uid"]
        owners = [dict(ref) for ref in meta.get("ownerReferences") or ()]
        node = self.graph.get(uid)
        if node is None:
            node = Node(uid, obj.get("apiVersion", ""), obj.get("kind", ""), meta["name"], meta.get("namespace"))
            self.graph[uid] = node
            self._add_to_owners(node, owners)
        else:
            node.virtual = False
            node.api_version, node.kind, node.name = obj.get("apiVersion", ""), obj.get("kind", ""), meta["name"]
            node.namespace = meta.get("namespace")
            old_uids = {ref["uid"] for ref in node.owners}
            new_uids = {ref["uid"] for ref in owners}
            self._add_to_owners(node, [ref for ref in owners if ref["uid"] not in old_uids])
            for ref in node.owners:
                owner = self.graph.get(ref["uid"])
                if owner is None:
                    continue
                if ref["uid"] not in new_uids:
                    owner.dependents.discard(uid)
                if owner.deleting_dependents:     # a removed or unblocked reference may free the owner
                    self.attempt_to_delete.add(owner.uid)
        node.owners = owners
        node.being_deleted = bool(meta.get("deletionTimestamp"))
        finalizers = meta.get("finalizers") or ()
        if node.being_deleted and ORPHAN in finalizers:
            self.attempt_to_orphan.add(uid)
        if node.being_deleted and FOREGROUND in finalizers:
            node.deleting_dependents = True
            for dependent in sorted(node.dependents):
                self.attempt_to_delete.add(dependent)
            self.attempt_to_delete.add(uid)

    def _add_to_owners(self, node: Node, refs: list[dict]) -> None:
        for ref in refs:
            owner = self.graph.get(ref["uid"])
            if owner is None:
                kind = self._kind_of(ref)
                namespace = node.namespace if kind is None or kind.namespaced else None
                owner = Node(ref["uid"], ref.get("apiVersion", ""), ref.get("kind", ""), ref.get("name", ""),
                             namespace, virtual=True)
                self.graph[owner.uid] = owner
                self.attempt_to_delete.add(owner.uid)
            owner.dependents.add(node.uid)

    def _observe_deletion(self, obj: object) -> None:
        deleted = obj.obj if isinstance(obj, DeletedFinalStateUnknown) else obj
        self._remove(deleted["metadata"]["uid"])       # type: ignore[index]

    def _remove(self, uid: str) -> None:
        """The object is gone: its dependents may now be garbage, owners waiting on it may go."""
        node = self.graph.pop(uid, None)
        if node is None:
            return
        for ref in node.owners:
            owner = self.graph.get(ref["uid"])
            if owner is not None:
                owner.dependents.discard(uid)
                if owner.deleting_dependents:
                    self.attempt_to_delete.add(owner.uid)
        for dependent in sorted(node.dependents):
            self.attempt_to_delete.add(dependent)

    # -- attemptToDeleteItem ---------------------------------------------------------------------
    def _get(self, node_or_ref: Node | dict, namespace: str | None = None) -> dict | None:
        if isinstance(node_or_ref, Node):
            api_version, kind_name, name = node_or_ref.api_version, node_or_ref.kind, node_or_ref.name
            namespace = node_or_ref.namespace
        else:
            api_version, kind_name, name = (node_or_ref.get("apiVersion", ""), node_or_ref.get("kind", ""),
                                            node_or_ref.get("name", ""))
        kind = self._kind_of({"apiVersion": api_version, "kind": kind_name})
        if kind is None:
            raise LookupError(f"unable to get REST mapping for {api_version}/{kind_name}")
        try:
            return self.client.get(kind.resource, name, namespace if kind.namespaced else None)
        except errors.NotFound:
            return None

    def attempt_to_delete_item(self, uid: str) -> None:
        node = self.graph.get(uid)
        if node is None:
            return
        latest = self._get(node)
        if latest is None or latest["metadata"].get("uid") != uid:
            self._remove(uid)                          # absent: as if its delete event had been seen
            return
        if node.virtual:
            kind = self._kind_of({"apiVersion": node.api_version, "kind": node.kind})
            if kind is not None and kind not in self.monitors:
                raise NotObserved(f"{node.kind} {node.name} exists but is not monitored yet")
            return                                      # it exists: the informer will report it
        if latest["metadata"].get("deletionTimestamp") and not node.deleting_dependents:
            return
        if node.deleting_dependents:
            self._process_deleting_dependents(node, latest)
            return
        refs = list(latest["metadata"].get("ownerReferences") or ())
        if not refs:
            return
        solid, dangling, waiting = classify_references(refs, lambda ref: self._get(ref, node.namespace))
        if solid:
            gone = {ref["uid"] for ref in dangling + waiting}
            if gone:
                self._remove_owner_references(latest, gone)
            return
        if waiting and node.dependents:
            # A dependent also deleting its dependents may close a cycle: only then unblock (upstream's check).
            if any(self.graph[uid].deleting_dependents for uid in node.dependents if uid in self.graph):
                self._unblock_owner_references(latest, {ref["uid"] for ref in waiting})
            self._delete(node, latest, "Foreground")
            return
        self._delete(node, latest, deletion_policy(latest))

    def _process_deleting_dependents(self, node: Node, latest: dict) -> None:
        """processDeletingDependentsItem: drop the foregroundDeletion finalizer once no dependent blocks."""
        blocking = node.blocking_dependents(self.graph)
        if not blocking:
            self._remove_finalizer(latest, FOREGROUND)
            return
        for dependent in blocking:
            if not dependent.being_deleted:
                self.attempt_to_delete.add(dependent.uid)

    def _delete(self, node: Node, latest: dict, policy: str) -> None:
        kind = self._kind_of(latest)
        assert kind is not None
        log.info("garbage collector: deleting %s %s/%s (propagationPolicy=%s)", node.kind, node.namespace,
                 node.name, policy)
        try:
            self.client.delete(kind.resource, node.name,
                               node.namespace if kind.namespaced else None, propagation_policy=policy,
                               preconditions={"uid": node.uid})
        except errors.NotFound:
            pass

    # -- patches -----------------------------------------------------------------------------------
    def _write(self, obj: dict) -> None:
        try:
            self.client.update(obj)
        except errors.NotFound:
            pass

    def _remove_owner_references(self, latest: dict, uids: set[str]) -> None:
        updated = thaw(latest)
        updated["metadata"]["ownerReferences"] = [ref for ref in updated["metadata"].get("ownerReferences") or ()
                                                  if ref.get("uid") not in uids]
        if not updated["metadata"]["ownerReferences"]:
            del updated["metadata"]["ownerReferences"]
        self._write(updated)

    def _unblock_owner_references(self, latest: dict, uids: set[str]) -> None:
        updated = thaw(latest)
        for ref in updated["metadata"].get("ownerReferences") or ():
            if ref.get("uid") in uids:
                ref["blockOwnerDeletion"] = False
        self._write(updated)

    def _remove_finalizer(self, latest: dict, finalizer: str) -> None:
        updated = thaw(latest)
        updated["metadata"]["finalizers"] = [f for f in updated["metadata"].get("finalizers") or ()
                                             if f != finalizer]
        self._write(updated)

    # -- attemptToOrphan -------------------------------------------------------------------------
    def attempt_to_orphan_item(self, uid: str) -> None:
        """orphanDependents, then the orphan finalizer off the owner."""
        node = self.graph.get(uid)
        if node is None:
            return
        for dependent_uid in sorted(node.dependents):
            dependent = self.graph.get(dependent_uid)
            if dependent is None:
                continue
            latest = self._get(dependent)
            if latest is not None and latest["metadata"].get("uid") == dependent_uid:
                self._remove_owner_references(latest, {uid})
        owner = self._get(node)
        if owner is not None and owner["metadata"].get("uid") == uid:
            self._remove_finalizer(owner, ORPHAN)

