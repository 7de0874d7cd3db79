"""Configuration: ConfigMap and Secret.

Mirrors ``ValidateConfigMap`` and ``ValidateSecret`` in
``pkg/apis/core/validation``: valid keys, no key in both ``data`` and
``binaryData``, base64 data (a Secret's bad data is reported as
``<secret contents redacted>``), the 1 MiB size limit, the keys each Secret
type requires, and nothing changed once ``immutable`` is set.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from engine.api.validation.fields import Errors, get_object, get_string_map, key
from engine.api.validation.formats import is_config_map_key, name_is_dns_subdomain
from engine.api.validation.meta import validate_object_meta, validate_object_meta_update


def validate_config_map(obj: dict, old: dict | None, errs: Errors) -> None:
    if old is not None:
        validate_object_meta_update(errs, obj.get("metadata"), old.get("metadata"))
        if old.get("immutable") is True:
            if obj.get("immutable") is not True:
                errs.forbidden("immutable", "field is immutable when `immutable` is set")
            for field_name in ("data", "binaryData"):
                if (obj.get(field_name) or {}) != (old.get(field_name) or {}):
                    errs.forbidden(field_name, "field is immutable when `immutable` is set")
    validate_object_meta(errs, obj.get("metadata"), True, name_is_dns_subdomain)
    data = get_string_map(errs, obj, "data", "data") or {}
    binary = get_object(errs, obj, "binaryData", "binaryData") or {}
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


def validate_secret(obj: dict, old: dict | None, errs: Errors) -> None:
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
    data = get_object(errs, obj, "data", "data") or {}
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
