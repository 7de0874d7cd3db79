"""The Service environment variables the kubelet gives every container (``pkg/kubelet/envvars``).

Before cluster DNS, a pod found Services through its environment, the way
Docker links worked; Kubernetes still does it. For each Service with a
cluster IP (not headless) that the pod may see, a container gets

    WEB_SERVICE_HOST=10.96.0.20          WEB_SERVICE_PORT=80
    WEB_SERVICE_PORT_HTTP=80             (each named port)
    WEB_PORT=tcp://10.96.0.20:80         (Docker special-cases the first port)
    WEB_PORT_80_TCP=tcp://10.96.0.20:80  WEB_PORT_80_TCP_PROTO=tcp
    WEB_PORT_80_TCP_PORT=80              WEB_PORT_80_TCP_ADDR=10.96.0.20

(the name upper-cased, ``-`` turned into ``_``). Which Services
(``getServiceEnvVarMap``): the ``kubernetes`` Service of the ``default``
namespace always, even with ``enableServiceLinks: false``, because client
libraries build their in-cluster config from ``KUBERNETES_SERVICE_HOST`` and
``KUBERNETES_SERVICE_PORT``; and, when ``enableServiceLinks`` is true (the
default), every Service of the pod's own namespace. A Service created after
the container started is not in its environment: variables are fixed at
container creation. What this module never does: read the API server (the
kubelet hands it the Services from its informer's lister).
"""

from __future__ import annotations

from collections.abc import Iterable

MASTER_SERVICES = ("kubernetes",)
"""Services of the default namespace every pod sees (the kubelet's masterServices)."""


def _variable_name(name: str) -> str:
    """makeEnvVariableName: ``my-svc`` -> ``MY_SVC``."""
    return name.replace("-", "_").upper()


def _ip_set(service: dict) -> bool:
    """IsServiceIPSet: a cluster IP that is neither empty nor ``None`` (headless)."""
    return (service.get("spec") or {}).get("clusterIP") not in (None, "", "None")


def _host_port(ip: str, port: int) -> str:
    """net.JoinHostPort: IPv6 addresses in brackets."""
    return f"[{ip}]:{port}" if ":" in ip else f"{ip}:{port}"


def from_services(services: Iterable[dict]) -> list[tuple[str, str]]:
    """FromServices: the variables of each Service, in order (name, value)."""
    result: list[tuple[str, str]] = []
    for service in services:
        if not _ip_set(service):
            continue
        spec = service["spec"]
        ports = spec.get("ports") or []
        if not ports:
            continue
        prefix = _variable_name(service["metadata"]["name"])
        cluster_ip = spec["clusterIP"]
        result.append((f"{prefix}_SERVICE_HOST", cluster_ip))
        result.append((f"{prefix}_SERVICE_PORT", str(ports[0]["port"])))
        for port in ports:
            if port.get("name"):
                result.append((f"{prefix}_SERVICE_PORT_{_variable_name(port['name'])}", str(port["port"])))
        result.extend(_link_variables(prefix, cluster_ip, ports))
    return result


def _link_variables(prefix: str, cluster_ip: str, ports: list[dict]) -> list[tuple[str, str]]:
    """makeLinkVariables: the Docker-link style ``<SVC>_PORT_<port>_<PROTO>...`` variables."""
    found: list[tuple[str, str]] = []
    for index, port in enumerate(ports):
        protocol = port.get("protocol") or "TCP"
        url = f"{protocol.lower()}://{_host_port(cluster_ip, port['port'])}"
        if index == 0:
            found.append((f"{prefix}_PORT", url))
        port_prefix = f"{prefix}_PORT_{port['port']}_{protocol.upper()}"
        found.extend([(port_prefix, url), (f"{port_prefix}_PROTO", protocol.lower()),
                      (f"{port_prefix}_PORT", str(port["port"])), (f"{port_prefix}_ADDR", cluster_ip)])
    return found


def service_env(services: Iterable[dict], namespace: str, enable_service_links: bool) -> dict[str, str]:
    """getServiceEnvVarMap: the variables for a pod in ``namespace`` (the master Services always)."""
    chosen: dict[str, dict] = {}
    for service in services:
        if not _ip_set(service):
            continue
        meta = service["metadata"]
        name, service_namespace = meta["name"], meta.get("namespace", "default")
        if service_namespace == "default" and name in MASTER_SERVICES:
            chosen.setdefault(name, service)
        elif service_namespace == namespace and enable_service_links:
            chosen[name] = service
    return dict(from_services(chosen[name] for name in sorted(chosen)))
