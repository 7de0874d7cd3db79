"""describe for services, namespaces, configuration, service accounts and RBAC objects.

Interface: ``describe_service``, ``describe_namespace``, ``describe_configmap``,
``describe_secret``, ``describe_serviceaccount``, ``describe_role`` (Roles and
ClusterRoles: the PolicyRule table, rules broken down per resource and
compacted as ``BreakdownRule``/``CompactRules`` do) and ``describe_binding``.
"""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING

from engine.kubectl.describe.writer import (Writer, describe_events, dig, find_events, go_list, print_annotations,
                                            print_labels)
from engine.kubectl.printers import format_labels

if TYPE_CHECKING:
    from engine.client.client import Client


def describe_service(service: dict, client: "Client", now: float) -> str:
    w = Writer()
    metadata, spec = service["metadata"], service.get("spec") or {}
    w.write(0, f"Name:\t{metadata['name']}\n")
    w.write(0, f"Namespace:\t{metadata.get('namespace', '')}\n")
    print_labels(w, "Labels", metadata.get("labels"))
    print_annotations(w, "Annotations", metadata.get("annotations"))
    w.write(0, f"Selector:\t{format_labels(spec.get('selector'))}\n")
    w.write(0, f"Type:\t{spec.get('type', '')}\n")
    if spec.get("ipFamilyPolicy"):
        w.write(0, f"IP Family Policy:\t{spec['ipFamilyPolicy']}\n")
    w.write(0, f"IP Families:\t{','.join(spec.get('ipFamilies') or []) or '<none>'}\n")
    w.write(0, f"IP:\t{spec.get('clusterIP', '')}\n")
    w.write(0, f"IPs:\t{','.join(spec.get('clusterIPs') or []) or '<none>'}\n")
    if spec.get("externalIPs"):
        w.write(0, f"External IPs:\t{','.join(spec['externalIPs'])}\n")
    if spec.get("loadBalancerIP"):
        w.write(0, f"IP:\t{spec['loadBalancerIP']}\n")
    ingress = dig(service, "status", "loadBalancer", "ingress") or []
    if ingress:
        w.write(0, f"LoadBalancer Ingress:\t{', '.join(i.get('ip') or i.get('hostname', '') for i in ingress)}\n")
    slices = client.list("endpointslices", metadata.get("namespace"),
                         label_selector=f"kubernetes.io/service-name={metadata['name']}")["items"]
    for port in spec.get("ports") or []:
        name = port.get("name") or "<unset>"
        protocol = port.get("protocol", "TCP")
        w.write(0, f"Port:\t{name}\t{port.get('port')}/{protocol}\n")
        w.write(0, f"TargetPort:\t{port.get('targetPort', port.get('port'))}/{protocol}\n")
        if port.get("nodePort"):
            w.write(0, f"NodePort:\t{name}\t{port['nodePort']}/{protocol}\n")
        text = format_endpoint_slices(slices, port.get("name", ""))
        w.write(0, f"Endpoints:\t{text}\n")
    w.write(0, f"Session Affinity:\t{spec.get('sessionAffinity', 'None')}\n")
    if spec.get("externalTrafficPolicy"):
        w.write(0, f"External Traffic Policy:\t{spec['externalTrafficPolicy']}\n")
    if spec.get("internalTrafficPolicy"):
        w.write(0, f"Internal Traffic Policy:\t{spec['internalTrafficPolicy']}\n")
    if spec.get("healthCheckNodePort"):
        w.write(0, f"HealthCheck NodePort:\t{spec['healthCheckNodePort']}\n")
    describe_events(w, find_events(client, service), now)
    return w.text()


def format_endpoint_slices(slices: list[dict], port_name: str) -> str:
    """``formatEndpointSlices``: up to three ``address:port`` for one service port, then ``+ N more...``."""
    if not slices:
        return "<none>"
    listed: list[str] = []
    limit, count = 3, 0
    for slice_ in slices:
        endpoints = [endpoint for endpoint in slice_.get("endpoints") or [] if endpoint.get("addresses")]
        ports = slice_.get("ports") or []
        if not ports:
            for endpoint in endpoints:
                if len(listed) < limit:
                    listed.append(endpoint["addresses"][0])
                count += 1
            continue
        for port in ports:
            if (port.get("name") or "") != port_name:
                continue
            for endpoint in endpoints:
                if len(listed) < limit:
                    address = endpoint["addresses"][0]
                    host = f"[{address}]" if ":" in address else address
                    listed.append(f"{host}:{port.get('port')}")
                count += 1
    text = ",".join(listed)
    return f"{text} + {count - limit} more..." if count > limit else text


def describe_namespace(namespace: dict, client: "Client", now: float) -> str:
    w = Writer()
    metadata = namespace["metadata"]
    w.write(0, f"Name:\t{metadata['name']}\n")
    print_labels(w, "Labels", metadata.get("labels"))
    print_annotations(w, "Annotations", metadata.get("annotations"))
    w.write(0, f"Status:\t{dig(namespace, 'status', 'phase') or 'Active'}\n")
    quotas = sorted(client.list("resourcequotas", metadata["name"])["items"], key=lambda q: q["metadata"]["name"])
    w.write(0, "\n")
    if not quotas:
        w.write(0, "No resource quota.\n")
    else:
        w.write(0, "Resource Quotas\n")
    for quota in quotas:
        w.write(1, f"Name:\t{quota['metadata']['name']}\n")
        w.write(1, "Resource\tUsed\tHard\n")
        w.write(1, "--------\t---\t---\n")
        hard = dig(quota, "status", "hard") or {}
        used = dig(quota, "status", "used") or {}
        for name in sorted(hard):
            w.write(1, f"{name}\t{used.get(name, '0')}\t{hard[name]}\n")
    ranges = client.list("limitranges", metadata["name"])["items"]
    w.write(0, "\n")
    if not ranges:
        w.write(0, "No LimitRange resource.\n")
    else:
        w.write(0, "Resource Limits\n")
    for limit_range in ranges:
        w.write(0, " Type\tResource\tMin\tMax\tDefault Request\tDefault Limit\tMax Limit/Request Ratio\n")
        w.write(0, " ----\t--------\t---\t---\t---------------\t-------------\t-----------------------\n")
        for row in limit_rows(limit_range):
            w.write(0, " " + "\t".join(row) + "\n")
    return w.text()


def describe_configmap(configmap: dict, client: "Client", now: float) -> str:
    w = Writer()
    metadata = configmap["metadata"]
    w.write(0, f"Name:\t{metadata['name']}\n")
    w.write(0, f"Namespace:\t{metadata.get('namespace', '')}\n")
    print_labels(w, "Labels", metadata.get("labels"))
    print_annotations(w, "Annotations", metadata.get("annotations"))
    w.write(0, "\nData\n====\n")
    for key in sorted(configmap.get("data") or {}):
        w.write(0, f"{key}:\n----\n")
        w.write(0, f"{configmap['data'][key]}\n")
        w.write(0, "\n")
    w.write(0, "\nBinaryData\n====\n")
    for key in sorted(configmap.get("binaryData") or {}):
        w.write(0, f"{key}: {len(base64.b64decode(configmap['binaryData'][key]))} bytes\n")
    w.write(0, "\n")
    describe_events(w, find_events(client, configmap), now)
    return w.text()


def describe_secret(secret: dict, client: "Client", now: float) -> str:
    w = Writer()
    metadata = secret["metadata"]
    w.write(0, f"Name:\t{metadata['name']}\n")
    w.write(0, f"Namespace:\t{metadata.get('namespace', '')}\n")
    print_labels(w, "Labels", metadata.get("labels"))
    print_annotations(w, "Annotations", metadata.get("annotations"))
    w.write(0, f"\nType:\t{secret.get('type', 'Opaque')}\n")
    w.write(0, "\nData\n====\n")
    for key in sorted(secret.get("data") or {}):
        value = base64.b64decode(secret["data"][key])
        if key == "token" and secret.get("type") == "kubernetes.io/service-account-token":
            w.write(0, f"{key}:\t{value.decode(errors='replace')}\n")
        else:
            w.write(0, f"{key}:\t{len(value)} bytes\n")
    return w.text()


def describe_serviceaccount(account: dict, client: "Client", now: float) -> str:
    w = Writer()
    metadata = account["metadata"]
    w.write(0, f"Name:\t{metadata['name']}\n")
    w.write(0, f"Namespace:\t{metadata.get('namespace', '')}\n")
    print_labels(w, "Labels", metadata.get("labels"))
    print_annotations(w, "Annotations", metadata.get("annotations"))
    for title, entries in (("Image pull secrets", account.get("imagePullSecrets")),
                           ("Mountable secrets", account.get("secrets"))):
        names = [entry.get("name", "") for entry in entries or []]
        w.write(0, f"{title}:\t{names[0] if names else '<none>'}\n")
        for name in names[1:]:
            w.write(0, f"\t{name}\n")
    w.write(0, "Tokens:\t<none>\n")
    describe_events(w, find_events(client, account), now)
    return w.text()


def _breakdown(rules: list[dict]) -> list[dict]:
    """``BreakdownRule`` then ``CompactRules``: one row per group/resource, verbs merged."""
    rows: dict[tuple, dict] = {}
    order: list[tuple] = []
    for rule in rules:
        verbs = list(rule.get("verbs") or [])
        for group in rule.get("apiGroups") or []:
            for resource in rule.get("resources") or []:
                names = rule.get("resourceNames") or [None]
                for name in names:
                    key = (group, resource, name)
                    if key not in rows:
                        rows[key] = {"apiGroups": [group], "resources": [resource],
                                     "resourceNames": [name] if name else [], "verbs": []}
                        order.append(key)
                    rows[key]["verbs"] += [verb for verb in verbs if verb not in rows[key]["verbs"]]
        for url in rule.get("nonResourceURLs") or []:
            key = ("", "", url)
            if key not in rows:
                rows[key] = {"nonResourceURLs": [url], "verbs": []}
                order.append(key)
            rows[key]["verbs"] += [verb for verb in verbs if verb not in rows[key]["verbs"]]
    return sorted((rows[key] for key in order), key=_rule_string)


def _rule_string(rule: dict) -> str:
    """The generated ``PolicyRule.String()`` that ``SortableRuleSlice`` sorts by (verbs first)."""
    parts = [f"{field}:[{' '.join(rule.get(key) or [])}]" for field, key in (
        ("Verbs", "verbs"), ("APIGroups", "apiGroups"), ("Resources", "resources"),
        ("ResourceNames", "resourceNames"), ("NonResourceURLs", "nonResourceURLs"))]
    return "&PolicyRule{" + ",".join(parts) + ",}"


def _resource_group(rule: dict) -> str:
    """``CombineResourceGroup``: ``pods``, ``deployments.apps``, ``pods/log``."""
    resources = rule.get("resources") or []
    if not resources:
        return ""
    resource, _, sub = resources[0].partition("/")
    groups = rule.get("apiGroups") or []
    combined = resource + (f".{groups[0]}" if groups and groups[0] else "")
    return combined + (f"/{sub}" if sub else "")


def describe_role(role: dict, client: "Client", now: float) -> str:
    w = Writer()
    metadata = role["metadata"]
    w.write(0, f"Name:\t{metadata['name']}\n")
    print_labels(w, "Labels", metadata.get("labels"))
    print_annotations(w, "Annotations", metadata.get("annotations"))
    w.write(0, "PolicyRule:\n")
    w.write(1, "Resources\tNon-Resource URLs\tResource Names\tVerbs\n")
    w.write(1, "---------\t-----------------\t--------------\t-----\n")
    for rule in _breakdown(role.get("rules") or []):
        w.write(1, f"{_resource_group(rule)}\t{go_list(rule.get('nonResourceURLs'))}\t"
                   f"{go_list(rule.get('resourceNames'))}\t{go_list(rule.get('verbs'))}\n")
    return w.text()


def describe_binding(binding: dict, client: "Client", now: float) -> str:
    w = Writer()
    metadata = binding["metadata"]
    w.write(0, f"Name:\t{metadata['name']}\n")
    print_labels(w, "Labels", metadata.get("labels"))
    print_annotations(w, "Annotations", metadata.get("annotations"))
    ref = binding.get("roleRef") or {}
    w.write(0, "Role:\n")
    w.write(1, f"Kind:\t{ref.get('kind', '')}\n")
    w.write(1, f"Name:\t{ref.get('name', '')}\n")
    w.write(0, "Subjects:\n")
    w.write(1, "Kind\tName\tNamespace\n")
    w.write(1, "----\t----\t---------\n")
    for subject in binding.get("subjects") or []:
        w.write(1, f"{subject.get('kind', '')}\t{subject.get('name', '')}\t{subject.get('namespace', '')}\n")
    return w.text()


def describe_endpoints(endpoints: dict, client: "Client", now: float) -> str:
    w = Writer()
    metadata = endpoints["metadata"]
    w.write(0, f"Name:\t{metadata['name']}\n")
    w.write(0, f"Namespace:\t{metadata.get('namespace', '')}\n")
    print_labels(w, "Labels", metadata.get("labels"))
    print_annotations(w, "Annotations", metadata.get("annotations"))
    w.write(0, "Subsets:\n")
    for subset in endpoints.get("subsets") or []:
        ready = ",".join(address.get("ip", "") for address in subset.get("addresses") or [])
        not_ready = ",".join(address.get("ip", "") for address in subset.get("notReadyAddresses") or [])
        w.write(1, f"Addresses:\t{ready or '<none>'}\n")
        w.write(1, f"NotReadyAddresses:\t{not_ready or '<none>'}\n")
        ports = subset.get("ports") or []
        if ports:
            w.write(1, "Ports:\n")
            w.write(2, "Name\tPort\tProtocol\n")
            w.write(2, "----\t----\t--------\n")
            for port in ports:
                w.write(2, f"{port.get('name') or '<unset>'}\t{port.get('port')}\t{port.get('protocol', 'TCP')}\n")
        w.write(0, "\n")
    describe_events(w, find_events(client, endpoints), now)
    return w.text()


def describe_quota(quota: dict, client: "Client", now: float) -> str:
    w = Writer()
    metadata = quota["metadata"]
    w.write(0, f"Name:\t{metadata['name']}\n")
    w.write(0, f"Namespace:\t{metadata.get('namespace', '')}\n")
    scopes = dig(quota, "spec", "scopes") or []
    if scopes:
        w.write(0, "Scopes:\t" + ", ".join(scopes) + "\n")
    w.write(0, "Resource\tUsed\tHard\n")
    w.write(0, "--------\t----\t----\n")
    hard = dig(quota, "status", "hard") or {}
    used = dig(quota, "status", "used") or {}
    for name in sorted(hard):
        w.write(0, f"{name}\t{used.get(name, '0')}\t{hard[name]}\n")
    return w.text()


_LIMIT_COLUMNS = ("min", "max", "defaultRequest", "default", "maxLimitRequestRatio")


def limit_rows(limit_range: dict) -> list[tuple[str, ...]]:
    """One row per limit type and resource: Type, Resource, Min, Max, Default Request, Default Limit, Ratio."""
    rows = []
    for item in dig(limit_range, "spec", "limits") or []:
        names = sorted({name for key in _LIMIT_COLUMNS for name in (item.get(key) or {})})
        for name in names:
            rows.append((item.get("type", ""), name,
                         *(str((item.get(key) or {}).get(name, "-")) for key in _LIMIT_COLUMNS)))
    return rows


def describe_limitrange(limit_range: dict, client: "Client", now: float) -> str:
    w = Writer()
    metadata = limit_range["metadata"]
    w.write(0, f"Name:\t{metadata['name']}\n")
    w.write(0, f"Namespace:\t{metadata.get('namespace', '')}\n")
    w.write(0, "Type\tResource\tMin\tMax\tDefault Request\tDefault Limit\tMax Limit/Request Ratio\n")
    w.write(0, "----\t--------\t---\t---\t---------------\t-------------\t-----------------------\n")
    for row in limit_rows(limit_range):
        w.write(0, "\t".join(row) + "\n")
    return w.text()


def describe_endpointslice(slice_: dict, client: "Client", now: float) -> str:
    w = Writer()
    metadata = slice_["metadata"]
    w.write(0, f"Name:\t{metadata['name']}\n")
    w.write(0, f"Namespace:\t{metadata.get('namespace', '')}\n")
    print_labels(w, "Labels", metadata.get("labels"))
    print_annotations(w, "Annotations", metadata.get("annotations"))
    w.write(0, f"AddressType:\t{slice_.get('addressType', '')}\n")
    ports = slice_.get("ports") or []
    if not ports:
        w.write(0, "Ports: <unset>\n")
    else:
        w.write(0, "Ports:\n")
        w.write(1, "Name\tPort\tProtocol\n")
        w.write(1, "----\t----\t--------\n")
        for port in ports:
            number = "<unset>" if port.get("port") is None else str(port["port"])
            w.write(1, f"{port.get('name') or '<unset>'}\t{number}\t{port.get('protocol', 'TCP')}\n")
    endpoints = slice_.get("endpoints") or []
    if not endpoints:
        w.write(0, "Endpoints: <none>\n")
    else:
        w.write(0, "Endpoints:\n")
    for endpoint in endpoints:
        w.write(1, f"- Addresses:\t{', '.join(endpoint.get('addresses') or []) or '<none>'}\n")
        w.write(2, "Conditions:\n")
        ready = dig(endpoint, "conditions", "ready")
        w.write(3, f"Ready:\t{'<unset>' if ready is None else ('true' if ready else 'false')}\n")
        w.write(2, f"Hostname:\t{endpoint.get('hostname', '<unset>')}\n")
        target = endpoint.get("targetRef")
        if target is not None:
            w.write(2, f"TargetRef:\t{target.get('kind', '')}/{target.get('name', '')}\n")
        w.write(2, f"NodeName:\t{endpoint.get('nodeName', '<unset>')}\n")
        w.write(2, f"Zone:\t{endpoint.get('zone', '<unset>')}\n")
    describe_events(w, find_events(client, slice_), now)
    return w.text()
