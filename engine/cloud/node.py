"""The cloud node controller (``k8s.io/cloud-provider/controllers/node``): new nodes learn who they are.

A kubelet started with ``--cloud-provider=external`` cannot ask the cloud
about its machine, so it registers its Node with the taint
``node.cloudprovider.kubernetes.io/uninitialized=true:NoSchedule`` and
nothing cloud-specific. For every node carrying that taint this controller
asks the provider for the instance's metadata (``InstancesV2.InstanceMetadata``)
and, in one update of the Node:

- sets ``spec.providerID`` (``sim:///sim-east-1a/i-0...``) if empty;
- labels ``node.kubernetes.io/instance-type``, ``topology.kubernetes.io/zone``,
  ``topology.kubernetes.io/region`` (and their deprecated ``beta`` /
  ``failure-domain.beta`` twins, which upstream still writes);
- removes the uninitialized taint, so the scheduler may use the node;

then writes the cloud's addresses (InternalIP, ExternalIP, InternalDNS,
Hostname) into ``status.addresses`` and records ``Synced``. Every
``--node-status-update-frequency`` (5 min for the CCM) it refreshes every
initialised node's addresses. A node whose instance cannot be found is left
alone: deleting it is the node lifecycle controller's job. Cloud errors are
retried with the work queue's backoff. It talks to the cloud only through
the provider interface, and to the cluster only through its client.
"""

from __future__ import annotations

import logging

from engine import flags
from engine.api.frozen import thaw
from engine.client.record import NORMAL, EventRecorder
from engine.client.workqueue import WorkQueue, run_workers
from engine.cloud.cloudprovider import InstanceMetadata, InstanceNotFound
from engine.components import ComponentContext
from engine.sim.loop import Timer

log = logging.getLogger(__name__)

UNINITIALIZED_TAINT_KEY = "node.cloudprovider.kubernetes.io/uninitialized"
UNINITIALIZED_TAINT = {"key": UNINITIALIZED_TAINT_KEY, "value": "true", "effect": "NoSchedule"}
INSTANCE_TYPE = "node.kubernetes.io/instance-type"
ZONE = "topology.kubernetes.io/zone"
REGION = "topology.kubernetes.io/region"
BETA_INSTANCE_TYPE = "beta.kubernetes.io/instance-type"
BETA_ZONE = "failure-domain.beta.kubernetes.io/zone"
BETA_REGION = "failure-domain.beta.kubernetes.io/region"


def is_uninitialized(node: dict) -> bool:
    return any(t.get("key") == UNINITIALIZED_TAINT_KEY for t in (node.get("spec") or {}).get("taints") or ())


def initialized(node: dict, metadata: InstanceMetadata) -> dict:
    """The node as the controller writes it: providerID, cloud labels, and no uninitialized taint (a copy)."""
    node = thaw(node)
    spec = node.setdefault("spec", {})
    if not spec.get("providerID"):
        spec["providerID"] = metadata.provider_id
    labels = node["metadata"].setdefault("labels", {})
    for key, value in ((INSTANCE_TYPE, metadata.instance_type), (BETA_INSTANCE_TYPE, metadata.instance_type),
                       (ZONE, metadata.zone), (BETA_ZONE, metadata.zone),
                       (REGION, metadata.region), (BETA_REGION, metadata.region)):
        if value:
            labels[key] = value
    spec["taints"] = [t for t in spec.get("taints") or () if t.get("key") != UNINITIALIZED_TAINT_KEY]
    if not spec["taints"]:
        del spec["taints"]
    return node


class CloudNodeController:
    """Initialises tainted nodes from the cloud and keeps every node's addresses current."""

    name = "cloud-node"
    service_account = "cloud-node-controller"

    def __init__(self, context: ComponentContext) -> None:
        self.client = context.client
        self.loop = context.loop
        self.provider = context.options["provider"]
        self.nodes = context.informers.informer("nodes")
        self.queue = WorkQueue(context.loop, name="cloud-node")
        self.nodes.add_event_handler(on_add=self._enqueue, on_update=lambda _old, new: self._enqueue(new))
        self.recorder = EventRecorder(self.client, "cloud-node-controller")
        self.workers = None
        self._timer: Timer | None = None

    def _enqueue(self, node: dict) -> None:
        if is_uninitialized(node):
            self.queue.add_key(node)

    def start(self) -> None:
        self.workers = run_workers(self.queue, self.sync)
        self._timer = self.loop.call_later(flags.cloud_node_status_update_frequency, self._update_all,
                                           label="cloud-node status")

    def stop(self) -> None:
        if self.workers is not None:
            self.workers.stop()
        if self._timer is not None:
            self._timer.cancel()

    def _update_all(self) -> None:
        """UpdateNodeStatus: every node's addresses, every --node-status-update-frequency."""
        for node in sorted(self.nodes.lister.list(), key=lambda n: n["metadata"]["name"]):
            self.queue.add_key(node)
        self._timer = self.loop.call_later(flags.cloud_node_status_update_frequency, self._update_all,
                                           label="cloud-node status")

    def sync(self, key: str) -> None:
        """syncNode: initialise a tainted node, or refresh an initialised node's addresses."""
        node = self.nodes.indexer.get_by_key(key)
        if node is None:
            return
        try:
            metadata = self.provider.instance_metadata(node)
        except InstanceNotFound:
            log.info("cloud-node: node %s has no instance; the node lifecycle controller deletes it", key)
            return
        if is_uninitialized(node):
            self.client.update(initialized(node, metadata))
            log.info("cloud-node: successfully initialized node %s with cloud provider", key)
        self._update_addresses(node, metadata)
        if is_uninitialized(node):
            self.recorder.event(node, NORMAL, "Synced", "Node synced successfully")

    def _update_addresses(self, node: dict, metadata: InstanceMetadata) -> None:
        if (node.get("status") or {}).get("addresses") == metadata.node_addresses:
            return
        self.client.patch("nodes", node["metadata"]["name"], {"status": {"addresses": metadata.node_addresses}},
                          subresource="status")
