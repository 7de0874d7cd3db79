"""Connection tracking (``nf_conntrack``): how NAT decided on a flow's first packet applies to all the rest.

Netfilter's nat table is consulted only for the **first** packet of a
connection. What it decided (a DNAT to a backend, a MASQUERADE to the
node's address) is stored here, in an entry holding two tuples:

    original  (proto, src, sport, dst, dport)  as the client sent it
    reply     the tuple the answer will carry: swapped, with the NAT applied

A later packet matching ``original`` gets the same translation; a packet
matching ``reply`` is an answer and gets the reverse one, so the client sees
the address it spoke to (the Service VIP), never the pod that answered.
Where the kernel does it: destination changes (DNAT, and undoing SNAT on
replies) in PREROUTING / OUTPUT, source changes (SNAT, and undoing DNAT on
replies) in POSTROUTING, or in LOCAL_IN for a packet the node itself takes. An entry is what ``-m conntrack --ctstate
ESTABLISHED`` matches, which is how a firewall (calico's policy) lets the
replies of an allowed connection back in.

``dump()`` prints entries as ``conntrack -L`` does.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.network.packet import Packet

Tuple = tuple[str, str, int, str, int]


@dataclass
class Entry:
    original: Tuple
    reply: Tuple
    state: str = "NEW"

    @property
    def dnat(self) -> bool:
        return (self.reply[1], self.reply[2]) != (self.original[3], self.original[4])

    @property
    def snat(self) -> bool:
        return self.reply[3] != self.original[1]

    def __str__(self) -> str:
        proto = self.original[0].lower()
        o, r = self.original, self.reply
        return (f"{proto} {self.state} src={o[1]} dst={o[3]} sport={o[2]} dport={o[4]} "
                f"src={r[1]} dst={r[3]} sport={r[2]} dport={r[4]}")


class Conntrack:
    """One namespace's connection table."""

    def __init__(self) -> None:
        self._by_tuple: dict[Tuple, tuple[Entry, str]] = {}
        self.entries: list[Entry] = []

    def lookup(self, packet: Packet) -> tuple[Entry, str] | None:
        """The packet's entry and its direction (``original`` or ``reply``); None for a new flow.

        A TCP SYN that opens a new connection on a tuple whose old connection was answered (the model
        carries no FIN, so an answered connection stands for a closed one, TIME_WAIT in the kernel)
        drops the old entry, as ``nf_conntrack_proto_tcp`` does: the new connection is NATed afresh.
        """
        found = self._by_tuple.get(packet.tuple())
        if (found is not None and found[1] == "original" and packet.proto == "TCP" and packet.flags == "SYN"
                and found[0].state == "ESTABLISHED"):
            self._forget(found[0])
            return None
        return found

    def _forget(self, entry: Entry) -> None:
        self.entries.remove(entry)
        for key in (entry.original, entry.reply):
            self._by_tuple.pop(key, None)

    def track(self, packet: Packet) -> Entry:
        """A new entry for the packet's flow (no NAT yet)."""
        original = packet.tuple()
        reply = (packet.proto, packet.dst, packet.dport, packet.src, packet.sport)
        entry = Entry(original, reply)
        self.entries.append(entry)
        self._by_tuple[original] = (entry, "original")
        self._by_tuple[reply] = (entry, "reply")
        return entry

    def set_dnat(self, entry: Entry, ip: str, port: int) -> None:
        self._rekey(entry, (entry.reply[0], ip, port, entry.reply[3], entry.reply[4]))

    def set_snat(self, entry: Entry, ip: str) -> None:
        self._rekey(entry, (entry.reply[0], entry.reply[1], entry.reply[2], ip, entry.reply[4]))

    def _rekey(self, entry: Entry, reply: Tuple) -> None:
        self._by_tuple.pop(entry.reply, None)
        entry.reply = reply
        self._by_tuple[reply] = (entry, "reply")

    @staticmethod
    def translate_destination(entry: Entry, direction: str, packet: Packet) -> bool:
        """PREROUTING / OUTPUT: DNAT an original packet, un-SNAT a reply; True if the packet changed."""
        if direction == "original" and entry.dnat:
            packet.dst, packet.dport = entry.reply[1], entry.reply[2]
            return True
        if direction == "reply" and entry.snat:
            packet.dst, packet.dport = entry.original[1], entry.original[2]
            return True
        return False

    @staticmethod
    def translate_source(entry: Entry, direction: str, packet: Packet) -> bool:
        """POSTROUTING: SNAT an original packet, un-DNAT a reply; True if the packet changed."""
        if direction == "original" and entry.snat:
            packet.src = entry.reply[3]
            return True
        if direction == "reply" and entry.dnat:
            packet.src, packet.sport = entry.original[3], entry.original[4]
            return True
        return False

    def dump(self) -> str:
        """``conntrack -L``."""
        return "\n".join(str(entry) for entry in self.entries)
