"""The cluster network: the nodes' shared segment, carrying packets from stack to stack, and exchanges.

The nodes sit on one L2 segment, ``172.18.0.0/16`` (kind's docker network:
node N is ``172.18.0.N+1``). ``Fabric`` owns every node's ``Host`` and is
the wire between them: a packet a host puts on ``eth0`` for next hop X
arrives at the host whose address is X (a VXLAN packet is decapsulated by
the receiving node's VXLAN device and re-enters its stack from
``flannel.1``). In a cloud, a packet whose next hop is the segment's
gateway follows the VPC route table instead (``vpc_routes``: pod CIDR ->
node address, what the cloud route controller programs); without a route
it is lost, and the sender times out.

``exchange`` is one request and its answer: the request is carried from its
origin (a pod's namespace, or a node's own stack) to whatever socket takes
it; the program listening there answers (``handle_http`` for HTTP,
``handle_dns`` for DNS, nothing for a bare connect); the answer is carried
back, through the same conntrack entries, so every NAT is undone on the way;
the client's socket only takes an answer from the address and port it dialled
(an answer that missed its un-DNAT, a pod reaching itself through its Service
without kube-proxy's hairpin masquerade, is dropped: the client times out).
``echo`` is a ping: the reached namespace's kernel answers an ICMP echo itself.
Nothing listening: a TCP RST (UDP: an ICMP port unreachable) comes back at
once ("connection refused"). A powered-off machine (``Host.powered``) takes
nothing off the wire and sends nothing: its node IP and its pods' IPs time out. A packet dropped on the way (a NetworkPolicy,
an iptables DROP, a lost route) gets no answer: the sender times out.
The exchange takes no virtual time: hops are recorded, not scheduled.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from engine.network.host import Host, Local, PodNetns, Step, Stopped, ToNetns, Wire, in_network
from engine.network.packet import Packet, Trace
from engine.sim.hostnet import ConnectionRefused

MAX_STEPS = 64
"""More steps than any path needs: a routing loop ends as a drop (the kernel's TTL would)."""

Endpoint = PodNetns | Host


@dataclass
class Arrival:
    """Where a carried packet ended: an endpoint, or ``outcome`` drop / reject / unreachable."""

    endpoint: Endpoint | None
    outcome: str = "delivered"
    reason: str = ""


@dataclass
class Exchange:
    """A request's fate: ``outcome`` is answered, refused, timeout or unreachable."""

    outcome: str
    answer: Any = None
    listener: Any = None
    endpoint: Endpoint | None = None
    reason: str = ""


def where(endpoint: Endpoint) -> str:
    return endpoint.pod if isinstance(endpoint, PodNetns) else endpoint.name


class Fabric:
    """Every node's network stack and the segment between them."""

    def __init__(self, hostnet: Any = None) -> None:
        self.hosts: dict[str, Host] = {}
        self.hostnet = hostnet
        """The hosts' listening sockets (the API server on 172.18.0.2:6443, kubelets on :10250)."""
        self.vpc_routes: dict[str, str] = {}
        """The cloud's route table: destination CIDR -> node address (the cloud route controller's)."""
        self.gateway: Host | None = None
        """The segment's gateway (kind's docker network at 172.18.0.1: the nodes' default route and their
        DNS resolver); ``add_gateway`` puts it there."""
        self.stub_resolver: Any = None
        """The stub resolver class lookups from pods and nodes use (None: ``engine.dns.resolver.Resolver``);
        a lab plugs in a subclass that walks the search list with the learner's code."""

    def add_gateway(self, host: Host) -> Host:
        """The machine at the segment's gateway address: reached like a node, but it is not one."""
        self.gateway = host
        return host

    def add_host(self, host: Host) -> Host:
        self.hosts[host.name] = host
        return host

    def host_at(self, address: str) -> Host | None:
        found = next((h for h in self.hosts.values() if h.address == address), None)
        if found is None and self.gateway is not None and self.gateway.address == address:
            return self.gateway
        return found

    def pod_by_ip(self, ip: str) -> PodNetns | None:
        return next((h.pods[ip] for h in self.hosts.values() if ip in h.pods), None)

    def pod_named(self, key: str) -> PodNetns | None:
        """A pod's namespace by ``namespace/name``."""
        return next((n for h in self.hosts.values() for n in h.pods.values() if n.pod == key), None)

    def sandbox(self, sandbox_id: str) -> PodNetns | None:
        return next((n for h in self.hosts.values() for n in h.pods.values() if n.sandbox_id == sandbox_id), None)

    # -- carrying ----------------------------------------------------------------
    def carry(self, packet: Packet, origin: Endpoint, trace: Trace) -> Arrival:
        """Carry ``packet`` from ``origin`` until a socket takes it or it is stopped."""
        step: Step
        home = origin.host if isinstance(origin, PodNetns) else origin
        if not home.powered:
            trace.add(home.name, "drop", packet, "the machine is powered off")
            return Arrival(None, "drop", "the machine is powered off")
        if isinstance(origin, PodNetns):
            first = self._leave_pod(packet, origin, trace)
            if isinstance(first, Arrival):
                return first
            step = first
        else:
            step = origin.output(packet, trace)
        for _ in range(MAX_STEPS):
            if isinstance(step, Stopped):
                return Arrival(None, step.outcome, step.reason)
            if isinstance(step, Local):
                return Arrival(step.host)
            if isinstance(step, ToNetns):
                packet.mark = 0
                trace.add(step.netns.pod, "veth", packet, f"{step.netns.host.name}:{step.netns.host_iface} -> eth0")
                return Arrival(step.netns)
            step = self._across(packet, step, trace)
        trace.add("fabric", "drop", packet, "TTL exceeded")
        return Arrival(None, "drop", "TTL exceeded")

    def _leave_pod(self, packet: Packet, netns: PodNetns, trace: Trace) -> Step | Arrival:
        if packet.dst == netns.ip or packet.dst.startswith("127."):
            trace.add(netns.pod, "loopback", packet, f"local {packet.dst} dev lo")
            return Arrival(netns)
        route = netns.routes.lookup(packet.dst)
        if route is None:
            trace.add(netns.pod, "unreachable", packet, "no route")
            return Arrival(None, "unreachable", "Network is unreachable")
        trace.add(netns.pod, "route", packet, str(route))
        host = netns.host
        device = host.interfaces.get(netns.host_iface)
        if device is None:
            return Arrival(None, "unreachable", "veth has no peer")
        trace.add(netns.pod, "veth", packet, f"eth0 -> {host.name}:{device.name}")
        return host.receive(packet, device.master or device.name, trace)

    def _across(self, packet: Packet, wire: Wire, trace: Trace) -> Step:
        """The segment: deliver to the host at the next hop (or through the VPC's routes)."""
        packet.mark = 0           # a fwmark belongs to one kernel's skb: it never crosses the wire
        target = self.host_at(wire.address)
        if target is None:
            target = self._vpc_route(packet.dst)
            if target is not None:
                trace.add("vpc", "route", packet, f"{packet.dst} -> {target.name} ({target.address})")
        if target is None:
            trace.add("fabric", "lost", packet, f"no host at {wire.address}")
            return Stopped("drop", f"no host at {wire.address}")
        trace.add(wire.sender or "fabric", "wire", packet, f"eth0 -> {target.name}:eth0")
        if not target.powered:        # no NIC up to take it: no answer at all, the sender times out
            trace.add(target.name, "lost", packet, "the machine is powered off")
            return Stopped("drop", "the machine is powered off")
        if packet.outer is not None and packet.outer.dst == target.address:
            device = target.decapsulate(packet, trace)
            if device is None:
                return Stopped("drop", "no VXLAN device for the packet")
            return target.receive(packet, device, trace)
        return target.receive(packet, "eth0", trace)

    def _vpc_route(self, address: str) -> Host | None:
        best: tuple[int, str] | None = None
        for cidr, node_address in self.vpc_routes.items():
            if in_network(address, cidr):
                prefix = int(cidr.split("/")[1])
                if best is None or prefix > best[0]:
                    best = (prefix, node_address)
        return self.host_at(best[1]) if best is not None else None

    # -- one request and its answer -------------------------------------------------
    def listener(self, endpoint: Endpoint, packet: Packet) -> Any:
        """What listens on ``packet.dport`` at the endpoint: a pod's program, a host socket; or None."""
        if isinstance(endpoint, PodNetns):
            return _listening(endpoint.programs(), packet.dport)
        if self.hostnet is not None:
            try:
                return self.hostnet.dial(packet.dst, packet.dport)
            except ConnectionRefused:
                pass
        if endpoint.runtime is None:
            return None
        runtime = endpoint.runtime
        host_net = getattr(getattr(runtime, "host_namespaces", None), "net", None)
        programs = []          # hostNetwork pods: their sandboxes share the node's network namespace
        for sandbox in runtime.list_pod_sandbox():
            status = runtime.pod_sandbox_status(sandbox.id)
            shared = status.ip == endpoint.address or (host_net is not None and status.namespaces.get("net") == host_net)
            if shared and status.state == "SANDBOX_READY":
                programs.extend(endpoint.programs_of(sandbox.id))
        return _listening(programs, packet.dport)

    def exchange(self, packet: Packet, origin: Endpoint, trace: Trace, answer_with: Any) -> Exchange:
        """Carry ``packet``, let ``answer_with(listener, packet)`` answer, carry the answer back."""
        dialled = (packet.dst, packet.dport)
        arrival = self.carry(packet, origin, trace)
        if arrival.endpoint is None:
            outcome = {"drop": "timeout", "reject": "refused"}.get(arrival.outcome, "unreachable")
            return Exchange(outcome, reason=arrival.reason)
        endpoint = arrival.endpoint
        listener = self.listener(endpoint, packet)
        if listener is None:
            what = "RST" if packet.proto == "TCP" else "ICMP port unreachable"
            trace.add(where(endpoint), "refused", packet, f"nothing listens on {packet.proto} port {packet.dport}")
            reply = packet.reply(flags="RST" if packet.proto == "TCP" else "")
            back = self.carry(reply, endpoint, trace)
            outcome = "refused" if self._home(back, origin) and self._socket(reply, dialled, origin, trace) \
                else "timeout"
            return Exchange(outcome, endpoint=endpoint, reason=what)
        trace.add(where(endpoint), "deliver", packet, f"{type(listener).__name__} listening on :{packet.dport}")
        answer = answer_with(listener, packet)
        reply = packet.reply(answer, flags="SYN-ACK" if packet.proto == "TCP" else "")
        back = self.carry(reply, endpoint, trace)
        if not self._home(back, origin):
            return Exchange("timeout", endpoint=endpoint, reason="the answer never came back")
        if not self._socket(reply, dialled, origin, trace):
            return Exchange("timeout", endpoint=endpoint,
                            reason=f"the answer came from {reply.src}:{reply.sport}, not from {dialled[0]}:{dialled[1]}")
        trace.add(where(origin), "received", reply, "")
        return Exchange("answered", answer, listener, endpoint)

    def echo(self, packet: Packet, origin: Endpoint, trace: Trace) -> Exchange:
        """An ICMP echo request: the kernel of whatever namespace it reaches answers (no program listens);
        the reply comes back through the same conntrack entries. Only a reply from the address pinged counts."""
        dialled = packet.dst
        arrival = self.carry(packet, origin, trace)
        if arrival.endpoint is None:
            outcome = {"drop": "timeout", "reject": "refused"}.get(arrival.outcome, "unreachable")
            return Exchange(outcome, reason=arrival.reason)
        endpoint = arrival.endpoint
        trace.add(where(endpoint), "echo reply", packet, "the kernel answers ICMP echo")
        reply = packet.reply(flags="")
        back = self.carry(reply, endpoint, trace)
        if not self._home(back, origin) or reply.src != dialled:
            return Exchange("timeout", endpoint=endpoint, reason="the echo reply never came back")
        trace.add(where(origin), "received", reply, "")
        return Exchange("answered", reply, None, endpoint)

    @staticmethod
    def _home(arrival: Arrival, origin: Endpoint) -> bool:
        return arrival.endpoint is origin

    @staticmethod
    def _socket(reply: Packet, dialled: tuple[str, int], origin: Endpoint, trace: Trace) -> bool:
        """Does the client's socket take the answer? Only from the address and port it connected to.

        An answer whose NAT was never undone (a pod reaching itself through its Service without the
        hairpin masquerade: the reply stays inside the pod, away from conntrack) comes from the pod's
        own ``IP:port``; the kernel finds no connection for it and the client waits until it times out.
        """
        if (reply.src, reply.sport) == dialled:
            return True
        trace.add(where(origin), "no socket", reply, f"connected to {dialled[0]}:{dialled[1]}, "
                                                     f"not {reply.src}:{reply.sport}: dropped")
        return False


def _listening(programs: list[Any], port: int) -> Any:
    for program in programs:
        ctx = getattr(program, "ctx", None)
        if ctx is not None and ctx.alive and int(port) in ctx.ports:
            return program
    return None
