"""The real ``kubectl create <kind>`` generators against a served cluster.

kubectl builds these objects itself and POSTs them; several of its typed clients send explicit
``null`` fields (``create token`` sends ``"expirationSeconds": null``), which the API server must
treat as unset. ``create rolebinding`` / ``clusterrolebinding`` use client-go's RBAC clientset,
which sends ``application/vnd.kubernetes.protobuf`` (the only kubectl v1.32 commands that do; every
other ``create`` generator, ``run``, ``expose``, ``set``, ``label``, ``annotate``, ``scale``,
``autoscale``, ``drain``, ``cordon``, ``taint``, ``rollout`` and ``auth reconcile`` send JSON).
"""

from __future__ import annotations

import base64
import json

import pytest

from engine.cluster import Cluster
from kubectl_tool import Kubectl, needs_kubectl

pytestmark = needs_kubectl
RBAC = "rbac.authorization.k8s.io"


@pytest.fixture(scope="module")
def cluster() -> Cluster:
    c = Cluster(nodes=1, seed=0)
    c.apply({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "robot"}})
    return c


def _claims(token: str) -> dict:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def test_create_token_issues_a_one_hour_token_for_the_service_account(kubectl: Kubectl) -> None:
    token = kubectl("create", "token", "robot").stdout.strip()
    claims = _claims(token)
    assert claims["sub"] == "system:serviceaccount:default:robot"
    assert claims["exp"] - claims["iat"] == 3600


def test_create_token_with_a_duration(kubectl: Kubectl) -> None:
    claims = _claims(kubectl("create", "token", "robot", "--duration=2h").stdout.strip())
    assert claims["exp"] - claims["iat"] == 7200


def test_create_role_and_clusterrole_generate_rbac_objects(kubectl: Kubectl, cluster: Cluster) -> None:
    assert kubectl("create", "role", "reader", "--verb=get,list", "--resource=pods").stdout.strip() == \
        "role.rbac.authorization.k8s.io/reader created"
    assert cluster.get("role", "reader")["rules"] == [{"apiGroups": [""], "resources": ["pods"],
                                                       "verbs": ["get", "list"]}]


def test_create_rolebinding_sent_as_protobuf_binds_the_role(kubectl: Kubectl, cluster: Cluster) -> None:
    kubectl("create", "role", "pod-reader", "--verb=get,list", "--resource=pods")
    assert kubectl("create", "rolebinding", "rb", "--role=pod-reader", "--user=jane").stdout.strip() == \
        "rolebinding.rbac.authorization.k8s.io/rb created"
    binding = cluster.get("rolebinding", "rb")
    assert binding["roleRef"] == {"apiGroup": RBAC, "kind": "Role", "name": "pod-reader"}
    assert binding["subjects"] == [{"kind": "User", "apiGroup": RBAC, "name": "jane"}]
    assert kubectl("auth", "can-i", "list", "pods", "--as=jane").stdout.strip() == "yes"
    assert kubectl("auth", "can-i", "delete", "pods", "--as=jane", check=False).stdout.strip() == "no"


def test_create_clusterrolebinding_sent_as_protobuf_keeps_every_subject(kubectl: Kubectl, cluster: Cluster) -> None:
    kubectl("create", "clusterrolebinding", "crb", "--clusterrole=view", "--user=ann", "--group=devs",
            "--serviceaccount=default:robot")
    binding = cluster.get("clusterrolebinding", "crb")
    assert binding["roleRef"] == {"apiGroup": RBAC, "kind": "ClusterRole", "name": "view"}
    assert [{key: value for key, value in subject.items() if value} for subject in binding["subjects"]] == [
                                   {"kind": "User", "apiGroup": RBAC, "name": "ann"},
                                   {"kind": "Group", "apiGroup": RBAC, "name": "devs"},
                                   {"kind": "ServiceAccount", "name": "robot", "namespace": "default"}]
    assert kubectl("auth", "can-i", "list", "deployments", "--as=system:serviceaccount:default:robot",
                   "-n", "kube-system").stdout.strip() == "yes"


def test_a_protobuf_create_is_validated_and_dry_run_like_a_json_one(kubectl: Kubectl) -> None:
    dry = kubectl("create", "rolebinding", "rb-dry", "--clusterrole=view", "--group=devs", "--dry-run=server",
                  "-o", "jsonpath={.metadata.uid} {.roleRef.kind}").stdout.split()
    assert len(dry) == 2 and dry[1] == "ClusterRole"
    assert kubectl("get", "rolebinding", "rb-dry", check=False).returncode == 1
    again = kubectl("create", "rolebinding", "rb", "--role=pod-reader", "--user=jane", check=False)
    assert 'rolebindings.rbac.authorization.k8s.io "rb" already exists' in again.stderr
    bad = kubectl("create", "rolebinding", "a%b", "--role=pod-reader", "--user=jane", check=False)
    assert 'RoleBinding.rbac.authorization.k8s.io "a%b" is invalid: metadata.name: Invalid value: "a%b": ' \
           "may not contain '%'" in bad.stderr


def test_a_protobuf_body_carries_annotations_and_the_namespace(kubectl: Kubectl, cluster: Cluster) -> None:
    # --save-config puts the last-applied annotation in ObjectMeta's annotations map; -n sets its namespace.
    kubectl("create", "rolebinding", "saved", "--clusterrole=view", "--group=devs", "--save-config",
            "-n", "kube-system")
    binding = cluster.get("rolebinding", "saved", namespace="kube-system")
    applied = json.loads(binding["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"])
    assert applied["roleRef"] == {"apiGroup": RBAC, "kind": "ClusterRole", "name": "view"}
    assert applied["metadata"]["namespace"] == "kube-system"
