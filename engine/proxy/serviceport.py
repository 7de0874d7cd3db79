"""ServicePort: what kube-proxy keeps of one port of one Service (``pkg/proxy/serviceport.go``).

kube-proxy programs a Service port by port: each ``spec.ports[]`` entry of a
Service with a cluster IP becomes a ``ServicePortInfo`` named
``namespace/name:portname`` (``namespace/name`` for an unnamed port), with
the cluster IP, port, protocol, nodePort, the load balancer ingress IPs from
``status.loadBalancer.ingress``, externalIPs, session affinity (ClientIP with
``sessionAffinityConfig.clientIP.timeoutSeconds``, 10800 by default) and the
traffic policies. Headless Services (clusterIP ``None``) and ExternalName
Services give no ports: kube-proxy has nothing to program for them.
``service_ports`` is pure: a Service dict in, a dict of ports out.
"""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_CLIENT_IP_AFFINITY_SECONDS = 10800     # v1.DefaultClientIPServiceAffinitySeconds


@dataclass(frozen=True)
class ServicePortName:
    """proxy.ServicePortName: ``namespace/name:port`` (``namespace/name`` when the port is unnamed)."""

    namespace: str
    name: str
    port: str = ""
    protocol: str = "TCP"

    @property
    def service(self) -> str:
        return f"{self.namespace}/{self.name}"

    def __str__(self) -> str:
        return f"{self.namespace}/{self.name}" + (f":{self.port}" if self.port else "")


@dataclass(frozen=True)
class ServicePortInfo:
    name: ServicePortName
    cluster_ip: str
    port: int
    protocol: str = "TCP"
    node_port: int = 0
    load_balancer_vips: tuple[str, ...] = ()
    load_balancer_source_ranges: tuple[str, ...] = ()
    external_ips: tuple[str, ...] = ()
    session_affinity_client_ip: bool = False
    sticky_max_age_seconds: int = DEFAULT_CLIENT_IP_AFFINITY_SECONDS
    external_policy_local_field: bool = False
    internal_policy_local: bool = False
    health_check_node_port: int = 0

    # -- BaseServicePortInfo's questions --------------------------------------------------
    def externally_accessible(self) -> bool:
        """NodePort, load balancer or external IPs: reachable from outside the cluster."""
        return self.node_port != 0 or bool(self.load_balancer_vips) or bool(self.external_ips)

    def external_policy_local(self) -> bool:
        """externalTrafficPolicy: Local only counts for externally accessible ports."""
        return self.external_policy_local_field and self.externally_accessible()

    def uses_cluster_endpoints(self) -> bool:
        return not self.internal_policy_local or (self.externally_accessible() and not self.external_policy_local())

    def uses_local_endpoints(self) -> bool:
        return self.internal_policy_local or (self.externally_accessible() and self.external_policy_local())

    def __str__(self) -> str:
        return f"{self.cluster_ip}:{self.port}/{self.protocol}"


def is_service_ip_set(service: dict) -> bool:
    """helper.IsServiceIPSet: a cluster IP that is neither empty nor ``None``."""
    ip = (service.get("spec") or {}).get("clusterIP") or ""
    return ip not in ("", "None")


def service_ports(service: dict) -> dict[ServicePortName, ServicePortInfo]:
    """serviceToServiceMap: every port of ``service`` that kube-proxy would program (IPv4 only)."""
    spec = service.get("spec") or {}
    if spec.get("type") == "ExternalName" or not is_service_ip_set(service):
        return {}
    meta = service["metadata"]
    ingress = ((service.get("status") or {}).get("loadBalancer") or {}).get("ingress") or []
    lb_vips = tuple(i["ip"] for i in ingress if i.get("ip") and ":" not in i["ip"]) \
        if spec.get("type") == "LoadBalancer" else ()
    affinity = spec.get("sessionAffinity") == "ClientIP"
    timeout = (((spec.get("sessionAffinityConfig") or {}).get("clientIP") or {}).get("timeoutSeconds")
               or DEFAULT_CLIENT_IP_AFFINITY_SECONDS)
    ports = {}
    for port in spec.get("ports") or ():
        protocol = port.get("protocol") or "TCP"
        name = ServicePortName(meta["namespace"], meta["name"], port.get("name") or "", protocol)
        ports[name] = ServicePortInfo(
            name=name, cluster_ip=spec["clusterIP"], port=int(port["port"]), protocol=protocol,
            node_port=int(port.get("nodePort") or 0) if spec.get("type") in ("NodePort", "LoadBalancer") else 0,
            load_balancer_vips=lb_vips,
            load_balancer_source_ranges=tuple(spec.get("loadBalancerSourceRanges") or ()),
            external_ips=tuple(ip for ip in spec.get("externalIPs") or () if ":" not in ip),
            session_affinity_client_ip=affinity, sticky_max_age_seconds=int(timeout),
            external_policy_local_field=spec.get("externalTrafficPolicy") == "Local",
            internal_policy_local=spec.get("internalTrafficPolicy") == "Local",
            health_check_node_port=int(spec.get("healthCheckNodePort") or 0))
    return ports
