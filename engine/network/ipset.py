"""ipset: named sets of addresses and ports that one iptables rule matches with ``-m set --match-set``.

kube-proxy's ipvs mode keeps its Services in ipsets instead of one rule per
Service (``KUBE-CLUSTER-IP`` of type ``hash:ip,port``: every ClusterIP and
port; ``KUBE-NODE-PORT-TCP`` of type ``bitmap:port``; ``KUBE-LOOP-BACK`` of
type ``hash:ip,port,ip`` for a pod reaching itself through its Service), so
a constant handful of iptables rules serve any number of Services. An entry
is written as ``ipset`` writes it (``10.96.0.1,tcp:443``,
``10.244.1.5,tcp:80,10.244.1.5``, ``30080``); ``test`` looks a packet up with
the match's direction flags (``dst,dst`` = destination address, destination
port). ``save()`` prints ``ipset save`` text. Nothing here touches iptables.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Any

TYPES = ("hash:ip", "hash:ip,port", "hash:ip,port,ip", "hash:ip,port,net", "bitmap:port")


@dataclass
class IPSet:
    name: str
    type: str
    comment: str = ""
    entries: set[str] = field(default_factory=set)

    def add(self, entry: str) -> None:
        self.entries.add(_normalise(self.type, entry))

    def __contains__(self, entry: str) -> bool:
        return _normalise(self.type, entry) in self.entries


class IPSets:
    """The ipsets of one network namespace, by name."""

    def __init__(self) -> None:
        self.sets: dict[str, IPSet] = {}

    def ensure(self, name: str, type_: str, comment: str = "") -> IPSet:
        """``ipset create NAME TYPE -exist``."""
        if type_ not in TYPES:
            raise ValueError(f"ipset v7.17: Syntax error: unknown settype {type_}")
        found = self.sets.get(name)
        if found is None:
            found = self.sets[name] = IPSet(name, type_, comment)
        return found

    def get(self, name: str) -> IPSet | None:
        return self.sets.get(name)

    def replace(self, name: str, entries: set[str]) -> None:
        """Make the set hold exactly ``entries`` (kube-proxy's per-sync ``syncIPSetEntries``)."""
        target = self.sets[name]
        target.entries = {_normalise(target.type, e) for e in entries}

    def test(self, name: str, packet: Any, flags: list[str]) -> bool:
        """Is the packet, read in the directions ``flags`` gives, a member of set ``name``?"""
        found = self.sets.get(name)
        if found is None:
            return False
        proto = str(packet.proto).lower()

        def address(flag: str) -> str:
            return packet.src if flag == "src" else packet.dst

        def port(flag: str) -> int:
            return int((packet.sport if flag == "src" else packet.dport) or 0)

        if found.type == "bitmap:port":
            return str(port(flags[0])) in found.entries
        if found.type == "hash:ip":
            return address(flags[0]) in found.entries
        key = f"{address(flags[0])},{proto}:{port(flags[1])}"
        if found.type == "hash:ip,port":
            return key in found.entries
        if found.type == "hash:ip,port,ip":
            return f"{key},{address(flags[2])}" in found.entries
        third = address(flags[2])
        for entry in found.entries:
            head, _, net = entry.rpartition(",")
            if head == key and ipaddress.ip_address(third) in ipaddress.ip_network(net, strict=False):
                return True
        return False

    def save(self) -> str:
        """``ipset save``: a create line per set, then its entries sorted."""
        lines = []
        for name in sorted(self.sets):
            ipset = self.sets[name]
            if ipset.type == "bitmap:port":
                lines.append(f"create {name} bitmap:port range 0-65535")
            else:
                lines.append(f"create {name} {ipset.type} family inet hashsize 1024 maxelem 65536")
            lines.extend(f"add {name} {entry}" for entry in sorted(ipset.entries))
        return "\n".join(lines) + ("\n" if lines else "")


def _normalise(type_: str, entry: str) -> str:
    """Lower-case protocols; a bare port in an ip,port entry means tcp (ipset's default)."""
    if type_ == "bitmap:port" or type_ == "hash:ip":
        return entry
    parts = entry.split(",")
    if len(parts) > 1 and ":" not in parts[1]:
        parts[1] = f"tcp:{parts[1]}"
    parts[1] = parts[1].lower()
    return ",".join(parts)
