"""describe for Ingresses and IngressClasses: where an Ingress sends requests, and which controller a class names.

Interface: ``describe_ingress(ingress, client, now)``, as kubectl's
``IngressDescriber`` words it (the address, the class, the default backend, the
TLS secrets, then a Host / Path / Backends table), and
``describe_ingressclass(ingress_class, client, now)``. A Service backend is
shown as ``name:port`` followed by the endpoints of that Service port, read
from its EndpointSlices as kubectl reads them, or the error of looking the
Service up; a resource backend by its group, kind and name.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine.api import errors
from engine.kubectl.describe.resources import format_endpoint_slices
from engine.kubectl.describe.writer import Writer, describe_events, dig, find_events, print_annotations, print_labels

if TYPE_CHECKING:
    from engine.client.client import Client


def _service_backend(service: dict) -> str:
    """``serviceBackendStringer``: ``name:number`` or ``name:portName``."""
    port = service.get("port") or {}
    return f"{service.get('name', '')}:{port.get('number') or port.get('name', '')}"


def _backend(client: "Client", namespace: str, backend: dict) -> str:
    """``describeBackendV1``."""
    service = backend.get("service")
    if service is not None:
        shown = _service_backend(service)
        try:
            slices = client.list("endpointslices", namespace,
                                 label_selector=f"kubernetes.io/service-name={service.get('name', '')}")["items"]
            found = client.get("services", service.get("name", ""), namespace)
        except errors.ApiError as error:
            return f"{shown} (<error: {error.message}>)"
        wanted, port_name = service.get("port") or {}, ""
        for port in dig(found, "spec", "ports") or []:
            if wanted.get("number") and wanted["number"] == port.get("port"):
                port_name = port.get("name", "")
            elif wanted.get("name") and wanted["name"] == port.get("name"):
                port_name = port.get("name", "")
        return f"{shown} ({format_endpoint_slices(slices, port_name)})"
    resource = backend.get("resource")
    if resource is not None:
        return f"APIGroup: {resource.get('apiGroup', '<none>')}, Kind: {resource.get('kind', '')}, " \
               f"Name: {resource.get('name', '')}"
    return ""


def _address(ingress: dict) -> str:
    entries = dig(ingress, "status", "loadBalancer", "ingress") or []
    return ",".join(sorted({entry.get("ip") or entry.get("hostname") for entry in entries
                            if entry.get("ip") or entry.get("hostname")}))


def describe_ingress(ingress: dict, client: "Client", now: float) -> str:
    w = Writer()
    metadata, spec = ingress["metadata"], ingress.get("spec") or {}
    namespace = metadata.get("namespace", "")
    w.write(0, f"Name:\t{metadata['name']}\n")
    print_labels(w, "Labels", metadata.get("labels"))
    w.write(0, f"Namespace:\t{namespace}\n")
    w.write(0, f"Address:\t{_address(ingress)}\n")
    w.write(0, f"Ingress Class:\t{spec.get('ingressClassName') or '<none>'}\n")
    default = _backend(client, namespace, spec["defaultBackend"]) if spec.get("defaultBackend") else "<default>"
    w.write(0, f"Default backend:\t{default}\n")
    if spec.get("tls"):
        w.write(0, "TLS:\n")
        for tls in spec["tls"]:
            hosts = ",".join(tls.get("hosts") or [])
            w.write(1, f"{tls['secretName']} terminates {hosts}\n" if tls.get("secretName") else f"SNI routes {hosts}\n")
    w.write(0, "Rules:\n  Host\tPath\tBackends\n")
    w.write(1, "----\t----\t--------\n")
    rules = [rule for rule in spec.get("rules") or [] if rule.get("http") is not None]
    for rule in rules:
        w.write(1, f"{rule.get('host') or '*'}\t\n")
        for path in rule["http"].get("paths") or []:
            w.write(2, f"\t{path.get('path', '')} \t{_backend(client, namespace, path.get('backend') or {})}\n")
    if not rules:
        w.write(1, f"*\t*\t{default}\n")
    print_annotations(w, "Annotations", metadata.get("annotations"))
    describe_events(w, find_events(client, ingress), now)
    return w.text()


def describe_ingressclass(ingress_class: dict, client: "Client", now: float) -> str:
    w = Writer()
    metadata, spec = ingress_class["metadata"], ingress_class.get("spec") or {}
    w.write(0, f"Name:\t{metadata['name']}\n")
    print_labels(w, "Labels", metadata.get("labels"))
    print_annotations(w, "Annotations", metadata.get("annotations"))
    w.write(0, f"Controller:\t{spec.get('controller', '')}\n")
    parameters = spec.get("parameters")
    if parameters is not None:
        w.write(0, "Parameters:\n")
        if parameters.get("apiGroup") is not None:
            w.write(1, f"APIGroup:\t{parameters['apiGroup']}\n")
        w.write(1, f"Kind:\t{parameters.get('kind', '')}\n")
        w.write(1, f"Name:\t{parameters.get('name', '')}\n")
    describe_events(w, find_events(client, ingress_class), now)
    return w.text()
