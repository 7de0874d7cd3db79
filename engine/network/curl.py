"""``curl`` through the model, and the network calls of the programs in containers.

``curl(fabric, source, url)`` is what ``Cluster.curl`` runs: from a pod
(its namespace, its ``/etc/resolv.conf``) or from a node (the node's own
stack), it resolves the URL's host, opens a TCP connection hop by hop and
hands the HTTP request to the program listening at the far end. The result
holds the answer (``status``, ``body``) or curl's own error line, and
``hops``, the whole path: DNS queries first, then the request, then the
answer coming back. The error lines are curl 8's:

    curl: (6) Could not resolve host: web.default.svc.cluster.local
    curl: (7) Failed to connect to 10.96.12.4 port 80 after 0 ms: Couldn't connect to server
    curl: (28) Connection timed out after 5001 milliseconds                (with connect_timeout)
    curl: (28) Failed to connect to 10.244.2.3 port 80 after 130000 ms: Connection timed out

Names are resolved the way the pod's libc does: ``/etc/hosts`` of the
container, then the stub resolver of ``engine.dns`` over the nameservers
and search list of ``/etc/resolv.conf``, each query a UDP packet to port
53 carried through the model (so through kube-proxy's DNAT to a CoreDNS
pod). ``PodNetworking`` gives the same to programs: ``ctx.http(url)``
(busybox ``wget``), ``ctx.resolve(name)`` (``nslookup``) and
``ctx.dial(address, port)`` (what a client library's connect does).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable
from urllib.parse import urlsplit

from engine.network.fabric import Endpoint, Exchange, Fabric
from engine.network.host import Host, PodNetns
from engine.network.packet import Hop, Packet, Trace
from engine.sim.hostnet import ConnectionRefused, DialTimeout

if TYPE_CHECKING:
    from engine.runtime.programs.base import ProcessContext

KERNEL_CONNECT_TIMEOUT_MS = 130000
"""What Linux takes to give up a connect nobody answers (tcp_syn_retries=6: 1+2+4+...+64 s, plus slack)."""
EPHEMERAL_PORTS = (32768, 60999)
"""net.ipv4.ip_local_port_range."""


@dataclass
class CurlResult:
    """What curl printed, and the way there and back."""

    url: str
    status: int | None = None
    body: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    error: str = ""
    exit_code: int = 0
    hops: list[Hop] = field(default_factory=list)
    elapsed: float = 0.0
    """Seconds the server took to answer (a program's response may say: ``"elapsed"``), 0 for most."""

    @property
    def ok(self) -> bool:
        return self.exit_code == 0

    @property
    def path(self) -> list[Hop]:
        return self.hops

    def __str__(self) -> str:
        return self.body if self.ok else self.error


class Resolver:
    """Name lookups from one endpoint: glibc's stub resolver (``engine.dns.resolver``) over the model."""

    def __init__(self, fabric: Fabric, origin: Endpoint, files: Any, random: Any) -> None:
        self.fabric, self.origin, self.files, self.random = fabric, origin, files, random

    def lookup(self, name: str, trace: Trace) -> list[str]:
        """The addresses of ``name``: an address as is, else /etc/hosts then DNS by /etc/resolv.conf."""
        if _is_ip(name):
            return [name]
        try:
            import engine.dns.resolver  # noqa: F401
        except ImportError:           # no DNS package: only /etc/hosts answers
            return _from_hosts(self.files.get("/etc/hosts", "127.0.0.1\tlocalhost\n"), name)
        return list(self.record(name, "A", trace).addresses)

    def answer(self, name: str, trace: Trace) -> tuple[str, list[str]]:
        """``lookup``, with the name that answered (absolute, without the root's dot): what nslookup prints."""
        if _is_ip(name):
            return name, [name]
        try:
            import engine.dns.resolver  # noqa: F401
        except ImportError:
            return name, _from_hosts(self.files.get("/etc/hosts", "127.0.0.1\tlocalhost\n"), name)
        found = self.record(name, "A", trace)
        return (found.answered_name or name).rstrip(".") or name, list(found.addresses)

    def record(self, name: str, qtype: str, trace: Trace, stub_class: Any = None) -> Any:
        """The stub resolver's whole ``engine.dns.resolver.Lookup`` of ``name`` (every query, the answer);
        the resolver class is ``stub_class``, else the fabric's ``stub_resolver``, else glibc's."""
        if stub_class is None:
            stub_class = getattr(self.fabric, "stub_resolver", None)
        if stub_class is None:
            from engine.dns.resolver import Resolver as stub_class
        stub = stub_class.from_fs(self.files, lambda server, port, query: self._send(server, port, query, trace))
        return stub.lookup(name, qtype)

    def _send(self, server: str, port: int, query: Any, trace: Trace) -> Any:
        """One DNS question as a UDP packet to ``server:port``; the answer, or None (a timeout)."""
        packet = Packet(_source_ip(self.origin), server, self.random.randint(*EPHEMERAL_PORTS), port, "UDP", query,
                        flags="")
        trace.add(_where(self.origin), "DNS query", packet, f"{getattr(query, 'qtype', 'A')} "
                                                            f"{getattr(query, 'name', query)}")
        seen_as = packet.reply(flags="")            # the answer as the client sees it: from the server it asked
        done = self.fabric.exchange(packet, self.origin, trace, _answer_dns)
        if done.outcome != "answered" or done.answer is None:
            return None
        answer = done.answer
        addresses = getattr(answer, "addresses", None)
        summary = ", ".join(addresses("A")) if callable(addresses) else ""
        trace.add(_where(self.origin), "DNS answer", seen_as, f"{getattr(answer, 'rcode', '')} {summary}".strip())
        return answer


def _from_hosts(text: str, name: str) -> list[str]:
    for line in text.splitlines():
        fields = line.split("#", 1)[0].split()
        if len(fields) > 1 and name in fields[1:]:
            return [fields[0]]
    return []


def curl(fabric: Fabric, origin: Endpoint, url: str, *, files: dict[str, str], random: Any,
         method: str = "GET", headers: dict[str, str] | None = None,
         connect_timeout: float | None = None, body: str | None = None) -> CurlResult:
    """One HTTP request from ``origin`` (a pod's namespace or a node's stack), as curl would make it
    (``body``: what ``curl -d`` sends)."""
    parts = urlsplit(url if "://" in url else f"http://{url}")
    host, port = parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80)
    trace = Trace()
    result = CurlResult(url, hops=trace.hops)
    addresses = Resolver(fabric, origin, files, random).lookup(host, trace)
    if not addresses:
        result.error, result.exit_code = f"curl: (6) Could not resolve host: {host}", 6
        return result
    address = addresses[0]
    request = {"method": method, "path": parts.path or "/", "port": port,
               "headers": {"Host": host, "User-Agent": "curl/8.5.0", "Accept": "*/*", **(headers or {})}}
    if parts.query:
        request["path"] += f"?{parts.query}"
    if body is not None:
        request["body"] = body
    packet = Packet(_source_ip(origin), address, random.randint(*EPHEMERAL_PORTS), port, "TCP", request)
    done = fabric.exchange(packet, origin, trace, _answer_http)
    return _finish(result, done, address, port, connect_timeout)


def _finish(result: CurlResult, done: Exchange, address: str, port: int,
            connect_timeout: float | None) -> CurlResult:
    if done.outcome == "answered":
        answer = done.answer
        if answer is None:
            result.error, result.exit_code = "curl: (52) Empty reply from server", 52
            return result
        result.status = int(answer.get("status", 200))
        result.body = str(answer.get("body", ""))
        result.headers = dict(answer.get("headers") or {})
        result.elapsed = float(answer.get("elapsed") or 0.0)
        return result
    if done.outcome == "timeout":
        if connect_timeout is not None:
            result.error = f"curl: (28) Connection timed out after {int(connect_timeout * 1000) + 1} milliseconds"
        else:
            result.error = (f"curl: (28) Failed to connect to {address} port {port} after "
                            f"{KERNEL_CONNECT_TIMEOUT_MS} ms: Connection timed out")
        result.exit_code = 28
        return result
    elapsed = 0 if done.outcome == "refused" else 3071      # an unanswered ARP gives up after ~3 s
    result.error = f"curl: (7) Failed to connect to {address} port {port} after {elapsed} ms: Couldn't connect to server"
    result.exit_code = 7
    return result


def _answer_http(listener: Any, packet: Packet) -> Any:
    handle = getattr(listener, "handle_http", None)
    if handle is None:
        return None
    request = dict(packet.payload or {})
    request["client"] = packet.src
    request["port"] = packet.dport
    return handle(request)


def _answer_dns(listener: Any, packet: Packet) -> Any:
    handle = getattr(listener, "handle_dns", None)
    return handle(packet.payload) if handle is not None else None


def _is_ip(text: str) -> bool:
    try:
        ipaddress.IPv4Address(text)
    except ValueError:
        return False
    return True


def _source_ip(origin: Endpoint) -> str:
    return origin.ip if isinstance(origin, PodNetns) else origin.address


def _where(origin: Endpoint) -> str:
    return origin.pod if isinstance(origin, PodNetns) else origin.name


DEFAULT_TTL = 64
"""net.ipv4.ip_default_ttl."""


def echo(fabric: Fabric, origin: Endpoint, address: str, seq: int, ident: int = 1) -> dict:
    """One ICMP echo request and its reply: ``{"ttl": N, "hops": [...]}`` (the reply's TTL after the routers
    it crossed), ``{"error": "unreachable"}`` (no route from here) or ``{"error": "timeout", ...}`` (no reply)."""
    trace = Trace()
    packet = Packet(_source_ip(origin), address, ident, ident, "ICMP", {"type": "echo-request", "seq": seq}, flags="")
    done = fabric.echo(packet, origin, trace)
    if done.outcome == "answered":
        return {"ttl": DEFAULT_TTL - _routers(fabric, trace.hops), "hops": trace.hops}
    if done.outcome == "unreachable" and trace.hops and trace.hops[0].what == "unreachable":
        return {"error": "unreachable", "hops": trace.hops}
    return {"error": "timeout", "hops": trace.hops}


def _routers(fabric: Fabric, hops: list[Hop]) -> int:
    """How many routers decremented the reply's TTL on its way back: each host that routed it out of another
    device than the one it came in by (a bridge switching between two of its ports, pods on one node, is no
    router)."""
    start = next(i for i, h in enumerate(hops) if h.what == "echo reply")
    count, ingress = 0, ("", "")
    for hop in hops[start:]:
        if hop.what in ("veth", "wire") and " -> " in hop.rule and ":" in hop.rule.split(" -> ", 1)[1]:
            name, device = hop.rule.split(" -> ", 1)[1].split(":", 1)
            host = fabric.hosts.get(name)
            interface = host.interfaces.get(device) if host is not None else None
            ingress = (name, (interface.master if interface is not None and interface.master else device))
        elif hop.what == "decapsulate":
            ingress = (hop.where, hop.rule.split()[0])
        elif hop.what == "route" and hop.where == ingress[0] and " dev " in hop.rule:
            if hop.rule.split(" dev ", 1)[1].split()[0] != ingress[1]:
                count += 1
    return count


class PodNetworking:
    """Wires a container's ``ctx.http`` / ``ctx.resolve`` / ``ctx.dial`` to its pod's namespace (or, for a
    hostNetwork pod, to the node's stack). Set as ``RuntimeService.network``; containerd calls ``wire``."""

    def __init__(self, fabric: Fabric, host: Host) -> None:
        self.fabric = fabric
        self.host = host

    def origin(self, sandbox_id: str) -> Endpoint:
        netns = next((n for n in self.host.pods.values() if n.sandbox_id == sandbox_id), None)
        return netns if netns is not None else self.host

    def wire(self, ctx: "ProcessContext", sandbox_id: str) -> None:
        ctx.http = self._http(ctx, sandbox_id)
        ctx.resolve = self._resolve(ctx, sandbox_id)
        ctx.lookup = self._lookup(ctx, sandbox_id)
        ctx.dial = self._dial(ctx, sandbox_id)
        ctx.ping = self._ping(ctx, sandbox_id)

    def _http(self, ctx: "ProcessContext", sandbox_id: str) -> Callable[[str], dict | None]:
        def http(url: str) -> dict | None:
            result = curl(self.fabric, self.origin(sandbox_id), url, files=ctx.fs, random=ctx.random)
            if result.ok:
                return {"status": result.status, "headers": result.headers, "body": result.body,
                        "elapsed": result.elapsed}
            if result.exit_code == 7 and "after 0 ms" in result.error:
                return None
            kind = {6: "unresolved", 28: "timeout"}.get(result.exit_code, "unreachable")
            return {"status": 0, "error": kind, "body": ""}
        return http

    def _resolve(self, ctx: "ProcessContext", sandbox_id: str) -> Callable[[str], list[str]]:
        def resolve(name: str) -> list[str]:
            return Resolver(self.fabric, self.origin(sandbox_id), ctx.fs, ctx.random).lookup(name, Trace())
        return resolve

    def _lookup(self, ctx: "ProcessContext", sandbox_id: str) -> Callable[[str], tuple[str, list[str]]]:
        def lookup(name: str) -> tuple[str, list[str]]:
            return Resolver(self.fabric, self.origin(sandbox_id), ctx.fs, ctx.random).answer(name, Trace())
        return lookup

    def _ping(self, ctx: "ProcessContext", sandbox_id: str) -> Callable[[str, int], dict]:
        def ping(address: str, seq: int) -> dict:
            return echo(self.fabric, self.origin(sandbox_id), address, seq)
        return ping

    def _dial(self, ctx: "ProcessContext", sandbox_id: str) -> Callable[[str, int], Any]:
        def dial(address: str, port: int) -> Any:
            origin = self.origin(sandbox_id)
            packet = Packet(_source_ip(origin), address, ctx.random.randint(*EPHEMERAL_PORTS), int(port), "TCP")
            done = self.fabric.exchange(packet, origin, Trace(), lambda listener, p: listener)
            if done.outcome == "timeout":          # dropped on the way: nothing answered
                raise DialTimeout(address, int(port))
            if done.outcome != "answered":         # refused or unreachable: the dial fails
                raise ConnectionRefused(address, int(port))
            return done.answer
        return dial
