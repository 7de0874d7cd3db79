"""The ResourceQuota controller (``pkg/controller/resourcequota``): keeps ``status.used`` current.

For every ResourceQuota it writes ``status.hard`` (a copy of ``spec.hard``)
and ``status.used``: for each resource the quota limits, what the
namespace's objects add up to, named as in ``hard`` (``pods``, ``cpu`` or
``requests.cpu``, ``limits.memory``, ``services.nodeports``,
``count/deployments.apps``, ...), counting pods that are not terminal and
match the quota's scopes (BestEffort, NotBestEffort, Terminating,
NotTerminating). A quota is recalculated when it changes, when an object it
may count changes in its namespace (replenishment: pods, services,
persistent volume claims, config maps, secrets,
quotas), and every ``--resource-quota-sync-period`` (5 min) for the other
kinds. It writes only when the status differs. Enforcement is not here: the
ResourceQuota admission plugin refuses what would exceed ``hard``.
"""

from __future__ import annotations

import logging

from engine import flags
from engine.api import errors
from engine.api.frozen import thaw
from engine.api.kinds import REGISTRY, Kind
from engine.api.qos import qos_class
from engine.api.quantity import Quantity, parse_quantity
from engine.apiserver.admission.resource_quota import usage_of
from engine.client.cache import DeletedFinalStateUnknown
from engine.client.workqueue import WorkQueue, run_workers
from engine.components import ComponentContext
from engine.sim.loop import Timer

log = logging.getLogger(__name__)

COMPUTE_ALIASES = {"cpu": "requests.cpu", "memory": "requests.memory", "ephemeral-storage": "requests.ephemeral-storage"}
REPLENISHED = ("pods", "services", "persistentvolumeclaims", "configmaps", "secrets",
               "resourcequotas")
_POD_RESOURCES = ("pods", "count/pods")
_SERVICE_RESOURCES = ("services", "services.nodeports", "services.loadbalancers", "count/services")
_PVC_RESOURCES = ("persistentvolumeclaims", "requests.storage", "count/persistentvolumeclaims")


def kind_for(resource: str) -> Kind | None:
    """Which kind's objects a quota resource name counts."""
    if resource in _POD_RESOURCES or resource in COMPUTE_ALIASES or resource.startswith(("requests.", "limits.")) \
            and resource != "requests.storage":
        return REGISTRY.lookup("pods")
    if resource in _SERVICE_RESOURCES:
        return REGISTRY.lookup("services")
    if resource in _PVC_RESOURCES:
        return REGISTRY.lookup("persistentvolumeclaims")
    name = resource[len("count/"):] if resource.startswith("count/") else resource
    return REGISTRY.find(name)


def matches_scopes(quota: dict, pod: dict) -> bool:
    checks = {
        "BestEffort": lambda: qos_class(pod) == "BestEffort",
        "NotBestEffort": lambda: qos_class(pod) != "BestEffort",
        "Terminating": lambda: (pod.get("spec") or {}).get("activeDeadlineSeconds") is not None,
        "NotTerminating": lambda: (pod.get("spec") or {}).get("activeDeadlineSeconds") is None,
    }
    return all(checks[scope]() for scope in (quota.get("spec") or {}).get("scopes") or () if scope in checks)


def calculate_used(quota: dict, objects_of) -> dict[str, str]:
    """status.used: each hard resource's usage; ``objects_of(kind)`` lists the namespace's objects of a kind."""
    used: dict[str, str] = {}
    listed: dict[str, list[dict]] = {}
    for resource in sorted((quota.get("spec") or {}).get("hard") or {}):
        kind = kind_for(resource)
        if kind is None:
            continue
        if kind.plural not in listed:
            listed[kind.plural] = objects_of(kind)
        total: Quantity = parse_quantity("0")
        counted = COMPUTE_ALIASES.get(resource, resource)
        for obj in listed[kind.plural]:
            if kind.kind == "Pod" and not matches_scopes(quota, obj):
                continue
            value = usage_of(kind.kind, kind.plural, kind.group, obj).get(counted)
            if value is not None:
                total = total + value
        used[resource] = str(total)
    return used


class ResourceQuotaController:
    """Recalculates each quota's usage when it or what it counts changes."""

    name = "resourcequota"
    service_account = "resourcequota-controller"

    def __init__(self, context: ComponentContext) -> None:
        self.client = context.client
        self.loop = context.loop
        self.queue = WorkQueue(context.loop, name="resourcequota_primary")
        self.quotas = context.informers.informer("resourcequotas")
        self.quotas.add_event_handler(on_add=self.queue.add_key, on_update=lambda old, new: self.queue.add_key(new))
        for resource in REPLENISHED:
            context.informers.informer(resource).on_change(self._replenish)
        self.workers = None
        self.resync_timer: Timer | None = None

    def _replenish(self, obj: object) -> None:
        changed = obj.obj if isinstance(obj, DeletedFinalStateUnknown) else obj
        namespace = changed["metadata"].get("namespace")               # type: ignore[index]
        for quota in self.quotas.lister.list(namespace):
            self.queue.add_key(quota)

    def start(self) -> None:
        self.workers = run_workers(self.queue, self.sync, workers=flags.concurrent_resource_quota_syncs)
        self.resync_timer = self.loop.call_later(flags.resource_quota_sync_period, self._resync, label=self.name)

    def stop(self) -> None:
        if self.workers is not None:
            self.workers.stop()
        if self.resync_timer is not None:
            self.resync_timer.cancel()

    def _resync(self) -> None:
        for quota in self.quotas.indexer.list():
            self.queue.add_key(quota)
        self.resync_timer = self.loop.call_later(flags.resource_quota_sync_period, self._resync, label=self.name)

    def sync(self, key: str) -> None:
        """syncResourceQuota: status.hard from spec, status.used recounted, written if it changed."""
        quota = self.quotas.indexer.get_by_key(key)
        if quota is None:
            return
        namespace = quota["metadata"]["namespace"]

        def objects_of(kind: Kind) -> list[dict]:
            name = f"{kind.plural}.{kind.group}" if kind.group else kind.plural
            return self.client.list(name, namespace if kind.namespaced else None)["items"]

        status = {"hard": dict((quota.get("spec") or {}).get("hard") or {}),
                  "used": calculate_used(quota, objects_of)}
        if (quota.get("status") or {}) == status:
            return
        updated = thaw(quota)
        updated["status"] = status
        try:
            self.client.update_status(updated)
        except errors.NotFound:
            return
