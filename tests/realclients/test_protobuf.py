"""Protobuf request bodies: the bytes the real kubectl sends become the dicts its JSON would be."""

from __future__ import annotations

import pytest

from engine.api import errors
from engine.api.kinds import Kind
from engine.apiserver.http import protobuf

ROLE_BINDING = Kind("rbac.authorization.k8s.io", "v1", "RoleBinding", "rolebindings", True, has_spec=False)
CLUSTER_ROLE_BINDING = Kind("rbac.authorization.k8s.io", "v1", "ClusterRoleBinding", "clusterrolebindings", False,
                            has_spec=False)
CLUSTER_ROLE = Kind("rbac.authorization.k8s.io", "v1", "ClusterRole", "clusterroles", False, has_spec=False)
POD = Kind("", "v1", "Pod", "pods", True)
RBAC = "rbac.authorization.k8s.io"

# What kubectl v1.32 POSTs for `kubectl create rolebinding rb --role=reader --user=jane` (captured on the wire).
KUBECTL_ROLEBINDING = bytes.fromhex(
    "6b3873000a2b0a1c726261632e617574686f72697a6174696f6e2e6b38732e696f2f7631120b526f6c6542696e64696e67126a0a120a0272"
    "6212001a0022002a0032003800420012290a04557365721219726261632e617574686f72697a6174696f6e2e6b38732e696f1a046a616e65"
    "22001a290a19726261632e617574686f72697a6174696f6e2e6b38732e696f1204526f6c651a067265616465721a002200")
# `kubectl create clusterrolebinding crb --clusterrole=view --user=jane --group=devs --serviceaccount=kube-system:robot`
KUBECTL_CLUSTERROLEBINDING = bytes.fromhex(
    "6b3873000a320a1c726261632e617574686f72697a6174696f6e2e6b38732e696f2f76311212436c7573746572526f6c6542696e64696e67"
    "12c4010a130a0363726212001a0022002a0032003800420012290a04557365721219726261632e617574686f72697a6174696f6e2e6b3873"
    "2e696f1a046a616e652200122a0a0547726f75701219726261632e617574686f72697a6174696f6e2e6b38732e696f1a0464657673220012"
    "260a0e536572766963654163636f756e7412001a05726f626f74220b6b7562652d73797374656d1a2e0a19726261632e617574686f72697a"
    "6174696f6e2e6b38732e696f120b436c7573746572526f6c651a04766965771a002200")


# A test-side encoder, to build the cases kubectl does not send.
def _varint(value: int) -> bytes:
    value &= (1 << 64) - 1
    out = bytearray()
    while value >= 0x80:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    return bytes(out + bytes([value]))


def _len(number: int, payload: bytes | str) -> bytes:
    data = payload.encode() if isinstance(payload, str) else payload
    return _varint(number << 3 | 2) + _varint(len(data)) + data


def _int(number: int, value: int) -> bytes:
    return _varint(number << 3) + _varint(value)


def _envelope(api_version: str, kind: str, raw: bytes) -> bytes:
    return protobuf.MAGIC + _len(1, _len(1, api_version) + _len(2, kind)) + _len(2, raw) + _len(3, b"") + _len(4, b"")


def test_kubectl_create_rolebinding_reads_as_the_json_kubectl_would_send() -> None:
    assert protobuf.decode(KUBECTL_ROLEBINDING, ROLE_BINDING) == {
        "kind": "RoleBinding", "apiVersion": f"{RBAC}/v1",
        "metadata": {"name": "rb", "creationTimestamp": None},
        "subjects": [{"kind": "User", "apiGroup": RBAC, "name": "jane"}],
        "roleRef": {"apiGroup": RBAC, "kind": "Role", "name": "reader"}}


def test_kubectl_create_clusterrolebinding_keeps_every_subject_in_order() -> None:
    obj = protobuf.decode(KUBECTL_CLUSTERROLEBINDING, CLUSTER_ROLE_BINDING)
    assert obj["kind"] == "ClusterRoleBinding"
    assert obj["subjects"] == [{"kind": "User", "apiGroup": RBAC, "name": "jane"},
                               {"kind": "Group", "apiGroup": RBAC, "name": "devs"},
                               {"kind": "ServiceAccount", "name": "robot", "namespace": "kube-system"}]
    assert obj["roleRef"] == {"apiGroup": RBAC, "kind": "ClusterRole", "name": "view"}


def test_metadata_maps_times_owner_references_and_pointer_fields() -> None:
    owner = _len(5, "v1") + _len(1, "ConfigMap") + _len(3, "cm") + _len(4, "u-1") + _int(6, 0)
    metadata = (_len(1, "r") + _len(11, _len(1, "app") + _len(2, "web")) + _len(11, _len(1, "tier") + _len(2, "be"))
                + _len(12, _len(1, "note") + _len(2, "")) + _len(8, _int(1, 1735689600)) + _len(13, owner)
                + _len(14, "example.com/keep") + _int(7, 0) + _int(10, 30))
    rule = _len(1, "get") + _len(1, "list") + _len(2, "") + _len(3, "pods")
    obj = protobuf.decode(_envelope(f"{RBAC}/v1", "ClusterRole", _len(1, metadata) + _len(2, rule)), CLUSTER_ROLE)
    assert obj["metadata"] == {
        "name": "r", "creationTimestamp": "2025-01-01T00:00:00Z", "deletionGracePeriodSeconds": 30,
        "labels": {"app": "web", "tier": "be"}, "annotations": {"note": ""},
        "ownerReferences": [{"apiVersion": "v1", "kind": "ConfigMap", "name": "cm", "uid": "u-1",
                             "controller": False}],
        "finalizers": ["example.com/keep"]}
    assert obj["rules"] == [{"verbs": ["get", "list"], "apiGroups": [""], "resources": ["pods"]}]
    assert "aggregationRule" not in obj


def test_absent_fields_without_omitempty_are_their_zero_values() -> None:
    obj = protobuf.decode(_envelope(f"{RBAC}/v1", "ClusterRole", b""), CLUSTER_ROLE)
    assert obj == {"kind": "ClusterRole", "apiVersion": f"{RBAC}/v1", "metadata": {"creationTimestamp": None},
                   "rules": None}
    binding = protobuf.decode(_envelope(f"{RBAC}/v1", "RoleBinding", _len(2, b"")), ROLE_BINDING)
    assert binding["subjects"] == [{"kind": "", "name": ""}]
    assert binding["roleRef"] == {"apiGroup": "", "kind": "", "name": ""}


def test_unknown_field_numbers_are_skipped_as_gogo_protobuf_skips_them() -> None:
    raw = _len(1, _len(1, "rb") + _int(99, 7) + _len(98, "x")) + _len(3, _len(2, "Role") + _len(3, "reader"))
    assert protobuf.decode(_envelope(f"{RBAC}/v1", "RoleBinding", raw), ROLE_BINDING)["metadata"] == \
        {"name": "rb", "creationTimestamp": None}


def test_an_envelope_without_type_meta_takes_the_kind_of_the_url() -> None:
    body = protobuf.MAGIC + _len(2, _len(1, _len(1, "rb")))
    obj = protobuf.decode(body, ROLE_BINDING)
    assert (obj["apiVersion"], obj["kind"], obj["metadata"]["name"]) == (f"{RBAC}/v1", "RoleBinding", "rb")


@pytest.mark.parametrize("body, message", [
    (b'{"kind": "RoleBinding"}', "the object provided is unrecognized (must be of type RoleBinding): provided data "
     "does not appear to be a protobuf message, expected prefix [107 56 115 0] ({\"kind\": \"RoleBinding\"})"),
    (KUBECTL_ROLEBINDING[:60], "the object provided is unrecognized (must be of type RoleBinding): unexpected EOF"),
    (_envelope(f"{RBAC}/v1", "RoleBinding", _len(1, b"\x0a\x09rb")),
     'RoleBinding in version "v1" cannot be handled as a RoleBinding: unexpected EOF'),
    (_envelope(f"{RBAC}/v1", "RoleBinding", _int(1, 5)),
     'RoleBinding in version "v1" cannot be handled as a RoleBinding: proto: wrong wireType = 0 for field Metadata'),
    (_envelope(f"{RBAC}/v1", "RoleBinding", b"\x00\x01"),
     'RoleBinding in version "v1" cannot be handled as a RoleBinding: proto: RoleBinding: illegal tag 0 (wire type 0)'),
    (_envelope(f"{RBAC}/v1", "Widget", b""), 'Widget in version "v1" cannot be handled as a RoleBinding: no kind '
     '"Widget" is registered for version "rbac.authorization.k8s.io/v1"'),
], ids=["a JSON body sent as protobuf lacks the k8s magic", "a cut envelope is an unexpected EOF",
        "a cut object is an unexpected EOF", "a field with the wrong wire type is named",
        "field number zero is an illegal tag", "a kind with no protobuf message is not registered"])
def test_unreadable_bodies_are_bad_requests_with_the_real_messages(body: bytes, message: str) -> None:
    with pytest.raises(errors.ApiError) as caught:
        protobuf.decode(body, ROLE_BINDING)
    assert caught.value.code == 400
    assert caught.value.status["message"].startswith(message)


def test_only_the_kinds_with_message_tables_accept_protobuf() -> None:
    assert protobuf.accepts(ROLE_BINDING) and protobuf.accepts(CLUSTER_ROLE)
    assert not protobuf.accepts(POD)
