"""cloud-controller-manager: the cloud-specific control loops, split out of kube-controller-manager.

Kubernetes once ran the cloud loops inside kube-controller-manager (and the
kubelet asked the cloud for its own addresses). Since the split, a cluster
on a cloud runs a separate ``cloud-controller-manager`` built by the cloud
vendor on ``k8s.io/cloud-provider``, kubelets start with
``--cloud-provider=external`` (and register with the
``node.cloudprovider.kubernetes.io/uninitialized`` taint), and
kube-controller-manager runs no cloud code at all. A cluster without a cloud
simply has no CCM: the same kube-controller-manager, the same kubelets.

This manager is built like the other one (``engine.controllers.leader_elected``
is their shared shell): one shared informer factory, its own leader election on the Lease ``kube-system/cloud-controller-manager``
(several replicas may run; only the leader's controllers act), and each
controller writing as its own ServiceAccount of ``kube-system``
(``--use-service-account-credentials``). It authenticates as
``system:cloud-controller-manager``, whose RBAC comes from the provider's
manifests (``engine.cloud.rbac``). Its options carry the cloud (``cloud``,
as the real binary's ``--cloud-config`` carries credentials) and the
``--controllers`` list. The controllers (``CONTROLLERS``):

    cloud-node            initialise new nodes from the cloud (providerID, addresses, zone, type)
    cloud-node-lifecycle  delete nodes whose instance is gone; taint shut-down ones
    route                 a VPC route per node pod CIDR
    service               cloud load balancers for type=LoadBalancer Services
    volume                the CSI side of disks: a provisioner (PVs from a StorageClass), the
                          attach/detach controller and the attacher (VolumeAttachments)

The real CCM's volume loop (persistent-volume labels) is gone upstream: disks
are handled by the vendor's CSI driver, whose controller pod runs the
external-provisioner and external-attacher sidecars, and by kube-controller-
manager's attach/detach controller. Here those three run in the CCM so the
cloud's whole part sits in one place; each is written as its upstream
counterpart and says so.
"""

from __future__ import annotations

from typing import Any

from engine import flags
from engine.cloud.cloudprovider import SimProvider
from engine.components import ComponentContext
from engine.controllers.leader_elected import LeaderElectedManager

CONTROLLERS: list[str] = [
    "engine.cloud.node:CloudNodeController",
    "engine.cloud.node_lifecycle:CloudNodeLifecycleController",
    "engine.cloud.route:RouteController",
    "engine.cloud.service:ServiceController",
    "engine.cloud.volume.provisioner:DiskProvisioner",
    "engine.cloud.volume.attachdetach:AttachDetachController",
    "engine.cloud.volume.attacher:DiskAttacher",
]
ROUTE_CONTROLLER = "engine.cloud.route:RouteController"
"""Started only with ``--configure-cloud-routes`` (the default; an overlay network turns it off)."""
LEASE_NAME = "cloud-controller-manager"
USER = "system:cloud-controller-manager"


class CloudControllerManager(LeaderElectedManager):
    name = "cloud-controller-manager"
    lease_name = LEASE_NAME

    def __init__(self, context: ComponentContext) -> None:
        cloud = context.options["cloud"]
        self.provider: Any = context.options.get("provider") or SimProvider(
            cloud, context.options.get("cluster_name", flags.cluster_name))
        context.options.setdefault("provider", self.provider)
        super().__init__(context)

    def controller_targets(self) -> list[str]:
        routes = self.context.options.get("configure_cloud_routes", flags.configure_cloud_routes)
        return [target for target in self.context.options.get("controllers", CONTROLLERS)
                if routes or target != ROUTE_CONTROLLER]

    def controller(self, name: str) -> Any:
        """The running controller called ``name`` (``"service"``, ``"route"``...), for views and tests."""
        for controller in self.controllers:
            if controller.name == name:
                return controller
        raise KeyError(f"no controller {name!r} in this cloud-controller-manager")
