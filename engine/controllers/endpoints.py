"""The Endpoints controller (``pkg/controller/endpoint``): the legacy ``v1`` Endpoints of a Service.

For every Service with a selector the controller writes one Endpoints
object of the Service's name: the selected pods with an IP, ready ones
under ``addresses`` and the others under ``notReadyAddresses`` (all under
``addresses`` with ``publishNotReadyAddresses``, which also keeps
terminating pods), each with its ``nodeName``, ``targetRef`` and, when the
pod's subdomain is this Service, its hostname; one port entry per Service
port the pod resolves (named targetPorts looked up per pod); a headless
Service without ports lists bare addresses. Subsets are repacked as
``RepackSubsets`` does (addresses offering the same ports share a subset,
sorted), labels are the Service's plus ``service.kubernetes.io/headless``
for a headless one, and more than 1000 addresses are truncated with the
``endpoints.kubernetes.io/over-capacity: truncated`` annotation. It writes
only when something changed; it deletes the Endpoints when the Service is
deleted, and leaves selector-less Services' Endpoints to their owner.
"""

from __future__ import annotations

import logging
import math

from engine import flags
from engine.api import errors
from engine.api.frozen import thaw
from engine.api.meta import split_key
from engine.api.selectors import from_set
from engine.client.cache import DeletedFinalStateUnknown
from engine.client.record import EventRecorder
from engine.client.workqueue import WorkQueue, run_workers
from engine.components import ComponentContext
from engine.controllers.controller_utils import is_pod_ready
from engine.controllers.endpoint_util import (PortNotFound, find_port, is_headless, pod_ips, services_for_pod,
                                              should_pod_be_in_endpoints, should_set_hostname, target_ref)

log = logging.getLogger(__name__)

HEADLESS_LABEL = "service.kubernetes.io/headless"
OVER_CAPACITY_ANNOTATION = "endpoints.kubernetes.io/over-capacity"


def endpoint_address(pod: dict, service: dict) -> dict | None:
    """podToEndpointAddressForService: the pod's IP of the Service's family, its node and reference."""
    ipv6 = ((service.get("spec") or {}).get("ipFamilies") or ["IPv4"])[0] == "IPv6"
    ips = [ip for ip in pod_ips(pod) if (":" in ip) == ipv6]
    if not ips:
        return None
    address: dict = {"ip": ips[0]}
    if should_set_hostname(pod, service):
        address["hostname"] = pod["spec"]["hostname"]
    if (pod.get("spec") or {}).get("nodeName"):
        address["nodeName"] = pod["spec"]["nodeName"]
    address["targetRef"] = target_ref(pod)
    return address


def _port_key(port: dict) -> tuple:
    return (port.get("name", ""), port["port"], port.get("protocol", "TCP"), port.get("appProtocol", ""))


def repack_subsets(entries: list[tuple[dict, bool, list[dict] | None]]) -> list[dict]:
    """RepackSubsets: (address, ready, ports) entries regrouped so addresses with the same ports share a subset."""
    by_port: dict[tuple, dict[tuple, tuple[dict, bool]]] = {}
    for address, ready, ports in entries:
        address_key = (address["ip"], address.get("targetRef", {}).get("uid", ""))
        for port in ports or [None]:
            port_key = _port_key(port) if port else ()          # the "no ports" sentinel
            by_port.setdefault(port_key, {})[address_key] = (address, ready)
    by_addresses: dict[tuple, tuple[dict, list[tuple]]] = {}
    for port_key, addresses in by_port.items():
        addresses_key = tuple(sorted((k, ready) for k, (_, ready) in addresses.items()))
        _, ports = by_addresses.setdefault(addresses_key, (addresses, []))
        if port_key:
            ports.append(port_key)
    subsets = []
    for addresses, ports in by_addresses.values():
        ordered = sorted(addresses.items())
        subset: dict = {}
        ready = [address for _, (address, is_ready) in ordered if is_ready]
        not_ready = [address for _, (address, is_ready) in ordered if not is_ready]
        if ready:
            subset["addresses"] = ready
        if not_ready:
            subset["notReadyAddresses"] = not_ready
        if ports:
            subset["ports"] = [_port_from_key(key) for key in sorted(ports)]
        subsets.append(subset)
    return sorted(subsets, key=lambda s: [a["ip"] for a in s.get("addresses", []) + s.get("notReadyAddresses", [])])


def _port_from_key(key: tuple) -> dict:
    name, number, protocol, app_protocol = key
    port = {"name": name, "port": number, "protocol": protocol} if name else {"port": number, "protocol": protocol}
    if app_protocol:
        port["appProtocol"] = app_protocol
    return port


def desired_subsets(service: dict, pods: list[dict]) -> list[dict]:
    """The Service's subsets from its pods, as syncService computes them."""
    spec = service.get("spec") or {}
    tolerate_unready = bool(spec.get("publishNotReadyAddresses"))
    entries: list[tuple[dict, bool, list[dict] | None]] = []
    for pod in sorted(pods, key=lambda p: p["metadata"]["name"]):
        if not should_pod_be_in_endpoints(pod, include_terminating=tolerate_unready):
            continue
        address = endpoint_address(pod, service)
        if address is None:
            continue
        ready = tolerate_unready or is_pod_ready(pod)
        if not spec.get("ports"):
            if is_headless(service):
                entries.append((address, ready, None))
            continue
        ports = []
        for service_port in spec["ports"]:
            try:
                number = find_port(pod, service_port)
            except PortNotFound:
                continue
            port = {"name": service_port.get("name", ""), "port": number,
                    "protocol": service_port.get("protocol") or "TCP"}
            if service_port.get("appProtocol"):
                port["appProtocol"] = service_port["appProtocol"]
            ports.append(port)
        if ports:
            entries.append((address, ready, ports))
    return repack_subsets(entries)


def truncate(subsets: list[dict], limit: int = flags.max_endpoints_per_endpoints) -> bool:
    """truncateEndpoints: cut to ``limit`` addresses, not-ready ones first, each subset its rounded-up share."""
    total_ready = sum(len(s.get("addresses", ())) for s in subsets)
    total_not_ready = sum(len(s.get("notReadyAddresses", ())) for s in subsets)
    if total_ready + total_not_ready <= limit:
        return False
    truncate_ready = total_ready > limit
    budget, of_total = (limit, total_ready) if truncate_ready else (limit - total_ready, total_not_ready)
    field_name = "addresses" if truncate_ready else "notReadyAddresses"
    can_be_added = budget
    for subset in subsets:
        addresses = subset.get(field_name) or []
        to_be_added = min(math.ceil(len(addresses) / of_total * budget), can_be_added)
        kept = addresses[:to_be_added]
        subset.pop(field_name, None)
        if kept:
            subset[field_name] = kept
        if truncate_ready:
            subset.pop("notReadyAddresses", None)
        can_be_added -= len(kept)
    return True


class EndpointsController:
    """Keeps each selecting Service's Endpoints object in step with its pods."""

    name = "endpoint"
    service_account = "endpoint-controller"

    def __init__(self, context: ComponentContext) -> None:
        self.client = context.client
        self.queue = WorkQueue(context.loop, name="endpoint")
        self.recorder = EventRecorder(context.client, "endpoint-controller")
        self.services = context.informers.informer("services")
        self.pods = context.informers.informer("pods")
        self.endpoints = context.informers.informer("endpoints")
        self.services.on_change(self._enqueue)
        self.pods.add_event_handler(on_add=self._pod_changed, on_update=self._pod_changed,
                                    on_delete=self._pod_changed)
        self.workers = None

    def _enqueue(self, obj: object) -> None:
        self.queue.add_key(obj.obj if isinstance(obj, DeletedFinalStateUnknown) else obj)   # type: ignore[arg-type]

    def _pod_changed(self, *versions: object) -> None:
        pods = [v.obj if isinstance(v, DeletedFinalStateUnknown) else v for v in versions]
        namespace = pods[-1]["metadata"]["namespace"]                # type: ignore[index]
        for service in services_for_pod(self.services.lister.list(namespace), *pods):   # type: ignore[arg-type]
            self.queue.add_key(service)

    def start(self) -> None:
        self.workers = run_workers(self.queue, self.sync, workers=flags.concurrent_endpoint_syncs)

    def stop(self) -> None:
        if self.workers is not None:
            self.workers.stop()

    def sync(self, key: str) -> None:
        """syncService: compute the subsets, write the Endpoints if they changed."""
        namespace, name = split_key(key)
        service = self.services.indexer.get_by_key(key)
        if service is None:
            try:
                self.client.delete("endpoints", name, namespace)
            except errors.NotFound:
                pass
            return
        if (service.get("spec") or {}).get("selector") is None:
            return
        pods = self.pods.lister.list(namespace, from_set(service["spec"]["selector"]))
        subsets = desired_subsets(service, pods)
        current = self.endpoints.indexer.get_by_key(key)
        new = thaw(current) if current is not None else {
            "apiVersion": "v1", "kind": "Endpoints", "metadata": {"name": name, "namespace": namespace}}
        annotations = dict(new["metadata"].get("annotations") or {})
        if truncate(subsets):
            annotations[OVER_CAPACITY_ANNOTATION] = "truncated"
        else:
            annotations.pop(OVER_CAPACITY_ANNOTATION, None)
        labels = dict(service["metadata"].get("labels") or {})
        labels.pop(HEADLESS_LABEL, None)
        if is_headless(service):
            labels[HEADLESS_LABEL] = ""
        if current is not None and (current.get("subsets") or []) == subsets \
                and (current["metadata"].get("labels") or {}) == labels \
                and (current["metadata"].get("annotations") or {}) == annotations:
            return
        new["metadata"]["labels"] = labels
        new["metadata"]["annotations"] = annotations
        if not annotations:
            del new["metadata"]["annotations"]
        new.pop("subsets", None)
        if subsets:
            new["subsets"] = subsets
        try:
            if current is None:
                self.client.create(new, namespace)
            else:
                self.client.update(new)
        except errors.AlreadyExists:
            return
        except errors.Forbidden as error:
            if current is None and "being terminated" in str(error):
                return
            raise
        except errors.ApiError as error:
            if not isinstance(error, errors.Conflict):
                self.recorder.eventf(new, "Warning", "FailedToUpdateEndpoint", "Failed to update endpoint %v: %v",
                                     key, error)
            raise
