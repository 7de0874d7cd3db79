"""Protobuf request bodies: ``application/vnd.kubernetes.protobuf`` read as kube-apiserver reads it.

client-go's typed clients for built-in kinds may send objects in Kubernetes'
protobuf encoding instead of JSON (kubectl v1.32 does for ``create rolebinding``
and ``create clusterrolebinding``). The body is the four bytes ``k8s\\x00``
followed by a ``runtime.Unknown`` envelope (apimachinery ``pkg/runtime``)::

    message Unknown { TypeMeta typeMeta = 1; bytes raw = 2; string contentEncoding = 3; string contentType = 4; }
    message TypeMeta { string apiVersion = 1; string kind = 2; }

whose ``raw`` is the object's own message (``k8s.io.api.rbac.v1.RoleBinding``).
``decode(body, kind)`` returns the object as the plain dict its JSON would be,
so everything after decoding (defaulting, validation, admission, storage) is
the JSON path's. The reader is generic: the protobuf wire format (varints and
length-delimited fields) walked with the per-message field tables of
``protobuf_messages``; unknown field numbers are skipped, as gogo-protobuf's
generated ``Unmarshal`` skips them. A missing ``apiVersion`` or ``kind`` in the
envelope is taken from the URL, as the serializer's default kind is.

A malformed body is a 400 with the real server's messages (``transformDecodeError``
in k8s.io/apiserver's create handler). Responses are never protobuf: a client
that accepts ``application/vnd.kubernetes.protobuf, application/json`` is
answered in JSON, which content negotiation allows. Pure functions of bytes;
nothing here touches engine state.
"""

from __future__ import annotations

import base64
import json
from datetime import datetime, timezone
from typing import Any, Iterator

from engine.api import errors
from engine.api.kinds import Kind
from engine.apiserver.http.protobuf_messages import BOOL, BYTES, FIELDS, INT, KINDS, MAP, MESSAGES, SCALARS, STRING, \
    TIME, Field

MEDIA_TYPE = "application/vnd.kubernetes.protobuf"
MAGIC = b"k8s\x00"
NOT_PROTOBUF = "provided data does not appear to be a protobuf message, expected prefix [107 56 115 0]"
VARINT, FIXED64, LENGTH, START_GROUP, END_GROUP, FIXED32 = 0, 1, 2, 3, 4, 5
_UNEXPECTED_EOF = "unexpected EOF"


class WireError(ValueError):
    """The bytes are not a well-formed message (gogo-protobuf's ``Unmarshal`` error text)."""


def accepts(kind: Kind) -> bool:
    """Whether a protobuf body of ``kind`` can be decoded here."""
    return (kind.api_version, kind.kind) in KINDS


def decode(body: bytes, kind: Kind) -> dict[str, Any]:
    """The object in a protobuf ``body`` sent to ``kind``'s endpoint, as its JSON dict; 400 when unreadable."""
    if not body.startswith(MAGIC):
        raise errors.bad_request(f"the object provided is unrecognized (must be of type {kind.kind}): "
                                 f"{NOT_PROTOBUF} ({_summary(body)})")
    api_version, sent_kind, raw = kind.api_version, kind.kind, b""
    try:
        for number, _, value in _fields(body[len(MAGIC):], "Unknown"):
            if number == 1:
                meta = {n: v for n, _, v in _fields(_bytes(value), "TypeMeta")}
                api_version = _text(meta.get(1, b"")) or api_version
                sent_kind = _text(meta.get(2, b"")) or sent_kind
            elif number == 2:
                raw = _bytes(value)
    except WireError as error:
        raise errors.bad_request(f"the object provided is unrecognized (must be of type {kind.kind}): {error} "
                                 f"({_summary(body)})") from None
    version = api_version.rsplit("/", 1)[-1]
    message = KINDS.get((api_version, sent_kind))
    try:
        if message is None:
            raise WireError(f'no kind "{sent_kind}" is registered for version "{api_version}" in scheme '
                            '"k8s.io/kubernetes/pkg/api/legacyscheme/scheme.go:30"')
        obj = decode_message(raw, message)
    except WireError as error:
        raise errors.bad_request(f'{sent_kind} in version "{version}" cannot be handled as a {kind.kind}: '
                                 f"{error}") from None
    return {"kind": sent_kind, "apiVersion": api_version, **obj}


def decode_message(data: bytes, message: str) -> dict[str, Any]:
    """One message of ``MESSAGES`` as Go's ``encoding/json`` would write the decoded struct."""
    table = MESSAGES[message]
    found: dict[str, Any] = {}
    short = message.rsplit(".", 1)[-1]
    for number, wire, value in _fields(data, short):
        field = table.get(number)
        if field is None:
            continue
        expected = VARINT if field.type in (INT, BOOL) else LENGTH
        if wire != expected:
            raise WireError(f"proto: wrong wireType = {wire} for field {field.name[:1].upper()}{field.name[1:]}")
        if field.type == MAP:
            entry = {n: v for n, _, v in _fields(_bytes(value), f"{short}.{field.name}Entry")}
            found.setdefault(field.name, {})[_text(entry.get(1, b""))] = _text(entry.get(2, b""))
        elif field.repeated:
            found.setdefault(field.name, []).append(_value(field, value))
        else:
            found[field.name] = _value(field, value)
    return {field.name: found[field.name] if field.name in found else _absent(field)
            for field in table.values() if _written(field, found)}


def _written(field: Field, found: dict[str, Any]) -> bool:
    """Whether Go's JSON of the decoded struct has this field (see ``protobuf_messages``)."""
    if field.pointer:
        return field.name in found
    if field.type in SCALARS and not field.repeated and field.omitempty:
        return bool(found.get(field.name))
    if field.repeated or field.type == MAP:
        return field.name in found or not field.omitempty
    return True                                  # a struct, or a plain value without omitempty


def _absent(field: Field) -> Any:
    """The JSON of a field that was not on the wire: its Go zero value."""
    if field.repeated or field.type in (MAP, TIME):
        return None
    if field.type in MESSAGES:
        return decode_message(b"", field.type)
    return {STRING: "", BYTES: "", INT: 0, BOOL: False}[field.type]


def _value(field: Field, value: int | bytes) -> Any:
    if field.type == INT:
        return _signed(_int(value))
    if field.type == BOOL:
        return _int(value) != 0
    data = _bytes(value)
    if field.type == STRING:
        return _text(data)
    if field.type == BYTES:
        return base64.b64encode(data).decode()
    if field.type == TIME:
        return _time(data)
    if field.type == FIELDS:
        raw = {n: v for n, _, v in _fields(data, "FieldsV1")}.get(1, b"{}")
        try:
            return json.loads(_bytes(raw) or b"{}")
        except ValueError as error:
            raise WireError(f"invalid fieldsV1: {error}") from None
    return decode_message(data, field.type)


def _time(data: bytes) -> str | None:
    """metav1.Time: empty is the zero time (JSON ``null``); otherwise whole seconds, as its JSON keeps them."""
    if not data:
        return None
    seconds = _signed(_int({n: v for n, _, v in _fields(data, "Timestamp")}.get(1, 0)))
    try:
        return datetime.fromtimestamp(seconds, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    except (OverflowError, OSError, ValueError):
        raise WireError(f"proto: Timestamp: seconds out of range: {seconds}") from None


# -- the wire format -------------------------------------------------------------
def _fields(data: bytes, message: str) -> Iterator[tuple[int, int, int | bytes]]:
    """``(field number, wire type, value)`` for each field of one message's bytes, in order."""
    pos = 0
    while pos < len(data):
        key, pos = _varint(data, pos)
        number, wire = key >> 3, key & 7
        if wire == END_GROUP:
            raise WireError(f"proto: {message}: wiretype end group for non-group")
        if number <= 0:
            raise WireError(f"proto: {message}: illegal tag {number} (wire type {wire})")
        if wire == VARINT:
            value, pos = _varint(data, pos)
            yield number, wire, value
        elif wire in (FIXED64, FIXED32):
            size = 8 if wire == FIXED64 else 4
            if pos + size > len(data):
                raise WireError(_UNEXPECTED_EOF)
            yield number, wire, int.from_bytes(data[pos:pos + size], "little")
            pos += size
        elif wire == LENGTH:
            length, pos = _varint(data, pos)
            if length < 0 or pos + length > len(data):
                raise WireError(_UNEXPECTED_EOF)
            yield number, wire, data[pos:pos + length]
            pos += length
        else:
            raise WireError(f"proto: illegal wireType {wire}")


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if shift >= 64:
            raise WireError("proto: integer overflow")
        if pos >= len(data):
            raise WireError(_UNEXPECTED_EOF)
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            return result & 0xFFFFFFFFFFFFFFFF, pos
        shift += 7


def _signed(value: int) -> int:
    """A varint's two's-complement int64 (int32 fields are sign-extended to 64 bits on the wire)."""
    return value - (1 << 64) if value >= 1 << 63 else value


def _int(value: int | bytes) -> int:
    if isinstance(value, bytes):
        raise WireError("proto: expected a varint")
    return value


def _bytes(value: int | bytes) -> bytes:
    if not isinstance(value, bytes):
        raise WireError("proto: expected a length-delimited field")
    return value


def _text(value: int | bytes) -> str:
    return _bytes(value).decode("utf-8", errors="replace")


def _summary(body: bytes, limit: int = 30) -> str:
    """apiserver's ``summarizeData``: the start of a body that could not be read, for the error message."""
    if not body:
        return "<empty>"
    if body[:1] == b"{":
        text = body[:limit].decode("utf-8", errors="replace")
        return text + " ..." if len(body) > limit else text
    return body[:limit].hex() + " ..." if len(body) > limit else body.hex()
