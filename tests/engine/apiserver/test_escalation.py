"""RBAC privilege-escalation prevention: the docs' cases through a real API server, and the rule comparison."""

from __future__ import annotations

import pytest

import engine
from engine.api import errors
from engine.apiserver.authn import UserInfo
from engine.apiserver.escalation import compact_string, escalation_message, uncovered

RBAC = "rbac.authorization.k8s.io"
GET_PODS = {"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}
LIST_SECRETS = {"apiGroups": [""], "resources": ["secrets"], "verbs": ["list"]}
BOB_GROUPS = '["system:authenticated"]'


def rule(resources: str | list[str], verbs: str | list[str], group: str = "", **extra: list[str]) -> dict:
    return {"apiGroups": [group], "resources": [resources] if isinstance(resources, str) else resources,
            "verbs": [verbs] if isinstance(verbs, str) else verbs, **extra}


def role(name: str, *rules: dict, namespace: str = "dev") -> dict:
    return {"apiVersion": f"{RBAC}/v1", "kind": "Role", "metadata": {"name": name, "namespace": namespace},
            "rules": list(rules)}


def cluster_role(name: str, *rules: dict) -> dict:
    return {"apiVersion": f"{RBAC}/v1", "kind": "ClusterRole", "metadata": {"name": name}, "rules": list(rules)}


def role_binding(name: str, ref_kind: str, ref_name: str, who: str = "carol", namespace: str = "dev") -> dict:
    return {"apiVersion": f"{RBAC}/v1", "kind": "RoleBinding", "metadata": {"name": name, "namespace": namespace},
            "roleRef": {"apiGroup": RBAC, "kind": ref_kind, "name": ref_name},
            "subjects": [{"kind": "User", "apiGroup": RBAC, "name": who}]}


def cluster_role_binding(name: str, ref_name: str, who: str = "carol") -> dict:
    return {"apiVersion": f"{RBAC}/v1", "kind": "ClusterRoleBinding", "metadata": {"name": name},
            "roleRef": {"apiGroup": RBAC, "kind": "ClusterRole", "name": ref_name},
            "subjects": [{"kind": "User", "apiGroup": RBAC, "name": who}]}


@pytest.fixture
def cluster() -> engine.Cluster:
    cluster = engine.Cluster(nodes=0, seed=0, keep_history=False)
    cluster.admin.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "dev"}})
    return cluster


def grant(cluster: engine.Cluster, name: str, *rules: dict, namespace: str | None = "dev") -> None:
    """Give bob these rules (as the admin): in ``namespace`` through a Role, or cluster-wide when it is None."""
    if namespace is None:
        cluster.admin.create(cluster_role(name, *rules))
        cluster.admin.create(cluster_role_binding(name, name, who="bob"))
    else:
        cluster.admin.create(role(name, *rules, namespace=namespace))
        cluster.admin.create(role_binding(name, "Role", name, who="bob", namespace=namespace))


def forbidden_text(resource: str, name: str, *missing: str) -> str:
    return (f'{resource}.{RBAC} "{name}" is forbidden: user "bob" (groups={BOB_GROUPS}) is attempting to grant '
            f"RBAC permissions not currently held:\n" + "\n".join(missing))


def test_a_role_may_grant_what_its_creator_holds_and_nothing_more(cluster: engine.Cluster) -> None:
    grant(cluster, "role-maker", rule("roles", "create", RBAC), GET_PODS)
    bob = cluster.client("bob")
    bob.create(role("pod-getter", GET_PODS))
    with pytest.raises(errors.Forbidden) as refused:
        bob.create(role("secret-lister", GET_PODS, LIST_SECRETS))
    assert refused.value.message == forbidden_text("roles", "secret-lister",
                                                   '{APIGroups:[""], Resources:["secrets"], Verbs:["list"]}')
    assert refused.value.code == 403
    assert cluster.admin.get("roles", "pod-getter", "dev")["rules"] == [GET_PODS]


def test_escalate_on_roles_lets_a_role_grant_more(cluster: engine.Cluster) -> None:
    cluster.admin.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "prod"}})
    grant(cluster, "escalator", rule("roles", ["create", "escalate"], RBAC))
    grant(cluster, "role-maker", rule("roles", "create", RBAC), namespace="prod")
    bob = cluster.client("bob")
    bob.create(role("secret-lister", LIST_SECRETS))
    with pytest.raises(errors.Forbidden):       # escalate on roles in dev only, not in prod
        bob.create(role("secret-lister", LIST_SECRETS, namespace="prod"))


def test_permissions_held_in_the_namespace_count_for_a_role_there_not_for_a_cluster_role(
        cluster: engine.Cluster) -> None:
    grant(cluster, "pod-getter", GET_PODS)
    grant(cluster, "cluster-role-maker", rule("clusterroles", "create", RBAC), namespace=None)
    bob = cluster.client("bob")
    with pytest.raises(errors.Forbidden) as refused:
        bob.create(cluster_role("pod-getter", GET_PODS))
    assert refused.value.message == forbidden_text("clusterroles", "pod-getter",
                                                   '{APIGroups:[""], Resources:["pods"], Verbs:["get"]}')


def test_update_and_patch_are_checked_but_a_garbage_collector_only_change_is_not(cluster: engine.Cluster) -> None:
    grant(cluster, "role-editor", rule("roles", ["create", "update", "patch", "get"], RBAC), GET_PODS)
    cluster.admin.create(role("secrets", LIST_SECRETS))
    bob = cluster.client("bob")
    bob.create(role("mine", GET_PODS))
    widened = bob.get("roles", "mine", "dev")
    widened["rules"] = [GET_PODS, LIST_SECRETS]
    with pytest.raises(errors.Forbidden):
        bob.update(widened)
    with pytest.raises(errors.Forbidden):
        bob.patch("roles", "mine", {"rules": [LIST_SECRETS]}, "dev")
    with pytest.raises(errors.Forbidden):                  # any other change to a role bob could not create
        bob.patch("roles", "secrets", {"metadata": {"labels": {"team": "a"}}}, "dev")
    bob.patch("roles", "secrets", {"metadata": {"finalizers": ["example.com/hold"]}}, "dev")
    assert cluster.admin.get("roles", "secrets", "dev")["metadata"]["finalizers"] == ["example.com/hold"]
    assert cluster.admin.get("roles", "mine", "dev")["rules"] == [GET_PODS]


def test_a_binding_may_grant_a_role_its_creator_holds_or_may_bind(cluster: engine.Cluster) -> None:
    cluster.admin.create(role("pod-getter", GET_PODS))
    cluster.admin.create(role("secret-lister", LIST_SECRETS))
    cluster.admin.create(role("other", LIST_SECRETS))
    grant(cluster, "binder", rule("rolebindings", "create", RBAC), GET_PODS)
    bob = cluster.client("bob")
    bob.create(role_binding("carol-gets-pods", "Role", "pod-getter"))
    with pytest.raises(errors.Forbidden) as refused:
        bob.create(role_binding("carol-lists-secrets", "Role", "secret-lister"))
    assert refused.value.message == forbidden_text("rolebindings", "carol-lists-secrets",
                                                   '{APIGroups:[""], Resources:["secrets"], Verbs:["list"]}')
    grant(cluster, "binds-secret-lister", rule("roles", "bind", RBAC, resourceNames=["secret-lister"]))
    bob.create(role_binding("carol-lists-secrets", "Role", "secret-lister"))
    with pytest.raises(errors.Forbidden):                  # bind names secret-lister only
        bob.create(role_binding("carol-other", "Role", "other"))


def test_binding_a_cluster_role_in_a_namespace_needs_its_permissions_there(cluster: engine.Cluster) -> None:
    cluster.admin.create(cluster_role("pod-getter", GET_PODS))
    grant(cluster, "binder", rule(["rolebindings", "clusterrolebindings"], "create", RBAC), namespace=None)
    grant(cluster, "gets-pods", GET_PODS)
    bob = cluster.client("bob")
    bob.create(role_binding("carol-gets-pods", "ClusterRole", "pod-getter"))
    with pytest.raises(errors.Forbidden) as refused:       # held in dev only, not cluster-wide
        bob.create(cluster_role_binding("carol-gets-pods", "pod-getter"))
    assert refused.value.message.startswith(f'clusterrolebindings.{RBAC} "carol-gets-pods" is forbidden: user "bob"')
    grant(cluster, "binds-pod-getter", rule("clusterroles", "bind", RBAC, resourceNames=["pod-getter"]),
          namespace=None)
    bob.create(cluster_role_binding("carol-gets-pods", "pod-getter"))


def test_binding_a_missing_role_is_not_found(cluster: engine.Cluster) -> None:
    grant(cluster, "binder", rule("rolebindings", "create", RBAC))
    with pytest.raises(errors.NotFound) as missing:
        cluster.client("bob").create(role_binding("carol", "Role", "nowhere"))
    assert missing.value.message == f'roles.{RBAC} "nowhere" not found'


def test_an_aggregated_cluster_role_is_checked_for_the_rules_it_carries(cluster: engine.Cluster) -> None:
    grant(cluster, "cluster-role-maker", rule("clusterroles", "create", RBAC), namespace=None)
    aggregated = cluster_role("monitoring")
    aggregated["aggregationRule"] = {"clusterRoleSelectors": [{"matchLabels": {"example.com/monitoring": "true"}}]}
    cluster.client("bob").create(aggregated)
    assert cluster.admin.get("clusterroles", "monitoring")["aggregationRule"]


def test_system_masters_may_grant_anything(cluster: engine.Cluster) -> None:
    everything = rule("*", "*", "*")
    cluster.admin.create(cluster_role("everything", everything, {"nonResourceURLs": ["*"], "verbs": ["*"]}))
    cluster.admin.create(cluster_role_binding("carol-everything", "everything"))
    master = cluster.client("someone", ("system:masters",))
    master.create(role("everything", everything))


@pytest.mark.parametrize("owner, granted, missing", [
    ([rule("*", "*", "*")], [rule(["pods", "secrets"], ["get", "list"])], []),
    ([rule("pods", "get")], [rule("pods", "*")], [rule("pods", "*")]),           # a granted * needs a *
    ([rule("*/scale", "update", "apps")], [rule("deployments/scale", "update", "apps")], []),
    ([rule("deployments", "update", "apps")], [rule("deployments/scale", "update", "apps")],
     [rule("deployments/scale", "update", "apps")]),
    ([rule("pods", "get", resourceNames=["a"])], [rule("pods", "get", resourceNames=["a", "b"])],
     [rule("pods", "get", resourceNames=["b"])]),
    ([rule("pods", "get", resourceNames=["a"])], [rule("pods", "get")], [rule("pods", "get")]),
    ([{"nonResourceURLs": ["/logs/*"], "verbs": ["get"]}], [{"nonResourceURLs": ["/logs/kube", "/healthz"],
                                                             "verbs": ["get"]}],
     [{"nonResourceURLs": ["/healthz"], "verbs": ["get"]}]),
    ([rule("pods", "get")], [{"apiGroups": [""], "resources": ["pods"], "verbs": []}], []),
])
def test_uncovered_breaks_rules_down_and_matches_like_the_authorizer(owner: list, granted: list,
                                                                     missing: list) -> None:
    assert uncovered(owner, granted) == missing


def test_the_message_compacts_verbs_per_resource_and_sorts_lines() -> None:
    user = UserInfo("bob", ("qa", "system:authenticated"))
    missing = uncovered([], [rule(["secrets", "configmaps"], ["list", "get"]),
                             {"nonResourceURLs": ["/metrics"], "verbs": ["get"]}])
    assert escalation_message(user, missing) == (
        'user "bob" (groups=["qa" "system:authenticated"]) is attempting to grant RBAC permissions not currently '
        'held:\n{APIGroups:[""], Resources:["configmaps"], Verbs:["list" "get"]}\n'
        '{APIGroups:[""], Resources:["secrets"], Verbs:["list" "get"]}\n{NonResourceURLs:["/metrics"], Verbs:["get"]}')
    assert compact_string(rule("pods", "get", resourceNames=["a"])) == \
        '{APIGroups:[""], Resources:["pods"], ResourceNames:["a"], Verbs:["get"]}'
