"""CoreDNS's plugin chain: the fixed order of plugin.cfg, the Plugin interface, and what plugins share.

CoreDNS compiles its plugins in the order of ``plugin.cfg``; a Corefile only
says which of them a server runs and with which arguments. So a query to
the default kubeadm Corefile runs ``errors -> loadbalance -> cache ->
kubernetes -> loop -> forward`` whatever order the lines are written in
(``ORDER`` below is v1.11's plugin.cfg). Each plugin's ``serve(request,
next)`` either answers or calls ``next(request)``; the kubernetes plugin,
for instance, passes a query on only when the name is outside its zones
(or, with ``fallthrough``, when it found nothing). A chain that runs out of
plugins answers SERVFAIL (``plugin/forward: no next plugin found``), as
CoreDNS does.

``ServerContext`` is what every plugin of one server is given: the loop
(time and seeded randomness), the informer factory (the kubernetes
plugin's only source), the container's filesystem (``/etc/resolv.conf``
for forward), ``send(ip, port, query)`` to reach other DNS servers,
``log(line)`` (the container's stdout, where CoreDNS writes its logs) and
the Prometheus counters. What this module never does: answer a query.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, MutableMapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from engine.dns.message import SERVFAIL, DnsQuery, DnsResponse

if TYPE_CHECKING:
    from engine.dns.corefile import Directive
    from engine.sim.loop import Loop

ORDER = ("root", "metadata", "geoip", "cancel", "tls", "timeouts", "reload", "nsid", "bufsize", "bind", "debug",
         "trace", "ready", "health", "pprof", "prometheus", "errors", "log", "dnstap", "local", "dns64", "acl",
         "any", "chaos", "loadbalance", "tsig", "cache", "rewrite", "header", "dnssec", "autopath", "minimal",
         "template", "transfer", "hosts", "route53", "azure", "clouddns", "k8s_external", "kubernetes", "file",
         "auto", "secondary", "etcd", "loop", "forward", "grpc", "erratic", "whoami", "on", "sign", "view")
"""plugin.cfg of CoreDNS v1.11: the order queries flow through the plugins a server block enables."""

Send = Callable[[str, int, DnsQuery], "DnsResponse | None"]
"""``send(server_ip, port, query)``: the response, or None when nothing answered before the timeout."""


@dataclass
class Request:
    """A query as a plugin sees it: the question, who asked, over which protocol."""

    query: DnsQuery
    client: str = ""
    proto: str = "udp"


Next = Callable[[Request], DnsResponse]


@dataclass
class ServerContext:
    """What the plugins of one CoreDNS server share."""

    loop: "Loop"
    informers: Any = None
    fs: MutableMapping[str, str] = field(default_factory=dict)
    send: Send | None = None
    log: Callable[[str], None] = lambda line: None
    metrics: Counter = field(default_factory=Counter)
    server: str = "dns://:53"
    address: str = "0.0.0.0"
    """The server's own address (its pod IP): the source of the queries it forwards."""

    def count(self, metric: str, **labels: str) -> None:
        """Add 1 to the Prometheus counter ``metric{labels}``."""
        self.metrics[(metric, tuple(sorted(labels.items())))] += 1


class Plugin:
    """A CoreDNS plugin. ``serve`` answers or calls ``next``; ``ready`` feeds the ``ready`` plugin."""

    name = ""

    def __init__(self, directive: "Directive", context: ServerContext) -> None:
        self.directive = directive
        self.context = context

    def start(self) -> None:
        """OnStartup."""

    def stop(self) -> None:
        """OnShutdown."""

    def ready(self) -> bool:
        return True

    def serve(self, request: Request, next: Next) -> DnsResponse:
        return next(request)


def chain(plugins: list[Plugin], context: ServerContext) -> Callable[[Request], DnsResponse]:
    """The handler that runs ``plugins`` (already in ``ORDER``) on a request."""

    def run(index: int, request: Request) -> DnsResponse:
        if index == len(plugins):
            last = plugins[-1].name if plugins else "root"
            context.log(f"[ERROR] plugin/{last}: no next plugin found")
            return DnsResponse(request.query, SERVFAIL)
        return plugins[index].serve(request, lambda next_request: run(index + 1, next_request))

    return lambda request: run(0, request)


def zone_of(name: str, zones: list[str]) -> str | None:
    """The longest of ``zones`` that ``name`` is in (plugin.Zones.Matches), None when none is."""
    best = None
    for zone in zones:
        if zone == "." or name == zone or name.endswith("." + zone):
            if best is None or len(zone) > len(best):
                best = zone
    return best


def parse_duration(text: str) -> float:
    """A Go duration or plain seconds: ``5s``, ``30``, ``1m`` -> seconds."""
    units = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
    for unit in ("ms", "s", "m", "h"):
        if text.endswith(unit) and text[: -len(unit)].replace(".", "", 1).isdigit():
            return float(text[: -len(unit)]) * units[unit]
    return float(text)
