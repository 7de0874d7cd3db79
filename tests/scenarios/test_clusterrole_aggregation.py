"""Aggregated ClusterRoles on a whole cluster: the RBAC docs' CronTab roles reach view, edit and admin.

The docs' example adds permissions on a CustomResourceDefinition to the user-facing roles: a ClusterRole
labelled ``aggregate-to-view`` reaches ``view``, and from there ``edit`` (``view`` is labelled aggregate-to-edit)
and ``admin`` (``edit`` is labelled aggregate-to-admin), each step one write of kube-controller-manager's
clusterrole-aggregation controller. Users bound to those roles are then allowed exactly what the new rules say.
"""

from __future__ import annotations

import pytest

import engine

RBAC = "rbac.authorization.k8s.io"
AGGREGATE_TO = "rbac.authorization.k8s.io/aggregate-to-"
CRD = {
    "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
    "metadata": {"name": "crontabs.stable.example.com"},
    "spec": {"group": "stable.example.com", "scope": "Namespaced",
             "names": {"plural": "crontabs", "singular": "crontab", "kind": "CronTab", "shortNames": ["ct"]},
             "versions": [{"name": "v1", "served": True, "storage": True,
                           "schema": {"openAPIV3Schema": {"type": "object", "properties": {
                               "spec": {"type": "object", "properties": {"cronSpec": {"type": "string"}}}}}}}]}}
READ = {"apiGroups": ["stable.example.com"], "resources": ["crontabs"], "verbs": ["get", "list", "watch"]}
WRITE = {"apiGroups": ["stable.example.com"], "resources": ["crontabs"],
         "verbs": ["get", "list", "watch", "create", "update", "patch", "delete"]}
CRONTAB = {"apiVersion": "stable.example.com/v1", "kind": "CronTab", "metadata": {"name": "nightly"},
           "spec": {"cronSpec": "0 3 * * *"}}


def cluster_role(name: str, aggregate_to: tuple[str, ...], rule: dict) -> dict:
    return {"apiVersion": f"{RBAC}/v1", "kind": "ClusterRole",
            "metadata": {"name": name, "labels": {AGGREGATE_TO + role: "true" for role in aggregate_to}},
            "rules": [rule]}


VIEW_CRONTABS = cluster_role("aggregate-cron-tabs-view", ("view",), READ)
EDIT_CRONTABS = cluster_role("aggregate-cron-tabs-edit", ("admin", "edit"), WRITE)


def bound(cluster: engine.Cluster, user: str, role: str) -> engine.Client:
    """A client for ``user``, bound to the ClusterRole ``role`` in ``default`` (a RoleBinding, as the docs do)."""
    cluster.apply({"apiVersion": f"{RBAC}/v1", "kind": "RoleBinding", "metadata": {"name": f"{user}-{role}"},
                   "roleRef": {"apiGroup": RBAC, "kind": "ClusterRole", "name": role},
                   "subjects": [{"kind": "User", "apiGroup": RBAC, "name": user}]})
    return cluster.client(user)


def holds(cluster: engine.Cluster, role: str, rule: dict) -> bool:
    return rule in (cluster.get("clusterrole", role, None).get("rules") or [])


def allowed(call) -> bool:
    try:
        call()
    except engine.Forbidden:
        return False
    return True


@pytest.fixture
def cluster(make_cluster) -> engine.Cluster:
    cluster = make_cluster(nodes=0, seed=0)
    cluster.apply(CRD)
    cluster.run(1)
    return cluster


def test_a_role_labelled_aggregate_to_view_reaches_view_edit_and_admin(cluster):
    cluster.apply(VIEW_CRONTABS)
    cluster.run(1)
    assert [holds(cluster, role, READ) for role in ("view", "edit", "admin")] == [True, True, True]
    cluster.apply(EDIT_CRONTABS)
    cluster.run(1)
    assert [holds(cluster, role, WRITE) for role in ("view", "edit", "admin")] == [False, True, True]


def test_the_chain_converges_and_then_writes_nothing(cluster):
    cluster.apply([VIEW_CRONTABS, EDIT_CRONTABS])
    cluster.run(1)
    converged = cluster.now
    cluster.run(60)
    assert [(entry.verb, entry.name) for entry in cluster.apiserver.audit.entries if entry.time > converged
            and entry.resource == "clusterroles" and entry.verb not in ("list", "watch")] == []


def test_users_bound_to_view_and_edit_get_what_the_aggregated_rules_say(cluster):
    jane, joe = bound(cluster, "jane", "view"), bound(cluster, "joe", "edit")
    assert not allowed(lambda: jane.list("crontabs", "default"))
    cluster.apply([VIEW_CRONTABS, EDIT_CRONTABS])
    cluster.run(1)
    assert allowed(lambda: jane.list("crontabs", "default"))
    assert not allowed(lambda: jane.create(CRONTAB, "default"))
    assert allowed(lambda: joe.create(CRONTAB, "default"))
    assert not allowed(lambda: jane.list("crontabs", "kube-system"))      # a RoleBinding: its namespace only


def test_deleting_the_labelled_role_takes_the_permission_away_again(cluster):
    jane = bound(cluster, "jane", "view")
    cluster.apply(VIEW_CRONTABS)
    cluster.run(1)
    assert allowed(lambda: jane.list("crontabs", "default"))
    cluster.delete("clusterrole", "aggregate-cron-tabs-view", None)
    cluster.run(1)
    assert not allowed(lambda: jane.list("crontabs", "default"))
    assert [holds(cluster, role, READ) for role in ("view", "edit", "admin")] == [False, False, False]
