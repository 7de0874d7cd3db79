"""``SimCloud``: the simulated cloud provider, one object with compute, network and storage APIs.

    cloud = SimCloud(loop)
    cloud.describe_instances(names=["node-1"])
    cloud.inject("CreateLoadBalancer", error="InternalError", times=3)
    cloud.terminate_instances(instance_id)        # someone deletes a machine in the console

The request path (latency, quotas, faults) is ``base``; the services are
``compute`` (instances, zones, types), ``network`` (route table, load
balancers) and ``storage`` (disks). The cloud knows nothing of
Kubernetes: the cloud-controller-manager (``engine.cloud.manager``) is the
only part of the cluster that calls it, as in a real cluster.
"""

from __future__ import annotations

from engine.cloud.provider.base import SimCloudBase
from engine.cloud.provider.compute import ComputeService
from engine.cloud.provider.network import NetworkService
from engine.cloud.provider.storage import StorageService
from engine.sim.loop import Loop


class SimCloud(SimCloudBase, ComputeService, NetworkService, StorageService):
    """A seeded, deterministic cloud on the cluster's virtual clock."""

    name = "sim"

    def __init__(self, loop: Loop, **options) -> None:
        super().__init__(loop, **options)
        self._init_compute()
        self._init_network()
        self._init_storage()

    def _instance_gone(self, instance_id: str) -> None:
        self._network_instance_gone(instance_id)
        self._storage_instance_gone(instance_id)
