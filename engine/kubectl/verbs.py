"""The verbs that change the cluster: apply, delete, scale, label, annotate, patch, cordon (``create`` and
``run`` are in ``engine.kubectl.create``).

Interface: one function per verb, ``verb(invocation) -> str``, returning the
lines kubectl prints (``deployment.apps/web configured``, ``pod "web" deleted``,
``deployment.apps/web scaled``, ``pod/web labeled``, ``node/node-1 cordoned``).
Shared with ``create``: ``objects_from_files(invocation)`` reads ``-f`` paths
(``-f -`` reads the text given as standard input, which the notebook magic
supplies from a cell), ``display`` (``kind/name operation``), ``source_name``
and ``failure_when`` (``error when creating "file": ...``).

Every write goes through the admin client, so admission and validation answer
as they would to the real kubectl.
"""

from __future__ import annotations

import json
import pathlib
from typing import Any

import yaml

from engine.api import errors
from engine.api.conversion import in_storage_version
from engine.api.kinds import Kind
from engine.kubectl.discovery import served_kinds
from engine.client.client import JSON_PATCH, MERGE_PATCH, STRATEGIC_MERGE_PATCH
from engine.kubectl.apply import apply_one, load_manifests
from engine.kubectl.cli import Invocation, KubectlError, format_api_error, resolve_kind, resolve_targets, scope_of
from engine.kubectl.printers import resource_prefix


def objects_from_files(invocation: Invocation) -> list[dict]:
    """The manifests named by ``-f`` (files, directories of .yaml/.yml/.json, or ``-`` for stdin), each in its kind's
    storage version (an ``autoscaling/v1`` HPA as the API server converts and stores it)."""
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
    return [in_storage_version(obj) for obj in objects]


def _parse(text: str, source: str) -> list[dict]:
    """Manifests from YAML or JSON text, with kubectl's message for text that does not parse."""
    try:
        return load_manifests(text)
    except yaml.YAMLError as error:
        raise KubectlError(f"error parsing {source}: error converting YAML to JSON: {error}") from None
    except ValueError as error:
        raise KubectlError(f"error parsing {source}: {error}") from None


def display(kind: Kind, name: str, operation: str) -> str:
    return f"{resource_prefix(kind)}/{name} {operation}"


def source_name(invocation: Invocation) -> str:
    names = invocation.filenames()
    return "STDIN" if names == ["-"] else (names[0] if names else "")


# -- apply and create ---------------------------------------------------------

_VALIDATE = {"strict": "Strict", "true": "Strict", "warn": "Warn", "ignore": "Ignore", "false": "Ignore"}


def field_validation(invocation: Invocation) -> str:
    """``--validate`` (default ``strict``) as the ``fieldValidation`` kubectl sends with each write."""
    value = str(invocation.flags.get("validate", "strict")).lower()
    if value not in _VALIDATE:
        raise KubectlError(f'invalid - validate option "{value}"; must be one of: strict (or true), warn, '
                           f'ignore (or false)')
    return _VALIDATE[value]


def warned(invocation: Invocation) -> list[str]:
    """The API server's warnings on the last request, as kubectl prints them."""
    return [f"Warning: {warning}" for warning in invocation.client.last_warnings]


def apply(invocation: Invocation) -> str:
    """``kubectl apply -f``: created, configured or unchanged, one line per object."""
    lines = []
    validation = field_validation(invocation)
    for obj in objects_from_files(invocation):
        kind = served_kinds().for_object(obj)
        namespace = invocation.flags.get("namespace")
        try:
            stored, what = apply_one(invocation.client, obj, namespace if namespace else None,
                                     field_validation=validation)
        except errors.ApiError as error:
            lines += warned(invocation)
            lines.append(failure_when(error, "creating" if not _exists(invocation, kind, obj) else "patching",
                               source_name(invocation)))
            continue
        lines += warned(invocation)
        lines.append(display(kind, stored["metadata"]["name"], what))
    return "\n".join(lines)


def _exists(invocation: Invocation, kind: Kind, obj: dict) -> bool:
    metadata = obj.get("metadata") or {}
    try:
        invocation.client.get(kind.plural, metadata.get("name", ""),
                              (metadata.get("namespace") or invocation.namespace) if kind.namespaced else None)
        return True
    except errors.ApiError:
        return False


def failure_when(error: errors.ApiError, action: str, source: str) -> str:
    """``Error from server (AlreadyExists): error when creating "web.yaml": ...``."""
    if isinstance(error, errors.Invalid):
        return format_api_error(error)
    return f'Error from server ({error.reason}): error when {action} "{source}": {error.message}'




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
            kind = served_kinds().for_object(obj)
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
            lines.append(failure_when(error, "deleting", source_name(invocation)) if invocation.filenames()
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
    return display(kind, name, "scaled")


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
        return display(kind, name, f"not {verb}" if verb == "labeled" else verb)
    invocation.client.patch(kind.plural, name, {"metadata": {field_name: changes}}, namespace,
                            patch_type=MERGE_PATCH)
    return display(kind, name, verb)


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
    return display(kind, name, "patched" if changed else "patched (no change)")


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
