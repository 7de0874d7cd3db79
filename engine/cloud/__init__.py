"""cloud-controller-manager and the simulated cloud it manages.

``Cluster(cloud="sim")`` boots a cluster whose machines are instances of a
``SimCloud`` (``cluster.cloud``): kubelets register with
``--cloud-provider=external`` (so with the uninitialized taint), and the
control plane runs ``CLOUD_CONTROLLER_MANAGER`` next to
kube-controller-manager. ``Cluster()`` (no cloud) boots exactly as before:
no CCM, no taint, nothing cloud-specific. The parts:

    provider/        the simulated cloud: instances, route table, load balancers, disks, faults
    cloudprovider    the k8s.io/cloud-provider interface implemented over it
    manager          the cloud-controller-manager process (leader election, controllers)
    node, node_lifecycle, route, service    the CCM's controllers
    volume/          the CSI driver's controller side and the attach/detach controller
    rbac             the roles the provider's manifests install
    internet         a request from outside to a load balancer's address (with a network add-on)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine.components import ComponentSpec

if TYPE_CHECKING:
    from engine.cloud.provider import SimCloud
    from engine.cluster import Cluster

CLOUD_CONTROLLER_MANAGER = ComponentSpec("cloud-controller-manager", "control-plane",
                                         "engine.cloud.manager:CloudControllerManager",
                                         user="system:cloud-controller-manager")
PROVIDERS = ("sim",)
"""Values ``Cluster(cloud=...)`` accepts (the CCM's ``--cloud-provider``)."""


def install(cluster: "Cluster", provider: str) -> "SimCloud":
    """Put the cluster's machines in a new cloud, install the CCM's RBAC, and add the CCM to the components.

    Called by ``Cluster`` before any component starts. Machines are spread over the region's zones
    (the control plane in the first, workers round-robin); a machine powered off in the cloud
    stops its node's components, and powered on starts them again. A ``CLOUD_CONTROLLER_MANAGER``
    spec among the cluster's components (``dataclasses.replace(CLOUD_CONTROLLER_MANAGER, options=...)``:
    its ``--controllers``, a lab's ``service_reconcile``) keeps its options, with the cloud added.
    """
    if provider not in PROVIDERS:
        raise ValueError(f"unknown cloud provider {provider!r}; known: {', '.join(PROVIDERS)}")
    from engine.cloud.provider import SimCloud, instance_type_for
    from engine.cloud.rbac import manifests
    cloud = SimCloud(cluster.loop)
    options = cluster._node_options
    instance_type = instance_type_for(str(options["cpu"]), str(options["memory"]))
    for index, name in enumerate(cluster.node_names):
        zone = cloud.zones[(index - 1) % len(cloud.zones)] if index else cloud.zones[0]
        cloud.provision_machine(name, f"172.18.0.{index + 2}", zone=zone, instance_type=instance_type)
    for obj in manifests():
        cluster.admin.create(obj)
    options["cloud_provider"] = "external"
    given = [spec for spec in cluster.specs if spec.name == CLOUD_CONTROLLER_MANAGER.name]
    cluster.specs = [spec for spec in cluster.specs if spec.name != CLOUD_CONTROLLER_MANAGER.name]
    cluster.specs.append(ComponentSpec(CLOUD_CONTROLLER_MANAGER.name, "control-plane",
                                       CLOUD_CONTROLLER_MANAGER.target, CLOUD_CONTROLLER_MANAGER.user,
                                       options={**(given[0].options if given else {}), "cloud": cloud}))
    cloud.on_power.append(lambda name, on: (cluster.restore_node if on else cluster.fail_node)(name))
    cloud.on_route_change.append(lambda: follow_routes(cluster))
    import random
    from engine.cloud.internet import PROBE_SEED, probe
    rng = random.Random(PROBE_SEED)
    cloud.health_probe = lambda lb, address, port, path: probe(cluster, lb, address, port, path, rng)
    return cloud


def follow_routes(cluster: "Cluster") -> None:
    """Copy the cloud's active routes into the packet model's VPC router (``cluster.fabric.vpc_routes``).

    Done on every change of the route table once the cluster has a network; call it after attaching
    a network to a cluster whose routes already exist.
    """
    fabric = getattr(cluster, "fabric", None)
    if fabric is not None and cluster.cloud is not None:
        fabric.vpc_routes.clear()
        fabric.vpc_routes.update(cluster.cloud.active_routes())


__all__ = ["CLOUD_CONTROLLER_MANAGER", "PROVIDERS", "follow_routes", "install"]
