"""CoreDNS's forward plugin: send what no other plugin answered to upstream resolvers.

    forward . /etc/resolv.conf {
       max_concurrent 1000
    }

As CoreDNS v1.11 plugin/forward: ``FROM`` is the zone it forwards (``.``:
everything); each ``TO`` is an address (``8.8.8.8``, ``dns://1.1.1.1:53``)
or a resolv.conf-style file whose ``nameserver`` lines are read once, at
start-up, from the container's filesystem (CoreDNS's pod uses dnsPolicy
Default, so that is the node's resolver). Upstreams are tried in random
order (``policy random``, the default; ``sequential`` and ``round_robin``
too); one that does not answer is skipped and the next one tried; when none
answers the query is SERVFAIL and the error is logged as
``plugin/errors`` prints it. The upstream's answer goes back unchanged
except for the asker's message id. Queries listed by ``except`` go to the
next plugin. Counts ``coredns_forward_requests_total{to}`` and
``coredns_forward_responses_total{rcode,to}``. What it never does: resolve
anything itself.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine.dns.message import SERVFAIL, DnsResponse
from engine.dns.plugin import Next, Plugin, Request, ServerContext, zone_of

if TYPE_CHECKING:
    from engine.dns.corefile import Directive

DNS_PORT = 53


def nameservers(text: str) -> list[str]:
    """The ``nameserver`` addresses of a resolv.conf, in order."""
    found = []
    for line in text.splitlines():
        fields = line.split("#", 1)[0].split()
        if len(fields) >= 2 and fields[0] == "nameserver":
            found.append(fields[1])
    return found


def _host_port(address: str) -> tuple[str, int]:
    address = address.split("://")[-1]
    if address.count(":") == 1:
        host, port = address.split(":")
        return host, int(port)
    return address, DNS_PORT


class Forward(Plugin):
    name = "forward"

    def __init__(self, directive: "Directive", context: ServerContext) -> None:
        super().__init__(directive, context)
        args = list(directive.args)
        self.zone = (args.pop(0) if args else ".").rstrip(".") + "."
        self.targets = args
        self.upstreams: list[tuple[str, int]] = []
        policy = directive.option("policy")
        self.policy = policy[0] if policy else "random"
        self.excepted = [z if z.endswith(".") else z + "." for z in directive.option("except") or []]
        self._next_index = 0

    def start(self) -> None:
        upstreams: list[tuple[str, int]] = []
        for target in self.targets:
            if target.startswith("/"):
                text = self.context.fs.get(target)
                if text is None:
                    raise FileNotFoundError(f"plugin/forward: open {target}: no such file or directory")
                upstreams.extend((address, DNS_PORT) for address in nameservers(text))
            else:
                upstreams.append(_host_port(target))
        self.upstreams = upstreams

    def _order(self) -> list[tuple[str, int]]:
        upstreams = list(self.upstreams)
        if self.policy == "sequential":
            return upstreams
        if self.policy == "round_robin":
            start = self._next_index % max(1, len(upstreams))
            self._next_index += 1
            return upstreams[start:] + upstreams[:start]
        self.context.loop.random.shuffle(upstreams)
        return upstreams

    def serve(self, request: Request, next: Next) -> DnsResponse:
        query = request.query
        if zone_of(query.name, [self.zone]) is None or zone_of(query.name, self.excepted) is not None:
            return next(request)
        send = self.context.send
        error = "no healthy proxies"
        for host, port in self._order():
            to = f"{host}:{port}"
            self.context.count("coredns_forward_requests_total", to=to)
            response = send(host, port, query) if send is not None else None
            if response is None:
                error = f"read udp {self.context.address}:{self.context.loop.random.randint(32768, 60999)}->{to}: i/o timeout"
                continue
            self.context.count("coredns_forward_responses_total", rcode=response.rcode, to=to)
            return response.copy_for(query)
        self.context.log(f"[ERROR] plugin/errors: 2 {query.name} {query.qtype}: {error}")
        return DnsResponse(query, SERVFAIL)
