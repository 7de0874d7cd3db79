"""Printers for Services, Endpoints, EndpointSlices, NetworkPolicies, Ingresses and IngressClasses.

Interface: ``service_ports`` (``makePortString``: ``80:30080/TCP``),
``service_external_ip`` (``<none>``, ``<pending>``, ingress IPs, external name),
``format_endpoints`` (``formatEndpoints``: three addresses, then ``+ N more...``),
``ingress_hosts`` (``formatHosts``: three hosts, then ``+ N more...``, ``*`` for
none), and the row functions.
"""

from __future__ import annotations

from typing import Any

from engine.kubectl.printers.cells import NONE, Row, created_age, dig, format_labels, selector_string


def service_ports(ports: list[dict] | None) -> str:
    """``makePortString``: ``80/TCP`` or ``80:30080/TCP``, comma-joined."""
    pieces = []
    for port in ports or []:
        protocol = port.get("protocol", "TCP")
        if port.get("nodePort"):
            pieces.append(f"{port.get('port')}:{port['nodePort']}/{protocol}")
        else:
            pieces.append(f"{port.get('port')}/{protocol}")
    return ",".join(pieces)


def _load_balancer_ips(service: dict, wide: bool) -> str:
    ingress = dig(service, "status", "loadBalancer", "ingress") or []
    text = ",".join(entry.get("ip") or entry.get("hostname") or "" for entry in ingress
                    if entry.get("ip") or entry.get("hostname"))
    if not wide and len(text) > 16:
        text = text[:13] + "..."
    return text


def service_external_ip(service: dict, wide: bool = False) -> str:
    spec = service.get("spec") or {}
    kind = spec.get("type", "ClusterIP")
    external = spec.get("externalIPs") or []
    if kind in ("ClusterIP", "NodePort"):
        return ",".join(external) if external else NONE
    if kind == "LoadBalancer":
        balancer = _load_balancer_ips(service, wide)
        if external:
            return ",".join(([*balancer.split(",")] if balancer else []) + external)
        return balancer or "<pending>"
    if kind == "ExternalName":
        return spec.get("externalName", "")
    return "<unknown>"


def service_row(obj: dict, now: float, wide: bool) -> Row:
    spec = obj.get("spec") or {}
    ips = spec.get("clusterIPs") or ([spec["clusterIP"]] if spec.get("clusterIP") else [])
    row = [obj["metadata"]["name"], spec.get("type", "ClusterIP"), ips[0] if ips else NONE,
           service_external_ip(obj, wide), service_ports(spec.get("ports")) or NONE, created_age(obj, now)]
    if wide:
        row.append(format_labels(spec.get("selector")))
    return row


def _host_port(ip: str, port: Any) -> str:
    return f"[{ip}]:{port}" if ":" in ip else f"{ip}:{port}"


def format_endpoints(endpoints: dict) -> str:
    """``formatEndpoints``: up to three ``ip:port``, then `` + N more...``."""
    subsets = endpoints.get("subsets") or []
    if not subsets:
        return NONE
    listed: list[str] = []
    limit, more, count = 3, False, 0
    for subset in subsets:
        addresses = subset.get("addresses") or []
        ports = subset.get("ports") or []
        if not ports:
            count += len(addresses)
            for address in addresses:
                if len(listed) == limit:
                    more = True
                    break
                listed.append(address.get("ip", ""))
            continue
        for port in ports:
            count += len(addresses)
            for address in addresses:
                if len(listed) == limit:
                    more = True
                    break
                listed.append(_host_port(address.get("ip", ""), port.get("port")))
    text = ",".join(listed)
    if more:
        return f"{text} + {count - limit} more..."
    return text or NONE


def endpoints_row(obj: dict, now: float, wide: bool) -> Row:
    return [obj["metadata"]["name"], format_endpoints(obj), created_age(obj, now)]


def endpointslice_row(obj: dict, now: float, wide: bool) -> Row:
    ports = obj.get("ports")
    if ports is None:
        ports_text = "<unset>"
    elif not ports:
        ports_text = NONE
    else:
        ports_text = ",".join("<unset>" if p.get("port") is None else str(p["port"]) for p in ports)
    endpoints = obj.get("endpoints") or []
    addresses = [address for endpoint in endpoints for address in endpoint.get("addresses") or []]
    if not endpoints:
        endpoints_text = "<unset>"
    else:
        endpoints_text = ",".join(addresses[:3])
        if len(addresses) > 3:
            endpoints_text += f" + {len(addresses) - 3} more..."
    return [obj["metadata"]["name"], obj.get("addressType", ""), ports_text, endpoints_text, created_age(obj, now)]


def netpol_row(obj: dict, now: float, wide: bool) -> Row:
    selector = selector_string(dig(obj, "spec", "podSelector")) or NONE
    return [obj["metadata"]["name"], selector, created_age(obj, now)]


def ingress_hosts(rules: list[dict] | None) -> str:
    """``formatHosts``: up to three rule hosts, then `` + N more...``; ``*`` when no rule names a host."""
    listed: list[str] = []
    limit, more = 3, False
    for rule in rules or []:
        if len(listed) == limit:
            more = True
        if not more and rule.get("host"):
            listed.append(rule["host"])
    if not listed:
        return "*"
    text = ",".join(listed)
    return f"{text} + {len(rules or []) - limit} more..." if more else text


def _ingress_address(obj: dict, wide: bool) -> str:
    """``ingressLoadBalancerStatusStringer``: the sorted unique IPs (or hostnames), cut at 16 unless wide."""
    entries = dig(obj, "status", "loadBalancer", "ingress") or []
    text = ",".join(sorted({entry.get("ip") or entry.get("hostname") for entry in entries
                            if entry.get("ip") or entry.get("hostname")}))
    return text[:13] + "..." if not wide and len(text) > 16 else text


def ingress_row(obj: dict, now: float, wide: bool) -> Row:
    spec = obj.get("spec") or {}
    return [obj["metadata"]["name"], spec.get("ingressClassName") or NONE, ingress_hosts(spec.get("rules")),
            _ingress_address(obj, wide), "80, 443" if spec.get("tls") else "80", created_age(obj, now)]


def ingressclass_row(obj: dict, now: float, wide: bool) -> Row:
    spec = obj.get("spec") or {}
    parameters, shown = spec.get("parameters"), NONE
    if parameters:
        group = parameters.get("apiGroup")
        shown = parameters.get("kind", "") + (f".{group}" if group is not None else "") + "/" + \
            parameters.get("name", "")
    return [obj["metadata"]["name"], spec.get("controller", ""), shown, created_age(obj, now)]
