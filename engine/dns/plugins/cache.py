"""CoreDNS's cache plugin: answers kept for their TTL, capped, on the virtual clock.

    cache 30        (kubeadm's Corefile: at most 30 s for answers and for denials)

As CoreDNS v1.11 plugin/cache: a response is keyed by (name, type); its
lifetime is the smallest TTL in it (for NXDOMAIN and NODATA: the smaller of
the SOA's TTL and its MINIMUM field, RFC 2308), clamped to [5 s, TTL cap]
(caps default 3600 s for answers, 1800 s for denials; ``cache 30`` sets
both to 30); SERVFAIL is kept 5 s (``servfail``). A hit is served with every
record's TTL lowered to the time left, the authoritative bit set (as
CoreDNS does), and the asker's message id; an expired entry is a miss and
is fetched again. So a Service changed behind a cached name is still
answered with its old address until the entry expires: that is visible here.
Hits and misses are counted (``coredns_cache_hits_total{type=success|denial}``,
``coredns_cache_misses_total``). What it never does: cache REFUSED or
answers to names outside its zones.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from engine.dns.message import NOERROR, NXDOMAIN, SERVFAIL, DnsResponse, soa_minimum
from engine.dns.plugin import Next, Plugin, Request, ServerContext, parse_duration, zone_of

if TYPE_CHECKING:
    from engine.dns.corefile import Directive

MAX_SUCCESS_TTL = 3600
MAX_DENIAL_TTL = 1800
MIN_TTL = 5
SERVFAIL_TTL = 5.0
CAPACITY = 9984


@dataclass
class Entry:
    response: DnsResponse
    stored: float
    ttl: float
    denial: bool

    def left(self, now: float) -> int:
        return int(self.ttl - (now - self.stored))


class Cache(Plugin):
    name = "cache"

    def __init__(self, directive: "Directive", context: ServerContext) -> None:
        super().__init__(directive, context)
        args = list(directive.args)
        cap = None
        if args and args[0].isdigit():
            cap = int(args.pop(0))
        self.zones = [z if z.endswith(".") else z + "." for z in args] or ["."]
        self.success_ttl = cap if cap is not None else MAX_SUCCESS_TTL
        self.denial_ttl = cap if cap is not None else MAX_DENIAL_TTL
        self.min_success, self.min_denial = MIN_TTL, MIN_TTL
        for sub in directive.block:
            if sub.name == "success" and len(sub.args) >= 2:
                self.success_ttl = int(sub.args[1])
                if len(sub.args) >= 3:
                    self.min_success = int(sub.args[2])
            elif sub.name == "denial" and len(sub.args) >= 2:
                self.denial_ttl = int(sub.args[1])
                if len(sub.args) >= 3:
                    self.min_denial = int(sub.args[2])
        servfail = directive.option("servfail")
        self.servfail_ttl = parse_duration(servfail[0]) if servfail else SERVFAIL_TTL
        self.entries: dict[tuple[str, str], Entry] = {}

    def serve(self, request: Request, next: Next) -> DnsResponse:
        query = request.query
        if zone_of(query.name, self.zones) is None:
            return next(request)
        now = self.context.loop.now
        key = (query.name, query.qtype)
        entry = self.entries.get(key)
        if entry is not None and entry.left(now) > 0:
            self.context.count("coredns_cache_hits_total", server=self.context.server,
                               type="denial" if entry.denial else "success")
            return self._from_cache(entry, request, now)
        self.context.count("coredns_cache_misses_total", server=self.context.server)
        response = next(request)
        self._store(key, response, now)
        return response

    def _store(self, key: tuple[str, str], response: DnsResponse, now: float) -> None:
        if response.rcode == SERVFAIL:
            if self.servfail_ttl > 0:
                self.entries[key] = Entry(response, now, self.servfail_ttl, True)
            return
        if response.rcode not in (NOERROR, NXDOMAIN):
            return
        denial = response.rcode == NXDOMAIN or not response.answers
        if denial:
            soas = [r for r in response.authority if r.type == "SOA"]
            if not soas:
                return
            ttl = min(min(r.ttl, soa_minimum(r)) for r in soas)
            ttl = max(self.min_denial, min(ttl, self.denial_ttl))
        else:
            ttl = min(r.ttl for r in response.answers + response.authority + response.additional)
            ttl = max(self.min_success, min(ttl, self.success_ttl))
        if key not in self.entries and len(self.entries) >= CAPACITY:
            self.entries.pop(next(iter(self.entries)))
        self.entries[key] = Entry(response, now, float(ttl), denial)

    def _from_cache(self, entry: Entry, request: Request, now: float) -> DnsResponse:
        left = entry.left(now)
        response = entry.response.copy_for(request.query)
        response.answers = [r.with_ttl(left) for r in response.answers]
        response.authority = [r.with_ttl(left) for r in response.authority]
        response.additional = [r.with_ttl(left) for r in response.additional]
        response.authoritative = True
        return response
