"""The RBAC authorizer, its 403 messages, aggregation, and the bootstrap policy."""

from __future__ import annotations

import pytest

from engine.api import errors
from engine.apiserver import bootstrap_policy
from engine.apiserver.authn import UserInfo
from engine.api.selectors import SelectorError
from engine.apiserver.rbac import Attributes, Decision, RBACAuthorizer, aggregate_cluster_role, forbidden_error, \
    forbidden_message, same_rules

RBAC = "rbac.authorization.k8s.io"


class FakeRules:
    """An in-memory rules source: RBAC objects as the API server's caches would hold them."""

    def __init__(self, objects: list[dict]) -> None:
        self.objects = sorted(objects, key=lambda o: (o["kind"], o["metadata"].get("namespace", ""),
                                                      o["metadata"]["name"]))

    def _of(self, kind: str, namespace: str | None = None) -> list[dict]:
        return [o for o in self.objects if o["kind"] == kind
                and (namespace is None or o["metadata"].get("namespace") == namespace)]

    def list_cluster_role_bindings(self) -> list[dict]:
        return self._of("ClusterRoleBinding")

    def list_role_bindings(self, namespace: str) -> list[dict]:
        return self._of("RoleBinding", namespace)

    def get_cluster_role(self, name: str) -> dict | None:
        return next((o for o in self._of("ClusterRole") if o["metadata"]["name"] == name), None)

    def get_role(self, namespace: str, name: str) -> dict | None:
        return next((o for o in self._of("Role", namespace) if o["metadata"]["name"] == name), None)


def role(name: str, namespace: str, *rules: dict) -> dict:
    return {"kind": "Role", "metadata": {"name": name, "namespace": namespace}, "rules": list(rules)}


def cluster_role(name: str, *rules: dict) -> dict:
    return {"kind": "ClusterRole", "metadata": {"name": name}, "rules": list(rules)}


def role_binding(name: str, namespace: str, ref_kind: str, ref_name: str, *subjects: dict) -> dict:
    return {"kind": "RoleBinding", "metadata": {"name": name, "namespace": namespace},
            "roleRef": {"apiGroup": RBAC, "kind": ref_kind, "name": ref_name}, "subjects": list(subjects)}


def user(name: str) -> dict:
    return {"kind": "User", "apiGroup": RBAC, "name": name}


def group(name: str) -> dict:
    return {"kind": "Group", "apiGroup": RBAC, "name": name}


def service_account(name: str, namespace: str | None = None) -> dict:
    subject = {"kind": "ServiceAccount", "name": name}
    if namespace:
        subject["namespace"] = namespace
    return subject


ALICE = UserInfo("alice", ("system:authenticated",))
BOB = UserInfo("bob", ("qa", "system:authenticated"))
BUILDER = UserInfo("system:serviceaccount:ci:builder",
                   ("system:serviceaccounts", "system:serviceaccounts:ci", "system:authenticated"))
ADMIN = UserInfo("kubernetes-admin", ("system:masters", "system:authenticated"))

POD_READER = {"verbs": ["get", "list", "watch"], "apiGroups": [""], "resources": ["pods"]}

OBJECTS = bootstrap_policy.bootstrap_policy() + [
    role("pod-reader", "dev", {"verbs": ["list"], "apiGroups": [""], "resources": ["pods"]}),
    role_binding("alice-reads-pods", "dev", "Role", "pod-reader", user("alice")),
    role_binding("alice-views-staging", "staging", "ClusterRole", "view", user("alice")),
    role("db-secret", "prod", {"verbs": ["get"], "apiGroups": [""], "resources": ["secrets"],
                               "resourceNames": ["db"]}),
    role_binding("bob-db-secret", "prod", "Role", "db-secret", group("qa")),
    role("deployer", "ci", {"verbs": ["*"], "apiGroups": ["apps"], "resources": ["deployments", "*/scale"]},
         {"verbs": ["get"], "apiGroups": [""], "resources": ["pods/log", "pods/*"]}),
    role_binding("builder-deploys", "ci", "Role", "deployer", service_account("builder")),
    role_binding("builder-elsewhere", "dev", "Role", "pod-reader", service_account("builder", "ci")),
    role_binding("dangling", "dev", "Role", "no-such-role", user("carol")),
    cluster_role("health", {"verbs": ["get"], "nonResourceURLs": ["/healthz", "/metrics/*"]}),
    {"kind": "ClusterRoleBinding", "metadata": {"name": "bob-health"},
     "roleRef": {"apiGroup": RBAC, "kind": "ClusterRole", "name": "health"}, "subjects": [user("bob")]},
]


@pytest.fixture
def authorizer() -> RBACAuthorizer:
    return RBACAuthorizer(FakeRules(OBJECTS))


def attrs(who: UserInfo, verb: str, resource: str = "", namespace: str = "", name: str = "", group: str = "",
          subresource: str = "", path: str = "") -> Attributes:
    return Attributes(user=who, verb=verb, namespace=namespace, api_group=group, resource=resource,
                      subresource=subresource, name=name, path=path, resource_request=not path)


@pytest.mark.parametrize("request_attrs, expected", [
    pytest.param(attrs(ALICE, "list", "pods", "dev"),
                 Decision(True, 'RBAC: allowed by RoleBinding "alice-reads-pods/dev" of Role "pod-reader" '
                                'to User "alice"'),
                 id="a Role in dev granting list pods lets alice list pods in dev"),
    pytest.param(attrs(ALICE, "list", "pods", "prod"), Decision(False),
                 id="the Role in dev grants nothing in prod"),
    pytest.param(attrs(ALICE, "list", "pods"), Decision(False),
                 id="the Role in dev grants nothing at the cluster scope"),
    pytest.param(attrs(ALICE, "get", "pods", "dev", "web"), Decision(False),
                 id="list does not imply get"),
    pytest.param(attrs(ALICE, "get", "deployments", "staging", "web", group="apps"),
                 Decision(True, 'RBAC: allowed by RoleBinding "alice-views-staging/staging" of ClusterRole "view" '
                                'to User "alice"'),
                 id="a RoleBinding to the ClusterRole view grants it in that namespace"),
    pytest.param(attrs(ALICE, "get", "deployments", "dev", "web", group="apps"), Decision(False),
                 id="a RoleBinding to view grants nothing in another namespace"),
    pytest.param(attrs(ALICE, "get", "secrets", "staging", "db"), Decision(False),
                 id="view does not read secrets"),
    pytest.param(attrs(ALICE, "get", "pods", "staging", "web", subresource="log"),
                 Decision(True, 'RBAC: allowed by RoleBinding "alice-views-staging/staging" of ClusterRole "view" '
                                'to User "alice"'),
                 id="view reads pods/log"),
    pytest.param(attrs(ALICE, "create", "pods", "staging", "web", subresource="exec"), Decision(False),
                 id="view does not exec into pods"),
    pytest.param(attrs(BOB, "get", "secrets", "prod", "db"),
                 Decision(True, 'RBAC: allowed by RoleBinding "bob-db-secret/prod" of Role "db-secret" '
                                'to Group "qa"'),
                 id="a group subject matches a member of the group and resourceNames allows the named get"),
    pytest.param(attrs(BOB, "get", "secrets", "prod", "other"), Decision(False),
                 id="resourceNames refuses a get of another name"),
    pytest.param(attrs(BOB, "list", "secrets", "prod"), Decision(False),
                 id="resourceNames never allows list, which carries no name"),
    pytest.param(attrs(BOB, "create", "secrets", "prod"), Decision(False),
                 id="resourceNames never allows create, which carries no name"),
    pytest.param(attrs(BUILDER, "patch", "deployments", "ci", "web", group="apps"),
                 Decision(True, 'RBAC: allowed by RoleBinding "builder-deploys/ci" of Role "deployer" '
                                'to ServiceAccount "builder/ci"'),
                 id="a ServiceAccount subject without a namespace means the binding's namespace"),
    pytest.param(attrs(BUILDER, "update", "statefulsets", "ci", "db", group="apps", subresource="scale"),
                 Decision(True, 'RBAC: allowed by RoleBinding "builder-deploys/ci" of Role "deployer" '
                                'to ServiceAccount "builder/ci"'),
                 id="*/scale covers the scale subresource of any resource"),
    pytest.param(attrs(BUILDER, "update", "statefulsets", "ci", "db", group="apps"), Decision(False),
                 id="*/scale does not cover the resource itself"),
    pytest.param(attrs(BUILDER, "get", "pods", "ci", "web", subresource="log"),
                 Decision(True, 'RBAC: allowed by RoleBinding "builder-deploys/ci" of Role "deployer" '
                                'to ServiceAccount "builder/ci"'),
                 id="pods/log in a rule covers the log subresource"),
    pytest.param(attrs(BUILDER, "get", "pods", "ci", "web", subresource="status"), Decision(False),
                 id="pods/* is not a wildcard in the real matcher"),
    pytest.param(attrs(BUILDER, "list", "pods", "dev"),
                 Decision(True, 'RBAC: allowed by RoleBinding "builder-elsewhere/dev" of Role "pod-reader" '
                                'to ServiceAccount "builder/ci"'),
                 id="a ServiceAccount subject with a namespace matches that account from another namespace"),
    pytest.param(attrs(ADMIN, "delete", "nodes", name="node-1"),
                 Decision(True, 'RBAC: allowed by ClusterRoleBinding "cluster-admin" of ClusterRole "cluster-admin" '
                                'to Group "system:masters"'),
                 id="system:masters is cluster-admin through the bootstrap binding"),
    pytest.param(attrs(ADMIN, "get", path="/metrics"),
                 Decision(True, 'RBAC: allowed by ClusterRoleBinding "cluster-admin" of ClusterRole "cluster-admin" '
                                'to Group "system:masters"'),
                 id="cluster-admin reaches every non-resource URL"),
    pytest.param(attrs(BOB, "get", path="/metrics/cadvisor"),
                 Decision(True, 'RBAC: allowed by ClusterRoleBinding "bob-health" of ClusterRole "health" '
                                'to User "bob"'),
                 id="a trailing star in nonResourceURLs matches the paths under it"),
    pytest.param(attrs(ALICE, "get", path="/healthz"),
                 Decision(True, 'RBAC: allowed by ClusterRoleBinding "system:discovery" of ClusterRole '
                                '"system:discovery" to Group "system:authenticated"'),
                 id="every authenticated user may get /healthz through system:discovery"),
    pytest.param(attrs(UserInfo("system:anonymous", ("system:unauthenticated",)), "get", path="/version"),
                 Decision(True, 'RBAC: allowed by ClusterRoleBinding "system:public-info-viewer" of ClusterRole '
                                '"system:public-info-viewer" to Group "system:unauthenticated"'),
                 id="anonymous users may read /version"),
    pytest.param(attrs(UserInfo("system:anonymous", ("system:unauthenticated",)), "get", path="/apis"),
                 Decision(False), id="anonymous users may not read discovery"),
    pytest.param(attrs(ALICE, "post", path="/healthz"), Decision(False),
                 id="a non-resource rule only allows its verbs"),
    pytest.param(attrs(UserInfo("carol"), "get", "pods", "dev", "web"),
                 Decision(False, 'RBAC: role.rbac.authorization.k8s.io "no-such-role" not found'),
                 id="a binding to a missing Role denies with the lister's not-found text as the reason"),
])
def test_authorize(authorizer: RBACAuthorizer, request_attrs: Attributes, expected: Decision) -> None:
    assert authorizer.authorize(request_attrs) == expected


@pytest.mark.parametrize("who, verb, resource, namespace, group, name, expected", [
    pytest.param("system:kube-scheduler", "create", "pods", "default", "", "", False,
                 id="the scheduler may not create pods"),
    pytest.param("system:kube-proxy", "watch", "endpointslices", "", "discovery.k8s.io", "", True,
                 id="kube-proxy watches EndpointSlices cluster-wide"),
    pytest.param("system:serviceaccount:kube-system:replicaset-controller", "create", "pods", "default", "", "",
                 True, id="the replicaset controller creates pods"),
    pytest.param("system:serviceaccount:kube-system:replicaset-controller", "create", "deployments", "default",
                 "apps", "", False, id="the replicaset controller may not create deployments"),
    pytest.param("system:serviceaccount:kube-system:deployment-controller", "create", "replicasets", "default",
                 "apps", "", True, id="the deployment controller creates replicasets"),
    pytest.param("system:serviceaccount:kube-system:horizontal-pod-autoscaler", "update", "deployments",
                 "default", "apps", "web", False, id="the HPA may update scale but not the deployment"),
    pytest.param("system:kube-controller-manager", "update", "leases", "kube-system", "coordination.k8s.io",
                 "kube-scheduler", False, id="the controller manager may update only its own leader lease"),
    pytest.param("system:kube-scheduler", "create", "pods/binding", "default", "", "web", True,
                 id="the scheduler binds pods through the binding subresource"),
])
def test_bootstrap_component_roles(who: str, verb: str, resource: str, namespace: str, group: str, name: str,
                                   expected: bool) -> None:
    groups = ("system:serviceaccounts",) if who.startswith("system:serviceaccount:") else ()
    resource, _, subresource = resource.partition("/")
    request_attrs = Attributes(UserInfo(who, (*groups, "system:authenticated")), verb, namespace, group, resource,
                               subresource, name)
    assert RBACAuthorizer(FakeRules(bootstrap_policy.bootstrap_policy())).authorize(request_attrs).allowed \
        is expected


@pytest.mark.parametrize("verb, subresource, expected", [
    pytest.param("update", "", True, id="a kubelet in system:nodes may update its Node"),
    pytest.param("patch", "status", True, id="a kubelet may patch node status"),
    pytest.param("delete", "", False, id="a kubelet may not delete Nodes"),
])
def test_kubelets_get_system_node_through_the_system_nodes_group(verb: str, subresource: str,
                                                                 expected: bool) -> None:
    kubelet = UserInfo("system:node:node-1", ("system:nodes", "system:authenticated"))
    decision = RBACAuthorizer(FakeRules(bootstrap_policy.bootstrap_policy())).authorize(
        Attributes(kubelet, verb, "", "", "nodes", subresource, "node-1"))
    assert decision.allowed is expected


@pytest.mark.parametrize("request_attrs, message", [
    pytest.param(attrs(ALICE, "list", "pods", "default"),
                 'User "alice" cannot list resource "pods" in API group "" in the namespace "default"',
                 id="a namespaced request names the namespace"),
    pytest.param(attrs(ALICE, "list", "nodes"),
                 'User "alice" cannot list resource "nodes" in API group "" at the cluster scope',
                 id="a cluster-scoped request says at the cluster scope"),
    pytest.param(attrs(ALICE, "get", "pods", "dev", "web", subresource="log"),
                 'User "alice" cannot get resource "pods/log" in API group "" in the namespace "dev"',
                 id="a subresource is named as resource/subresource"),
    pytest.param(attrs(ALICE, "create", "deployments", "dev", group="apps"),
                 'User "alice" cannot create resource "deployments" in API group "apps" in the namespace "dev"',
                 id="the API group is named"),
    pytest.param(attrs(ALICE, "get", path="/healthz"), 'User "alice" cannot get path "/healthz"',
                 id="a non-resource request names the path"),
])
def test_forbidden_message(request_attrs: Attributes, message: str) -> None:
    assert forbidden_message(request_attrs) == message


@pytest.mark.parametrize("request_attrs, reason, message, details", [
    pytest.param(attrs(ALICE, "list", "secrets", "prod"), "",
                 'secrets is forbidden: User "alice" cannot list resource "secrets" in API group "" '
                 'in the namespace "prod"',
                 {"kind": "secrets"},
                 id="alice listing secrets in prod gets the exact real 403"),
    pytest.param(attrs(ALICE, "get", "secrets", "prod", "db"), "",
                 'secrets "db" is forbidden: User "alice" cannot get resource "secrets" in API group "" '
                 'in the namespace "prod"',
                 {"kind": "secrets", "name": "db"},
                 id="a named request names the object"),
    pytest.param(attrs(ALICE, "update", "deployments", "prod", "web", group="apps", subresource="scale"), "",
                 'deployments.apps "web" is forbidden: User "alice" cannot update resource "deployments/scale" '
                 'in API group "apps" in the namespace "prod"',
                 {"kind": "deployments", "name": "web", "group": "apps"},
                 id="a grouped resource is qualified and the subresource appears only in the reason"),
    pytest.param(attrs(UserInfo("carol"), "get", "pods", "dev", "web"),
                 'RBAC: role.rbac.authorization.k8s.io "no-such-role" not found',
                 'pods "web" is forbidden: User "carol" cannot get resource "pods" in API group "" '
                 'in the namespace "dev": RBAC: role.rbac.authorization.k8s.io "no-such-role" not found',
                 {"kind": "pods", "name": "web"},
                 id="the authorizer's reason is appended after a colon"),
    pytest.param(attrs(ALICE, "get", path="/metrics"), "",
                 'forbidden: User "alice" cannot get path "/metrics"', None,
                 id="a non-resource 403 starts with forbidden"),
])
def test_forbidden_error(request_attrs: Attributes, reason: str, message: str, details: dict | None) -> None:
    error = forbidden_error(request_attrs, reason)
    assert isinstance(error, errors.Forbidden)
    assert error.status.get("details") == details
    assert (error.code, error.status["reason"], error.message) == (403, "Forbidden", message)


def test_alice_lists_pods_in_dev_but_gets_the_exact_403_for_secrets_in_prod(authorizer: RBACAuthorizer) -> None:
    assert authorizer.authorize(attrs(ALICE, "list", "pods", "dev")).allowed
    denied = attrs(ALICE, "list", "secrets", "prod")
    decision = authorizer.authorize(denied)
    assert not decision.allowed
    assert forbidden_error(denied, decision.reason).message == (
        'secrets is forbidden: User "alice" cannot list resource "secrets" in API group "" in the namespace "prod"')


def test_a_new_binding_counts_from_the_next_request() -> None:
    objects = [role("pod-reader", "dev", POD_READER)]
    authorizer = RBACAuthorizer(FakeRules(objects))
    request_attrs = attrs(ALICE, "get", "pods", "dev", "web")
    assert not authorizer.authorize(request_attrs).allowed
    authorizer.rules_source = FakeRules(objects + [role_binding("b", "dev", "Role", "pod-reader", user("alice"))])
    assert authorizer.authorize(request_attrs).allowed


def test_rules_for_lists_cluster_rules_then_namespace_rules(authorizer: RBACAuthorizer) -> None:
    roles = by_name(bootstrap_policy.cluster_roles())
    # ClusterRoleBindings in the source's (name) order, then dev's RoleBindings.
    assert authorizer.rules_for(ALICE, "dev") == (
        roles["system:basic-user"]["rules"] + roles["system:discovery"]["rules"]
        + roles["system:public-info-viewer"]["rules"]
        + [{"verbs": ["list"], "apiGroups": [""], "resources": ["pods"]}])


# -- aggregation and the shape of the bootstrap policy -----------------------------

def test_aggregate_cluster_role_collects_matching_roles_in_name_order() -> None:
    monitoring = {"kind": "ClusterRole", "metadata": {"name": "monitoring"},
                  "aggregationRule": {"clusterRoleSelectors": [{"matchLabels": {"monitor": "true"}},
                                                               {"matchExpressions": [{"key": "extra",
                                                                                      "operator": "Exists"}]}]}}
    b = {"kind": "ClusterRole", "metadata": {"name": "b", "labels": {"monitor": "true"}}, "rules": [POD_READER]}
    a = {"kind": "ClusterRole", "metadata": {"name": "a", "labels": {"monitor": "true"}},
         "rules": [{"verbs": ["get"], "nonResourceURLs": ["/metrics"]}, POD_READER]}
    c = {"kind": "ClusterRole", "metadata": {"name": "c", "labels": {"extra": ""}},
         "rules": [{"verbs": ["list"], "apiGroups": [""], "resources": ["nodes"]}]}
    other = {"kind": "ClusterRole", "metadata": {"name": "d", "labels": {"monitor": "false"}}, "rules": [POD_READER]}
    assert aggregate_cluster_role(monitoring, [b, monitoring, other, c, a]) == [
        {"verbs": ["get"], "nonResourceURLs": ["/metrics"]}, POD_READER,
        {"verbs": ["list"], "apiGroups": [""], "resources": ["nodes"]}]



def aggregated(*selectors: dict) -> dict:
    return {"kind": "ClusterRole", "metadata": {"name": "aggregated"},
            "aggregationRule": {"clusterRoleSelectors": list(selectors)}}


def labelled(name: str, labels: dict, *rules: dict) -> dict:
    return {"kind": "ClusterRole", "metadata": {"name": name, "labels": labels}, "rules": list(rules)}


def test_a_rule_is_aggregated_once_however_its_empty_lists_are_spelled() -> None:
    # equality.Semantic.DeepEqual: a missing, null or empty list is the same (ruleExists).
    spelled_out = dict(POD_READER, resourceNames=[], nonResourceURLs=None)
    roles = [labelled("a", {"x": "y"}, POD_READER), labelled("b", {"x": "y"}, spelled_out)]
    assert aggregate_cluster_role(aggregated({"matchLabels": {"x": "y"}}), roles) == [POD_READER]
    assert same_rules([spelled_out], [POD_READER]) and same_rules(None, [])
    assert not same_rules([POD_READER], [dict(POD_READER, verbs=["list", "get"])])     # order within a list counts


def test_each_selector_adds_its_roles_after_the_previous_selectors_roles() -> None:
    nodes = {"verbs": ["list"], "apiGroups": [""], "resources": ["nodes"]}
    roles = [labelled("a", {"second": "true"}, nodes), labelled("z", {"first": "true"}, POD_READER)]
    role = aggregated({"matchLabels": {"first": "true"}}, {"matchLabels": {"second": "true"}})
    assert aggregate_cluster_role(role, roles) == [POD_READER, nodes]


def test_a_selector_that_does_not_convert_fails_the_whole_role() -> None:
    role = aggregated({"matchLabels": {"x": "y"}}, {"matchExpressions": [{"key": "x", "operator": "Near"}]})
    with pytest.raises(SelectorError, match='"Near" is not a valid pod selector operator'):
        aggregate_cluster_role(role, [labelled("a", {"x": "y"}, POD_READER)])

def by_name(objects: list[dict]) -> dict[str, dict]:
    return {o["metadata"]["name"]: o for o in objects}


def test_every_bootstrap_object_carries_the_bootstrapping_label_and_autoupdate() -> None:
    for obj in bootstrap_policy.bootstrap_policy():
        assert obj["metadata"]["labels"]["kubernetes.io/bootstrapping"] == "rbac-defaults"
        assert obj["metadata"]["annotations"] == {"rbac.authorization.kubernetes.io/autoupdate": "true"}


def test_every_binding_names_an_existing_cluster_role() -> None:
    roles = by_name(bootstrap_policy.cluster_roles())
    for binding in bootstrap_policy.cluster_role_bindings():
        assert binding["roleRef"]["name"] in roles


@pytest.mark.parametrize("controller", [
    "replicaset-controller", "deployment-controller", "statefulset-controller", "daemon-set-controller",
    "job-controller", "cronjob-controller", "node-controller", "endpoint-controller", "endpointslice-controller",
    "namespace-controller", "generic-garbage-collector", "service-account-controller",
    "horizontal-pod-autoscaler", "persistent-volume-binder", "attachdetach-controller", "service-controller",
    "route-controller", "clusterrole-aggregation-controller",
])
def test_each_controller_role_is_bound_to_its_kube_system_service_account(controller: str) -> None:
    binding = by_name(bootstrap_policy.cluster_role_bindings())[f"system:controller:{controller}"]
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": controller, "namespace": "kube-system"}]


def test_user_facing_roles_are_aggregated_like_a_real_cluster() -> None:
    roles = by_name(bootstrap_policy.cluster_roles())
    assert roles["view"]["aggregationRule"] == {
        "clusterRoleSelectors": [{"matchLabels": {"rbac.authorization.k8s.io/aggregate-to-view": "true"}}]}
    assert roles["view"]["rules"] == roles["system:aggregate-to-view"]["rules"]
    assert roles["edit"]["rules"] == roles["system:aggregate-to-edit"]["rules"] + roles["view"]["rules"]
    assert roles["admin"]["rules"] == roles["edit"]["rules"] + roles["system:aggregate-to-admin"]["rules"]
    assert roles["edit"]["metadata"]["labels"]["rbac.authorization.k8s.io/aggregate-to-admin"] == "true"


def test_the_aggregation_controller_may_rewrite_any_cluster_role() -> None:
    # controller_policy.go: "must have full permissions on clusterroles to allow it to mutate them in any way".
    role = by_name(bootstrap_policy.cluster_roles())["system:controller:clusterrole-aggregation-controller"]
    assert role["rules"] == [{"verbs": ["escalate", "get", "list", "patch", "update", "watch"],
                              "apiGroups": [RBAC], "resources": ["clusterroles"]}]


def test_rules_are_built_sorted_like_rule_or_die() -> None:
    assert bootstrap_policy.events_rule() == {"verbs": ["create", "patch", "update"],
                                              "apiGroups": ["", "events.k8s.io"], "resources": ["events"]}


def test_bootstrap_objects_are_fresh_on_every_call() -> None:
    first = bootstrap_policy.cluster_roles()
    first[0]["rules"].clear()
    assert bootstrap_policy.cluster_roles()[0]["rules"]
