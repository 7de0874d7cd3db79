"""The cells of each lab's nbgrader source notebook: ``(kind, grade_id, source, points)``.

Kinds: ``markdown`` and ``code`` (read-only cells), ``solution`` (the learner's answer cell: the part
between ``### BEGIN SOLUTION`` and ``### END SOLUTION`` becomes the stub) and ``tests`` (graded, with
visible asserts and a ``### BEGIN HIDDEN TESTS`` region that nbgrader removes from the released lab).

The hidden tests call the seeded scenario checks of ``engine.grading``: each compares the learner's
function with the engine's own answer and fails with a message that names the mistake.
"""

from __future__ import annotations

Cell = tuple[str, str, str, float]


def _md(grade_id: str, text: str) -> Cell:
    return ("markdown", grade_id, text, 0)


def _code(grade_id: str, text: str) -> Cell:
    return ("code", grade_id, text, 0)


def _solution(grade_id: str, text: str) -> Cell:
    return ("solution", grade_id, text, 0)


def _tests(grade_id: str, points: float, text: str) -> Cell:
    return ("tests", grade_id, text, points)


# ---------------------------------------------------------------------------------------------------------------
# lab02_etcd
# ---------------------------------------------------------------------------------------------------------------

def lab02_etcd() -> list[Cell]:
    see_watch = 'course/02_etcd.ipynb, section "Watch: following changes from a revision"'
    see_cas = 'course/03_apiserver.ipynb, section "5. Storage: resourceVersion and conflicts"'
    return [
        _md("intro", """
# Lab 2: etcd, the cluster's memory

Every object of a Kubernetes cluster lives in **etcd**, a key-value store, under a key such as
`/registry/pods/default/web`. Every component learns about changes by **watching** etcd (through the
API server), and every update is guarded by **optimistic concurrency**. In this lab you write the heart
of both, and the engine's own etcd (`engine.store.MemoryStore`) checks your code.

What you need from the lecture (`course/02_etcd.ipynb`):

- **Revisions.** The store has one global counter, the *revision*. Every write (a put, a delete, a
  transaction) makes exactly one new revision. Each key remembers `create_revision`, `mod_revision` (the
  revision of its last write) and `version` (how many times it was written since it was created).
- **MVCC.** Old versions are kept, so you can read the store *as it was* at any past revision.
- **Watch.** A watch from revision `r` first replays every change made at revisions `r, r+1, ...` and then
  follows new ones. That is how an informer catches up after a disconnect without missing anything.
- **Compaction.** Keeping every version forever would fill the disk, so the API server asks etcd to
  *compact* every five minutes: versions older than the compaction point are forgotten, and a watch from
  an older revision fails with `CompactedError` (which the API server turns into `410 Gone`).

Graded cells: 10 points. The visible tests below each answer cell check simple cases; hidden tests run
your functions on many random histories and compare them with the engine's store.
"""),
        _code("setup", f"""
from engine.sim import Loop
from engine.store import CompactedError, Compare, Event, KeyValue, MemoryStore, PutOp
from engine.grading import check, fail
from engine.grading.store import kept_history

# Where the checks below send you when something is not right yet.
WATCH_SECTION = {see_watch!r}
CAS_SECTION = {see_cas!r}

# A small store, written the way the API server writes it.
example = MemoryStore(Loop(seed=0))
example.put("/registry/configmaps/default/app", b"v1")     # revision 2 (a fresh store is at revision 1)
example.put("/registry/pods/default/web", b"running")      # revision 3
example.put("/registry/configmaps/default/app", b"v2")     # revision 4
example.delete_range("/registry/pods/default/web")         # revision 5
example.put("/registry/pods/default/api", b"pending")      # revision 6

history = kept_history(example)    # every event the store keeps, oldest first
for event in history:
    print(f"revision {{event.kv.mod_revision}}: {{event.type:6}} {{event.kv.key}} = {{event.kv.value!r}}")


def revisions(events):
    \"\"\"The mod revision of each event, for readable checks.\"\"\"
    return [getattr(getattr(event, "kv", None), "mod_revision", event) for event in (events or [])]
"""),
        _md("watch_intro", """
## Part 1: watch from a revision (5 points)

Write `watch_events(history, start_revision, compact_revision, prefix="")`: the events a new watch
on the keys starting with `prefix` receives from its history replay.

- `history` is the list of `Event`s the store keeps, oldest first (as printed above). An `Event` has a
  `type` (`"PUT"` or `"DELETE"`) and a `kv` (a `KeyValue` with `key`, `value`, `create_revision`,
  `mod_revision`, `version`). One transaction may make several events with the same `mod_revision`.
- `start_revision` is where the watch starts, **inclusive**: deliver every event whose
  `kv.mod_revision >= start_revision`, in the order of the history. `0` means "from now on": no history.
- `compact_revision` is the store's compaction point (0 when it never compacted). A watch that starts
  *below* it (`0 < start_revision < compact_revision`) cannot be served: raise
  `CompactedError(start_revision, compact_revision)`. Revision `compact_revision` itself is still there.
- only events whose key starts with `prefix` belong to the watch (`""` watches every key).

The engine's version is `MemoryStore.watch` in `engine/store/memory.py`.
"""),
        _solution("watch_events", """
def watch_events(history, start_revision, compact_revision, prefix=""):
    \"\"\"The events a watch on `prefix` from `start_revision` replays, or CompactedError.\"\"\"
    ### BEGIN SOLUTION
    if 0 < start_revision < compact_revision:
        raise CompactedError(start_revision, compact_revision)
    if start_revision <= 0:
        return []
    return [event for event in history
            if event.kv.mod_revision >= start_revision and event.kv.key.startswith(prefix)]
    ### END SOLUTION
"""),
        _tests("test_watch_from_revision", 2, """
got = watch_events(history, 4, 0)
check(revisions(got) == [4, 5, 6], "a watch from revision 4 replays the events of revisions 4, 5 and 6",
      expected=[4, 5, 6], got=revisions(got), hint="start_revision is inclusive", see=WATCH_SECTION)
check(revisions(watch_events(history, 0, 0)) == [], "start_revision 0 means 'from now on': no history",
      expected=[], got=revisions(watch_events(history, 0, 0)), see=WATCH_SECTION)
check(revisions(watch_events(history, 7, 0)) == [], "nothing has happened at revision 7 yet",
      expected=[], got=revisions(watch_events(history, 7, 0)), see=WATCH_SECTION)
### BEGIN HIDDEN TESTS
from engine.grading.store import check_watch
check_watch(watch_events, seed=20, scenarios=12, compactions=False, prefixes=("",))
### END HIDDEN TESTS
"""),
        _tests("test_watch_prefix", 1, """
pods = watch_events(history, 1, 0, prefix="/registry/pods/")
check(revisions(pods) == [3, 5, 6], "a watch on /registry/pods/ sees the pods' events only (revisions 3, 5, 6)",
      expected=[3, 5, 6], got=revisions(pods), see=WATCH_SECTION)
### BEGIN HIDDEN TESTS
from engine.grading.store import check_watch
check_watch(watch_events, seed=21, scenarios=12, compactions=False)
### END HIDDEN TESTS
"""),
        _tests("test_watch_compaction", 2, """
compacted = MemoryStore(Loop(seed=0))
for key, value in [("/registry/configmaps/default/app", b"v1"), ("/registry/pods/default/web", b"running"),
                   ("/registry/configmaps/default/app", b"v2")]:
    compacted.put(key, value)
compacted.compact(3)                   # the API server compacts every 5 minutes
kept = kept_history(compacted)
try:
    too_old = watch_events(kept, 2, 3)
except CompactedError:
    pass
else:
    fail("revision 2 is below the compaction point 3: the watch must raise CompactedError",
         expected="CompactedError(2, 3)", got=revisions(too_old), see=WATCH_SECTION)
check(revisions(watch_events(kept, 3, 3)) == [3, 4], "revision 3 itself survives the compaction at 3",
      expected=[3, 4], got=revisions(watch_events(kept, 3, 3)), see=WATCH_SECTION)
### BEGIN HIDDEN TESTS
from engine.grading.store import check_watch
check_watch(watch_events, seed=22, scenarios=15, only_compacted=True)
### END HIDDEN TESTS
"""),
        _md("cas_intro", """
## Part 2: compare-and-swap (5 points)

Two controllers may update the same object at the same time. Kubernetes never locks: each update says
which version it read (the object's `resourceVersion`, which *is* the etcd key's `mod_revision`), and
the API server writes only if the key has not changed since, in one etcd **transaction**:

```python
store.txn(compare=[Compare(key, "MOD", "=", expected_mod_revision)],
          success=[PutOp(key, new_value)],
          failure=[])
```

etcd checks every `Compare` and runs the `success` operations if all hold, the `failure` ones otherwise,
*atomically*: no other write can come between the check and the put. The response's `succeeded` says
which branch ran. A key that does not exist has `mod_revision` 0, so `expected_mod_revision=0` means
"create it only if nobody else has".

Write `cas_update(store, key, expected_mod_revision, new_value) -> bool`: put `new_value` only if the
key's `mod_revision` is still `expected_mod_revision`; return whether it did. The API server turns a
`False` into `409 Conflict` ("the object has been modified; please apply your changes to the latest
version and try again").
"""),
        _solution("cas_update", """
def cas_update(store, key, expected_mod_revision, new_value):
    \"\"\"Put `new_value` at `key` only if its mod_revision is still `expected_mod_revision`.\"\"\"
    ### BEGIN SOLUTION
    response = store.txn([Compare(key, "MOD", "=", expected_mod_revision)], [PutOp(key, new_value)], [])
    return response.succeeded
    ### END SOLUTION
"""),
        _tests("test_cas_basics", 2, """
store = MemoryStore(Loop(seed=0))
key = "/registry/configmaps/default/app"
read = store.put(key, b"v1").revision
check(cas_update(store, key, read, b"v2") is True, f"nobody changed the key since revision {read}: the swap happens",
      see=CAS_SECTION)
check(store.range(key).kvs[0].value == b"v2", "after a successful swap the key holds the new value",
      expected=b"v2", got=store.range(key).kvs[0].value, see=CAS_SECTION)
check(cas_update(store, key, read, b"v3") is False,
      f"the key changed after revision {read}: an update based on that read must fail", see=CAS_SECTION)
check(store.range(key).kvs[0].value == b"v2", "a failed swap changes nothing",
      expected=b"v2", got=store.range(key).kvs[0].value, see=CAS_SECTION)
check(cas_update(store, "/registry/configmaps/default/new", 0, b"x") is True,
      "expected_mod_revision 0 creates a key that does not exist yet", see=CAS_SECTION)
### BEGIN HIDDEN TESTS
from engine.grading.store import check_cas
check_cas(cas_update, seed=23, scenarios=12)
### END HIDDEN TESTS
"""),
        _tests("test_cas_race", 3, """
store = MemoryStore(Loop(seed=1))
key = "/registry/deployments/default/web"
read = store.put(key, b"replicas: 1").revision
# Two writers read the same revision; the first to write wins, the other must retry.
first = cas_update(store, key, read, b"replicas: 3")
second = cas_update(store, key, read, b"replicas: 5")
check((first, second) == (True, False), "of two writers that read the same revision, exactly one wins",
      expected=(True, False), got=(first, second), see=CAS_SECTION)
### BEGIN HIDDEN TESTS
from engine.grading.store import check_cas_race
check_cas_race(cas_update, seed=24, scenarios=10)
### END HIDDEN TESTS
"""),
        _md("outro", """
## What you built

`watch_events` is what etcd's watch does before it follows live changes, and what the API server's
watch cache does for its many watchers; `CompactedError` is the `410 Gone` that makes an informer list
again. `cas_update` is how every `kubectl apply`, every controller's status update and every leader
election lease renewal stays correct without locks. Next: the API server, in `lab03_apiserver`.
"""),
    ]


# ---------------------------------------------------------------------------------------------------------------
# lab03_apiserver
# ---------------------------------------------------------------------------------------------------------------

def lab03_apiserver() -> list[Cell]:
    see_rbac = 'course/03_apiserver.ipynb, section "2. Authorization: may this user do this?"'
    see_sel = 'engine/api/selectors.py (Requirement.matches)'
    return [
        _md("intro", """
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
        _code("setup", f"""
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
        _md("rbac_intro", """
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
        _solution("rule_matches", """
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
        _tests("test_rbac_rules", 2, """
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
from engine.grading.rbac import check_rules
check_rules(rule_matches, seed=30, n=400)
### END HIDDEN TESTS
"""),
        _md("subjects_intro", """
**Step 2.** `subject_matches(subject, user, binding_namespace)`: does one subject of a binding name this
user? A `User` subject matches the user's name, a `Group` subject one of the user's groups. A
`ServiceAccount` subject `{"kind": "ServiceAccount", "name": "robot", "namespace": "team-a"}` names the
user `system:serviceaccount:team-a:robot`; without a `namespace` it means the binding's own namespace
(`binding_namespace`, which is `""` for a ClusterRoleBinding: such a subject then matches nobody).
"""),
        _solution("subject_matches", """
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
        _tests("test_rbac_subjects", 1, """
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
from engine.grading.rbac import check_subjects
check_subjects(subject_matches, seed=31, n=300)
### END HIDDEN TESTS
"""),
        _md("authorize_intro", """
**Step 3.** `authorize(attrs, roles, cluster_roles, role_bindings, cluster_role_bindings) -> bool`: the
decision. The four lists hold every Role and RoleBinding of *every* namespace, every ClusterRole and
every ClusterRoleBinding of the cluster. Visit the ClusterRoleBindings, then the RoleBindings of the
request's namespace; for each binding with a subject that names the user, look up its roleRef and allow
as soon as one of its rules matches. A roleRef that names a missing role grants nothing. Use your
`rule_matches` and `subject_matches`.
"""),
        _solution("authorize", """
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
        _tests("test_rbac_bindings", 2, """
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
from engine.grading.rbac import check_authorize
check_authorize(authorize, seed=32, policies=10, requests=40)
### END HIDDEN TESTS
"""),
        _md("live_intro", """
**Your authorizer in a running API server.** `plug_authorizer(cluster, authorize)` replaces the API
server's RBAC authorizer with yours: every request from then on (except those of the cluster's admin,
in the group `system:masters`, which the real API server lets through before asking any authorizer)
is allowed or forbidden by your function, with the cluster's own RBAC objects. The test below makes a
Role and a RoleBinding with the admin, then sends requests as `alice`.
"""),
        _tests("test_rbac_in_api_server", 2, """
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
from engine.grading.rbac import check_in_api_server
for seed in (33, 34, 35):
    check_in_api_server(authorize, seed=seed, requests=50)
### END HIDDEN TESTS
"""),
        _md("selectors_intro", """
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
        _code("split_requirements", """
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
        _solution("selector_matches", """
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
        _tests("test_selector_equality", 1, """
web = {"app": "web", "tier": "frontend"}
check(selector_matches("app=web", web) is True, "app=web matches app: web", see=SELECTORS_SOURCE)
check(selector_matches("app==web,tier=backend", web) is False, "every requirement must hold", see=SELECTORS_SOURCE)
check(selector_matches("app!=db", web) is True, "app!=db matches app: web", see=SELECTORS_SOURCE)
check(selector_matches("", web) is True, "the empty selector selects everything", see=SELECTORS_SOURCE)
### BEGIN HIDDEN TESTS
from engine.grading.selectors import check_selectors
check_selectors(selector_matches, seed=36, n=300, operators=("=", "==", "!="))
### END HIDDEN TESTS
"""),
        _tests("test_selector_sets", 2, """
web = {"app": "web", "env": "prod"}
check(selector_matches("env in (prod, staging)", web) is True, "env in (prod, staging) matches env: prod",
      see=SELECTORS_SOURCE)
check(selector_matches("env notin (prod)", web) is False, "env notin (prod) rejects env: prod", see=SELECTORS_SOURCE)
check(selector_matches("app,!canary", web) is True, "app exists and canary does not", see=SELECTORS_SOURCE)
check(selector_matches("canary", web) is False, "a bare key requires the label", see=SELECTORS_SOURCE)
### BEGIN HIDDEN TESTS
from engine.grading.selectors import check_selectors
check_selectors(selector_matches, seed=37, n=400)
### END HIDDEN TESTS
"""),
        _md("outro", """
## What you built

Your `authorize` decided real requests inside a running API server, exactly where
`RBACAuthorizer.authorize` sits in the engine and `rbac.go` in Kubernetes; `kubectl auth can-i` asks the
same question. `selector_matches` is `labels.Selector.Matches`, used by `kubectl get -l`, by Services to
find their endpoints and by every controller to find the pods it owns.
"""),
    ]


LABS = {"lab02_etcd": lab02_etcd, "lab03_apiserver": lab03_apiserver}
