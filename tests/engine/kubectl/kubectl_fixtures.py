"""Pods whose status the kubectl tests write themselves (a uniquely named module, not ``conftest``).

No scheduler or kubelet runtime fills pod status yet, so the tests do what
those components will do: bind the pod and PUT its status subresource. The
printers read only those fields, so the same tests hold once real components
write them. Imported by name, so it must not be called ``conftest``: several
test folders have one, and only one module of a name can be imported.
"""

from __future__ import annotations

from typing import Any

import engine
from engine.components import ComponentContext, ComponentSpec


def add_pod(cluster: engine.Cluster, name: str, *, status: dict | None = None, node: str | None = None,
            namespace: str = "default", labels: dict | None = None, containers: list[dict] | None = None,
            **spec: Any) -> dict:
    """Create a pod, optionally bind it to ``node`` and write ``status`` as the kubelet would."""
    body = {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": namespace, "labels": labels or {"app": name}},
            "spec": {"containers": containers or [{"name": "app", "image": "nginx:1.25"}], **spec}}
    pod = cluster.admin.create(body)
    if node:
        cluster.admin.bind(namespace, name, node)
        pod = cluster.admin.get("pods", name, namespace)
    if status is not None:
        pod["status"] = status
        pod = cluster.admin.update_status(pod)
    return pod


def running_status(ip: str, *, restarts: int = 0, finished: str | None = None) -> dict:
    """A Running, Ready pod status with one container named ``app``."""
    container: dict[str, Any] = {"name": "app", "ready": True, "started": True, "restartCount": restarts,
                                 "image": "docker.io/library/nginx:1.25", "imageID": "",
                                 "containerID": "containerd://abc123",
                                 "state": {"running": {"startedAt": "2025-01-01T00:00:02Z"}}}
    if finished:
        container["lastState"] = {"terminated": {"exitCode": 1, "reason": "Error", "startedAt": "2025-01-01T00:00:01Z",
                                                 "finishedAt": finished, "containerID": "containerd://old"}}
    return {"phase": "Running", "hostIP": "172.18.0.3", "podIP": ip, "podIPs": [{"ip": ip}],
            "startTime": "2025-01-01T00:00:01Z",
            "conditions": [{"type": "Initialized", "status": "True"}, {"type": "Ready", "status": "True"},
                           {"type": "ContainersReady", "status": "True"}, {"type": "PodScheduled", "status": "True"}],
            "containerStatuses": [container]}


class ServiceAccountsOnly:
    """The kube-controller-manager running only its ServiceAccount controller.

    Pods need their namespace's ``default`` ServiceAccount (admission checks it); nothing else a
    controller does may change the objects these tests write by hand.
    """

    name = "kube-controller-manager"

    def __init__(self, context: ComponentContext) -> None:
        from engine.controllers.serviceaccount import ServiceAccountsController
        self.context = context
        self.controller = ServiceAccountsController(context)

    def start(self) -> None:
        self.controller.start()
        self.context.informers.start()

    def stop(self) -> None:
        self.controller.stop()
        self.context.informers.stop()


KUBECTL_TEST_COMPONENTS = [
    ComponentSpec("kube-controller-manager", "control-plane", "kubectl_fixtures:ServiceAccountsOnly",
                  user="system:kube-controller-manager"),
    ComponentSpec("kubelet", "node", "engine.kubelet.node_status:NodeStatusAgent",
                  user="system:node:{node}", groups=("system:nodes",)),
]
"""What the kubectl tests run: nodes that register and report Ready, and default ServiceAccounts. No
scheduler, controllers or pod runtime, whose writes would race the statuses the tests set by hand (the
printers only read fields, so they need no component to be tested)."""
