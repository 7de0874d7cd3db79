"""The real ``kubectl create <kind>`` generators against a served cluster.

kubectl builds these objects itself and POSTs them; several of its typed clients send explicit
``null`` fields (``create token`` sends ``"expirationSeconds": null``), which the API server must
treat as unset. ``create rolebinding`` / ``clusterrolebinding`` use client-go's RBAC clientset,
which sends protobuf: the engine has no protobuf codec and answers 415 as kube-apiserver does for a
media type it cannot decode.
"""

from __future__ import annotations

import base64
import json

import pytest

from engine.cluster import Cluster
from kubectl_tool import Kubectl, needs_kubectl

pytestmark = needs_kubectl


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


def test_create_rolebinding_is_sent_as_protobuf_and_refused_with_415(kubectl: Kubectl) -> None:
    result = kubectl("create", "rolebinding", "rb", "--role=reader", "--user=jane", check=False)
    assert result.returncode == 1
    assert "the body of the request was in an unknown format - accepted media types include: " \
           "application/json" in result.stderr
