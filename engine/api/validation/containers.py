"""Containers: what ``validateContainers`` and ``validateInitContainers`` check in each container.

Mirrors the container part of ``pkg/apis/core/validation``: name and image,
ports (names, numbers, host port conflicts), env and envFrom (variable names,
exactly one value source), volumeMounts (a known volume, a unique mount
path), lifecycle handlers and probes (exactly one handler), resources,
securityContext, and the rules that differ for init containers (only a
restartable sidecar may have probes or lifecycle hooks).

``validate_security_context`` serves the pod-level securityContext too.
"""

from __future__ import annotations

import re
from typing import Any, Mapping

from engine.api.selectors import regex_error
from engine.api.validation.fields import Errors, GoValue, child, get_int, get_items, get_object, get_string, index
from engine.api.validation.formats import (
    is_config_map_key, is_dns1123_label, is_relaxed_env_var_name, is_valid_port_name, is_valid_port_num,
    name_is_dns_subdomain, validate_port_num_or_name, validate_protocol,
)
from engine.api.validation.resources import validate_resource_requirements

_HTTP_HEADER_FMT = "[-A-Za-z0-9]+"


def _validate_ports(errs: Errors, container: Mapping, path: str) -> None:
    names: set[str] = set()
    for _, port, port_path in get_items(errs, container, "ports", path):
        name = get_string(errs, port, "name", child(port_path, "name"))
        if name:
            msgs = is_valid_port_name(name)
            for msg in msgs:
                errs.invalid(child(port_path, "name"), name, msg)
            if not msgs:
                if name in names:
                    errs.duplicate(child(port_path, "name"), name)
                names.add(name)
        container_port = get_int(errs, port, "containerPort", child(port_path, "containerPort"))
        if not container_port:
            errs.required(child(port_path, "containerPort"))
        else:
            for msg in is_valid_port_num(container_port):
                errs.invalid(child(port_path, "containerPort"), container_port, msg)
        host_port = get_int(errs, port, "hostPort", child(port_path, "hostPort"))
        if host_port:
            for msg in is_valid_port_num(host_port):
                errs.invalid(child(port_path, "hostPort"), host_port, msg)
        validate_protocol(errs, port, port_path)


_ENV_FIELD_PATHS = ("metadata.name", "metadata.namespace", "metadata.uid", "spec.nodeName", "spec.serviceAccountName",
                    "status.hostIP", "status.hostIPs", "status.podIP", "status.podIPs")


def _validate_env(errs: Errors, container: Mapping, path: str) -> None:
    for _, env, env_path in get_items(errs, container, "env", path):
        name = get_string(errs, env, "name", child(env_path, "name"))
        if not name:
            errs.required(child(env_path, "name"))
        else:
            for msg in is_relaxed_env_var_name(name):
                errs.invalid(child(env_path, "name"), name, msg)
        value_from = get_object(errs, env, "valueFrom", child(env_path, "valueFrom"))
        if value_from is None:
            continue
        vf_path = child(env_path, "valueFrom")
        sources = [s for s in ("fieldRef", "resourceFieldRef", "configMapKeyRef", "secretKeyRef")
                   if isinstance(value_from.get(s), dict)]
        for s in sources:
            ref, ref_path = value_from[s], child(vf_path, s)
            if s in ("configMapKeyRef", "secretKeyRef"):
                ref_name = get_string(errs, ref, "name", child(ref_path, "name"))
                for msg in name_is_dns_subdomain(ref_name, False) if ref_name else []:
                    errs.invalid(child(ref_path, "name"), ref_name, msg)
                ref_key = get_string(errs, ref, "key", child(ref_path, "key"))
                if not ref_key:
                    errs.required(child(ref_path, "key"))
                for msg in is_config_map_key(ref_key) if ref_key else []:
                    errs.invalid(child(ref_path, "key"), ref_key, msg)
            elif s == "fieldRef":
                if not ref.get("apiVersion"):
                    errs.required(child(ref_path, "apiVersion"))
                elif not ref.get("fieldPath"):
                    errs.required(child(ref_path, "fieldPath"))
                else:
                    fp = str(ref["fieldPath"])
                    m = re.match(r"^(metadata\.(?:labels|annotations))\[.+\]$", fp)
                    if not m and fp not in _ENV_FIELD_PATHS:
                        errs.not_supported(child(ref_path, "fieldPath"), fp, _ENV_FIELD_PATHS)
            elif not ref.get("resource"):
                errs.required(child(ref_path, "resource"))
        if not sources:
            errs.invalid(vf_path, "", "must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or "
                         "`secretKeyRef`")
        elif env.get("value"):
            errs.invalid(vf_path, "", "may not be specified when `value` is not empty")
        elif len(sources) > 1:
            errs.invalid(vf_path, "", "may not have more than one field specified at a time")


def _validate_env_from(errs: Errors, container: Mapping, path: str) -> None:
    for _, source, source_path in get_items(errs, container, "envFrom", path):
        prefix = get_string(errs, source, "prefix", child(source_path, "prefix"))
        for msg in is_relaxed_env_var_name(prefix) if prefix else []:
            errs.invalid(child(source_path, "prefix"), prefix, msg)
        refs = [r for r in ("configMapRef", "secretRef") if isinstance(source.get(r), dict)]
        for r in refs:
            ref_name = get_string(errs, source[r], "name", child(child(source_path, r), "name"))
            if not ref_name:
                errs.required(child(child(source_path, r), "name"))
            else:
                for msg in name_is_dns_subdomain(ref_name, True):
                    errs.invalid(child(child(source_path, r), "name"), ref_name, msg)
        if not refs:
            errs.invalid(path, "", "must specify one of: `configMapRef` or `secretRef`")
        elif len(refs) > 1:
            errs.invalid(path, "", "may not have more than one field specified at a time")


def _validate_volume_mounts(errs: Errors, container: Mapping, volumes: Mapping[str, dict], path: str) -> None:
    mount_paths: set[str] = set()
    for _, mount, mount_path in get_items(errs, container, "volumeMounts", path):
        name = get_string(errs, mount, "name", child(mount_path, "name"))
        if not name:
            errs.required(child(mount_path, "name"))
        if name not in volumes:
            errs.not_found(child(mount_path, "name"), name)
        target = get_string(errs, mount, "mountPath", child(mount_path, "mountPath"))
        if not target:
            errs.required(child(mount_path, "mountPath"))
        if target in mount_paths:
            errs.invalid(child(mount_path, "mountPath"), target, "must be unique")
        mount_paths.add(target)
        sub_path = get_string(errs, mount, "subPath", child(mount_path, "subPath"))
        if sub_path.startswith("/"):
            errs.invalid(child(path, "subPath"), sub_path, "must be a relative path")
        elif ".." in sub_path.split("/"):
            errs.invalid(child(path, "subPath"), sub_path, "must not contain '..'")


def _validate_handler(errs: Errors, handler: Any, path: str) -> None:
    if not isinstance(handler, dict):
        errs.type_invalid(path, handler, "object")
        return
    found = 0
    for kind in ("exec", "httpGet", "tcpSocket", "grpc", "sleep"):
        action = handler.get(kind)
        if action is None:
            continue
        if found:
            errs.forbidden(child(path, kind), "may not specify more than 1 handler type")
            continue
        found += 1
        apath = child(path, kind)
        if not isinstance(action, dict):
            errs.type_invalid(apath, action, "object")
        elif kind == "exec":
            if not action.get("command"):
                errs.required(child(apath, "command"))
        elif kind == "httpGet":
            if not action.get("path"):
                errs.required(child(apath, "path"))
            validate_port_num_or_name(errs, action.get("port"), child(apath, "port"))
            scheme = action.get("scheme")
            if scheme not in ("HTTP", "HTTPS"):
                errs.not_supported(child(apath, "scheme"), scheme if scheme is not None else "", ("HTTP", "HTTPS"))
            for header in action.get("httpHeaders") or []:
                hname = header.get("name", "") if isinstance(header, dict) else ""
                if not re.match(r"^[-A-Za-z0-9]+$", hname):
                    errs.invalid(child(apath, "httpHeaders"), hname, regex_error(
                        "a valid HTTP header must consist of alphanumeric characters or '-'", _HTTP_HEADER_FMT,
                        "X-Header-Name"))
        elif kind in ("tcpSocket", "grpc"):
            validate_port_num_or_name(errs, action.get("port"), child(apath, "port"))
    if not found:
        errs.required(path, "must specify a handler type")


def _validate_probe(errs: Errors, probe: Any, path: str, kind: str) -> None:
    if probe is None:
        return
    if not isinstance(probe, dict):
        errs.type_invalid(path, probe, "object")
        return
    _validate_handler(errs, {k: probe.get(k) for k in ("exec", "httpGet", "tcpSocket", "grpc")}, path)
    for name in ("initialDelaySeconds", "timeoutSeconds", "periodSeconds", "successThreshold", "failureThreshold"):
        value = get_int(errs, probe, name, child(path, name))
        if value is not None:
            errs.nonnegative(child(path, name), value)
    grace = get_int(errs, probe, "terminationGracePeriodSeconds", child(path, "terminationGracePeriodSeconds"))
    if grace is not None and grace <= 0:
        errs.invalid(child(path, "terminationGracePeriodSeconds"), grace, "must be greater than 0")
    if kind in ("livenessProbe", "startupProbe") and probe.get("successThreshold") not in (None, 1):
        errs.invalid(child(path, "successThreshold"), probe.get("successThreshold"), "must be 1")
    if kind == "readinessProbe" and grace is not None:
        errs.invalid(child(path, "terminationGracePeriodSeconds"), grace, "must not be set for readinessProbes")


def validate_security_context(errs: Errors, sc: Any, path: str, pod_level: bool) -> None:
    if sc is None:
        return
    if not isinstance(sc, dict):
        errs.type_invalid(path, sc, "object")
        return
    for name, label in (("runAsUser", "user"), ("runAsGroup", "group"), ("fsGroup", "group")):
        if name == "fsGroup" and not pod_level:
            continue
        value = get_int(errs, sc, name, child(path, name))
        if value is not None and not 0 <= value <= 4294967295:
            errs.invalid(child(path, name), value, "must be between 0 and 4294967295, inclusive")
    if not pod_level and sc.get("allowPrivilegeEscalation") is False and sc.get("privileged") is True:
        errs.invalid(path, GoValue("&core.SecurityContext{...}"),
                     "cannot set `allowPrivilegeEscalation` to false and `privileged` to true")


def validate_container(errs: Errors, ctr: dict, volumes: Mapping[str, dict], path: str) -> None:
    name = get_string(errs, ctr, "name", child(path, "name"))
    if not name:
        errs.required(child(path, "name"))
    else:
        for msg in is_dns1123_label(name):
            errs.invalid(child(path, "name"), name, msg)
    if not get_string(errs, ctr, "image", child(path, "image")):
        errs.required(child(path, "image"))
    policy = get_string(errs, ctr, "terminationMessagePolicy", child(path, "terminationMessagePolicy"))
    if not policy:
        errs.required(child(path, "terminationMessagePolicy"))
    elif policy not in ("File", "FallbackToLogsOnError"):
        errs.not_supported(child(path, "terminationMessagePolicy"), policy, ("File", "FallbackToLogsOnError"))
    _validate_ports(errs, ctr, child(path, "ports"))
    _validate_env(errs, ctr, child(path, "env"))
    _validate_env_from(errs, ctr, child(path, "envFrom"))
    _validate_volume_mounts(errs, ctr, volumes, child(path, "volumeMounts"))
    pull = get_string(errs, ctr, "imagePullPolicy", child(path, "imagePullPolicy"))
    if not pull:
        errs.required(child(path, "imagePullPolicy"))
    elif pull not in ("Always", "IfNotPresent", "Never"):
        errs.not_supported(child(path, "imagePullPolicy"), pull, ("Always", "IfNotPresent", "Never"))
    validate_resource_requirements(errs, ctr.get("resources"), child(path, "resources"))
    validate_security_context(errs, ctr.get("securityContext"), child(path, "securityContext"), pod_level=False)


def _host_port_conflicts(errs: Errors, containers: list[tuple[int, dict, str]]) -> None:
    seen: set[str] = set()
    for _, ctr, path in containers:
        for j, port in enumerate(p for p in ctr.get("ports") or [] if isinstance(p, dict)):
            host_port = port.get("hostPort")
            if not host_port:
                continue
            tag = f"{port.get('protocol', '')}/{port.get('hostIP', '')}/{host_port}"
            if tag in seen:
                errs.duplicate(child(index(child(path, "ports"), j), "hostPort"), tag)
            seen.add(tag)


def validate_containers(errs: Errors, spec: Mapping, volumes: Mapping[str, dict], path: str) -> list[str]:
    if not spec.get("containers"):
        errs.required(path)
        return []
    containers = get_items(errs, spec, "containers", path)
    names: list[str] = []
    for _, ctr, ctr_path in containers:
        validate_container(errs, ctr, volumes, ctr_path)
        name = ctr.get("name") or ""
        if name in names:
            errs.duplicate(child(ctr_path, "name"), name)
        names.append(name)
        lifecycle = get_object(errs, ctr, "lifecycle", child(ctr_path, "lifecycle"))
        for hook in ("postStart", "preStop"):
            if lifecycle is not None and lifecycle.get(hook) is not None:
                _validate_handler(errs, lifecycle[hook], child(child(ctr_path, "lifecycle"), hook))
        for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
            _validate_probe(errs, ctr.get(probe), child(ctr_path, probe), probe)
        if ctr.get("restartPolicy") is not None:
            errs.forbidden(child(ctr_path, "restartPolicy"), "may not be set for non-init containers")
    _host_port_conflicts(errs, containers)
    return names


def validate_init_containers(errs: Errors, spec: Mapping, volumes: Mapping[str, dict], names: list[str],
                              path: str) -> None:
    all_names = set(names)
    for _, ctr, ctr_path in get_items(errs, spec, "initContainers", path):
        validate_container(errs, ctr, volumes, ctr_path)
        restart = ctr.get("restartPolicy")
        if restart is not None and restart != "Always":
            errs.not_supported(child(ctr_path, "restartPolicy"), restart, ("Always",))
        name = ctr.get("name") or ""
        if name in all_names:
            errs.duplicate(child(ctr_path, "name"), name)
        elif name:
            all_names.add(name)
        _host_port_conflicts(errs, [(0, ctr, ctr_path)])
        if restart == "Always":
            for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
                _validate_probe(errs, ctr.get(probe), child(ctr_path, probe), probe)
        else:
            for hook in ("lifecycle", "livenessProbe", "readinessProbe", "startupProbe"):
                if ctr.get(hook) is not None:
                    errs.forbidden(child(ctr_path, hook), "may not be set for init containers without restartPolicy=Always")
