"""lab03_apiserver: the cells of its source notebook, and what its grading round trip expects."""

from __future__ import annotations

from lab_specs.cells import Cell, code, md, solution, tests


def cells() -> list[Cell]:
    see_rbac = 'course/03_apiserver.ipynb, section "2. Authorization: may this user do this?"'
    see_sel = 'engine/api/selectors.py (Requirement.matches)'
    return [
        md("intro", """
# Lab 3: kube-apiserver, who may do what, and to which objects

Every request to a cluster goes through the API server's pipeline: **authentication** (who is this?),
**authorization** (may they do this?), admission, validation, storage in etcd. In this lab you write
two pieces of it that every cluster uses on every request:

1. the **RBAC** authorization decision, which the engine then plugs into a *running* API server, so that
   your code decides real requests, and
2. **label selector** matching, how `kubectl get pods -l app=web`, a Service and a ReplicaSet pick
   their objects.

The lecture is `course/03_apiserver.ipynb`; the engine's versions are in `engine/apiserver/rbac.py` and
`engine/api/selectors.py`. Graded cells: 10 points. Hidden tests compare your functions with the
engine's on many generated roles, bindings, requests and selectors.
"""),
        code("setup", f"""
import engine
from engine.apiserver.authn import UserInfo
from engine.apiserver.rbac import Attributes
from engine.grading import check, fail, plug_authorizer

# Where the checks below send you when something is not right yet.
RBAC_SECTION = {see_rbac!r}
SELECTORS_SOURCE = {see_sel!r}

# What the authorizer sees of one request (engine.apiserver.rbac.Attributes):
example = Attributes(user=UserInfo("alice", ("dev", "system:authenticated")), verb="list",
                     namespace="team-a", api_group="", resource="configmaps")
example
"""),
        md("rbac_intro", """
## Part 1: RBAC (7 points)

RBAC objects are plain dicts in their real shape (`kubectl get role -o yaml`):

- a **Role** (namespaced) or **ClusterRole** holds `rules`; each rule (a PolicyRule) has `verbs`,
  `apiGroups`, `resources` and optionally `resourceNames`. `"*"` in a list matches anything.
- a **RoleBinding** (namespaced) or **ClusterRoleBinding** gives the rules of its `roleRef`
  (`{"kind": "Role" or "ClusterRole", "name": ...}`) to its `subjects`: `User`, `Group` or
  `ServiceAccount` entries.

A request is allowed when *some* rule matches it, from a binding that applies to the user:

- every **ClusterRoleBinding** applies everywhere (its roleRef is a ClusterRole);
- a **RoleBinding** applies only to requests *in its own namespace*; its roleRef is a Role of that
  namespace, or a ClusterRole whose rules then count in that namespace only.

RBAC never denies explicitly: nothing matches, the request is forbidden (`403`).

A request's `Attributes` carry `user` (`.name`, `.groups`), `verb`, `namespace`, `api_group`,
`resource`, `subresource` (such as `"scale"` or `"status"`, else `""`) and `name` (`""` for `list` and
`create`, which name no object).

**Step 1.** `rule_matches(rule, attrs)`: does one rule cover the request?

- the verb is in `verbs` (or `"*"` is), the API group in `apiGroups` (or `"*"`);
- `resources` contains `"*"`, or the resource, written `resource/subresource` when the request is for a
  subresource (`"deployments/scale"`; a rule for `"deployments"` does not cover `"deployments/scale"`),
  or `"*/<subresource>"`, which covers that subresource of any resource;
- a rule with `resourceNames` covers only requests for one of those names, so it never covers a request
  without a name (`list`, `create`).
"""),
        solution("rule_matches", """
def rule_matches(rule, attrs):
    \"\"\"True when the PolicyRule `rule` (a dict) covers the request `attrs`.\"\"\"
    ### BEGIN SOLUTION
    resource = f"{attrs.resource}/{attrs.subresource}" if attrs.subresource else attrs.resource
    return (any(verb in ("*", attrs.verb) for verb in rule.get("verbs") or [])
            and any(group in ("*", attrs.api_group) for group in rule.get("apiGroups") or [])
            and any(allowed in ("*", resource) or (attrs.subresource and allowed == "*/" + attrs.subresource)
                    for allowed in rule.get("resources") or [])
            and (not rule.get("resourceNames") or attrs.name in rule["resourceNames"]))
    ### END SOLUTION
"""),
        tests("test_rbac_rules", 2, """
reader = {"verbs": ["get", "list"], "apiGroups": [""], "resources": ["configmaps"]}
check(rule_matches(reader, example) is True, "a rule for get/list of configmaps covers 'list configmaps'",
      see=RBAC_SECTION)
check(rule_matches({**reader, "apiGroups": ["apps"]}, example) is False,
      "configmaps are in the core group '': a rule for apiGroups ['apps'] does not cover them", see=RBAC_SECTION)
named = {**reader, "resourceNames": ["app-config"]}
check(rule_matches(named, example) is False,
      "a rule with resourceNames cannot allow list (a list names no object)", see=RBAC_SECTION)
scale = Attributes(user=example.user, verb="get", namespace="team-a", api_group="apps",
                   resource="deployments", subresource="scale", name="web")
check(rule_matches({"verbs": ["get"], "apiGroups": ["apps"], "resources": ["deployments"]}, scale) is False,
      "a rule for deployments does not cover their scale subresource", see=RBAC_SECTION)
check(rule_matches({"verbs": ["*"], "apiGroups": ["*"], "resources": ["*/scale"]}, scale) is True,
      "*/scale covers the scale subresource of any resource", see=RBAC_SECTION)
### BEGIN HIDDEN TESTS
from engine.grading.integrity import ensure_installed
ensure_installed()     # the engine as installed, whatever the notebook patched
from engine.grading.rbac import check_rules
check_rules(rule_matches, seed=30, n=400)
### END HIDDEN TESTS
"""),
        md("subjects_intro", """
**Step 2.** `subject_matches(subject, user, binding_namespace)`: does one subject of a binding name this
user? A `User` subject matches the user's name, a `Group` subject one of the user's groups. A
`ServiceAccount` subject `{"kind": "ServiceAccount", "name": "robot", "namespace": "team-a"}` names the
user `system:serviceaccount:team-a:robot`; without a `namespace` it means the binding's own namespace
(`binding_namespace`, which is `""` for a ClusterRoleBinding: such a subject then matches nobody).
"""),
        solution("subject_matches", """
def subject_matches(subject, user, binding_namespace):
    \"\"\"True when `subject` (a dict from a binding's `subjects`) names `user` (`.name`, `.groups`).\"\"\"
    ### BEGIN SOLUTION
    kind, name = subject.get("kind"), subject.get("name", "")
    if kind == "User":
        return user.name == name
    if kind == "Group":
        return name in user.groups
    if kind == "ServiceAccount":
        namespace = subject.get("namespace") or binding_namespace
        return bool(namespace) and user.name == f"system:serviceaccount:{namespace}:{name}"
    return False
    ### END SOLUTION
"""),
        tests("test_rbac_subjects", 1, """
alice = UserInfo("alice", ("dev", "system:authenticated"))
check(subject_matches({"kind": "User", "name": "alice"}, alice, "team-a") is True, "User alice names alice",
      see=RBAC_SECTION)
check(subject_matches({"kind": "Group", "name": "dev"}, alice, "team-a") is True, "alice is in group dev",
      see=RBAC_SECTION)
robot = UserInfo("system:serviceaccount:team-a:robot", ("system:serviceaccounts",))
check(subject_matches({"kind": "ServiceAccount", "name": "robot"}, robot, "team-a") is True,
      "a ServiceAccount subject without a namespace means the binding's namespace", see=RBAC_SECTION)
check(subject_matches({"kind": "ServiceAccount", "name": "robot"}, robot, "team-b") is False,
      "robot of team-a is not robot of team-b", see=RBAC_SECTION)
### BEGIN HIDDEN TESTS
from engine.grading.integrity import ensure_installed
ensure_installed()     # the engine as installed, whatever the notebook patched
from engine.grading.rbac import check_subjects
check_subjects(subject_matches, seed=31, n=300)
### END HIDDEN TESTS
"""),
        md("authorize_intro", """
**Step 3.** `authorize(attrs, roles, cluster_roles, role_bindings, cluster_role_bindings) -> bool`: the
decision. The four lists hold every Role and RoleBinding of *every* namespace, every ClusterRole and
every ClusterRoleBinding of the cluster. Visit the ClusterRoleBindings, then the RoleBindings of the
request's namespace; for each binding with a subject that names the user, look up its roleRef and allow
as soon as one of its rules matches. A roleRef that names a missing role grants nothing. Use your
`rule_matches` and `subject_matches`.
"""),
        solution("authorize", """
def authorize(attrs, roles, cluster_roles, role_bindings, cluster_role_bindings):
    \"\"\"True when RBAC allows the request `attrs`, given every RBAC object of the cluster.\"\"\"
    ### BEGIN SOLUTION
    def rules_of(role_ref, namespace):
        if role_ref.get("kind") == "ClusterRole":
            candidates = cluster_roles
        elif role_ref.get("kind") == "Role" and namespace:
            candidates = [role for role in roles if role["metadata"].get("namespace") == namespace]
        else:
            return []
        for role in candidates:
            if role["metadata"]["name"] == role_ref.get("name"):
                return role.get("rules") or []
        return []

    applicable = [(binding, "") for binding in cluster_role_bindings]
    if attrs.namespace:
        applicable += [(binding, attrs.namespace) for binding in role_bindings
                       if binding["metadata"].get("namespace") == attrs.namespace]
    for binding, namespace in applicable:
        if not any(subject_matches(subject, attrs.user, namespace) for subject in binding.get("subjects") or []):
            continue
        if any(rule_matches(rule, attrs) for rule in rules_of(binding.get("roleRef") or {}, namespace)):
            return True
    return False
    ### END SOLUTION
"""),
        tests("test_rbac_bindings", 2, """
reader_role = {"kind": "Role", "metadata": {"name": "reader", "namespace": "team-a"},
               "rules": [{"verbs": ["get", "list"], "apiGroups": [""], "resources": ["configmaps"]}]}
binding = {"kind": "RoleBinding", "metadata": {"name": "alice-reads", "namespace": "team-a"},
           "subjects": [{"kind": "User", "name": "alice"}], "roleRef": {"kind": "Role", "name": "reader"}}
check(authorize(example, [reader_role], [], [binding], []) is True,
      "alice is bound to a Role that lets her list configmaps in team-a", see=RBAC_SECTION)
elsewhere = Attributes(user=example.user, verb="list", namespace="team-b", api_group="", resource="configmaps")
check(authorize(elsewhere, [reader_role], [], [binding], []) is False,
      "a RoleBinding in team-a grants nothing in team-b", see=RBAC_SECTION)
check(authorize(example, [], [], [], []) is False, "no bindings, no access: RBAC denies by default",
      see=RBAC_SECTION)
### BEGIN HIDDEN TESTS
from engine.grading.integrity import ensure_installed
ensure_installed()     # the engine as installed, whatever the notebook patched
from engine.grading.rbac import check_authorize
check_authorize(authorize, seed=32, policies=10, requests=40)
### END HIDDEN TESTS
"""),
        md("live_intro", """
**Your authorizer in a running API server.** `plug_authorizer(cluster, authorize)` replaces the API
server's RBAC authorizer with yours: every request from then on (except those of the cluster's admin,
in the group `system:masters`, which the real API server lets through before asking any authorizer)
is allowed or forbidden by your function, with the cluster's own RBAC objects. The test below makes a
Role and a RoleBinding with the admin, then sends requests as `alice`.
"""),
        tests("test_rbac_in_api_server", 2, """
cluster = engine.Cluster(nodes=0, seed=3)
cluster.apply(\"\"\"
apiVersion: v1
kind: Namespace
metadata: {name: team-a}
---
apiVersion: v1
kind: Namespace
metadata: {name: team-b}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: reader, namespace: team-a}
rules:
- {apiGroups: [""], resources: [configmaps], verbs: [get, list]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: alice-reads, namespace: team-a}
subjects: [{kind: User, name: alice, apiGroup: rbac.authorization.k8s.io}]
roleRef: {kind: Role, name: reader, apiGroup: rbac.authorization.k8s.io}
\"\"\")
plug_authorizer(cluster, authorize)
alice_client = cluster.client("alice", ("dev",))
alice_client.list("configmaps", "team-a")          # allowed by your authorize
try:
    alice_client.list("configmaps", "team-b")
except engine.Forbidden as error:
    print(error.status["message"])
else:
    fail("alice has no binding in team-b: listing configmaps there must be forbidden", see=RBAC_SECTION)
### BEGIN HIDDEN TESTS
from engine.grading.integrity import ensure_installed
ensure_installed()     # the engine as installed, whatever the notebook patched
from engine.grading.rbac import check_in_api_server
for seed in (33, 34, 35):
    check_in_api_server(authorize, seed=seed, requests=50)
### END HIDDEN TESTS
"""),
        md("selectors_intro", """
## Part 2: label selectors (3 points)

A label selector is a comma-separated list of requirements, **all** of which must hold:

| requirement | matches objects whose labels ... |
| --- | --- |
| `app=web` or `app==web` | have `app` with the value `web` |
| `app!=web` | do **not** have `app=web`: another value, *or no `app` label at all* |
| `env in (prod, staging)` | have `env` with one of those values |
| `env notin (dev)` | do not have `env` with one of those values (no `env` label at all also matches) |
| `app` | have an `app` label, whatever its value |
| `!canary` | have no `canary` label |

The empty selector `""` selects everything. Spaces around operators, values and commas do not matter.
`split_requirements` below splits a selector into its requirements for you (commas inside parentheses
belong to a set); write `selector_matches(selector, labels) -> bool`.
"""),
        code("split_requirements", """
def split_requirements(selector):
    \"\"\"'app=web, env in (prod,dev)' -> ['app=web', 'env in (prod,dev)']\"\"\"
    parts, depth, current = [], 0, ""
    for char in selector:
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == "," and depth == 0:
            parts.append(current.strip())
            current = ""
        else:
            current += char
    parts.append(current.strip())
    return [part for part in parts if part]


split_requirements("app=web, env in (prod,dev), !canary")
"""),
        solution("selector_matches", """
def selector_matches(selector, labels):
    \"\"\"True when the label map `labels` satisfies every requirement of `selector`.\"\"\"
    ### BEGIN SOLUTION
    for requirement in split_requirements(selector):
        if "(" in requirement:
            head, values = requirement.split("(", 1)
            key, operator = head.split()
            wanted = {value.strip() for value in values.rstrip(")").split(",")}
            if operator == "in" and labels.get(key) not in wanted:
                return False
            if operator == "notin" and key in labels and labels[key] in wanted:
                return False
        elif "!=" in requirement:
            key, value = (part.strip() for part in requirement.split("!=", 1))
            if labels.get(key) == value:
                return False
        elif "=" in requirement:
            key, value = (part.strip() for part in requirement.replace("==", "=").split("=", 1))
            if labels.get(key) != value:
                return False
        elif requirement.startswith("!"):
            if requirement[1:].strip() in labels:
                return False
        elif requirement not in labels:
            return False
    return True
    ### END SOLUTION
"""),
        tests("test_selector_equality", 1, """
web = {"app": "web", "tier": "frontend"}
check(selector_matches("app=web", web) is True, "app=web matches app: web", see=SELECTORS_SOURCE)
check(selector_matches("app==web,tier=backend", web) is False, "every requirement must hold", see=SELECTORS_SOURCE)
check(selector_matches("app!=db", web) is True, "app!=db matches app: web", see=SELECTORS_SOURCE)
check(selector_matches("", web) is True, "the empty selector selects everything", see=SELECTORS_SOURCE)
### BEGIN HIDDEN TESTS
from engine.grading.integrity import ensure_installed
ensure_installed()     # the engine as installed, whatever the notebook patched
from engine.grading.selectors import check_selectors
check_selectors(selector_matches, seed=36, n=300, operators=("=", "==", "!="))
### END HIDDEN TESTS
"""),
        tests("test_selector_sets", 2, """
web = {"app": "web", "env": "prod"}
check(selector_matches("env in (prod, staging)", web) is True, "env in (prod, staging) matches env: prod",
      see=SELECTORS_SOURCE)
check(selector_matches("env notin (prod)", web) is False, "env notin (prod) rejects env: prod", see=SELECTORS_SOURCE)
check(selector_matches("app,!canary", web) is True, "app exists and canary does not", see=SELECTORS_SOURCE)
check(selector_matches("canary", web) is False, "a bare key requires the label", see=SELECTORS_SOURCE)
### BEGIN HIDDEN TESTS
from engine.grading.integrity import ensure_installed
ensure_installed()     # the engine as installed, whatever the notebook patched
from engine.grading.selectors import check_selectors
check_selectors(selector_matches, seed=37, n=400)
### END HIDDEN TESTS
"""),
        md("outro", """
## What you built

Your `authorize` decided real requests inside a running API server, exactly where
`RBACAuthorizer.authorize` sits in the engine and `rbac.go` in Kubernetes; `kubectl auth can-i` asks the
same question. `selector_matches` is `labels.Selector.Matches`, used by `kubectl get -l`, by Services to
find their endpoints and by every controller to find the pods it owns.
"""),
    ]


FULL = {"test_rbac_rules": 2, "test_rbac_subjects": 1, "test_rbac_bindings": 2,
        "test_rbac_in_api_server": 2, "test_selector_equality": 1, "test_selector_sets": 2}
"""Points per graded cell: what the solution scores."""

BROKEN = ("broken_deleted_cell", "broken_import")
"""Which kinds of broken submission the round trip hands in for this lab (tests/grading/test_round_trip.py)."""

SECRETS = ("check_authorize", "check_in_api_server", "check_selectors", "check_rules")
"""Names of hidden-test helpers that must never appear in a released lab or in feedback."""

_EDITS = {
    "wrong_any_namespace": ("authorize", '\n                       if binding["metadata"].get("namespace") == attrs.namespace]',
                            "]", {"test_rbac_bindings", "test_rbac_in_api_server"},
                            "a RoleBinding grants only in its own namespace"),
    "wrong_names_on_list": ("rule_matches", '(not rule.get("resourceNames") or attrs.name in rule["resourceNames"])',
                            '(not rule.get("resourceNames") or not attrs.name or attrs.name in rule["resourceNames"])',
                            {"test_rbac_rules", "test_rbac_bindings"}, "resourceNames"),
    "wrong_not_equal": ("selector_matches", "            if labels.get(key) == value:\n",
                        "            if key not in labels or labels[key] == value:\n",
                        {"test_selector_equality", "test_selector_sets"}, "also select objects without the label"),
}


_DELEGATES = """
from engine.api.selectors import parse


def selector_matches(selector, labels):
    return parse(selector).matches(labels)
"""


def wrong_answers() -> dict[str, tuple[str, str, set[str], str]]:
    """Typical mistakes, each a one-line change of the solution (so they follow its text), and an answer that
    hands its work to the engine: student -> (answer cell id, its wrong source, graded cells that fail, words in
    feedback)."""
    sources = {grade_id: text for kind, grade_id, text, _ in cells() if kind == "solution"}
    wrong = {"wrong_delegates": ("selector_matches", _DELEGATES, {"test_selector_equality", "test_selector_sets"},
                                 "hands the work to the engine's own implementation")}
    for student, (cell_id, old, new, failing, words) in _EDITS.items():
        source = sources[cell_id].strip("\n")
        assert old in source, f"{student}: the solution of {cell_id} changed; update lab03_apiserver._EDITS"
        wrong[student] = (cell_id, source.replace(old, new), failing, words)
    return wrong
