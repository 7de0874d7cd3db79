"""Validation of Ingress and IngressClass: the causes kube-apiserver gives, with its messages."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from engine.api.validation import validate

BACKEND = {"service": {"name": "web", "port": {"number": 80}}}
INGRESS = {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": {"name": "web", "namespace": "default"},
           "spec": {"rules": [{"host": "foo.example.com", "http": {"paths": [
               {"path": "/", "pathType": "Prefix", "backend": BACKEND}]}}]}}
CLASS = {"apiVersion": "networking.k8s.io/v1", "kind": "IngressClass", "metadata": {"name": "nginx"},
         "spec": {"controller": "k8s.io/ingress-nginx"}}


def messages(obj: dict, old: dict | None = None) -> list[str]:
    return [f"{cause['field']}: {cause['message']}" for cause in validate(obj, old)]


def ingress(spec: dict[str, Any] | None = None, **path_fields: Any) -> dict:
    """INGRESS with another spec, or with fields of its one path changed (None removes one)."""
    obj = copy.deepcopy(INGRESS)
    if spec is not None:
        obj["spec"] = spec
        return obj
    path = obj["spec"]["rules"][0]["http"]["paths"][0]
    path.update(path_fields)
    for field in [name for name, value in path_fields.items() if value is None]:
        del path[field]
    return obj


def test_the_docs_minimal_ingress_and_an_ingress_class_are_valid() -> None:
    assert messages(INGRESS) == []
    assert messages(CLASS) == []
    assert messages(ingress({"defaultBackend": {"resource": {"apiGroup": "k8s.example.com", "kind": "StorageBucket",
                                                             "name": "static-assets"}}})) == []


@pytest.mark.parametrize("obj, expected", [
    (ingress(pathType=None), ["spec.rules[0].http.paths[0].pathType: Required value: pathType must be specified"]),
    (ingress(pathType="Regex"), ['spec.rules[0].http.paths[0].pathType: Unsupported value: "Regex": supported '
                                 'values: "Exact", "ImplementationSpecific", "Prefix"']),
    (ingress(path="app"), ['spec.rules[0].http.paths[0].path: Invalid value: "app": must be an absolute path']),
    (ingress(path="/a//b"), ["spec.rules[0].http.paths[0].path: Invalid value: \"/a//b\": must not contain '//'"]),
    (ingress(path="/a/.."), ["spec.rules[0].http.paths[0].path: Invalid value: \"/a/..\": cannot end with '/..'"]),
    (ingress(path="app", pathType="ImplementationSpecific"),
     ['spec.rules[0].http.paths[0].path: Invalid value: "app": must be an absolute path']),
    (ingress({}), ["spec: Invalid value: []networking.IngressRule(nil): either `defaultBackend` or `rules` must be "
                   "specified"]),
    (ingress(backend={}), ['spec.rules[0].http.paths[0].backend: Invalid value: "": resource or service backend is '
                           'required']),
    (ingress(backend={"service": {"name": "web", "port": {}}}),
     ["spec.rules[0].http.paths[0].backend: Required value: port name or number is required"]),
    (ingress(backend={"service": {"name": "web", "port": {"name": "http", "number": 80}}}),
     ['spec.rules[0].http.paths[0].backend: Invalid value: "": cannot set both port name & port number']),
    (ingress(backend={"service": {"name": "Web", "port": {"number": 70000}}}),
     ['spec.rules[0].http.paths[0].backend.service.name: Invalid value: "Web": a DNS-1035 label must consist of '
      "lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric "
      "character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')",
      "spec.rules[0].http.paths[0].backend.service.port.number: Invalid value: 70000: must be between 1 and 65535, "
      "inclusive"]),
    (ingress({"rules": [{"host": "10.0.0.1"}]}),
     ['spec.rules[0].host: Invalid value: "10.0.0.1": must be a DNS name, not an IP address']),
    (ingress({"rules": [{"host": "foo.*.com"}]}),
     ['spec.rules[0].host: Invalid value: "foo.*.com": a wildcard DNS-1123 subdomain must start with \'*.\', '
      "followed by a valid DNS subdomain, which must consist of lower case alphanumeric characters, '-' or '.' and "
      "end with an alphanumeric character (e.g. '*.example.com', regex used for validation is "
      "'\\*\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"]),
    (ingress({"rules": [{"host": "foo.com", "http": {"paths": []}}]}),
     ["spec.rules[0].http.paths: Required value"]),
    (ingress({"defaultBackend": BACKEND, "ingressClassName": "Nginx"}),
     ['spec.ingressClassName: Invalid value: "Nginx": a lowercase RFC 1123 subdomain must consist of lower case '
      "alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. "
      "'example.com', regex used for validation is "
      "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"]),
], ids=["pathType is required in networking.k8s.io/v1", "an unknown pathType lists the supported ones",
        "a Prefix path is absolute", "a path may not contain //", "a path may not end in /..",
        "an ImplementationSpecific path, when given, is absolute", "rules or a default backend is required",
        "a backend needs a service or a resource", "a service backend needs a port",
        "a port is a name or a number, not both", "the service name is a DNS-1035 label and the port in range",
        "a host is a DNS name, not an IP", "a wildcard is only the first label",
        "an HTTP rule needs at least one path", "the class name is a DNS subdomain"])
def test_invalid_ingresses_get_the_real_messages(obj: dict, expected: list[str]) -> None:
    assert messages(obj) == expected


def test_the_class_annotation_must_agree_with_ingress_class_name_on_create_only() -> None:
    obj = ingress({"defaultBackend": BACKEND, "ingressClassName": "nginx"})
    obj["metadata"]["annotations"] = {"kubernetes.io/ingress.class": "traefik"}
    assert messages(obj) == ['annotations.kubernetes.io/ingress.class: Invalid value: "traefik": must match '
                             '`ingressClassName` when both are specified']
    stored = copy.deepcopy(obj)
    stored["metadata"].update(uid="u", resourceVersion="1", creationTimestamp="2025-01-01T00:00:00Z")
    assert messages(stored, stored) == []


def test_a_status_address_must_be_an_ip_or_a_dns_name() -> None:
    old = copy.deepcopy(INGRESS)
    old["metadata"].update(uid="u", resourceVersion="1", creationTimestamp="2025-01-01T00:00:00Z")
    new = copy.deepcopy(old)
    new["status"] = {"loadBalancer": {"ingress": [{"ip": "203.0.113.7"}, {"hostname": "10.0.0.1"}]}}
    assert messages(new, old) == ['status.loadBalancer.ingress[1].hostname: Invalid value: "10.0.0.1": must be a DNS '
                                  'name, not an IP address']


@pytest.mark.parametrize("spec, expected", [
    ({}, ["spec.controller: Required value"]),
    ({"controller": "ingress-nginx"},
     ['spec.controller: Invalid value: "ingress-nginx": must be a domain-prefixed path (such as "acme.io/foo")']),
    ({"controller": "k8s.io/" + "x" * 250}, ["spec.controller: Too long: must have at most 250 bytes"]),
    ({"controller": "k8s.io/x", "parameters": {"kind": "Params", "name": "p", "scope": "Namespace"}},
     ["spec.parameters.namespace: Required value: `parameters.scope` is set to 'Namespace'"]),
    ({"controller": "k8s.io/x", "parameters": {"kind": "Params", "name": "p", "scope": "Cluster",
                                               "namespace": "default"}},
     ["spec.parameters.namespace: Forbidden: `parameters.scope` is set to 'Cluster'"]),
    ({"controller": "k8s.io/x", "parameters": {"name": "p", "scope": "Global"}},
     ["spec.parameters.kind: Required value",
      'spec.parameters.scope: Unsupported value: "Global": supported values: "Cluster", "Namespace"']),
], ids=["a class names its controller", "the controller is a domain-prefixed path", "at most 250 bytes",
        "a namespaced parameters reference names its namespace", "a cluster one does not",
        "parameters need a kind and a known scope"])
def test_invalid_ingress_classes_get_the_real_messages(spec: dict, expected: list[str]) -> None:
    assert messages({**CLASS, "spec": spec}) == expected


def test_the_controller_of_an_ingress_class_is_immutable() -> None:
    old = copy.deepcopy(CLASS)
    old["metadata"].update(uid="u", resourceVersion="1", creationTimestamp="2025-01-01T00:00:00Z")
    new = copy.deepcopy(old)
    new["spec"]["controller"] = "example.com/other"
    assert messages(new, old) == ['spec.controller: Invalid value: "example.com/other": field is immutable']
