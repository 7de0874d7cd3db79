"""The ``kubernetesui/dashboard`` image's binary: the Dashboard backend as a container's process.

``DashboardProgram`` is a ``ComponentProgram`` running ``engine.addons.dashboard.backend:Dashboard`` with the
in-cluster config (the ``kubernetes-dashboard`` ServiceAccount's token, the API server through the
``kubernetes`` Service). It listens on 8443 (``--auto-generate-certificates``: HTTPS, which the packet model
does not encrypt) and hands every HTTP request that reaches it there to the backend; while it has no API server
connection yet (the dial is retried with back-off) it answers 503. Its stdout is the backend's log.
"""

from __future__ import annotations

from typing import Any

from engine.addons.dashboard.manifests import IMAGE, PORT
from engine.runtime.programs.component import ComponentProgram

IMAGE_SIZE = 75_000_000          # kubernetesui/dashboard:v2.7.0, linux/amd64, compressed


class DashboardProgram(ComponentProgram):
    name = "kubernetes-dashboard"
    target = "engine.addons.dashboard.backend:Dashboard"

    def start(self, ctx: Any) -> None:
        super().start(ctx)
        if ctx.alive:
            ctx.listen(PORT)

    def component_options(self) -> dict[str, Any]:
        return {"log": lambda line: self.ctx.stdout(line + "\n")}

    def handle_http(self, request: dict[str, Any]) -> dict[str, Any] | None:
        if not self.ctx.alive or int(request.get("port", PORT)) not in self.ctx.ports:
            return None
        if self.component is None:
            return {"status": 503, "headers": {"Content-Type": "text/plain; charset=utf-8"},
                    "body": "the dashboard is not connected to the API server yet\n"}
        return self.component.handle(request)


def register_images(registry: Any) -> None:
    registry.register(IMAGE, DashboardProgram, size=IMAGE_SIZE, entrypoint=["/dashboard"])
