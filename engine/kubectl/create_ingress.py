"""``kubectl create ingress NAME --rule=host/path=service:port[,tls[=secret]]``: kubectl's Ingress generator.

Mirrors ``kubectl/pkg/cmd/create/create_ingress.go``. Each ``--rule`` is
checked against kubectl's rule pattern, then becomes an HTTP path under the
rule of its host (rules of the same host share one ``IngressRule``): the path
is ``Exact``, or ``Prefix`` when it ends with ``*`` (which is dropped); the
port is a number when it parses as one, else a port name. A rule with ``,tls``
adds its host to the TLS entry of its secret (``,tls=secret``; no secret means
the controller's default certificate), each host once. ``--class`` sets
``ingressClassName``, ``--default-backend=svc:port`` the default backend and
``--annotation key=value`` (repeatable) the annotations. The generator only
builds the object; ``create`` sends it.
"""

from __future__ import annotations

import re
from typing import Any

from engine.kubectl.cli import Invocation, KubectlError

RULE_PATTERN = re.compile(r"^(?P<host>[\w\*\-\.]*)(?P<path>/[^,=\n]*)=(?P<svcname>[\w\-]+):(?P<svcport>[\w\-]+)"
                          r"(,(?P<istls>tls)=?(?P<secretname>[\w\-]+)?)?$", re.ASCII)


def _backend(service: str) -> dict[str, Any]:
    name, port = service.split(":")[0], service.split(":")[1]
    return {"service": {"name": name, "port": {"number": int(port)} if re.fullmatch(r"[+-]?[0-9]+", port)
                        else {"name": port}}}


def _path(path_and_service: str) -> dict[str, Any]:
    """buildHTTPIngressPath: ``bar*=svc:80`` after the host's slash."""
    path, service = path_and_service.split("=")[0], path_and_service.split("=")[1]
    path, path_type = "/" + path, "Exact"
    if path.endswith("*"):
        path, path_type = path[:-1], "Prefix"
    return {"path": path, "pathType": path_type, "backend": _backend(service)}


def _rules(rules: list[str]) -> list[dict[str, Any]]:
    built: list[dict[str, Any]] = []
    for rule in rules:
        host, _, rest = rule.split(",")[0].partition("/")
        entry = _path(rest)
        same_host = next((existing for existing in built if existing.get("host", "") == host), None)
        if same_host is not None:
            same_host["http"]["paths"].append(entry)
            continue
        built.append({**({"host": host} if host else {}), "http": {"paths": [entry]}})
    return built


def _tls(rules: list[str]) -> list[dict[str, Any]]:
    """buildTLSRules: one entry per secret, each host once."""
    entries: list[dict[str, Any]] = []
    seen: set[str] = set()
    for rule in rules:
        parts = rule.split(",")
        if len(parts) != 2:
            continue
        host = rule.split("/", 1)[0]
        secret_parts = parts[1].split("=")
        secret = secret_parts[1] if len(secret_parts) > 1 else ""
        if host in seen:
            continue
        seen.add(host)
        same_secret = next((entry for entry in entries if entry.get("secretName", "") == secret), None)
        if same_secret is not None:
            same_secret.setdefault("hosts", []).append(host)
            continue
        entry: dict[str, Any] = {}
        if host:
            entry["hosts"] = [host]
        if secret:
            entry["secretName"] = secret
        if entry:
            entries.append(entry)
    return entries


def ingress(invocation: Invocation, name: str) -> dict[str, Any]:
    """The Ingress ``kubectl create ingress`` builds, after kubectl's own checks of its flags."""
    rules = [str(rule) for rule in invocation.flags.get("rule") or []]
    annotations = [str(item) for item in invocation.flags.get("annotation") or []]
    default_backend = str(invocation.flags.get("default-backend") or "")
    if not default_backend and not rules:
        raise KubectlError("not enough information provided: every ingress has to either specify a default-backend "
                           "(which catches all traffic) or a list of rules (which catch specific paths)")
    for rule in rules:
        if not RULE_PATTERN.match(rule):
            raise KubectlError(f"rule {rule} is invalid and should be in format "
                               "host/path=svcname:svcport[,tls[=secret]]")
    for annotation in annotations:
        if "=" not in annotation:
            raise KubectlError(f"annotation {annotation} is invalid and should be in format key=[value]")
    if default_backend and len(default_backend.split(":")) != 2:
        raise KubectlError("default-backend should be in format servicename:serviceport")
    spec: dict[str, Any] = {}
    if invocation.flags.get("class"):
        spec["ingressClassName"] = str(invocation.flags["class"])
    if default_backend:
        spec["defaultBackend"] = _backend(default_backend)
    if _tls(rules):
        spec["tls"] = _tls(rules)
    if rules:
        spec["rules"] = _rules(rules)
    metadata: dict[str, Any] = {"name": name}
    if annotations:
        metadata["annotations"] = dict(annotation.split("=", 1) for annotation in annotations)
    return {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": metadata, "spec": spec}
