"""cloud-controller-manager: the cloud-specific control loops, split out of kube-controller-manager.

Kubernetes once ran the cloud loops inside kube-controller-manager (and the
kubelet asked the cloud for its own addresses). Since the split, a cluster
on a cloud runs a separate ``cloud-controller-manager`` built by the cloud
vendor on ``k8s.io/cloud-provider``, kubelets start with
``--cloud-provider=external`` (and register with the
``node.cloudprovider.kubernetes.io/uninitialized`` taint), and
kube-controller-manager runs no cloud code at all. A cluster without a cloud
simply has no CCM: the same kube-controller-manager, the same kubelets.

This manager is built like the other one: one shared informer factory, its
own leader election on the Lease ``kube-system/cloud-controller-manager``
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

import importlib
from typing import Any

from engine import flags
from engine.api.meta import new_uid
from engine.client.leaderelection import LeaderElector, LeaseLock
from engine.cloud.cloudprovider import SimProvider
from engine.components import ComponentContext
from engine.controllers.client_builder import ServiceAccountClient

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
LEASE_NAMESPACE = "kube-system"
LEASE_NAME = "cloud-controller-manager"
USER = "system:cloud-controller-manager"


class CloudControllerManager:
    name = "cloud-controller-manager"

    def __init__(self, context: ComponentContext) -> None:
        self.context = context
        cloud = context.options["cloud"]
        self.provider: Any = context.options.get("provider") or SimProvider(
            cloud, context.options.get("cluster_name", flags.cluster_name))
        context.options.setdefault("provider", self.provider)
        self.controllers: list[Any] = []
        self.credentials: list[ServiceAccountClient] = []
        for target in context.options.get("controllers", CONTROLLERS):
            if target == ROUTE_CONTROLLER and not context.options.get("configure_cloud_routes",
                                                                      flags.configure_cloud_routes):
                continue
            module_name, _, class_name = target.partition(":")
            controller_class = getattr(importlib.import_module(module_name), class_name)
            self.controllers.append(controller_class(self._context_for(controller_class)))
        identity = f"{context.node_name or 'control-plane'}_{new_uid(context.loop.random)}"
        self.elector = LeaderElector(LeaseLock(context.client, LEASE_NAMESPACE, LEASE_NAME, identity),
                                     on_started_leading=self._start_controllers,
                                     on_stopped_leading=self._stop_controllers, name=LEASE_NAME)
        self.leading = False

    def controller(self, name: str) -> Any:
        """The running controller called ``name`` (``"service"``, ``"route"``...), for views and tests."""
        for controller in self.controllers:
            if controller.name == name:
                return controller
        raise KeyError(f"no controller {name!r} in this cloud-controller-manager")

    def _context_for(self, controller_class: type) -> ComponentContext:
        account = getattr(controller_class, "service_account", None)
        context = self.context
        if account is None:
            return context
        credentials = ServiceAccountClient(context.client, context.loop, account)
        self.credentials.append(credentials)
        return ComponentContext(name=context.name, client=credentials.client, loop=context.loop,
                                node_name=context.node_name, options=context.options,
                                _informers=context.informers)

    @property
    def running(self) -> bool:
        return self.elector.running

    def start(self) -> None:
        self.elector.run()

    def stop(self) -> None:
        self.elector.cancel()
        self._stop_controllers()
        for credentials in self.credentials:
            credentials.stop()

    def _start_controllers(self) -> None:
        if self.leading:
            return
        self.leading = True
        for controller in self.controllers:
            controller.start()
        self.context.informers.start()

    def _stop_controllers(self) -> None:
        if not self.leading:
            return
        self.leading = False
        for controller in self.controllers:
            controller.stop()
        self.context.informers.stop()
