"""A namespace admin delegates on a whole cluster, and cannot hand out more than the ``admin`` role holds.

The RBAC docs' "privilege escalation prevention": a user bound to ``admin`` in a namespace (a RoleBinding, as
the docs do) may bind ``edit`` or ``view`` there, and write Roles, because ``admin`` holds every permission they
grant (kube-controller-manager's clusterrole-aggregation controller keeps it so, with ``escalate`` on
clusterroles); binding ``cluster-admin``, or a Role on Nodes, is a 403 naming the missing permissions.
"""

from __future__ import annotations

import pytest

import engine

RBAC = "rbac.authorization.k8s.io"
CRONTABS = {"apiGroups": ["stable.example.com"], "resources": ["crontabs"], "verbs": ["get", "list", "watch"]}


def binding(name: str, role: str, user: str) -> dict:
    return {"apiVersion": f"{RBAC}/v1", "kind": "RoleBinding", "metadata": {"name": name, "namespace": "team"},
            "roleRef": {"apiGroup": RBAC, "kind": "ClusterRole", "name": role},
            "subjects": [{"kind": "User", "apiGroup": RBAC, "name": user}]}


def role(name: str, *rules: dict) -> dict:
    return {"apiVersion": f"{RBAC}/v1", "kind": "Role", "metadata": {"name": name, "namespace": "team"},
            "rules": list(rules)}


@pytest.fixture
def cluster(make_cluster) -> engine.Cluster:
    cluster = make_cluster(nodes=0, seed=0)
    cluster.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team"}})
    cluster.apply(binding("lead-admin", "admin", "lead"))
    cluster.run(1)
    return cluster


def test_a_namespace_admin_binds_edit_and_view_but_not_cluster_admin(cluster):
    lead = cluster.client("lead")
    lead.create(binding("dev-edit", "edit", "dev"), "team")
    lead.create(binding("qa-view", "view", "qa"), "team")
    with pytest.raises(engine.Forbidden) as refused:
        lead.create(binding("dev-everything", "cluster-admin", "dev"), "team")
    assert refused.value.message.startswith(
        f'rolebindings.{RBAC} "dev-everything" is forbidden: user "lead" (groups=["system:authenticated"]) is '
        f"attempting to grant RBAC permissions not currently held:\n")
    assert '{APIGroups:["*"], Resources:["*"], Verbs:["*"]}' in refused.value.message.splitlines()


def test_a_namespace_admin_writes_roles_within_admin_only(cluster):
    lead = cluster.client("lead")
    lead.create(role("pod-reader", {"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list"]}), "team")
    with pytest.raises(engine.Forbidden) as refused:
        lead.create(role("node-reader", {"apiGroups": [""], "resources": ["nodes"], "verbs": ["get"]}), "team")
    assert refused.value.message.endswith('\n{APIGroups:[""], Resources:["nodes"], Verbs:["get"]}')


def test_what_aggregation_adds_to_edit_the_admin_may_bind_once_admin_has_it_too(cluster):
    """The aggregation controller rewrites edit and admin with rules the lead never held before."""
    lead = cluster.client("lead")
    cluster.apply({"apiVersion": f"{RBAC}/v1", "kind": "ClusterRole",
                   "metadata": {"name": "crontabs-edit", "labels": {f"{RBAC}/aggregate-to-edit": "true"}},
                   "rules": [CRONTABS]})
    cluster.run(1)
    assert CRONTABS in cluster.get("clusterrole", "admin", None)["rules"]
    lead.create(binding("dev-edit", "edit", "dev"), "team")
    lead.create(role("crontab-reader", CRONTABS), "team")
