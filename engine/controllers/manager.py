"""kube-controller-manager: one process running many controllers, only while it is the leader.

The manager builds its controllers with one shared informer factory, as the
real binary does, so all controllers share one watch per kind. Several
managers may run for availability; each stands for election on the Lease
``kube-system/kube-controller-manager`` and only the leader starts its
controllers. A manager that loses the lease stops them (the real binary
exits and is restarted). Which controllers exist is the ``CONTROLLERS``
table (``--controllers``); later work adds its controllers there.

With ``--use-service-account-credentials`` (kubeadm's setting), a controller
class that names a ``service_account`` writes as that ServiceAccount of
``kube-system`` (``engine.controllers.client_builder``), so its RBAC role
applies; its context's informers are still the manager's shared ones.
"""

from __future__ import annotations

import importlib

from engine.api.meta import new_uid
from engine.client.leaderelection import LeaderElector, LeaseLock
from engine.components import ComponentContext
from engine.controllers.client_builder import ServiceAccountClient

CONTROLLERS: list[str] = [
    "engine.controllers.serviceaccount:ServiceAccountsController",
    "engine.controllers.cronjob:CronJobController",
    "engine.controllers.rootcacertpublisher:RootCACertPublisher",
    "engine.controllers.job:JobController",
    "engine.controllers.ttl_after_finished:TTLAfterFinishedController",
    "engine.controllers.daemonset:DaemonSetsController",
    "engine.controllers.replicaset:ReplicaSetController",
    "engine.controllers.replication:ReplicationManager",
    "engine.controllers.deployment:DeploymentController",
    "engine.controllers.disruption:DisruptionController",
    "engine.controllers.statefulset:StatefulSetController",
    "engine.controllers.endpoints:EndpointsController",
    "engine.controllers.endpointslice:EndpointSliceController",
    "engine.controllers.nodelifecycle:NodeLifecycleController",
    "engine.controllers.tainteviction:TaintEvictionController",
    "engine.controllers.nodeipam:NodeIpamController",
    "engine.controllers.namespace:NamespaceController",
    "engine.controllers.garbagecollector:GarbageCollector",
    "engine.controllers.podgc:PodGCController",
    "engine.controllers.resourcequota:ResourceQuotaController",
    "engine.controllers.horizontal:HorizontalController",
    "engine.controllers.persistentvolume:PersistentVolumeController",
]
LEASE_NAMESPACE = "kube-system"
LEASE_NAME = "kube-controller-manager"


class ControllerManager:
    name = "kube-controller-manager"

    def __init__(self, context: ComponentContext) -> None:
        self.context = context
        self.controllers = []
        self.credentials: list[ServiceAccountClient] = []
        for target in context.options.get("controllers", CONTROLLERS):
            module_name, _, class_name = target.partition(":")
            controller_class = getattr(importlib.import_module(module_name), class_name)
            self.controllers.append(controller_class(self._context_for(controller_class)))
        # client-go's identity for a controller manager: its host name and a fresh uuid.
        identity = f"{context.node_name or 'control-plane'}_{new_uid(context.loop.random)}"
        self.elector = LeaderElector(LeaseLock(context.client, LEASE_NAMESPACE, LEASE_NAME, identity),
                                     on_started_leading=self._start_controllers,
                                     on_stopped_leading=self._stop_controllers, name=LEASE_NAME)
        self.leading = False

    def _context_for(self, controller_class: type) -> ComponentContext:
        """The controller's context: its own ServiceAccount's client if it names one, the shared informers."""
        account = getattr(controller_class, "service_account", None)
        if account is None:
            return self.context
        credentials = ServiceAccountClient(self.context.client, self.context.loop, account)
        self.credentials.append(credentials)
        context = self.context
        return ComponentContext(name=context.name, client=credentials.client, loop=context.loop,
                                node_name=context.node_name, options=context.options,
                                _informers=context.informers)

    @property
    def running(self) -> bool:
        """Standing for election or leading (False once stopped)."""
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
