"""The kubelet's node status manager: register the Node, post its status, renew its Lease.

This is how the control plane knows a node is alive (kubelet_node_status.go
and the node lease controller):

- at start the kubelet *registers* its Node object: labels (hostname, os,
  arch, roles), capacity and allocatable, addresses, node info, conditions;
  if the Node already exists (a restarted kubelet) it takes it over;
- every ``--node-status-update-frequency`` (10 s) it works out the status,
  and writes it only when something changed or ``nodeStatusReportFrequency``
  (5 min) has passed, so that thousands of nodes do not flood etcd;
- every 10 s (a quarter of the 40 s lease duration) it renews its Lease in
  ``kube-node-lease``: the cheap heartbeat the node lifecycle controller
  watches to decide that a node has stopped answering.

The Ready condition is False (``KubeletNotReady``) while the node's runtime
reports ``NetworkReady=false`` (no CNI configuration yet, as on a kubeadm
node before its network add-on runs). It talks only to the API server, with
the node's own identity (``system:node:<name>``).
"""

from __future__ import annotations

import logging
from typing import Callable

from engine import flags
from engine.api import errors
from engine.api.frozen import thaw
from engine.api.meta import micro_timestamp, timestamp
from engine.api.quantity import parse_quantity
from engine.components import ComponentContext
from engine.sim.loop import Timer

log = logging.getLogger(__name__)

NODE_LEASE_NAMESPACE = "kube-node-lease"
KUBELET_VERSION = "v1.31.0"
CONTAINER_RUNTIME_VERSION = "containerd://1.7.13"
UNINITIALIZED_TAINT = {"key": "node.cloudprovider.kubernetes.io/uninitialized", "value": "true", "effect": "NoSchedule"}
EVICTION_HARD_MEMORY = "100Mi"
"""--eviction-hard memory.available: kept out of allocatable, as the real kubelet does."""

_CONDITIONS = (
    ("MemoryPressure", "False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
    ("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
    ("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
    ("Ready", "True", "KubeletReady", "kubelet is posting ready status"),
)
_PRESSURE = {
    "MemoryPressure": ("KubeletHasInsufficientMemory", "kubelet has insufficient memory available"),
    "DiskPressure": ("KubeletHasDiskPressure", "kubelet has disk pressure"),
    "PIDPressure": ("KubeletHasInsufficientPID", "kubelet has insufficient PID available"),
}
"""The pressure conditions as the eviction manager turns them True (setters.go)."""


class NodeStatusAgent:
    """Registers one node and keeps its status and Lease fresh."""

    name = "kubelet"

    def __init__(self, context: ComponentContext) -> None:
        self.context = context
        self.client = context.client
        self.loop = context.loop
        self.node_name = context.node_name or "node"
        self.options = context.options
        self.running = False
        self._timers: dict[Callable[[], None], Timer] = {}
        """The next tick of each periodic loop (status, lease): one live timer per loop, replaced as it fires."""
        self._last_report = -1e18
        self._last_status: dict | None = None
        self.pressure: set[str] = set()
        self.volumes_in_use = lambda: []
        """The volume manager's GetVolumesInUse (set by the kubelet): reported so attached disks stay attached."""
        """Node conditions under pressure, set by the eviction manager through ``set_condition``."""

    # -- lifecycle ------------------------------------------------------------
    def start(self) -> None:
        self.running = True
        self.register()
        self.renew_lease()
        self._every(flags.node_status_update_frequency, self.update_status)
        self._every(flags.node_lease_duration_seconds * flags.node_lease_renew_interval_fraction, self.renew_lease)

    def stop(self) -> None:
        """The kubelet stops: no more status, no more heartbeats (as on a dead node)."""
        self.running = False
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()

    def _every(self, period: float, action: Callable[[], None]) -> None:
        def tick() -> None:
            if not self.running:
                return
            action()
            self._timers[action] = self.loop.call_later(period, tick, label=f"kubelet {self.node_name}")
        self._timers[action] = self.loop.call_later(period, tick, label=f"kubelet {self.node_name}")

    # -- the Node object ------------------------------------------------------
    def initial_node(self) -> dict:
        name = self.node_name
        labels = {
            "beta.kubernetes.io/arch": "amd64",
            "beta.kubernetes.io/os": "linux",
            "kubernetes.io/arch": "amd64",
            "kubernetes.io/hostname": name,
            "kubernetes.io/os": "linux",
        }
        labels.update(self.options.get("labels", {}))
        spec: dict = {}
        if self.options.get("taints"):
            spec["taints"] = [dict(taint) for taint in self.options["taints"]]
        if self.options.get("cloud_provider") == "external":   # --cloud-provider=external: the CCM initialises us
            spec.setdefault("taints", []).append(dict(UNINITIALIZED_TAINT))
        return {
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {
                "name": name,
                "labels": labels,
                "annotations": {"node.alpha.kubernetes.io/ttl": "0",
                                "volumes.kubernetes.io/controller-managed-attach-detach": "true"},
            },
            "spec": spec,
            "status": self.node_status(),
        }

    def capacity(self) -> dict[str, str]:
        """The machine's resources (cAdvisor's MachineInfo): cpu, memory, pods, ephemeral-storage."""
        return {
            "cpu": str(self.options.get("cpu", "4")),
            "memory": str(self.options.get("memory", "8Gi")),
            "pods": str(self.options.get("pods", flags.max_pods)),
            "ephemeral-storage": str(self.options.get("ephemeral_storage", "100Gi")),
        }

    def node_status(self) -> dict:
        capacity = self.capacity()
        allocatable = dict(capacity)
        memory = parse_quantity(capacity["memory"]) - parse_quantity(EVICTION_HARD_MEMORY)
        allocatable["memory"] = str(memory)
        now = timestamp(self.loop.now)
        previous = {c["type"]: c for c in (self._last_status or {}).get("conditions", [])}
        conditions = []
        network_error = self.network_error()
        for type_, status, reason, message in _CONDITIONS:
            if type_ in self.pressure:
                status, (reason, message) = "True", _PRESSURE[type_]
            elif type_ == "Ready" and network_error:
                status, reason, message = "False", "KubeletNotReady", network_error
            old = previous.get(type_)
            transition = old["lastTransitionTime"] if old and old["status"] == status else now
            conditions.append({"type": type_, "status": status, "reason": reason, "message": message,
                               "lastHeartbeatTime": now, "lastTransitionTime": transition})
        in_use = {"volumesInUse": self.volumes_in_use()} if self.volumes_in_use() else {}
        return {
            **in_use,
            "capacity": capacity,
            "allocatable": allocatable,
            "conditions": conditions,
            "addresses": [{"type": "InternalIP", "address": self.options.get("address", "172.18.0.2")},
                          {"type": "Hostname", "address": self.node_name}],
            "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
            "nodeInfo": {
                "architecture": "amd64",
                "bootID": "",
                "containerRuntimeVersion": CONTAINER_RUNTIME_VERSION,
                "kernelVersion": "6.1.0-28-amd64",
                "kubeProxyVersion": KUBELET_VERSION,
                "kubeletVersion": KUBELET_VERSION,
                "machineID": "",
                "operatingSystem": "linux",
                "osImage": "Debian GNU/Linux 12 (bookworm)",
                "systemUUID": "",
            },
        }

    def network_error(self) -> str:
        """runtimeState.networkErrors: why the node's runtime network is not ready ("" when it is, or unknown)."""
        runtime = self.options.get("runtime")
        if runtime is None or runtime.status().get("NetworkReady", True):
            return ""
        return ("container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady "
                "message:Network plugin returns error: cni plugin not initialized")

    def set_condition(self, type_: str, under_pressure: bool) -> None:
        """MemoryPressure / DiskPressure / PIDPressure turn True or False; the change is posted at once."""
        if under_pressure:
            self.pressure.add(type_)
        else:
            self.pressure.discard(type_)
        if self.running:
            self.update_status()

    def register(self) -> None:
        """tryRegisterWithAPIServer: create the Node, or take over an existing one."""
        node = self.initial_node()
        try:
            created = self.client.create(node)
            self._last_status = created["status"]
            self._last_report = self.loop.now
        except errors.AlreadyExists:
            self.update_status(force=True)

    def update_status(self, force: bool = False) -> None:
        """Post the node status if it changed, or if the report frequency has passed."""
        status = self.node_status()
        unchanged = self._last_status is not None and _without_heartbeats(status) == _without_heartbeats(
            self._last_status)
        due = self.loop.now - self._last_report >= flags.node_status_report_frequency
        if unchanged and not due and not force:
            return
        try:
            node = self.client.get("nodes", self.node_name)
        except errors.NotFound:
            self.register()
            return
        node = thaw(node)
        node["status"] = _merged(node.get("status") or {}, status, self.options.get("cloud_provider") == "external")
        try:
            self.client.update_status(node)
        except errors.ApiError as error:
            log.debug("node %s: status update failed: %s", self.node_name, error)
            return
        self._last_status = status
        self._last_report = self.loop.now

    # -- the Lease heartbeat --------------------------------------------------
    def renew_lease(self) -> None:
        now = micro_timestamp(self.loop.now)
        try:
            lease = thaw(self.client.get("leases", self.node_name, NODE_LEASE_NAMESPACE))
        except errors.NotFound:
            lease = None
        if lease is None:
            try:
                node = self.client.get("nodes", self.node_name)
            except errors.NotFound:
                return
            lease = {
                "apiVersion": "coordination.k8s.io/v1",
                "kind": "Lease",
                "metadata": {"name": self.node_name, "namespace": NODE_LEASE_NAMESPACE,
                             "ownerReferences": [{"apiVersion": "v1", "kind": "Node", "name": self.node_name,
                                                  "uid": node["metadata"]["uid"]}]},
                "spec": {"holderIdentity": self.node_name,
                         "leaseDurationSeconds": flags.node_lease_duration_seconds, "renewTime": now},
            }
            try:
                self.client.create(lease)
            except errors.ApiError as error:
                log.debug("node %s: lease create failed: %s", self.node_name, error)
            return
        lease["spec"]["renewTime"] = now
        lease["spec"]["holderIdentity"] = self.node_name
        try:
            self.client.update(lease)
        except errors.ApiError as error:
            log.debug("node %s: lease renew failed: %s", self.node_name, error)


def _without_heartbeats(status: dict) -> dict:
    copy = dict(status)
    copy["conditions"] = [{k: v for k, v in c.items() if k != "lastHeartbeatTime"} for c in status["conditions"]]
    return copy


def _merged(current: dict, status: dict, external_cloud: bool) -> dict:
    """What the kubelet's status PATCH leaves of fields it does not own: other controllers' conditions
    (NetworkUnavailable), volumesAttached, and, with an external cloud provider, the addresses it set."""
    merged = dict(status)
    own = {c["type"] for c in status["conditions"]}
    merged["conditions"] = status["conditions"] + [c for c in current.get("conditions") or () if c["type"] not in own]
    if current.get("volumesAttached"):
        merged["volumesAttached"] = current["volumesAttached"]
    if external_cloud and current.get("addresses"):
        merged["addresses"] = current["addresses"]
    return merged
