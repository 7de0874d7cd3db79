"""RBAC scenarios for the API server lab: generated policies and requests, and the lab's checks.

Interface:

- ``random_policy(seed)``: Roles, ClusterRoles and their bindings for users ``alice`` /
  ``bob`` / group ``dev`` / a ServiceAccount, in namespaces ``team-a`` and ``team-b``;
  ``random_requests(seed, n)``: ``Request`` specs to send.
- ``reference_authorize(attrs, roles, cluster_roles, role_bindings, cluster_role_bindings)``:
  the engine's decision on plain lists, for pure-function comparisons.
- ``seed_objects(cluster)``, ``apply_policy(cluster, policy)`` and ``send(cluster, request)``:
  set a running cluster up and perform one request as a real client call (``"allowed"`` or
  ``"forbidden"``; any other API error means the authorizer let it through).
- ``check_rules``, ``check_subjects``, ``check_authorize`` (pure functions) and
  ``check_in_api_server`` (the learner's ``authorize`` plugged into a running API server,
  see ``engine.grading.authorizer``): raise a ``GradingFailure`` that names the mistake.
"""

from __future__ import annotations

import copy
import random
from dataclasses import dataclass
from typing import Any, Callable

from engine.api import errors
from engine.apiserver.authn import UserInfo
from engine.apiserver.rbac import RBAC_GROUP, Attributes, RBACAuthorizer
from engine.grading.authorizer import LearnerAuthorize, plug_authorizer
from engine.grading.delegation import OwnWork
from engine.grading.feedback import Outcome, _diagnosis, check, compare, describe_exception, fail

NAMESPACES = ("team-a", "team-b")
USERS = {
    "alice": ("dev",),
    "bob": (),
    "system:serviceaccount:team-a:robot": ("system:serviceaccounts", "system:serviceaccounts:team-a"),
}
RESOURCES = (("", "configmaps"), ("", "secrets"), ("apps", "deployments"))
OBJECT_NAMES = ("alpha", "beta")


class ListRules:
    """A ``RulesSource`` over plain lists of RBAC objects (what the learner's function receives)."""

    def __init__(self, roles: list[dict], cluster_roles: list[dict], role_bindings: list[dict],
                 cluster_role_bindings: list[dict]) -> None:
        self.roles, self.cluster_roles = roles, cluster_roles
        self.role_bindings, self.cluster_role_bindings = role_bindings, cluster_role_bindings

    def list_cluster_role_bindings(self) -> list[dict]:
        return self.cluster_role_bindings

    def list_role_bindings(self, namespace: str) -> list[dict]:
        return [b for b in self.role_bindings if b["metadata"].get("namespace") == namespace]

    def get_cluster_role(self, name: str) -> dict | None:
        return next((r for r in self.cluster_roles if r["metadata"]["name"] == name), None)

    def get_role(self, namespace: str, name: str) -> dict | None:
        return next((r for r in self.roles if r["metadata"]["name"] == name
                     and r["metadata"].get("namespace") == namespace), None)


def reference_authorize(attrs: Attributes, roles: list[dict], cluster_roles: list[dict], role_bindings: list[dict],
                        cluster_role_bindings: list[dict]) -> bool:
    """The engine's RBAC decision for ``attrs`` given exactly these objects."""
    return RBACAuthorizer(ListRules(roles, cluster_roles, role_bindings, cluster_role_bindings)).authorize(attrs).allowed


# -- generated policies and requests ------------------------------------------------

def _rule(rng: random.Random) -> dict:
    group, resource = rng.choice(RESOURCES)
    rule: dict[str, Any] = {
        "apiGroups": [rng.choice([group, group, "*"])],
        "resources": [rng.choice([resource, resource, resource, "*", f"{resource}/status"])],
        "verbs": rng.choice([["get"], ["list"], ["get", "list"], ["create", "delete"], ["update", "patch"], ["*"],
                             ["get", "list", "watch"]]),
    }
    if rule["apiGroups"] == ["apps"] and rng.random() < 0.3:
        rule["resources"] = [rng.choice(["deployments/scale", "*/scale"])]
    if rng.random() < 0.25:
        rule["resourceNames"] = [rng.choice(OBJECT_NAMES)]
    return rule


def _subject(rng: random.Random, namespace: str | None) -> dict:
    roll = rng.random()
    if roll < 0.4:
        return {"kind": "User", "apiGroup": RBAC_GROUP, "name": rng.choice(["alice", "bob"])}
    if roll < 0.7:
        return {"kind": "Group", "apiGroup": RBAC_GROUP, "name": rng.choice(["dev", "system:serviceaccounts"])}
    subject = {"kind": "ServiceAccount", "name": "robot"}
    if namespace is None or rng.random() < 0.5:
        subject["namespace"] = rng.choice(NAMESPACES)
    return subject


def random_policy(seed: int, *, roles: int = 4, cluster_roles: int = 3, role_bindings: int = 5,
                  cluster_role_bindings: int = 1) -> dict[str, list[dict]]:
    """Generated RBAC objects, keyed ``roles``, ``clusterroles``, ``rolebindings``, ``clusterrolebindings``.

    Names are ``<seed>``-free and deterministic; some bindings point at roles that do not
    exist, and RoleBindings name ClusterRoles too, as real clusters do.
    """
    rng = random.Random(seed)
    made: dict[str, list[dict]] = {"roles": [], "clusterroles": [], "rolebindings": [], "clusterrolebindings": []}
    for index in range(roles):
        namespace = rng.choice(NAMESPACES)
        made["roles"].append({"apiVersion": f"{RBAC_GROUP}/v1", "kind": "Role",
                              "metadata": {"name": f"role-{index}", "namespace": namespace},
                              "rules": [_rule(rng) for _ in range(rng.randint(1, 3))]})
    for index in range(cluster_roles):
        made["clusterroles"].append({"apiVersion": f"{RBAC_GROUP}/v1", "kind": "ClusterRole",
                                     "metadata": {"name": f"lab-clusterrole-{index}"},
                                     "rules": [_rule(rng) for _ in range(rng.randint(1, 2))]})
    for index in range(role_bindings):
        namespace = rng.choice(NAMESPACES)
        if rng.random() < 0.6:
            ref = {"apiGroup": RBAC_GROUP, "kind": "Role", "name": f"role-{rng.randrange(roles + 1)}"}
        else:
            ref = {"apiGroup": RBAC_GROUP, "kind": "ClusterRole", "name": f"lab-clusterrole-{rng.randrange(cluster_roles)}"}
        made["rolebindings"].append({"apiVersion": f"{RBAC_GROUP}/v1", "kind": "RoleBinding",
                                     "metadata": {"name": f"binding-{index}", "namespace": namespace},
                                     "subjects": [_subject(rng, namespace) for _ in range(rng.randint(1, 2))],
                                     "roleRef": ref})
    for index in range(cluster_role_bindings):
        ref = {"apiGroup": RBAC_GROUP, "kind": "ClusterRole", "name": f"lab-clusterrole-{rng.randrange(cluster_roles)}"}
        made["clusterrolebindings"].append({"apiVersion": f"{RBAC_GROUP}/v1", "kind": "ClusterRoleBinding",
                                            "metadata": {"name": f"lab-binding-{index}"},
                                            "subjects": [_subject(rng, None)], "roleRef": ref})
    return made


@dataclass(frozen=True)
class Request:
    """One API request a test sends as ``user``."""

    user: str
    verb: str
    api_group: str
    resource: str
    namespace: str
    name: str = ""
    subresource: str = ""

    @property
    def groups(self) -> tuple[str, ...]:
        return USERS.get(self.user, ())

    def attributes(self) -> Attributes:
        """What the API server's authorizer sees for this request (authenticated users get system:authenticated)."""
        return Attributes(user=UserInfo(self.user, (*self.groups, "system:authenticated")), verb=self.verb,
                          namespace=self.namespace, api_group=self.api_group, resource=self.resource,
                          subresource=self.subresource, name=self.name)

    def __str__(self) -> str:
        what = f"{self.resource}/{self.subresource}" if self.subresource else self.resource
        named = f' "{self.name}"' if self.name else ""
        group = f" (API group {self.api_group!r})" if self.api_group else ""
        return f"{self.user} {self.verb} {what}{named}{group} in namespace {self.namespace}"


def random_requests(seed: int, n: int) -> list[Request]:
    """``n`` requests for the generated policy's users, verbs, resources and namespaces."""
    rng = random.Random(seed)
    requests = []
    for _ in range(n):
        group, resource = rng.choice(RESOURCES)
        verb = rng.choice(["get", "get", "list", "create", "update", "patch", "delete"])
        name = "" if verb in ("list", "create") else rng.choice(OBJECT_NAMES)
        subresource = ""
        if resource == "deployments" and verb in ("get", "update") and rng.random() < 0.4:
            subresource = "scale"
        requests.append(Request(rng.choice(list(USERS)), verb, group, resource, rng.choice(NAMESPACES), name,
                                subresource))
    return requests


def _body(request: Request, name: str) -> dict:
    if request.resource == "deployments":
        return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "namespace": request.namespace},
                "spec": {"replicas": 1, "selector": {"matchLabels": {"app": name}},
                         "template": {"metadata": {"labels": {"app": name}},
                                      "spec": {"containers": [{"name": "web", "image": "nginx"}]}}}}
    kind = {"configmaps": "ConfigMap", "secrets": "Secret"}[request.resource]
    return {"apiVersion": "v1", "kind": kind, "metadata": {"name": name, "namespace": request.namespace},
            "data": {}}


def seed_objects(cluster: Any) -> None:
    """The namespaces and objects the generated requests name, created by the cluster's admin."""
    for namespace in NAMESPACES:
        cluster.admin.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}})
        for group, resource in RESOURCES:
            for name in OBJECT_NAMES:
                probe = Request("admin", "create", group, resource, namespace)
                cluster.admin.create(_body(probe, name))


def apply_policy(cluster: Any, policy: dict[str, list[dict]]) -> None:
    """Create every object of a ``random_policy`` as the cluster's admin."""
    for kind in ("roles", "clusterroles", "rolebindings", "clusterrolebindings"):
        for obj in policy[kind]:
            cluster.admin.create(obj)


def send(cluster: Any, request: Request, counter: list[int] | None = None) -> str:
    """Send ``request`` as its user through the real API server: ``"allowed"`` or ``"forbidden"``."""
    client = cluster.client(request.user, request.groups)
    admin = cluster.admin
    try:
        if request.subresource == "scale":
            if request.verb == "get":
                client.get(request.resource, request.name, request.namespace, subresource="scale")
            else:
                scale = admin.get(request.resource, request.name, request.namespace, subresource="scale")
                # Client.scale would GET the scale first (a second request to authorize): PUT it alone.
                client._call("update", request.resource, namespace=request.namespace, name=request.name,
                             subresource="scale", body=scale)
        elif request.verb == "get":
            client.get(request.resource, request.name, request.namespace)
        elif request.verb == "list":
            client.list(request.resource, request.namespace)
        elif request.verb == "create":
            number = counter[0] if counter else 0
            if counter:
                counter[0] += 1
            client.create(_body(request, f"made-{number}"))
        elif request.verb == "update":
            current = admin.get(request.resource, request.name, request.namespace)
            client.update(current)
        elif request.verb == "patch":
            client.patch(request.resource, request.name, {"metadata": {"labels": {"touched": "yes"}}},
                         request.namespace)
        elif request.verb == "delete":
            client.delete(request.resource, request.name, request.namespace)
            admin.create(_body(request, request.name))     # put it back for the next requests
        else:
            raise ValueError(f"no client call for verb {request.verb!r}")
    except errors.Forbidden:
        return "forbidden"
    except errors.ApiError:
        return "allowed"                 # past the authorizer; failed later in the pipeline
    return "allowed"


# -- the lab's checks ---------------------------------------------------------------

SEE_RBAC = ("course/03_apiserver.ipynb, section \"2. Authorization: may this user do this?\"; "
            "engine module engine.apiserver.rbac (rule_allows, visit_rules_for, _applies_to_user)")


def _describe_rule_case(rule: dict, attrs: Attributes) -> str:
    return f"rule {rule} against: {_describe_attrs(attrs)}"


def _describe_attrs(attrs: Attributes) -> str:
    what = f"{attrs.resource}/{attrs.subresource}" if attrs.subresource else attrs.resource
    named = f' "{attrs.name}"' if attrs.name else ""
    return (f"{attrs.user.name} (groups {list(attrs.user.groups)}) {attrs.verb} {what}{named} in API group "
            f"{attrs.api_group!r}, namespace {attrs.namespace!r}")


def diagnose_rule(case: tuple, expected: Outcome, got: Outcome) -> str | None:
    rule, attrs = case
    if got.error is not None or expected.error is not None:
        return None
    if not isinstance(got.value, bool):
        return "return True or False"
    if expected.value is False and got.value is True:
        if rule.get("resourceNames") and not attrs.name:
            return (f"{attrs.verb} names no object, and a rule with resourceNames allows only requests for those "
                    f"names: it can never allow list, watch, create or deletecollection")
        if rule.get("resourceNames") and attrs.name not in rule["resourceNames"]:
            return f"the rule only covers the objects named {rule['resourceNames']}, not {attrs.name!r}"
        if attrs.subresource and any(r == attrs.resource for r in rule.get("resources") or ()):
            return (f"a rule for {attrs.resource!r} does not cover its subresource {attrs.subresource!r}: it needs "
                    f"{attrs.resource}/{attrs.subresource}, */{attrs.subresource} or *")
        if not any(g in ("*", attrs.api_group) for g in rule.get("apiGroups") or ()):
            return f"the rule's apiGroups {rule.get('apiGroups')} do not include the request's group {attrs.api_group!r}"
        if not attrs.subresource and any(r.startswith(f"{attrs.resource}/") for r in rule.get("resources") or ()):
            return f"a rule for a subresource ({rule['resources']}) does not cover the resource {attrs.resource!r} itself"
    if expected.value is True and got.value is False:
        if attrs.subresource and f"*/{attrs.subresource}" in (rule.get("resources") or ()):
            return f"*/{attrs.subresource} matches the {attrs.subresource} subresource of any resource"
        if "*" in (rule.get("verbs") or ()) or "*" in (rule.get("apiGroups") or ()) or "*" in (rule.get("resources") or ()):
            return "'*' in verbs, apiGroups or resources matches anything"
    return None


def own_work(what: str) -> OwnWork:
    """The engine's own RBAC pieces that the lab's ``what`` (rule_matches, subject_matches, authorize) must not
    hand its work to: a rule's matching, a subject's, and the whole decision (which uses both)."""
    from engine.apiserver import rbac

    rules = [rbac.rule_allows, rbac.verb_matches, rbac.api_group_matches, rbac.resource_matches,
             rbac.resource_name_matches]
    subjects = [rbac._applies_to_user, rbac._applies_to]
    pieces = {"rule_matches": rules, "subject_matches": subjects,
              "authorize": [RBACAuthorizer, reference_authorize, ListRules, *rules, *subjects]}[what]
    return OwnWork(what, pieces, see=SEE_RBAC)


def check_rules(rule_matches: Callable[[dict, Attributes], Any], seed: int, n: int = 300) -> None:
    """Compare ``rule_matches(rule, attrs)`` with the engine's ``rule_allows`` on generated rules and requests."""
    from engine.apiserver.rbac import rule_allows

    rng = random.Random(seed)
    requests = random_requests(seed, n)
    cases = [(_rule(rng), request.attributes()) for request in requests]
    own = own_work("rule_matches")
    answer = own.wrap(rule_matches)
    compare(lambda rule, attrs: answer(copy.deepcopy(rule), attrs), lambda rule, attrs: rule_allows(attrs, rule),
            cases, describe=_describe_rule_case, what="rule_matches", diagnose=diagnose_rule, see=SEE_RBAC)
    own.check(rule_matches)


def _describe_subject_case(subject: dict, user: UserInfo, namespace: str) -> str:
    return f"subject {subject} of a binding in namespace {namespace!r}, user {user.name!r} in groups {list(user.groups)}"


def diagnose_subject(case: tuple, expected: Outcome, got: Outcome) -> str | None:
    subject, user, namespace = case
    if subject.get("kind") == "ServiceAccount":
        return ("a ServiceAccount subject names the user system:serviceaccount:<namespace>:<name>; "
                "without a namespace of its own it means the binding's namespace")
    if subject.get("kind") == "Group":
        return "a Group subject matches a user who has that group among user.groups"
    if subject.get("kind") == "User":
        return "a User subject matches the user whose name is exactly the subject's name"
    return None


def check_subjects(subject_matches: Callable[[dict, UserInfo, str], Any], seed: int, n: int = 200) -> None:
    """Compare ``subject_matches(subject, user, binding_namespace)`` with the engine's ``_applies_to_user``."""
    from engine.apiserver.rbac import _applies_to_user

    rng = random.Random(seed)
    cases = []
    for _ in range(n):
        name = rng.choice(list(USERS) + ["system:serviceaccount:team-b:robot"])
        groups = USERS.get(name, ("system:serviceaccounts", "system:serviceaccounts:team-b"))
        user = UserInfo(name, (*groups, "system:authenticated"))
        cases.append((_subject(rng, rng.choice([None, *NAMESPACES])), user, rng.choice([*NAMESPACES, ""])))
    own = own_work("subject_matches")
    compare(own.wrap(subject_matches), lambda subject, user, namespace: _applies_to_user(user, subject, namespace),
            cases, describe=_describe_subject_case, what="subject_matches", diagnose=diagnose_subject,
            see=SEE_RBAC)
    own.check(subject_matches)


def _policy_lists(policy: dict[str, list[dict]]) -> tuple[list, list, list, list]:
    return policy["roles"], policy["clusterroles"], policy["rolebindings"], policy["clusterrolebindings"]


def _describe_policy_case(attrs: Attributes, roles: list, cluster_roles: list, role_bindings: list,
                          cluster_role_bindings: list) -> str:
    bindings = [f"{b['kind']} {b['metadata'].get('namespace', '') + '/' if b['metadata'].get('namespace') else ''}"
                f"{b['metadata']['name']} -> {b['roleRef']['kind']} {b['roleRef']['name']} for "
                f"{[s.get('kind') + ' ' + s.get('name', '') for s in b.get('subjects') or []]}"
                for b in [*cluster_role_bindings, *role_bindings]]
    return f"{_describe_attrs(attrs)}\n   bindings: " + "; ".join(bindings)


def diagnose_authorize(case: tuple, expected: Outcome, got: Outcome) -> str | None:
    attrs, roles, cluster_roles, role_bindings, cluster_role_bindings = case
    if got.error is not None or expected.error is not None:
        return None
    if not isinstance(got.value, bool):
        return "return True or False"
    if expected.value is False and got.value is True:
        elsewhere = [b for b in role_bindings if b["metadata"].get("namespace") != attrs.namespace]
        moved = [{**b, "metadata": {**b["metadata"], "namespace": attrs.namespace}} for b in elsewhere]
        here = [b for b in role_bindings if b["metadata"].get("namespace") == attrs.namespace]
        if reference_authorize(attrs, roles, cluster_roles, here + moved, cluster_role_bindings):
            names = ", ".join(f"{b['metadata']['namespace']}/{b['metadata']['name']}" for b in elsewhere)
            return (f"a RoleBinding grants only in its own namespace; the request is in {attrs.namespace!r}, but "
                    f"a binding from another namespace allowed it (candidates: {names})")
        return "no binding of this user has a rule that covers the request: RBAC denies by default"
    if expected.value is True and got.value is False:
        reason = RBACAuthorizer(ListRules(roles, cluster_roles, role_bindings, cluster_role_bindings)).authorize(attrs)
        return (f"{reason.reason.removeprefix('RBAC: ')}; a RoleBinding may point at a ClusterRole, "
                f"whose rules then apply in the binding's namespace")
    return None


def check_authorize(authorize: LearnerAuthorize, seed: int, policies: int = 8, requests: int = 40) -> None:
    """Compare ``authorize`` with the engine's RBAC on generated policies and requests (a pure function check)."""
    cases = []
    for number in range(policies):
        policy = random_policy(seed * 1000 + number)
        for request in random_requests(seed * 1000 + number, requests):
            cases.append((request.attributes(), *_policy_lists(policy)))
    # The learner's function gets its own deep copy of the objects, so a mutation cannot leak into later cases.
    own = own_work("authorize")
    answer = own.wrap(authorize)
    compare(lambda *case: answer(*copy.deepcopy(case)), reference_authorize, cases,
            describe=_describe_policy_case, what="authorize", diagnose=diagnose_authorize, see=SEE_RBAC)
    own.check(authorize)


def check_in_api_server(authorize: LearnerAuthorize, seed: int, requests: int = 50) -> None:
    """Plug ``authorize`` into a running cluster's API server, send real requests as RBAC-limited users,
    and check every decision (and the server's answer) against the engine's own RBAC."""
    from engine.grading.integrity import fresh_cluster

    cluster = fresh_cluster(nodes=0, seed=seed)
    seed_objects(cluster)
    apply_policy(cluster, random_policy(seed))
    own = own_work("authorize")
    adapter = plug_authorizer(cluster, own.wrap(authorize))
    counter = [0]
    wrong: list[str] = []
    for request in random_requests(seed, requests):
        before = len(adapter.decisions)
        try:
            answer = send(cluster, request, counter)
        except Exception as error:
            fail(f"the API server called your authorize for: {request}; it raised {describe_exception(error)}",
                 see=SEE_RBAC)
        recorded = adapter.decisions[before:]
        check(len(recorded) == 1, f"the API server did not consult the plugged authorizer for: {request}",
              see="engine module engine.grading.rbac (plug_authorizer)")
        reference = recorded[0].reference
        check((answer == "allowed") == recorded[0].learner,
              f"the server's answer to {request} does not follow your authorize",
              expected="allowed" if recorded[0].learner else "forbidden", got=answer)
        if recorded[0].learner != reference.allowed:
            if reference.allowed:
                line = (f"{request}: engine allows it ({reference.reason.removeprefix('RBAC: ')}), "
                        f"your authorize forbade it")
            else:
                line = f"{request}: engine forbids it, your authorize allowed it"
                why = _diagnosis(diagnose_authorize, (recorded[0].attrs, *adapter.objects()), Outcome(False),
                                 Outcome(True))
                if why:
                    line += f"\n   why: {why}"
            wrong.append(line)
    if wrong:
        fail(f"inside a running API server, your authorize decided {len(wrong)} of {requests} requests "
             f"differently from the engine's RBAC; the first {min(3, len(wrong))}:\n"
             + "\n".join(f"{n}. {line}" for n, line in enumerate(wrong[:3], start=1)),
             hint="the RBAC objects are the cluster's own (including the bootstrap ClusterRoles and bindings)",
             see=SEE_RBAC)
    own.check(authorize)
