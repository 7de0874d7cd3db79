"""The service controller (``k8s.io/cloud-provider/controllers/service``): cloud load balancers for Services.

A Service of ``type: LoadBalancer`` (and no ``spec.loadBalancerClass``)
gets a load balancer from the cloud, listening on each Service port and
sending to that port's ``nodePort`` on the cluster's nodes. ``sync(key)``
follows ``syncLoadBalancerIfNeeded``:

- the Service wants a load balancer: add the finalizer
  ``service.kubernetes.io/load-balancer-cleanup`` first (so the Service
  cannot vanish before its cloud resources do), event
  ``EnsuringLoadBalancer`` "Ensuring load balancer", ``EnsureLoadBalancer``
  with the eligible nodes, event ``EnsuredLoadBalancer`` "Ensured load
  balancer", and write ``status.loadBalancer.ingress`` (the address);
- it no longer does (deleted, or its type changed) and has the finalizer:
  ``DeletingLoadBalancer`` "Deleting load balancer", ``EnsureLoadBalancerDeleted``,
  clear the status, remove the finalizer, ``DeletedLoadBalancer``
  "Deleted load balancer";
- a failure records ``SyncLoadBalancerFailed`` "Error syncing load balancer:
  failed to ensure load balancer: <error>" and the key is retried with the
  controller's own backoff: 5 s doubling to 5 min (``minRetryDelay``,
  ``maxRetryDelay``), so a throttled or failing cloud is not hammered.

Eligible nodes (``StableLoadBalancerNodeSet``, GA in 1.30): not being
deleted, without the ``node.kubernetes.io/exclude-from-external-load-balancers``
label, and with a providerID (an uninitialised node is not yet a target).
When that set changes, and every ``nodeSyncPeriod`` (100 s), the node sync
calls ``UpdateLoadBalancer`` for each load balancer whose targets differ
("UpdatedLoadBalancer" "Updated load balancer with new hosts"), retrying the
failed ones.

A lab's seam: the option ``service_reconcile`` (a callable
``reconcile(controller, service)``) replaces ``syncLoadBalancerIfNeeded`` and
its error event for every Service still in the cache. It may use the
controller's ``client``, ``recorder``, ``provider`` (``provider.cloud``: the
cloud's own API) and ``nodes`` informer; an exception it raises is retried with
the backoff above. With it, the node sync simply queues every LoadBalancer
Service for it, and a Service that vanished without the finalizer is
forgotten (its load balancer leaks, as a controller without the finalizer
would leak it).
"""

from __future__ import annotations

import logging

from typing import Any, Callable

from engine import flags
from engine.api import errors
from engine.client.record import NORMAL, WARNING, EventRecorder
from engine.client.workqueue import ItemExponentialFailureRateLimiter, WorkQueue, run_workers
from engine.cloud.provider import CloudError
from engine.components import ComponentContext
from engine.sim.loop import Timer

log = logging.getLogger(__name__)

LOAD_BALANCER_CLEANUP_FINALIZER = "service.kubernetes.io/load-balancer-cleanup"
EXCLUDE_LABEL = "node.kubernetes.io/exclude-from-external-load-balancers"
NODE_SYNC_KEY = "node-sync"


class SyncError(Exception):
    """A sync failed; the message is what the SyncLoadBalancerFailed event says after "Error syncing load balancer: "."""


def wants_load_balancer(service: dict) -> bool:
    spec = service.get("spec") or {}
    return spec.get("type") == "LoadBalancer" and spec.get("loadBalancerClass") is None


def has_finalizer(service: dict) -> bool:
    return LOAD_BALANCER_CLEANUP_FINALIZER in (service["metadata"].get("finalizers") or ())


def needs_cleanup(service: dict) -> bool:
    """The load balancer must go: the Service is being deleted or no longer wants one, and has the finalizer."""
    if not has_finalizer(service):
        return False
    return service["metadata"].get("deletionTimestamp") is not None or not wants_load_balancer(service)


def eligible_node(node: dict) -> bool:
    """stableNodeSetPredicates: not being deleted, not excluded, has a providerID."""
    return (node["metadata"].get("deletionTimestamp") is None
            and EXCLUDE_LABEL not in (node["metadata"].get("labels") or {})
            and bool((node.get("spec") or {}).get("providerID")))


def needs_update(old: dict, new: dict) -> bool:
    """needsUpdate: what a load balancer is made from changed (its own status and finalizer writes are not)."""
    return (wants_load_balancer(old) != wants_load_balancer(new) or old.get("spec") != new.get("spec")
            or old["metadata"].get("annotations") != new["metadata"].get("annotations")
            or old["metadata"].get("labels") != new["metadata"].get("labels")
            or old["metadata"].get("uid") != new["metadata"].get("uid"))


class ServiceController:
    """Ensures, updates and deletes cloud load balancers for type=LoadBalancer Services."""

    name = "service"
    service_account = "service-controller"

    def __init__(self, context: ComponentContext) -> None:
        self.client = context.client
        self.loop = context.loop
        self.provider = context.options["provider"]
        self.services = context.informers.informer("services")
        self.nodes = context.informers.informer("nodes")
        self.queue = WorkQueue(context.loop, name="service", rate_limiter=ItemExponentialFailureRateLimiter(
            flags.service_min_retry_delay, flags.service_max_retry_delay))
        self.node_queue = WorkQueue(context.loop, name="service-node-sync",
                                    rate_limiter=ItemExponentialFailureRateLimiter(
                                        flags.service_min_retry_delay, flags.service_max_retry_delay))
        self.services.add_event_handler(on_add=self._added, on_update=self._updated, on_delete=self._deleted)
        self.nodes.add_event_handler(on_add=self._node_changed, on_update=self._node_updated,
                                     on_delete=self._node_changed)
        self.recorder = EventRecorder(self.client, "service-controller")
        self.cache: dict[str, dict] = {}
        """Services whose load balancer was ensured, by key (to delete one whose Service vanished)."""
        self.targets: dict[str, list[str]] = {}
        """The node names each ensured load balancer targets (for the node sync)."""
        self.workers = None
        self.node_workers = None
        self._timer: Timer | None = None
        self.reconcile: Callable[[Any, dict], None] | None = context.options.get("service_reconcile")
        """The lab's seam (see the module docstring), or None: the controller's own sync."""

    # -- events ----------------------------------------------------------------------------
    def _added(self, service: dict) -> None:
        if wants_load_balancer(service) or needs_cleanup(service):
            self.queue.add_key(service)

    def _updated(self, old: dict, new: dict) -> None:
        if needs_update(old, new) or needs_cleanup(new):
            self.queue.add_key(new)

    def _deleted(self, service: dict) -> None:
        self.queue.add_key(service)

    def _node_changed(self, _node: dict) -> None:
        self.node_queue.add(NODE_SYNC_KEY)

    def _node_updated(self, old: dict, new: dict) -> None:
        if eligible_node(old) != eligible_node(new):
            self.node_queue.add(NODE_SYNC_KEY)

    def start(self) -> None:
        self.workers = run_workers(self.queue, self.sync, flags.concurrent_service_syncs)
        self.node_workers = run_workers(self.node_queue, self.sync_nodes)
        self._timer = self.loop.call_later(flags.service_node_sync_period, self._periodic_node_sync,
                                           label="service node sync")

    def stop(self) -> None:
        for workers in (self.workers, self.node_workers):
            if workers is not None:
                workers.stop()
        if self._timer is not None:
            self._timer.cancel()

    def _periodic_node_sync(self) -> None:
        self.node_queue.add(NODE_SYNC_KEY)
        self._timer = self.loop.call_later(flags.service_node_sync_period, self._periodic_node_sync,
                                           label="service node sync")

    # -- the sync ----------------------------------------------------------------------------
    def sync(self, key: str) -> None:
        """syncService: ensure or delete the key's load balancer; an error is retried with backoff."""
        service = self.services.indexer.get_by_key(key)
        if service is None:
            cached = self.cache.pop(key, None)
            if cached is not None:
                self._delete_vanished(key, cached)
            return
        if self.reconcile is not None:
            self.reconcile(self, service)
            return
        try:
            self._sync_load_balancer(key, service)
        except (SyncError, CloudError, errors.ApiError) as error:
            self.recorder.event(service, WARNING, "SyncLoadBalancerFailed", f"Error syncing load balancer: {error}")
            raise

    def _sync_load_balancer(self, key: str, service: dict) -> None:
        if not wants_load_balancer(service) or needs_cleanup(service):
            if not has_finalizer(service) and key not in self.cache:
                return
            if self.provider.get_load_balancer(service) is not None:
                self.recorder.event(service, NORMAL, "DeletingLoadBalancer", "Deleting load balancer")
                self.provider.ensure_load_balancer_deleted(service)
            self._set_finalizer(service, present=False)
            self.cache.pop(key, None)
            self.targets.pop(key, None)
            self.recorder.event(service, NORMAL, "DeletedLoadBalancer", "Deleted load balancer")
            if service["metadata"].get("deletionTimestamp") is None:
                self._patch_status(service, {})     # last, as upstream: it moves the resourceVersion on
            return
        self.recorder.event(service, NORMAL, "EnsuringLoadBalancer", "Ensuring load balancer")
        self._set_finalizer(service, present=True)
        nodes = self._eligible_nodes()
        if not nodes:
            self.recorder.event(service, WARNING, "UnAvailableLoadBalancer",
                                "There are no available nodes for LoadBalancer")
        try:
            status = self.provider.ensure_load_balancer(service, nodes)
        except CloudError as error:
            raise SyncError(f"failed to ensure load balancer: {error}") from error
        self.cache[key] = service
        self.targets[key] = [n["metadata"]["name"] for n in nodes]
        self.recorder.event(service, NORMAL, "EnsuredLoadBalancer", "Ensured load balancer")
        self._patch_status(service, status)

    def _delete_vanished(self, key: str, service: dict) -> None:
        """processLoadBalancerDelete for a Service deleted without the finalizer."""
        self.recorder.event(service, NORMAL, "DeletingLoadBalancer", "Deleting load balancer")
        try:
            self.provider.ensure_load_balancer_deleted(service)
        except CloudError as error:
            self.recorder.event(service, WARNING, "DeleteLoadBalancerFailed", f"Error deleting load balancer: {error}")
            self.cache[key] = service
            raise
        self.targets.pop(key, None)
        self.recorder.event(service, NORMAL, "DeletedLoadBalancer", "Deleted load balancer")

    def _eligible_nodes(self) -> list[dict]:
        return sorted((n for n in self.nodes.lister.list() if eligible_node(n)), key=lambda n: n["metadata"]["name"])

    def _set_finalizer(self, service: dict, *, present: bool) -> None:
        finalizers = list(service["metadata"].get("finalizers") or ())
        if (LOAD_BALANCER_CLEANUP_FINALIZER in finalizers) == present:
            return
        if present:
            finalizers.append(LOAD_BALANCER_CLEANUP_FINALIZER)
        else:
            finalizers.remove(LOAD_BALANCER_CLEANUP_FINALIZER)
        metadata = service["metadata"]
        try:
            self.client.patch("services", metadata["name"], {"metadata": {
                "finalizers": finalizers or None, "resourceVersion": metadata["resourceVersion"]}},
                metadata.get("namespace"))
        except errors.NotFound:
            if present:
                raise

    def _patch_status(self, service: dict, status: dict) -> None:
        if ((service.get("status") or {}).get("loadBalancer") or {}) == status:
            return
        load_balancer = status if status else {"ingress": None}
        self.client.patch("services", service["metadata"]["name"], {"status": {"loadBalancer": load_balancer}},
                          service["metadata"].get("namespace"), subresource="status")

    # -- the node sync -----------------------------------------------------------------------
    def sync_nodes(self, _key: str) -> None:
        """nodeSyncInternal: point every load balancer at the current eligible nodes; retry the failures."""
        if self.reconcile is not None:
            for service in self.services.lister.list():
                if wants_load_balancer(service):
                    self.queue.add_key(service)
            return
        nodes = self._eligible_nodes()
        names = [n["metadata"]["name"] for n in nodes]
        failed = []
        for key in sorted(self.cache):
            service = self.services.indexer.get_by_key(key)
            if service is None or not wants_load_balancer(service) or self.targets.get(key) == names:
                continue
            try:
                self.provider.update_load_balancer(service, nodes)
            except CloudError as error:
                self.recorder.event(service, WARNING, "UpdateLoadBalancerFailed",
                                    f"Error updating load balancer with new hosts {names[:5]} [node names "
                                    f"limited, total number of nodes: {len(names)}], error: {error}")
                failed.append(key)
                continue
            self.targets[key] = names
            self.recorder.event(service, NORMAL, "UpdatedLoadBalancer", "Updated load balancer with new hosts")
        if failed:
            raise CloudError("NodeSyncFailed", f"failed to update load balancers {failed}")
