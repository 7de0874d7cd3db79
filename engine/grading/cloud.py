"""The cloud lab (lab06_cloud): the learner's load balancer code plugged into a cloud-controller-manager.

The learner writes the two halves of a LoadBalancer Service's life: the provider's
``ensure_load_balancer(cloud, service, nodes)`` (what cloud-provider-aws does over the ELB API) and
the service controller's ``reconcile(controller, service)`` (``syncLoadBalancerIfNeeded``: the
finalizer, the load balancer, the status, the events, the retry). This module plugs them into a
cluster and hands the learner the plumbing.

Interface:

- ``cloud_cluster(reconcile, nodes=2, seed=0, network=None)``: a cluster on the simulated cloud
  (kube-controller-manager, kube-scheduler, kubelets, and the cloud-controller-manager) whose service
  controller calls ``reconcile`` for every Service it syncs (``engine.cloud.service``'s seam); the
  plug is ``cluster.plugged`` (its calls, and the learner's own exceptions as ``bugs``);
- ``service_controller(cluster)``: that running controller (its ``queue``, ``workers``...);
- ``load_balancer_service(name, ports)``, ``web_deployment(name, replicas)``: manifests;
- ``sandbox_cloud(seed)``: a bare simulated cloud with three instances, and their Nodes;
- ``attempt(function, *args, hint=None)``: a call whose exception is feedback, not a traceback;
- ``set_finalizers(client, service, finalizers)``, ``set_load_balancer_status(client, service, status)``:
  the two writes a service controller makes to a Service, as the engine's controller makes them;
- ``reference_listeners``, ``reference_targets``: the engine's answers for the lab's first part;
- ``FINALIZER``, ``EXCLUDE_LABEL`` and the cloud's types the lab uses (``Listener``, ``HealthCheck``,
  ``CloudError``, ``CloudNotFound``, ``load_balancer_name``).

The checks are in ``engine.grading.cloud_checks``. Nothing here prints or writes to stderr.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable

from engine.api import errors
from engine.cloud.cloudprovider import load_balancer_name
from engine.cloud.provider import CloudError, CloudNotFound, HealthCheck, Listener, parse_provider_id
from engine.cloud.service import EXCLUDE_LABEL, LOAD_BALANCER_CLEANUP_FINALIZER, eligible_node
from engine.grading.feedback import describe_exception, fail

SEE = "course/06_cloud_controller_manager.ipynb and the lab's instructions above this cell"
FINALIZER = LOAD_BALANCER_CLEANUP_FINALIZER


# -- the plumbing the lab hands to learners -------------------------------------------------------

def set_finalizers(client: Any, service: dict, finalizers: list[str]) -> dict:
    """Write ``metadata.finalizers`` (a merge patch carrying the Service's resourceVersion: a stale copy gets 409)."""
    metadata = service["metadata"]
    return client.patch("services", metadata["name"], {"metadata": {
        "finalizers": list(finalizers) or None, "resourceVersion": metadata["resourceVersion"]}},
        metadata.get("namespace"))


def set_load_balancer_status(client: Any, service: dict, status: dict) -> dict:
    """Write ``status.loadBalancer`` through the status subresource (``{}`` clears the ingress)."""
    metadata = service["metadata"]
    return client.patch("services", metadata["name"], {"status": {"loadBalancer": status or {"ingress": None}}},
                        metadata.get("namespace"), subresource="status")


def load_balancer_service(name: str, ports: tuple[int, ...] = (80,), *, target_port: int = 80,
                          service_type: str = "LoadBalancer") -> dict:
    """A Service of ``type: LoadBalancer`` selecting ``app: <name>`` (ports named when there are several)."""
    listed = [{"port": port, "targetPort": target_port, "protocol": "TCP"} for port in ports]
    if len(listed) > 1:
        for entry in listed:
            entry["name"] = f"port-{entry['port']}"
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": "default"},
            "spec": {"type": service_type, "selector": {"app": name}, "ports": listed}}


def web_deployment(name: str, replicas: int = 2) -> dict:
    """Pods labelled ``app: <name>`` answering "hello from <name>" on port 80 (http-echo: a 3 MB image, quick to pull)."""
    container = {"name": "web", "image": "hashicorp/http-echo:1.0", "args": ["-listen=:80", f"-text=hello from {name}"],
                 "ports": [{"containerPort": 80}]}
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "namespace": "default"},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}}, "spec": {"containers": [container]}}}}


def sandbox_cloud(seed: int = 0) -> tuple[Any, list[dict]]:
    """A bare ``SimCloud`` on a clock of its own with three running instances, and their Nodes (with providerIDs)."""
    from engine.cloud.provider import SimCloud
    from engine.sim.loop import Loop
    cloud = SimCloud(Loop(seed))
    nodes = []
    for index, zone in enumerate(("sim-east-1a", "sim-east-1b", "sim-east-1c"), start=1):
        instance = cloud.provision_machine(f"node-{index}", f"172.18.0.{index + 2}", zone=zone,
                                           instance_type="c1.xlarge")
        nodes.append({"apiVersion": "v1", "kind": "Node", "metadata": {"name": f"node-{index}", "labels": {}},
                      "spec": {"providerID": instance.provider_id}})
    return cloud, nodes


def attempt(function: Callable[..., Any], *args: Any, hint: str | None = None) -> Any:
    """``function(*args)``; what it raises becomes a ``GradingFailure`` that names it and the learner's line."""
    try:
        return function(*args)
    except Exception as error:
        fail(f"{getattr(function, '__name__', 'your function')} raised {describe_exception(error)}", hint=hint, see=SEE)


# -- the references of part 1 -----------------------------------------------------------------------

def reference_listeners(service: dict) -> list[Listener]:
    """One listener per Service port: protocol, the Service port, the nodePort on every node."""
    return [Listener(port.get("protocol", "TCP"), port["port"], port.get("nodePort", 0))
            for port in service["spec"].get("ports") or ()]


def reference_targets(nodes: list[dict]) -> list[str]:
    """The instance ids of the eligible nodes (StableLoadBalancerNodeSet's predicates), sorted."""
    return sorted(parse_provider_id(node["spec"]["providerID"])[1] for node in nodes if eligible_node(node))


# -- the learner's reconcile in a cluster --------------------------------------------------------------

class PluggedReconcile:
    """The learner's ``reconcile`` as the service controller calls it: calls counted, own exceptions kept."""

    def __init__(self, reconcile: Callable[[Any, dict], Any], wrap: Callable[[Callable], Callable] | None = None):
        self.reconcile = wrap(reconcile) if wrap else reconcile
        self.calls = 0
        self.bugs: list[str] = []
        """The learner's exceptions that were neither a cloud error nor an API error, described."""

    def __call__(self, controller: Any, service: dict) -> None:
        self.calls += 1
        try:
            self.reconcile(controller, service)
        except (CloudError, errors.ApiError):
            raise
        except Exception as error:
            if len(self.bugs) < 5:
                self.bugs.append(describe_exception(error))
            raise


def cloud_cluster(reconcile: Callable[[Any, dict], Any] | None = None, *, nodes: int = 2, seed: int = 0,
                  network: str | None = None, wrap: Callable[[Callable], Callable] | None = None) -> Any:
    """A cluster on the simulated cloud whose service controller calls ``reconcile(controller, service)``.

    ``reconcile=None``: the engine's own service controller. ``network="flannel"``: pods, kube-proxy and
    the overlay, so that ``curl_from_internet(cluster, url)`` reaches a load balancer's address.
    """
    from engine.cloud import CLOUD_CONTROLLER_MANAGER
    from engine.components import COMPONENTS
    from engine.grading.integrity import fresh_cluster
    from engine.kubelet import KUBELET
    from engine.scheduler import SCHEDULER

    plugged = PluggedReconcile(reconcile, wrap) if reconcile is not None else None
    ccm = dataclasses.replace(CLOUD_CONTROLLER_MANAGER,
                              options={"service_reconcile": plugged} if plugged is not None else {})
    names = {"kube-scheduler", "kubelet", CLOUD_CONTROLLER_MANAGER.name}
    specs = [spec for spec in COMPONENTS if spec.name not in names] + [SCHEDULER, KUBELET, ccm]
    cluster = fresh_cluster(nodes=nodes, seed=seed, cloud="sim", network=network, components=specs)
    cluster.plugged = plugged
    return cluster


def service_controller(cluster: Any) -> Any:
    """The running service controller of the cluster's cloud-controller-manager."""
    return cluster.components[("cloud-controller-manager", None)].controller("service")


def service_events(cluster: Any, name: str) -> list[dict]:
    """The events recorded about the Service ``default/<name>``, oldest first."""
    found = [event for event in cluster.list("events") if event["involvedObject"].get("kind") == "Service"
             and event["involvedObject"]["name"] == name]
    return sorted(found, key=lambda event: (event.get("lastTimestamp") or "", event["metadata"]["name"]))


__all__ = ["attempt", "CloudError", "CloudNotFound", "EXCLUDE_LABEL", "FINALIZER", "HealthCheck", "Listener",
           "PluggedReconcile", "cloud_cluster", "load_balancer_name", "load_balancer_service", "reference_listeners",
           "reference_targets", "sandbox_cloud", "service_controller", "service_events", "set_finalizers",
           "set_load_balancer_status", "web_deployment"]
