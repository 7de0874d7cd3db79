"""IPVS: the kernel's layer-4 load balancer, as kube-proxy's ipvs mode programs it.

A *virtual server* is ``(protocol, address, port)`` with a scheduler; its
*real servers* are the backends, each with a weight. ``schedule`` picks a
real server for a new connection the way ``ip_vs_rr`` does (the next real
server after the last one chosen, skipping weight 0, which kube-proxy uses
for terminating endpoints). A virtual server with ``persistent`` seconds
(kube-proxy sets it for ``sessionAffinity: ClientIP``) keeps a *template*
per client address: the same client goes to the same real server while
its template lives, and each connection renews it. ``dump()`` prints what
``ipvsadm -Ln`` prints. Addresses a virtual server uses are also bound to
the ``kube-ipvs0`` dummy interface (``dummy_addresses``) so the host treats
them as local; the host reads that set. Nothing here touches iptables.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

DUMMY_INTERFACE = "kube-ipvs0"
SCHEDULERS = ("rr",)
"""The schedulers modelled (kube-proxy's default, --ipvs-scheduler=rr)."""


@dataclass
class RealServer:
    address: str
    port: int
    weight: int = 1
    connections: int = 0
    """Connections scheduled to it (``ipvsadm -Ln --stats``'s Conns)."""


@dataclass
class VirtualServer:
    protocol: str                 # "TCP" | "UDP" | "SCTP"
    address: str
    port: int
    scheduler: str = "rr"
    persistent: int | None = None  # seconds; None: no persistence
    reals: list[RealServer] = field(default_factory=list)
    _last: int = -1
    _templates: dict[str, tuple[str, int, float]] = field(default_factory=dict)

    @property
    def key(self) -> tuple[str, str, int]:
        return (self.protocol, self.address, self.port)

    def real(self, address: str, port: int) -> RealServer | None:
        return next((r for r in self.reals if r.address == address and r.port == port), None)


class IPVS:
    """The IPVS table of one node, and the addresses bound to its ``kube-ipvs0`` dummy interface."""

    def __init__(self, clock: Callable[[], float] | None = None) -> None:
        self.clock = clock or (lambda: 0.0)
        """Persistence templates expire on this clock; kube-proxy sets the loop's when none was given."""
        self.services: dict[tuple[str, str, int], VirtualServer] = {}
        self.dummy_addresses: set[str] = set()

    # -- ipvsadm -A / -E / -D ----------------------------------------------------------
    def ensure_virtual_server(self, protocol: str, address: str, port: int, scheduler: str = "rr",
                              persistent: int | None = None) -> VirtualServer:
        """``ipvsadm -A`` or, if it exists, ``ipvsadm -E`` (scheduler and persistence updated)."""
        if scheduler not in SCHEDULERS:
            raise ValueError(f"unknown scheduler {scheduler!r}")
        key = (protocol.upper(), address, int(port))
        found = self.services.get(key)
        if found is None:
            found = self.services[key] = VirtualServer(key[0], address, int(port))
        found.scheduler, found.persistent = scheduler, persistent
        if persistent is None:
            found._templates.clear()
        return found

    def delete_virtual_server(self, protocol: str, address: str, port: int) -> None:
        self.services.pop((protocol.upper(), address, int(port)), None)

    def get(self, protocol: str, address: str, port: int) -> VirtualServer | None:
        return self.services.get((protocol.upper(), address, int(port)))

    # -- ipvsadm -a / -e / -d ----------------------------------------------------------
    def set_real_servers(self, server: VirtualServer, reals: list[tuple[str, int, int]]) -> None:
        """Make ``server``'s real servers exactly ``(address, port, weight)``, keeping counters of those kept."""
        kept = []
        for address, port, weight in reals:
            existing = server.real(address, port)
            if existing is None:
                existing = RealServer(address, int(port), weight)
            existing.weight = weight
            kept.append(existing)
        server.reals = kept
        alive = {(r.address, r.port) for r in kept}
        server._templates = {c: t for c, t in server._templates.items() if (t[0], t[1]) in alive}
        server._last = min(server._last, len(kept) - 1)

    # -- the data path -----------------------------------------------------------------
    def schedule(self, protocol: str, address: str, port: int, client_ip: str) -> tuple[str, int] | None:
        """The real server for a new connection from ``client_ip`` (None: no virtual server or no backend)."""
        server = self.get(protocol, address, port)
        if server is None:
            return None
        now = self.clock()
        if server.persistent is not None:
            template = server._templates.get(client_ip)
            if template is not None and template[2] > now:
                real = server.real(template[0], template[1])
                if real is not None and real.weight > 0:
                    server._templates[client_ip] = (real.address, real.port, now + server.persistent)
                    real.connections += 1
                    return real.address, real.port
        real = _round_robin(server)
        if real is None:
            return None
        real.connections += 1
        if server.persistent is not None:
            server._templates[client_ip] = (real.address, real.port, now + server.persistent)
        return real.address, real.port

    # -- ipvsadm -Ln -------------------------------------------------------------------
    def dump(self, stats: bool = False) -> str:
        """What ``ipvsadm -Ln`` (or ``-Ln --stats``) prints, virtual servers in address order."""
        lines = ["IP Virtual Server version 1.2.1 (size=4096)", "Prot LocalAddress:Port Scheduler Flags"]
        lines.append("  -> RemoteAddress:Port           " + ("Conns" if stats else "Forward Weight ActiveConn InActConn"))
        for key in sorted(self.services, key=_sort_key):
            server = self.services[key]
            flags = f" persistent {server.persistent}" if server.persistent is not None else ""
            lines.append(f"{server.protocol:<4} {server.address}:{server.port} {server.scheduler}{flags}")
            for real in server.reals:
                remote = f"{real.address}:{real.port}"
                if stats:
                    lines.append(f"  -> {remote:<28}{real.connections}")
                else:
                    lines.append(f"  -> {remote:<28}Masq    {real.weight:<6} 0          0")
        return "\n".join(lines) + "\n"


def _round_robin(server: VirtualServer) -> RealServer | None:
    """ip_vs_rr_schedule: walk on from the last choice to the next real server with a weight."""
    count = len(server.reals)
    for step in range(1, count + 1):
        index = (server._last + step) % count
        if server.reals[index].weight > 0:
            server._last = index
            return server.reals[index]
    return None


def _sort_key(key: tuple[str, str, int]) -> tuple:
    protocol, address, port = key
    return (tuple(int(p) for p in address.split(".")) if "." in address else (address,), port, protocol)
