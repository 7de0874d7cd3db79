"""The stub resolver inside a pod: /etc/hosts, then /etc/resolv.conf's search list walked the way glibc does.

``Resolver(resolv_conf, send, hosts=...)`` reads a resolv.conf
(``nameserver`` lines, at most 3 used (MAXNS); ``search`` or ``domain``,
the last one wins; ``options ndots:N timeout:N attempts:N rotate``, glibc's
defaults 1, 5, 2 and their caps 15, 30, 5) and an optional hosts file.
``lookup(name, qtype)`` follows glibc's ``getaddrinfo`` -> ``res_nsearch``:

1. ``files`` before ``dns`` (nsswitch ``hosts: files dns``): a name in the
   hosts file answers without a query (the pod's own hostname, hostAliases);
2. a name ending in a dot is absolute: asked once, as is;
3. a name with at least ``ndots`` dots is asked as is first;
4. then each search domain is appended in order (for any name with no
   trailing dot): NXDOMAIN and NODATA move on to the next domain, SERVFAIL
   from every server too; a name found stops the walk, and so does a
   question no server answered at all (timeouts: TRY_AGAIN);
5. a name with fewer than ``ndots`` dots is asked as is last.

Each single question goes through ``res_send``: the nameservers in order
(``rotate``: starting one further each time), ``attempts`` rounds; a server
that times out (``send`` returned None), answers SERVFAIL, REFUSED or
NOTIMP is skipped for the next one; NOERROR or NXDOMAIN is the answer.
Every query sent and every answer (or timeout, costing ``timeout``
seconds) is recorded in the ``Lookup``, so a chapter shows ``web`` becoming
``web.default.svc.cluster.local`` and the three wasted questions before
``example.com`` with ndots:5. ``send(server_ip, port, query)`` is the pod's
network (the packet model), returning a ``DnsResponse`` or None on timeout.
What it never does: cache (glibc has no cache) or answer for itself what
is neither in the hosts file nor in a server's answer.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from engine.dns.message import NOERROR, NXDOMAIN, DnsQuery, DnsResponse, fqdn

MAXNS = 3
DEFAULTS = {"ndots": 1, "timeout": 5, "attempts": 2}
CAPS = {"ndots": 15, "timeout": 30, "attempts": 5}
DNS_PORT = 53

Send = Callable[[str, int, DnsQuery], "DnsResponse | None"]


@dataclass
class ResolvConf:
    """A parsed resolv.conf."""

    nameservers: list[str] = field(default_factory=list)
    search: list[str] = field(default_factory=list)
    ndots: int = DEFAULTS["ndots"]
    timeout: int = DEFAULTS["timeout"]
    attempts: int = DEFAULTS["attempts"]
    rotate: bool = False

    @classmethod
    def parse(cls, text: str) -> "ResolvConf":
        conf = cls()
        for line in text.splitlines():
            fields = line.split("#", 1)[0].split(";", 1)[0].split()
            if not fields:
                continue
            key, values = fields[0], fields[1:]
            if key == "nameserver" and values and len(conf.nameservers) < MAXNS:
                conf.nameservers.append(values[0])
            elif key == "search":
                conf.search = [v.rstrip(".") for v in values]
            elif key == "domain" and values:
                conf.search = [values[0].rstrip(".")]
            elif key == "options":
                for option in values:
                    name, _, value = option.partition(":")
                    if name in DEFAULTS and value.isdigit():
                        setattr(conf, name, min(int(value), CAPS[name]))
                    elif name == "rotate":
                        conf.rotate = True
        return conf


@dataclass
class Query:
    """One question sent to one server, and what came back (None: timed out)."""

    server: str
    query: DnsQuery
    response: DnsResponse | None
    at: float
    """Seconds into the lookup when it was sent."""

    def line(self) -> str:
        answer = "timeout" if self.response is None else self.response.rcode
        if self.response is not None and self.response.answers:
            answer += " " + ", ".join(r.data for r in self.response.answers)
        elif self.response is not None and self.response.nodata:
            answer += " (no " + self.query.qtype + " record)"
        return f"{self.query.name} {self.query.qtype} -> {self.server}: {answer}"


@dataclass
class Lookup:
    """A whole resolution: the name asked, every query made, and the outcome."""

    name: str
    qtype: str
    queries: list[Query] = field(default_factory=list)
    response: DnsResponse | None = None
    answered_name: str | None = None
    """The name that finally answered (``web.default.svc.cluster.local.``), or None."""
    from_hosts: bool = False
    addresses: list[str] = field(default_factory=list)
    elapsed: float = 0.0
    """Virtual seconds spent, all of it in timeouts."""

    @property
    def ok(self) -> bool:
        return bool(self.addresses) or (self.response is not None and bool(self.response.answers))

    @property
    def wasted(self) -> int:
        """Questions that did not produce the answer."""
        return len(self.queries) - (1 if self.ok and not self.from_hosts else 0)

    def trace(self) -> str:
        lines = [f"lookup {self.name} ({self.qtype})"]
        if self.from_hosts:
            lines.append(f"  /etc/hosts: {', '.join(self.addresses)}")
        lines += ["  " + q.line() for q in self.queries]
        lines.append(f"  => {', '.join(self.addresses)}" if self.ok else "  => not found")
        return "\n".join(lines)


def hosts_entries(text: str) -> dict[str, list[str]]:
    """A hosts file: name (lower-case, absolute) -> addresses, in file order."""
    entries: dict[str, list[str]] = {}
    for line in text.splitlines():
        fields = line.split("#", 1)[0].split()
        if len(fields) < 2:
            continue
        for name in fields[1:]:
            entries.setdefault(fqdn(name), []).append(fields[0])
    return entries


class Resolver:
    """glibc's stub resolver over ``send``, configured by a resolv.conf (and a hosts file)."""

    def __init__(self, resolv_conf: str | ResolvConf, send: Send, *, hosts: str = "",
                 random_id: Callable[[], int] | None = None) -> None:
        self.conf = resolv_conf if isinstance(resolv_conf, ResolvConf) else ResolvConf.parse(resolv_conf)
        self.send = send
        self.hosts = hosts_entries(hosts)
        self._ids = random_id or _counter()
        self._rotation = 0

    @classmethod
    def from_fs(cls, fs: Mapping[str, str], send: Send) -> "Resolver":
        """The resolver a process in a container gets: its /etc/resolv.conf and /etc/hosts (read now)."""
        return cls(fs.get("/etc/resolv.conf", ""), send, hosts=fs.get("/etc/hosts", ""))

    def candidates(self, name: str) -> list[str]:
        """The names res_nsearch asks, in order, for ``name`` (before any answer stops it)."""
        if name.endswith("."):
            return [fqdn(name)]
        dots = name.count(".")
        ordered = []
        if dots >= self.conf.ndots:
            ordered.append(fqdn(name))
        ordered += [fqdn(f"{name}.{domain}") for domain in self.conf.search if domain]
        if dots < self.conf.ndots:
            ordered.append(fqdn(name))
        return list(dict.fromkeys(ordered))

    def lookup(self, name: str, qtype: str = "A") -> Lookup:
        result = Lookup(name, qtype.upper())
        if result.qtype in ("A", "AAAA"):
            family = [a for a in self.hosts.get(fqdn(name), []) if (":" in a) == (result.qtype == "AAAA")]
            if family:
                result.from_hosts, result.addresses, result.answered_name = True, family, fqdn(name)
                return result
        for candidate in self.candidates(name):
            response = self._res_send(DnsQuery(candidate, result.qtype, id=self._ids()), result)
            if response is None:
                if any(q.response is not None for q in result.queries[-self._tries():]):
                    continue         # SERVFAIL everywhere: the next search domain (got_servfail)
                return result        # only timeouts: TRY_AGAIN ends the walk
            result.response = response
            if response.rcode == NOERROR and response.answers:
                result.answered_name = candidate
                result.addresses = response.addresses(result.qtype)
                return result
        return result

    def resolve(self, name: str) -> list[str]:
        """The addresses of ``name`` (A records), [] when it does not resolve: ``ProcessContext.resolve``."""
        return self.lookup(name).addresses

    def _tries(self) -> int:
        return self.conf.attempts * len(self.conf.nameservers)

    def _res_send(self, query: DnsQuery, result: Lookup) -> DnsResponse | None:
        """One question to the nameservers, ``attempts`` rounds; None when no server gave an answer."""
        servers = list(self.conf.nameservers)
        if self.conf.rotate and servers:
            start = self._rotation % len(servers)
            self._rotation += 1
            servers = servers[start:] + servers[:start]
        for _ in range(self.conf.attempts):
            for server in servers:
                response = self.send(server, DNS_PORT, query)
                result.queries.append(Query(server, query, response, result.elapsed))
                if response is None:
                    result.elapsed += self.conf.timeout
                    continue
                if response.rcode in (NOERROR, NXDOMAIN):
                    return response
        return None


def _counter() -> Callable[[], int]:
    state = {"next": 0}

    def next_id() -> int:
        state["next"] = (state["next"] + 1) % 65536
        return state["next"]

    return next_id


def resolve(name: str, resolv_conf: str, send: Callable[[str, DnsQuery], "DnsResponse | None"],
            hosts: str = "") -> list[str]:
    """The A addresses of ``name`` for a process whose resolv.conf is ``resolv_conf``; ``send(server_ip, query)``
    carries each query to port 53 (NETWORK_CONTRACT section 4's door for the packet model)."""
    return Resolver(resolv_conf, lambda server, _port, query: send(server, query), hosts=hosts).resolve(name)
