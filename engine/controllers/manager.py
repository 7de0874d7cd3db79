"""kube-controller-manager: one process running many controllers, only while it is the leader.

The manager builds its controllers with one shared informer factory, as the
real binary does, so all controllers share one watch per kind. Several
managers may run for availability; each stands for election on the Lease
``kube-system/kube-controller-manager`` and only the leader starts its
controllers (``engine.controllers.leader_elected`` is the shell it shares with
cloud-controller-manager). Which controllers exist is the ``CONTROLLERS``
table (``--controllers``); later work adds its controllers there.

With ``--use-service-account-credentials`` (kubeadm's setting), a controller
class that names a ``service_account`` writes as that ServiceAccount of
``kube-system`` (``engine.controllers.client_builder``), so its RBAC role
applies; its context's informers are still the manager's shared ones.
"""

from __future__ import annotations

from engine.controllers.leader_elected import LeaderElectedManager

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
    "engine.controllers.clusterroleaggregation:ClusterRoleAggregationController",
]
LEASE_NAME = "kube-controller-manager"


class ControllerManager(LeaderElectedManager):
    name = "kube-controller-manager"
    lease_name = LEASE_NAME

    def controller_targets(self) -> list[str]:
        return self.context.options.get("controllers", CONTROLLERS)
