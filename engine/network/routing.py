"""Interfaces and the routing table of one network namespace, as ``ip link`` / ``ip route`` show them.

A node has ``lo``, ``eth0`` (its InternalIP on the nodes' network
172.18.0.0/16), and whatever the network add-on creates: flannel's bridge
``cni0`` with one ``veth*`` per pod and the VXLAN device ``flannel.1``;
calico's ``cali*`` veth ends (no bridge); kube-proxy's ipvs mode a dummy
``kube-ipvs0`` holding every Service IP. A pod's namespace has ``lo`` and
its ``eth0``.

The routing table answers "which route carries a packet to this address?"
by **longest-prefix match**: of the routes whose destination contains the
address, the most specific wins (a /32 beats a /24 beats ``default``),
then the lowest metric. A route sends out of a device (``dev``), either
straight to the destination (a *link* route) or to a next hop (``via``);
``onlink`` says the next hop is reachable on that device although no
address of the device covers it (flannel's ``10.244.2.0/24 via 10.244.2.0
dev flannel.1 onlink``). A ``blackhole`` route discards (calico puts one
under its own pod block).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field


@dataclass
class Interface:
    """One network device: ``kind`` is ``loopback``, ``ethernet``, ``bridge``, ``veth``, ``vxlan`` or ``dummy``."""

    name: str
    kind: str
    addresses: list[str] = field(default_factory=list)
    """CIDR notation, ``10.244.1.1/24``."""
    mac: str = ""
    master: str | None = None
    """The bridge a veth end is enslaved to (``cni0``)."""
    peer: str | None = None
    """The other end of a veth pair: ``default/web-abc12:eth0``."""
    mtu: int = 1500
    vxlan: dict | None = None
    """``{"id": 1, "local": "172.18.0.3", "dstport": 8472}`` on a VXLAN device."""
    fdb: dict[str, str] = field(default_factory=dict)
    """VXLAN forwarding database: remote VTEP MAC -> the node address behind it (``bridge fdb``)."""
    proxy_arp: bool = False

    def ips(self) -> list[str]:
        return [address.split("/")[0] for address in self.addresses]

    def __str__(self) -> str:
        extra = f" master {self.master}" if self.master else ""
        return f"{self.name}: <{self.kind}> mtu {self.mtu}{extra} {' '.join(self.addresses)}".rstrip()


@dataclass
class Route:
    """One route: ``dest`` a CIDR or ``default``; ``type`` ``unicast`` or ``blackhole``."""

    dest: str
    dev: str = ""
    via: str | None = None
    src: str | None = None
    proto: str = "kernel"
    scope: str = ""
    onlink: bool = False
    metric: int = 0
    type: str = "unicast"

    @property
    def network(self) -> ipaddress.IPv4Network:
        return ipaddress.IPv4Network("0.0.0.0/0" if self.dest == "default" else self.dest, strict=False)

    def __str__(self) -> str:
        if self.type == "blackhole":
            return f"blackhole {self.dest} proto {self.proto}"
        text = self.dest
        if self.via:
            text += f" via {self.via}"
        text += f" dev {self.dev}"
        if self.proto != "boot":
            text += f" proto {self.proto}"
        if self.scope:
            text += f" scope {self.scope}"
        if self.src:
            text += f" src {self.src}"
        if self.metric:
            text += f" metric {self.metric}"
        if self.onlink:
            text += " onlink"
        return text


class RoutingTable:
    """The main routing table: add, delete, longest-prefix ``lookup``, and ``show`` like ``ip route``."""

    def __init__(self) -> None:
        self.routes: list[Route] = []

    def add(self, route: Route) -> None:
        """``ip route replace``: a route to the same destination and metric replaces the old one."""
        self.routes = [r for r in self.routes if not (r.dest == route.dest and r.metric == route.metric)]
        self.routes.append(route)

    def delete(self, dest: str) -> None:
        self.routes = [r for r in self.routes if r.dest != dest]

    def lookup(self, address: str) -> Route | None:
        """The route for ``address``: the longest matching prefix, then the lowest metric; None if none."""
        ip = ipaddress.IPv4Address(address)
        best: Route | None = None
        for route in self.routes:
            network = route.network
            if ip not in network:
                continue
            if best is None or (network.prefixlen, -route.metric) > (best.network.prefixlen, -best.metric):
                best = route
        return best

    def show(self) -> str:
        """``ip route`` output: default first, then by destination."""
        def order(route: Route) -> tuple:
            return (route.dest != "default", int(route.network.network_address), route.network.prefixlen)
        return "\n".join(str(route) for route in sorted(self.routes, key=order))
