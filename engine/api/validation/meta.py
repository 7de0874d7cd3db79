"""Object metadata: ObjectMeta on create and on update, labels, annotations and label selectors.

Mirrors ``k8s.io/apimachinery/pkg/api/validation/objectmeta.go``
(``ValidateObjectMeta``, ``ValidateObjectMetaUpdate``: a name or generateName,
a namespace exactly when the kind is namespaced, finalizers, one controller
owner reference, immutable name, namespace, uid and timestamps) and
``apimachinery/pkg/apis/meta/v1/validation`` (labels, label selectors).

``validate_metadata`` is what almost every kind calls first: the create
checks for a new object, the update checks when there is an old one.
``go_label_selector`` prints a selector the way Go's ``%#v`` does, for the
messages that quote one.
"""

from __future__ import annotations

import re
from typing import Any, Callable

from engine.api.selectors import go_quote, is_label_key, is_label_value
from engine.api.validation.fields import (
    Errors, GoValue, child, get_int, get_items, get_list, get_string, go_string_map, go_value, index, key,
)
from engine.api.validation.formats import name_is_dns_label

NameFn = Callable[[str, bool], list[str]]
TOTAL_ANNOTATION_SIZE_LIMIT = 256 * 1024
STANDARD_FINALIZERS = {"kubernetes", "orphan", "foregroundDeletion"}


def validate_labels(errs: Errors, labels: Any, path: str) -> None:
    if labels is None:
        return
    if not isinstance(labels, dict):
        errs.type_invalid(path, labels, "object")
        return
    for k, v in sorted(labels.items()):
        for msg in is_label_key(k):
            errs.invalid(path, k, msg)
        if not isinstance(v, str):
            errs.type_invalid(key(path, k), v, "string")
            continue
        for msg in is_label_value(v):
            errs.invalid(path, v, msg)


def validate_annotations(errs: Errors, annotations: Any, path: str) -> None:
    if annotations is None:
        return
    if not isinstance(annotations, dict):
        errs.type_invalid(path, annotations, "object")
        return
    for k in sorted(annotations):
        for msg in is_label_key(k.lower()):
            errs.invalid(path, k, msg)
    size = sum(len(k.encode()) + len(str(v).encode()) for k, v in annotations.items())
    if size > TOTAL_ANNOTATION_SIZE_LIMIT:
        errs.too_long(path, TOTAL_ANNOTATION_SIZE_LIMIT)


def _validate_finalizers(errs: Errors, finalizers: list, path: str) -> None:
    names = [f for f in finalizers if isinstance(f, str)]
    for name in names:
        for msg in is_label_key(name):
            errs.invalid(path, name, msg)
    if "orphan" in names and "foregroundDeletion" in names:
        errs.invalid(path, names, "finalizer orphan and foregroundDeletion cannot be both set")
    for i, name in enumerate(names):
        if "/" not in name and name not in STANDARD_FINALIZERS:
            errs.invalid(index(path, i), name, "name is neither a standard finalizer name nor is it fully qualified")


_PATHS: dict[str, tuple[str, ...]] = {}
"""The child paths ``validate_object_meta`` reports under, per metadata path (built once each)."""
_META_FIELDS = ("generateName", "name", "namespace", "generation", "labels", "annotations", "ownerReferences",
                "finalizers")


def validate_object_meta(errs: Errors, meta: Any, namespaced: bool, name_fn: NameFn, path: str = "metadata") -> None:
    if not isinstance(meta, dict):
        if meta is not None:
            errs.type_invalid(path, meta, "object")
        meta = {}
    paths = _PATHS.get(path)
    if paths is None:
        paths = _PATHS[path] = tuple(child(path, name) for name in _META_FIELDS)
    generate_name_path, name_path, namespace_path, generation_path, labels_path, annotations_path, \
        owners_path, finalizers_path = paths
    generate_name = get_string(errs, meta, "generateName", generate_name_path)
    name = get_string(errs, meta, "name", name_path)
    if generate_name:
        for msg in name_fn(generate_name, True):
            errs.invalid(generate_name_path, generate_name, msg)
    if not name:
        if not generate_name:  # the API server generates the name before it validates
            errs.required(name_path, "name or generateName is required")
    else:
        for msg in name_fn(name, False):
            errs.invalid(name_path, name, msg)
    namespace = get_string(errs, meta, "namespace", namespace_path)
    if namespaced:
        if not namespace:
            errs.required(namespace_path)
        else:
            for msg in name_is_dns_label(namespace, False):
                errs.invalid(namespace_path, namespace, msg)
    elif namespace:
        errs.forbidden(namespace_path, "not allowed on this type")
    generation = get_int(errs, meta, "generation", generation_path)
    if generation is not None:
        errs.nonnegative(generation_path, generation)
    labels, annotations = meta.get("labels"), meta.get("annotations")
    if labels is not None:
        validate_labels(errs, labels, labels_path)
    if annotations is not None:
        validate_annotations(errs, annotations, annotations_path)
    if meta.get("ownerReferences") is not None:
        _validate_owner_references(errs, meta, owners_path)
    if meta.get("finalizers") is not None:
        _validate_finalizers(errs, get_list(errs, meta, "finalizers", finalizers_path), finalizers_path)


def _validate_owner_references(errs: Errors, meta: dict, path: str) -> None:
    controllers = []
    for _, ref, _ in get_items(errs, meta, "ownerReferences", path):
        api_version = ref.get("apiVersion") or ""
        if not api_version.rpartition("/")[2]:
            errs.invalid(child(path, "apiVersion"), api_version, "version must not be empty")
        for field_name in ("kind", "name", "uid"):
            if not ref.get(field_name):
                errs.invalid(child(path, field_name), ref.get(field_name) or "", "must not be empty")
        if api_version == "v1" and ref.get("kind") == "Event":
            errs.invalid(path, GoValue("v1.OwnerReference{...}"), "/v1, Kind=Event is disallowed from being an owner")
        if ref.get("controller") is True:
            controllers.append(f"{ref.get('kind', '')}/{ref.get('name', '')}")
    for later in controllers[1:]:
        errs.invalid(path, GoValue("[]v1.OwnerReference{...}"), "Only one reference can have Controller set to true. "
                     f"Found \"true\" in references for {controllers[0]} and {later}")


def _go_time(value: Any) -> GoValue | None:
    """A metav1.Time as its String() prints it: ``2024-01-02 03:04:05 +0000 UTC``."""
    if value in (None, ""):
        return None
    m = re.match(r"^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})Z$", str(value))
    return GoValue(f"{m.group(1)} {m.group(2)} +0000 UTC" if m else str(value))


def validate_object_meta_update(errs: Errors, new: Any, old: Any, path: str = "metadata") -> None:
    new = new if isinstance(new, dict) else {}
    old = old if isinstance(old, dict) else {}
    if old.get("deletionTimestamp"):
        extra = sorted(set(new.get("finalizers") or []) - set(old.get("finalizers") or []))
        if extra:
            errs.forbidden(child(path, "finalizers"), "no new finalizers can be added if the object is being deleted, "
                           f"found new finalizers {go_value(extra)}")
    # The API server's BeforeUpdate copies generation, uid and timestamps from the stored object
    # when a request leaves them out, so only a request that sets them differently fails here.
    if new.get("generation") is not None and new["generation"] < (old.get("generation") or 0):
        errs.invalid(child(path, "generation"), new["generation"], "must not be decremented")
    for field_name in ("name", "namespace", "uid"):
        if field_name == "uid" and not new.get("uid"):
            continue
        if (new.get(field_name) or "") != (old.get(field_name) or ""):
            errs.invalid(child(path, field_name), new.get(field_name) or "", "field is immutable")
    for field_name in ("creationTimestamp", "deletionTimestamp"):
        if new.get(field_name) and (new.get(field_name) or None) != (old.get(field_name) or None):
            errs.invalid(child(path, field_name), _go_time(new.get(field_name)), "field is immutable")
    if new.get("deletionGracePeriodSeconds") is not None and \
            new.get("deletionGracePeriodSeconds") != old.get("deletionGracePeriodSeconds"):
        errs.invalid(child(path, "deletionGracePeriodSeconds"), new.get("deletionGracePeriodSeconds"),
                     "field is immutable")
    validate_labels(errs, new.get("labels"), child(path, "labels"))
    validate_annotations(errs, new.get("annotations"), child(path, "annotations"))
    _validate_owner_references(errs, new, child(path, "ownerReferences"))
    _validate_finalizers(errs, [f for f in new.get("finalizers") or [] if isinstance(f, str)],
                         child(path, "finalizers"))


def validate_metadata(errs: Errors, obj: dict, old: dict | None, name_fn: NameFn, namespaced: bool = True) -> None:
    """ObjectMeta as a new object's, or, when there is an old object, the metadata update rules."""
    if old is None:
        validate_object_meta(errs, obj.get("metadata"), namespaced, name_fn)
    else:
        validate_object_meta_update(errs, obj.get("metadata"), old.get("metadata"))


def validate_label_selector(errs: Errors, selector: Any, path: str) -> None:
    if selector is None:
        return
    if not isinstance(selector, dict):
        errs.type_invalid(path, selector, "object")
        return
    validate_labels(errs, selector.get("matchLabels"), child(path, "matchLabels"))
    for i, expr, expr_path in get_items(errs, selector, "matchExpressions", child(path, "matchExpressions")):
        operator = expr.get("operator")
        values = get_list(errs, expr, "values", child(expr_path, "values"))
        if operator in ("In", "NotIn"):
            if not values:
                errs.required(child(expr_path, "values"), "must be specified when `operator` is 'In' or 'NotIn'")
        elif operator in ("Exists", "DoesNotExist"):
            if values:
                errs.forbidden(child(expr_path, "values"),
                               "may not be specified when `operator` is 'Exists' or 'DoesNotExist'")
        else:
            errs.invalid(child(expr_path, "operator"), operator if operator is not None else "",
                         "not a valid selector operator")
        k = get_string(errs, expr, "key", child(expr_path, "key"))
        for msg in is_label_key(k):
            errs.invalid(child(expr_path, "key"), k, msg)
        for j, v in enumerate(values):
            if isinstance(v, str):
                for msg in is_label_value(v):
                    errs.invalid(index(child(expr_path, "values"), j), v, msg)


def go_label_selector(selector: Any) -> GoValue:
    """A LabelSelector as Go's %#v prints it in validation messages."""
    selector = selector if isinstance(selector, dict) else {}
    labels = selector.get("matchLabels")
    exprs = selector.get("matchExpressions")
    if exprs is None:
        expr_text = "[]v1.LabelSelectorRequirement(nil)"
    else:
        parts = []
        for e in exprs if isinstance(exprs, list) else []:
            e = e if isinstance(e, dict) else {}
            values = e.get("values")
            values_text = "[]string(nil)" if values is None else go_value(list(values))
            parts.append(f"v1.LabelSelectorRequirement{{Key:{go_quote(str(e.get('key', '')))}, "
                         f"Operator:{go_quote(str(e.get('operator', '')))}, Values:{values_text}}}")
        expr_text = "[]v1.LabelSelectorRequirement{" + ", ".join(parts) + "}"
    labels_text = go_string_map(labels if isinstance(labels, dict) or labels is None else {})
    return GoValue(f"v1.LabelSelector{{MatchLabels:{labels_text}, MatchExpressions:{expr_text}}}")


def normal_selector(selector: Any) -> Any:
    """A selector as the immutability rules compare it: an empty list or map counts as absent."""
    if not isinstance(selector, dict):
        return selector
    return {"matchLabels": selector.get("matchLabels") or None, "matchExpressions": selector.get("matchExpressions") or None}
