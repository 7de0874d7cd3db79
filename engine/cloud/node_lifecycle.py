"""The cloud node lifecycle controller (``k8s.io/cloud-provider/controllers/nodelifecycle``).

Every ``--node-monitor-period`` (5 s) it looks at each node that is not
Ready (a Ready node is plainly running, and loses any shutdown taint) and
asks the cloud about its instance:

- the instance no longer exists (terminated, or never found): the Node is
  deleted, with a ``DeletingNode`` event ("Deleting node node-2 because it's
  not present according to cloud provider"); its pods are then garbage
  collected by the pod GC as orphans;
- the instance is shut down (stopping / stopped): the Node gets the
  ``node.cloudprovider.kubernetes.io/shutdown:NoSchedule`` taint, so nothing
  new lands there while the machine may still come back.

So a machine deleted in the cloud's console disappears from the cluster once
the kube-controller-manager's node lifecycle controller has marked it
NotReady (``--node-monitor-grace-period``, 40 s) and this loop next runs. A
cloud error leaves the node as it is until the next period.
"""

from __future__ import annotations

import logging

from engine import flags
from engine.api import errors
from engine.api.frozen import thaw
from engine.client.record import NORMAL, EventRecorder
from engine.cloud.provider import CloudError
from engine.components import ComponentContext
from engine.sim.loop import Timer

log = logging.getLogger(__name__)

SHUTDOWN_TAINT = {"key": "node.cloudprovider.kubernetes.io/shutdown", "effect": "NoSchedule"}
DELETE_NODE_EVENT = "DeletingNode"


def ready_status(node: dict) -> str:
    for condition in (node.get("status") or {}).get("conditions") or ():
        if condition.get("type") == "Ready":
            return condition.get("status", "Unknown")
    return "Unknown"


def has_shutdown_taint(node: dict) -> bool:
    return any(t.get("key") == SHUTDOWN_TAINT["key"] and t.get("effect") == SHUTDOWN_TAINT["effect"]
               for t in (node.get("spec") or {}).get("taints") or ())


class CloudNodeLifecycleController:
    """Deletes nodes whose instance is gone, taints nodes whose instance is shut down."""

    name = "cloud-node-lifecycle"
    service_account = "cloud-node-lifecycle-controller"

    def __init__(self, context: ComponentContext) -> None:
        self.client = context.client
        self.loop = context.loop
        self.provider = context.options["provider"]
        self.nodes = context.informers.informer("nodes")
        self.recorder = EventRecorder(self.client, "cloud-node-lifecycle-controller")
        self._timer: Timer | None = None

    def start(self) -> None:
        self._timer = self.loop.call_later(flags.node_monitor_period, self._tick, label="cloud-node-lifecycle")

    def stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _tick(self) -> None:
        self.monitor_nodes()
        self._timer = self.loop.call_later(flags.node_monitor_period, self._tick, label="cloud-node-lifecycle")

    def monitor_nodes(self) -> None:
        """MonitorNodes: one pass over every node."""
        for node in sorted(self.nodes.lister.list(), key=lambda n: n["metadata"]["name"]):
            try:
                self._monitor(node)
            except (CloudError, errors.ApiError) as error:
                log.debug("cloud-node-lifecycle: node %s: %s", node["metadata"]["name"], error)

    def _monitor(self, node: dict) -> None:
        name = node["metadata"]["name"]
        if ready_status(node) == "True":
            if has_shutdown_taint(node):
                self._set_taint(name, present=False)
            return
        if not self.provider.instance_exists(node):
            log.info("cloud-node-lifecycle: deleting node since it is no longer present in cloud provider: %s",
                     name)
            self.recorder.event({"kind": "Node", "name": name, "uid": node["metadata"]["uid"]}, NORMAL,
                                DELETE_NODE_EVENT,
                                f"Deleting node {name} because it's not present according to cloud provider")
            try:
                self.client.delete("nodes", name)
            except errors.NotFound:
                pass
            return
        if self.provider.instance_shutdown(node) and not has_shutdown_taint(node):
            self._set_taint(name, present=True)

    def _set_taint(self, name: str, *, present: bool) -> None:
        """AddOrUpdateTaintOnNode / RemoveTaintOffNode: read the node fresh, change its taints, update."""
        node = thaw(self.client.get("nodes", name))
        taints = [t for t in node["spec"].get("taints") or () if t.get("key") != SHUTDOWN_TAINT["key"]]
        if present:
            taints.append(dict(SHUTDOWN_TAINT))
        node["spec"]["taints"] = taints
        self.client.update(node)
