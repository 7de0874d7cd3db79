"""The ``coredns`` binary of ``registry.k8s.io/coredns/coredns:v1.11.1``: CoreDNS as the process of a pod.

``CoreDNSProgram`` is a ``ComponentProgram`` (in-cluster client from the
pod's ServiceAccount token, flags from argv: ``-conf /etc/coredns/Corefile``)
running ``engine.dns.coredns:CoreDNS``. It listens on 53 (DNS, UDP and TCP),
8080 (health), 8181 (ready) and 9153 (metrics) from the start, as the
binary binds its sockets before the kubernetes plugin has synced;
on SIGTERM it keeps answering for ``health``'s ``lameduck`` period (5 s in
kubeadm's Corefile) before it stops and exits 0:
``handle_dns`` answers through the server (SERVFAIL while the component has
not started: no API server yet), ``handle_http`` serves the probes. The
server's log lines go to the container's stdout (``kubectl logs``); a loop
found by the ``loop`` plugin ends the process with exit code 1, so the pod
goes into CrashLoopBackOff as real CoreDNS pods do. Queries forwarded
upstream leave through ``ctx.dial(ip, 53)`` (the pod's network), the way
``forward`` reaches a server over TCP. ``register_images`` publishes the
image (the real one's compressed linux/amd64 size). What it never does:
read anything of the node but what the pod mounts.
"""

from __future__ import annotations

from typing import Any

from engine.dns.coredns import HEALTH_PORT, METRICS_PORT, READY_PORT
from engine.dns.manifests import IMAGE
from engine.dns.message import SERVFAIL, DnsQuery, DnsResponse
from engine.runtime.programs.component import SIGINT, SIGTERM, ComponentProgram
from engine.sim.hostnet import ConnectionRefused

DNS_PORT = 53
IMAGE_SIZE = 16_190_000
"""registry.k8s.io/coredns/coredns:v1.11.1, linux/amd64: about 16.2 MB compressed."""


class CoreDNSProgram(ComponentProgram):
    name = "coredns"
    target = "engine.dns.coredns:CoreDNS"

    def start(self, ctx: Any) -> None:
        for port in (DNS_PORT, HEALTH_PORT, READY_PORT, METRICS_PORT):
            ctx.listen(port)
        super().start(ctx)

    def component_options(self) -> dict[str, Any]:
        return {"send": self._send, "log": lambda line: self.ctx.stdout(line + "\n"),
                "on_fatal": lambda: self.ctx.exit(1)}

    def on_signal(self, signal: int) -> None:
        """SIGTERM: ``health { lameduck 5s }`` keeps serving for the lameduck period, then the process exits 0."""
        lameduck = self.component.lameduck() if self.component is not None else 0.0
        if signal not in (SIGTERM, SIGINT) or lameduck <= 0:
            super().on_signal(signal)
            return
        self.ctx.stdout("[INFO] SIGTERM: Shutting down servers then terminating\n")
        self.ctx.stdout(f"[INFO] plugin/health: Going into lameduck mode for {lameduck:g}s\n")
        self.ctx.call_later(lameduck, super().on_signal, signal)

    def _send(self, address: str, port: int, query: DnsQuery) -> DnsResponse | None:
        try:
            server = self.ctx.dial(address, port)
        except (ConnectionRefused, TimeoutError):
            return None
        handle = getattr(server, "handle_dns", None)
        return handle(query) if handle is not None else None

    def handle_dns(self, query: DnsQuery) -> DnsResponse:
        if self.component is None:
            return DnsResponse(query, SERVFAIL)
        return self.component.handle_dns(query)

    def handle_http(self, request: dict[str, Any]) -> dict[str, Any] | None:
        if self.component is None:
            return None
        return self.component.handle_http(request)


def register_images(registry: Any) -> None:
    """Publish the CoreDNS image into ``registry``."""
    registry.register(IMAGE, CoreDNSProgram, size=IMAGE_SIZE, entrypoint=["/coredns"])
