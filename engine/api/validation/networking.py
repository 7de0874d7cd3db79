"""Networking: Service, Endpoints, EndpointSlice and NetworkPolicy.

Mirrors ``ValidateService``, ``ValidateServiceUpdate`` and
``ValidateEndpoints`` in ``pkg/apis/core/validation``,
``pkg/apis/discovery/validation`` (EndpointSlice) and
``pkg/apis/networking/validation`` (NetworkPolicy): service types and ports,
cluster IPs that never change once set, node ports inside the API server's
``--service-node-port-range``, session affinity, traffic policies, endpoint
addresses of the slice's address type, and NetworkPolicy peers and ports.

A Service needs the node port range, so ``validate_service`` takes it as an
argument; the dispatcher passes it on.
"""

from __future__ import annotations

import ipaddress
from typing import Mapping

from engine.api.selectors import go_quote, is_dns1123_subdomain
from engine.api.validation.fields import (
    Errors, GoValue, child, get_int, get_items, get_list, get_spec, get_string, index,
)
from engine.api.validation.formats import (
    is_cidr, is_dns1123_label, is_valid_port_name, is_valid_port_num, name_is_dns1035_label, name_is_dns_subdomain,
    validate_cidr, validate_ip, validate_port_num_or_name, validate_protocol,
)
from engine.api.validation.meta import (
    validate_label_selector, validate_labels, validate_metadata, validate_object_meta, validate_object_meta_update,
)

_SERVICE_TYPES = ("ClusterIP", "ExternalName", "LoadBalancer", "NodePort")


def _cluster_ips(spec: Mapping) -> list[str]:
    ips = spec.get("clusterIPs")
    if isinstance(ips, list) and ips:
        return [str(ip) for ip in ips]
    return [spec["clusterIP"]] if spec.get("clusterIP") else []


def validate_service(obj: dict, old: dict | None, errs: Errors, node_port_range: tuple[int, int]) -> None:
    if old is not None:
        validate_object_meta_update(errs, obj.get("metadata"), old.get("metadata"))
        old_spec = old.get("spec") if isinstance(old.get("spec"), dict) else {}
        new_spec = obj.get("spec") if isinstance(obj.get("spec"), dict) else {}
        if "ExternalName" not in (new_spec.get("type"), old_spec.get("type")):
            old_ips, new_ips = _cluster_ips(old_spec), _cluster_ips(new_spec)
            # An update that leaves clusterIP out keeps the allocated one (the REST layer copies it).
            if new_ips and old_ips and not (old_ips == ["None"] and new_ips == ["None"]) and new_ips[0] != old_ips[0]:
                errs.invalid("spec.clusterIPs[0]", new_ips, "may not change once set")
    validate_object_meta(errs, obj.get("metadata"), True, name_is_dns1035_label)
    spec = get_spec(errs, obj)
    stype = get_string(errs, spec, "type", "spec.type")
    ips = _cluster_ips(spec)
    headless = ips == ["None"]
    ports = get_items(errs, spec, "ports", "spec.ports")
    if not ports and not headless and stype != "ExternalName":
        errs.required("spec.ports")
    if stype in ("LoadBalancer", "NodePort") and headless:
        errs.invalid("spec.clusterIPs[0]", "None", f"may not be set to 'None' for {stype} services")
    if stype == "ExternalName":
        if ips:
            errs.forbidden("spec.clusterIPs", "may not be set for ExternalName services")
        if spec.get("ipFamilies"):
            errs.forbidden("spec.ipFamilies", "may not be set for ExternalName services")
        if spec.get("ipFamilyPolicy") is not None:
            errs.forbidden("spec.ipFamilyPolicy", "may not be set for ExternalName services")
        cname = get_string(errs, spec, "externalName", "spec.externalName").removesuffix(".")
        if cname:
            for msg in is_dns1123_subdomain(cname):
                errs.invalid("spec.externalName", cname, msg)
        else:
            errs.required("spec.externalName")
    names: set[str] = set()
    for i, port, ppath in ports:
        pname = get_string(errs, port, "name", child(ppath, "name"))
        if len(ports) > 1 and not pname:
            errs.required(child(ppath, "name"))
        elif pname:
            for msg in is_dns1123_label(pname):
                errs.invalid(child(ppath, "name"), pname, msg)
            if pname in names:
                errs.duplicate(child(ppath, "name"), pname)
            names.add(pname)
        number = get_int(errs, port, "port", child(ppath, "port")) or 0
        for msg in is_valid_port_num(number):
            errs.invalid(child(ppath, "port"), number, msg)
        validate_protocol(errs, port, ppath)
        validate_port_num_or_name(errs, port.get("targetPort"), child(ppath, "targetPort"))
    validate_labels(errs, spec.get("selector"), "spec.selector")
    affinity = spec.get("sessionAffinity") or ""
    if not affinity:
        errs.required("spec.sessionAffinity")
    elif affinity not in ("ClientIP", "None"):
        errs.not_supported("spec.sessionAffinity", affinity, ("ClientIP", "None"))
    if affinity == "ClientIP":
        timeout = ((spec.get("sessionAffinityConfig") or {}).get("clientIP") or {}).get("timeoutSeconds")
        if timeout is None:
            errs.required("spec.sessionAffinityConfig", "when session affinity type is ClientIP")
        elif not 0 < timeout <= 86400:
            errs.invalid("spec.sessionAffinityConfig.clientIP.timeoutSeconds", timeout,
                         "must be greater than 0 and less than 86400")
    elif affinity == "None" and spec.get("sessionAffinityConfig") is not None:
        errs.forbidden("spec.sessionAffinityConfig", "must not be set when session affinity is None")
    if ips and spec.get("clusterIP") and spec["clusterIP"] != ips[0]:
        errs.invalid("spec.clusterIPs", ips, "first value must match `clusterIP`")
    for i, ip in enumerate(ips):
        if ip == "None":
            if i or len(ips) > 1:
                errs.invalid(index("spec.clusterIPs", i), ip, "'None' must be the first and only value")
        else:
            validate_ip(errs, index("spec.clusterIPs", i), ip)
    policy = spec.get("ipFamilyPolicy")
    if policy is not None and policy not in ("PreferDualStack", "RequireDualStack", "SingleStack"):
        errs.not_supported("spec.ipFamilyPolicy", policy, ("PreferDualStack", "RequireDualStack", "SingleStack"))
    for i, family in enumerate(spec.get("ipFamilies") or []):
        if family not in ("IPv4", "IPv6"):
            errs.not_supported(index("spec.ipFamilies", i), family, ("IPv4", "IPv6"))
    for i, ip in enumerate(spec.get("externalIPs") or []):
        validate_ip(errs, index("spec.externalIPs", i), str(ip))
    if not stype:
        errs.required("spec.type")
    elif stype not in _SERVICE_TYPES:
        errs.not_supported("spec.type", stype, _SERVICE_TYPES)
    node_ports: set[tuple[str, int]] = set()
    seen_ports: set[tuple[str, int]] = set()
    low, high = node_port_range
    for i, port, ppath in ports:
        node_port = port.get("nodePort")
        if stype == "ClusterIP" and node_port:
            errs.forbidden(child(ppath, "nodePort"), "may not be used when `type` is 'ClusterIP'")
        if node_port:
            if (port.get("protocol"), node_port) in node_ports:
                errs.duplicate(child(ppath, "nodePort"), node_port)
            node_ports.add((port.get("protocol"), node_port))
            if stype in ("NodePort", "LoadBalancer") and isinstance(node_port, int) and not low <= node_port <= high:
                errs.invalid(child(ppath, "nodePort"), node_port, "provided port is not in the valid range. "
                             f"The range of valid ports is {low}-{high}")
        pair = (port.get("protocol"), port.get("port"))
        if pair in seen_ports:
            errs.duplicate(ppath, GoValue(f"core.ServicePort{{Name:\"\", Protocol:{go_quote(str(pair[0]))}, "
                                          f"AppProtocol:(*string)(nil), Port:{pair[1]}, TargetPort:intstr.IntOrString"
                                          "{Type:0, IntVal:0, StrVal:\"\"}, NodePort:0}"))
        seen_ports.add(pair)
    if spec.get("allocateLoadBalancerNodePorts") is not None and stype != "LoadBalancer":
        errs.forbidden("spec.allocateLoadBalancerNodePorts", "may only be used when `type` is 'LoadBalancer'")
    if stype == "LoadBalancer" and spec.get("allocateLoadBalancerNodePorts") is None:
        errs.required("allocateLoadBalancerNodePorts")
    external = stype in ("LoadBalancer", "NodePort") or (stype == "ClusterIP" and bool(spec.get("externalIPs")))
    etp = spec.get("externalTrafficPolicy") or ""
    if not external:
        if etp:
            errs.invalid("spec.externalTrafficPolicy", etp, "may only be set for externally-accessible services")
    elif not etp:
        errs.required("spec.externalTrafficPolicy")
    elif etp not in ("Cluster", "Local"):
        errs.not_supported("spec.externalTrafficPolicy", etp, ("Cluster", "Local"))
    _validate_health_check_node_port(spec, (old or {}).get("spec"), errs)
    itp = spec.get("internalTrafficPolicy")
    if itp is None and stype in ("NodePort", "LoadBalancer", "ClusterIP"):
        errs.required("spec.internalTrafficPolicy")
    elif itp is not None and itp not in ("Cluster", "Local"):
        errs.not_supported("spec.internalTrafficPolicy", itp, ("Cluster", "Local"))


def _validate_health_check_node_port(spec: dict, old_spec: dict | None, errs: Errors) -> None:
    """validateServiceExternalTrafficPolicy's healthCheckNodePort half, and its immutability on update.

    No "Required" here: the API server allocates the port before it stores the Service."""
    port = spec.get("healthCheckNodePort") or 0
    needs = spec.get("type") == "LoadBalancer" and spec.get("externalTrafficPolicy") == "Local"
    if not needs:
        if port:
            errs.invalid("spec.healthCheckNodePort", port,
                         "may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'")
        return
    if port and isinstance(port, int):
        for msg in is_valid_port_num(port):
            errs.invalid("spec.healthCheckNodePort", port, msg)
    if old_spec is not None and old_spec.get("type") == "LoadBalancer" \
            and old_spec.get("externalTrafficPolicy") == "Local" and old_spec.get("healthCheckNodePort") \
            and port != old_spec.get("healthCheckNodePort"):
        errs.forbidden("spec.healthCheckNodePort", "field is immutable")


def validate_endpoints(obj: dict, old: dict | None, errs: Errors) -> None:
    validate_metadata(errs, obj, old, name_is_dns_subdomain)
    for _, subset, spath in get_items(errs, obj, "subsets", "subsets"):
        if not subset.get("addresses") and not subset.get("notReadyAddresses"):
            errs.required(spath, "must specify `addresses` or `notReadyAddresses`")
        for field_name in ("addresses", "notReadyAddresses"):
            for _, address, apath in get_items(errs, subset, field_name, child(spath, field_name)):
                validate_ip(errs, child(apath, "ip"), str(address.get("ip") or ""))
        ports = get_items(errs, subset, "ports", child(spath, "ports"))
        for _, port, ppath in ports:
            pname = str(port.get("name") or "")
            if len(ports) > 1 and not pname:
                errs.required(child(ppath, "name"))
            for msg in is_dns1123_label(pname) if pname else []:
                errs.invalid(child(ppath, "name"), pname, msg)
            for msg in is_valid_port_num(port.get("port") or 0):
                errs.invalid(child(ppath, "port"), port.get("port") or 0, msg)
            validate_protocol(errs, port, ppath)


def validate_endpoint_slice(obj: dict, old: dict | None, errs: Errors) -> None:
    validate_metadata(errs, obj, old, name_is_dns_subdomain)
    address_type = obj.get("addressType") or ""
    if not address_type:
        errs.required("addressType")
    elif address_type not in ("FQDN", "IPv4", "IPv6"):
        errs.not_supported("addressType", address_type, ("FQDN", "IPv4", "IPv6"))
    for _, endpoint, epath in get_items(errs, obj, "endpoints", "endpoints"):
        addresses = get_list(errs, endpoint, "addresses", child(epath, "addresses"))
        if not addresses:
            errs.required(child(epath, "addresses"), "must contain at least 1 address")
        for i, address in enumerate(addresses):
            apath = index(child(epath, "addresses"), i)
            if address_type == "IPv4":
                try:
                    ipaddress.IPv4Address(str(address))
                except ValueError:
                    errs.invalid(apath, address, "must be a valid IPv4 address")
            elif address_type == "IPv6":
                try:
                    ipaddress.IPv6Address(str(address))
                except ValueError:
                    errs.invalid(apath, address, "must be a valid IPv6 address")
            elif address_type == "FQDN":
                for msg in is_dns1123_subdomain(str(address).removesuffix(".")):
                    errs.invalid(apath, address, msg)
        hostname = endpoint.get("hostname")
        for msg in is_dns1123_label(hostname) if isinstance(hostname, str) else []:
            errs.invalid(child(epath, "hostname"), hostname, msg)
    names: set[str] = set()
    for _, port, ppath in get_items(errs, obj, "ports", "ports"):
        name = port.get("name")
        if name is None:
            errs.required(child(ppath, "name"))
        else:
            for msg in is_dns1123_label(name) if name else []:
                errs.invalid(child(ppath, "name"), name, msg)
            if name in names:
                errs.duplicate(child(ppath, "name"), name)
            names.add(name)
        if port.get("protocol") is None:
            errs.required(child(ppath, "protocol"))
        elif port["protocol"] not in ("SCTP", "TCP", "UDP"):
            errs.not_supported(child(ppath, "protocol"), port["protocol"], ("SCTP", "TCP", "UDP"))


def _validate_network_policy_port(errs: Errors, port: dict, path: str) -> None:
    protocol = port.get("protocol")
    if protocol is not None and protocol not in ("TCP", "UDP", "SCTP"):
        errs.not_supported(child(path, "protocol"), protocol, ("TCP", "UDP", "SCTP"))
    number, end_port = port.get("port"), port.get("endPort")
    if number is not None:
        if isinstance(number, int) and not isinstance(number, bool):
            for msg in is_valid_port_num(number):
                errs.invalid(child(path, "port"), number, msg)
            if end_port is not None:
                if end_port < number:
                    errs.invalid(child(path, "endPort"), number, "must be greater than or equal to `port`")
                for msg in is_valid_port_num(end_port):
                    errs.invalid(child(path, "endPort"), end_port, msg)
        else:
            if end_port is not None:
                errs.invalid(child(path, "endPort"), end_port, "may not be specified when `port` is non-numeric")
            for msg in is_valid_port_name(str(number)):
                errs.invalid(child(path, "port"), number, msg)
    elif end_port is not None:
        errs.invalid(child(path, "endPort"), end_port, "may not be specified when `port` is not specified")


def _validate_network_policy_peer(errs: Errors, peer: dict, path: str) -> None:
    peers = 0
    for selector in ("podSelector", "namespaceSelector"):
        if peer.get(selector) is not None:
            peers += 1
            validate_label_selector(errs, peer[selector], child(path, selector))
    block = peer.get("ipBlock")
    if block is not None:
        peers += 1
        bpath = child(path, "ipBlock")
        cidr = str((block or {}).get("cidr") or "")
        if not cidr:
            errs.required(child(bpath, "cidr"))
        else:
            validate_cidr(errs, child(bpath, "cidr"), cidr)
            if is_cidr(cidr):
                outer = ipaddress.ip_network(cidr, strict=False)
                for i, except_cidr in enumerate((block or {}).get("except") or []):
                    epath = index(child(bpath, "except"), i)
                    validate_cidr(errs, epath, str(except_cidr))
                    if is_cidr(str(except_cidr)):
                        inner = ipaddress.ip_network(str(except_cidr), strict=False)
                        if inner.version != outer.version or not inner.subnet_of(outer) or inner.prefixlen <= outer.prefixlen:  # type: ignore[arg-type]
                            errs.invalid(epath, except_cidr, "must be a strict subset of `cidr`")
    if peers == 0:
        errs.required(path, "must specify a peer")
    elif peers > 1 and block is not None:
        errs.forbidden(path, "may not specify both ipBlock and another peer")


def validate_network_policy(obj: dict, old: dict | None, errs: Errors) -> None:
    validate_metadata(errs, obj, old, name_is_dns_subdomain)
    spec = get_spec(errs, obj)
    validate_label_selector(errs, spec.get("podSelector") if spec.get("podSelector") is not None else {}, "spec.podSelector")
    for direction, peer_key in (("ingress", "from"), ("egress", "to")):
        for _, rule, rpath in get_items(errs, spec, direction, f"spec.{direction}"):
            for _, port, ppath in get_items(errs, rule, "ports", child(rpath, "ports")):
                _validate_network_policy_port(errs, port, ppath)
            for _, peer, ppath in get_items(errs, rule, peer_key, child(rpath, peer_key)):
                _validate_network_policy_peer(errs, peer, ppath)
    types = spec.get("policyTypes") or []
    if len(types) > 2:
        errs.invalid("spec.policyTypes", types, "may not specify more than two policyTypes")
        return
    for i, ptype in enumerate(types):
        if ptype not in ("Ingress", "Egress"):
            errs.not_supported(index("spec.policyTypes", i), ptype, ("Ingress", "Egress"))
