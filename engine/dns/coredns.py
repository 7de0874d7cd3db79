"""CoreDNS: the cluster's DNS server, built from its Corefile, as a component that runs in a pod.

``CoreDNS(context)`` is what ``coredns -conf /etc/coredns/Corefile`` runs
(the image ``registry.k8s.io/coredns/coredns:v1.11.1``; ``engine.dns.program``
starts it in the container). On ``start()`` it reads the Corefile from the
container's filesystem (``options["fs"]``, where the kubelet mounted the
``coredns`` ConfigMap; ``options["conf"]`` is the ``-conf`` path), builds
one server per server block with the block's plugins in plugin.cfg order
(``engine.dns.plugin.ORDER``), starts the kubernetes plugin's informers
(through its own client: the ``coredns`` ServiceAccount), reads the
forward plugin's ``/etc/resolv.conf`` and logs CoreDNS's start-up lines
(``.:53``, ``CoreDNS-1.11.1``, ``linux/amd64, go1.20.7, ae2bbc2``).

It answers:
* ``handle_dns(query, client)``: a query on port 53 -> ``DnsResponse``
  (REFUSED when no server block's zone covers the name);
* ``handle_http(request)``: ``health`` on :8080 ``/health`` (200 ``OK``),
  ``ready`` on :8181 ``/ready`` (200 ``OK`` once every plugin that reports
  readiness is ready, i.e. the kubernetes plugin's informers have synced;
  503 with their names before), ``prometheus`` on :9153 ``/metrics``
  (request, response, cache and forward counters in the text format).

``reload`` re-reads the Corefile every 30 s (plus up to 15 s of seeded
jitter) and rebuilds the servers when its SHA512 changed, logging
``[INFO] Reloading`` and ``[INFO] plugin/reload: Running configuration SHA512 = ...``;
a Corefile that does not parse is logged and the old configuration kept.
Log lines go to ``options["log"]`` (the container's stdout). Queries
forwarded upstream leave through ``options["send"]`` (the pod's network:
``send(ip, port, query)``); an upstream on 127.0.0.0/8 is this very server,
which is how the ``loop`` plugin sees a forwarding loop. What it never
does: write to the API server.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from typing import Any

from engine.components import ComponentContext
from engine.dns import corefile
from engine.dns.message import REFUSED, DnsQuery, DnsResponse
from engine.dns.plugin import ORDER, Plugin, Request, ServerContext, chain, parse_duration, zone_of
from engine.dns.plugins.basic import Errors, LoadBalance, Log, Loop
from engine.dns.plugins.cache import Cache
from engine.dns.plugins.forward import Forward
from engine.dns.plugins.kubernetes import Kubernetes

log = logging.getLogger(__name__)

VERSION = "1.11.1"
DEFAULT_CONF = "/etc/coredns/Corefile"
HEALTH_PORT = 8080
READY_PORT = 8181
METRICS_PORT = 9153
RELOAD_INTERVAL = 30.0
RELOAD_JITTER = 15.0

QUERY_PLUGINS: dict[str, type[Plugin]] = {"errors": Errors, "log": Log, "loadbalance": LoadBalance, "cache": Cache,
                                          "kubernetes": Kubernetes, "loop": Loop, "forward": Forward}
SERVER_PLUGINS = {"health", "ready", "prometheus", "reload"}
"""Plugins that serve HTTP or watch the Corefile rather than answer queries: the server handles them."""


class Server:
    """One server block: its zones, port and plugin chain."""

    def __init__(self, block: corefile.ServerBlock, context: ServerContext,
                 lookup: Callable[[str, str], DnsResponse]) -> None:
        self.block = block
        self.zones = block.zones
        self.port = block.port
        self.context = context
        plugins: list[Plugin] = []
        for directive in sorted(block.directives, key=lambda d: ORDER.index(d.name) if d.name in ORDER else -1):
            if directive.name in SERVER_PLUGINS:
                continue
            cls = QUERY_PLUGINS.get(directive.name)
            if cls is None:
                raise corefile.CorefileError(f"Corefile:{directive.line} - Error during parsing: "
                                             f"Unknown directive '{directive.name}'")
            plugin = Kubernetes(directive, context, lookup) if cls is Kubernetes else cls(directive, context)
            plugins.append(plugin)
        self.plugins = plugins
        self.handler = chain(plugins, context)

    def plugin(self, name: str) -> Plugin | None:
        return next((p for p in self.plugins if p.name == name), None)

    def has(self, name: str) -> bool:
        return self.block.directive(name) is not None


class CoreDNS:
    """The CoreDNS process: servers built from the Corefile, the HTTP endpoints, reload."""

    name = "coredns"

    def __init__(self, context: ComponentContext) -> None:
        self.context = context
        self.loop = context.loop
        options = context.options
        self.fs: Any = options.get("fs") if options.get("fs") is not None else {}
        self.conf = options.get("conf") or DEFAULT_CONF
        self.send: Callable[[str, int, DnsQuery], DnsResponse | None] | None = options.get("send")
        self.address: str = options.get("address") or "0.0.0.0"
        self.write_log: Callable[[str], None] = options.get("log") or (lambda line: log.info("%s", line))
        self.on_fatal: Callable[[], None] = options.get("on_fatal") or (lambda: None)
        self.running = False
        self.shutting_down = False
        self.servers: list[Server] = []
        self.digest = ""
        self.metrics_context = ServerContext(self.loop)
        self._reload_timer: Any = None

    # -- life -------------------------------------------------------------------------
    def start(self) -> None:
        text = self.fs.get(self.conf)
        if text is None:
            raise FileNotFoundError(f"open {self.conf}: no such file or directory")
        self.servers = self._build(text)
        self.digest = hashlib.sha512(text.encode()).hexdigest()
        self.running = True
        self.context.informers.start()
        for server in self.servers:
            self.write_log(",".join(f"{zone}:{server.port}" for zone in server.zones))
        if any(server.has("reload") for server in self.servers):
            self.write_log(f"[INFO] plugin/reload: Running configuration SHA512 = {self.digest}")
        self.write_log(f"CoreDNS-{VERSION}")
        self.write_log("linux/amd64, go1.20.7, ae2bbc2")
        if any(server.has("reload") for server in self.servers):
            self._schedule_reload()
        self._probe_loops()

    def stop(self) -> None:
        self.running = False
        for server in self.servers:
            for plugin in server.plugins:
                plugin.stop()
        self.context.informers.stop()
        if self._reload_timer is not None:
            self._reload_timer.cancel()
            self._reload_timer = None

    def _build(self, text: str) -> list[Server]:
        servers = []
        for block in corefile.parse(text):
            context = ServerContext(self.loop, self.context.informers, self.fs, self._send, self.write_log,
                                    self.metrics_context.metrics, f"dns://:{block.port}", self.address)
            servers.append(Server(block, context, self.lookup))
        for server in servers:
            for plugin in server.plugins:
                plugin.start()
                if isinstance(plugin, Loop):
                    plugin.on_fatal = self.on_fatal
        return servers

    def _probe_loops(self) -> None:
        for server in self.servers:
            loop = server.plugin("loop")
            if isinstance(loop, Loop) and loop.probe is not None:
                self.handle_dns(loop.probe, "127.0.0.1")
                loop.probed()

    # -- reload ---------------------------------------------------------------------------
    def _schedule_reload(self) -> None:
        delay = RELOAD_INTERVAL + self.loop.random.uniform(0, RELOAD_JITTER)
        self._reload_timer = self.loop.call_later(delay, self._check_reload, label="coredns reload")

    def _check_reload(self) -> None:
        if not self.running:
            return
        text = self.fs.get(self.conf, "")
        digest = hashlib.sha512(text.encode()).hexdigest()
        if digest != self.digest:
            try:
                servers = self._build(text)
            except (corefile.CorefileError, FileNotFoundError) as error:
                self.write_log(f"[ERROR] Restart failed: {error}")
            else:
                self.write_log("[INFO] Reloading")
                for server in self.servers:
                    for plugin in server.plugins:
                        plugin.stop()
                self.servers, self.digest = servers, digest
                self.context.informers.start()
                self.write_log(f"[INFO] plugin/reload: Running configuration SHA512 = {digest}")
                self.write_log("[INFO] Reloading complete")
        self._schedule_reload()

    # -- DNS --------------------------------------------------------------------------------
    def _send(self, address: str, port: int, query: DnsQuery) -> DnsResponse | None:
        if address.startswith("127.") and any(server.port == port for server in self.servers):
            return self.handle_dns(query, "127.0.0.1")
        return self.send(address, port, query) if self.send is not None else None

    def handle_dns(self, query: DnsQuery, client: str = "", port: int = 53, proto: str = "udp") -> DnsResponse:
        """Answer ``query`` as the server block for ``port`` whose zone is the longest match."""
        best: tuple[int, Server] | None = None
        for server in self.servers:
            if server.port != port:
                continue
            zone = zone_of(query.name, server.zones)
            if zone is not None and (best is None or len(zone) > best[0]):
                best = (len(zone), server)
        if best is None or not self.running:
            return DnsResponse(query, REFUSED)
        server = best[1]
        labels = {"server": server.context.server, "zone": best_zone(query.name, server.zones), "proto": proto,
                  "family": "1", "type": query.qtype}
        self.metrics_context.count("coredns_dns_requests_total", **labels)
        response = server.handler(Request(query, client, proto))
        self.metrics_context.count("coredns_dns_responses_total", server=server.context.server,
                                   zone=labels["zone"], rcode=response.rcode)
        return response

    def lookup(self, name: str, qtype: str) -> DnsResponse:
        """A query through this server (the kubernetes plugin's upstream for ExternalName targets)."""
        return self.handle_dns(DnsQuery(name, qtype), "127.0.0.1")

    def lameduck(self) -> float:
        """Enter lameduck: ``ready`` stops answering OK; returns ``health { lameduck DURATION }``, how long the
        stopping server keeps answering (0: none)."""
        self.shutting_down = True
        for server in self.servers:
            health = server.block.directive("health")
            duration = health.option("lameduck") if health is not None else None
            if duration:
                return parse_duration(duration[0])
        return 0.0

    # -- HTTP -----------------------------------------------------------------------------------
    def ready(self) -> list[str]:
        """The plugins not ready yet (empty: ready)."""
        return sorted({p.name for s in self.servers if s.has("ready") for p in s.plugins if not p.ready()})

    def handle_http(self, request: dict[str, Any]) -> dict[str, Any] | None:
        port, path = request.get("port"), request.get("path", "/")
        if not self.running:
            return None
        if port == HEALTH_PORT and any(s.has("health") for s in self.servers):
            return _text(200, "OK") if path == "/health" else _text(404, "404 page not found\n")
        if port == READY_PORT and any(s.has("ready") for s in self.servers):
            if path != "/ready":
                return _text(404, "404 page not found\n")
            waiting = self.ready()
            if self.shutting_down:
                return _text(503, "shutting down")
            return _text(503, ", ".join(waiting)) if waiting else _text(200, "OK")
        if port == METRICS_PORT and any(s.has("prometheus") for s in self.servers):
            return _text(200, self.metrics()) if path == "/metrics" else _text(404, "404 page not found\n")
        return None

    def metrics(self) -> str:
        """The counters in Prometheus's text format, sorted."""
        lines = []
        for (metric, labels), value in sorted(self.metrics_context.metrics.items()):
            rendered = ",".join(f'{key}="{val}"' for key, val in labels)
            lines.append(f"{metric}{{{rendered}}} {value}")
        return "\n".join(lines) + "\n"


def best_zone(name: str, zones: list[str]) -> str:
    return zone_of(name, zones) or "."


def _text(status: int, body: str) -> dict[str, Any]:
    return {"status": status, "headers": {"Content-Type": "text/plain; charset=utf-8"}, "body": body}
