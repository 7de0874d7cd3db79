"""The DaemonSet controller (``pkg/controller/daemon``): one pod on every eligible node.

For each DaemonSet it works out, node by node (``daemonset_util.should_run``:
nodeSelector, node affinity, taints against the template's tolerations plus
the automatic DaemonSet ones), where a daemon pod should run; it creates the
missing pods (``<ds>-xxxxx``, pinned to their node by a required node
affinity on ``metadata.name`` and placed by the default scheduler, as since
1.12), deletes pods on nodes that no longer qualify, deletes a failed daemon
pod so that it is recreated (event ``FailedDaemonPod``), and keeps at most
one pod per node. Nodes that join get a pod; pods on nodes that leave go.

Updates follow ``updateStrategy``: ``RollingUpdate`` replaces old pods
(``controller-revision-hash`` differs) within ``maxUnavailable``, or with
``maxSurge`` starts the new pod before deleting the old one; ``OnDelete``
waits for the user to delete them. Each distinct template is a
ControllerRevision (``engine.controllers.history``), pruned beyond
``revisionHistoryLimit``. Status: desiredNumberScheduled,
currentNumberScheduled, numberMisscheduled, numberReady, numberAvailable,
updatedNumberScheduled, numberUnavailable, observedGeneration.

It reads only its informers (DaemonSets, ControllerRevisions, pods, nodes)
and writes through the client; expectations keep it from acting twice on a
stale cache.
"""

from __future__ import annotations

import logging
from typing import Any

from engine.api import errors
from engine.api.frozen import thaw
from engine.api.meta import owner_reference
from engine.api.selectors import from_label_selector
from engine.client.cache import DeletedFinalStateUnknown
from engine.client.record import WARNING, EventRecorder
from engine.client.workqueue import WorkQueue, run_workers
from engine.components import ComponentContext
from engine.controllers import daemonset_util as util
from engine.controllers import history as revisions
from engine.controllers.controller_ref_manager import ControllerRefManager, controller_of
from engine.controllers.controller_utils import (
    ControllerExpectations, PodControl, is_pod_available, is_pod_ready, slow_start_batch,
)

log = logging.getLogger(__name__)

BURST_REPLICAS = 250
FAILED_POD_BACKOFF_INITIAL = 1.0
FAILED_POD_BACKOFF_MAX = 15 * 60.0


def target_node(pod: dict) -> str:
    """util.GetTargetNodeName: the pod's node, or the node its pinning affinity names."""
    if (pod.get("spec") or {}).get("nodeName"):
        return pod["spec"]["nodeName"]
    terms = ((((pod.get("spec") or {}).get("affinity") or {}).get("nodeAffinity") or {})
             .get("requiredDuringSchedulingIgnoredDuringExecution") or {}).get("nodeSelectorTerms") or []
    for term in terms:
        for field in term.get("matchFields") or ():
            if field.get("key") == "metadata.name" and field.get("operator") == "In" and len(field.get("values") or
                                                                                               ()) == 1:
                return field["values"][0]
    return ""


def _creation_order(pods: list[dict]) -> list[dict]:
    return sorted(pods, key=lambda p: (p["metadata"].get("creationTimestamp") or "", p["metadata"]["name"]))


class DaemonSetsController:
    """Keeps one pod of each DaemonSet on each node that should run it."""

    name = "daemonset"
    service_account = "daemon-set-controller"

    def __init__(self, context: ComponentContext) -> None:
        self.client = context.client
        self.loop = context.loop
        self.recorder = EventRecorder(context.client, "daemonset-controller")
        self.pod_control = PodControl(context.client, self.recorder)
        self.history = revisions.History(context.client)
        self.expectations = ControllerExpectations(lambda: self.loop.now)
        self.failed_backoff: dict[str, tuple[float, float]] = {}
        self.queue = WorkQueue(context.loop, name="daemonset")
        informers = context.informers
        self.daemonsets = informers.informer("daemonsets")
        self.revisions = informers.informer("controllerrevisions")
        self.pods = informers.informer("pods")
        self.nodes = informers.informer("nodes")
        self.daemonsets.add_event_handler(on_add=self.queue.add_key, on_update=lambda old, new: self.queue.add_key(new),
                                          on_delete=self._daemonset_deleted)
        self.revisions.add_event_handler(on_add=self._owned_changed, on_update=lambda old, new: self._owned_changed(new),
                                         on_delete=self._owned_changed)
        self.pods.add_event_handler(on_add=self._pod_added, on_update=self._pod_updated, on_delete=self._pod_deleted)
        self.nodes.add_event_handler(on_add=lambda node: self._enqueue_all(), on_update=self._node_updated,
                                     on_delete=lambda node: self._enqueue_all())
        self.workers = None

    def start(self) -> None:
        self.workers = run_workers(self.queue, self.sync)

    def stop(self) -> None:
        if self.workers is not None:
            self.workers.stop()

    # -- event handlers ----------------------------------------------------------------
    @staticmethod
    def key_of(obj: dict) -> str:
        return f"{obj['metadata']['namespace']}/{obj['metadata']['name']}"

    def _resolve(self, obj: dict, reference: dict | None = None) -> dict | None:
        reference = reference or controller_of(obj)
        if reference is None or reference.get("kind") != "DaemonSet":
            return None
        ds = self.daemonsets.indexer.get_by_key(f"{obj['metadata']['namespace']}/{reference.get('name')}")
        if ds is None or ds["metadata"].get("uid") != reference.get("uid"):
            return None
        return ds

    def _enqueue_all(self) -> None:
        for ds in self.daemonsets.indexer.list():
            self.queue.add_key(ds)

    def _daemonset_deleted(self, ds: Any) -> None:
        self.queue.add_key(ds)

    def _owned_changed(self, obj: Any) -> None:
        if isinstance(obj, DeletedFinalStateUnknown):
            obj = obj.obj
        ds = self._resolve(obj)
        if ds is not None:
            self.queue.add_key(ds)

    def _pod_added(self, pod: dict) -> None:
        if pod["metadata"].get("deletionTimestamp"):
            self._pod_deleted(pod)
            return
        ds = self._resolve(pod)
        if ds is not None:
            self.expectations.creation_observed(self.key_of(ds))
            self.queue.add_key(ds)

    def _pod_updated(self, old: dict, new: dict) -> None:
        if old["metadata"].get("resourceVersion") == new["metadata"].get("resourceVersion"):
            return
        old_ref, new_ref = controller_of(old), controller_of(new)
        if old_ref is not None and old_ref != new_ref:
            self._owned_changed(old)
        if new["metadata"].get("deletionTimestamp") and not old["metadata"].get("deletionTimestamp"):
            ds = self._resolve(new)
            if ds is not None:
                self.expectations.deletion_observed(self.key_of(ds))
        self._owned_changed(new)

    def _pod_deleted(self, pod: Any) -> None:
        if isinstance(pod, DeletedFinalStateUnknown):
            pod = pod.obj
        ds = self._resolve(pod)
        if ds is not None:
            if not pod["metadata"].get("deletionTimestamp"):
                self.expectations.deletion_observed(self.key_of(ds))
            self.queue.add_key(ds)

    def _node_updated(self, old: dict, new: dict) -> None:
        """shouldIgnoreNodeUpdate: only labels, taints, unschedulable and conditions matter."""
        def relevant(node: dict) -> tuple:
            status = node.get("status") or {}
            return (node["metadata"].get("labels"), (node.get("spec") or {}).get("taints"),
                    (node.get("spec") or {}).get("unschedulable"),
                    [(c.get("type"), c.get("status")) for c in status.get("conditions") or ()])
        if relevant(old) != relevant(new):
            self._enqueue_all()

    # -- sync ------------------------------------------------------------------------
    def sync(self, key: str) -> None:
        """syncDaemonSet: history, then pods per node, then the rolling update, then status."""
        ds = self.daemonsets.indexer.get_by_key(key)
        if ds is None:
            self.expectations.delete(key)
            return
        nodes = sorted(self.nodes.indexer.list(), key=lambda n: n["metadata"]["name"])
        selector = ds["spec"].get("selector") or {}
        if not selector.get("matchLabels") and not selector.get("matchExpressions"):
            self.recorder.event(ds, WARNING, "SelectingAll",
                                "This daemon set is selecting all pods. A non-empty selector is required.")
            return
        if ds["metadata"].get("deletionTimestamp"):
            return
        current, old = self._construct_history(ds)
        hash_ = (current["metadata"].get("labels") or {}).get(revisions.CONTROLLER_REVISION_HASH_LABEL, "")
        if not self.expectations.satisfied(key):
            self._update_status(ds, nodes, hash_, observed=False)
            return
        self._manage(ds, nodes, hash_)
        if self.expectations.satisfied(key):
            strategy = (ds["spec"].get("updateStrategy") or {}).get("type", "RollingUpdate")
            if strategy == "RollingUpdate":
                self._rolling_update(ds, nodes, hash_)
        self._cleanup_history(ds, old)
        self._update_status(ds, nodes, hash_, observed=True)

    def _node_pods(self, ds: dict) -> dict[str, list[dict]]:
        """getNodesToDaemonPods: the DaemonSet's pods (after adoption and release) by target node."""
        manager = ControllerRefManager(self.client, ds, from_label_selector(ds["spec"]["selector"]), "pods",
                                       "daemonsets")
        by_node: dict[str, list[dict]] = {}
        for pod in manager.claim(self.pods.lister.list(ds["metadata"]["namespace"])):
            phase = (pod.get("status") or {}).get("phase")
            if phase in ("Succeeded", "Failed") and pod["metadata"].get("deletionTimestamp"):
                continue
            by_node.setdefault(target_node(pod), []).append(pod)
        return by_node

    def _manage(self, ds: dict, nodes: list[dict], hash_: str) -> None:
        """manage: which nodes need a pod, which pods must go."""
        node_pods = self._node_pods(ds)
        needing: list[str] = []
        doomed: list[str] = []
        for node in nodes:
            create, delete = self._pods_should_be_on_node(node, node_pods, ds, hash_)
            needing += create
            doomed += delete
        names = {node["metadata"]["name"] for node in nodes}
        for node_name, pods in node_pods.items():           # getUnscheduledPodsWithoutNode
            if node_name not in names:
                doomed += [p["metadata"]["name"] for p in pods if not (p.get("spec") or {}).get("nodeName")
                           and not p["metadata"].get("deletionTimestamp")]
        self._sync_nodes(ds, doomed, needing, hash_)

    def _pods_should_be_on_node(self, node: dict, node_pods: dict[str, list[dict]], ds: dict,
                                hash_: str) -> tuple[list[str], list[str]]:
        """podsShouldBeOnNode: ([this node] if it needs a pod, the pods to delete here)."""
        name = node["metadata"]["name"]
        run, keep = util.should_run(node, ds)
        pods = node_pods.get(name)
        if run and not pods:
            return [name], []
        doomed: list[str] = []
        if keep and pods:
            running = []
            for pod in pods:
                if pod["metadata"].get("deletionTimestamp"):
                    continue
                if (pod.get("status") or {}).get("phase") == "Failed":
                    if self._in_failed_backoff(ds, name):
                        continue
                    self.recorder.event(ds, WARNING, "FailedDaemonPod", f"Found failed daemon pod "
                                        f"{pod['metadata']['namespace']}/{pod['metadata']['name']} on node {name}, "
                                        "will try to kill it")
                    doomed.append(pod["metadata"]["name"])
                else:
                    running.append(pod)
            rolling = (ds["spec"].get("updateStrategy") or {}).get("type", "RollingUpdate") == "RollingUpdate"
            surge, _ = util.surge_and_unavailable(ds, 1) if rolling else (0, 0)
            if rolling and surge > 0:
                doomed += util.surge_keep(running, hash_, ds["spec"].get("minReadySeconds") or 0, self.loop.now)
            elif len(running) > 1:
                doomed += [pod["metadata"]["name"] for pod in _creation_order(running)[1:]]
        elif pods:
            doomed += [p["metadata"]["name"] for p in pods if not p["metadata"].get("deletionTimestamp")]
        return [], doomed

    def _in_failed_backoff(self, ds: dict, node_name: str) -> bool:
        """failedPodsBackoff: deleting a failed pod again waits 1 s, doubling up to 15 minutes."""
        key = f"{ds['metadata']['uid']}/{node_name}"
        now = self.loop.now
        delay, last = self.failed_backoff.get(key, (0.0, float("-inf")))
        if delay and now - last < delay:
            self.queue.add_after(self.key_of(ds), delay - (now - last))
            return True
        delay = FAILED_POD_BACKOFF_INITIAL if not delay or now - last > 2 * FAILED_POD_BACKOFF_MAX else min(
            delay * 2, FAILED_POD_BACKOFF_MAX)
        self.failed_backoff[key] = (delay, now)
        return False

    def _sync_nodes(self, ds: dict, doomed: list[str], needing: list[str], hash_: str) -> None:
        """syncNodes: create pods (slow start) pinned to their nodes and delete the doomed ones."""
        key = self.key_of(ds)
        needing, doomed = needing[:BURST_REPLICAS], doomed[:BURST_REPLICAS]
        self.expectations.set(key, len(needing), len(doomed))
        template = util.pod_template(ds, hash_)
        namespace = ds["metadata"]["namespace"]
        queue = list(needing)

        def create_one() -> None:
            node_name = queue.pop(0)
            pod_template = thaw(template)
            spec = pod_template.setdefault("spec", {})
            spec["affinity"] = util.pin_to_node(spec.get("affinity"), node_name)
            try:
                self.pod_control.create_pods(namespace, pod_template, ds, owner_reference(ds))
            except errors.ApiError:
                self.expectations.creation_observed(key)
                raise

        _, error = slow_start_batch(len(needing), 1, create_one)
        for _ in queue:                                       # skipped after a failed batch
            self.expectations.creation_observed(key)
        first_error = error
        for name in doomed:
            try:
                self.pod_control.delete_pod(namespace, name, ds)
            except errors.ApiError as failure:
                self.expectations.deletion_observed(key)
                if not isinstance(failure, errors.NotFound):
                    first_error = first_error or failure
        if first_error is not None:
            raise first_error

    def _rolling_update(self, ds: dict, nodes: list[dict], hash_: str) -> None:
        node_pods = self._node_pods(ds)
        desired = sum(1 for node in nodes if util.should_run(node, ds)[0])
        plan = util.rolling_update_plan(ds, node_pods, hash_, desired, self.loop.now)
        if plan.delete or plan.create_on:
            self._sync_nodes(ds, plan.delete, plan.create_on, hash_)

    # -- history -------------------------------------------------------------------------
    def _construct_history(self, ds: dict) -> tuple[dict, list[dict]]:
        """constructHistory: the current revision (made if new, renumbered if rolled back to) and the old ones."""
        manager = ControllerRefManager(self.client, ds, from_label_selector(ds["spec"]["selector"]),
                                       "controllerrevisions", "daemonsets")
        owned = manager.claim(self.revisions.lister.list(ds["metadata"]["namespace"]))
        wanted = {"data": revisions.revision_data(ds), "metadata": {}}
        current = [r for r in owned if revisions.equal_revision(r, wanted)]
        old = [r for r in owned if r not in current]
        number = revisions.next_revision(old)
        if not current:
            hash_ = revisions.template_hash(ds)
            return self.history.create(ds, revisions.new_revision(ds, number, hash_)), old
        keep = revisions.sort_revisions(current)[-1]
        for duplicate in current:
            if duplicate is not keep:
                self.history.delete(duplicate)
        if int(keep.get("revision") or 0) < number:
            keep = self.history.update_revision(keep, number)
        return keep, old

    def _cleanup_history(self, ds: dict, old: list[dict]) -> None:
        """cleanupHistory: delete the oldest revisions no live pod uses, beyond revisionHistoryLimit."""
        limit = ds["spec"].get("revisionHistoryLimit", 10)
        extra = len(old) - limit
        if extra <= 0:
            return
        live = {(p["metadata"].get("labels") or {}).get(revisions.CONTROLLER_REVISION_HASH_LABEL)
                for pods in self._node_pods(ds).values() for p in pods}
        for revision in revisions.sort_revisions(old):
            if extra <= 0:
                break
            if (revision["metadata"].get("labels") or {}).get(revisions.CONTROLLER_REVISION_HASH_LABEL) in live:
                continue
            self.history.delete(revision)
            extra -= 1

    # -- status ----------------------------------------------------------------------------
    def _update_status(self, ds: dict, nodes: list[dict], hash_: str, *, observed: bool) -> None:
        """updateDaemonSetStatus: count per node; write only what changed."""
        node_pods = self._node_pods(ds)
        now = self.loop.now
        min_ready = ds["spec"].get("minReadySeconds") or 0
        generation = util.template_generation(ds)
        desired = current = misscheduled = ready = updated = available = 0
        for node in nodes:
            run, _ = util.should_run(node, ds)
            pods = node_pods.get(node["metadata"]["name"]) or []
            if run:
                desired += 1
                if not pods:
                    continue
                current += 1
                pod = _creation_order(pods)[0]
                if is_pod_ready(pod):
                    ready += 1
                    available += is_pod_available(pod, min_ready, now)
                updated += util.is_pod_updated(pod, hash_, generation)
            elif pods:
                misscheduled += 1
        status = dict(ds.get("status") or {})
        fresh = {**status, "desiredNumberScheduled": desired, "currentNumberScheduled": current,
                 "numberMisscheduled": misscheduled, "numberReady": ready}
        for name, value in (("updatedNumberScheduled", updated), ("numberAvailable", available),
                            ("numberUnavailable", desired - available)):
            if value:
                fresh[name] = value
            else:
                fresh.pop(name, None)
        if observed:
            fresh["observedGeneration"] = ds["metadata"].get("generation")
        if fresh != status:
            copy = thaw(ds)
            copy["status"] = fresh
            self.client.update_status(copy)
        if min_ready and ready != available:
            self.queue.add_after(self.key_of(ds), float(min_ready))

