"""DNS messages: the query a stub resolver sends and the response a server answers (RFC 1035, in miniature).

A ``DnsQuery`` is one question (name, type, class IN) with a message id; a
``DnsResponse`` carries the response code (NOERROR, NXDOMAIN, SERVFAIL,
REFUSED), the header flags a server sets (``aa`` authoritative, ``ra``
recursion available), and three sections of ``ResourceRecord``: answer,
authority (the zone's SOA when a name does not exist or has no record of the
type asked) and additional (the A records of SRV targets).

Record data is kept in DNS presentation format, as ``dig`` prints it: an A
record's data is ``"10.96.0.10"``, an SRV's ``"0 100 80 web.default.svc.cluster.local."``,
an SOA's ``"ns.dns.cluster.local. hostmaster.cluster.local. 1735689600 7200 1800 86400 30"``.
Names are always absolute and lower-case (``web.default.svc.cluster.local.``).

``DnsResponse.dig(...)`` prints a response the way ``dig`` 9.18 does
(header, flags, sections, query time, server, message size computed from
the wire format with name compression), so a chapter can show a lookup.
These are the objects the packet model carries in ``Packet.payload`` to
port 53 and back. What this module never does: resolve anything.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field, replace

from engine.api.meta import EPOCH

NOERROR = "NOERROR"
FORMERR = "FORMERR"
SERVFAIL = "SERVFAIL"
NXDOMAIN = "NXDOMAIN"
NOTIMP = "NOTIMP"
REFUSED = "REFUSED"

RCODES = {NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5}
TYPES = {"A": 1, "NS": 2, "CNAME": 5, "SOA": 6, "PTR": 12, "HINFO": 13, "MX": 15, "TXT": 16, "AAAA": 28,
         "SRV": 33, "ANY": 255}

DIG_VERSION = "9.18.24"


def fqdn(name: str) -> str:
    """``Web.Default`` -> ``web.default.``: absolute, lower-case (DNS names compare case-insensitively)."""
    name = name.strip().lower()
    return name if name.endswith(".") else name + "."


@dataclass(frozen=True)
class DnsQuery:
    """One question: ``name`` (made absolute), ``qtype`` (A, AAAA, SRV, PTR, TXT, CNAME, ...), class IN."""

    name: str
    qtype: str = "A"
    id: int = 0
    qclass: str = "IN"
    recursion_desired: bool = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "name", fqdn(self.name))
        object.__setattr__(self, "qtype", self.qtype.upper())

    def text(self) -> str:
        """The question as dig's QUESTION SECTION prints it."""
        return f";{self.name}\t\t{self.qclass}\t{self.qtype}"


@dataclass(frozen=True)
class ResourceRecord:
    """A record: owner ``name``, ``type``, ``ttl`` in seconds, ``data`` in presentation format."""

    name: str
    type: str
    ttl: int
    data: str
    rclass: str = "IN"

    def __post_init__(self) -> None:
        object.__setattr__(self, "name", fqdn(self.name))

    def with_ttl(self, ttl: int) -> "ResourceRecord":
        return replace(self, ttl=ttl)

    def text(self) -> str:
        """One line of a dig section: ``web.default.svc.cluster.local. 30 IN A 10.96.12.34`` (tab-separated)."""
        return f"{self.name}\t{self.ttl}\t{self.rclass}\t{self.type}\t{self.data}"

    @property
    def target(self) -> str:
        """The name a CNAME, PTR, NS or SRV record points to."""
        return self.data.split()[-1]


def soa_minimum(record: ResourceRecord) -> int:
    """The SOA's MINIMUM field (the negative-caching TTL, RFC 2308)."""
    return int(record.data.split()[-1])


@dataclass
class DnsResponse:
    """A server's answer to ``question``."""

    question: DnsQuery
    rcode: str = NOERROR
    answers: list[ResourceRecord] = field(default_factory=list)
    authority: list[ResourceRecord] = field(default_factory=list)
    additional: list[ResourceRecord] = field(default_factory=list)
    authoritative: bool = False
    recursion_available: bool = False
    truncated: bool = False

    @property
    def id(self) -> int:
        return self.question.id

    def addresses(self, qtype: str = "A") -> list[str]:
        """The A (or AAAA) data in the answer section, in order (CNAME chains followed by position)."""
        return [r.data for r in self.answers if r.type == qtype]

    @property
    def nodata(self) -> bool:
        """NOERROR with nothing in the answer: the name exists, not with this type."""
        return self.rcode == NOERROR and not self.answers

    def copy_for(self, question: DnsQuery) -> "DnsResponse":
        """The same answer to another message id (a cache or a forwarder answering its own client)."""
        return replace(self, question=question, answers=list(self.answers), authority=list(self.authority),
                       additional=list(self.additional))

    # -- presentation ------------------------------------------------------------
    def flags(self) -> list[str]:
        flags = ["qr"]
        if self.authoritative:
            flags.append("aa")
        if self.truncated:
            flags.append("tc")
        if self.question.recursion_desired:
            flags.append("rd")
        if self.recursion_available:
            flags.append("ra")
        return flags

    def wire_size(self) -> int:
        """Bytes of the message on the wire, with RFC 1035 name compression (what dig's MSG SIZE shows)."""
        written: set[str] = set()

        def name_size(name: str) -> int:
            labels = [label for label in name.rstrip(".").split(".") if label]
            size = 0
            for index in range(len(labels)):
                suffix = ".".join(labels[index:]) + "."
                if suffix in written:
                    return size + 2
                written.add(suffix)
                size += 1 + len(labels[index])
            return size + 1

        size = 12 + name_size(self.question.name) + 4
        for record in self.answers + self.authority + self.additional:
            size += name_size(record.name) + 10
            parts = record.data.split()
            if record.type == "A":
                size += 4
            elif record.type == "AAAA":
                size += 16
            elif record.type in ("CNAME", "PTR", "NS"):
                size += name_size(record.data)
            elif record.type == "SRV":
                size += 6 + name_size(parts[3])
            elif record.type == "SOA":
                size += name_size(parts[0]) + name_size(parts[1]) + 20
            else:   # TXT and the rest: the text as one character-string
                size += 1 + len(record.data.strip('"'))
        return size

    def dig(self, server: str = "10.96.0.10", *, port: int = 53, protocol: str = "UDP", now: float = 0.0,
            query_time_ms: int = 0, command: str | None = None) -> str:
        """The response as ``dig`` prints it (``command``: what followed ``dig`` on the command line)."""
        q = self.question
        lines = [f"; <<>> DiG {DIG_VERSION} <<>> {command or q.name.rstrip('.') + ('' if q.qtype == 'A' else ' ' + q.qtype)}",
                 ";; global options: +cmd", ";; Got answer:",
                 f";; ->>HEADER<<- opcode: QUERY, status: {self.rcode}, id: {q.id}",
                 f";; flags: {' '.join(self.flags())}; QUERY: 1, ANSWER: {len(self.answers)}, "
                 f"AUTHORITY: {len(self.authority)}, ADDITIONAL: {len(self.additional)}"]
        if q.recursion_desired and not self.recursion_available:
            lines.append(";; WARNING: recursion requested but not available")
        lines += ["", ";; QUESTION SECTION:", q.text()]
        for title, records in (("ANSWER", self.answers), ("AUTHORITY", self.authority),
                               ("ADDITIONAL", self.additional)):
            if records:
                lines += ["", f";; {title} SECTION:"] + [r.text() for r in records]
        when = (EPOCH + _dt.timedelta(seconds=now)).strftime("%a %b %d %H:%M:%S UTC %Y")
        lines += ["", f";; Query time: {query_time_ms} msec", f";; SERVER: {server}#{port}({server}) ({protocol})",
                  f";; WHEN: {when}", f";; MSG SIZE  rcvd: {self.wire_size()}", ""]
        return "\n".join(lines)


def reverse_name(address: str) -> str:
    """``10.96.0.10`` -> ``10.0.96.10.in-addr.arpa.`` (the PTR owner name of an IPv4 address)."""
    return ".".join(reversed(address.split("."))) + ".in-addr.arpa."


def address_of_reverse(name: str) -> str | None:
    """``10.0.96.10.in-addr.arpa.`` -> ``10.96.0.10``; None when the name is not a full IPv4 reverse name."""
    name = fqdn(name)
    suffix = ".in-addr.arpa."
    if not name.endswith(suffix):
        return None
    parts = name[: -len(suffix)].split(".")
    if len(parts) != 4 or not all(p.isdigit() and 0 <= int(p) <= 255 for p in parts):
        return None
    return ".".join(reversed(parts))
