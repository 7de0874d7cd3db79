"""The EndpointSlice controller (``pkg/controller/endpointslice``): a Service's pods as EndpointSlices.

For every Service with a selector (not ExternalName) the controller keeps
``discovery.k8s.io/v1`` EndpointSlices listing the selected pods that have
an IP and are not terminal: one endpoint per pod (its IPv4 address, the
conditions ready / serving / terminating, nodeName, the node's zone,
targetRef, hostname when the pod's subdomain is this Service), in slices of
at most ``--max-endpoints-per-slice`` (100) grouped by the ports the pod
resolves (a named targetPort is looked up per pod). Slices are named
``<service>-<random>`` (generateName), owned by the Service, labelled
``kubernetes.io/service-name`` and ``endpointslice.kubernetes.io/managed-by:
endpointslice-controller.k8s.io``; a Service with no endpoints keeps one
empty placeholder slice. The reconciler (``reconcile``, pure) changes as few
slices as it can: endpoints are updated in place, removed ones dropped,
new ones fill slices already being updated, then the fullest slice that
can take them all, then new slices; creates reuse slices that would be
deleted. A tracker of the generations it wrote refuses to act on a cache
that has not yet seen its own writes. Slices of a deleted Service go with
the garbage collector, as upstream.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field

from engine import flags
from engine.api import errors
from engine.api.frozen import thaw
from engine.api.meta import owner_reference, split_key
from engine.api.selectors import from_set
from engine.client.cache import DeletedFinalStateUnknown
from engine.client.record import EventRecorder
from engine.client.workqueue import WorkQueue, default_controller_rate_limiter, run_workers
from engine.components import ComponentContext
from engine.controllers.controller_utils import is_pod_ready
from engine.controllers.endpoint_util import (PortNotFound, find_port, is_headless, pod_ips, services_for_pod,
                                              should_pod_be_in_endpoints, should_set_hostname, target_ref)

log = logging.getLogger(__name__)

CONTROLLER_NAME = "endpointslice-controller.k8s.io"
MANAGED_BY_LABEL = "endpointslice.kubernetes.io/managed-by"
SERVICE_NAME_LABEL = "kubernetes.io/service-name"
HEADLESS_LABEL = "service.kubernetes.io/headless"
ZONE_LABEL = "topology.kubernetes.io/zone"


class StaleInformerCache(Exception):
    """The EndpointSlice cache has not caught up with this controller's own writes: retry later."""


# -- desired state ---------------------------------------------------------------------------

def address_type(service: dict) -> str:
    families = (service.get("spec") or {}).get("ipFamilies") or ["IPv4"]
    return families[0]


def endpoint_ports(service: dict, pod: dict) -> list[dict]:
    """getEndpointPorts: every Service port this pod resolves (named targetPorts looked up in the pod)."""
    ports = []
    for service_port in (service.get("spec") or {}).get("ports") or ():
        try:
            number = find_port(pod, service_port)
        except PortNotFound:
            continue
        port = {"name": service_port.get("name", ""), "port": number,
                "protocol": service_port.get("protocol") or "TCP"}
        if service_port.get("appProtocol"):
            port["appProtocol"] = service_port["appProtocol"]
        ports.append(port)
    return ports


def pod_to_endpoint(pod: dict, service: dict, node: dict | None, family: str = "IPv4") -> dict | None:
    """podToEndpoint: the endpoint of one pod (None when it has no address of the slice's family)."""
    ipv6 = family == "IPv6"
    addresses = [ip for ip in pod_ips(pod) if (":" in ip) == ipv6]
    if not addresses:
        return None
    serving = is_pod_ready(pod)
    terminating = pod["metadata"].get("deletionTimestamp") is not None
    # "ready" is never true for a terminating pod unless publishNotReadyAddresses says so.
    ready = bool((service.get("spec") or {}).get("publishNotReadyAddresses")) or (serving and not terminating)
    endpoint: dict = {"addresses": addresses[:1],
                      "conditions": {"ready": ready, "serving": serving, "terminating": terminating}}
    if should_set_hostname(pod, service):
        endpoint["hostname"] = pod["spec"]["hostname"]
    if (pod.get("spec") or {}).get("nodeName"):
        endpoint["nodeName"] = pod["spec"]["nodeName"]
    endpoint["targetRef"] = target_ref(pod)
    zone = ((node or {}).get("metadata") or {}).get("labels", {}).get(ZONE_LABEL)
    if zone:
        endpoint["zone"] = zone
    return endpoint


def ports_key(ports: list[dict] | None) -> str:
    return json.dumps(sorted(ports or (), key=lambda p: (p.get("name", ""), p.get("port", 0))), sort_keys=True)


def endpoint_key(endpoint: dict) -> str:
    """hashEndpoint: an endpoint's identity (its pod, addresses and hostname), not its conditions."""
    ref = endpoint.get("targetRef") or {}
    return json.dumps([ref.get("namespace"), ref.get("name"), sorted(endpoint.get("addresses") or ()),
                       endpoint.get("hostname")])


@dataclass
class DesiredGroup:
    ports: list[dict]
    endpoints: dict[str, dict] = field(default_factory=dict)   # endpoint_key -> endpoint, in pod order


def desired_state(service: dict, pods: list[dict], nodes: dict[str, dict]) -> dict[str, DesiredGroup]:
    """The endpoints the Service should have, grouped by the ports they resolve."""
    family = address_type(service)
    groups: dict[str, DesiredGroup] = {}
    for pod in sorted(pods, key=lambda p: p["metadata"]["name"]):
        if not should_pod_be_in_endpoints(pod, include_terminating=True):
            continue
        endpoint = pod_to_endpoint(pod, service, nodes.get((pod.get("spec") or {}).get("nodeName") or ""), family)
        if endpoint is None:
            continue
        ports = endpoint_ports(service, pod)
        group = groups.setdefault(ports_key(ports), DesiredGroup(ports))
        group.endpoints[endpoint_key(endpoint)] = endpoint
    return groups


def slice_labels(service: dict) -> dict[str, str]:
    """setEndpointSliceLabels: the Service's labels plus the controller's own."""
    reserved = (SERVICE_NAME_LABEL, MANAGED_BY_LABEL, HEADLESS_LABEL)
    labels = {k: v for k, v in (service["metadata"].get("labels") or {}).items() if k not in reserved}
    if is_headless(service):
        labels[HEADLESS_LABEL] = ""
    labels[SERVICE_NAME_LABEL] = service["metadata"]["name"]
    labels[MANAGED_BY_LABEL] = CONTROLLER_NAME
    return labels


def new_slice(service: dict, ports: list[dict] | None, endpoints: list[dict] | None) -> dict:
    """newEndpointSlice: generateName ``<service>-``, owned by the Service (a controller reference)."""
    meta = service["metadata"]
    owner = owner_reference({"apiVersion": "v1", "kind": "Service", "metadata": meta})
    return {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
            "metadata": {"generateName": f"{meta['name'][:57]}-", "namespace": meta["namespace"],
                         "labels": slice_labels(service), "ownerReferences": [owner]},
            "addressType": address_type(service), "endpoints": endpoints, "ports": ports}


# -- the reconciler --------------------------------------------------------------------------

@dataclass
class Plan:
    create: list[dict] = field(default_factory=list)
    update: list[dict] = field(default_factory=list)
    delete: list[dict] = field(default_factory=list)


def _is_placeholder(slice_: dict) -> bool:
    return not slice_.get("endpoints") and not slice_.get("ports")


def _reconcile_group(service: dict, group: DesiredGroup, existing: list[dict], plan: Plan,
                     max_per_slice: int) -> None:
    """reconcileByPortMapping: update, drop and fill this port group's slices."""
    remaining = dict(group.endpoints)
    updating: list[dict] = []
    unchanged: list[dict] = []
    labels = slice_labels(service)
    for slice_ in existing:
        kept, changed = [], False
        for endpoint in slice_.get("endpoints") or ():
            wanted = remaining.pop(endpoint_key(endpoint), None)
            changed = changed or wanted != endpoint
            if wanted is not None:
                kept.append(wanted)
        if not kept:
            plan.delete.append(slice_)
        elif changed or (slice_["metadata"].get("labels") or {}) != labels:
            updated = thaw(slice_)
            updated["endpoints"], updated["metadata"]["labels"] = kept, dict(labels)
            updating.append(updated)
        else:
            unchanged.append(slice_)
    pending = list(remaining.values())
    for updated in updating:                       # 1. fill slices that are being written anyway
        room = max_per_slice - len(updated["endpoints"])
        updated["endpoints"].extend(pending[:room])
        pending = pending[room:]
    if pending and len(pending) < max_per_slice:   # 2. the fullest unchanged slice that takes them all
        fits = [s for s in unchanged if len(s.get("endpoints") or ()) + len(pending) <= max_per_slice]
        if fits:
            target = thaw(max(fits, key=lambda s: len(s.get("endpoints") or ())))
            target["endpoints"].extend(pending)
            updating.append(target)
            pending = []
    while pending:                                  # 3. new slices
        plan.create.append(new_slice(service, group.ports, pending[:max_per_slice]))
        pending = pending[max_per_slice:]
    plan.update.extend(updating)


def reconcile(service: dict, existing: list[dict], desired: dict[str, DesiredGroup],
              max_per_slice: int = flags.max_endpoints_per_slice) -> Plan:
    """The creates, updates and deletes that bring the Service's slices to ``desired``."""
    plan = Plan()
    uid = service["metadata"]["uid"]
    by_ports: dict[str, list[dict]] = {}
    for slice_ in sorted(existing, key=lambda s: s["metadata"]["name"]):
        owned = any(ref.get("uid") == uid for ref in slice_["metadata"].get("ownerReferences") or ())
        if owned and slice_.get("addressType") == address_type(service):
            by_ports.setdefault(ports_key(slice_.get("ports")), []).append(slice_)
        else:
            plan.delete.append(slice_)
    for key, group in desired.items():
        _reconcile_group(service, group, by_ports.get(key, []), plan, max_per_slice)
    for key, slices in by_ports.items():
        if key not in desired:
            plan.delete.extend(slices)
    if len(existing) == len(plan.delete) and not plan.create:
        if len(plan.delete) == 1 and _is_placeholder(plan.delete[0]) \
                and plan.delete[0]["metadata"].get("labels") == slice_labels(service):
            plan.delete = []
        else:
            plan.create.append(new_slice(service, None, None))
    # finalize: a slice about to be created takes the place of one about to be deleted.
    while plan.create and plan.delete:
        reused, created = thaw(plan.delete.pop()), plan.create.pop()
        for field_name in ("addressType", "endpoints", "ports"):
            reused[field_name] = created[field_name]
        reused["metadata"]["labels"] = created["metadata"]["labels"]
        reused["metadata"]["ownerReferences"] = created["metadata"]["ownerReferences"]
        plan.update.append(reused)
    return plan


# -- the controller --------------------------------------------------------------------------

class SliceTracker:
    """endpointSliceTracker: the resourceVersion of every slice this controller last wrote, per Service."""

    DELETED = -1

    def __init__(self) -> None:
        self.written: dict[str, dict[str, int]] = {}

    def record(self, service_uid: str, slice_: dict, deleted: bool = False) -> None:
        version = self.DELETED if deleted else int(slice_["metadata"]["resourceVersion"])
        self.written.setdefault(service_uid, {})[slice_["metadata"]["uid"]] = version

    def stale(self, service_uid: str, cached: list[dict]) -> bool:
        """StaleSlices: the cache misses a slice we wrote, holds an older one, or one we deleted."""
        written = self.written.get(service_uid, {})
        seen = {s["metadata"]["uid"]: int(s["metadata"]["resourceVersion"]) for s in cached}
        for uid, version in list(written.items()):
            if version == self.DELETED:
                if uid in seen:
                    return True
                del written[uid]
            elif seen.get(uid, -1) < version:
                return True
        return False

    def forget(self, service_uid: str) -> None:
        self.written.pop(service_uid, None)


class EndpointSliceController:
    """Keeps each selecting Service's EndpointSlices in step with its pods."""

    name = "endpointslice"
    service_account = "endpointslice-controller"

    def __init__(self, context: ComponentContext) -> None:
        self.client = context.client
        self.queue = WorkQueue(context.loop, name="endpoint_slice",
                               rate_limiter=default_controller_rate_limiter(context.loop))
        self.recorder = EventRecorder(context.client, "endpoint-slice-controller")
        self.tracker = SliceTracker()
        self.services = context.informers.informer("services")
        self.pods = context.informers.informer("pods")
        self.nodes = context.informers.informer("nodes")
        self.slices = context.informers.informer("endpointslices")
        self.services.add_event_handler(on_add=self.queue.add_key,
                                        on_update=lambda old, new: self.queue.add_key(new),
                                        on_delete=self._service_deleted)
        self.pods.add_event_handler(on_add=self._pod_changed, on_update=self._pod_changed,
                                    on_delete=self._pod_changed)
        self.slices.on_change(self._slice_changed)
        self.workers = None

    def _service_deleted(self, obj: object) -> None:
        service = obj.obj if isinstance(obj, DeletedFinalStateUnknown) else obj
        self.tracker.forget(service["metadata"].get("uid", ""))      # type: ignore[index]
        self.queue.add_key(service)                                  # type: ignore[arg-type]

    def _pod_changed(self, *versions: object) -> None:
        pods = [v.obj if isinstance(v, DeletedFinalStateUnknown) else v for v in versions]
        namespace = pods[-1]["metadata"]["namespace"]                # type: ignore[index]
        for service in services_for_pod(self.services.lister.list(namespace), *pods):   # type: ignore[arg-type]
            self.queue.add_key(service)

    def _slice_changed(self, obj: object) -> None:
        slice_ = obj.obj if isinstance(obj, DeletedFinalStateUnknown) else obj
        labels = slice_["metadata"].get("labels") or {}                # type: ignore[index]
        if labels.get(MANAGED_BY_LABEL) == CONTROLLER_NAME and labels.get(SERVICE_NAME_LABEL):
            self.queue.add(f"{slice_['metadata']['namespace']}/{labels[SERVICE_NAME_LABEL]}")   # type: ignore[index]

    def start(self) -> None:
        self.workers = run_workers(self.queue, self.sync, workers=flags.concurrent_service_endpoint_syncs)

    def stop(self) -> None:
        if self.workers is not None:
            self.workers.stop()

    def sync(self, key: str) -> None:
        """syncService: list the Service's pods and slices, reconcile, write the plan."""
        service = self.services.indexer.get_by_key(key)
        spec = (service or {}).get("spec") or {}
        if service is None or spec.get("type") == "ExternalName" or spec.get("selector") is None \
                or service["metadata"].get("deletionTimestamp"):
            return
        namespace, name = split_key(key)
        pods = self.pods.lister.list(namespace, from_set(spec["selector"]))
        existing = self.slices.lister.list(namespace, f"{SERVICE_NAME_LABEL}={name},"
                                                      f"{MANAGED_BY_LABEL}={CONTROLLER_NAME}")
        uid = service["metadata"]["uid"]
        if self.tracker.stale(uid, existing):
            raise StaleInformerCache(f"EndpointSlice informer cache is out of date for {key}")
        nodes = {node["metadata"]["name"]: node for node in self.nodes.indexer.list()}
        plan = reconcile(service, existing, desired_state(service, pods, nodes))
        try:
            for slice_ in plan.create:
                self.tracker.record(uid, self.client.create(slice_, namespace))
            for slice_ in plan.update:
                self.tracker.record(uid, self.client.update(slice_))
            for slice_ in plan.delete:
                try:
                    self.client.delete("endpointslices", slice_["metadata"]["name"], namespace)
                except errors.NotFound:
                    pass
                self.tracker.record(uid, slice_, deleted=True)
        except errors.ApiError as error:
            if not isinstance(error, errors.Conflict):
                self.recorder.eventf(service, "Warning", "FailedToUpdateEndpointSlices",
                                     "Error updating Endpoint Slices for Service %s: %v", key, error)
            raise
