"""The ``registry.k8s.io/metrics-server/metrics-server`` image's binary: metrics-server as a container's process.

``MetricsServerProgram`` is a ``ComponentProgram`` running ``engine.addons.metrics_server.server:MetricsServer``
with the in-cluster config (its ServiceAccount token). It hands the component the pod's ``ctx.dial`` (the
connection to each kubelet leaves from the pod), listens on ``--secure-port`` and answers there: ``/livez`` and
``/readyz`` (ready once a scrape has stored metrics, as the real ``metric-storage-ready`` check) and the
``metrics.k8s.io/v1beta1`` paths the aggregation layer forwards (``/apis/metrics.k8s.io/v1beta1/nodes[/NAME]``,
``/apis/metrics.k8s.io/v1beta1[/namespaces/NS]/pods[/NAME]``, ``?labelSelector=``), with JSON bodies.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs, urlsplit

from engine.addons.metrics_server.manifests import IMAGE, SECURE_PORT
from engine.api import errors
from engine.runtime.programs.component import ComponentProgram

IMAGE_SIZE = 19_600_000          # registry.k8s.io/metrics-server/metrics-server:v0.7.1, linux/amd64, compressed
API_PREFIX = "/apis/metrics.k8s.io/v1beta1"


def route(path: str) -> tuple[str, str | None, str | None] | None:
    """(resource, namespace, name) of a metrics.k8s.io path, or None."""
    if not path.startswith(API_PREFIX + "/"):
        return None
    parts = [part for part in path[len(API_PREFIX):].split("/") if part]
    namespace = None
    if parts[:1] == ["namespaces"] and len(parts) >= 3:
        namespace, parts = parts[1], parts[2:]
    if not parts or parts[0] not in ("nodes", "pods") or len(parts) > 2:
        return None
    if parts[0] == "nodes" and namespace is not None:
        return None
    return parts[0], namespace, parts[1] if len(parts) == 2 else None


class MetricsServerProgram(ComponentProgram):
    name = "metrics-server"
    target = "engine.addons.metrics_server.server:MetricsServer"

    def start(self, ctx: Any) -> None:
        super().start(ctx)
        if ctx.alive:
            ctx.listen(int(self.options.get("secure-port") or SECURE_PORT))

    def component_options(self) -> dict[str, Any]:
        return {"dial": self.ctx.dial}

    def handle_http(self, request: dict[str, Any]) -> dict[str, Any] | None:
        parts = urlsplit(request.get("path", "/"))
        if parts.path in ("/livez", "/healthz"):
            return {"status": 200, "body": "ok"}
        if parts.path == "/readyz":
            ready = self.component is not None and self.component.scrapes > 0
            return {"status": 200 if ready else 500, "body": "ok" if ready else "[-]metric-storage-ready failed"}
        found = route(parts.path)
        if self.component is None:
            return {"status": 503, "body": "metrics-server is not connected to the API server"}
        if found is None:
            return {"status": 404, "body": "404 page not found\n"}
        resource, namespace, name = found
        selector = (parse_qs(parts.query).get("labelSelector") or [None])[0]
        try:
            body = self.component.handle("get" if name else "list", resource, namespace, name, selector)
        except errors.ApiError as error:
            return {"status": error.code, "body": json.dumps(error.status)}
        return {"status": 200, "body": json.dumps(body), "headers": {"Content-Type": "application/json"}}


def register_images(registry: Any) -> None:
    registry.register(IMAGE, MetricsServerProgram, size=IMAGE_SIZE, entrypoint=["/metrics-server"])
