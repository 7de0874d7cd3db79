"""The cloud provider interface (``k8s.io/cloud-provider``) implemented for the simulated cloud.

The cloud-controller-manager's controllers never call a cloud's API
directly: they call the provider interface, and each cloud ships an
implementation (cloud-provider-aws over EC2 and ELB, cloud-provider-gcp
over GCE...). This is ours, over ``SimCloud``, with the interface's parts:

    InstancesV2   instance_exists(node), instance_shutdown(node), instance_metadata(node)
    Routes        list_routes(), create_route(name_hint, node_name, cidr), delete_route(route)
    LoadBalancer  get_load_balancer_name(service), get_load_balancer(service),
                  ensure_load_balancer(service, nodes), update_load_balancer(service, nodes),
                  ensure_load_balancer_deleted(service)

A node is matched with its instance by ``spec.providerID`` once set, else by
the instance's ``Name`` tag (the node name), as GCE does. Cloud errors come
back as ``CloudError`` for the controllers to retry; ``CloudNotFound``
for an instance means "not found" (``cloudprovider.InstanceNotFound``).
The cloud only ever sees instance ids, never Kubernetes objects.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.cloud.provider import (CloudNotFound, HealthCheck, Instance, Listener, LoadBalancer, SimCloud,
                                   parse_provider_id)

CLUSTER_TAG = "kubernetes.io/cluster/{cluster}"
SERVICE_NAME_TAG = "kubernetes.io/service-name"


class InstanceNotFound(Exception):
    """cloudprovider.InstanceNotFound: the node's instance does not exist."""


@dataclass(frozen=True)
class InstanceMetadata:
    """cloudprovider.InstanceMetadata: what the node controller copies onto a new node."""

    provider_id: str
    instance_type: str
    node_addresses: list[dict]
    zone: str
    region: str


@dataclass(frozen=True)
class CloudRoute:
    """cloudprovider.Route: a VPC route as the route controller sees it."""

    name: str
    target_node: str
    destination_cidr: str
    blackhole: bool = False


def load_balancer_name(service: dict) -> str:
    """cloudprovider.DefaultLoadBalancerName: "a" + the service's uid without dashes, at most 32 characters."""
    return ("a" + service["metadata"]["uid"].replace("-", ""))[:32]


class SimProvider:
    """``cloudprovider.Interface`` for the simulated cloud."""

    name = "sim"

    def __init__(self, cloud: SimCloud, cluster_name: str) -> None:
        self.cloud = cloud
        self.cluster_name = cluster_name

    # -- InstancesV2 -----------------------------------------------------------------------
    def _instance(self, node: dict) -> Instance:
        provider_id = (node.get("spec") or {}).get("providerID")
        if provider_id:
            _, instance_id = parse_provider_id(provider_id)
            try:
                return self.cloud.describe_instances([instance_id])[0]
            except CloudNotFound:
                raise InstanceNotFound(node["metadata"]["name"]) from None
        found = [i for i in self.cloud.describe_instances(names=[node["metadata"]["name"]])
                 if i.state != "terminated"]
        if not found:
            raise InstanceNotFound(node["metadata"]["name"])
        return found[0]

    def instance_exists(self, node: dict) -> bool:
        """A terminated instance no longer exists (it lingers in describe calls for a while)."""
        try:
            return self._instance(node).state != "terminated"
        except InstanceNotFound:
            return False

    def instance_shutdown(self, node: dict) -> bool:
        try:
            return self._instance(node).state in ("stopping", "stopped")
        except InstanceNotFound:
            return False

    def instance_metadata(self, node: dict) -> InstanceMetadata:
        instance = self._instance(node)
        addresses = [{"type": "InternalIP", "address": instance.private_ip}]
        if instance.public_ip:
            addresses.append({"type": "ExternalIP", "address": instance.public_ip})
        addresses += [{"type": "InternalDNS", "address": instance.private_dns},
                      {"type": "Hostname", "address": instance.private_dns}]
        return InstanceMetadata(instance.provider_id, instance.instance_type, addresses, instance.zone,
                                instance.region)

    # -- Routes ----------------------------------------------------------------------------
    def list_routes(self) -> list[CloudRoute]:
        names = {i.id: i.name for i in self.cloud.describe_instances()}
        return [CloudRoute(f"{route.target}-{route.destination_cidr}", names.get(route.target, ""),
                           route.destination_cidr, route.state == "blackhole")
                for route in self.cloud.describe_route_table() if route.target != "local"]

    def create_route(self, name_hint: str, node_name: str, destination_cidr: str) -> None:
        instances = [i for i in self.cloud.describe_instances(names=[node_name]) if i.state != "terminated"]
        if not instances:
            raise InstanceNotFound(node_name)
        self.cloud.create_route(destination_cidr, instances[0].id)

    def delete_route(self, route: CloudRoute) -> None:
        self.cloud.delete_route(route.destination_cidr)

    # -- LoadBalancer ----------------------------------------------------------------------
    def get_load_balancer_name(self, service: dict) -> str:
        return load_balancer_name(service)

    def get_load_balancer(self, service: dict) -> dict | None:
        """The service's load balancer status, or None if it has none."""
        try:
            lb = self.cloud.describe_load_balancers([load_balancer_name(service)])[0]
        except CloudNotFound:
            return None
        return _status(lb)

    def ensure_load_balancer(self, service: dict, nodes: list[dict]) -> dict:
        """Create the load balancer, or make an existing one match; returns the LoadBalancerStatus."""
        name = load_balancer_name(service)
        listeners, health_check, targets = _listeners(service), _health_check(service), self._targets(nodes)
        try:
            existing = self.cloud.describe_load_balancers([name])[0]
        except CloudNotFound:
            tags = {CLUSTER_TAG.format(cluster=self.cluster_name): "owned",
                    SERVICE_NAME_TAG: f"{service['metadata'].get('namespace', 'default')}/"
                                      f"{service['metadata']['name']}"}
            return _status(self.cloud.create_load_balancer(name, listeners, targets, health_check, tags))
        if (existing.listeners, existing.targets, existing.health_check) != (listeners, targets, health_check):
            self.cloud.modify_load_balancer(name, listeners=listeners, targets=targets, health_check=health_check)
        return _status(existing)

    def update_load_balancer(self, service: dict, nodes: list[dict]) -> None:
        """Point the load balancer at these nodes (the service controller's node sync)."""
        self.cloud.modify_load_balancer(load_balancer_name(service), targets=self._targets(nodes))

    def ensure_load_balancer_deleted(self, service: dict) -> None:
        self.cloud.delete_load_balancer(load_balancer_name(service))

    def _targets(self, nodes: list[dict]) -> list[str]:
        targets = []
        for node in nodes:
            provider_id = (node.get("spec") or {}).get("providerID")
            if provider_id:
                targets.append(parse_provider_id(provider_id)[1])
        return sorted(targets)


def _listeners(service: dict) -> list[Listener]:
    return [Listener(port.get("protocol", "TCP"), port["port"], port.get("nodePort", 0))
            for port in service["spec"].get("ports") or ()]


def _health_check(service: dict) -> HealthCheck:
    """externalTrafficPolicy Local: HTTP /healthz on healthCheckNodePort (kube-proxy answers); else TCP."""
    spec = service["spec"]
    if spec.get("externalTrafficPolicy") == "Local" and spec.get("healthCheckNodePort"):
        return HealthCheck("HTTP", spec["healthCheckNodePort"], "/healthz")
    return HealthCheck("TCP")


def _status(lb: LoadBalancer) -> dict:
    return {"ingress": [{"ip": lb.address, "ipMode": "VIP"}]}
