"""One node's kernel network stack: interfaces, routes, netfilter, conntrack, IPVS, the pods' namespaces.

``Host`` is what a packet meets on a node. A packet that **arrives** (from a
pod's veth, from the wire on ``eth0``, out of the VXLAN device) walks the
hooks in the kernel's order (raw and mangle left out):

    PREROUTING (nat)  ->  routing  ->  INPUT (filter)            ->  a socket on the node
                                   \\->  FORWARD (filter, policy) ->  POSTROUTING (nat)  ->  out of a device

and a packet the node itself **sends** (curl on the node, the kubelet)
walks OUTPUT (nat, then routing, then filter) and POSTROUTING. The nat
table sees only a flow's first packet; ``Conntrack`` replays its decision
on the rest and reverses it on replies. Rules are the ``Netfilter`` that
kube-proxy and the CNI plugins program (``iptables``; None until one is
installed: every hook then accepts). In ipvs mode, a packet for a Service
address held by ``kube-ipvs0`` is local; IPVS takes it at INPUT, picks a
real server and sends it on (DNAT recorded in conntrack). ``policy`` is
where a policy agent (calico's Felix) plugs its per-workload filter into
FORWARD and OUTPUT: a callable ``(packet, in_iface, out_iface, established)
-> (allowed, rule)``.

Leaving the node, the route decides the device: ``eth0`` puts the packet on
the wire to the next hop; ``flannel.1`` wraps it in a VXLAN header to the
node behind the route's gateway (neighbour entry -> VTEP MAC -> FDB ->
node address); ``cni0`` (a bridge) or a ``cali*`` veth hands it to a pod's
namespace. With ``br_netfilter`` (which kubeadm requires) traffic between
two pods of one bridge also walks the hooks, as modelled here.

Every step appends a ``Hop`` to the caller's trace. What it never does:
choose rules or routes (the add-ons program them), or reach another node
(it returns ``Wire(next hop)`` and the ``Fabric`` carries the packet).
"""

from __future__ import annotations

import hashlib
import ipaddress
import zlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable

from engine.network.conntrack import Conntrack
from engine.network.packet import Packet, Trace, VxlanHeader
from engine.network.routing import Interface, Route, RoutingTable

if TYPE_CHECKING:
    from engine.runtime.containerd import RuntimeService

NODE_NETWORK = "172.18.0.0/16"
"""The nodes' L2 segment (kind's docker network): node N is 172.18.0.N+1, the gateway 172.18.0.1."""
NODE_GATEWAY = "172.18.0.1"
BOOT_INTERFACES = ("lo", "eth0")
"""What a node's stack has when the machine boots, before any add-on runs."""

Policy = Callable[[Packet, str, str, bool], "tuple[bool, str]"]


def mac_for(*parts: str) -> str:
    """A stable locally administered MAC for a device (the same names give the same address)."""
    digest = hashlib.sha256("/".join(parts).encode()).digest()
    return ":".join(f"{b:02x}" for b in (0x02 | (digest[0] & 0xFC), *digest[1:6]))


# -- where a step leaves the packet ----------------------------------------------
@dataclass
class Wire:
    """Out of ``eth0`` of ``sender`` towards ``address`` (the next hop on the nodes' network)."""
    address: str
    sender: str = ""


@dataclass
class ToNetns:
    """Into a pod's namespace through its veth."""
    netns: "PodNetns"


@dataclass
class Local:
    """Arrived at a socket of this host's own namespace (the node, or a hostNetwork pod)."""
    host: "Host"


@dataclass
class Stopped:
    """The packet went no further: ``DROP`` (silently: the sender times out), ``REJECT`` (an ICMP error or a
    RST comes back at once) or ``unreachable`` (no route / no neighbour: ``No route to host``)."""
    outcome: str
    reason: str


Step = Wire | ToNetns | Local | Stopped


@dataclass
class PodNetns:
    """A pod's network namespace: its ``eth0`` (one end of a veth pair), its address and its routes."""

    pod: str
    """``namespace/name``."""
    sandbox_id: str
    ip: str
    host: "Host"
    host_iface: str
    """The host end of the veth pair (``veth1a2b3c4d`` on flannel's bridge, ``cali0123456789a`` on calico)."""
    mac: str = ""
    routes: RoutingTable = field(default_factory=RoutingTable)
    interfaces: dict[str, Interface] = field(default_factory=dict)

    def programs(self) -> list[Any]:
        """The running programs of the pod's containers (they share this namespace)."""
        return self.host.programs_of(self.sandbox_id)


class Host:
    """A node's network namespace (see the module docstring for the walk)."""

    def __init__(self, name: str, address: str, runtime: "RuntimeService | None" = None, *,
                 iptables: Any = None, ipvs: Any = None) -> None:
        self.name = name
        self.address = address
        self.runtime = runtime
        self.iptables = iptables
        """The node's ``Netfilter`` (tables filter and nat), programmed by kube-proxy and the CNI plugins."""
        self.ipvs = ipvs
        self.policy: Policy | None = None
        self.conntrack = Conntrack()
        self.interfaces: dict[str, Interface] = {}
        self.routes = RoutingTable()
        self.neighbors: dict[str, tuple[str, str]] = {}
        """``ip neigh``: address -> (MAC, device); flannel writes one per remote VTEP."""
        self.pods: dict[str, PodNetns] = {}
        """Pod namespaces on this node by pod IP."""
        self.powered = True
        """False while the machine is off: the stack neither sends nor answers anything (``power_off``)."""
        self.add_interface(Interface("lo", "loopback", ["127.0.0.1/8"], mtu=65536))
        octets = [int(part) for part in address.split(".")]
        self.add_interface(Interface("eth0", "ethernet", [f"{address}/16"],
                                     mac="02:42:" + ":".join(f"{o:02x}" for o in octets)))
        self.routes.add(Route("default", "eth0", via=NODE_GATEWAY, proto="boot"))
        self.routes.add(Route(NODE_NETWORK, "eth0", scope="link", src=address))

    # -- power -----------------------------------------------------------------------
    def power_off(self) -> None:
        """The machine goes dark: nothing it receives is answered (no RST, no ICMP), nothing leaves it."""
        self.powered = False

    def power_on(self) -> None:
        """The machine boots with a fresh kernel: what lived in its memory is gone (connection tracking, every
        iptables rule and ipset, IPVS, the devices the add-ons made: ``cni0``, ``flannel.1``, veths, and with
        them their routes and neighbours; the pods' network namespaces). ``lo`` and ``eth0`` come up with the
        boot routes; the add-ons program the rest again as their pods start."""
        self.powered = True
        self.conntrack = Conntrack()
        self.policy = None
        self.pods.clear()
        self.neighbors.clear()
        for name in [name for name in self.interfaces if name not in BOOT_INTERFACES]:
            self.remove_interface(name)
        self.routes.routes = [route for route in self.routes.routes if route.proto == "boot" or route.dev == "eth0"
                              and route.scope == "link"]
        if self.iptables is not None:
            self.iptables.tables.clear()
            self.iptables.ipsets = type(self.iptables.ipsets)()
            self.iptables.recent.clear()
        if self.ipvs is not None:
            self.ipvs.services.clear()
            self.ipvs.dummy_addresses.clear()

    # -- configuration (what ip link / ip addr / ip route do) ---------------------
    def add_interface(self, interface: Interface) -> Interface:
        self.interfaces[interface.name] = interface
        return self.interfaces[interface.name]

    def remove_interface(self, name: str) -> None:
        self.interfaces.pop(name, None)
        self.routes.routes = [r for r in self.routes.routes if r.dev != name]

    def local_addresses(self) -> set[str]:
        """The addresses this namespace owns: its interfaces', and in ipvs mode the Service IPs on kube-ipvs0."""
        local = {ip for interface in self.interfaces.values() for ip in interface.ips()}
        if self.ipvs is not None:
            local |= set(self.ipvs.dummy_addresses)
        return local

    def programs_of(self, sandbox_id: str) -> list[Any]:
        if self.runtime is None:
            return []
        from engine.runtime.cri import ContainerFilter
        found = []
        for container in self.runtime.list_containers(ContainerFilter(pod_sandbox_id=sandbox_id)):
            program = self.runtime.program(container.id)
            if program is not None:
                found.append(program)
        return found

    def show(self) -> str:
        """``ip addr`` and ``ip route`` of the node, for a learner's eyes."""
        links = "\n".join(str(interface) for interface in self.interfaces.values())
        return f"{links}\n\n{self.routes.show()}"

    # -- the walk ----------------------------------------------------------------
    def receive(self, packet: Packet, in_iface: str, trace: Trace) -> Step:
        """A packet arriving on ``in_iface``: PREROUTING, routing, then INPUT or FORWARD and POSTROUTING."""
        packet.in_iface, packet.out_iface = in_iface, None
        entry, direction, new = self._track(packet, "PREROUTING", trace)
        if packet.dst in self.local_addresses():
            scheduled = self._ipvs(packet, entry, direction, new, trace)
            if not scheduled:
                stopped = self._filter("INPUT", packet, trace)
                return stopped or self._local_in(packet, entry, direction, new, trace)
        route = self.routes.lookup(packet.dst)
        if route is None:
            trace.add(self.name, "unreachable", packet, "no route")
            return Stopped("unreachable", "No route to host")
        trace.add(self.name, "route", packet, str(route))
        packet.out_iface = route.dev
        stopped = self._filter("FORWARD", packet, trace) or self._policy(packet, entry, direction, trace)
        if stopped is not None:
            return stopped
        return self._postrouting(packet, route, entry, direction, new, trace)

    def output(self, packet: Packet, trace: Trace) -> Step:
        """A packet this node sends: OUTPUT (nat), routing, OUTPUT (filter), POSTROUTING."""
        packet.in_iface = None
        entry, direction, new = self._track(packet, "OUTPUT", trace)
        if packet.dst in self.local_addresses():
            if self._ipvs(packet, entry, direction, new, trace):
                return self.output_routed(packet, entry, direction, new, trace)
            trace.add(self.name, "route", packet, f"local {packet.dst} dev lo table local")
            return self._local_in(packet, entry, direction, new, trace)
        return self.output_routed(packet, entry, direction, new, trace)

    def output_routed(self, packet: Packet, entry: Any, direction: str, new: bool, trace: Trace) -> Step:
        route = self.routes.lookup(packet.dst)
        if route is None:
            trace.add(self.name, "unreachable", packet, "no route")
            return Stopped("unreachable", "No route to host")
        trace.add(self.name, "route", packet, str(route))
        packet.out_iface = route.dev
        stopped = self._filter("OUTPUT", packet, trace) or self._policy(packet, entry, direction, trace)
        if stopped is not None:
            return stopped
        return self._postrouting(packet, route, entry, direction, new, trace)

    # -- the hooks ------------------------------------------------------------------
    def _track(self, packet: Packet, chain: str, trace: Trace) -> tuple[Any, str, bool]:
        """Conntrack, then (first packet only) the nat table's chain; DNAT is applied and remembered."""
        found = self.conntrack.lookup(packet)
        if found is not None:
            entry, direction = found
            if direction == "reply":
                entry.state = "ESTABLISHED"
            packet.ctstate, packet.ctstate_dnat = "ESTABLISHED", entry.dnat
            if self.conntrack.translate_destination(entry, direction, packet):
                trace.add(self.name, "conntrack", packet, f"{direction}: {entry}")
            return entry, direction, False
        entry = self.conntrack.track(packet)
        packet.ctstate, packet.ctstate_dnat = "NEW", False
        verdict = self._traverse("nat", chain, packet, trace)
        if verdict is not None and verdict.dnat is not None:
            ip, port = verdict.dnat
            self.conntrack.set_dnat(entry, ip, port)
            packet.dst, packet.dport, packet.ctstate_dnat = ip, port, True
            trace.add(self.name, "DNAT", packet, f"--to-destination {ip}:{port}")
        return entry, "original", True

    def _local_in(self, packet: Packet, entry: Any, direction: str, new: bool, trace: Trace) -> "Local":
        """LOCAL_IN: a reply delivered to this node has its DNAT undone here (its source back to the VIP)."""
        if not new and self.conntrack.translate_source(entry, direction, packet):
            trace.add(self.name, "conntrack", packet, f"{direction}: {entry}")
        return Local(self)

    def _ipvs(self, packet: Packet, entry: Any, direction: str, new: bool, trace: Trace) -> bool:
        """IPVS at LOCAL_IN: a virtual server's packet goes to a real server instead of a local socket."""
        if self.ipvs is None or direction != "original" or not new:
            return False
        target = self.ipvs.schedule(packet.proto, packet.dst, packet.dport, packet.src)
        if target is None:
            return False
        vip = f"{packet.dst}:{packet.dport}"
        self.conntrack.set_dnat(entry, target[0], target[1])
        packet.dst, packet.dport = target
        trace.add(self.name, "IPVS", packet, f"{packet.proto} {vip} -> {target[0]}:{target[1]} Masq")
        return True

    def _traverse(self, table: str, chain: str, packet: Packet, trace: Trace) -> Any:
        if self.iptables is None:
            return None
        verdict = self.iptables.traverse(table, chain, packet)
        for rule in verdict.trace:
            trace.add(self.name, f"{table} {chain}", packet, rule)
        return verdict

    def _filter(self, chain: str, packet: Packet, trace: Trace) -> Stopped | None:
        verdict = self._traverse("filter", chain, packet, trace)
        if verdict is None or verdict.action == "ACCEPT":
            return None
        outcome = "drop" if verdict.action == "DROP" else "reject"
        trace.add(self.name, verdict.action, packet, f"filter {chain}")
        return Stopped(outcome, f"iptables filter {chain} {verdict.action}")

    def _policy(self, packet: Packet, entry: Any, direction: str, trace: Trace) -> Stopped | None:
        if self.policy is None:
            return None
        established = direction == "reply" or entry.state == "ESTABLISHED"
        allowed, rule = self.policy(packet, packet.in_iface or "", packet.out_iface or "", established)
        if rule:
            trace.add(self.name, "policy" if allowed else "policy DROP", packet, rule)
        return None if allowed else Stopped("drop", rule)

    def _postrouting(self, packet: Packet, route: Route, entry: Any, direction: str, new: bool,
                     trace: Trace) -> Step:
        if new:
            verdict = self._traverse("nat", "POSTROUTING", packet, trace)
            if verdict is not None and (verdict.masquerade or verdict.snat):
                source = verdict.snat or self._source_for(route)
                self.conntrack.set_snat(entry, source)
                packet.src = source
                trace.add(self.name, "SNAT" if verdict.snat else "MASQUERADE", packet, f"to {source}")
        elif self.conntrack.translate_source(entry, direction, packet):
            trace.add(self.name, "conntrack", packet, f"{direction}: {entry}")
        return self._transmit(packet, route, trace)

    def _source_for(self, route: Route) -> str:
        if route.src:
            return route.src
        interface = self.interfaces.get(route.dev)
        if interface is not None and interface.ips():
            return interface.ips()[0]
        return self.address

    def _transmit(self, packet: Packet, route: Route, trace: Trace) -> Step:
        """Out of the route's device: the wire, the VXLAN tunnel, the bridge or a calico veth."""
        if route.type == "blackhole":
            trace.add(self.name, "blackhole", packet, str(route))
            return Stopped("unreachable", "No route to host")
        device = self.interfaces.get(route.dev)
        if device is None:
            return Stopped("unreachable", f"device {route.dev} does not exist")
        if device.kind == "ethernet":
            return Wire(route.via or packet.dst, self.name)
        if device.kind == "vxlan":
            return self._encapsulate(packet, route, device, trace)
        netns = self.pods.get(packet.dst)
        if netns is None or (device.kind == "veth" and netns.host_iface != device.name):
            trace.add(self.name, "unreachable", packet, f"no neighbour {packet.dst} on {device.name}")
            return Stopped("unreachable", "No route to host")
        if device.kind == "bridge":
            trace.add(self.name, "bridge", packet, f"{device.name} -> {netns.host_iface}")
        return ToNetns(netns)

    def _encapsulate(self, packet: Packet, route: Route, device: Interface, trace: Trace) -> Step:
        gateway = route.via or packet.dst
        neighbor = self.neighbors.get(gateway)
        remote = device.fdb.get(neighbor[0]) if neighbor is not None else None
        if neighbor is None or remote is None:
            trace.add(self.name, "unreachable", packet, f"no neighbour {gateway} on {device.name}")
            return Stopped("unreachable", "No route to host")
        vxlan = device.vxlan or {}
        flow = zlib.crc32(f"{packet.src}:{packet.sport}>{packet.dst}:{packet.dport}".encode())
        packet.outer = VxlanHeader(self.address, remote, 32768 + flow % 28232, vxlan.get("dstport", 8472),
                                   vxlan.get("id", 1), neighbor[0])
        trace.add(self.name, "encapsulate", packet,
                  f"{device.name}: neigh {gateway} lladdr {neighbor[0]}, fdb {neighbor[0]} dst {remote}")
        return Wire(remote, self.name)

    def decapsulate(self, packet: Packet, trace: Trace) -> str | None:
        """A VXLAN packet for this node: strip the outer header; the device it re-enters on, or None."""
        outer = packet.outer
        if outer is None:
            return None
        for device in self.interfaces.values():
            if device.kind == "vxlan" and (device.vxlan or {}).get("dstport", 8472) == outer.dport \
                    and (device.vxlan or {}).get("id", 1) == outer.vni and device.mac == outer.inner_dst_mac:
                packet.outer = None
                trace.add(self.name, "decapsulate", packet, f"{device.name} vni {outer.vni}")
                return device.name
        return None


def in_network(address: str, cidr: str) -> bool:
    return ipaddress.IPv4Address(address) in ipaddress.IPv4Network(cidr, strict=False)
