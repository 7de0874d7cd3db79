"""Service IP and NodePort allocation, done by the API server when a Service is created.

The real kube-apiserver hands each Service a ClusterIP from
``--service-cluster-ip-range`` and each NodePort/LoadBalancer port a number
from ``--service-node-port-range``, picking at random among free values and
refusing a requested value that is taken or out of range. The first address
of the range is reserved for the ``kubernetes`` Service (10.96.0.1) and the
network and broadcast addresses are never given out. A ``type:
LoadBalancer`` Service with ``externalTrafficPolicy: Local`` also gets a
``spec.healthCheckNodePort`` from the same node port range (kube-proxy
serves its health check there): a requested one is reserved, or refused with
upstream's 500 ``failed to allocate requested HealthCheck NodePort``; it is
given when a Service starts needing one on update and given back when it
stops needing it or is deleted. Allocation state is rebuilt from the
Services in the watch cache, so it never disagrees with what is stored.
"""

from __future__ import annotations

import ipaddress
import random
from typing import Callable, Iterable

from engine import flags
from engine.api import errors


class AllocationError(ValueError):
    """A requested IP or port cannot be had; the message is the real API server's."""


class ClusterIPAllocator:
    """Hands out IPs of the service CIDR, at random among the free ones (seeded)."""

    def __init__(self, rng: random.Random, cidr: str = flags.service_cluster_ip_range) -> None:
        self.network = ipaddress.ip_network(cidr)
        self.rng = rng
        self.used: set[str] = set()

    @property
    def first(self) -> str:
        """The address the ``kubernetes`` Service gets (10.96.0.1)."""
        return str(self.network.network_address + 1)

    def allocate(self, requested: str | None = None) -> str:
        if requested:
            try:
                address = ipaddress.ip_address(requested)
            except ValueError as error:
                raise AllocationError(f"failed to allocate IP {requested}: {error}") from None
            if address not in self.network or address in (self.network.network_address,
                                                           self.network.broadcast_address):
                raise AllocationError(f"failed to allocate IP {requested}: the provided IP ({requested}) "
                                      f"is not in the valid range. The range of valid IPs is {self.network}")
            if requested in self.used:
                raise AllocationError(f"failed to allocate IP {requested}: provided IP is already allocated")
            self.used.add(requested)
            return requested
        size = self.network.num_addresses - 2
        if len(self.used) >= size:
            raise AllocationError("failed to allocate a serviceIP: range is full")
        while True:
            # Skip the first address: it belongs to the kubernetes Service.
            candidate = str(self.network.network_address + 2 + self.rng.randrange(size - 1))
            if candidate not in self.used:
                self.used.add(candidate)
                return candidate

    def release(self, address: str) -> None:
        self.used.discard(address)


class NodePortAllocator:
    """Hands out ports of the node port range, at random among the free ones (seeded)."""

    def __init__(self, rng: random.Random, port_range: tuple[int, int] = flags.service_node_port_range) -> None:
        self.low, self.high = port_range
        self.rng = rng
        self.used: set[int] = set()

    def allocate(self, requested: int | None = None) -> int:
        if requested:
            if not self.low <= requested <= self.high:
                raise AllocationError(f"provided port is not in the valid range. The range of valid ports "
                                      f"is {self.low}-{self.high}")
            if requested in self.used:
                raise AllocationError("provided port is already allocated")
            self.used.add(requested)
            return requested
        if len(self.used) > self.high - self.low:
            raise AllocationError("range is full")
        while True:
            candidate = self.low + self.rng.randrange(self.high - self.low + 1)
            if candidate not in self.used:
                self.used.add(candidate)
                return candidate

    def release(self, port: int) -> None:
        self.used.discard(port)


def needs_health_check(spec: dict) -> bool:
    """apiservice.NeedsHealthCheck: a LoadBalancer Service whose external traffic stays on local endpoints."""
    return spec.get("type") == "LoadBalancer" and spec.get("externalTrafficPolicy") == "Local"


class ServiceAllocator:
    """A Service's ClusterIP and node ports: given on create, kept on update, given back on delete."""

    def __init__(self, rng: random.Random) -> None:
        self.cluster_ips = ClusterIPAllocator(rng)
        self.node_ports = NodePortAllocator(rng)

    def rebuild(self, services: Iterable[dict]) -> None:
        """Mark as used what stored Services already hold (the API server starting on existing data)."""
        for service in services:
            spec = service.get("spec", {})
            for address in spec.get("clusterIPs") or ([spec["clusterIP"]] if spec.get("clusterIP") else []):
                if address != "None":
                    self.cluster_ips.used.add(address)
            for port in spec.get("ports") or []:
                if port.get("nodePort"):
                    self.node_ports.used.add(port["nodePort"])
            if spec.get("healthCheckNodePort"):
                self.node_ports.used.add(spec["healthCheckNodePort"])

    def allocate(self, service: dict) -> Callable[[], None]:
        """Fill in ``spec.clusterIP(s)`` and node ports; 422 naming the field when a value can't be had.

        Returns how to give back what was taken, for when the create fails after this.
        """
        spec = service.setdefault("spec", {})
        name = service["metadata"]["name"]
        taken_ip: list[str] = []
        taken_ports: list[int] = []

        def release() -> None:
            for address in taken_ip:
                self.cluster_ips.release(address)
            for port in taken_ports:
                self.node_ports.release(port)
        try:
            if spec.get("type") != "ExternalName" and spec.get("clusterIP") != "None":
                address = self.cluster_ips.allocate(spec.get("clusterIP") or None)
                taken_ip.append(address)
                spec["clusterIP"] = address
                spec["clusterIPs"] = [address]
                spec.setdefault("ipFamilies", ["IPv4"])
            elif spec.get("clusterIP") == "None":
                spec["clusterIPs"] = ["None"]
            if spec.get("type") in ("NodePort", "LoadBalancer"):
                for index, port in enumerate(spec.get("ports") or []):
                    try:
                        port["nodePort"] = self.node_ports.allocate(port.get("nodePort"))
                    except AllocationError as error:
                        raise errors.invalid("Service", name, [{
                            "reason": "FieldValueInvalid", "field": f"spec.ports[{index}].nodePort",
                            "message": f"Invalid value: {port.get('nodePort')}: {error}"}]) from None
                    taken_ports.append(port["nodePort"])
            if needs_health_check(spec):
                taken_ports.append(self._health_check_node_port(spec))
        except AllocationError as error:
            release()
            raise errors.invalid("Service", name, [{
                "reason": "FieldValueInvalid", "field": "spec.clusterIPs",
                "message": f"Invalid value: []string{{\"{spec.get('clusterIP')}\"}}: {error}"}]) from None
        except BaseException:
            release()
            raise
        return release

    def _health_check_node_port(self, spec: dict) -> int:
        """allocHealthCheckNodePort: reserve the requested port or take any free one; a 500 if it can't be had."""
        requested = spec.get("healthCheckNodePort") or None
        try:
            spec["healthCheckNodePort"] = self.node_ports.allocate(requested)
        except AllocationError as error:
            message = (f"failed to allocate requested HealthCheck NodePort {requested}: {error}" if requested
                       else f"failed to allocate a HealthCheck NodePort 0: {error}")
            raise errors.ApiError(f"Internal error occurred: {message}",
                                  details={"causes": [{"message": message}]}) from None
        return spec["healthCheckNodePort"]

    def allocate_update(self, new: dict, old: dict) -> Callable[[], None]:
        """An updated Service's node ports (allocateUpdate): a port of a NodePort or LoadBalancer Service that
        holds none of the old ones gets one (the one it names, or a free one); 422 naming the field when it can't.

        Returns how to give back what was taken, for when the update fails after this; once it is
        stored, ``release_unused(new, old)`` gives back the old node ports the Service no longer holds.
        """
        spec = new.get("spec") or {}
        held = {port.get("nodePort") for port in (old.get("spec") or {}).get("ports") or [] if port.get("nodePort")}
        taken: list[int] = []

        def release() -> None:
            for port in taken:
                self.node_ports.release(port)
        if spec.get("type") in ("NodePort", "LoadBalancer"):
            for index, port in enumerate(spec.get("ports") or []):
                if port.get("nodePort") and port["nodePort"] in held:
                    continue
                try:
                    port["nodePort"] = self.node_ports.allocate(port.get("nodePort"))
                except AllocationError as error:
                    release()
                    raise errors.invalid("Service", new["metadata"]["name"], [{
                        "reason": "FieldValueInvalid", "field": f"spec.ports[{index}].nodePort",
                        "message": f"Invalid value: {port.get('nodePort')}: {error}"}]) from None
                taken.append(port["nodePort"])
        old_spec = old.get("spec") or {}
        if needs_health_check(spec) and not (needs_health_check(old_spec) and old_spec.get("healthCheckNodePort")):
            try:
                taken.append(self._health_check_node_port(spec))      # updateHealthCheckNodePort
            except BaseException:
                release()
                raise
        return release

    def release_unused(self, new: dict, old: dict) -> None:
        """Give back the node ports (and health check node port) ``old`` held that the stored ``new`` no
        longer does."""
        spec, old_spec = new.get("spec") or {}, old.get("spec") or {}
        kept = {port.get("nodePort") for port in spec.get("ports") or []} | {spec.get("healthCheckNodePort")}
        held = [port.get("nodePort") for port in old_spec.get("ports") or []] + [old_spec.get("healthCheckNodePort")]
        for port in held:
            if port and port not in kept:
                self.node_ports.release(port)

    def release(self, service: dict) -> None:
        """Give back a deleted Service's ClusterIP and node ports."""
        spec = service.get("spec") or {}
        for address in spec.get("clusterIPs") or []:
            if address != "None":
                self.cluster_ips.release(address)
        for port in spec.get("ports") or []:
            if port.get("nodePort"):
                self.node_ports.release(port["nodePort"])
        if spec.get("healthCheckNodePort"):
            self.node_ports.release(spec["healthCheckNodePort"])
