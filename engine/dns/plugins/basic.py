"""The small CoreDNS plugins of kubeadm's Corefile: errors, log, loadbalance and loop.

* ``errors``: error lines go to the container's stdout (the chain logs them
  as ``[ERROR] plugin/errors: 2 <name> <type>: <error>``); answers pass unchanged.
* ``log``: one line per query, CoreDNS's common log format
  (``[INFO] 10.244.1.5:41000 - 1234 "A IN web.default.svc.cluster.local. udp 47 false 512" NOERROR qr,aa,rd 106 0.0001s``).
* ``loadbalance`` (round_robin): shuffles the A and AAAA records of every
  answer (CNAMEs stay first, as CoreDNS keeps them), with the seeded
  randomness, so clients spread over a headless Service's pods.
* ``loop``: at start-up the server sends itself ``<random>.<random>.<zone>
  HINFO``; if that query reaches the loop plugin more than twice the
  forwarder leads back to this server (the classic case: the node's
  resolv.conf points at a local stub like 127.0.0.53), CoreDNS logs
  ``[FATAL] plugin/loop: Loop (...) detected for zone "."`` and exits 1;
  otherwise the probe's first answer disables the check.
What they never do: make up an answer (loop answers SERVFAIL to its own probe when it stops a loop).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from engine.dns.message import SERVFAIL, DnsQuery, DnsResponse, ResourceRecord
from engine.dns.plugin import Next, Plugin, Request, ServerContext

if TYPE_CHECKING:
    from engine.dns.corefile import Directive

LOOP_THRESHOLD = 2


class Errors(Plugin):
    name = "errors"


class Log(Plugin):
    name = "log"

    def serve(self, request: Request, next: Next) -> DnsResponse:
        started = self.context.loop.now
        response = next(request)
        q = request.query
        self.context.log(
            f'[INFO] {request.client or "0.0.0.0"}:{53} - {q.id} "{q.qtype} {q.qclass} {q.name} {request.proto} '
            f'{DnsResponse(q).wire_size()} false 512" {response.rcode} {",".join(response.flags())} '
            f"{response.wire_size()} {max(self.context.loop.now - started, 0.0001):.4f}s")
        return response


class LoadBalance(Plugin):
    name = "loadbalance"

    def serve(self, request: Request, next: Next) -> DnsResponse:
        response = next(request)
        if len(response.answers) > 1:
            response.answers = self.shuffle(response.answers)
        return response

    def shuffle(self, records: list[ResourceRecord]) -> list[ResourceRecord]:
        """roundRobin: CNAMEs first, then the address records shuffled, then the rest."""
        cnames = [r for r in records if r.type == "CNAME"]
        addresses = [r for r in records if r.type in ("A", "AAAA")]
        rest = [r for r in records if r.type not in ("CNAME", "A", "AAAA")]
        self.context.loop.random.shuffle(addresses)
        return cnames + addresses + rest


class Loop(Plugin):
    name = "loop"

    def __init__(self, directive: "Directive", context: ServerContext) -> None:
        super().__init__(directive, context)
        self.probe: DnsQuery | None = None
        self.seen = 0
        self.disabled = False
        self.on_fatal: Callable[[], None] = lambda: None
        """What the server does on a detected loop (the process exits 1)."""

    def start(self) -> None:
        rng = self.context.loop.random
        self.probe = DnsQuery(f"{rng.getrandbits(63)}.{rng.getrandbits(63)}.", "HINFO", id=rng.getrandbits(16))

    def serve(self, request: Request, next: Next) -> DnsResponse:
        query = request.query
        if self.disabled or self.probe is None or query.name != self.probe.name or query.qtype != "HINFO":
            return next(request)
        self.seen += 1
        if self.seen > LOOP_THRESHOLD:
            self.disabled = True
            self.context.log(f'[FATAL] plugin/loop: Loop ({self.context.address}:{53} -> :53) detected for zone ".", '
                             f'see https://coredns.io/plugins/loop#troubleshooting. Query: "HINFO {query.name}"')
            self.on_fatal()
            return DnsResponse(query, SERVFAIL)
        return next(request)

    def probed(self) -> None:
        """The probe came back without looping: the check is over."""
        self.disabled = True
