"""Validation: what the API server checks before it stores an object, and how it says what is wrong.

``validate(obj, old=None)`` returns the causes of a 422 Invalid ``Status``, each
``{"reason", "message", "field"}`` exactly as the real kube-apiserver builds
them from a ``field.ErrorList``: the reason is the error type
(``FieldValueRequired``, ``FieldValueInvalid``, ``FieldValueNotSupported``,
``FieldValueDuplicate``, ``FieldValueForbidden``, ``FieldValueTooLong``,
``FieldValueNotFound``, ``FieldValueTypeInvalid``), the message is Go's
``ErrorBody()`` (``Required value``, ``Invalid value: "Foo_Bar": a lowercase RFC
1123 subdomain ...``, ``Unsupported value: "Sometimes": supported values:
...``), and the field is Go's path (``spec.template.spec.containers[0].image``,
``spec.containers[0].resources.requests``). An empty list means valid.
``engine.api.errors.invalid(kind, name, causes)`` turns the list into the error.

The checks are ported from ``pkg/apis/*/validation`` and
``k8s.io/apimachinery/pkg/api/validation``, kind by kind, with their quirks
(a Pod template's labels are reported at ``spec.template.labels``; a request
above its limit at ``...resources.requests``; a Node's taints at
``metadata.taints``). With ``old`` given, the update rules apply as well:
immutable metadata, selectors, pod specs, Job templates, cluster IPs, role refs.

What the caller must have done first, as the API server does: defaulting
(``engine.api.defaults.apply_defaults``), filling ``metadata.namespace`` from
the request, generating names, and, for a Job, ``generate_job_selector``.
Deliberate differences from the real server, because the engine has no typed
decoder in front of validation: a value of the wrong JSON type gives a
``FieldValueTypeInvalid`` cause here (the real server answers 400 when it
decodes), and so does a malformed quantity; an object with only
``generateName`` is not asked for a name; ``resourceVersion`` is not required
on update (the API server's store fills it in).

Also here: ``int_or_percent``, Go's ``intstr.GetScaledValueFromIntOrPercent``,
which the Deployment and DaemonSet controllers use for maxSurge/maxUnavailable,
and ``parse_schedule``, the cron parser CronJob validation uses.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import json
import math
import re
from typing import Any, Callable, Iterable, Mapping

from engine.api.quantity import Quantity, parse_quantity
from engine.api.selectors import (
    SelectorError, from_label_selector, go_quote, is_dns1123_subdomain, is_label_key, is_label_value, regex_error,
)

__all__ = ["validate", "int_or_percent", "parse_schedule", "CronSchedule"]

Cause = dict[str, str]

# -- the error list: Go's field.Error, rendered as Status causes -------------------


class GoValue:
    """A value already printed the way Go's ``%#v`` or ``String()`` prints it."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text


def go_value(value: Any) -> str:
    """A bad value as ``field.Error.ErrorBody`` prints it."""
    if isinstance(value, GoValue):
        return value.text
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value) if not value.is_integer() else str(int(value))
    if isinstance(value, str):
        return go_quote(value)
    if isinstance(value, Quantity):
        return str(value)
    if isinstance(value, Mapping) and all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        return go_string_map(value)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return "[]string{" + ", ".join(go_quote(v) for v in value) + "}"
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def go_string_map(value: Mapping[str, str] | None) -> str:
    if value is None:
        return "map[string]string(nil)"
    return "map[string]string{" + ", ".join(f"{go_quote(k)}:{go_quote(v)}" for k, v in sorted(value.items())) + "}"


class Errors(list):
    """An ``ErrorList`` whose items are already Status causes."""

    def __init__(self) -> None:
        super().__init__()
        self.mistyped: set[str] = set()  # paths already reported as the wrong type

    def _add(self, reason: str, path: str, message: str) -> None:
        self.append({"reason": reason, "message": message, "field": path})

    def required(self, path: str, detail: str = "") -> None:
        if path in self.mistyped:
            return  # a value of the wrong type was there: that was the mistake to report
        self._add("FieldValueRequired", path, "Required value" + (f": {detail}" if detail else ""))

    def invalid(self, path: str, value: Any, detail: str = "") -> None:
        self._add("FieldValueInvalid", path, f"Invalid value: {go_value(value)}" + (f": {detail}" if detail else ""))

    def not_supported(self, path: str, value: Any, supported: Iterable[str]) -> None:
        listed = ", ".join(go_quote(v) for v in supported)
        self._add("FieldValueNotSupported", path,
                  f"Unsupported value: {go_value(value)}" + (f": supported values: {listed}" if listed else ""))

    def duplicate(self, path: str, value: Any, detail: str = "") -> None:
        self._add("FieldValueDuplicate", path, f"Duplicate value: {go_value(value)}" + (f": {detail}" if detail else ""))

    def forbidden(self, path: str, detail: str) -> None:
        self._add("FieldValueForbidden", path, "Forbidden" + (f": {detail}" if detail else ""))

    def too_long(self, path: str, max_bytes: int) -> None:
        self._add("FieldValueTooLong", path, f"Too long: must have at most {max_bytes} bytes")

    def not_found(self, path: str, value: Any, detail: str = "") -> None:
        self._add("FieldValueNotFound", path, f"Not found: {go_value(value)}" + (f": {detail}" if detail else ""))

    def type_invalid(self, path: str, value: Any, expected: str) -> None:
        self.mistyped.add(path)
        self._add("FieldValueTypeInvalid", path,
                  f"Invalid value: {go_value(value)}: {path} in body must be of type {expected}: {go_quote(_json_type(value))}")

    def nonnegative(self, path: str, value: int) -> None:
        if value < 0:
            self.invalid(path, value, "must be greater than or equal to 0")


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def child(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def index(path: str, i: int) -> str:
    return f"{path}[{i}]"


def key(path: str, k: str) -> str:
    return f"{path}[{k}]"


# Typed getters: a value of the wrong JSON type is reported once and read as missing.

def _obj(errs: Errors, parent: Mapping, name: str, path: str) -> dict | None:
    value = parent.get(name) if isinstance(parent, Mapping) else None
    if value is None or isinstance(value, dict):
        return value
    errs.type_invalid(path, value, "object")
    return None


def _arr(errs: Errors, parent: Mapping, name: str, path: str) -> list:
    value = parent.get(name) if isinstance(parent, Mapping) else None
    if value is None:
        return []
    if isinstance(value, list):
        return value
    errs.type_invalid(path, value, "array")
    return []


def _items(errs: Errors, parent: Mapping, name: str, path: str) -> list[tuple[int, dict, str]]:
    """The object items of a list field, with their index paths."""
    return [(i, item, index(path, i)) for i, item in enumerate(_arr(errs, parent, name, path))
            if isinstance(item, dict)]  # other items were reported by the type pass


def _str(errs: Errors, parent: Mapping, name: str, path: str) -> str:
    value = parent.get(name) if isinstance(parent, Mapping) else None
    if value is None or isinstance(value, str):
        return value or ""
    errs.type_invalid(path, value, "string")
    return ""


def _int(errs: Errors, parent: Mapping, name: str, path: str) -> int | None:
    value = parent.get(name) if isinstance(parent, Mapping) else None
    if value is None or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    errs.type_invalid(path, value, "integer")
    return None


def _string_map(errs: Errors, parent: Mapping, name: str, path: str) -> dict[str, str] | None:
    value = _obj(errs, parent, name, path)
    if value is None:
        return None
    good = {}
    for k, v in value.items():
        if isinstance(v, str):
            good[k] = v
        else:
            errs.type_invalid(key(path, k), v, "string")
    return good


# -- formats (k8s.io/apimachinery/pkg/util/validation) --------------------------------

_DNS1123_LABEL_FMT = "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_DNS1123_LABEL_RE = re.compile("^" + _DNS1123_LABEL_FMT + "$")
_DNS1123_SUBDOMAIN_RE = re.compile("^" + _DNS1123_LABEL_FMT + "(\\." + _DNS1123_LABEL_FMT + ")*$")
_DNS1035_LABEL_FMT = "[a-z]([-a-z0-9]*[a-z0-9])?"
_DNS1035_LABEL_RE = re.compile("^" + _DNS1035_LABEL_FMT + "$")
_CONFIG_MAP_KEY_FMT = "[-._a-zA-Z0-9]+"
_CONFIG_MAP_KEY_RE = re.compile("^" + _CONFIG_MAP_KEY_FMT + "$")
_PERCENT_FMT = "[0-9]+%"
_PERCENT_RE = re.compile("^" + _PERCENT_FMT + "$")
_PORT_NAME_CHARSET = re.compile("^[-a-z0-9]+$")
_HTTP_HEADER_FMT = "[-A-Za-z0-9]+"
_MAX_INT32 = 2**31 - 1


def is_dns1123_label(value: str) -> list[str]:
    errs = []
    if len(value) > 63:
        errs.append("must be no more than 63 characters")
    if not _DNS1123_LABEL_RE.match(value):
        if _DNS1123_SUBDOMAIN_RE.match(value):
            errs.append("must not contain dots")
        else:
            errs.append(regex_error("a lowercase RFC 1123 label must consist of lower case alphanumeric characters "
                                    "or '-', and must start and end with an alphanumeric character",
                                    _DNS1123_LABEL_FMT, "my-name", "123-abc"))
    return errs


def is_dns1035_label(value: str) -> list[str]:
    errs = []
    if len(value) > 63:
        errs.append("must be no more than 63 characters")
    if not _DNS1035_LABEL_RE.match(value):
        errs.append(regex_error("a DNS-1035 label must consist of lower case alphanumeric characters or '-', start "
                                "with an alphabetic character, and end with an alphanumeric character",
                                _DNS1035_LABEL_FMT, "my-name", "abc-123"))
    return errs


def _mask_trailing_dash(name: str) -> str:
    return name[:-2] + "a" if len(name) > 1 and name.endswith("-") else name


def name_is_dns_subdomain(name: str, prefix: bool) -> list[str]:
    return is_dns1123_subdomain(_mask_trailing_dash(name) if prefix else name)


def name_is_dns_label(name: str, prefix: bool) -> list[str]:
    return is_dns1123_label(_mask_trailing_dash(name) if prefix else name)


def name_is_dns1035_label(name: str, prefix: bool) -> list[str]:
    return is_dns1035_label(_mask_trailing_dash(name) if prefix else name)


def is_valid_path_segment_name(name: str, prefix: bool = False) -> list[str]:
    if name in (".", ".."):
        return [f"may not be '{name}'"]
    return [f"may not contain '{c}'" for c in ("/", "%") if c in name]


def is_valid_port_num(port: int) -> list[str]:
    return [] if 1 <= port <= 65535 else ["must be between 1 and 65535, inclusive"]


def is_valid_port_name(port: str) -> list[str]:
    errs = []
    if len(port) > 15:
        errs.append("must be no more than 15 characters")
    if not _PORT_NAME_CHARSET.match(port):
        errs.append("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)")
    if not re.search("[a-z]", port):
        errs.append("must contain at least one letter (a-z)")
    if "--" in port:
        errs.append("must not contain consecutive hyphens")
    if port and (port[0] == "-" or port[-1] == "-"):
        errs.append("must not begin or end with a hyphen")
    return errs


def is_config_map_key(value: str) -> list[str]:
    errs = []
    if len(value) > 253:
        errs.append("must be no more than 253 characters")
    if not _CONFIG_MAP_KEY_RE.match(value):
        errs.append(regex_error("a valid config key must consist of alphanumeric characters, '-', '_' or '.'",
                                _CONFIG_MAP_KEY_FMT, "key.name", "KEY_NAME", "key-name"))
    if value == ".":
        errs.append("must not be '.'")
    elif value == "..":
        errs.append("must not be '..'")
    elif value.startswith(".."):
        errs.append("must not start with '..'")
    return errs


def is_relaxed_env_var_name(value: str) -> list[str]:
    errs = []
    if not value:
        errs.append("environment variable name must be non-empty")
    if any(ord(c) > 127 or not c.isprintable() or c == "=" for c in value):
        errs.append("a valid environment variable name must consist only of printable ASCII characters other than '='")
    return errs


def is_valid_percent(value: str) -> list[str]:
    if _PERCENT_RE.match(value):
        return []
    return [regex_error("a valid percent string must be a numeric string followed by an ending '%'",
                        _PERCENT_FMT, "1%", "93%")]


def _is_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def _is_cidr(value: str) -> bool:
    try:
        ipaddress.ip_network(value, strict=False)
    except ValueError:
        return False
    return "/" in value


def _ip_errors(errs: Errors, path: str, value: str) -> None:
    if not _is_ip(value):
        errs.invalid(path, value, "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)")


def _cidr_errors(errs: Errors, path: str, value: str) -> None:
    if not _is_cidr(value):
        errs.invalid(path, value, "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)")


# -- object metadata (apimachinery/pkg/api/validation/objectmeta.go) -----------------

NameFn = Callable[[str, bool], list[str]]
TOTAL_ANNOTATION_SIZE_LIMIT = 256 * 1024
_STANDARD_FINALIZERS = {"kubernetes", "orphan", "foregroundDeletion"}


def validate_labels(errs: Errors, labels: Any, path: str) -> None:
    if labels is None:
        return
    if not isinstance(labels, Mapping):
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
    if not isinstance(annotations, Mapping):
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
        if "/" not in name and name not in _STANDARD_FINALIZERS:
            errs.invalid(index(path, i), name, "name is neither a standard finalizer name nor is it fully qualified")


def validate_object_meta(errs: Errors, meta: Any, namespaced: bool, name_fn: NameFn, path: str = "metadata") -> None:
    if not isinstance(meta, dict):
        if meta is not None:
            errs.type_invalid(path, meta, "object")
        meta = {}
    generate_name = _str(errs, meta, "generateName", child(path, "generateName"))
    name = _str(errs, meta, "name", child(path, "name"))
    if generate_name:
        for msg in name_fn(generate_name, True):
            errs.invalid(child(path, "generateName"), generate_name, msg)
    if not name:
        if not generate_name:  # the API server generates the name before it validates
            errs.required(child(path, "name"), "name or generateName is required")
    else:
        for msg in name_fn(name, False):
            errs.invalid(child(path, "name"), name, msg)
    namespace = _str(errs, meta, "namespace", child(path, "namespace"))
    if namespaced:
        if not namespace:
            errs.required(child(path, "namespace"))
        else:
            for msg in name_is_dns_label(namespace, False):
                errs.invalid(child(path, "namespace"), namespace, msg)
    elif namespace:
        errs.forbidden(child(path, "namespace"), "not allowed on this type")
    generation = _int(errs, meta, "generation", child(path, "generation"))
    if generation is not None:
        errs.nonnegative(child(path, "generation"), generation)
    validate_labels(errs, meta.get("labels"), child(path, "labels"))
    validate_annotations(errs, meta.get("annotations"), child(path, "annotations"))
    _validate_owner_references(errs, meta, child(path, "ownerReferences"))
    _validate_finalizers(errs, _arr(errs, meta, "finalizers", child(path, "finalizers")), child(path, "finalizers"))


def _validate_owner_references(errs: Errors, meta: dict, path: str) -> None:
    controllers = []
    for _, ref, _ in _items(errs, meta, "ownerReferences", path):
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


# -- label selectors (apimachinery/pkg/apis/meta/v1/validation) --------------------

_SELECTOR_OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist")


def validate_label_selector(errs: Errors, selector: Any, path: str) -> None:
    if selector is None:
        return
    if not isinstance(selector, dict):
        errs.type_invalid(path, selector, "object")
        return
    validate_labels(errs, selector.get("matchLabels"), child(path, "matchLabels"))
    for i, expr, expr_path in _items(errs, selector, "matchExpressions", child(path, "matchExpressions")):
        operator = expr.get("operator")
        values = _arr(errs, expr, "values", child(expr_path, "values"))
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
        k = _str(errs, expr, "key", child(expr_path, "key"))
        for msg in is_label_key(k):
            errs.invalid(child(expr_path, "key"), k, msg)
        for j, v in enumerate(values):
            if isinstance(v, str):
                for msg in is_label_value(v):
                    errs.invalid(index(child(expr_path, "values"), j), v, msg)


def go_label_selector(selector: Any) -> GoValue:
    """A LabelSelector as Go's %#v prints it in validation messages."""
    selector = selector if isinstance(selector, Mapping) else {}
    labels = selector.get("matchLabels")
    exprs = selector.get("matchExpressions")
    if exprs is None:
        expr_text = "[]v1.LabelSelectorRequirement(nil)"
    else:
        parts = []
        for e in exprs if isinstance(exprs, list) else []:
            e = e if isinstance(e, Mapping) else {}
            values = e.get("values")
            values_text = "[]string(nil)" if values is None else go_value(list(values))
            parts.append(f"v1.LabelSelectorRequirement{{Key:{go_quote(str(e.get('key', '')))}, "
                         f"Operator:{go_quote(str(e.get('operator', '')))}, Values:{values_text}}}")
        expr_text = "[]v1.LabelSelectorRequirement{" + ", ".join(parts) + "}"
    labels_text = go_string_map(labels if isinstance(labels, Mapping) or labels is None else {})
    return GoValue(f"v1.LabelSelector{{MatchLabels:{labels_text}, MatchExpressions:{expr_text}}}")


# -- resources and quantities --------------------------------------------------------

_STANDARD_CONTAINER_RESOURCES = {"cpu", "memory", "ephemeral-storage"}
_STANDARD_RESOURCES = _STANDARD_CONTAINER_RESOURCES | {
    "requests.cpu", "requests.memory", "requests.ephemeral-storage", "limits.cpu", "limits.memory",
    "limits.ephemeral-storage", "pods", "services", "replicationcontrollers", "resourcequotas", "secrets",
    "persistentvolumeclaims", "configmaps", "storage", "requests.storage", "services.nodeports",
    "services.loadbalancers"}
_STANDARD_QUOTA_RESOURCES = _STANDARD_RESOURCES - {"storage"}
_INTEGER_RESOURCES = {"pods", "services", "replicationcontrollers", "resourcequotas", "secrets", "configmaps",
                      "persistentvolumeclaims", "services.nodeports", "services.loadbalancers"}


def _is_hugepages(name: str) -> bool:
    return name.startswith("hugepages-") or name.startswith("requests.hugepages-") or name.startswith("limits.hugepages-")


def _is_native(name: str) -> bool:
    return "/" not in name or "kubernetes.io/" in name


def _is_extended(name: str) -> bool:
    return not _is_native(name) and not name.startswith("requests.") and not is_label_key("requests." + name)


def _overcommit_allowed(name: str) -> bool:
    return _is_native(name) and not _is_hugepages(name)


def _is_integer_resource(name: str) -> bool:
    return name in _INTEGER_RESOURCES or _is_extended(name) or name.startswith("count/")


def _resource_name_errors(errs: Errors, name: str, path: str, standard: set[str], message: str) -> None:
    msgs = is_label_key(name)
    for msg in msgs:
        errs.invalid(path, name, msg)
    if msgs:
        return
    if "/" not in name and name not in standard and not _is_hugepages(name):
        errs.invalid(path, name, message)


def _container_resource_name(errs: Errors, name: str, path: str) -> None:
    before = len(errs)
    _resource_name_errors(errs, name, path, _STANDARD_RESOURCES, "must be a standard resource type or fully qualified")
    if len(errs) > before:
        return
    if "/" not in name:
        if name not in _STANDARD_CONTAINER_RESOURCES and not name.startswith("hugepages-"):
            errs.invalid(path, name, "must be a standard resource for containers")
    elif not _is_native(name) and not _is_extended(name):
        errs.invalid(path, name, "doesn't follow extended resource name standard")


def parse_resource_quantity(errs: Errors, value: Any, path: str) -> Quantity | None:
    """A quantity from a manifest, or a cause at ``path`` (the real server answers 400 when it decodes)."""
    if isinstance(value, str):
        value = value.strip()  # Quantity.UnmarshalJSON trims spaces
    try:
        return parse_quantity(value)
    except ValueError as err:
        errs.invalid(path, value, str(err))
        return None


def _quantity_value(errs: Errors, name: str, q: Quantity, path: str) -> None:
    """ValidateResourceQuantityValue: not negative, and whole for integer resources."""
    if q.sign() < 0:
        errs.invalid(path, str(q), "must be greater than or equal to 0")
    if _is_integer_resource(name) and q.milli_value() % 1000 != 0:
        errs.invalid(path, GoValue(str(q)), "must be an integer")


def _resource_list(errs: Errors, parent: Mapping, field_name: str, path: str) -> dict[str, Quantity]:
    out = {}
    raw = _obj(errs, parent, field_name, path)
    for name in sorted(raw or {}):
        q = parse_resource_quantity(errs, raw[name], key(path, name))
        if q is not None:
            out[name] = q
    return out


def validate_resource_requirements(errs: Errors, resources: Any, path: str) -> None:
    if not isinstance(resources, dict):
        if resources is not None:
            errs.type_invalid(path, resources, "object")
        return
    lim_path, req_path = child(path, "limits"), child(path, "requests")
    limits = _resource_list(errs, resources, "limits", lim_path)
    requests = _resource_list(errs, resources, "requests", req_path)
    lim_cpu_mem = req_cpu_mem = lim_huge = req_huge = False
    for name, q in limits.items():
        _container_resource_name(errs, name, key(lim_path, name))
        _quantity_value(errs, name, q, key(lim_path, name))
        lim_huge = lim_huge or name.startswith("hugepages-")
        lim_cpu_mem = lim_cpu_mem or name in ("cpu", "memory")
    for name, q in requests.items():
        _container_resource_name(errs, name, key(req_path, name))
        _quantity_value(errs, name, q, key(req_path, name))
        limit = limits.get(name)
        if limit is not None:
            if q != limit and not _overcommit_allowed(name):
                errs.invalid(req_path, str(q), f"must be equal to {name} limit of {limit}")
            elif q > limit:
                errs.invalid(req_path, str(q), f"must be less than or equal to {name} limit of {limit}")
        elif not _overcommit_allowed(name):
            errs.required(lim_path, "Limit must be set for non overcommitable resources")
        req_huge = req_huge or name.startswith("hugepages-")
        req_cpu_mem = req_cpu_mem or name in ("cpu", "memory")
    if not lim_cpu_mem and not req_cpu_mem and (lim_huge or req_huge):
        errs.forbidden(path, "HugePages require cpu or memory")


# -- pods (pkg/apis/core/validation: ValidatePodSpec and friends) -------------------

_VOLUME_SOURCES = (
    "emptyDir", "hostPath", "gitRepo", "gcePersistentDisk", "awsElasticBlockStore", "secret", "nfs", "iscsi",
    "glusterfs", "flocker", "persistentVolumeClaim", "rbd", "cinder", "cephfs", "quobyte", "downwardAPI", "fc",
    "flexVolume", "configMap", "azureFile", "vsphereVolume", "photonPersistentDisk", "portworxVolume", "azureDisk",
    "storageos", "projected", "scaleIO", "csi", "ephemeral", "image",
)
_FILE_MODE_MSG = "must be a number between 0 and 0777 (octal), both inclusive"


def _file_mode(errs: Errors, holder: Mapping, field_name: str, path: str) -> None:
    mode = _int(errs, holder, field_name, child(path, field_name))
    if mode is not None and not 0 <= mode <= 0o777:
        errs.invalid(child(path, field_name), mode, _FILE_MODE_MSG)


def _key_to_path_items(errs: Errors, source: Mapping, path: str) -> None:
    for _, item, item_path in _items(errs, source, "items", child(path, "items")):
        k = _str(errs, item, "key", child(item_path, "key"))
        if not k:
            errs.required(child(item_path, "key"))
        p = _str(errs, item, "path", child(item_path, "path"))
        if not p:
            errs.required(child(item_path, "path"))
        elif p.startswith("/"):
            errs.invalid(child(item_path, "path"), p, "must be a relative path")
        elif ".." in p.split("/"):
            errs.invalid(child(item_path, "path"), p, "must not contain '..'")
        _file_mode(errs, item, "mode", item_path)


def _validate_volume_source(errs: Errors, volume: dict, path: str) -> None:
    present = [s for s in _VOLUME_SOURCES if volume.get(s) is not None]
    for extra in present[1:]:
        errs.forbidden(child(path, extra), "may not specify more than 1 volume type")
    if not present:
        errs.required(path, "must specify a volume type")
        return
    source_name = present[0]
    source = volume[source_name]
    spath = child(path, source_name)
    if not isinstance(source, dict):
        errs.type_invalid(spath, source, "object")
        return
    if source_name == "emptyDir" and source.get("sizeLimit") is not None:
        q = parse_resource_quantity(errs, source["sizeLimit"], child(spath, "sizeLimit"))
        if q is not None and q.sign() < 0:
            errs.forbidden(child(spath, "sizeLimit"), "SizeLimit field must be a valid resource quantity")
    elif source_name == "hostPath":
        if not _str(errs, source, "path", child(spath, "path")):
            errs.required(child(spath, "path"))
        kinds = ("", "DirectoryOrCreate", "Directory", "FileOrCreate", "File", "Socket", "CharDevice", "BlockDevice")
        if source.get("type") not in (None,) + kinds:
            errs.not_supported(child(spath, "type"), source.get("type"), kinds)
    elif source_name == "secret":
        if not _str(errs, source, "secretName", child(spath, "secretName")):
            errs.required(child(spath, "secretName"))
        _file_mode(errs, source, "defaultMode", spath)
        _key_to_path_items(errs, source, spath)
    elif source_name == "configMap":
        if not _str(errs, source, "name", child(spath, "name")):
            errs.required(child(spath, "name"))
        _file_mode(errs, source, "defaultMode", spath)
        _key_to_path_items(errs, source, spath)
    elif source_name == "persistentVolumeClaim":
        if not _str(errs, source, "claimName", child(spath, "claimName")):
            errs.required(child(spath, "claimName"))
    elif source_name == "nfs":
        if not _str(errs, source, "server", child(spath, "server")):
            errs.required(child(spath, "server"))
        nfs_path = _str(errs, source, "path", child(spath, "path"))
        if not nfs_path:
            errs.required(child(spath, "path"))
        elif not nfs_path.startswith("/"):
            errs.invalid(child(spath, "path"), nfs_path, "must be an absolute path")
    elif source_name in ("downwardAPI", "projected"):
        _file_mode(errs, source, "defaultMode", spath)


def validate_volumes(errs: Errors, spec: Mapping, path: str) -> dict[str, dict]:
    """ValidateVolumes: the volumes by name (only the valid ones, as Go keeps them)."""
    names: dict[str, dict] = {}
    for _, vol, vol_path in _items(errs, spec, "volumes", path):
        local = Errors()
        _validate_volume_source(local, vol, vol_path)
        name = _str(local, vol, "name", child(vol_path, "name"))
        if not name:
            local.required(child(vol_path, "name"))
        else:
            for msg in is_dns1123_label(name):
                local.invalid(child(vol_path, "name"), name, msg)
        if name in names:
            local.duplicate(child(vol_path, "name"), name)
        if local:
            errs.extend(local)
        else:
            names[name] = vol
    return names


def _validate_ports(errs: Errors, container: Mapping, path: str) -> None:
    names: set[str] = set()
    for _, port, port_path in _items(errs, container, "ports", path):
        name = _str(errs, port, "name", child(port_path, "name"))
        if name:
            msgs = is_valid_port_name(name)
            for msg in msgs:
                errs.invalid(child(port_path, "name"), name, msg)
            if not msgs:
                if name in names:
                    errs.duplicate(child(port_path, "name"), name)
                names.add(name)
        container_port = _int(errs, port, "containerPort", child(port_path, "containerPort"))
        if not container_port:
            errs.required(child(port_path, "containerPort"))
        else:
            for msg in is_valid_port_num(container_port):
                errs.invalid(child(port_path, "containerPort"), container_port, msg)
        host_port = _int(errs, port, "hostPort", child(port_path, "hostPort"))
        if host_port:
            for msg in is_valid_port_num(host_port):
                errs.invalid(child(port_path, "hostPort"), host_port, msg)
        _protocol(errs, port, port_path)


def _protocol(errs: Errors, port: Mapping, port_path: str) -> None:
    protocol = _str(errs, port, "protocol", child(port_path, "protocol"))
    if not protocol:
        errs.required(child(port_path, "protocol"))
    elif protocol not in ("SCTP", "TCP", "UDP"):
        errs.not_supported(child(port_path, "protocol"), protocol, ("SCTP", "TCP", "UDP"))


_ENV_FIELD_PATHS = ("metadata.name", "metadata.namespace", "metadata.uid", "spec.nodeName", "spec.serviceAccountName",
                    "status.hostIP", "status.hostIPs", "status.podIP", "status.podIPs")


def _validate_env(errs: Errors, container: Mapping, path: str) -> None:
    for _, env, env_path in _items(errs, container, "env", path):
        name = _str(errs, env, "name", child(env_path, "name"))
        if not name:
            errs.required(child(env_path, "name"))
        else:
            for msg in is_relaxed_env_var_name(name):
                errs.invalid(child(env_path, "name"), name, msg)
        value_from = _obj(errs, env, "valueFrom", child(env_path, "valueFrom"))
        if value_from is None:
            continue
        vf_path = child(env_path, "valueFrom")
        sources = [s for s in ("fieldRef", "resourceFieldRef", "configMapKeyRef", "secretKeyRef")
                   if isinstance(value_from.get(s), dict)]
        for s in sources:
            ref, ref_path = value_from[s], child(vf_path, s)
            if s in ("configMapKeyRef", "secretKeyRef"):
                ref_name = _str(errs, ref, "name", child(ref_path, "name"))
                for msg in name_is_dns_subdomain(ref_name, False) if ref_name else []:
                    errs.invalid(child(ref_path, "name"), ref_name, msg)
                ref_key = _str(errs, ref, "key", child(ref_path, "key"))
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
    for _, source, source_path in _items(errs, container, "envFrom", path):
        prefix = _str(errs, source, "prefix", child(source_path, "prefix"))
        for msg in is_relaxed_env_var_name(prefix) if prefix else []:
            errs.invalid(child(source_path, "prefix"), prefix, msg)
        refs = [r for r in ("configMapRef", "secretRef") if isinstance(source.get(r), dict)]
        for r in refs:
            ref_name = _str(errs, source[r], "name", child(child(source_path, r), "name"))
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
    for _, mount, mount_path in _items(errs, container, "volumeMounts", path):
        name = _str(errs, mount, "name", child(mount_path, "name"))
        if not name:
            errs.required(child(mount_path, "name"))
        if name not in volumes:
            errs.not_found(child(mount_path, "name"), name)
        target = _str(errs, mount, "mountPath", child(mount_path, "mountPath"))
        if not target:
            errs.required(child(mount_path, "mountPath"))
        if target in mount_paths:
            errs.invalid(child(mount_path, "mountPath"), target, "must be unique")
        mount_paths.add(target)
        sub_path = _str(errs, mount, "subPath", child(mount_path, "subPath"))
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
            _port_num_or_name(errs, action.get("port"), child(apath, "port"))
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
            _port_num_or_name(errs, action.get("port"), child(apath, "port"))
    if not found:
        errs.required(path, "must specify a handler type")


def _port_num_or_name(errs: Errors, port: Any, path: str) -> None:
    if isinstance(port, bool) or port is None:
        errs.invalid(path, 0, "must be between 1 and 65535, inclusive")
    elif isinstance(port, int):
        for msg in is_valid_port_num(port):
            errs.invalid(path, port, msg)
    elif isinstance(port, str):
        for msg in is_valid_port_name(port):
            errs.invalid(path, port, msg)
    else:
        errs.type_invalid(path, port, "integer")


def _validate_probe(errs: Errors, probe: Any, path: str, kind: str) -> None:
    if probe is None:
        return
    if not isinstance(probe, dict):
        errs.type_invalid(path, probe, "object")
        return
    _validate_handler(errs, {k: probe.get(k) for k in ("exec", "httpGet", "tcpSocket", "grpc")}, path)
    for name in ("initialDelaySeconds", "timeoutSeconds", "periodSeconds", "successThreshold", "failureThreshold"):
        value = _int(errs, probe, name, child(path, name))
        if value is not None:
            errs.nonnegative(child(path, name), value)
    grace = _int(errs, probe, "terminationGracePeriodSeconds", child(path, "terminationGracePeriodSeconds"))
    if grace is not None and grace <= 0:
        errs.invalid(child(path, "terminationGracePeriodSeconds"), grace, "must be greater than 0")
    if kind in ("livenessProbe", "startupProbe") and probe.get("successThreshold") not in (None, 1):
        errs.invalid(child(path, "successThreshold"), probe.get("successThreshold"), "must be 1")
    if kind == "readinessProbe" and grace is not None:
        errs.invalid(child(path, "terminationGracePeriodSeconds"), grace, "must not be set for readinessProbes")


def _validate_security_context(errs: Errors, sc: Any, path: str, pod_level: bool) -> None:
    if sc is None:
        return
    if not isinstance(sc, dict):
        errs.type_invalid(path, sc, "object")
        return
    for name, label in (("runAsUser", "user"), ("runAsGroup", "group"), ("fsGroup", "group")):
        if name == "fsGroup" and not pod_level:
            continue
        value = _int(errs, sc, name, child(path, name))
        if value is not None and not 0 <= value <= 4294967295:
            errs.invalid(child(path, name), value, "must be between 0 and 4294967295, inclusive")
    if not pod_level and sc.get("allowPrivilegeEscalation") is False and sc.get("privileged") is True:
        errs.invalid(path, GoValue("&core.SecurityContext{...}"),
                     "cannot set `allowPrivilegeEscalation` to false and `privileged` to true")


def _validate_container_common(errs: Errors, ctr: dict, volumes: Mapping[str, dict], path: str) -> None:
    name = _str(errs, ctr, "name", child(path, "name"))
    if not name:
        errs.required(child(path, "name"))
    else:
        for msg in is_dns1123_label(name):
            errs.invalid(child(path, "name"), name, msg)
    if not _str(errs, ctr, "image", child(path, "image")):
        errs.required(child(path, "image"))
    policy = _str(errs, ctr, "terminationMessagePolicy", child(path, "terminationMessagePolicy"))
    if not policy:
        errs.required(child(path, "terminationMessagePolicy"))
    elif policy not in ("File", "FallbackToLogsOnError"):
        errs.not_supported(child(path, "terminationMessagePolicy"), policy, ("File", "FallbackToLogsOnError"))
    _validate_ports(errs, ctr, child(path, "ports"))
    _validate_env(errs, ctr, child(path, "env"))
    _validate_env_from(errs, ctr, child(path, "envFrom"))
    _validate_volume_mounts(errs, ctr, volumes, child(path, "volumeMounts"))
    pull = _str(errs, ctr, "imagePullPolicy", child(path, "imagePullPolicy"))
    if not pull:
        errs.required(child(path, "imagePullPolicy"))
    elif pull not in ("Always", "IfNotPresent", "Never"):
        errs.not_supported(child(path, "imagePullPolicy"), pull, ("Always", "IfNotPresent", "Never"))
    validate_resource_requirements(errs, ctr.get("resources"), child(path, "resources"))
    _validate_security_context(errs, ctr.get("securityContext"), child(path, "securityContext"), pod_level=False)


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


def _validate_containers(errs: Errors, spec: Mapping, volumes: Mapping[str, dict], path: str) -> list[str]:
    if not spec.get("containers"):
        errs.required(path)
        return []
    containers = _items(errs, spec, "containers", path)
    names: list[str] = []
    for _, ctr, ctr_path in containers:
        _validate_container_common(errs, ctr, volumes, ctr_path)
        name = ctr.get("name") or ""
        if name in names:
            errs.duplicate(child(ctr_path, "name"), name)
        names.append(name)
        lifecycle = _obj(errs, ctr, "lifecycle", child(ctr_path, "lifecycle"))
        for hook in ("postStart", "preStop"):
            if lifecycle is not None and lifecycle.get(hook) is not None:
                _validate_handler(errs, lifecycle[hook], child(child(ctr_path, "lifecycle"), hook))
        for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
            _validate_probe(errs, ctr.get(probe), child(ctr_path, probe), probe)
        if ctr.get("restartPolicy") is not None:
            errs.forbidden(child(ctr_path, "restartPolicy"), "may not be set for non-init containers")
    _host_port_conflicts(errs, containers)
    return names


def _validate_init_containers(errs: Errors, spec: Mapping, volumes: Mapping[str, dict], names: list[str],
                              path: str) -> None:
    all_names = set(names)
    for _, ctr, ctr_path in _items(errs, spec, "initContainers", path):
        _validate_container_common(errs, ctr, volumes, ctr_path)
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


def _validate_tolerations(errs: Errors, spec: Mapping, path: str) -> None:
    for _, tol, tol_path in _items(errs, spec, "tolerations", path):
        tkey = _str(errs, tol, "key", child(tol_path, "key"))
        for msg in is_label_key(tkey) if tkey else []:
            errs.invalid(child(tol_path, "key"), tkey, msg)
        operator = tol.get("operator") or ""
        if not tkey and operator != "Exists":
            errs.invalid(child(tol_path, "operator"), operator,
                         "operator must be Exists when `key` is empty, which means \"match all values and all keys\"")
        effect = tol.get("effect") or ""
        if tol.get("tolerationSeconds") is not None and effect != "NoExecute":
            errs.invalid(child(tol_path, "effect"), effect, "effect must be 'NoExecute' when `tolerationSeconds` is set")
        value = tol.get("value") or ""
        if operator in ("Equal", ""):
            if msgs := is_label_value(value):
                errs.invalid(child(tol_path, "operator"), value, ";".join(msgs))
        elif operator == "Exists":
            if value:
                errs.invalid(child(tol_path, "operator"), value, "value must be empty when `operator` is 'Exists'")
        else:
            errs.not_supported(child(tol_path, "operator"), operator, ("Equal", "Exists"))
        if effect and effect not in ("NoSchedule", "PreferNoSchedule", "NoExecute"):
            errs.not_supported(child(tol_path, "effect"), effect, ("NoSchedule", "PreferNoSchedule", "NoExecute"))


def _validate_node_selector_requirement(errs: Errors, req: dict, path: str) -> None:
    operator = req.get("operator")
    values = req.get("values") or []
    if operator in ("In", "NotIn"):
        if not values:
            errs.required(child(path, "values"), "must be specified when `operator` is 'In' or 'NotIn'")
    elif operator in ("Exists", "DoesNotExist"):
        if values:
            errs.forbidden(child(path, "values"), "may not be specified when `operator` is 'Exists' or 'DoesNotExist'")
    elif operator in ("Gt", "Lt"):
        if len(values) != 1:
            errs.required(child(path, "values"), "must be specified single value when `operator` is 'Lt' or 'Gt'")
    else:
        errs.invalid(child(path, "operator"), operator if operator is not None else "", "not a valid selector operator")
    rkey = str(req.get("key") or "")
    for msg in is_label_key(rkey):
        errs.invalid(child(path, "key"), rkey, msg)
    for j, v in enumerate(values):
        for msg in is_label_value(str(v)):
            errs.invalid(index(child(path, "values"), j), v, msg)


def _validate_affinity(errs: Errors, affinity: Any, path: str) -> None:
    if not isinstance(affinity, dict):
        return
    node = affinity.get("nodeAffinity")
    if isinstance(node, dict):
        npath = child(path, "nodeAffinity")
        required = node.get("requiredDuringSchedulingIgnoredDuringExecution")
        if isinstance(required, dict):
            rpath = child(child(npath, "requiredDuringSchedulingIgnoredDuringExecution"), "nodeSelectorTerms")
            terms = _items(errs, required, "nodeSelectorTerms", rpath)
            if not terms:
                errs.required(rpath, "must have at least one node selector term")
            for _, term, tpath in terms:
                for _, req, qpath in _items(errs, term, "matchExpressions", child(tpath, "matchExpressions")):
                    _validate_node_selector_requirement(errs, req, qpath)
        ppath = child(npath, "preferredDuringSchedulingIgnoredDuringExecution")
        for _, pref, item_path in _items(errs, node, "preferredDuringSchedulingIgnoredDuringExecution", ppath):
            weight = pref.get("weight")
            if not isinstance(weight, int) or not 1 <= weight <= 100:
                errs.invalid(child(item_path, "weight"), weight, "must be in the range 1-100")
            preference = pref.get("preference") if isinstance(pref.get("preference"), dict) else {}
            for _, req, qpath in _items(errs, preference, "matchExpressions",
                                        child(child(item_path, "preference"), "matchExpressions")):
                _validate_node_selector_requirement(errs, req, qpath)
    for kind in ("podAffinity", "podAntiAffinity"):
        pod = affinity.get(kind)
        if not isinstance(pod, dict):
            continue
        kpath = child(path, kind)
        for _, term, tpath in _items(errs, pod, "requiredDuringSchedulingIgnoredDuringExecution",
                                     child(kpath, "requiredDuringSchedulingIgnoredDuringExecution")):
            _validate_pod_affinity_term(errs, term, tpath)
        for _, wterm, wpath in _items(errs, pod, "preferredDuringSchedulingIgnoredDuringExecution",
                                      child(kpath, "preferredDuringSchedulingIgnoredDuringExecution")):
            weight = wterm.get("weight")
            if not isinstance(weight, int) or not 1 <= weight <= 100:
                errs.invalid(child(wpath, "weight"), weight, "must be in the range 1-100")
            if isinstance(wterm.get("podAffinityTerm"), dict):
                _validate_pod_affinity_term(errs, wterm["podAffinityTerm"], child(wpath, "podAffinityTerm"))


def _validate_pod_affinity_term(errs: Errors, term: dict, path: str) -> None:
    validate_label_selector(errs, term.get("labelSelector"), child(path, "labelSelector"))
    validate_label_selector(errs, term.get("namespaceSelector"), child(path, "namespaceSelector"))
    topology_key = str(term.get("topologyKey") or "")
    if not topology_key:
        errs.required(child(path, "topologyKey"), "can not be empty")
    else:
        for msg in is_label_key(topology_key):
            errs.invalid(child(path, "topologyKey"), topology_key, msg)


def _validate_topology_spread(errs: Errors, spec: Mapping, path: str) -> None:
    constraints = _items(errs, spec, "topologySpreadConstraints", path)
    for n, (_, c, cpath) in enumerate(constraints):
        max_skew = c.get("maxSkew")
        if not isinstance(max_skew, int) or max_skew <= 0:
            errs.invalid(child(cpath, "maxSkew"), max_skew if max_skew is not None else 0, "must be greater than zero")
        if not c.get("topologyKey"):
            errs.required(child(cpath, "topologyKey"), "can not be empty")
        action = c.get("whenUnsatisfiable")
        if action not in ("DoNotSchedule", "ScheduleAnyway"):
            errs.not_supported(child(cpath, "whenUnsatisfiable"), action if action is not None else "",
                               ("DoNotSchedule", "ScheduleAnyway"))
        for _, later, _ in constraints[n + 1:]:
            if (later.get("topologyKey"), later.get("whenUnsatisfiable")) == (c.get("topologyKey"), action):
                errs.duplicate(child(cpath, "{topologyKey, whenUnsatisfiable}"),
                               f"{{{c.get('topologyKey')}, {action}}}")
                break
        validate_label_selector(errs, c.get("labelSelector"), child(cpath, "labelSelector"))


def validate_pod_spec(errs: Errors, spec: Any, path: str, is_pod: bool, extra_volumes: Iterable[str] = ()) -> None:
    if not isinstance(spec, dict):
        if spec is not None:
            errs.type_invalid(path, spec, "object")
        spec = {}
    if spec.get("terminationGracePeriodSeconds") is None:
        errs.required(child(path, "terminationGracePeriodSeconds"))
    else:
        _int(errs, spec, "terminationGracePeriodSeconds", child(path, "terminationGracePeriodSeconds"))
    volumes = validate_volumes(errs, spec, child(path, "volumes"))
    for name in extra_volumes:  # a StatefulSet's volumeClaimTemplates
        volumes.setdefault(name, {"persistentVolumeClaim": {"claimName": name}})
    names = _validate_containers(errs, spec, volumes, child(path, "containers"))
    _validate_init_containers(errs, spec, volumes, names, child(path, "initContainers"))
    for _, ctr, ctr_path in _items(errs, spec, "ephemeralContainers", child(path, "ephemeralContainers")):
        _validate_container_common(errs, ctr, volumes, ctr_path)
    if spec.get("hostNetwork") is True:
        for _, ctr, ctr_path in _items(Errors(), spec, "containers", child(path, "containers")):
            for j, port in enumerate(p for p in ctr.get("ports") or [] if isinstance(p, dict)):
                host, cport = port.get("hostPort") or 0, port.get("containerPort") or 0
                if (is_pod or host != 0) and host != cport:
                    errs.invalid(child(index(child(ctr_path, "ports"), j), "hostPort"), host,
                                 "must match `containerPort` when `hostNetwork` is true")
    restart = _str(errs, spec, "restartPolicy", child(path, "restartPolicy"))
    if not restart:
        errs.required(child(path, "restartPolicy"))
    elif restart not in ("Always", "OnFailure", "Never"):
        errs.not_supported(child(path, "restartPolicy"), restart, ("Always", "OnFailure", "Never"))
    dns = _str(errs, spec, "dnsPolicy", child(path, "dnsPolicy"))
    dns_values = ("ClusterFirstWithHostNet", "ClusterFirst", "Default", "None")
    if not dns:
        errs.required(child(path, "dnsPolicy"))
    elif dns not in dns_values:
        errs.not_supported(child(path, "dnsPolicy"), dns, dns_values)
    validate_labels(errs, spec.get("nodeSelector"), child(path, "nodeSelector"))
    _validate_security_context(errs, spec.get("securityContext"), child(path, "securityContext"), pod_level=True)
    _validate_affinity(errs, spec.get("affinity"), child(path, "affinity"))
    if dns == "None":
        config = spec.get("dnsConfig")
        if not isinstance(config, dict):
            errs.required(child(path, "dnsConfig"), "must provide `dnsConfig` when `dnsPolicy` is None")
        elif not config.get("nameservers"):
            errs.required(child(child(path, "dnsConfig"), "nameservers"),
                          "must provide at least one DNS nameserver when `dnsPolicy` is None")
    _validate_topology_spread(errs, spec, child(path, "topologySpreadConstraints"))
    for field_name, fn in (("serviceAccountName", name_is_dns_subdomain), ("nodeName", name_is_dns_subdomain)):
        value = _str(errs, spec, field_name, child(path, field_name))
        for msg in fn(value, False) if value else []:
            errs.invalid(child(path, field_name), value, msg)
    deadline = _int(errs, spec, "activeDeadlineSeconds", child(path, "activeDeadlineSeconds"))
    if deadline is not None and not 1 <= deadline <= _MAX_INT32:
        errs.invalid(child(path, "activeDeadlineSeconds"), deadline, "must be between 1 and 2147483647, inclusive")
    for field_name in ("hostname", "subdomain"):
        value = _str(errs, spec, field_name, child(path, field_name))
        for msg in is_dns1123_label(value) if value else []:
            errs.invalid(child(path, field_name), value, msg)
    _validate_tolerations(errs, spec, child(path, "tolerations"))
    pc_name = _str(errs, spec, "priorityClassName", child(path, "priorityClassName"))
    for msg in name_is_dns_subdomain(pc_name, False) if pc_name else []:
        errs.invalid(child(path, "priorityClassName"), pc_name, msg)
    preemption = spec.get("preemptionPolicy")
    if preemption is not None and preemption not in ("PreemptLowerPriority", "Never"):
        errs.not_supported(child(path, "preemptionPolicy"), preemption, ("PreemptLowerPriority", "Never"))
    os_spec = spec.get("os")
    if isinstance(os_spec, dict):
        if not os_spec.get("name"):
            errs.required(child(child(path, "os"), "name"), "cannot be empty")
        elif os_spec["name"] not in ("linux", "windows"):
            errs.not_supported(child(path, "os"), os_spec["name"], ("linux", "windows"))


def validate_pod_template(errs: Errors, template: Any, path: str, extra_volumes: Iterable[str] = ()) -> None:
    """ValidatePodTemplateSpec: note the quirk that template labels are reported at ``<path>.labels``."""
    if not isinstance(template, dict):
        if template is not None:
            errs.type_invalid(path, template, "object")
        template = {}
    meta = template.get("metadata") if isinstance(template.get("metadata"), dict) else {}
    validate_labels(errs, meta.get("labels"), child(path, "labels"))
    validate_annotations(errs, meta.get("annotations"), child(path, "annotations"))
    spec = template.get("spec")
    validate_pod_spec(errs, spec, child(path, "spec"), is_pod=False, extra_volumes=extra_volumes)
    if isinstance(spec, dict) and spec.get("ephemeralContainers"):
        errs.forbidden(child(child(path, "spec"), "ephemeralContainers"), "ephemeral containers not allowed in pod template")


def _validate_pod(obj: dict, old: dict | None, errs: Errors) -> None:
    if old is not None:
        validate_object_meta_update(errs, obj.get("metadata"), old.get("metadata"))
    validate_object_meta(errs, obj.get("metadata"), True, name_is_dns_subdomain)
    spec = obj.get("spec")
    validate_pod_spec(errs, spec, "spec", is_pod=True)
    spec = spec if isinstance(spec, dict) else {}
    for key_name in ("containers", "initContainers"):
        for _, ctr, ctr_path in _items(Errors(), spec, key_name, child("spec", key_name)):
            image = ctr.get("image")
            if isinstance(image, str) and image != image.strip():
                errs.invalid(child(ctr_path, "image"), image, "must not have leading or trailing whitespace")
    if old is None:
        if spec.get("ephemeralContainers"):
            errs.forbidden("spec.ephemeralContainers", "cannot be set on create")
    else:
        _validate_pod_update(errs, spec, old.get("spec") if isinstance(old.get("spec"), dict) else {})


UPDATABLE_POD_SPEC_FIELDS = (
    "`spec.containers[*].image`", "`spec.initContainers[*].image`", "`spec.activeDeadlineSeconds`",
    "`spec.tolerations` (only additions to existing tolerations)",
    "`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)",
)


def _validate_pod_update(errs: Errors, new: dict, old: dict) -> None:
    for key_name in ("containers", "initContainers"):
        new_ctrs, old_ctrs = new.get(key_name) or [], old.get(key_name) or []
        if len(new_ctrs) != len(old_ctrs):
            errs.forbidden(child("spec", key_name), "pod updates may not add or remove containers")
            return
        for i, ctr in enumerate(new_ctrs):
            if isinstance(ctr, dict) and not ctr.get("image"):
                errs.required(child(index(child("spec", key_name), i), "image"))
    new_deadline, old_deadline = new.get("activeDeadlineSeconds"), old.get("activeDeadlineSeconds")
    if new_deadline is not None:
        if not 0 <= new_deadline <= _MAX_INT32:
            errs.invalid("spec.activeDeadlineSeconds", new_deadline, "must be between 0 and 2147483647, inclusive")
            return
        if old_deadline is not None and old_deadline < new_deadline:
            errs.invalid("spec.activeDeadlineSeconds", new_deadline, "must be less than or equal to previous value")
            return
    elif old_deadline is not None:
        errs.invalid("spec.activeDeadlineSeconds", None, "must not update from a positive integer to nil value")
    def plain(toleration: dict) -> dict:
        return {k: v for k, v in toleration.items() if v not in (None, "")}
    new_tolerations = [plain(t) for t in new.get("tolerations") or [] if isinstance(t, dict)]
    for old_toleration in old.get("tolerations") or []:
        if not isinstance(old_toleration, dict):
            continue
        if not any(plain({**old_toleration, "tolerationSeconds": t.get("tolerationSeconds")}) == t
                   for t in new_tolerations):
            errs.forbidden("spec.tolerations", "existing toleration can not be modified except its tolerationSeconds")
            break
    if new == old:
        return
    munged = json.loads(json.dumps(new))
    for key_name in ("containers", "initContainers"):
        for ctr, old_ctr in zip(munged.get(key_name) or [], old.get(key_name) or []):
            if isinstance(ctr, dict) and isinstance(old_ctr, dict):
                ctr["image"] = old_ctr.get("image")
    for key_name in ("activeDeadlineSeconds", "tolerations", "schedulingGates"):
        munged.pop(key_name, None)
        if key_name in old:
            munged[key_name] = old[key_name]
    old_grace = old.get("terminationGracePeriodSeconds")
    if old_grace is not None and old_grace < 0 and munged.get("terminationGracePeriodSeconds") == 1:
        munged["terminationGracePeriodSeconds"] = old_grace
    if munged != old:
        errs.forbidden("spec", "pod updates may not change fields other than " + ",".join(UPDATABLE_POD_SPEC_FIELDS)
                       + "\n" + _spec_diff(old, munged, "core.PodSpec"))


def _flatten(value: Any, prefix: str, out: dict[str, str]) -> None:
    if isinstance(value, dict):
        for k in value:
            _flatten(value[k], f"{prefix}.{k}" if prefix else k, out)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _flatten(item, f"{prefix}[{i}]", out)
    else:
        out[prefix] = json.dumps(value)


def _spec_diff(old: Any, new: Any, type_name: str) -> str:
    """A short cmp.Diff-like listing of what changed (``-`` old, ``+`` new)."""
    before, after = {}, {}
    _flatten(old, "", before)
    _flatten(new, "", after)
    lines = [f"  {type_name}{{"]
    for path in sorted(set(before) | set(after)):
        if before.get(path) != after.get(path):
            if path in before:
                lines.append(f"- \t{path}: {before[path]},")
            if path in after:
                lines.append(f"+ \t{path}: {after[path]},")
    lines.append("  }")
    return "\n".join(lines) + "\n"


# -- apps/v1 (pkg/apis/apps/validation) ------------------------------------------------

def _int_or_string_value(value: Any) -> tuple[int, bool]:
    """getIntOrPercentValue: (value, is_percent) of an IntOrString, 0 for anything unparsable."""
    if isinstance(value, str):
        if not is_valid_percent(value):
            return int(value[:-1]), True
        return 0, False
    if isinstance(value, int) and not isinstance(value, bool):
        return value, False
    return 0, False


def _positive_int_or_percent(errs: Errors, value: Any, path: str) -> None:
    if isinstance(value, str):
        for msg in is_valid_percent(value):
            errs.invalid(path, GoValue(value), msg)
    elif isinstance(value, int) and not isinstance(value, bool):
        errs.nonnegative(path, value)
    else:
        errs.invalid(path, GoValue(str(value)), "must be an integer or percentage (e.g '5%%')")


def _not_more_than_100_percent(errs: Errors, value: Any, path: str) -> None:
    number, is_percent = _int_or_string_value(value)
    if is_percent and number > 100:
        errs.invalid(path, GoValue(str(value)), "must not be greater than 100%")


def _go_strategy(type_name: str, strategy: Mapping, rolling_type: str) -> GoValue:
    rolling = "(nil)" if strategy.get("rollingUpdate") is None else "(0xc000a1b2c0)"
    return GoValue(f"apps.{type_name}{{Type:{go_quote(str(strategy.get('type', '')))}, "
                   f"RollingUpdate:(*apps.{rolling_type}){rolling}}}")


def _template_selector(errs: Errors, selector: Any, template: Any, invalid_detail: str) -> bool:
    """Convert the selector and check it matches the template labels; False if it cannot be converted."""
    try:
        sel = from_label_selector(selector if isinstance(selector, dict) else None)
    except SelectorError:
        errs.invalid("spec.selector", go_label_selector(selector), invalid_detail)
        return False
    labels = (template.get("metadata") or {}).get("labels") if isinstance(template, dict) else None
    if not sel.empty and not sel.matches(labels if isinstance(labels, Mapping) else {}):
        errs.invalid("spec.template.metadata.labels", labels if labels is not None else GoValue("map[string]string(nil)"),
                     "`selector` does not match template `labels`")
    return True


def _required_selector(errs: Errors, selector: Any, empty_word: str) -> None:
    if selector is None:
        errs.required("spec.selector")
        return
    validate_label_selector(errs, selector, "spec.selector")
    if isinstance(selector, dict) and not selector.get("matchLabels") and not selector.get("matchExpressions"):
        errs.invalid("spec.selector", go_label_selector(selector), f"empty selector is invalid for {empty_word}")


def _template_restart_always(errs: Errors, template: Any, owner: str) -> None:
    tspec = template.get("spec") if isinstance(template, dict) and isinstance(template.get("spec"), dict) else {}
    if tspec.get("restartPolicy") != "Always":
        errs.not_supported("spec.template.spec.restartPolicy", tspec.get("restartPolicy") or "", ("Always",))
    if tspec.get("activeDeadlineSeconds") is not None:
        errs.forbidden("spec.template.spec.activeDeadlineSeconds", f"activeDeadlineSeconds in {owner} is not Supported")


def _replica_set_template(errs: Errors, spec: dict) -> None:
    """The selector and ValidatePodTemplateSpecForReplicaSet, shared by Deployment and ReplicaSet."""
    selector, template = spec.get("selector"), spec.get("template")
    _required_selector(errs, selector, "deployment")  # sic: ReplicaSets say "deployment" too
    if not _template_selector(errs, selector, template, "invalid label selector"):
        return
    if template is None:
        errs.required("spec.template")
        return
    validate_pod_template(errs, template, "spec.template")
    _template_restart_always(errs, template, "ReplicaSet")


def _validate_deployment(obj: dict, old: dict | None, errs: Errors) -> None:
    _workload_meta(errs, obj, old, name_is_dns_subdomain)
    spec = _spec(errs, obj)
    replicas = _int(errs, spec, "replicas", "spec.replicas")
    if replicas is not None:
        errs.nonnegative("spec.replicas", replicas)
    _replica_set_template(errs, spec)
    strategy = _obj(errs, spec, "strategy", "spec.strategy") or {}
    stype = strategy.get("type")
    if stype == "Recreate":
        if strategy.get("rollingUpdate") is not None:
            errs.forbidden("spec.strategy.rollingUpdate", "may not be specified when strategy `type` is 'Recreate'")
    elif stype == "RollingUpdate":
        rolling = strategy.get("rollingUpdate")
        if not isinstance(rolling, dict):
            errs.required("spec.strategy.rollingUpdate", "this should be defaulted and never be nil")
        else:
            path = "spec.strategy.rollingUpdate"
            unavailable, surge = rolling.get("maxUnavailable"), rolling.get("maxSurge")
            _positive_int_or_percent(errs, unavailable, child(path, "maxUnavailable"))
            _positive_int_or_percent(errs, surge, child(path, "maxSurge"))
            if _int_or_string_value(unavailable)[0] == 0 and _int_or_string_value(surge)[0] == 0:
                errs.invalid(child(path, "maxUnavailable"), GoValue(str(unavailable)), "may not be 0 when `maxSurge` is 0")
            _not_more_than_100_percent(errs, unavailable, child(path, "maxUnavailable"))
    else:
        errs.not_supported("spec.strategy", _go_strategy("DeploymentStrategy", strategy, "RollingUpdateDeployment"),
                           ("Recreate", "RollingUpdate"))
    min_ready = _int(errs, spec, "minReadySeconds", "spec.minReadySeconds") or 0
    errs.nonnegative("spec.minReadySeconds", min_ready)
    history = _int(errs, spec, "revisionHistoryLimit", "spec.revisionHistoryLimit")
    if history is not None:
        errs.nonnegative("spec.revisionHistoryLimit", history)
    deadline = _int(errs, spec, "progressDeadlineSeconds", "spec.progressDeadlineSeconds")
    if deadline is not None:
        errs.nonnegative("spec.progressDeadlineSeconds", deadline)
        if deadline <= min_ready:
            errs.invalid("spec.progressDeadlineSeconds", deadline, "must be greater than minReadySeconds")
    _selector_immutable(errs, obj, old)


def _validate_replica_set(obj: dict, old: dict | None, errs: Errors) -> None:
    _workload_meta(errs, obj, old, name_is_dns_subdomain)
    spec = _spec(errs, obj)
    replicas = _int(errs, spec, "replicas", "spec.replicas")
    if replicas is not None:
        errs.nonnegative("spec.replicas", replicas)
    errs.nonnegative("spec.minReadySeconds", _int(errs, spec, "minReadySeconds", "spec.minReadySeconds") or 0)
    _replica_set_template(errs, spec)
    _selector_immutable(errs, obj, old)


def _validate_daemon_set(obj: dict, old: dict | None, errs: Errors) -> None:
    _workload_meta(errs, obj, old, name_is_dns_subdomain)
    spec = _spec(errs, obj)
    selector = spec.get("selector")
    validate_label_selector(errs, selector, "spec.selector")
    template = spec.get("template")
    try:
        sel = from_label_selector(selector if isinstance(selector, dict) else None)
        labels = (template.get("metadata") or {}).get("labels") if isinstance(template, dict) else None
        if not sel.matches(labels if isinstance(labels, Mapping) else {}):
            errs.invalid("spec.template.metadata.labels", labels if labels is not None else
                         GoValue("map[string]string(nil)"), "`selector` does not match template `labels`")
    except SelectorError:
        pass
    if isinstance(selector, dict) and not selector.get("matchLabels") and not selector.get("matchExpressions"):
        errs.invalid("spec.selector", go_label_selector(selector), "empty selector is invalid for daemonset")
    validate_pod_template(errs, template, "spec.template")
    _template_restart_always(errs, template, "DaemonSet")
    errs.nonnegative("spec.minReadySeconds", _int(errs, spec, "minReadySeconds", "spec.minReadySeconds") or 0)
    strategy = _obj(errs, spec, "updateStrategy", "spec.updateStrategy") or {}
    if strategy.get("type") == "RollingUpdate":
        rolling = strategy.get("rollingUpdate")
        if not isinstance(rolling, dict):
            errs.required("spec.updateStrategy.rollingUpdate")
        else:
            path = "spec.updateStrategy.rollingUpdate"
            unavailable, surge = rolling.get("maxUnavailable"), rolling.get("maxSurge")
            _positive_int_or_percent(errs, unavailable, child(path, "maxUnavailable"))
            _positive_int_or_percent(errs, surge, child(path, "maxSurge"))
            _not_more_than_100_percent(errs, unavailable, child(path, "maxUnavailable"))
            _not_more_than_100_percent(errs, surge, child(path, "maxSurge"))
            has_unavailable = _int_or_string_value(unavailable)[0] != 0
            has_surge = _int_or_string_value(surge)[0] != 0
            if has_unavailable and has_surge:
                errs.invalid(child(path, "maxSurge"), GoValue(str(surge)), "may not be set when maxUnavailable is non-zero")
            elif not has_unavailable and not has_surge:
                errs.required(child(path, "maxUnavailable"), "cannot be 0 when maxSurge is 0")
    elif strategy.get("type") != "OnDelete":
        errs.not_supported("spec.updateStrategy", _go_strategy("DaemonSetUpdateStrategy", strategy,
                                                                "RollingUpdateDaemonSet"), ("RollingUpdate", "OnDelete"))
    history = _int(errs, spec, "revisionHistoryLimit", "spec.revisionHistoryLimit")
    if history is not None:
        errs.nonnegative("spec.revisionHistoryLimit", history)
    _selector_immutable(errs, obj, old)


def _validate_stateful_set(obj: dict, old: dict | None, errs: Errors) -> None:
    _workload_meta(errs, obj, old, name_is_dns_label)
    spec = _spec(errs, obj)
    policy = spec.get("podManagementPolicy") or ""
    if not policy:
        errs.required("spec.podManagementPolicy")
    elif policy not in ("OrderedReady", "Parallel"):
        errs.invalid("spec.podManagementPolicy", policy, "must be 'OrderedReady' or 'Parallel'")
    strategy = _obj(errs, spec, "updateStrategy", "spec.updateStrategy") or {}
    stype = strategy.get("type") or ""
    if not stype:
        errs.required("spec.updateStrategy")
    elif stype == "OnDelete":
        if strategy.get("rollingUpdate") is not None:
            errs.invalid("spec.updateStrategy.rollingUpdate", GoValue("&apps.RollingUpdateStatefulSetStrategy{...}"),
                         "only allowed for updateStrategy 'RollingUpdate'")
    elif stype == "RollingUpdate":
        rolling = strategy.get("rollingUpdate")
        if isinstance(rolling, dict):
            partition = _int(errs, rolling, "partition", "spec.updateStrategy.rollingUpdate.partition")
            errs.nonnegative("spec.updateStrategy.rollingUpdate.partition", partition or 0)
            unavailable = rolling.get("maxUnavailable")
            if unavailable is not None:
                path = "spec.updateStrategy.rollingUpdate.maxUnavailable"
                _positive_int_or_percent(errs, unavailable, path)
                if _int_or_string_value(unavailable)[0] == 0:
                    errs.invalid(path, GoValue(str(unavailable)), "cannot be 0")
                _not_more_than_100_percent(errs, unavailable, path)
    else:
        errs.invalid("spec.updateStrategy", _go_strategy("StatefulSetUpdateStrategy", strategy,
                                                         "RollingUpdateStatefulSetStrategy"),
                     "must be 'RollingUpdate' or 'OnDelete'")
    retention = spec.get("persistentVolumeClaimRetentionPolicy")
    if isinstance(retention, dict):
        for when in ("whenDeleted", "whenScaled"):
            if retention.get(when) not in ("Retain", "Delete"):
                errs.not_supported(f"spec.persistentVolumeClaimRetentionPolicy.{when}", retention.get(when) or "",
                                   ("Retain", "Delete"))
    errs.nonnegative("spec.replicas", _int(errs, spec, "replicas", "spec.replicas") or 0)
    errs.nonnegative("spec.minReadySeconds", _int(errs, spec, "minReadySeconds", "spec.minReadySeconds") or 0)
    selector, template = spec.get("selector"), spec.get("template")
    _required_selector(errs, selector, "statefulset")
    claims = []
    for _, claim, _ in _items(errs, spec, "volumeClaimTemplates", "spec.volumeClaimTemplates"):
        claim_meta = claim.get("metadata") if isinstance(claim.get("metadata"), dict) else {}
        if claim_meta.get("name"):
            claims.append(str(claim_meta["name"]))
    if _template_selector(errs, selector, template, ""):
        # Go checks only the template's labels and annotations here (a TODO); the whole
        # template is checked, counting volumeClaimTemplates as volumes, to catch mistakes early.
        validate_pod_template(errs, template, "spec.template", extra_volumes=claims)
    _template_restart_always(errs, template, "StatefulSet")
    if old is not None:
        new_spec = {k: v for k, v in spec.items() if k not in _STS_MUTABLE}
        old_spec = {k: v for k, v in (old.get("spec") or {}).items() if k not in _STS_MUTABLE}
        if new_spec != old_spec:
            errs.forbidden("spec", "updates to statefulset spec for fields other than 'replicas', 'ordinals', "
                           "'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and "
                           "'minReadySeconds' are forbidden")


_STS_MUTABLE = ("replicas", "ordinals", "template", "updateStrategy", "persistentVolumeClaimRetentionPolicy",
                "minReadySeconds")


def _workload_meta(errs: Errors, obj: dict, old: dict | None, name_fn: NameFn, namespaced: bool = True) -> None:
    if old is None:
        validate_object_meta(errs, obj.get("metadata"), namespaced, name_fn)
    else:
        validate_object_meta_update(errs, obj.get("metadata"), old.get("metadata"))


def _spec(errs: Errors, obj: dict) -> dict:
    return _obj(errs, obj, "spec", "spec") or {}


def _selector_immutable(errs: Errors, obj: dict, old: dict | None) -> None:
    """The apps/v1 strategies' rule: a controller's selector never changes after creation."""
    if old is None:
        return
    new_sel = (obj.get("spec") or {}).get("selector")
    old_sel = (old.get("spec") or {}).get("selector")
    if _normal_selector(new_sel) != _normal_selector(old_sel):
        errs.invalid("spec.selector", go_label_selector(new_sel), "field is immutable")


def _normal_selector(selector: Any) -> Any:
    if not isinstance(selector, dict):
        return selector
    return {"matchLabels": selector.get("matchLabels") or None, "matchExpressions": selector.get("matchExpressions") or None}


# -- batch/v1 (pkg/apis/batch/validation) ----------------------------------------------

LEGACY_CONTROLLER_UID_LABEL = "controller-uid"
CONTROLLER_UID_LABEL = "batch.kubernetes.io/controller-uid"
LEGACY_JOB_NAME_LABEL = "job-name"
JOB_NAME_LABEL = "batch.kubernetes.io/job-name"


def _validate_job_spec(errs: Errors, spec: dict, path: str) -> None:
    for name in ("parallelism", "completions", "activeDeadlineSeconds", "backoffLimit", "ttlSecondsAfterFinished",
                 "backoffLimitPerIndex", "maxFailedIndexes"):
        value = _int(errs, spec, name, child(path, name))
        if value is not None:
            errs.nonnegative(child(path, name), value)
    mode = spec.get("completionMode")
    if mode is not None and mode not in ("NonIndexed", "Indexed"):
        errs.not_supported(child(path, "completionMode"), mode, ("NonIndexed", "Indexed"))
    if mode == "Indexed" and spec.get("completions") is None:
        errs.required(child(path, "completions"), "when completion mode is Indexed")
    replacement = spec.get("podReplacementPolicy")
    if replacement is not None:
        if spec.get("podFailurePolicy") is not None:
            if replacement != "Failed":
                errs.not_supported(child(path, "podReplacementPolicy"), replacement, ("Failed",))
        elif replacement not in ("Failed", "TerminatingOrFailed"):
            errs.not_supported(child(path, "podReplacementPolicy"), replacement, ("Failed", "TerminatingOrFailed"))
    tpath = child(path, "template")
    validate_pod_template(errs, spec.get("template"), tpath)
    template = spec.get("template") if isinstance(spec.get("template"), dict) else {}
    restart = (template.get("spec") or {}).get("restartPolicy") if isinstance(template.get("spec"), dict) else None
    rpath = child(child(tpath, "spec"), "restartPolicy")
    if restart in ("Always", "", None):
        errs.required(rpath, 'valid values: "OnFailure", "Never"')
    elif restart not in ("OnFailure", "Never"):
        errs.not_supported(rpath, restart, ("OnFailure", "Never"))
    elif spec.get("podFailurePolicy") is not None and restart != "Never":
        errs.invalid(rpath, restart, 'only "Never" is supported when podFailurePolicy is specified')


def _validate_job(obj: dict, old: dict | None, errs: Errors) -> None:
    _workload_meta(errs, obj, old, name_is_dns_subdomain)
    spec = _spec(errs, obj)
    meta = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
    template = spec.get("template") if isinstance(spec.get("template"), dict) else {}
    template_meta = template.get("metadata") if isinstance(template.get("metadata"), dict) else {}
    if old is None and spec.get("manualSelector") is not True and spec.get("selector") is not None:
        uid, name = meta.get("uid") or "", meta.get("name") or ""
        if not uid:
            errs.required("metadata.uid")
        labels = template_meta.get("labels") or {}
        expected = {LEGACY_CONTROLLER_UID_LABEL: uid, LEGACY_JOB_NAME_LABEL: name,
                    CONTROLLER_UID_LABEL: uid, JOB_NAME_LABEL: name}
        for label, value in expected.items():
            if label not in labels:
                errs.required(f"spec.template.metadata.labels[{label}]", f"must be '{value}'")
            elif labels[label] != value:
                errs.invalid(f"spec.template.metadata.labels[{label}]", labels, f"must be '{value}'")
        try:
            if not from_label_selector(spec["selector"]).matches(expected):
                errs.invalid("spec.selector", go_label_selector(spec["selector"]), "`selector` not auto-generated")
        except SelectorError:
            pass
    _validate_job_spec(errs, spec, "spec")
    selector = spec.get("selector")
    if selector is None:
        errs.required("spec.selector")
    else:
        validate_label_selector(errs, selector, "spec.selector")
    try:
        sel = from_label_selector(selector if isinstance(selector, dict) else None)
        labels = template_meta.get("labels")
        if not sel.matches(labels if isinstance(labels, Mapping) else {}):
            errs.invalid("spec.template.metadata.labels", labels if labels is not None else
                         GoValue("map[string]string(nil)"), "`selector` does not match template `labels`")
    except SelectorError:
        pass
    if old is not None:
        old_spec = old.get("spec") if isinstance(old.get("spec"), dict) else {}
        if spec.get("completions") != old_spec.get("completions"):
            errs.invalid("spec.completions", spec.get("completions"), "field is immutable")
        if _normal_selector(spec.get("selector")) != _normal_selector(old_spec.get("selector")):
            errs.invalid("spec.selector", go_label_selector(spec.get("selector")), "field is immutable")
        new_template, old_template = json.loads(json.dumps(template)), json.loads(json.dumps(old_spec.get("template") or {}))
        if old_spec.get("suspend") is True and not (old.get("status") or {}).get("startTime"):
            for t in (new_template, old_template):  # scheduling directives of a suspended, never-started Job
                t.setdefault("metadata", {}).pop("labels", None)
                t["metadata"].pop("annotations", None)
                for k in ("nodeSelector", "tolerations", "schedulingGates", "affinity"):
                    (t.get("spec") or {}).pop(k, None)
        if new_template != old_template:
            errs.invalid("spec.template", GoValue("core.PodTemplateSpec{...}"), "field is immutable")
        for name in ("completionMode", "podFailurePolicy", "backoffLimitPerIndex", "managedBy", "successPolicy"):
            if spec.get(name) != old_spec.get(name):
                errs.invalid(f"spec.{name}", spec.get(name), "field is immutable")


def _validate_cron_job(obj: dict, old: dict | None, errs: Errors) -> None:
    _workload_meta(errs, obj, old, name_is_dns_subdomain)
    spec = _spec(errs, obj)
    schedule = _str(errs, spec, "schedule", "spec.schedule")
    if not schedule:
        errs.required("spec.schedule")
    else:
        try:
            parse_schedule(schedule)
        except ValueError as err:
            errs.invalid("spec.schedule", schedule, str(err))
        old_schedule = ((old or {}).get("spec") or {}).get("schedule") or ""
        if "TZ" in schedule and "TZ" not in old_schedule:
            errs.invalid("spec.schedule", schedule, "cannot use TZ or CRON_TZ in schedule, use timeZone field instead")
    deadline = _int(errs, spec, "startingDeadlineSeconds", "spec.startingDeadlineSeconds")
    if deadline is not None:
        errs.nonnegative("spec.startingDeadlineSeconds", deadline)
    tz = spec.get("timeZone")
    if tz is not None and (not isinstance(tz, str) or not tz):
        errs.invalid("spec.timeZone", tz, "timeZone must be nil or non-empty string")
    policy = spec.get("concurrencyPolicy") or ""
    if not policy:
        errs.required("spec.concurrencyPolicy")
    elif policy not in ("Allow", "Forbid", "Replace"):
        errs.not_supported("spec.concurrencyPolicy", policy, ("Allow", "Forbid", "Replace"))
    job_template = _obj(errs, spec, "jobTemplate", "spec.jobTemplate") or {}
    job_spec = _obj(errs, job_template, "spec", "spec.jobTemplate.spec") or {}
    _validate_job_spec(errs, job_spec, "spec.jobTemplate.spec")
    if job_spec.get("selector") is not None:
        errs.invalid("spec.jobTemplate.spec.selector", go_label_selector(job_spec["selector"]),
                     "`selector` will be auto-generated")
    if job_spec.get("manualSelector") is True:
        errs.not_supported("spec.jobTemplate.spec.manualSelector", True, ("nil", "false"))
    for name in ("successfulJobsHistoryLimit", "failedJobsHistoryLimit"):
        value = _int(errs, spec, name, f"spec.{name}")
        if value is not None:
            errs.nonnegative(f"spec.{name}", value)
    name = (obj.get("metadata") or {}).get("name") or ""
    if old is None and len(name) > 52:
        errs.invalid("metadata.name", name, "must be no more than 52 characters")


# -- core/v1: services -----------------------------------------------------------------

_SERVICE_TYPES = ("ClusterIP", "ExternalName", "LoadBalancer", "NodePort")


def _cluster_ips(spec: Mapping) -> list[str]:
    ips = spec.get("clusterIPs")
    if isinstance(ips, list) and ips:
        return [str(ip) for ip in ips]
    return [spec["clusterIP"]] if spec.get("clusterIP") else []


def _go_service_port(port: Mapping) -> GoValue:
    target = port.get("targetPort")
    if isinstance(target, str):
        target_text = f"intstr.IntOrString{{Type:1, IntVal:0, StrVal:{go_quote(target)}}}"
    else:
        target_text = f"intstr.IntOrString{{Type:0, IntVal:{target or 0}, StrVal:\"\"}}"
    return GoValue(f"core.ServicePort{{Name:{go_quote(str(port.get('name', '')))}, "
                   f"Protocol:{go_quote(str(port.get('protocol', '')))}, AppProtocol:(*string)(nil), "
                   f"Port:{port.get('port', 0)}, TargetPort:{target_text}, NodePort:{port.get('nodePort', 0)}}}")


def _validate_service(obj: dict, old: dict | None, errs: Errors, node_port_range: tuple[int, int]) -> None:
    if old is not None:
        validate_object_meta_update(errs, obj.get("metadata"), old.get("metadata"))
        old_spec = old.get("spec") if isinstance(old.get("spec"), dict) else {}
        new_spec = obj.get("spec") if isinstance(obj.get("spec"), dict) else {}
        if "ExternalName" not in (new_spec.get("type"), old_spec.get("type")):
            old_ips, new_ips = _cluster_ips(old_spec), _cluster_ips(new_spec)
            # An update that leaves clusterIP out keeps the allocated one (the REST layer copies it).
            if new_ips and old_ips and not (old_ips == ["None"] and new_ips == ["None"]) and new_ips[0] != old_ips[0]:
                errs.invalid("spec.clusterIPs[0]", new_ips, "may not change once set")
    validate_object_meta(errs, obj.get("metadata"), True, name_is_dns1035_label)
    spec = _spec(errs, obj)
    stype = _str(errs, spec, "type", "spec.type")
    ips = _cluster_ips(spec)
    headless = ips == ["None"]
    ports = _items(errs, spec, "ports", "spec.ports")
    if not ports and not headless and stype != "ExternalName":
        errs.required("spec.ports")
    if stype in ("LoadBalancer", "NodePort") and headless:
        errs.invalid("spec.clusterIPs[0]", "None", f"may not be set to 'None' for {stype} services")
    if stype == "ExternalName":
        if ips:
            errs.forbidden("spec.clusterIPs", "may not be set for ExternalName services")
        if spec.get("ipFamilies"):
            errs.forbidden("spec.ipFamilies", "may not be set for ExternalName services")
        if spec.get("ipFamilyPolicy") is not None:
            errs.forbidden("spec.ipFamilyPolicy", "may not be set for ExternalName services")
        cname = _str(errs, spec, "externalName", "spec.externalName").removesuffix(".")
        if cname:
            for msg in is_dns1123_subdomain(cname):
                errs.invalid("spec.externalName", cname, msg)
        else:
            errs.required("spec.externalName")
    names: set[str] = set()
    for i, port, ppath in ports:
        pname = _str(errs, port, "name", child(ppath, "name"))
        if len(ports) > 1 and not pname:
            errs.required(child(ppath, "name"))
        elif pname:
            for msg in is_dns1123_label(pname):
                errs.invalid(child(ppath, "name"), pname, msg)
            if pname in names:
                errs.duplicate(child(ppath, "name"), pname)
            names.add(pname)
        number = _int(errs, port, "port", child(ppath, "port")) or 0
        for msg in is_valid_port_num(number):
            errs.invalid(child(ppath, "port"), number, msg)
        _protocol(errs, port, ppath)
        _port_num_or_name(errs, port.get("targetPort"), child(ppath, "targetPort"))
    validate_labels(errs, spec.get("selector"), "spec.selector")
    affinity = spec.get("sessionAffinity") or ""
    if not affinity:
        errs.required("spec.sessionAffinity")
    elif affinity not in ("ClientIP", "None"):
        errs.not_supported("spec.sessionAffinity", affinity, ("ClientIP", "None"))
    if affinity == "ClientIP":
        timeout = ((spec.get("sessionAffinityConfig") or {}).get("clientIP") or {}).get("timeoutSeconds")
        if timeout is None:
            errs.required("spec.sessionAffinityConfig", "when session affinity type is ClientIP")
        elif not 0 < timeout <= 86400:
            errs.invalid("spec.sessionAffinityConfig.clientIP.timeoutSeconds", timeout,
                         "must be greater than 0 and less than 86400")
    elif affinity == "None" and spec.get("sessionAffinityConfig") is not None:
        errs.forbidden("spec.sessionAffinityConfig", "must not be set when session affinity is None")
    if ips and spec.get("clusterIP") and spec["clusterIP"] != ips[0]:
        errs.invalid("spec.clusterIPs", ips, "first value must match `clusterIP`")
    for i, ip in enumerate(ips):
        if ip == "None":
            if i or len(ips) > 1:
                errs.invalid(index("spec.clusterIPs", i), ip, "'None' must be the first and only value")
        else:
            _ip_errors(errs, index("spec.clusterIPs", i), ip)
    policy = spec.get("ipFamilyPolicy")
    if policy is not None and policy not in ("PreferDualStack", "RequireDualStack", "SingleStack"):
        errs.not_supported("spec.ipFamilyPolicy", policy, ("PreferDualStack", "RequireDualStack", "SingleStack"))
    for i, family in enumerate(spec.get("ipFamilies") or []):
        if family not in ("IPv4", "IPv6"):
            errs.not_supported(index("spec.ipFamilies", i), family, ("IPv4", "IPv6"))
    for i, ip in enumerate(spec.get("externalIPs") or []):
        _ip_errors(errs, index("spec.externalIPs", i), str(ip))
    if not stype:
        errs.required("spec.type")
    elif stype not in _SERVICE_TYPES:
        errs.not_supported("spec.type", stype, _SERVICE_TYPES)
    node_ports: set[tuple[str, int]] = set()
    seen_ports: set[tuple[str, int]] = set()
    low, high = node_port_range
    for i, port, ppath in ports:
        node_port = port.get("nodePort")
        if stype == "ClusterIP" and node_port:
            errs.forbidden(child(ppath, "nodePort"), "may not be used when `type` is 'ClusterIP'")
        if node_port:
            if (port.get("protocol"), node_port) in node_ports:
                errs.duplicate(child(ppath, "nodePort"), node_port)
            node_ports.add((port.get("protocol"), node_port))
            if stype in ("NodePort", "LoadBalancer") and isinstance(node_port, int) and not low <= node_port <= high:
                errs.invalid(child(ppath, "nodePort"), node_port, "provided port is not in the valid range. "
                             f"The range of valid ports is {low}-{high}")
        pair = (port.get("protocol"), port.get("port"))
        if pair in seen_ports:
            errs.duplicate(ppath, GoValue(f"core.ServicePort{{Name:\"\", Protocol:{go_quote(str(pair[0]))}, "
                                          f"AppProtocol:(*string)(nil), Port:{pair[1]}, TargetPort:intstr.IntOrString"
                                          "{Type:0, IntVal:0, StrVal:\"\"}, NodePort:0}"))
        seen_ports.add(pair)
    if spec.get("allocateLoadBalancerNodePorts") is not None and stype != "LoadBalancer":
        errs.forbidden("spec.allocateLoadBalancerNodePorts", "may only be used when `type` is 'LoadBalancer'")
    if stype == "LoadBalancer" and spec.get("allocateLoadBalancerNodePorts") is None:
        errs.required("allocateLoadBalancerNodePorts")
    external = stype in ("LoadBalancer", "NodePort") or (stype == "ClusterIP" and bool(spec.get("externalIPs")))
    etp = spec.get("externalTrafficPolicy") or ""
    if not external:
        if etp:
            errs.invalid("spec.externalTrafficPolicy", etp, "may only be set for externally-accessible services")
    elif not etp:
        errs.required("spec.externalTrafficPolicy")
    elif etp not in ("Cluster", "Local"):
        errs.not_supported("spec.externalTrafficPolicy", etp, ("Cluster", "Local"))
    itp = spec.get("internalTrafficPolicy")
    if itp is None and stype in ("NodePort", "LoadBalancer", "ClusterIP"):
        errs.required("spec.internalTrafficPolicy")
    elif itp is not None and itp not in ("Cluster", "Local"):
        errs.not_supported("spec.internalTrafficPolicy", itp, ("Cluster", "Local"))


# -- core/v1: the rest ------------------------------------------------------------------

def _validate_namespace(obj: dict, old: dict | None, errs: Errors) -> None:
    if old is not None:
        validate_object_meta_update(errs, obj.get("metadata"), old.get("metadata"))
        return
    validate_object_meta(errs, obj.get("metadata"), False, name_is_dns_label)
    spec = obj.get("spec") if isinstance(obj.get("spec"), dict) else {}
    for finalizer in spec.get("finalizers") or []:
        finalizer = str(finalizer)
        for msg in is_label_key(finalizer):
            errs.invalid("spec.finalizers", finalizer, msg)
        if "/" not in finalizer and finalizer not in _STANDARD_FINALIZERS:
            errs.invalid("spec.finalizers", finalizer, "name is neither a standard finalizer name nor is it fully qualified")


def _validate_taints(errs: Errors, spec: Mapping, path: str) -> None:
    unique: dict[str, set[str]] = {}
    for _, taint, tpath in _items(errs, spec, "taints", path):
        tkey = str(taint.get("key") or "")
        for msg in is_label_key(tkey):
            errs.invalid(child(tpath, "key"), tkey, msg)
        if msgs := is_label_value(str(taint.get("value") or "")):
            errs.invalid(child(tpath, "value"), taint.get("value") or "", ";".join(msgs))
        effect = taint.get("effect") or ""
        if not effect:
            errs.required(child(tpath, "effect"))
        elif effect not in ("NoSchedule", "PreferNoSchedule", "NoExecute"):
            errs.not_supported(child(tpath, "effect"), effect, ("NoSchedule", "PreferNoSchedule", "NoExecute"))
        if tkey in unique.get(effect, set()):
            errs.duplicate(tpath, GoValue(f"core.Taint{{Key:{go_quote(tkey)}, Value:{go_quote(str(taint.get('value') or ''))}, "
                                          f"Effect:{go_quote(effect)}, TimeAdded:(*v1.Time)(nil)}}"),
                           "taints must be unique by key and effect pair")
            continue
        unique.setdefault(effect, set()).add(tkey)


def _validate_node(obj: dict, old: dict | None, errs: Errors) -> None:
    spec = obj.get("spec") if isinstance(obj.get("spec"), dict) else {}
    if old is None:
        validate_object_meta(errs, obj.get("metadata"), False, name_is_dns_subdomain)
    else:
        validate_object_meta_update(errs, obj.get("metadata"), old.get("metadata"))
    _validate_taints(errs, spec, "metadata.taints")  # sic: the real path
    status = obj.get("status") if isinstance(obj.get("status"), dict) else {}
    for field_name in ("capacity", "allocatable"):
        for name, q in _resource_list(errs, status, field_name, f"status.{field_name}").items():
            _quantity_value(errs, name, q, f"status.{field_name}.{name}")
    cidrs = spec.get("podCIDRs") or ([spec["podCIDR"]] if spec.get("podCIDR") else [])
    for i, cidr in enumerate(cidrs):
        _cidr_errors(errs, index("spec.podCIDRs", i), str(cidr))
    if old is not None:
        old_spec = old.get("spec") if isinstance(old.get("spec"), dict) else {}
        old_cidrs = old_spec.get("podCIDRs") or ([old_spec["podCIDR"]] if old_spec.get("podCIDR") else [])
        if old_cidrs and old_cidrs != cidrs:
            errs.forbidden("spec.podCIDRs", 'node updates may not change podCIDR except from "" to valid')
        if old_spec.get("providerID") and old_spec.get("providerID") != spec.get("providerID"):
            errs.forbidden("spec.providerID", 'node updates may not change providerID except from "" to valid')


def _validate_config_map(obj: dict, old: dict | None, errs: Errors) -> None:
    if old is not None:
        validate_object_meta_update(errs, obj.get("metadata"), old.get("metadata"))
        if old.get("immutable") is True:
            if obj.get("immutable") is not True:
                errs.forbidden("immutable", "field is immutable when `immutable` is set")
            for field_name in ("data", "binaryData"):
                if (obj.get(field_name) or {}) != (old.get(field_name) or {}):
                    errs.forbidden(field_name, "field is immutable when `immutable` is set")
    validate_object_meta(errs, obj.get("metadata"), True, name_is_dns_subdomain)
    data = _string_map(errs, obj, "data", "data") or {}
    binary = _obj(errs, obj, "binaryData", "binaryData") or {}
    total = 0
    for k in sorted(data):
        for msg in is_config_map_key(k):
            errs.invalid(key("data", k), k, msg)
        if k in binary:
            errs.invalid(key("data", k), k, "duplicate of key present in binaryData")
        total += len(data[k].encode())
    for k in sorted(binary):
        for msg in is_config_map_key(k):
            errs.invalid(key("binaryData", k), k, msg)
        total += len(_decoded(errs, binary[k], key("binaryData", k)))
    if total > 1024 * 1024:
        errs.too_long("", 1024 * 1024)


def _decoded(errs: Errors, value: Any, path: str) -> bytes:
    try:
        return base64.b64decode(str(value), validate=True)
    except (binascii.Error, ValueError):
        position = next((i for i, c in enumerate(str(value)) if c not in
                         "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/="), len(str(value)))
        errs.invalid(path, "<secret contents redacted>", f"illegal base64 data at input byte {position}")
        return b""


_SECRET_REQUIRED_KEYS = {
    "kubernetes.io/dockercfg": (".dockercfg",), "kubernetes.io/dockerconfigjson": (".dockerconfigjson",),
    "kubernetes.io/tls": ("tls.crt", "tls.key"), "kubernetes.io/ssh-auth": ("ssh-privatekey",),
}


def _validate_secret(obj: dict, old: dict | None, errs: Errors) -> None:
    if old is not None:
        validate_object_meta_update(errs, obj.get("metadata"), old.get("metadata"))
        if (obj.get("type") or "") != (old.get("type") or ""):
            errs.invalid("type", obj.get("type") or "", "field is immutable")
        if old.get("immutable") is True:
            if obj.get("immutable") is not True:
                errs.forbidden("immutable", "field is immutable when `immutable` is set")
            if (obj.get("data") or {}) != (old.get("data") or {}):
                errs.forbidden("data", "field is immutable when `immutable` is set")
    validate_object_meta(errs, obj.get("metadata"), True, name_is_dns_subdomain)
    data = _obj(errs, obj, "data", "data") or {}
    total = 0
    for k in sorted(data):
        for msg in is_config_map_key(k):
            errs.invalid(key("data", k), k, msg)
        total += len(_decoded(errs, data[k], key("data", k)))
    if total > 1024 * 1024:
        errs.too_long("data", 1024 * 1024)
    stype = obj.get("type") or ""
    if stype == "kubernetes.io/service-account-token":
        if not ((obj.get("metadata") or {}).get("annotations") or {}).get("kubernetes.io/service-account.name"):
            errs.required("metadata.annotations[kubernetes.io/service-account.name]")
    elif stype == "kubernetes.io/basic-auth":
        if "username" not in data and "password" not in data:
            errs.required("data[username]")
            errs.required("data[password]")
    for required_key in _SECRET_REQUIRED_KEYS.get(stype, ()):
        missing = not data.get(required_key) if stype == "kubernetes.io/ssh-auth" else required_key not in data
        if missing:
            errs.required(key("data", required_key))


_ACCESS_MODES = ("ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod")


def _access_modes(errs: Errors, spec: Mapping, path: str, required_detail: str) -> None:
    modes = _arr(errs, spec, "accessModes", path)
    if not modes:
        errs.required(path, required_detail)
    for mode in modes:
        if mode not in _ACCESS_MODES:
            errs.not_supported(path, mode, _ACCESS_MODES)
    if "ReadWriteOncePod" in modes and any(m in _ACCESS_MODES and m != "ReadWriteOncePod" for m in modes):
        errs.forbidden(path, "may not use ReadWriteOncePod with other access modes")


def _validate_pvc_spec(errs: Errors, spec: Any, path: str) -> None:
    spec = spec if isinstance(spec, dict) else {}
    _access_modes(errs, spec, child(path, "accessModes"), "at least 1 access mode is required")
    validate_label_selector(errs, spec.get("selector"), child(path, "selector"))
    resources = spec.get("resources") if isinstance(spec.get("resources"), dict) else {}
    requests = resources.get("requests") if isinstance(resources.get("requests"), dict) else {}
    storage_path = key(child(path, "resources"), "storage")  # sic: no "requests" in the real path
    if "storage" not in requests:
        errs.required(storage_path)
    else:
        q = parse_resource_quantity(errs, requests["storage"], storage_path)
        if q is not None and q.sign() <= 0:
            errs.invalid(storage_path, str(q), "must be greater than zero")
    class_name = spec.get("storageClassName")
    if isinstance(class_name, str) and class_name:
        for msg in name_is_dns_subdomain(class_name, False):
            errs.invalid(child(path, "storageClassName"), class_name, msg)
    mode = spec.get("volumeMode")
    if mode is not None and mode not in ("Block", "Filesystem"):
        errs.not_supported(child(path, "volumeMode"), mode, ("Block", "Filesystem"))


def _validate_pvc(obj: dict, old: dict | None, errs: Errors) -> None:
    if old is None:
        validate_object_meta(errs, obj.get("metadata"), True, name_is_dns_subdomain)
    else:
        validate_object_meta_update(errs, obj.get("metadata"), old.get("metadata"))
    _validate_pvc_spec(errs, obj.get("spec"), "spec")
    if old is not None:
        new_spec = json.loads(json.dumps(obj.get("spec") or {}))
        old_spec = json.loads(json.dumps(old.get("spec") or {}))
        if not old_spec.get("volumeName"):
            old_spec["volumeName"] = new_spec.get("volumeName")
            if old_spec["volumeName"] is None:
                old_spec.pop("volumeName")
        if (obj.get("status") or {}).get("phase") == "Bound":
            new_requests = (new_spec.get("resources") or {}).get("requests")
            if isinstance(new_requests, dict):
                new_requests["storage"] = ((old_spec.get("resources") or {}).get("requests") or {}).get("storage")
        if new_spec != old_spec:
            errs.forbidden("spec", "spec is immutable after creation except resources.requests and "
                           "volumeAttributesClassName for bound claims\n" + _spec_diff(old_spec, new_spec, "core.PersistentVolumeClaimSpec"))
        new_size = ((new_spec.get("resources") or {}).get("requests") or {}).get("storage")
        old_size = ((old_spec.get("resources") or {}).get("requests") or {}).get("storage")
        try:
            if new_size is not None and old_size is not None and parse_quantity(new_size) < parse_quantity(old_size):
                errs.forbidden("spec.resources.requests.storage", "field can not be less than previous value")
        except ValueError:
            pass


def _validate_pv(obj: dict, old: dict | None, errs: Errors) -> None:
    if old is None:
        validate_object_meta(errs, obj.get("metadata"), False, name_is_dns_subdomain)
    else:
        validate_object_meta_update(errs, obj.get("metadata"), old.get("metadata"))
    spec = _spec(errs, obj)
    _access_modes(errs, spec, "spec.accessModes", "")
    capacity = _obj(errs, spec, "capacity", "spec.capacity") or {}
    if not capacity:
        errs.required("spec.capacity")
    if "storage" not in capacity or len(capacity) > 1:
        errs.not_supported("spec.capacity", GoValue("core.ResourceList{...}" if capacity else "core.ResourceList(nil)"),
                           ("storage",))
    for name in sorted(capacity):
        q = parse_resource_quantity(errs, capacity[name], key("spec.capacity", name))
        if q is not None and q.sign() <= 0:
            errs.invalid(key("spec.capacity", name), str(q), "must be greater than zero")
    policy = spec.get("persistentVolumeReclaimPolicy")
    if policy and policy not in ("Delete", "Recycle", "Retain"):
        errs.not_supported("spec.persistentVolumeReclaimPolicy", policy, ("Delete", "Recycle", "Retain"))
    sources = [s for s in _PV_SOURCES if spec.get(s) is not None]
    for extra in sources[1:]:
        errs.forbidden(child("spec", extra), "may not specify more than 1 volume type")
    if not sources:
        errs.required("spec", "must specify a volume type")
    elif sources[0] == "hostPath" and not (spec["hostPath"] or {}).get("path"):
        errs.required("spec.hostPath.path")
    elif sources[0] == "local" and not spec.get("nodeAffinity"):
        errs.required("spec.nodeAffinity", "Local volume requires node affinity")
    mode = spec.get("volumeMode")
    if mode is not None and mode not in ("Block", "Filesystem"):
        errs.not_supported("spec.volumeMode", mode, ("Block", "Filesystem"))
    if old is not None and spec.get("volumeMode") != (old.get("spec") or {}).get("volumeMode"):
        errs.invalid("volumeMode", spec.get("volumeMode"), "field is immutable")


_LIMIT_TYPES = ("Pod", "Container", "PersistentVolumeClaim")
_PV_SOURCES = ("hostPath", "gcePersistentDisk", "awsElasticBlockStore", "glusterfs", "flocker", "nfs", "rbd", "quobyte",
               "cephfs", "iscsi", "cinder", "fc", "flexVolume", "azureFile", "vsphereVolume", "photonPersistentDisk",
               "portworxVolume", "azureDisk", "scaleIO", "local", "storageos", "csi")


def _validate_limit_range(obj: dict, old: dict | None, errs: Errors) -> None:
    _workload_meta(errs, obj, old, name_is_dns_subdomain)
    seen_types: set[str] = set()
    for _, item, ipath in _items(errs, _spec(errs, obj), "limits", "spec.limits"):
        ltype = str(item.get("type") or "")
        msgs = is_label_key(ltype)
        for msg in msgs:
            errs.invalid(child(ipath, "type"), ltype, msg)
        if not msgs and "/" not in ltype and ltype not in _LIMIT_TYPES:
            errs.invalid(child(ipath, "type"), ltype, "must be a standard limit type or fully qualified")
        if ltype in seen_types:
            errs.duplicate(child(ipath, "type"), ltype)
        seen_types.add(ltype)
        lists: dict[str, dict[str, Quantity]] = {}
        for field_name in ("max", "min", "default", "defaultRequest", "maxLimitRequestRatio"):
            if ltype == "Pod" and field_name in ("default", "defaultRequest"):
                if item.get(field_name):
                    errs.forbidden(child(ipath, field_name), "may not be specified when `type` is 'Pod'")
                continue
            lists[field_name] = _resource_list(errs, item, field_name, child(ipath, field_name))
            for name in lists[field_name]:
                if ltype in ("Pod", "Container"):
                    _container_resource_name(errs, name, key(child(ipath, field_name), name))
        if ltype == "PersistentVolumeClaim" and "storage" not in lists["min"] and "storage" not in lists["max"]:
            errs.required(child(ipath, "limits"), "either minimum or maximum storage value is required, but neither was provided")
        names = set().union(*(set(v) for v in lists.values()))
        for name in sorted(names):
            mn, mx = lists["min"].get(name), lists["max"].get(name)
            df, dr = lists.get("default", {}).get(name), lists.get("defaultRequest", {}).get(name)
            ratio = lists["maxLimitRequestRatio"].get(name)
            if mn is not None and mx is not None and mn > mx:
                errs.invalid(key(child(ipath, "min"), name), GoValue(str(mn)), f"min value {mn} is greater than max value {mx}")
            if dr is not None and mn is not None and mn > dr:
                errs.invalid(key(child(ipath, "defaultRequest"), name), GoValue(str(dr)),
                             f"min value {mn} is greater than default request value {dr}")
            if dr is not None and mx is not None and dr > mx:
                errs.invalid(key(child(ipath, "defaultRequest"), name), GoValue(str(dr)),
                             f"default request value {dr} is greater than max value {mx}")
            if dr is not None and df is not None and dr > df:
                errs.invalid(key(child(ipath, "defaultRequest"), name), GoValue(str(dr)),
                             f"default request value {dr} is greater than default limit value {df}")
            if df is not None and mn is not None and mn > df:
                errs.invalid(key(child(ipath, "default"), name), GoValue(str(mn)), f"min value {mn} is greater than default value {df}")
            if df is not None and mx is not None and df > mx:
                errs.invalid(key(child(ipath, "default"), name), GoValue(str(mx)), f"default value {df} is greater than max value {mx}")
            if ratio is not None and ratio < 1:
                errs.invalid(key(child(ipath, "maxLimitRequestRatio"), name), GoValue(str(ratio)), f"ratio {ratio} is less than 1")


def _validate_resource_quota(obj: dict, old: dict | None, errs: Errors) -> None:
    _workload_meta(errs, obj, old, name_is_dns_subdomain)
    spec = _spec(errs, obj)
    for name, q in _resource_list(errs, spec, "hard", "spec.hard").items():
        path = key("spec.hard", name)
        before = len(errs)
        _resource_name_errors(errs, name, path, _STANDARD_RESOURCES, "must be a standard resource type or fully qualified")
        if len(errs) == before and "/" not in name and name not in _STANDARD_QUOTA_RESOURCES and not _is_hugepages(name):
            errs.invalid(path, name, "must be a standard resource for quota")
        _quantity_value(errs, name, q, path)
    scopes = spec.get("scopes") or []
    valid = ("Terminating", "NotTerminating", "BestEffort", "NotBestEffort", "PriorityClass", "CrossNamespacePodAffinity")
    if any(s not in valid for s in scopes):
        errs.invalid("spec.scopes", scopes, "unsupported scope")
    if {"BestEffort", "NotBestEffort"} <= set(scopes) or {"Terminating", "NotTerminating"} <= set(scopes):
        errs.invalid("spec.scopes", scopes, "conflicting scopes")
    if old is not None and set(scopes) != set((old.get("spec") or {}).get("scopes") or []):
        errs.invalid("spec.scopes", scopes, "field is immutable")


def _validate_endpoints(obj: dict, old: dict | None, errs: Errors) -> None:
    _workload_meta(errs, obj, old, name_is_dns_subdomain)
    for _, subset, spath in _items(errs, obj, "subsets", "subsets"):
        if not subset.get("addresses") and not subset.get("notReadyAddresses"):
            errs.required(spath, "must specify `addresses` or `notReadyAddresses`")
        for field_name in ("addresses", "notReadyAddresses"):
            for _, address, apath in _items(errs, subset, field_name, child(spath, field_name)):
                _ip_errors(errs, child(apath, "ip"), str(address.get("ip") or ""))
        ports = _items(errs, subset, "ports", child(spath, "ports"))
        for _, port, ppath in ports:
            pname = str(port.get("name") or "")
            if len(ports) > 1 and not pname:
                errs.required(child(ppath, "name"))
            for msg in is_dns1123_label(pname) if pname else []:
                errs.invalid(child(ppath, "name"), pname, msg)
            for msg in is_valid_port_num(port.get("port") or 0):
                errs.invalid(child(ppath, "port"), port.get("port") or 0, msg)
            _protocol(errs, port, ppath)


def _validate_service_account(obj: dict, old: dict | None, errs: Errors) -> None:
    _workload_meta(errs, obj, old, name_is_dns_subdomain)


def _validate_event(obj: dict, old: dict | None, errs: Errors) -> None:
    _workload_meta(errs, obj, old, name_is_dns_subdomain)
    involved = obj.get("involvedObject") if isinstance(obj.get("involvedObject"), dict) else {}
    namespace = (obj.get("metadata") or {}).get("namespace") or ""
    if involved.get("namespace") and involved["namespace"] != namespace:
        errs.invalid("involvedObject.namespace", involved["namespace"], "does not match event.namespace")


def _validate_controller_revision(obj: dict, old: dict | None, errs: Errors) -> None:
    _workload_meta(errs, obj, old, name_is_dns_subdomain)
    if obj.get("data") is None:
        errs.required("data", "data is mandatory")
    errs.nonnegative("revision", _int(errs, obj, "revision", "revision") or 0)
    if old is not None and obj.get("data") != old.get("data"):
        errs.invalid("data", GoValue("runtime.RawExtension{...}"), "field is immutable")


# -- other groups -----------------------------------------------------------------------

RBAC_GROUP = "rbac.authorization.k8s.io"


def _validate_policy_rule(errs: Errors, rule: dict, namespaced: bool, path: str) -> None:
    if not rule.get("verbs"):
        errs.required(child(path, "verbs"), "verbs must contain at least one value")
    urls = rule.get("nonResourceURLs") or []
    if urls:
        if namespaced:
            errs.invalid(child(path, "nonResourceURLs"), urls, "namespaced rules cannot apply to non-resource URLs")
        if rule.get("apiGroups") or rule.get("resources") or rule.get("resourceNames"):
            errs.invalid(child(path, "nonResourceURLs"), urls, "rules cannot apply to both regular resources and "
                         "non-resource URLs")
        return
    if not rule.get("apiGroups"):
        errs.required(child(path, "apiGroups"), "resource rules must supply at least one api group")
    if not rule.get("resources"):
        errs.required(child(path, "resources"), "resource rules must supply at least one resource")


def _validate_role(obj: dict, old: dict | None, errs: Errors) -> None:
    namespaced = obj.get("kind") == "Role"
    _workload_meta(errs, obj, old, is_valid_path_segment_name, namespaced)
    for _, rule, rpath in _items(errs, obj, "rules", "rules"):
        _validate_policy_rule(errs, rule, namespaced, rpath)
    aggregation = obj.get("aggregationRule")
    if not namespaced and isinstance(aggregation, dict):
        selectors = _items(errs, aggregation, "clusterRoleSelectors", "aggregationRule.clusterRoleSelectors")
        if not selectors:
            errs.required("aggregationRule.clusterRoleSelectors", "at least one clusterRoleSelector required if "
                          "aggregationRule is non-nil")
        for _, sel, spath in selectors:
            validate_label_selector(errs, sel, spath)
            try:
                from_label_selector(sel)
            except SelectorError:
                errs.invalid(spath, go_label_selector(sel), "invalid label selector.")


def _go_role_ref(ref: Mapping) -> GoValue:
    return GoValue(f"rbac.RoleRef{{APIGroup:{go_quote(str(ref.get('apiGroup', '')))}, "
                   f"Kind:{go_quote(str(ref.get('kind', '')))}, Name:{go_quote(str(ref.get('name', '')))}}}")


def _validate_role_binding(obj: dict, old: dict | None, errs: Errors) -> None:
    namespaced = obj.get("kind") == "RoleBinding"
    validate_object_meta(errs, obj.get("metadata"), namespaced, is_valid_path_segment_name)
    ref = _obj(errs, obj, "roleRef", "roleRef") or {}
    if ref.get("apiGroup") != RBAC_GROUP:
        errs.not_supported("roleRef.apiGroup", ref.get("apiGroup") or "", (RBAC_GROUP,))
    kinds = ("Role", "ClusterRole") if namespaced else ("ClusterRole",)
    if ref.get("kind") not in kinds:
        errs.not_supported("roleRef.kind", ref.get("kind") or "", kinds)
    ref_name = str(ref.get("name") or "")
    if not ref_name:
        errs.required("roleRef.name")
    else:
        for msg in is_valid_path_segment_name(ref_name):
            errs.invalid("roleRef.name", ref_name, msg)
    for _, subject, spath in _items(errs, obj, "subjects", "subjects"):
        name = str(subject.get("name") or "")
        if not name:
            errs.required(child(spath, "name"))
        kind, group = subject.get("kind"), subject.get("apiGroup") or ""
        if kind == "ServiceAccount":
            for msg in name_is_dns_subdomain(name, False) if name else []:
                errs.invalid(child(spath, "name"), name, msg)
            if group:
                errs.not_supported(child(spath, "apiGroup"), group, ("",))
            if not namespaced and not subject.get("namespace"):
                errs.required(child(spath, "namespace"))
        elif kind in ("User", "Group"):
            if group != RBAC_GROUP:
                errs.not_supported(child(spath, "apiGroup"), group, (RBAC_GROUP,))
        else:
            errs.not_supported(child(spath, "kind"), kind or "", ("ServiceAccount", "User", "Group"))
    if old is not None:
        validate_object_meta_update(errs, obj.get("metadata"), old.get("metadata"))
        old_ref = old.get("roleRef") if isinstance(old.get("roleRef"), dict) else {}
        if any((ref.get(f) or "") != (old_ref.get(f) or "") for f in ("apiGroup", "kind", "name")):
            errs.invalid("roleRef", _go_role_ref(ref), "cannot change roleRef")


def _validate_lease(obj: dict, old: dict | None, errs: Errors) -> None:
    _workload_meta(errs, obj, old, name_is_dns_subdomain)
    spec = obj.get("spec") if isinstance(obj.get("spec"), dict) else {}
    duration = _int(errs, spec, "leaseDurationSeconds", "spec.leaseDurationSeconds")
    if duration is not None and duration <= 0:
        errs.invalid("spec.leaseDurationSeconds", duration, "must be greater than 0")
    transitions = _int(errs, spec, "leaseTransitions", "spec.leaseTransitions")
    if transitions is not None and transitions < 0:
        errs.invalid("spec.leaseTransitions", transitions, "must be greater than or equal to 0")


def _validate_endpoint_slice(obj: dict, old: dict | None, errs: Errors) -> None:
    _workload_meta(errs, obj, old, name_is_dns_subdomain)
    address_type = obj.get("addressType") or ""
    if not address_type:
        errs.required("addressType")
    elif address_type not in ("FQDN", "IPv4", "IPv6"):
        errs.not_supported("addressType", address_type, ("FQDN", "IPv4", "IPv6"))
    for _, endpoint, epath in _items(errs, obj, "endpoints", "endpoints"):
        addresses = _arr(errs, endpoint, "addresses", child(epath, "addresses"))
        if not addresses:
            errs.required(child(epath, "addresses"), "must contain at least 1 address")
        for i, address in enumerate(addresses):
            apath = index(child(epath, "addresses"), i)
            if address_type == "IPv4":
                try:
                    ipaddress.IPv4Address(str(address))
                except ValueError:
                    errs.invalid(apath, address, "must be a valid IPv4 address")
            elif address_type == "IPv6":
                try:
                    ipaddress.IPv6Address(str(address))
                except ValueError:
                    errs.invalid(apath, address, "must be a valid IPv6 address")
            elif address_type == "FQDN":
                for msg in is_dns1123_subdomain(str(address).removesuffix(".")):
                    errs.invalid(apath, address, msg)
        hostname = endpoint.get("hostname")
        for msg in is_dns1123_label(hostname) if isinstance(hostname, str) else []:
            errs.invalid(child(epath, "hostname"), hostname, msg)
    names: set[str] = set()
    for _, port, ppath in _items(errs, obj, "ports", "ports"):
        name = port.get("name")
        if name is None:
            errs.required(child(ppath, "name"))
        else:
            for msg in is_dns1123_label(name) if name else []:
                errs.invalid(child(ppath, "name"), name, msg)
            if name in names:
                errs.duplicate(child(ppath, "name"), name)
            names.add(name)
        if port.get("protocol") is None:
            errs.required(child(ppath, "protocol"))
        elif port["protocol"] not in ("SCTP", "TCP", "UDP"):
            errs.not_supported(child(ppath, "protocol"), port["protocol"], ("SCTP", "TCP", "UDP"))


def _validate_network_policy_port(errs: Errors, port: dict, path: str) -> None:
    protocol = port.get("protocol")
    if protocol is not None and protocol not in ("TCP", "UDP", "SCTP"):
        errs.not_supported(child(path, "protocol"), protocol, ("TCP", "UDP", "SCTP"))
    number, end_port = port.get("port"), port.get("endPort")
    if number is not None:
        if isinstance(number, int) and not isinstance(number, bool):
            for msg in is_valid_port_num(number):
                errs.invalid(child(path, "port"), number, msg)
            if end_port is not None:
                if end_port < number:
                    errs.invalid(child(path, "endPort"), number, "must be greater than or equal to `port`")
                for msg in is_valid_port_num(end_port):
                    errs.invalid(child(path, "endPort"), end_port, msg)
        else:
            if end_port is not None:
                errs.invalid(child(path, "endPort"), end_port, "may not be specified when `port` is non-numeric")
            for msg in is_valid_port_name(str(number)):
                errs.invalid(child(path, "port"), number, msg)
    elif end_port is not None:
        errs.invalid(child(path, "endPort"), end_port, "may not be specified when `port` is not specified")


def _validate_network_policy_peer(errs: Errors, peer: dict, path: str) -> None:
    peers = 0
    for selector in ("podSelector", "namespaceSelector"):
        if peer.get(selector) is not None:
            peers += 1
            validate_label_selector(errs, peer[selector], child(path, selector))
    block = peer.get("ipBlock")
    if block is not None:
        peers += 1
        bpath = child(path, "ipBlock")
        cidr = str((block or {}).get("cidr") or "")
        if not cidr:
            errs.required(child(bpath, "cidr"))
        else:
            _cidr_errors(errs, child(bpath, "cidr"), cidr)
            if _is_cidr(cidr):
                outer = ipaddress.ip_network(cidr, strict=False)
                for i, except_cidr in enumerate((block or {}).get("except") or []):
                    epath = index(child(bpath, "except"), i)
                    _cidr_errors(errs, epath, str(except_cidr))
                    if _is_cidr(str(except_cidr)):
                        inner = ipaddress.ip_network(str(except_cidr), strict=False)
                        if inner.version != outer.version or not inner.subnet_of(outer) or inner.prefixlen <= outer.prefixlen:  # type: ignore[arg-type]
                            errs.invalid(epath, except_cidr, "must be a strict subset of `cidr`")
    if peers == 0:
        errs.required(path, "must specify a peer")
    elif peers > 1 and block is not None:
        errs.forbidden(path, "may not specify both ipBlock and another peer")


def _validate_network_policy(obj: dict, old: dict | None, errs: Errors) -> None:
    _workload_meta(errs, obj, old, name_is_dns_subdomain)
    spec = _spec(errs, obj)
    validate_label_selector(errs, spec.get("podSelector") if spec.get("podSelector") is not None else {}, "spec.podSelector")
    for direction, peer_key in (("ingress", "from"), ("egress", "to")):
        for _, rule, rpath in _items(errs, spec, direction, f"spec.{direction}"):
            for _, port, ppath in _items(errs, rule, "ports", child(rpath, "ports")):
                _validate_network_policy_port(errs, port, ppath)
            for _, peer, ppath in _items(errs, rule, peer_key, child(rpath, peer_key)):
                _validate_network_policy_peer(errs, peer, ppath)
    types = spec.get("policyTypes") or []
    if len(types) > 2:
        errs.invalid("spec.policyTypes", types, "may not specify more than two policyTypes")
        return
    for i, ptype in enumerate(types):
        if ptype not in ("Ingress", "Egress"):
            errs.not_supported(index("spec.policyTypes", i), ptype, ("Ingress", "Egress"))


def _validate_storage_class(obj: dict, old: dict | None, errs: Errors) -> None:
    if old is not None:
        validate_object_meta_update(errs, obj.get("metadata"), old.get("metadata"))
        if (obj.get("parameters") or {}) != (old.get("parameters") or {}):
            errs.forbidden("parameters", "updates to parameters are forbidden.")
        if obj.get("provisioner") != old.get("provisioner"):
            errs.forbidden("provisioner", "updates to provisioner are forbidden.")
        if obj.get("reclaimPolicy") != old.get("reclaimPolicy"):
            errs.forbidden("reclaimPolicy", "updates to reclaimPolicy are forbidden.")
        if obj.get("volumeBindingMode") != old.get("volumeBindingMode"):
            errs.invalid("volumeBindingMode", obj.get("volumeBindingMode"), "field is immutable")
        return
    validate_object_meta(errs, obj.get("metadata"), False, name_is_dns_subdomain)
    provisioner = _str(errs, obj, "provisioner", "provisioner")
    if not provisioner:
        errs.required("provisioner")
    else:
        for msg in is_label_key(provisioner.lower()):
            errs.invalid("provisioner", provisioner.lower(), msg)
    parameters = obj.get("parameters") or {}
    if len(parameters) > 512:
        errs.too_long("parameters", 512)
    policy = obj.get("reclaimPolicy")
    if policy and policy not in ("Delete", "Retain"):
        errs.not_supported("reclaimPolicy", policy, ("Delete", "Retain"))
    mode = obj.get("volumeBindingMode")
    if mode is None:
        errs.required("volumeBindingMode")
    elif mode not in ("Immediate", "WaitForFirstConsumer"):
        errs.not_supported("volumeBindingMode", mode, ("Immediate", "WaitForFirstConsumer"))


_METRIC_TYPES = ("ContainerResource", "External", "Object", "Pods", "Resource")


def _validate_metric_target(errs: Errors, target: Any, path: str) -> None:
    target = target if isinstance(target, dict) else {}
    ttype = target.get("type") or ""
    if not ttype:
        errs.required(child(path, "type"), "must specify a metric target type")
    if ttype not in ("Utilization", "Value", "AverageValue"):
        errs.invalid(child(path, "type"), ttype, "must be either Utilization, Value, or AverageValue")
    for field_name in ("value", "averageValue"):
        if target.get(field_name) is not None:
            q = parse_resource_quantity(errs, target[field_name], child(path, field_name))
            if q is not None and q.sign() != 1:
                errs.invalid(child(path, field_name), GoValue(str(q)), "must be positive")
    utilization = target.get("averageUtilization")
    if utilization is not None and utilization < 1:
        errs.invalid(child(path, "averageUtilization"), utilization, "must be greater than 0")


def _validate_hpa(obj: dict, old: dict | None, errs: Errors) -> None:
    _workload_meta(errs, obj, old, name_is_dns_subdomain)
    spec = _spec(errs, obj)
    minimum = _int(errs, spec, "minReplicas", "spec.minReplicas")
    maximum = _int(errs, spec, "maxReplicas", "spec.maxReplicas") or 0
    if minimum is not None and minimum < 1:
        errs.invalid("spec.minReplicas", minimum, "must be greater than or equal to 1")
    if maximum < 1:
        errs.invalid("spec.maxReplicas", maximum, "must be greater than 0")
    if minimum is not None and maximum < minimum:
        errs.invalid("spec.maxReplicas", maximum, "must be greater than or equal to `minReplicas`")
    ref = _obj(errs, spec, "scaleTargetRef", "spec.scaleTargetRef") or {}
    for field_name in ("kind", "name"):
        value = str(ref.get(field_name) or "")
        if not value:
            errs.required(f"spec.scaleTargetRef.{field_name}")
        else:
            for msg in is_valid_path_segment_name(value):
                errs.invalid(f"spec.scaleTargetRef.{field_name}", value, msg)
    for _, metric, mpath in _items(errs, spec, "metrics", "spec.metrics"):
        mtype = metric.get("type") or ""
        if not mtype:
            errs.required(child(mpath, "type"), "must specify a metric source type")
        if mtype not in _METRIC_TYPES:
            errs.not_supported(child(mpath, "type"), mtype, _METRIC_TYPES)
            continue
        field_name = mtype[0].lower() + mtype[1:]
        source = metric.get(field_name)
        if not isinstance(source, dict):
            errs.required(child(mpath, field_name), "must populate information for the given metric source")
            continue
        spath = child(mpath, field_name)
        if mtype in ("Resource", "ContainerResource"):
            if not source.get("name"):
                errs.required(child(spath, "name"), "must specify a resource name")
            target = source.get("target") if isinstance(source.get("target"), dict) else {}
            _validate_metric_target(errs, target, child(spath, "target"))
            if target.get("averageUtilization") is None and target.get("averageValue") is None:
                errs.required(child(child(spath, "target"), "averageUtilization"),
                              "must set either a target raw value or a target utilization")
            if target.get("averageUtilization") is not None and target.get("averageValue") is not None:
                errs.forbidden(child(child(spath, "target"), "averageValue"),
                               "may not set both a target raw value and a target utilization")
        else:
            _validate_metric_target(errs, source.get("target"), child(spath, "target"))


# -- the types a decoder would enforce ---------------------------------------------------
#
# The real API server decodes JSON into Go structs before it validates, so a field of the
# wrong JSON type never reaches validation (it is a 400). The engine has no typed decoder,
# so this table plays its part: a value of the wrong type is reported as FieldValueTypeInvalid
# and removed from the copy the kind's checks see. Fields not listed are not type-checked.

_S, _I, _B, _N, _Q, _IOS, _ANY = "string", "integer", "boolean", "number", "quantity", "intOrString", "any"


def _L(item: Any) -> tuple:
    return ("list", item)


def _M(value: Any) -> tuple:
    return ("map", value)


_SM, _QM, _SL = _M(_S), _M(_Q), _L(_S)
_OBJECT_META = {"name": _S, "generateName": _S, "namespace": _S, "uid": _S, "resourceVersion": _S, "generation": _I,
                "creationTimestamp": _S, "deletionTimestamp": _S, "deletionGracePeriodSeconds": _I, "labels": _SM,
                "annotations": _SM, "finalizers": _SL,
                "ownerReferences": _L({"apiVersion": _S, "kind": _S, "name": _S, "uid": _S, "controller": _B,
                                       "blockOwnerDeletion": _B})}
_LABEL_SELECTOR = {"matchLabels": _SM, "matchExpressions": _L({"key": _S, "operator": _S, "values": _SL})}
_HTTP_GET = {"path": _S, "port": _IOS, "host": _S, "scheme": _S, "httpHeaders": _L({"name": _S, "value": _S})}
_HANDLER = {"exec": {"command": _SL}, "httpGet": _HTTP_GET, "tcpSocket": {"port": _IOS, "host": _S},
            "sleep": {"seconds": _I}}
_PROBE = {"exec": {"command": _SL}, "httpGet": _HTTP_GET, "tcpSocket": {"port": _IOS, "host": _S},
          "grpc": {"port": _I, "service": _S}, "initialDelaySeconds": _I, "timeoutSeconds": _I, "periodSeconds": _I,
          "successThreshold": _I, "failureThreshold": _I, "terminationGracePeriodSeconds": _I}
_KEY_REF = {"name": _S, "key": _S, "optional": _B}
_CONTAINER = {
    "name": _S, "image": _S, "command": _SL, "args": _SL, "workingDir": _S,
    "ports": _L({"name": _S, "containerPort": _I, "hostPort": _I, "protocol": _S, "hostIP": _S}),
    "env": _L({"name": _S, "value": _S, "valueFrom": {
        "fieldRef": {"apiVersion": _S, "fieldPath": _S}, "configMapKeyRef": _KEY_REF, "secretKeyRef": _KEY_REF,
        "resourceFieldRef": {"containerName": _S, "resource": _S, "divisor": _Q}}}),
    "envFrom": _L({"prefix": _S, "configMapRef": {"name": _S, "optional": _B}, "secretRef": {"name": _S, "optional": _B}}),
    "resources": {"limits": _QM, "requests": _QM}, "volumeMounts": _L({"name": _S, "mountPath": _S, "subPath": _S,
                                                                       "readOnly": _B}),
    "livenessProbe": _PROBE, "readinessProbe": _PROBE, "startupProbe": _PROBE,
    "lifecycle": {"postStart": _HANDLER, "preStop": _HANDLER}, "terminationMessagePath": _S,
    "terminationMessagePolicy": _S, "imagePullPolicy": _S, "restartPolicy": _S, "stdin": _B, "tty": _B,
    "securityContext": {"runAsUser": _I, "runAsGroup": _I, "privileged": _B, "allowPrivilegeEscalation": _B,
                        "runAsNonRoot": _B, "readOnlyRootFilesystem": _B},
}
_KEY_TO_PATH = _L({"key": _S, "path": _S, "mode": _I})
_PVC_SPEC = {"accessModes": _SL, "selector": _LABEL_SELECTOR, "resources": {"requests": _QM, "limits": _QM},
             "volumeName": _S, "storageClassName": _S, "volumeMode": _S}
_VOLUME = {"name": _S, "emptyDir": {"medium": _S, "sizeLimit": _Q}, "hostPath": {"path": _S, "type": _S},
           "secret": {"secretName": _S, "defaultMode": _I, "items": _KEY_TO_PATH, "optional": _B},
           "configMap": {"name": _S, "defaultMode": _I, "items": _KEY_TO_PATH, "optional": _B},
           "persistentVolumeClaim": {"claimName": _S, "readOnly": _B}, "nfs": {"server": _S, "path": _S, "readOnly": _B},
           "downwardAPI": {"defaultMode": _I, "items": _L({"path": _S, "mode": _I, "fieldRef": {"apiVersion": _S,
                                                                                             "fieldPath": _S}})},
           "projected": {"defaultMode": _I, "sources": _L({"serviceAccountToken": {"audience": _S,
                                                                                   "expirationSeconds": _I, "path": _S}})},
           "ephemeral": {"volumeClaimTemplate": {"metadata": _OBJECT_META, "spec": _PVC_SPEC}}}
for _source in ("gitRepo", "gcePersistentDisk", "awsElasticBlockStore", "iscsi", "glusterfs", "flocker", "rbd", "cinder",
                "cephfs", "quobyte", "fc", "flexVolume", "azureFile", "vsphereVolume", "photonPersistentDisk",
                "portworxVolume", "azureDisk", "storageos", "scaleIO", "csi", "image"):
    _VOLUME[_source] = {}
_NODE_SELECTOR_REQUIREMENT = {"key": _S, "operator": _S, "values": _SL}
_POD_AFFINITY_TERM = {"labelSelector": _LABEL_SELECTOR, "namespaceSelector": _LABEL_SELECTOR, "topologyKey": _S,
                      "namespaces": _SL}
_POD_AFFINITY = {"requiredDuringSchedulingIgnoredDuringExecution": _L(_POD_AFFINITY_TERM),
                 "preferredDuringSchedulingIgnoredDuringExecution": _L({"weight": _I,
                                                                        "podAffinityTerm": _POD_AFFINITY_TERM})}
_POD_SPEC = {
    "containers": _L(_CONTAINER), "initContainers": _L(_CONTAINER), "ephemeralContainers": _L(_CONTAINER),
    "volumes": _L(_VOLUME), "restartPolicy": _S, "terminationGracePeriodSeconds": _I, "activeDeadlineSeconds": _I,
    "dnsPolicy": _S, "nodeSelector": _SM, "serviceAccountName": _S, "serviceAccount": _S, "nodeName": _S,
    "hostNetwork": _B, "hostPID": _B, "hostIPC": _B, "hostname": _S, "subdomain": _S, "schedulerName": _S,
    "priorityClassName": _S, "priority": _I, "preemptionPolicy": _S, "enableServiceLinks": _B, "overhead": _QM,
    "securityContext": {"runAsUser": _I, "runAsGroup": _I, "fsGroup": _I, "runAsNonRoot": _B,
                        "supplementalGroups": _L(_I)},
    "imagePullSecrets": _L({"name": _S}),
    "tolerations": _L({"key": _S, "operator": _S, "value": _S, "effect": _S, "tolerationSeconds": _I}),
    "affinity": {"nodeAffinity": {
        "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": _L({
            "matchExpressions": _L(_NODE_SELECTOR_REQUIREMENT), "matchFields": _L(_NODE_SELECTOR_REQUIREMENT)})},
        "preferredDuringSchedulingIgnoredDuringExecution": _L({"weight": _I, "preference": {
            "matchExpressions": _L(_NODE_SELECTOR_REQUIREMENT), "matchFields": _L(_NODE_SELECTOR_REQUIREMENT)}})},
        "podAffinity": _POD_AFFINITY, "podAntiAffinity": _POD_AFFINITY},
    "dnsConfig": {"nameservers": _SL, "searches": _SL, "options": _L({"name": _S, "value": _S})},
    "topologySpreadConstraints": _L({"maxSkew": _I, "topologyKey": _S, "whenUnsatisfiable": _S,
                                     "labelSelector": _LABEL_SELECTOR, "minDomains": _I}),
    "os": {"name": _S},
}
_POD_TEMPLATE = {"metadata": _OBJECT_META, "spec": _POD_SPEC}
_ROLLING = {"maxSurge": _IOS, "maxUnavailable": _IOS, "partition": _I}
_JOB_SPEC = {"parallelism": _I, "completions": _I, "activeDeadlineSeconds": _I, "backoffLimit": _I,
             "backoffLimitPerIndex": _I, "maxFailedIndexes": _I, "selector": _LABEL_SELECTOR, "manualSelector": _B,
             "template": _POD_TEMPLATE, "ttlSecondsAfterFinished": _I, "completionMode": _S, "suspend": _B,
             "podReplacementPolicy": _S, "managedBy": _S}
_METRIC_TARGET = {"type": _S, "value": _Q, "averageValue": _Q, "averageUtilization": _I}
_NETWORK_POLICY_PEER = {"podSelector": _LABEL_SELECTOR, "namespaceSelector": _LABEL_SELECTOR,
                        "ipBlock": {"cidr": _S, "except": _SL}}
_NETWORK_POLICY_PORT = {"protocol": _S, "port": _IOS, "endPort": _I}
_PVC = {"metadata": _OBJECT_META, "spec": _PVC_SPEC}

_KIND_SCHEMAS: dict[str, dict] = {
    "Pod": {"spec": _POD_SPEC},
    "Deployment": {"spec": {"replicas": _I, "selector": _LABEL_SELECTOR, "template": _POD_TEMPLATE,
                            "strategy": {"type": _S, "rollingUpdate": _ROLLING}, "minReadySeconds": _I,
                            "revisionHistoryLimit": _I, "progressDeadlineSeconds": _I, "paused": _B}},
    "ReplicaSet": {"spec": {"replicas": _I, "selector": _LABEL_SELECTOR, "template": _POD_TEMPLATE,
                            "minReadySeconds": _I}},
    "DaemonSet": {"spec": {"selector": _LABEL_SELECTOR, "template": _POD_TEMPLATE, "minReadySeconds": _I,
                           "updateStrategy": {"type": _S, "rollingUpdate": _ROLLING}, "revisionHistoryLimit": _I}},
    "StatefulSet": {"spec": {"replicas": _I, "selector": _LABEL_SELECTOR, "template": _POD_TEMPLATE, "serviceName": _S,
                             "podManagementPolicy": _S, "updateStrategy": {"type": _S, "rollingUpdate": _ROLLING},
                             "volumeClaimTemplates": _L(_PVC), "revisionHistoryLimit": _I, "minReadySeconds": _I,
                             "persistentVolumeClaimRetentionPolicy": {"whenDeleted": _S, "whenScaled": _S},
                             "ordinals": {"start": _I}}},
    "Job": {"spec": _JOB_SPEC},
    "CronJob": {"spec": {"schedule": _S, "timeZone": _S, "startingDeadlineSeconds": _I, "concurrencyPolicy": _S,
                         "suspend": _B, "jobTemplate": {"metadata": _OBJECT_META, "spec": _JOB_SPEC},
                         "successfulJobsHistoryLimit": _I, "failedJobsHistoryLimit": _I}},
    "Service": {"spec": {"ports": _L({"name": _S, "protocol": _S, "appProtocol": _S, "port": _I, "targetPort": _IOS,
                                      "nodePort": _I}),
                         "selector": _SM, "clusterIP": _S, "clusterIPs": _SL, "type": _S, "externalIPs": _SL,
                         "sessionAffinity": _S, "loadBalancerIP": _S, "loadBalancerSourceRanges": _SL,
                         "externalName": _S, "externalTrafficPolicy": _S, "healthCheckNodePort": _I,
                         "publishNotReadyAddresses": _B, "sessionAffinityConfig": {"clientIP": {"timeoutSeconds": _I}},
                         "ipFamilies": _SL, "ipFamilyPolicy": _S, "allocateLoadBalancerNodePorts": _B,
                         "loadBalancerClass": _S, "internalTrafficPolicy": _S}},
    "ConfigMap": {"data": _SM, "binaryData": _SM, "immutable": _B},
    "Secret": {"data": _SM, "stringData": _SM, "type": _S, "immutable": _B},
    "Namespace": {"spec": {"finalizers": _SL}, "status": {"phase": _S}},
    "Node": {"spec": {"podCIDR": _S, "podCIDRs": _SL, "providerID": _S, "unschedulable": _B,
                      "taints": _L({"key": _S, "value": _S, "effect": _S, "timeAdded": _S})},
             "status": {"capacity": _QM, "allocatable": _QM}},
    "PersistentVolume": {"spec": {"capacity": _QM, "accessModes": _SL, "persistentVolumeReclaimPolicy": _S,
                                  "storageClassName": _S, "volumeMode": _S, "hostPath": {"path": _S, "type": _S},
                                  "nfs": {"server": _S, "path": _S}, "local": {"path": _S}}},
    "PersistentVolumeClaim": {"spec": _PVC_SPEC},
    "LimitRange": {"spec": {"limits": _L({"type": _S, "max": _QM, "min": _QM, "default": _QM, "defaultRequest": _QM,
                                          "maxLimitRequestRatio": _QM})}},
    "ResourceQuota": {"spec": {"hard": _QM, "scopes": _SL}},
    "Endpoints": {"subsets": _L({"addresses": _L({"ip": _S, "hostname": _S, "nodeName": _S}),
                                 "notReadyAddresses": _L({"ip": _S, "hostname": _S, "nodeName": _S}),
                                 "ports": _L({"name": _S, "port": _I, "protocol": _S})})},
    "Event": {"involvedObject": {"kind": _S, "namespace": _S, "name": _S, "uid": _S}, "reason": _S, "message": _S,
              "type": _S, "count": _I, "source": {"component": _S, "host": _S}},
    "ControllerRevision": {"revision": _I},
    "Role": {"rules": _L({"apiGroups": _SL, "resources": _SL, "verbs": _SL, "resourceNames": _SL,
                          "nonResourceURLs": _SL})},
    "RoleBinding": {"roleRef": {"apiGroup": _S, "kind": _S, "name": _S},
                    "subjects": _L({"kind": _S, "apiGroup": _S, "name": _S, "namespace": _S})},
    "Lease": {"spec": {"holderIdentity": _S, "leaseDurationSeconds": _I, "acquireTime": _S, "renewTime": _S,
                       "leaseTransitions": _I}},
    "EndpointSlice": {"addressType": _S, "endpoints": _L({"addresses": _SL, "hostname": _S, "nodeName": _S, "zone": _S,
                                                          "conditions": {"ready": _B, "serving": _B,
                                                                         "terminating": _B}}),
                      "ports": _L({"name": _S, "protocol": _S, "port": _I, "appProtocol": _S})},
    "NetworkPolicy": {"spec": {"podSelector": _LABEL_SELECTOR, "policyTypes": _SL,
                               "ingress": _L({"from": _L(_NETWORK_POLICY_PEER), "ports": _L(_NETWORK_POLICY_PORT)}),
                               "egress": _L({"to": _L(_NETWORK_POLICY_PEER), "ports": _L(_NETWORK_POLICY_PORT)})}},
    "StorageClass": {"provisioner": _S, "parameters": _SM, "reclaimPolicy": _S, "volumeBindingMode": _S,
                     "allowVolumeExpansion": _B, "mountOptions": _SL},
    "HorizontalPodAutoscaler": {"spec": {
        "scaleTargetRef": {"apiVersion": _S, "kind": _S, "name": _S}, "minReplicas": _I, "maxReplicas": _I,
        "metrics": _L({"type": _S, "resource": {"name": _S, "target": _METRIC_TARGET},
                       "containerResource": {"name": _S, "container": _S, "target": _METRIC_TARGET},
                       "pods": {"target": _METRIC_TARGET}, "object": {"target": _METRIC_TARGET},
                       "external": {"target": _METRIC_TARGET}})}},
}
_KIND_SCHEMAS["ClusterRole"] = dict(_KIND_SCHEMAS["Role"], aggregationRule={
    "clusterRoleSelectors": _L(_LABEL_SELECTOR)})
_KIND_SCHEMAS["ClusterRoleBinding"] = _KIND_SCHEMAS["RoleBinding"]
_TYPE_NAMES = {_S: "string", _I: "integer", _B: "boolean", _N: "number", _Q: "string", _IOS: "integer or string"}


def _scalar(value: Any, kind: str) -> tuple[bool, Any]:
    if kind == _ANY:
        return True, value
    is_int = isinstance(value, int) and not isinstance(value, bool)
    whole = isinstance(value, float) and value.is_integer()
    if kind == _S:
        return isinstance(value, str), value
    if kind == _B:
        return isinstance(value, bool), value
    if kind in (_I, _IOS):
        if is_int or whole:
            return True, int(value)
        return kind == _IOS and isinstance(value, str), value
    if kind in (_N, _Q):
        return (is_int or isinstance(value, float) or (kind == _Q and isinstance(value, str))), value
    return True, value


def _typed(value: Any, schema: Any, path: str, errs: Errors) -> tuple[bool, Any]:
    """(ok, cleaned copy): wrong types are reported and left out of the copy."""
    if isinstance(schema, dict):
        if not isinstance(value, Mapping):
            errs.type_invalid(path, value, "object")
            return False, None
        out = {}
        for name, item in value.items():
            if item is None:
                continue  # JSON null: the zero value, as if absent
            sub = schema.get(name) if isinstance(name, str) else None
            if sub is None:
                out[name] = item
                continue
            ok, cleaned = _typed(item, sub, child(path, name), errs)
            if ok:
                out[name] = cleaned
        return True, out
    if isinstance(schema, tuple):
        container, sub = schema
        if container == "list":
            if not isinstance(value, list):
                errs.type_invalid(path, value, "array")
                return False, None
            items = []
            for i, item in enumerate(value):
                ok, cleaned = (True, None) if item is None else _typed(item, sub, index(path, i), errs)
                items.append(cleaned if ok else None)
            return True, items
        if not isinstance(value, Mapping):
            errs.type_invalid(path, value, "object")
            return False, None
        out = {}
        for name, item in value.items():
            ok, cleaned = _typed(item, sub, key(path, str(name)), errs)
            if ok and isinstance(name, str):
                out[name] = cleaned
        return True, out
    ok, cleaned = _scalar(value, schema)
    if not ok:
        errs.type_invalid(path, value, _TYPE_NAMES.get(schema, schema))
    return ok, cleaned


def _cleaned(obj: Mapping[str, Any], kind: str, errs: Errors) -> dict:
    schema = {"apiVersion": _S, "kind": _S, "metadata": _OBJECT_META, **_KIND_SCHEMAS.get(kind, {})}
    return _typed(obj, schema, "", errs)[1]


# -- dispatch ---------------------------------------------------------------------------

_Validator = Callable[[dict, "dict | None", Errors], None]
_VALIDATORS: dict[str, _Validator] = {
    "Pod": _validate_pod,
    "Deployment": _validate_deployment,
    "ReplicaSet": _validate_replica_set,
    "StatefulSet": _validate_stateful_set,
    "DaemonSet": _validate_daemon_set,
    "Job": _validate_job,
    "CronJob": _validate_cron_job,
    "Namespace": _validate_namespace,
    "Node": _validate_node,
    "ConfigMap": _validate_config_map,
    "Secret": _validate_secret,
    "PersistentVolume": _validate_pv,
    "PersistentVolumeClaim": _validate_pvc,
    "LimitRange": _validate_limit_range,
    "ResourceQuota": _validate_resource_quota,
    "Endpoints": _validate_endpoints,
    "ServiceAccount": _validate_service_account,
    "Event": _validate_event,
    "ControllerRevision": _validate_controller_revision,
    "Role": _validate_role,
    "ClusterRole": _validate_role,
    "RoleBinding": _validate_role_binding,
    "ClusterRoleBinding": _validate_role_binding,
    "Lease": _validate_lease,
    "EndpointSlice": _validate_endpoint_slice,
    "NetworkPolicy": _validate_network_policy,
    "StorageClass": _validate_storage_class,
    "HorizontalPodAutoscaler": _validate_hpa,
}


def validate(obj: Mapping[str, Any], old: Mapping[str, Any] | None = None, *,
             node_port_range: tuple[int, int] = (30000, 32767)) -> list[Cause]:
    """The causes the API server would give for creating ``obj`` (or updating ``old`` to ``obj``).

    An empty list means the object is valid. Unknown kinds get the metadata
    checks every object gets (a DNS subdomain name, valid labels and annotations).
    ``node_port_range`` is the API server's ``--service-node-port-range``.
    Never raises on malformed input: wrong JSON types become causes.
    """
    errs = Errors()
    if not isinstance(obj, Mapping):
        errs.type_invalid("", obj, "object")
        return list(errs)
    kind = obj.get("kind") if isinstance(obj.get("kind"), str) else ""
    clean = _cleaned(obj, kind, errs)
    clean_old = _cleaned(old, kind, Errors()) if isinstance(old, Mapping) else None
    if kind == "Service":
        _validate_service(clean, clean_old, errs, node_port_range)
        return list(errs)
    validator = _VALIDATORS.get(kind)
    if validator is not None:
        validator(clean, clean_old, errs)
    else:
        from engine.api.kinds import REGISTRY
        found = REGISTRY.find(kind) if kind else None
        namespaced = found.namespaced if found is not None else bool((clean.get("metadata") or {}).get("namespace"))
        _workload_meta(errs, clean, clean_old, name_is_dns_subdomain, namespaced)
    return list(errs)


# -- intstr.GetScaledValueFromIntOrPercent ----------------------------------------------------

def int_or_percent(value: int | str | None, total: int, round_up: bool) -> int:
    """An IntOrString as a number: ints as they are, ``"25%"`` of ``total`` rounded up or down.

    Exactly Go's ``intstr.GetScaledValueFromIntOrPercent``, with its errors as ``ValueError``.
    """
    if value is None:
        raise ValueError("nil value for IntOrString")
    if isinstance(value, bool):
        raise ValueError("invalid value for IntOrString: invalid type: neither int nor percentage")
    if isinstance(value, int):
        return value
    if not isinstance(value, str):
        raise ValueError("invalid value for IntOrString: invalid type: neither int nor percentage")
    if not value.endswith("%"):
        raise ValueError("invalid value for IntOrString: invalid type: string is not a percentage")
    digits = value[:-1]
    if not re.fullmatch(r"[+-]?[0-9]+", digits):
        raise ValueError(f'invalid value for IntOrString: invalid value "{value}": strconv.Atoi: parsing '
                         f'{go_quote(digits)}: invalid syntax')
    percent = int(digits)
    scaled = percent * total
    return -((-scaled) // 100) if round_up else scaled // 100


# -- cron schedules (github.com/robfig/cron/v3, ParseStandard) -----------------------------

_CRON_BOUNDS = ((0, 59, None), (0, 23, None), (1, 31, None),
                (1, 12, {n: i + 1 for i, n in enumerate(
                    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"))}),
                (0, 6, {n: i for i, n in enumerate(("sun", "mon", "tue", "wed", "thu", "fri", "sat"))}))
_DESCRIPTORS = {"@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *", "@weekly": "0 0 * * 0",
                "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *"}


class CronSchedule:
    """A parsed five-field schedule: the sets of minutes, hours, days of month, months and weekdays."""

    def __init__(self, minutes: frozenset[int], hours: frozenset[int], days: frozenset[int], months: frozenset[int],
                 weekdays: frozenset[int], day_star: bool, weekday_star: bool, every: float | None = None) -> None:
        self.minutes, self.hours, self.days, self.months, self.weekdays = minutes, hours, days, months, weekdays
        self.day_star, self.weekday_star, self.every = day_star, weekday_star, every

    def matches(self, minute: int, hour: int, day: int, month: int, weekday: int) -> bool:
        """Whether a wall-clock minute is scheduled (weekday 0 is Sunday), as cron's day rule says."""
        if minute not in self.minutes or hour not in self.hours or month not in self.months:
            return False
        day_ok, weekday_ok = day in self.days, weekday in self.weekdays
        if self.day_star or self.weekday_star:
            return day_ok and weekday_ok
        return day_ok or weekday_ok


def _cron_int(expr: str) -> int:
    if not re.fullmatch(r"[+-]?[0-9]+", expr):
        raise ValueError(f"failed to parse int from {expr}: strconv.Atoi: parsing {go_quote(expr)}: invalid syntax")
    number = int(expr)
    if number < 0:
        raise ValueError(f"negative number ({number}) not allowed: {expr}")
    return number


def _cron_range(expr: str, low: int, high: int, names: dict[str, int] | None) -> tuple[set[int], bool]:
    range_and_step = expr.split("/")
    low_and_high = range_and_step[0].split("-")
    star = False
    if low_and_high[0] in ("*", "?"):
        start, end, star = low, high, True
    else:
        def value(text: str) -> int:
            if names and text.lower() in names:
                return names[text.lower()]
            return _cron_int(text)
        start = value(low_and_high[0])
        if len(low_and_high) == 1:
            end = start
        elif len(low_and_high) == 2:
            end = value(low_and_high[1])
        else:
            raise ValueError(f"too many hyphens: {expr}")
    if len(range_and_step) == 1:
        step = 1
    elif len(range_and_step) == 2:
        step = _cron_int(range_and_step[1])
        if len(low_and_high) == 1:
            end = high  # "N/step" means "N-max/step"
        if step > 1:
            star = False
    else:
        raise ValueError(f"too many slashes: {expr}")
    if start < low:
        raise ValueError(f"beginning of range ({start}) below minimum ({low}): {expr}")
    if end > high:
        raise ValueError(f"end of range ({end}) above maximum ({high}): {expr}")
    if start > end:
        raise ValueError(f"beginning of range ({start}) beyond end of range ({end}): {expr}")
    if step == 0:
        raise ValueError(f"step of range should be a positive number: {expr}")
    return set(range(start, end + 1, step)), star


def parse_schedule(schedule: str) -> CronSchedule:
    """Parse a CronJob schedule as ``cron.ParseStandard`` does; errors are its messages, as ``ValueError``."""
    if not schedule:
        raise ValueError("empty spec string")
    spec = schedule
    if spec.startswith("TZ=") or spec.startswith("CRON_TZ="):
        zone, _, spec = spec.partition(" ")
        spec = spec.strip()
    if spec.startswith("@"):
        if spec.startswith("@every "):
            duration = spec[len("@every "):]
            if not re.fullmatch(r"([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+", duration):
                raise ValueError(f"failed to parse duration {spec}: time: invalid duration {go_quote(duration)}")
            return _every(duration)
        if spec not in _DESCRIPTORS:
            raise ValueError(f"unrecognized descriptor: {spec}")
        spec = _DESCRIPTORS[spec]
    fields = spec.split()
    if len(fields) != 5:
        raise ValueError(f"expected exactly 5 fields, found {len(fields)}: [{' '.join(fields)}]")
    sets, stars = [], []
    for text, (low, high, names) in zip(fields, _CRON_BOUNDS):
        values: set[int] = set()
        star_any = False
        for part in text.split(","):
            part_values, star = _cron_range(part, low, high, names)
            values |= part_values
            star_any = star_any or star
        sets.append(frozenset(values))
        stars.append(star_any)
    return CronSchedule(*sets, day_star=stars[2], weekday_star=stars[4])


def _every(duration: str) -> CronSchedule:
    total = 0.0
    for amount, unit in re.findall(r"([0-9]+(?:\.[0-9]+)?)(ns|us|µs|ms|s|m|h)", duration):
        total += float(amount) * {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1, "m": 60, "h": 3600}[unit]
    everything = frozenset
    return CronSchedule(everything(range(60)), everything(range(24)), everything(range(1, 32)),
                        everything(range(1, 13)), everything(range(7)), True, True, every=math.floor(total) or total)
