"""The world outside the cluster, as DNS sees it: the nodes' upstream resolver and the node's resolv.conf.

Every node of a kind cluster resolves through the Docker network's gateway,
``172.18.0.1`` (its /etc/resolv.conf is ``NODE_RESOLV_CONF``); CoreDNS's
``forward . /etc/resolv.conf`` sends there whatever is outside
``cluster.local``. ``UpstreamResolver`` is that recursive resolver: it
knows a handful of Internet names (``KNOWN``: example.com, kubernetes.io,
...) with the TTLs real authoritative servers give them, answers
recursively (``ra``, not authoritative), and answers NXDOMAIN for anything
else with the SOA of the closest zone it knows (``com.``, ``io.``, or the
root), as a real recursive resolver passes on. It is reached through the
same ``send(ip, port, query)`` every DNS client uses; ``outside_send`` is
that function for a cluster without a packet model (only the upstream's
address answers, every other address times out). What it never does:
know anything about the cluster.
"""

from __future__ import annotations

from engine.dns.message import NOERROR, NXDOMAIN, DnsQuery, DnsResponse, ResourceRecord

UPSTREAM_ADDRESS = "172.18.0.1"
NODE_RESOLV_CONF = f"nameserver {UPSTREAM_ADDRESS}\noptions ndots:0\n"
"""/etc/resolv.conf of a kind node: Docker's embedded resolver, reached at the network's gateway."""

KNOWN: dict[tuple[str, str], list[tuple[int, str]]] = {
    ("example.com.", "A"): [(300, "93.184.215.14")],
    ("example.com.", "AAAA"): [(300, "2606:2800:21f:cb07:6820:80da:af6b:8b2c")],
    ("www.example.com.", "A"): [(300, "93.184.215.14")],
    ("example.org.", "A"): [(300, "93.184.215.14")],
    ("kubernetes.io.", "A"): [(300, "15.197.167.90"), (300, "3.33.186.135")],
    ("registry.k8s.io.", "A"): [(300, "34.96.108.209")],
    ("github.com.", "A"): [(60, "140.82.121.4")],
}
"""Names the outside world has: (name, type) -> [(ttl, data)]."""

ZONE_SOA = {
    "com.": ("com.", 900, "a.gtld-servers.net. nstld.verisign-grs.com. 1735689600 1800 900 604800 900"),
    "org.": ("org.", 3600, "a0.org.afilias-nst.info. hostmaster.donuts.email. 1735689600 7200 900 1209600 3600"),
    "io.": ("io.", 3600, "a0.nic.io. hostmaster.donuts.email. 1735689600 7200 900 1209600 3600"),
    ".": (".", 86400, "a.root-servers.net. nstld.verisign-grs.com. 2025010100 1800 900 604800 86400"),
}


class UpstreamResolver:
    """A recursive resolver outside the cluster that knows ``names`` (default ``KNOWN``)."""

    def __init__(self, names: dict[tuple[str, str], list[tuple[int, str]]] | None = None) -> None:
        self.names = dict(KNOWN if names is None else names)

    def handle_dns(self, query: DnsQuery) -> DnsResponse:
        records = self.names.get((query.name, query.qtype))
        if records:
            answers = [ResourceRecord(query.name, query.qtype, ttl, data) for ttl, data in records]
            return DnsResponse(query, NOERROR, answers, recursion_available=True)
        exists = any(name == query.name for name, _ in self.names)
        tld = query.name.rstrip(".").rsplit(".", 1)[-1] + "."
        zone, ttl, data = ZONE_SOA.get(tld, ZONE_SOA["."])
        return DnsResponse(query, NOERROR if exists else NXDOMAIN,
                           authority=[ResourceRecord(zone, "SOA", ttl, data)], recursion_available=True)


UPSTREAM = UpstreamResolver()
"""The outside world of every cluster without a packet model (stateless: it only answers)."""


def outside_send(address: str, port: int, query: DnsQuery) -> DnsResponse | None:
    """``send`` without a packet model: the upstream resolver answers on its address, nothing else does."""
    if address == UPSTREAM_ADDRESS and port == 53:
        return UPSTREAM.handle_dns(query)
    return None
