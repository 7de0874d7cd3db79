"""Ingress and IngressClass (networking.k8s.io/v1).

Mirrors ``pkg/apis/networking/validation`` (``ValidateIngressCreate``,
``ValidateIngressUpdate``, ``ValidateIngressStatusUpdate``,
``ValidateIngressClass``, ``ValidateIngressClassUpdate``): an Ingress needs
rules or a ``defaultBackend``; a rule's host is a DNS name (a wildcard only as
``*.`` first label), never an IP address; every HTTP path names its
``pathType`` (``networking.k8s.io/v1`` has no default for it) and an
``Exact`` or ``Prefix`` path is absolute and free of ``//``, ``/./`` and the
like; a backend is a Service (a DNS-1035 name and a port by name or number,
not both) or a resource reference, never both; TLS hosts and secret names are
DNS subdomains; ``ingressClassName`` is a DNS subdomain and on create agrees
with the deprecated ``kubernetes.io/ingress.class`` annotation. An
IngressClass names its controller as a domain-prefixed path, which never
changes, and its optional parameters reference with a scope.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any, Mapping

from engine.api.selectors import is_dns1123_subdomain, regex_error
from engine.api.validation.fields import Errors, GoValue, child, index
from engine.api.validation.formats import (
    is_valid_path_segment_name, is_valid_port_name, is_valid_port_num, name_is_dns1035_label, name_is_dns_label,
    name_is_dns_subdomain,
)
from engine.api.validation.meta import validate_metadata

INGRESS_CLASS_ANNOTATION = "kubernetes.io/ingress.class"
PATH_TYPES = ("Exact", "ImplementationSpecific", "Prefix")
PARAMETER_SCOPES = ("Cluster", "Namespace")
MAX_CONTROLLER_LENGTH = 250
_INVALID_PATH_SEQUENCES = ("//", "/./", "/../", "%2f", "%2F")
_INVALID_PATH_SUFFIXES = ("/..", "/.")
_WILDCARD_FMT = "\\*\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*"
_WILDCARD_RE = re.compile("^" + _WILDCARD_FMT + "$")
_HTTP_PATH_FMT = "[A-Za-z0-9/\\-._~%!$&'()*+,;=:]+"
_HTTP_PATH_RE = re.compile("^" + _HTTP_PATH_FMT + "$")


def _dict(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def _is_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def is_wildcard_dns1123_subdomain(value: str) -> list[str]:
    errs = ["must be no more than 253 characters"] if len(value) > 253 else []
    if not _WILDCARD_RE.match(value):
        errs.append(regex_error("a wildcard DNS-1123 subdomain must start with '*.', followed by a valid DNS "
                                "subdomain, which must consist of lower case alphanumeric characters, '-' or '.' "
                                "and end with an alphanumeric character", _WILDCARD_FMT, "*.example.com"))
    return errs


def _host_errors(host: str) -> list[str]:
    return is_wildcard_dns1123_subdomain(host) if "*" in host else is_dns1123_subdomain(host)


def _validate_backend(errs: Errors, backend: Mapping[str, Any], path: str) -> None:
    """validateIngressBackend: a Service backend or a resource reference, exactly one."""
    service, resource = backend.get("service"), backend.get("resource")
    if service is not None and resource is not None:
        errs.invalid(path, "", "cannot set both resource and service backends")
        return
    if resource is not None:
        _validate_resource_reference(errs, _dict(resource), child(path, "resource"))
        return
    if service is None:
        errs.invalid(path, "", "resource or service backend is required")
        return
    service = _dict(service)
    name = service.get("name") or ""
    if not name:
        errs.required(child(child(path, "service"), "name"))
    for message in name_is_dns1035_label(name, False) if name else []:
        errs.invalid(child(child(path, "service"), "name"), name, message)
    port = _dict(service.get("port"))
    port_name, number = port.get("name") or "", port.get("number") or 0
    port_path = child(child(path, "service"), "port")
    if port_name and number:
        errs.invalid(path, "", "cannot set both port name & port number")
    elif port_name:
        for message in is_valid_port_name(port_name):
            errs.invalid(child(port_path, "name"), port_name, message)
    elif number:
        for message in is_valid_port_num(number):
            errs.invalid(child(port_path, "number"), number, message)
    else:
        errs.required(path, "port name or number is required")


def _validate_resource_reference(errs: Errors, reference: Mapping[str, Any], path: str) -> None:
    """validateIngressTypedLocalObjectReference (and the kind and name of a parameters reference)."""
    group = reference.get("apiGroup")
    for message in is_dns1123_subdomain(group) if group is not None else []:
        errs.invalid(child(path, "apiGroup"), group, message)
    for field in ("kind", "name"):
        value = reference.get(field) or ""
        if not value:
            errs.required(child(path, field))
        for message in is_valid_path_segment_name(value) if value else []:
            errs.invalid(child(path, field), value, message)


def _validate_path(errs: Errors, entry: Mapping[str, Any], path: str) -> None:
    """validateHTTPIngressPath."""
    path_type, value = entry.get("pathType"), entry.get("path") or ""
    if path_type is None:
        errs.required(child(path, "pathType"), "pathType must be specified")
        return
    if path_type in ("Exact", "Prefix"):
        if not value.startswith("/"):
            errs.invalid(child(path, "path"), value, "must be an absolute path")
        for sequence in _INVALID_PATH_SEQUENCES if value else ():
            if sequence in value:
                errs.invalid(child(path, "path"), value, f"must not contain '{sequence}'")
        for suffix in _INVALID_PATH_SUFFIXES if value else ():
            if value.endswith(suffix):
                errs.invalid(child(path, "path"), value, f"cannot end with '{suffix}'")
    elif path_type == "ImplementationSpecific":
        if value and not value.startswith("/"):
            errs.invalid(child(path, "path"), value, "must be an absolute path")
    else:
        errs.not_supported(child(path, "pathType"), path_type, PATH_TYPES)
    _validate_backend(errs, _dict(entry.get("backend")), child(path, "backend"))


def _validate_rules(errs: Errors, rules: list, path: str) -> None:
    for i, rule in enumerate(rules):
        rule, rule_path = _dict(rule), index(path, i)
        host = rule.get("host") or ""
        if host and _is_ip(host):
            errs.invalid(child(rule_path, "host"), host, "must be a DNS name, not an IP address")
        for message in _host_errors(host) if host else []:
            errs.invalid(child(rule_path, "host"), host, message)
        http = rule.get("http")
        if http is None:
            continue
        http_path = child(rule_path, "http")
        paths = _dict(http).get("paths") or []
        if not paths:
            errs.required(child(http_path, "paths"))
        for j, entry in enumerate(paths):
            _validate_path(errs, _dict(entry), index(child(http_path, "paths"), j))


def validate_ingress_spec(errs: Errors, spec: Mapping[str, Any], path: str = "spec") -> None:
    """ValidateIngressSpec."""
    rules, default_backend = spec.get("rules"), spec.get("defaultBackend")
    if not rules and default_backend is None:
        shown = GoValue("[]networking.IngressRule(nil)" if rules is None else "[]networking.IngressRule{}")
        errs.invalid(path, shown, "either `defaultBackend` or `rules` must be specified")
    if default_backend is not None:
        _validate_backend(errs, _dict(default_backend), child(path, "defaultBackend"))
    if rules:
        _validate_rules(errs, rules, child(path, "rules"))
    for i, tls in enumerate(spec.get("tls") or []):
        tls, tls_path = _dict(tls), index(child(path, "tls"), i)
        for j, host in enumerate(tls.get("hosts") or []):
            for message in _host_errors(host):
                errs.invalid(index(child(tls_path, "hosts"), j), host, message)
        secret = tls.get("secretName") or ""
        for message in name_is_dns_subdomain(secret, False) if secret else []:
            errs.invalid(child(tls_path, "secretName"), secret, message)
    class_name = spec.get("ingressClassName")
    for message in name_is_dns_subdomain(class_name, False) if class_name is not None else []:
        errs.invalid(child(path, "ingressClassName"), class_name, message)


def validate_ingress(obj: dict, old: dict | None, errs: Errors) -> None:
    validate_metadata(errs, obj, old, name_is_dns_subdomain, True)
    spec = _dict(obj.get("spec"))
    validate_ingress_spec(errs, spec)
    if old is None:
        annotations = _dict(_dict(obj.get("metadata")).get("annotations"))
        annotated, class_name = annotations.get(INGRESS_CLASS_ANNOTATION), spec.get("ingressClassName")
        if annotated is not None and class_name is not None and annotated != class_name:
            errs.invalid(f"annotations.{INGRESS_CLASS_ANNOTATION}", annotated,
                         "must match `ingressClassName` when both are specified")
        return
    for i, entry in enumerate(_dict(_dict(obj.get("status")).get("loadBalancer")).get("ingress") or []):
        entry, entry_path = _dict(entry), index(child(child("status", "loadBalancer"), "ingress"), i)
        ip, hostname = entry.get("ip") or "", entry.get("hostname") or ""
        if ip and not _is_ip(ip):
            errs.invalid(child(entry_path, "ip"), ip, "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)")
        for message in is_dns1123_subdomain(hostname) if hostname else []:
            errs.invalid(child(entry_path, "hostname"), hostname, message)
        if hostname and _is_ip(hostname):
            errs.invalid(child(entry_path, "hostname"), hostname, "must be a DNS name, not an IP address")


def _validate_controller(errs: Errors, controller: str, path: str) -> None:
    """The controller's length, then IsDomainPrefixedPath."""
    if not controller:
        errs.required(path)
        return
    if len(controller) > MAX_CONTROLLER_LENGTH:
        errs.too_long(path, MAX_CONTROLLER_LENGTH)
    host, slash, rest = controller.partition("/")
    if not slash or not host or not rest:
        errs.invalid(path, controller, 'must be a domain-prefixed path (such as "acme.io/foo")')
        return
    for message in is_dns1123_subdomain(host):
        errs.invalid(path, host, message)
    if not _HTTP_PATH_RE.match(rest):
        errs.invalid(path, rest, regex_error("Invalid path", _HTTP_PATH_FMT))


def _validate_parameters(errs: Errors, parameters: Mapping[str, Any], path: str) -> None:
    """validateIngressClassParametersReference."""
    _validate_resource_reference(errs, parameters, path)
    scope, namespace = parameters.get("scope"), parameters.get("namespace")
    if scope is None:
        errs.required(child(path, "scope"))
    elif scope not in PARAMETER_SCOPES:
        errs.not_supported(child(path, "scope"), scope, PARAMETER_SCOPES)
    elif scope == "Namespace" and namespace is None:
        errs.required(child(path, "namespace"), "`parameters.scope` is set to 'Namespace'")
    elif scope == "Namespace":
        for message in name_is_dns_label(namespace, False):
            errs.invalid(child(path, "namespace"), namespace, message)
    elif namespace is not None:
        errs.forbidden(child(path, "namespace"), "`parameters.scope` is set to 'Cluster'")


def validate_ingress_class(obj: dict, old: dict | None, errs: Errors) -> None:
    spec = _dict(obj.get("spec"))
    if old is not None:
        validate_metadata(errs, obj, old, name_is_dns_subdomain, False)
        old_controller = _dict(old.get("spec")).get("controller") or ""
        if (spec.get("controller") or "") != old_controller:
            errs.invalid(child("spec", "controller"), spec.get("controller") or "", "field is immutable")
    validate_metadata(errs, obj, None, name_is_dns_subdomain, False)
    _validate_controller(errs, spec.get("controller") or "", child("spec", "controller"))
    if spec.get("parameters") is not None:
        _validate_parameters(errs, _dict(spec["parameters"]), child("spec", "parameters"))
