"""kube-proxy's health servers (``pkg/proxy/healthcheck``): what cloud load balancers and probes ask.

**Service health server.** For every Service that needs one (``type:
LoadBalancer`` with ``externalTrafficPolicy: Local``, so the API server gave
it a ``spec.healthCheckNodePort``) kube-proxy listens on
``0.0.0.0:<healthCheckNodePort>`` and answers any path: 200 while this node
has ready local endpoints of the Service and the proxier is healthy, 503
otherwise, with ``X-Content-Type-Options: nosniff``,
``X-Load-Balancing-Endpoint-Weight: <local endpoints>`` and upstream's
dedented JSON body (``service``, ``localEndpoints``, ``serviceProxyHealthy``).
A cloud load balancer probing it sends external traffic only to the nodes
that can serve it without a second hop, which is what keeps the client's
source address. ``sync_services`` opens and closes the listeners as the
Services come and go; ``sync_endpoints`` updates the counts after each sync.

**Proxier health server.** On ``healthzBindAddress`` (default
``0.0.0.0:10256``) ``/healthz`` and ``/livez`` answer 200 while the proxier
has no update queued for longer than ``healthTimeout`` (twice the sync
period), 503 otherwise; ``/healthz`` also says 503 when the node is being
deleted or tainted ``ToBeDeletedByClusterAutoscaler`` (``nodeEligible``),
so a load balancer drains it first. Bodies carry ``lastUpdated`` /
``currentTime`` as Go prints a ``time.Time``.

Binding is the host's business: ``listen(port, handler)`` and ``close(port)``
are given by whoever runs kube-proxy (the pod program: the container's
sockets in the node's network namespace). A handler answers
``handle_http(request)``. Nothing here touches the API server.
"""

from __future__ import annotations

import datetime as _dt
from typing import Any, Callable

from engine.api.meta import EPOCH
from engine.proxy.changetracker import EndpointsMap, ServicePortMap

DEFAULT_HEALTHZ_BIND_ADDRESS = "0.0.0.0:10256"
TO_BE_DELETED_TAINT = "ToBeDeletedByClusterAutoscaler"

Listen = Callable[[int, Any], None]
Close = Callable[[int], None]


def health_check_node_ports(services: ServicePortMap) -> dict[tuple[str, str], int]:
    """ServicePortMap.HealthCheckNodePorts: (namespace, name) -> port, for Services that have one."""
    return {(name.namespace, name.name): info.health_check_node_port
            for name, info in services.items() if info.health_check_node_port}


def local_ready_endpoints(endpoints: EndpointsMap) -> dict[tuple[str, str], int]:
    """EndpointsMap.LocalReadyEndpoints: how many ready endpoints of each Service live on this node."""
    found: dict[tuple[str, str], set[str]] = {}
    for name, infos in endpoints.items():
        for endpoint in infos:
            if endpoint.is_local and endpoint.ready:
                found.setdefault((name.namespace, name.name), set()).add(str(endpoint))
    return {key: len(addresses) for key, addresses in found.items()}


def go_time(now: float | None, start: float | None = None) -> str:
    """A ``time.Time`` as ``%q`` prints it; ``start`` adds the monotonic reading ``m=+...`` of ``time.Now()``."""
    if now is None:
        return "0001-01-01 00:00:00 +0000 UTC"
    moment = EPOCH + _dt.timedelta(seconds=now)
    text = moment.strftime("%Y-%m-%d %H:%M:%S")
    fraction = f"{moment.microsecond * 1000:09d}".rstrip("0")
    text += (f".{fraction}" if fraction else "") + " +0000 UTC"
    return text + (f" m=+{now - start:.9f}" if start is not None else "")


class ServiceHealthServer:
    """One HTTP listener per health check node port, answering for its Service."""

    def __init__(self, listen: Listen, close: Close, proxier_healthy: Callable[[], bool] = lambda: True) -> None:
        self.listen, self.close = listen, close
        self.proxier_healthy = proxier_healthy
        self.services: dict[tuple[str, str], int] = {}
        self.endpoints: dict[tuple[str, str], int] = {}
        self._handlers: dict[int, _ServiceHandler] = {}

    def sync_services(self, ports: dict[tuple[str, str], int]) -> None:
        """Open a listener for each new (Service, port), close the ones no longer wanted."""
        for key, port in list(self.services.items()):
            if ports.get(key) != port:
                self.close(port)
                self._handlers.pop(port, None)
                del self.services[key]
        for key, port in sorted(ports.items()):
            if key in self.services:
                continue
            handler = _ServiceHandler(self, key)
            try:
                self.listen(port, handler)
            except OSError:              # upstream logs "Failed to start healthcheck" and retries next sync
                continue
            self.services[key] = port
            self._handlers[port] = handler

    def sync_endpoints(self, counts: dict[tuple[str, str], int]) -> None:
        self.endpoints = {key: counts.get(key, 0) for key in self.services}

    def close_all(self) -> None:
        self.sync_services({})


class _ServiceHandler:
    """hcHandler.ServeHTTP: the same answer on every path."""

    def __init__(self, server: ServiceHealthServer, key: tuple[str, str]) -> None:
        self.server, self.key = server, key

    def handle_http(self, request: dict[str, Any]) -> dict[str, Any]:
        count = self.server.endpoints.get(self.key, 0)
        healthy = self.server.proxier_healthy()
        namespace, name = self.key
        body = ("{\n"
                "\t\"service\": {\n"
                f"\t\t\"namespace\": \"{namespace}\",\n"
                f"\t\t\"name\": \"{name}\"\n"
                "\t},\n"
                f"\t\"localEndpoints\": {count},\n"
                f"\t\"serviceProxyHealthy\": {'true' if healthy else 'false'}\n"
                "}")
        return {"status": 200 if count and healthy else 503,
                "headers": {"Content-Type": "application/json", "X-Content-Type-Options": "nosniff",
                            "X-Load-Balancing-Endpoint-Weight": str(count)},
                "body": body}


class ProxierHealthServer:
    """``/healthz`` and ``/livez`` on the healthz bind address: is the proxier keeping up?"""

    def __init__(self, loop: Any, health_timeout: float, bind_address: str = DEFAULT_HEALTHZ_BIND_ADDRESS) -> None:
        self.loop = loop
        self.health_timeout = health_timeout
        self.bind_address = bind_address or DEFAULT_HEALTHZ_BIND_ADDRESS
        self.port = int(self.bind_address.rsplit(":", 1)[1])
        self.started = loop.now
        self.last_updated: float | None = None
        self.oldest_pending: float | None = None
        self.node: dict | None = None

    def queued_update(self) -> None:
        """A change is waiting for the next sync (QueuedUpdate)."""
        if self.oldest_pending is None:
            self.oldest_pending = self.loop.now

    def updated(self) -> None:
        """A sync finished (Updated)."""
        self.last_updated = self.loop.now
        self.oldest_pending = None

    def is_healthy(self) -> bool:
        return self.oldest_pending is None or self.loop.now - self.oldest_pending < self.health_timeout

    def node_eligible(self) -> bool:
        """Not being deleted and not tainted for deletion by the cluster autoscaler."""
        if self.node is None:
            return True
        if self.node["metadata"].get("deletionTimestamp"):
            return False
        taints = (self.node.get("spec") or {}).get("taints") or []
        return not any(t.get("key") == TO_BE_DELETED_TAINT for t in taints)

    def handle_http(self, request: dict[str, Any]) -> dict[str, Any]:
        path = str(request.get("path") or "/").split("?", 1)[0]
        if path not in ("/healthz", "/livez"):
            return {"status": 404, "headers": {"Content-Type": "text/plain; charset=utf-8",
                                               "X-Content-Type-Options": "nosniff"},
                    "body": "404 page not found\n"}
        healthy = self.is_healthy()
        now = go_time(self.loop.now, self.started)
        last = go_time(self.last_updated, self.started) if self.last_updated is not None else go_time(None)
        if healthy:
            last = now          # upstream reports a "recent" lastUpdated while healthy
        if path == "/healthz":
            eligible = self.node_eligible()
            healthy = healthy and eligible
            body = f'{{"lastUpdated": "{last}","currentTime": "{now}", "nodeEligible": {str(eligible).lower()}}}'
        else:
            body = f'{{"lastUpdated": "{last}","currentTime": "{now}"}}'
        return {"status": 200 if healthy else 503,
                "headers": {"Content-Type": "application/json", "X-Content-Type-Options": "nosniff"},
                "body": body}
