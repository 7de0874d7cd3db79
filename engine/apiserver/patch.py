"""PATCH bodies: JSON merge patch, JSON patch and strategic merge patch, as kube-apiserver applies them.

Interface:

- ``apply_patch(target, patch, patch_type, kind)`` dispatches on the request's
  Content-Type (``application/merge-patch+json``, ``application/json-patch+json``,
  ``application/strategic-merge-patch+json``, or the short names ``merge``,
  ``json``, ``strategic`` that ``kubectl patch --type`` takes).
- ``json_merge_patch(target, patch)``: RFC 7386; ``null`` deletes a key, lists are
  replaced whole.
- ``json_patch(target, operations)``: RFC 6902 (add, remove, replace, move, copy,
  test) with RFC 6901 pointers (``~0``, ``~1``, ``-`` to append).
- ``strategic_merge_patch(target, patch, kind)``: Kubernetes' own format, where a
  list's patch strategy comes from the Go type of the field (``patchStrategy`` and
  ``patchMergeKey`` struct tags). ``PATCH_METADATA`` copies those tags for the kinds
  in ``engine.api.kinds``; a Deployment's ``spec.template.spec.containers`` resolves
  through DeploymentSpec -> PodTemplateSpec -> PodSpec exactly as Go reflection
  walks the structs.

Every function returns a new object and never changes its inputs. Failures raise
``ApiError`` subclasses carrying what the real server answers: 400 for a malformed
patch, 422 for a JSON patch that does not apply, 415 for an unknown patch type,
and a reason-less 500 for strategic-patch errors the real server does not map
(a list element without its merge key).

Followed from k8s.io/apimachinery/pkg/util/strategicpatch/patch.go (mergeMap,
mergeSlice, normalizeElementOrder) and gopkg.in/evanphx/json-patch.v4, the
libraries the real handler (apiserver/pkg/endpoints/handlers/patch.go) calls.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from engine.api import errors
from engine.api.frozen import thaw
from engine.api.kinds import REGISTRY

JSON_PATCH = "application/json-patch+json"
MERGE_PATCH = "application/merge-patch+json"
STRATEGIC_MERGE_PATCH = "application/strategic-merge-patch+json"

_SHORT_NAMES = {"json": JSON_PATCH, "merge": MERGE_PATCH, "strategic": STRATEGIC_MERGE_PATCH}

# The real handler refuses bigger JSON patches with 413 (maxJSONPatchOperations).
MAX_JSON_PATCH_OPERATIONS = 10000

DIRECTIVE = "$patch"
RETAIN_KEYS = "$retainKeys"
DELETE_FROM_PRIMITIVE_LIST = "$deleteFromPrimitiveList"
SET_ELEMENT_ORDER = "$setElementOrder"

# mergepatch's sentinel errors, which the handler turns into 400 Bad Request.
_BAD_PRIMITIVE_LIST = "invalid patch format of primitive list"
_BAD_RETAIN_KEYS = "invalid patch format of retainKeys"
_BAD_SET_ELEMENT_ORDER = "invalid patch format of setElementOrder list"


def apply_patch(target: dict, patch: Any, patch_type: str, kind: str) -> dict:
    """Apply ``patch`` to ``target`` as the PATCH verb does for a ``kind`` object."""
    media_type = _SHORT_NAMES.get(patch_type, patch_type.split(";")[0].strip())
    if media_type == JSON_PATCH:
        return json_patch(target, patch)
    if media_type == MERGE_PATCH:
        return json_merge_patch(target, patch)
    if media_type == STRATEGIC_MERGE_PATCH:
        return strategic_merge_patch(target, patch, kind)
    raise unsupported_media_type((JSON_PATCH, MERGE_PATCH, STRATEGIC_MERGE_PATCH))


def unsupported_media_type(accepted: tuple[str, ...]) -> errors.ApiError:
    """415, worded as apimachinery's negotiation.NewUnsupportedMediaTypeError.

    The real list also offers ``application/apply-patch+yaml`` (server-side apply),
    which this engine does not implement, so it is not offered here.
    """
    return errors.ApiError("the body of the request was in an unknown format - accepted media types include: "
                           + ", ".join(accepted), code=415, reason="UnsupportedMediaType")


# -- RFC 7386 JSON merge patch ----------------------------------------------

def json_merge_patch(target: dict, patch: Any) -> dict:
    """RFC 7386: maps merge recursively, ``None`` deletes, anything else replaces."""
    if not isinstance(patch, dict):
        # A patch that is not an object would replace the whole object with a
        # non-object; evanphx/json-patch reports that as ErrBadJSONPatch.
        raise errors.bad_request("Invalid JSON Patch")
    return _merge_patch_value(target, patch)


def _merge_patch_value(target: Any, patch: Any) -> Any:
    if not isinstance(patch, dict):
        return thaw(patch)
    result = thaw(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = _merge_patch_value(result.get(key), value)
    return result


# -- RFC 6902 JSON patch ----------------------------------------------------

class _NotApplied(Exception):
    """One operation failed; the text is evanphx/json-patch's."""


def json_patch(target: dict, operations: Any) -> dict:
    """RFC 6902: apply ``operations`` in order; any failure leaves nothing applied.

    The real server answers a patch that does not apply with a bare 422 whose
    message is the generic "the server rejected our request due to an error in
    our request". We keep that message and add the library's own explanation
    (``testing value /metadata/labels/app failed: test failed``) as the Status
    cause, which the real server leaves empty, so a learner can see why.
    """
    if not isinstance(operations, list):
        raise errors.bad_request("json: cannot unmarshal object into Go value of type jsonpatch.Patch")
    if len(operations) > MAX_JSON_PATCH_OPERATIONS:
        raise errors.ApiError("Request entity too large: The allowed maximum operations in a JSON patch is "
                              f"{MAX_JSON_PATCH_OPERATIONS}, got {len(operations)}",
                              code=413, reason="RequestEntityTooLarge")
    document: Any = thaw(target)
    for operation in operations:
        try:
            document = _apply_operation(document, operation)
        except _NotApplied as failure:
            raise errors.Invalid("the server rejected our request due to an error in our request",
                                 details={"causes": [{"message": str(failure)}]}) from None
    return document


def _apply_operation(document: Any, operation: Any) -> Any:
    if not isinstance(operation, dict):
        raise _NotApplied("Unexpected kind: unknown")
    op = operation.get("op", "unknown")
    path = operation.get("path")
    if op not in ("add", "remove", "replace", "move", "copy", "test"):
        raise _NotApplied(f"Unexpected kind: {op}")
    if not isinstance(path, str):
        raise _NotApplied(f"{op} operation failed to decode path: missing value")
    if op == "test":
        return _test(document, path, operation.get("value"))
    if op == "replace" and path == "":
        return thaw(operation.get("value"))
    if op in ("move", "copy"):
        source = operation.get("from")
        if not isinstance(source, str):
            raise _NotApplied(f"{op} operation failed to decode from: missing value")
        found = _locate(document, source)
        if found is None or not _has(*found):
            raise _NotApplied(f"{op} operation does not apply: doc is missing from path: {source}: missing value")
        value = thaw(_get(*found))
        if op == "move":
            _remove(*found, source)
        destination = _locate(document, path)
        if destination is None:
            raise _NotApplied(f"{op} operation does not apply: doc is missing destination path: {path}: missing value")
        _add(*destination, value, path)
        return document
    found = _locate(document, path)
    if op == "add":
        if found is None:
            raise _NotApplied(f'add operation does not apply: doc is missing path: "{path}": missing value')
        _add(*found, thaw(operation.get("value")), path)
    elif op == "remove":
        if found is None:
            raise _NotApplied(f'remove operation does not apply: doc is missing path: "{path}": missing value')
        _remove(*found, path)
    else:  # replace
        if found is None:
            raise _NotApplied(f"replace operation does not apply: doc is missing path: {path}: missing value")
        if not _has(*found):
            raise _NotApplied(f"replace operation does not apply: doc is missing key: {path}: missing value")
        container, key = found
        if isinstance(container, list):
            container[int(key)] = thaw(operation.get("value"))
        else:
            container[key] = thaw(operation.get("value"))
    return document


def _test(document: Any, path: str, expected: Any) -> Any:
    if path == "":
        if not _json_equal(document, expected):
            raise _NotApplied(f"testing value {path} failed: test failed")
        return document
    found = _locate(document, path)
    if found is None:
        raise _NotApplied(f"test operation does not apply: is missing path: {path}: missing value")
    # json-patch v4 reads a missing member as null, so testing it against null passes.
    actual = _get(*found) if _has(*found) else None
    if not _json_equal(actual, expected):
        raise _NotApplied(f"testing value {path} failed: test failed")
    return document


def _decode_token(token: str) -> str:
    return token.replace("~1", "/").replace("~0", "~")


def _locate(document: Any, path: str) -> tuple[Any, str] | None:
    """The container holding the pointer's last token, and that token; None if a parent is missing."""
    if not path.startswith("/"):
        return None
    tokens = [_decode_token(token) for token in path.split("/")[1:]]
    container = document
    for token in tokens[:-1]:
        if isinstance(container, dict) and token in container:
            container = container[token]
        elif isinstance(container, list) and _index(token, len(container)) is not None:
            container = container[int(token)]
        else:
            return None
    if not isinstance(container, dict | list):
        return None
    return container, tokens[-1]


def _index(token: str, size: int) -> int | None:
    if not token.isdigit() or (len(token) > 1 and token[0] == "0"):
        return None
    index = int(token)
    return index if index < size else None


def _has(container: Any, key: str) -> bool:
    if isinstance(container, list):
        return _index(key, len(container)) is not None
    return key in container


def _get(container: Any, key: str) -> Any:
    return container[int(key)] if isinstance(container, list) else container[key]


def _add(container: Any, key: str, value: Any, path: str) -> None:
    if isinstance(container, dict):
        container[key] = value
    elif key == "-":
        container.append(value)
    elif _index(key, len(container) + 1) is not None:
        container.insert(int(key), value)
    else:
        raise _NotApplied(f"error in add for path: '{path}': Unable to access invalid index: {key}: "
                          "invalid index referenced")


def _remove(container: Any, key: str, path: str) -> None:
    if isinstance(container, dict):
        if key not in container:
            raise _NotApplied(f"error in remove for path: '{path}': Unable to remove nonexistent key: {key}: "
                              "missing value")
        del container[key]
    elif _index(key, len(container)) is not None:
        del container[int(key)]
    else:
        raise _NotApplied(f"error in remove for path: '{path}': Unable to access invalid index: {key}: "
                          "invalid index referenced")


def _json_equal(left: Any, right: Any) -> bool:
    """Equality of JSON values: ``true`` is not ``1``, ``1`` is ``1.0``."""
    if isinstance(left, bool) or isinstance(right, bool):
        return isinstance(left, bool) and isinstance(right, bool) and left == right
    if isinstance(left, int | float) and isinstance(right, int | float):
        return left == right
    if isinstance(left, dict) and isinstance(right, dict):
        return left.keys() == right.keys() and all(_json_equal(left[k], right[k]) for k in left)
    if isinstance(left, list) and isinstance(right, list):
        return len(left) == len(right) and all(_json_equal(a, b) for a, b in zip(left, right))
    return type(left) is type(right) and left == right


# -- Strategic merge patch: the struct tags --------------------------------

@dataclass(frozen=True)
class PatchMeta:
    """What Go's struct tags say of one field: the Go type of its value (or list element),
    its ``patchStrategy`` and its ``patchMergeKey``."""

    type: str | None = None
    strategy: str = ""
    key: str = ""

    @property
    def merges_list(self) -> bool:
        return "merge" in self.strategy.split(",")


_PLAIN = PatchMeta()
_CONDITIONS = PatchMeta(None, "merge", "type")
_CONTAINER_LISTS = {
    "ports": PatchMeta(None, "merge", "containerPort"),
    "env": PatchMeta(None, "merge", "name"),
    "volumeMounts": PatchMeta(None, "merge", "mountPath"),
    "volumeDevices": PatchMeta(None, "merge", "devicePath"),
}
_WORKLOAD_STATUS = {"conditions": _CONDITIONS}

# Keyed by Go struct name, then JSON field name. Fields not listed have no
# patch strategy: maps merge key by key, lists are replaced whole (tolerations,
# subjects, rules, taints, envFrom, ...).
PATCH_METADATA: dict[str, dict[str, PatchMeta]] = {
    "ObjectMeta": {
        "ownerReferences": PatchMeta(None, "merge", "uid"),
        "finalizers": PatchMeta(None, "merge"),          # a set of strings
    },
    "PodTemplateSpec": {"metadata": PatchMeta("ObjectMeta"), "spec": PatchMeta("PodSpec")},
    "PodSpec": {
        "volumes": PatchMeta(None, "merge,retainKeys", "name"),
        "initContainers": PatchMeta("Container", "merge", "name"),
        "containers": PatchMeta("Container", "merge", "name"),
        "ephemeralContainers": PatchMeta("Container", "merge", "name"),
        "imagePullSecrets": PatchMeta(None, "merge", "name"),
        "hostAliases": PatchMeta(None, "merge", "ip"),
        "topologySpreadConstraints": PatchMeta(None, "merge", "topologyKey"),
        "schedulingGates": PatchMeta(None, "merge", "name"),
        "resourceClaims": PatchMeta(None, "merge,retainKeys", "name"),
    },
    "Container": dict(_CONTAINER_LISTS),
    "PodStatus": {
        "conditions": _CONDITIONS,
        "podIPs": PatchMeta(None, "merge", "ip"),
        "hostIPs": PatchMeta(None, "merge", "ip"),
    },
    "Pod": {"spec": PatchMeta("PodSpec"), "status": PatchMeta("PodStatus")},
    "Node": {"spec": PatchMeta("NodeSpec"), "status": PatchMeta("NodeStatus")},
    "NodeSpec": {"podCIDRs": PatchMeta(None, "merge")},
    "NodeStatus": {"conditions": _CONDITIONS, "addresses": PatchMeta(None, "merge", "type")},
    "Namespace": {"status": PatchMeta("NamespaceStatus")},
    "NamespaceStatus": {"conditions": _CONDITIONS},
    "Service": {"spec": PatchMeta("ServiceSpec"), "status": PatchMeta("ServiceStatus")},
    "ServiceSpec": {"ports": PatchMeta(None, "merge", "port")},
    "ServiceStatus": {"conditions": _CONDITIONS},
    "ServiceAccount": {"secrets": PatchMeta(None, "merge", "name")},
    "PersistentVolumeClaim": {"status": PatchMeta("PersistentVolumeClaimStatus")},
    "PersistentVolumeClaimStatus": {"conditions": _CONDITIONS},
    "Deployment": {"spec": PatchMeta("DeploymentSpec"), "status": PatchMeta("DeploymentStatus")},
    "DeploymentSpec": {"template": PatchMeta("PodTemplateSpec"), "strategy": PatchMeta(None, "retainKeys")},
    "DeploymentStatus": _WORKLOAD_STATUS,
    "ReplicaSet": {"spec": PatchMeta("ReplicaSetSpec"), "status": PatchMeta("ReplicaSetStatus")},
    "ReplicaSetSpec": {"template": PatchMeta("PodTemplateSpec")},
    "ReplicaSetStatus": _WORKLOAD_STATUS,
    "StatefulSet": {"spec": PatchMeta("StatefulSetSpec"), "status": PatchMeta("StatefulSetStatus")},
    "StatefulSetSpec": {"template": PatchMeta("PodTemplateSpec")},
    "StatefulSetStatus": _WORKLOAD_STATUS,
    "DaemonSet": {"spec": PatchMeta("DaemonSetSpec"), "status": PatchMeta("DaemonSetStatus")},
    "DaemonSetSpec": {"template": PatchMeta("PodTemplateSpec")},
    "DaemonSetStatus": _WORKLOAD_STATUS,
    "Job": {"spec": PatchMeta("JobSpec"), "status": PatchMeta("JobStatus")},
    "JobSpec": {"template": PatchMeta("PodTemplateSpec")},
    "JobStatus": _WORKLOAD_STATUS,
    "CronJob": {"spec": PatchMeta("CronJobSpec")},
    "CronJobSpec": {"jobTemplate": PatchMeta("JobTemplateSpec")},
    "JobTemplateSpec": {"metadata": PatchMeta("ObjectMeta"), "spec": PatchMeta("JobSpec")},
    "HorizontalPodAutoscaler": {"status": PatchMeta("HorizontalPodAutoscalerStatus")},
    "HorizontalPodAutoscalerStatus": _WORKLOAD_STATUS,
}

# Every built-in kind is a struct with ObjectMeta, even those with no list worth a strategy.
for _kind in REGISTRY:
    PATCH_METADATA.setdefault(_kind.kind, {})["metadata"] = PatchMeta("ObjectMeta")


def patch_meta(type_name: str | None, field: str) -> PatchMeta:
    """The struct tags of ``field`` of the Go type ``type_name`` (kubectl apply's three-way diff reads them too)."""
    return PATCH_METADATA.get(type_name or "", {}).get(field, _PLAIN)


# -- Strategic merge patch: the algorithm ----------------------------------

def strategic_merge_patch(target: dict, patch: Any, kind: str) -> dict:
    """Kubernetes strategic merge patch of a built-in ``kind`` object (Kind name, plural or short name)."""
    root = _root_type(kind)
    if not isinstance(patch, dict):
        raise errors.bad_request("invalid JSON document")
    return _merge_map(thaw(target), thaw(patch), root)


def _root_type(kind: str) -> str:
    if kind in PATCH_METADATA:
        return kind
    found = REGISTRY.find(kind)
    if found is not None and found.kind in PATCH_METADATA:
        return found.kind
    # Custom resources have no Go struct to read tags from: the real server
    # does not offer strategic merge patch for them at all.
    raise unsupported_media_type((JSON_PATCH, MERGE_PATCH))


def _internal(message: str) -> errors.ApiError:
    """A plain Go error reaching the handler: 500 with no reason, the error text as message."""
    return errors.ApiError(message, code=500, reason="")


def _merge_map(original: dict, patch: dict, type_name: str | None) -> dict:
    """mergeMap: both arguments are private copies, and both may be consumed."""
    if DIRECTIVE in patch:
        return _map_directive(patch, type_name)
    _apply_retain_keys(original, patch)
    _merge_ordered_lists(original, patch, type_name)
    for key, value in patch.items():
        delete_list = key.startswith(DELETE_FROM_PRIMITIVE_LIST)
        field = _extract_key(key, DELETE_FROM_PRIMITIVE_LIST, _BAD_PRIMITIVE_LIST) if delete_list else key
        if value is None:
            original.pop(field, None)
            continue
        meta = patch_meta(type_name, field)
        if field not in original:
            if not delete_list:   # deleting from a list that is not there changes nothing
                original[field] = _fresh(value, meta)
            continue
        current = original[field]
        if isinstance(current, dict) and isinstance(value, dict):
            original[field] = (_fresh(value, meta) if meta.strategy == "replace"
                               else _merge_map(current, value, meta.type))
        elif isinstance(current, list) and isinstance(value, list):
            original[field] = _merge_list_field(current, value, meta, delete_list)
        else:
            original[field] = _fresh(value, meta)
    return original


def _map_directive(patch: dict, type_name: str | None) -> dict:
    directive = patch[DIRECTIVE]
    if directive == "replace":
        del patch[DIRECTIVE]
        return _merge_map({}, patch, type_name)
    if directive == "delete":
        return {}
    raise _internal(f"unknown patch type: {_go(directive)} in map: {_go(patch)}")


def _merge_list_field(current: list, value: list, meta: PatchMeta, delete_list: bool) -> list:
    if meta.merges_list:
        return _merge_slice(current, value, meta, delete_list)
    return _fresh(value, meta)


def _fresh(value: Any, meta: PatchMeta) -> Any:
    """A patch value for a field the original lacks, with directives and nulls removed.

    The real server stores the patch value as is and lets JSON decoding into the
    Go struct drop nulls and unknown ``$`` keys; we drop them here so stored
    objects stay plain.
    """
    if isinstance(value, dict):
        return _merge_map({}, value, meta.type)
    if isinstance(value, list):
        items = [item for item in value if not (isinstance(item, dict) and DIRECTIVE in item)]
        return [_fresh(item, PatchMeta(meta.type)) for item in items]
    return value


def _apply_retain_keys(original: dict, patch: dict) -> None:
    """$retainKeys: clear every key of ``original`` the list does not name."""
    if RETAIN_KEYS not in patch:
        return
    retain = patch.pop(RETAIN_KEYS)
    if not isinstance(retain, list):
        raise errors.bad_request(_BAD_RETAIN_KEYS)
    for key, value in patch.items():
        if value is None or key.startswith((DELETE_FROM_PRIMITIVE_LIST, SET_ELEMENT_ORDER)):
            continue
        if key not in retain:
            raise errors.bad_request(_BAD_RETAIN_KEYS)
    for key in [key for key in original if key not in retain]:
        del original[key]


def _extract_key(key: str, prefix: str, error_text: str) -> str:
    head, slash, field = key.partition("/")
    if not slash or head != prefix:
        raise errors.bad_request(error_text)
    return field


def _merge_ordered_lists(original: dict, patch: dict, type_name: str | None) -> None:
    """$setElementOrder/<field>: merge the field's list now and order it as the directive says."""
    for key in [key for key in patch if key.startswith(SET_ELEMENT_ORDER)]:
        order = patch.pop(key)
        field = _extract_key(key, SET_ELEMENT_ORDER, _BAD_SET_ELEMENT_ORDER)
        if not isinstance(order, list):
            raise errors.bad_request(_BAD_SET_ELEMENT_ORDER)
        original_list, patch_list = original.get(field), patch.get(field)
        if (field in original and not isinstance(original_list, list)) or \
                (field in patch and not isinstance(patch_list, list)):
            raise errors.bad_request(_BAD_SET_ELEMENT_ORDER)
        meta = patch_meta(type_name, field)
        _validate_order(patch_list or [], order, meta.key)
        if field in original and field in patch:
            merged = _merge_list_field(original_list, patch_list, meta, False)
        elif field in original:
            merged = original_list
        elif field in patch:
            merged = _fresh(patch_list, meta)
        else:
            continue
        in_order, server_only = _partition(merged, order, meta.key)
        is_map = any(isinstance(item, dict) for item in (original_list or []) + (patch_list or []))
        original[field] = _normalize_order(in_order, server_only, order, original_list or [], meta.key, is_map)
        patch.pop(field, None)


def _validate_order(patch_list: list, order: list, merge_key: str) -> None:
    """The patch list's items must appear in $setElementOrder, in the same relative order."""
    if not order or not patch_list:
        return
    items = [item for item in patch_list
             if not (merge_key and isinstance(item, dict) and item.get(DIRECTIVE) == "delete")]
    patch_index = order_index = 0
    while patch_index < len(items) and order_index < len(order):
        item = items[patch_index]
        if isinstance(item, dict) and DIRECTIVE in item:
            patch_index += 1
            continue
        if _same_key(item, order[order_index], merge_key):
            patch_index += 1
        order_index += 1
    if patch_index < len(items) and order_index >= len(order):
        raise _internal(f"The order in patch list:\n{_go(patch_list)}\n doesn't match {SET_ELEMENT_ORDER} "
                        f"list:\n{_go(order)}\n")


def _same_key(left: Any, right: Any, merge_key: str) -> bool:
    if not merge_key:
        return _json_equal(left, right)
    for item in (left, right):
        if not isinstance(item, dict) or merge_key not in item:
            raise _no_merge_key(item, merge_key)
    return _json_equal(left[merge_key], right[merge_key])


def _no_merge_key(item: Any, merge_key: str) -> errors.ApiError:
    return _internal(f"map: {_go(item)} does not contain declared merge key: {merge_key}")


def _merge_slice(original: list, patch: list, meta: PatchMeta, delete_list: bool) -> list:
    """mergeSlice: scalars merge as a set, maps merge by ``meta.key``; then the order is normalised."""
    if not original and not patch:
        return original
    items = original + patch
    if any(isinstance(item, list) for item in items):
        raise errors.ApiError("lists of lists are not supported", code=422, reason="Invalid")
    is_map = isinstance(items[0], dict)
    if any(isinstance(item, dict) != is_map for item in items):
        raise _internal(f"list element types are not identical: {_go([original, patch])}")
    if not is_map:
        if delete_list:
            merged = [item for item in original if not any(_json_equal(item, gone) for gone in patch)]
        else:
            merged = _deduplicate(original + patch)
    else:
        if not meta.key:
            raise _internal("cannot merge lists without merge key for type map")
        original, patch = _special_elements(original, patch, meta.key)
        merged = _merge_by_key(original, patch, meta)
    in_patch, server_only = _partition(merged, patch, meta.key if is_map else "")
    return _normalize_order(in_patch, server_only, patch, original, meta.key if is_map else "", is_map)


def _special_elements(original: list, patch: list, merge_key: str) -> tuple[list, list]:
    """Elements with ``$patch``: ``delete`` removes by key, ``replace`` makes the rest of the patch the list."""
    plain: list = []
    replace = False
    for item in patch:
        if DIRECTIVE not in item:
            plain.append(item)
            continue
        directive = item[DIRECTIVE]
        if directive == "delete":
            if merge_key not in item:
                raise _no_merge_key(item, merge_key)
            original = [kept for kept in original
                        if not (merge_key in kept and _json_equal(kept[merge_key], item[merge_key]))]
        elif directive == "replace":
            replace = True
        elif directive == "merge":
            raise _internal("merging lists cannot yet be specified in the patch")
        else:
            raise _internal(f"unknown patch type: {_go(directive)} in map: {_go(item)}")
    if replace:
        return [_fresh(item, PatchMeta()) for item in plain], []
    return original, plain


def _merge_by_key(original: list, patch: list, meta: PatchMeta) -> list:
    merged = list(original)
    for item in patch:
        if meta.key not in item:
            raise _no_merge_key(item, meta.key)
        for index, existing in enumerate(merged):
            if not isinstance(existing, dict):
                raise _internal(f"value for key {index} is not a map.")
            if meta.key in existing and _json_equal(existing[meta.key], item[meta.key]):
                merged[index] = _merge_map(existing, item, meta.type)
                break
        else:
            merged.append(_merge_map({}, item, meta.type))
    return merged


def _deduplicate(items: list) -> list:
    unique: list = []
    for item in items:
        if not any(_json_equal(item, seen) for seen in unique):
            unique.append(item)
    return unique


def _partition(items: list, by: list, merge_key: str) -> tuple[list, list]:
    """Split ``items`` into those present in ``by`` (by merge key, or by value) and the rest."""
    present, absent = [], []
    for item in items:
        if merge_key:
            if not isinstance(item, dict) or merge_key not in item:
                raise _no_merge_key(item, merge_key)
            found = any(isinstance(other, dict) and merge_key in other
                        and _json_equal(other[merge_key], item[merge_key]) for other in by)
        else:
            found = any(_json_equal(item, other) for other in by)
        (present if found else absent).append(item)
    return present, absent


def _position(items: list, item: Any, merge_key: str, is_map: bool) -> int:
    value = item.get(merge_key) if is_map and isinstance(item, dict) else item
    for index, other in enumerate(items):
        other_value = other.get(merge_key) if is_map and isinstance(other, dict) else other
        if _json_equal(value, other_value):
            return index
    return -1


def _normalize_order(in_patch: list, server_only: list, patch_order: list, server_order: list,
                     merge_key: str, is_map: bool) -> list:
    """normalizeElementOrder: sort each part by its own order, then interleave them.

    Patch items keep the patch's order; items only on the server keep theirs;
    where both are known to the server, the server's order decides who goes
    first, and a new item goes before the server-only items that follow it.
    """
    in_patch = _sort_by(in_patch, patch_order, merge_key, is_map)
    server_only = _sort_by(server_only, server_order, merge_key, is_map)
    merged: list = []
    left = right = 0
    while left < len(server_only) or right < len(in_patch):
        if right >= len(in_patch):
            merged.append(server_only[left])
            left += 1
        elif left >= len(server_only):
            merged.append(in_patch[right])
            right += 1
        else:
            left_at = _position(server_order, server_only[left], merge_key, is_map)
            right_at = _position(server_order, in_patch[right], merge_key, is_map)
            if left_at >= 0 and right_at >= 0 and left_at < right_at:
                merged.append(server_only[left])
                left += 1
            else:
                merged.append(in_patch[right])
                right += 1
    return merged


def _sort_by(items: list, order: list, merge_key: str, is_map: bool) -> list:
    """normalizeSliceOrder: Go's insertion sort with its comparator, quirks included
    (an item missing from ``order`` compares as smaller than anything)."""
    def less(a: Any, b: Any) -> bool:
        a_at, b_at = _position(order, a, merge_key, is_map), _position(order, b, merge_key, is_map)
        return a_at < b_at if a_at >= 0 and b_at >= 0 else True

    result = list(items)
    for i in range(1, len(result)):
        j = i
        while j > 0 and less(result[j], result[j - 1]):
            result[j], result[j - 1] = result[j - 1], result[j]
            j -= 1
    return result


def _go(value: Any) -> str:
    """A value as Go's ``%v`` prints decoded JSON, for error messages (maps print with sorted keys)."""
    if isinstance(value, dict):
        return "map[" + " ".join(f"{key}:{_go(value[key])}" for key in sorted(value)) + "]"
    if isinstance(value, list):
        return "[" + " ".join(_go(item) for item in value) + "]"
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
