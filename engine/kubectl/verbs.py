"""The verbs that change the cluster: apply, create, run, delete, scale, label, annotate, patch, cordon.

Interface: one function per verb, ``verb(invocation) -> str``, returning the
lines kubectl prints (``deployment.apps/web created``, ``pod "web" deleted``,
``deployment.apps/web scaled``, ``pod/web labeled``, ``node/node-1 cordoned``).
``objects_from_files(invocation)`` reads ``-f`` paths (``-f -`` reads the text
given as standard input, which the notebook magic supplies from a cell).

Objects are built the way kubectl's generators build them (``create
deployment`` labels ``app=NAME`` and names the container after the image;
``run`` labels ``run=NAME``); every write goes through the admin client, so
admission and validation answer as they would to the real kubectl.
"""

from __future__ import annotations

import base64
import json
import pathlib
from typing import Any

import yaml

from engine.api import errors
from engine.api.kinds import REGISTRY, Kind
from engine.client.client import JSON_PATCH, MERGE_PATCH, STRATEGIC_MERGE_PATCH
from engine.kubectl.apply import apply_one, load_manifests
from engine.kubectl.cli import Invocation, KubectlError, format_api_error, resolve_kind, resolve_targets, scope_of
from engine.kubectl.printers import resource_prefix


def objects_from_files(invocation: Invocation) -> list[dict]:
    """The manifests named by ``-f`` (files, directories of .yaml/.yml/.json, or ``-`` for stdin)."""
    objects: list[dict] = []
    for name in invocation.filenames():
        if name == "-":
            if invocation.stdin is None:
                raise KubectlError("no objects passed to read from standard input")
            objects.extend(_parse(invocation.stdin, "STDIN"))
            continue
        path = pathlib.Path(name)
        if not path.exists():
            raise KubectlError(f'the path "{name}" does not exist')
        files = sorted(p for p in path.iterdir() if p.suffix in (".yaml", ".yml", ".json")) if path.is_dir() \
            else [path]
        for file in files:
            objects.extend(_parse(file.read_text(), str(file)))
    if not objects:
        raise KubectlError("no objects passed to apply" if invocation.verb == "apply" else
                           "must specify one of -f and -k")
    return objects


def _parse(text: str, source: str) -> list[dict]:
    """Manifests from YAML or JSON text, with kubectl's message for text that does not parse."""
    try:
        return load_manifests(text)
    except yaml.YAMLError as error:
        raise KubectlError(f"error parsing {source}: error converting YAML to JSON: {error}") from None
    except ValueError as error:
        raise KubectlError(f"error parsing {source}: {error}") from None


def _display(kind: Kind, name: str, operation: str) -> str:
    return f"{resource_prefix(kind)}/{name} {operation}"


def _source(invocation: Invocation) -> str:
    names = invocation.filenames()
    return "STDIN" if names == ["-"] else (names[0] if names else "")


# -- apply and create ---------------------------------------------------------

def apply(invocation: Invocation) -> str:
    """``kubectl apply -f``: created, configured or unchanged, one line per object."""
    lines = []
    for obj in objects_from_files(invocation):
        kind = REGISTRY.for_object(obj)
        namespace = invocation.flags.get("namespace")
        try:
            stored, what = apply_one(invocation.client, obj, namespace if namespace else None)
        except errors.ApiError as error:
            lines.append(_when(error, "creating" if not _exists(invocation, kind, obj) else "patching",
                               _source(invocation)))
            continue
        lines.append(_display(kind, stored["metadata"]["name"], what))
    return "\n".join(lines)


def _exists(invocation: Invocation, kind: Kind, obj: dict) -> bool:
    metadata = obj.get("metadata") or {}
    try:
        invocation.client.get(kind.plural, metadata.get("name", ""),
                              (metadata.get("namespace") or invocation.namespace) if kind.namespaced else None)
        return True
    except errors.ApiError:
        return False


def _when(error: errors.ApiError, action: str, source: str) -> str:
    """``Error from server (AlreadyExists): error when creating "web.yaml": ...``."""
    if isinstance(error, errors.Invalid):
        return format_api_error(error)
    return f'Error from server ({error.reason}): error when {action} "{source}": {error.message}'


def _create_object(invocation: Invocation, obj: dict) -> str:
    kind = REGISTRY.for_object(obj)
    if kind.namespaced:
        obj.setdefault("metadata", {})
        obj["metadata"]["namespace"] = obj["metadata"].get("namespace") or invocation.namespace
    dry_run = (invocation.flags.get("dry-run") or "none") not in ("none", "false", False)
    if dry_run:
        if invocation.flags.get("output"):
            from engine.kubectl import output
            return output.to_yaml(obj) if invocation.flags["output"] == "yaml" else output.to_json(obj)
        return _display(kind, obj["metadata"]["name"], "created (dry run)")
    created = invocation.client.create(obj)
    return _display(kind, created["metadata"]["name"], "created")


def create(invocation: Invocation) -> str:
    """``kubectl create -f`` and the generators (``create deployment|namespace|configmap|secret|...``)."""
    sub = invocation.verb.split()[1] if " " in invocation.verb else ""
    if not sub:
        lines = []
        for obj in objects_from_files(invocation):
            try:
                lines.append(_create_object(invocation, obj))
            except errors.ApiError as error:
                lines.append(_when(error, "creating", _source(invocation)))
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
                   "clusterrolebinding": "failed to create clusterrolebinding: ", "service": "", "svc": ""}
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
    return {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name}, "type": "Opaque", "data": data}


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
            raise KubectlError(f"serviceaccount must be <namespace>:<name>")
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
              "service": _service, "svc": _service}


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


# -- delete -------------------------------------------------------------------

_CASCADE = {"background": "Background", "true": "Background", "foreground": "Foreground", "orphan": "Orphan",
            "false": "Orphan"}


def delete(invocation: Invocation) -> str:
    """``kubectl delete``: by name, ``type/name``, ``-l`` selector, ``--all`` or ``-f``."""
    cascade = str(invocation.flags.get("cascade", "background")).lower()
    if cascade not in _CASCADE:
        raise KubectlError(f'invalid cascade value ({cascade}). Must be "background", "foreground", or "orphan".')
    policy = _CASCADE[cascade]
    grace = invocation.flag_int("grace-period")
    force = invocation.flag_bool("force")
    if invocation.flag_bool("now"):
        grace = 1
    if grace == 0 and not force:
        grace = 1
    lines: list[str] = []
    if force and grace in (None, 0):
        grace = 0
        lines.append("Warning: Immediate deletion does not wait for confirmation that the running resource has "
                     "been terminated. The resource may continue to run on the cluster indefinitely.")
    operation = "force deleted" if grace == 0 else "deleted"
    targets: list[tuple[Kind, str, str | None]] = []
    if invocation.filenames():
        for obj in objects_from_files(invocation):
            kind = REGISTRY.for_object(obj)
            metadata = obj.get("metadata") or {}
            namespace = (invocation.flags.get("namespace") or metadata.get("namespace") or "default") \
                if kind.namespaced else None
            targets.append((kind, metadata.get("name", ""), namespace))
    else:
        selected = invocation.flags.get("selector") or invocation.flags.get("field-selector")
        for kind, names in resolve_targets(invocation.args):
            namespace = scope_of(invocation, kind)
            if names:
                targets.extend((kind, name, namespace) for name in names)
            elif selected or invocation.flag_bool("all"):
                listing = invocation.client.list(kind.plural, namespace,
                                                 label_selector=invocation.flags.get("selector"),
                                                 field_selector=invocation.flags.get("field-selector"))
                targets.extend((kind, item["metadata"]["name"], item["metadata"].get("namespace"))
                               for item in listing["items"])
            else:
                raise KubectlError("resource(s) were provided, but no name was specified")
        if not targets:
            return "\n".join(lines + ["No resources found"])
    for kind, name, namespace in targets:
        try:
            invocation.client.delete(kind.plural, name, namespace, propagation_policy=policy,
                                     grace_period_seconds=grace)
        except errors.ApiError as error:
            lines.append(_when(error, "deleting", _source(invocation)) if invocation.filenames()
                         else format_api_error(error))
            continue
        label = resource_prefix(kind)
        lines.append(f'{label}/{name}' if invocation.flags.get("output") == "name" else
                     f'{label} "{name}" {operation}')
    return "\n".join(lines)


# -- scale, label, annotate, patch, cordon ------------------------------------

def _one_target(invocation: Invocation, extra_ok: bool = False) -> tuple[Kind, str, list[str]]:
    """``type name rest...`` or ``type/name rest...``: the kind, the name, and what follows."""
    args = invocation.args
    if not args:
        raise KubectlError("You must provide one or more resources by argument or filename.")
    if "/" in args[0]:
        type_name, _, name = args[0].partition("/")
        return resolve_kind(type_name), name, args[1:]
    if len(args) < 2:
        raise KubectlError("resource(s) were provided, but no name was specified")
    return resolve_kind(args[0]), args[1], args[2:]


def scale(invocation: Invocation) -> str:
    """``kubectl scale deployment web --replicas=3`` through the scale subresource."""
    replicas = invocation.flag_int("replicas")
    if replicas is None:
        raise KubectlError("required flag(s) \"replicas\" not set")
    if replicas < 0:
        raise KubectlError("The --replicas=COUNT flag is required, and COUNT must be greater than or equal to 0")
    kind, name, _ = _one_target(invocation)
    if "scale" not in kind.subresources:
        raise KubectlError(f"cannot scale {kind.plural}")
    try:
        invocation.client.scale(kind.plural, name, scope_of(invocation, kind), replicas)
    except errors.NotFound:
        raise KubectlError("no objects passed to scale") from None  # what kubectl says for a missing object
    return _display(kind, name, "scaled")


def _change_map(invocation: Invocation, field_name: str, verb: str) -> str:
    kind, name, pairs = _one_target(invocation)
    if not pairs:
        raise KubectlError(f"at least one {field_name[:-1]} update is required")
    namespace = scope_of(invocation, kind)
    current = invocation.client.get(kind.plural, name, namespace)
    existing = dict((current.get("metadata") or {}).get(field_name) or {})
    changes: dict[str, Any] = {}
    for pair in pairs:
        if pair.endswith("-") and "=" not in pair:
            changes[pair[:-1]] = None
            continue
        key, sep, value = pair.partition("=")
        if not sep:
            raise KubectlError(f"invalid {field_name[:-1]} spec: {pair}")
        if key in existing and existing[key] != value and not invocation.flag_bool("overwrite"):
            raise KubectlError(f"'{key}' already has a value ({existing[key]}), and --overwrite is false")
        changes[key] = value
    new = dict(existing)
    for key, value in changes.items():
        if value is None:
            new.pop(key, None)
        else:
            new[key] = value
    if new == existing:
        return _display(kind, name, f"not {verb}" if verb == "labeled" else verb)
    invocation.client.patch(kind.plural, name, {"metadata": {field_name: changes}}, namespace,
                            patch_type=MERGE_PATCH)
    return _display(kind, name, verb)


def label(invocation: Invocation) -> str:
    """``kubectl label pods web tier=front [--overwrite]``; ``key-`` removes a label."""
    return _change_map(invocation, "labels", "labeled")


def annotate(invocation: Invocation) -> str:
    """``kubectl annotate ...``: like ``label`` for annotations."""
    return _change_map(invocation, "annotations", "annotated")


_PATCH_TYPES = {"strategic": STRATEGIC_MERGE_PATCH, "merge": MERGE_PATCH, "json": JSON_PATCH}


def patch(invocation: Invocation) -> str:
    """``kubectl patch KIND NAME -p '{...}' [--type strategic|merge|json]``."""
    kind, name, _ = _one_target(invocation)
    text = invocation.flags.get("patch")
    if not text:
        raise KubectlError("must specify -p to patch")
    patch_type = _PATCH_TYPES.get(str(invocation.flags.get("type") or "strategic"))
    if patch_type is None:
        raise KubectlError(f'--type must be one of [json merge strategic], not "{invocation.flags["type"]}"')
    try:
        body = json.loads(text)
    except json.JSONDecodeError:
        try:
            body = yaml.safe_load(text)
        except yaml.YAMLError as error:
            raise KubectlError(f"unable to parse \"{text}\": {error}") from None
    namespace = scope_of(invocation, kind)
    before = invocation.client.get(kind.plural, name, namespace)
    after = invocation.client.patch(kind.plural, name, body, namespace, patch_type=patch_type)
    changed = after["metadata"].get("resourceVersion") != before["metadata"].get("resourceVersion")
    return _display(kind, name, "patched" if changed else "patched (no change)")


def _set_unschedulable(invocation: Invocation, value: bool) -> str:
    lines = []
    verb = "cordoned" if value else "uncordoned"
    for name in invocation.args:
        node = invocation.client.get("nodes", name)
        if bool((node.get("spec") or {}).get("unschedulable")) == value:
            lines.append(f"node/{name} already {verb}")
            continue
        invocation.client.patch("nodes", name, {"spec": {"unschedulable": True if value else None}})
        lines.append(f"node/{name} {verb}")
    return "\n".join(lines)


def cordon(invocation: Invocation) -> str:
    """``kubectl cordon NODE``: mark it unschedulable."""
    return _set_unschedulable(invocation, True)


def uncordon(invocation: Invocation) -> str:
    """``kubectl uncordon NODE``."""
    return _set_unschedulable(invocation, False)
