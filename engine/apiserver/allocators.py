"""Service IP and NodePort allocation, done by the API server when a Service is created.

The real kube-apiserver hands each Service a ClusterIP from
``--service-cluster-ip-range`` and each NodePort/LoadBalancer port a number
from ``--service-node-port-range``, picking at random among free values and
refusing a requested value that is taken or out of range. The first address
of the range is reserved for the ``kubernetes`` Service (10.96.0.1) and the
network and broadcast addresses are never given out. Allocation state is
rebuilt from the Services in the watch cache, so it never disagrees with
what is stored.
"""

from __future__ import annotations

import ipaddress
import random

from engine import flags


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
