"""``kubectl create`` and ``kubectl run``: objects from files, and kubectl's generators.

Interface: ``create(invocation)`` (``create -f FILE`` and ``create deployment|
namespace|configmap|secret|serviceaccount|service|job|cronjob|role|clusterrole|
rolebinding|clusterrolebinding|ingress NAME ...``), ``run_pod(invocation)`` and
``container_name(image)``.

Objects are built the way kubectl's generators build them: ``create
deployment`` labels ``app=NAME`` and names the container after the image,
``run`` labels ``run=NAME``, ``create role`` makes one rule per API group. A
failed create is worded per generator as kubectl words it.
"""

from __future__ import annotations

import base64
import pathlib
from typing import Any

from engine.api import errors
from engine.kubectl.discovery import served_kinds
from engine.kubectl.cli import Invocation, KubectlError, resolve_kind
from engine.kubectl.create_ingress import ingress
from engine.kubectl.verbs import display, failure_when, field_validation, objects_from_files, source_name, warned


_HAS_STATUS = {"Pod", "Namespace", "Service", "Deployment", "ReplicaSet", "StatefulSet", "DaemonSet", "Job",
               "CronJob", "Ingress"}
_ZERO_STATUS = {"Ingress": {"loadBalancer": {}}}


def as_generated(obj: dict) -> dict:
    """The object as kubectl serializes a generated (typed) object: ``creationTimestamp: null`` in every
    ObjectMeta and an empty ``status`` for kinds that have one (what ``--dry-run=client -o yaml`` shows)."""
    import copy
    obj = copy.deepcopy(obj)
    obj.setdefault("metadata", {})["creationTimestamp"] = None
    spec = obj.get("spec") or {}
    for template in (spec.get("template"), (spec.get("jobTemplate") or {}),
                     ((spec.get("jobTemplate") or {}).get("spec") or {}).get("template")):
        if isinstance(template, dict) and template:
            template.setdefault("metadata", {})["creationTimestamp"] = None
    if obj.get("kind") in _HAS_STATUS:
        obj["status"] = copy.deepcopy(_ZERO_STATUS.get(obj["kind"], {}))
    return obj


def _create_object(invocation: Invocation, obj: dict) -> str:
    kind = served_kinds().for_object(obj)
    dry_run = str(invocation.flags.get("dry-run") or "none").lower()
    if dry_run in ("client", "true"):
        if invocation.flags.get("output") in ("yaml", "json"):
            from engine.kubectl import output
            shown = as_generated(obj)
            return output.to_yaml(shown) if invocation.flags["output"] == "yaml" else output.to_json(shown)
        return display(kind, obj["metadata"]["name"], "created (dry run)")
    if kind.namespaced:
        obj.setdefault("metadata", {})
        obj["metadata"]["namespace"] = obj["metadata"].get("namespace") or invocation.namespace
    created = invocation.client.create(obj, dry_run=dry_run == "server", field_validation=field_validation(invocation))
    shown = display(kind, created["metadata"]["name"], "created (server dry run)" if dry_run == "server" else "created")
    return "\n".join([*warned(invocation), shown])


def create(invocation: Invocation) -> str:
    """``kubectl create -f`` and the generators (``create deployment|namespace|configmap|secret|...``)."""
    sub = invocation.verb.split()[1] if " " in invocation.verb else ""
    if not sub:
        lines = []
        for obj in objects_from_files(invocation):
            try:
                lines.append(_create_object(invocation, obj))
            except errors.ApiError as error:
                lines.append(failure_when(error, "creating", source_name(invocation)))
        return "\n".join(lines)
    if not invocation.args:
        raise KubectlError("NAME is required")
    name = invocation.args[0]
    builder = GENERATORS.get(sub)
    if builder is None:
        raise KubectlError(f'"kubectl create {sub}" is not part of this miniature kubectl: write a manifest and '
                           f'use "kubectl apply -f"')
    obj = builder(invocation, name)
    try:
        return _create_object(invocation, obj)
    except errors.ApiError as error:
        prefix = _FAILURE_PREFIX.get(sub)
        if prefix is None:
            raise
        if sub in ("service", "svc"):
            prefix = f"failed to create {obj['spec']['type']} service: "
        raise KubectlError(prefix + error.message) from None


_FAILURE_PREFIX = {"deployment": "failed to create deployment: ", "configmap": "failed to create configmap: ",
                   "cm": "failed to create configmap: ", "secret": "failed to create secret ",
                   "serviceaccount": "failed to create serviceaccount: ", "sa": "failed to create serviceaccount: ",
                   "job": "failed to create job: ", "cronjob": "failed to create cronjob: ",
                   "rolebinding": "failed to create rolebinding: ",
                   "clusterrolebinding": "failed to create clusterrolebinding: ", "service": "", "svc": "",
                   "ingress": "failed to create ingress: ", "ing": "failed to create ingress: "}
"""How each generator words a failed create (checked against kubectl 1.32); the others print the
server's error as it is (``Error from server (AlreadyExists): ...``)."""


def container_name(image: str) -> str:
    """The container name ``kubectl create deployment`` derives from an image reference."""
    name = image.split("/")[-1]
    name = name.split("@")[0].split(":")[0]
    return name.replace("_", "-")


def _deployment(invocation: Invocation, name: str) -> dict:
    images = invocation.flags.get("image")
    if not images:
        raise KubectlError("required flag(s) \"image\" not set")
    replicas = invocation.flag_int("replicas")
    container: dict[str, Any] = {"image": images, "name": container_name(images), "resources": {}}
    if invocation.flags.get("port"):
        container["ports"] = [{"containerPort": invocation.flag_int("port")}]
    labels = {"app": name}
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"labels": dict(labels), "name": name},
            "spec": {"replicas": 1 if replicas is None else replicas, "selector": {"matchLabels": dict(labels)},
                     "strategy": {}, "template": {"metadata": {"labels": dict(labels)},
                                                  "spec": {"containers": [container]}}}}


def _namespace(invocation: Invocation, name: str) -> dict:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}, "spec": {}}


def _literals(invocation: Invocation) -> dict[str, str]:
    data = {}
    for literal in invocation.flags.get("from-literal") or []:
        key, sep, value = literal.partition("=")
        if not sep or not key:
            raise KubectlError(f'invalid literal source {literal}, expected key=value')
        data[key] = value
    for source in invocation.flags.get("from-file") or []:
        key, sep, path = source.partition("=")
        if not sep:
            path, key = source, pathlib.Path(source).name
        data[key] = pathlib.Path(path).read_text()
    return data


def _configmap(invocation: Invocation, name: str) -> dict:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": _literals(invocation)}


def _secret(invocation: Invocation, name: str) -> dict:
    # ``create secret generic NAME``: the secret's name is the word after the type.
    if name in ("generic", "tls", "docker-registry"):
        if len(invocation.args) < 2:
            raise KubectlError("NAME is required")
        name = invocation.args[1]
    data = {key: base64.b64encode(value.encode()).decode() for key, value in _literals(invocation).items()}
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name}, "data": data}
    if invocation.flags.get("type"):
        secret["type"] = invocation.flags["type"]  # without --type the API server defaults Opaque
    return secret


def _serviceaccount(invocation: Invocation, name: str) -> dict:
    return {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": name}}


def _service(invocation: Invocation, name: str) -> dict:
    service_type = {"clusterip": "ClusterIP", "nodeport": "NodePort", "loadbalancer": "LoadBalancer"}.get(name)
    if service_type is None or len(invocation.args) < 2:
        raise KubectlError("create service requires a type (clusterip, nodeport, loadbalancer) and NAME")
    name = invocation.args[1]
    ports = []
    for spec in str(invocation.flags.get("tcp") or "").split(","):
        if not spec:
            continue
        port, _, target = spec.partition(":")
        ports.append({"name": f"{port}-{target or port}", "port": int(port), "protocol": "TCP",
                      "targetPort": int(target or port)})
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"labels": {"app": name}, "name": name},
            "spec": {"ports": ports, "selector": {"app": name}, "type": service_type}}


def _job_container(invocation: Invocation, name: str) -> dict:
    image = invocation.flags.get("image")
    if not image:
        raise KubectlError("required flag(s) \"image\" not set")
    container: dict[str, Any] = {"image": image, "name": name, "resources": {}}
    if invocation.args[1:]:
        container["command"] = invocation.args[1:]
    return container


def _job(invocation: Invocation, name: str) -> dict:
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": name},
            "spec": {"template": {"metadata": {}, "spec": {"containers": [_job_container(invocation, name)],
                                                           "restartPolicy": "Never"}}}}


def _cronjob(invocation: Invocation, name: str) -> dict:
    schedule = invocation.flags.get("schedule")
    if not schedule:
        raise KubectlError("required flag(s) \"schedule\" not set")
    return {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": name},
            "spec": {"schedule": schedule, "jobTemplate": {
                "metadata": {"name": name},
                "spec": {"template": {"metadata": {}, "spec": {"containers": [_job_container(invocation, name)],
                                                               "restartPolicy": "OnFailure"}}}}}}


def _split_values(invocation: Invocation, flag: str) -> list[str]:
    return [value for item in invocation.flags.get(flag) or [] for value in str(item).split(",") if value]


def _rules(invocation: Invocation) -> list[dict]:
    """``create role``'s rules: one per API group, in group order, each with every verb."""
    verbs = _split_values(invocation, "verb")
    resources = _split_values(invocation, "resource")
    if not verbs:
        raise KubectlError("at least one verb must be specified")
    if not resources:
        raise KubectlError("at least one resource must be specified")
    by_group: dict[str, list[str]] = {}
    for resource in resources:
        base, _, sub = resource.partition("/")
        kind = resolve_kind(base)
        plural = kind.plural + (f"/{sub}" if sub else "")
        if plural not in by_group.setdefault(kind.group, []):
            by_group[kind.group].append(plural)
    rules = []
    for group in sorted(by_group):
        rule: dict[str, Any] = {"apiGroups": [group], "resources": by_group[group], "verbs": verbs}
        names = _split_values(invocation, "resource-name")
        if names:
            rule["resourceNames"] = names
        rules.append(rule)
    return rules


def _role(invocation: Invocation, name: str) -> dict:
    return {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": {"name": name},
            "rules": _rules(invocation)}


def _clusterrole(invocation: Invocation, name: str) -> dict:
    return {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": name},
            "rules": _rules(invocation)}


def _subjects(invocation: Invocation) -> list[dict]:
    subjects: list[dict] = []
    for user in _split_values(invocation, "user"):
        subjects.append({"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": user})
    for group in _split_values(invocation, "group"):
        subjects.append({"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": group})
    for account in _split_values(invocation, "serviceaccount"):
        namespace, sep, account_name = account.partition(":")
        if not sep:
            raise KubectlError("serviceaccount must be <namespace>:<name>")
        subjects.append({"kind": "ServiceAccount", "name": account_name, "namespace": namespace})
    return subjects


def _binding(kind_name: str, invocation: Invocation, name: str) -> dict:
    role, cluster_role = invocation.flags.get("role"), invocation.flags.get("clusterrole")
    if bool(role) == bool(cluster_role):
        raise KubectlError("exactly one of clusterrole or role must be specified" if kind_name == "RoleBinding"
                           else "clusterrole must be specified")
    reference = {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role" if role else "ClusterRole",
                 "name": role or cluster_role}
    return {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": kind_name, "metadata": {"name": name},
            "roleRef": reference, "subjects": _subjects(invocation)}


def _rolebinding(invocation: Invocation, name: str) -> dict:
    return _binding("RoleBinding", invocation, name)


def _clusterrolebinding(invocation: Invocation, name: str) -> dict:
    return _binding("ClusterRoleBinding", invocation, name)


GENERATORS = {"job": _job, "cronjob": _cronjob, "role": _role, "clusterrole": _clusterrole,
              "rolebinding": _rolebinding, "clusterrolebinding": _clusterrolebinding,
              "deployment": _deployment, "namespace": _namespace, "ns": _namespace, "configmap": _configmap,
              "cm": _configmap, "secret": _secret, "serviceaccount": _serviceaccount, "sa": _serviceaccount,
              "service": _service, "svc": _service, "ingress": ingress, "ing": ingress}


def run_pod(invocation: Invocation) -> str:
    """``kubectl run NAME --image=IMG``: one Pod labelled ``run=NAME``."""
    if not invocation.args:
        raise KubectlError("NAME is required for run")
    name = invocation.args[0]
    image = invocation.flags.get("image")
    if not image:
        raise KubectlError("required flag(s) \"image\" not set")
    container: dict[str, Any] = {"image": image, "name": name, "resources": {}}
    if invocation.args[1:]:
        key = "command" if invocation.flag_bool("command") else "args"
        container[key] = invocation.args[1:]
    if invocation.flags.get("port"):
        container["ports"] = [{"containerPort": invocation.flag_int("port")}]
    env = []
    for pair in invocation.flags.get("env") or []:
        key, _, value = pair.partition("=")
        env.append({"name": key, "value": value})
    if env:
        container["env"] = env
    labels = {"run": name}
    for pair in str(invocation.flags.get("labels") or "").split(","):
        if "=" in pair:
            key, _, value = pair.partition("=")
            labels = {} if labels == {"run": name} else labels
            labels[key] = value
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"labels": labels, "name": name},
           "spec": {"containers": [container], "dnsPolicy": "ClusterFirst",
                    "restartPolicy": invocation.flags.get("restart") or "Always"}}
    return _create_object(invocation, pod)
