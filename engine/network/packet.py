"""Packets and the record of their path: what the network model carries and what it tells a learner.

A ``Packet`` is one IPv4 packet as the kernel sees it: addresses, ports,
protocol, the fwmark netfilter rules set (kube-proxy's ``0x4000`` means
"masquerade me"), the interface it came in on and the one it leaves by, and
while it crosses the overlay, the VXLAN outer header that wraps it
(``outer``: UDP port 8472, VNI 1, flannel's defaults). The payload is what the
program at the far end reads: an HTTP request dict for ``handle_http``, a
``DnsQuery`` for ``handle_dns``, or nothing for a bare TCP connect.

A ``Hop`` is one line of the path: *where* it happened (``node-1``,
``default/web-abc12``), *what* happened (``route``, ``DNAT``,
``encapsulate``, ``deliver`` ...), the rule or route that decided it, in the
syntax the real tool prints (``10.244.2.0/24 via 10.244.2.0 dev flannel.1
onlink``, ``-A KUBE-SEP-... -j DNAT --to-destination 10.244.2.3:80``), and
the packet's headers right after the step. Hops are snapshots: a later NAT
never rewrites an earlier hop.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

VXLAN_PORT = 8472
"""The UDP port of Linux VXLAN devices (flannel's default; IANA's 4789 is the other common one)."""
VXLAN_VNI = 1
"""flannel's VXLAN Network Identifier."""


@dataclass
class VxlanHeader:
    """The outer headers of an encapsulated packet: node to node over UDP, plus the VNI."""

    src: str
    dst: str
    sport: int
    dport: int = VXLAN_PORT
    vni: int = VXLAN_VNI
    inner_dst_mac: str = ""

    def __str__(self) -> str:
        return f"{self.src}:{self.sport} > {self.dst}:{self.dport} UDP VXLAN vni {self.vni}"


@dataclass
class Packet:
    """One packet; NAT and encapsulation change it in place, hops keep copies of its headers."""

    src: str
    dst: str
    sport: int
    dport: int
    proto: str = "TCP"
    payload: Any = None
    mark: int = 0
    in_iface: str | None = None
    out_iface: str | None = None
    outer: VxlanHeader | None = None
    flags: str = "SYN"
    """TCP: ``SYN`` opens a connection, ``SYN-ACK`` / ``ACK`` answer it, ``RST`` refuses it; UDP: empty."""
    ctstate: str = "NEW"
    """What ``-m conntrack --ctstate`` sees: ``NEW`` for a flow's first packet, ``ESTABLISHED`` after."""
    ctstate_dnat: bool = False
    """The flow's conntrack entry has a DNAT (``--ctstate DNAT``)."""

    def headers(self) -> str:
        """What tcpdump would print of the headers: ``10.244.1.2:41234 > 10.96.0.10:80 TCP [SYN]``."""
        inner = f"{self.src}:{self.sport} > {self.dst}:{self.dport} {self.proto}"
        if self.flags:
            inner += f" [{self.flags}]"
        if self.mark:
            inner += f" mark 0x{self.mark:x}"
        return f"{self.outer} | {inner}" if self.outer is not None else inner

    def copy(self) -> "Packet":
        return replace(self, outer=replace(self.outer) if self.outer is not None else None)

    def reply(self, payload: Any = None, flags: str = "") -> "Packet":
        """The answer from the destination: addresses and ports swapped, a fresh packet."""
        return Packet(self.dst, self.src, self.dport, self.sport, self.proto, payload, flags=flags)

    def tuple(self) -> tuple[str, str, int, str, int]:
        """The conntrack tuple ``(proto, src, sport, dst, dport)``."""
        return (self.proto, self.src, self.sport, self.dst, self.dport)


@dataclass(frozen=True)
class Hop:
    """One step of a packet's path, as the tool that decided it would print it."""

    where: str
    what: str
    rule: str
    headers: str

    def __str__(self) -> str:
        rule = f"  ({self.rule})" if self.rule else ""
        return f"{self.where:<24} {self.what:<14} {self.headers}{rule}"


@dataclass
class Trace:
    """The hops of one exchange, in order (the request's, then the reply's)."""

    hops: list[Hop] = field(default_factory=list)

    def add(self, where: str, what: str, packet: Packet, rule: str = "") -> None:
        self.hops.append(Hop(where, what, rule, packet.headers()))

    def __str__(self) -> str:
        return "\n".join(str(hop) for hop in self.hops)
