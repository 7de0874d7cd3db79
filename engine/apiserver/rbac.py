"""The RBAC authorizer: may this user do this verb on this resource? The second stage of the pipeline.

Interface:

- ``Attributes``: what is being asked (user, verb, namespace, API group,
  resource, subresource, name; or a non-resource path such as ``/healthz``).
- ``RBACAuthorizer(rules_source).authorize(attrs) -> Decision``.
- ``forbidden_message(attrs)`` and ``forbidden_error(attrs)``: the 403 exactly as
  the real server words it.
- ``aggregate_cluster_role(role, all_cluster_roles)``: the rules the
  clusterrole-aggregation controller (``engine.controllers.clusterroleaggregation``)
  stores in an aggregated ClusterRole; ``same_rules`` compares rule lists as it does.

The evaluation is the real one (plugin/pkg/auth/authorizer/rbac/rbac.go and
pkg/registry/rbac/validation/rule.go): visit every ClusterRoleBinding, then every
RoleBinding of the request's namespace; for each binding with a subject that
matches the user, fetch the rules of its roleRef and allow as soon as one rule
matches. A RoleBinding may name a ClusterRole: its rules then apply in the
binding's namespace only, because only that namespace's RoleBindings are
visited. Nothing matches: deny (the real authorizer says "no opinion", and with
no other authorizer that is a 403). RBAC never denies explicitly; rules only add.

``rules_source`` supplies plain RBAC objects: ``list_cluster_role_bindings()``,
``list_role_bindings(namespace)``, ``get_cluster_role(name)`` and
``get_role(namespace, name)`` (None when missing). The authorizer keeps no state
of its own, so a new binding counts from the next request on.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Protocol

from engine.api import errors
from engine.api.selectors import from_label_selector
from engine.apiserver.authn import SERVICE_ACCOUNT_PREFIX, UserInfo

RBAC_GROUP = "rbac.authorization.k8s.io"


@dataclass(frozen=True)
class Attributes:
    """authorizer.Attributes: one request as the authorizer sees it."""

    user: UserInfo
    verb: str
    namespace: str = ""
    api_group: str = ""
    resource: str = ""
    subresource: str = ""
    name: str = ""
    path: str = ""
    resource_request: bool = True


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str = ""


class RulesSource(Protocol):
    def list_cluster_role_bindings(self) -> list[dict]: ...
    def list_role_bindings(self, namespace: str) -> list[dict]: ...
    def get_cluster_role(self, name: str) -> dict | None: ...
    def get_role(self, namespace: str, name: str) -> dict | None: ...


# A visitor gets (source description, rule) for each rule, or (None, error text); False stops the walk.
Visitor = Callable[[str | None, dict | None, str | None], bool]


class RBACAuthorizer:
    """Role-based access control over the RBAC objects that ``rules_source`` supplies."""

    CACHE_ENTRIES = 4096

    def __init__(self, rules_source: RulesSource) -> None:
        self.rules_source = rules_source
        self._version: object = None
        self._decisions: dict[object, Decision] = {}
        self._visits: dict[tuple[UserInfo, str], list[tuple[str | None, dict | None, str | None]]] = {}
        self._name_rules: dict[tuple, bool] = {}

    def _current(self) -> bool:
        """Whether the caches may be used: the rules source tells its version, and they are kept for it."""
        version_of = getattr(self.rules_source, "version", None)
        if version_of is None:
            return False
        version = version_of()
        if version != self._version or len(self._decisions) + len(self._visits) >= self.CACHE_ENTRIES:
            self._decisions, self._visits, self._name_rules, self._version = {}, {}, {}, version
        return True

    def authorize(self, attrs: Attributes) -> Decision:
        """Allowed by the first rule that matches, with the real reason text; denied otherwise.

        A decision is a pure function of the request's attributes and the RBAC objects, so when the rules
        source can say which version of them it holds (``version()``), the rules that apply to a user in a
        namespace, and the decisions, are remembered until it changes; where none of those rules names
        resources (``resourceNames``) for the request's verb and resource, one decision serves every object
        name.
        """
        cached = self._current()
        if not cached:
            return self._authorize(attrs, False)
        key: tuple = (attrs.user, attrs.verb, attrs.namespace, attrs.api_group, attrs.resource, attrs.subresource,
                      attrs.path, attrs.resource_request)
        if attrs.name:
            matter = self._name_rules.get(key)
            if matter is None:
                matter = self._name_rules[key] = self._names_matter(attrs)
            if matter:
                key += (attrs.name,)
        decision = self._decisions.get(key)
        if decision is None:
            decision = self._decisions[key] = self._authorize(attrs, True)
        return decision

    def remembered(self, user: UserInfo, verb: str, namespace: str, api_group: str, resource: str,
                   subresource: str, name: str) -> Decision | None:
        """The decision ``authorize`` remembers for this resource request, or None (then ask ``authorize``)."""
        if not self._current():
            return None
        key: tuple = (user, verb, namespace, api_group, resource, subresource, "", True)
        if name:
            matter = self._name_rules.get(key)
            if matter is None:
                return None
            if matter:
                key += (name,)
        return self._decisions.get(key)

    def _names_matter(self, attrs: Attributes) -> bool:
        """Whether a rule that applies to the user in the namespace has ``resourceNames`` and covers this verb on
        this resource otherwise: only then can two object names get different decisions."""
        if not attrs.resource_request:
            return False
        combined = f"{attrs.resource}/{attrs.subresource}" if attrs.subresource else attrs.resource
        return any(rule is not None and bool(rule.get("resourceNames")) and verb_matches(rule, attrs.verb)
                   and api_group_matches(rule, attrs.api_group)
                   and resource_matches(rule, combined, attrs.subresource)
                   for _, rule, _ in self._visits_of(attrs, True))

    def _authorize(self, attrs: Attributes, cached: bool) -> Decision:
        problems: list[str] = []
        for source, rule, error in self._visits_of(attrs, cached):
            if rule is not None and rule_allows(attrs, rule):
                return Decision(True, f"RBAC: allowed by {source}")
            if error is not None:
                problems.append(error)
        return Decision(False, f"RBAC: {_aggregate(problems)}" if problems else "")

    def _visits_of(self, attrs: Attributes, cached: bool) -> list[tuple[str | None, dict | None, str | None]]:
        key = (attrs.user, attrs.namespace)
        visits = self._visits.get(key) if cached else None
        if visits is None:
            visits = []
            self.visit_rules_for(attrs.user, attrs.namespace, lambda *visit: visits.append(visit) or True)
            if cached:
                self._visits[key] = visits
        return visits

    def rules_for(self, user: UserInfo, namespace: str) -> list[dict]:
        """Every rule that applies to ``user`` in ``namespace`` (what ``kubectl auth can-i --list`` reads)."""
        rules: list[dict] = []

        def collect(source: str | None, rule: dict | None, error: str | None) -> bool:
            if rule is not None:
                rules.append(rule)
            return True

        self.visit_rules_for(user, namespace, collect)
        return rules

    def visit_rules_for(self, user: UserInfo, namespace: str, visitor: Visitor) -> None:
        """DefaultRuleResolver.VisitRulesFor: ClusterRoleBindings first, then the namespace's RoleBindings."""
        for binding in self.rules_source.list_cluster_role_bindings():
            subject = _applies_to(user, binding.get("subjects") or [], "")
            if subject is None:
                continue
            rules, error = self.role_ref_rules(binding.get("roleRef") or {}, "")
            if error is not None:
                if not visitor(None, None, error):
                    return
                continue
            source = (f'ClusterRoleBinding "{binding["metadata"]["name"]}" of {binding["roleRef"]["kind"]} '
                      f'"{binding["roleRef"]["name"]}" to {_describe_subject(subject, "")}')
            for rule in rules:
                if not visitor(source, rule, None):
                    return
        if not namespace:
            return
        for binding in self.rules_source.list_role_bindings(namespace):
            subject = _applies_to(user, binding.get("subjects") or [], namespace)
            if subject is None:
                continue
            rules, error = self.role_ref_rules(binding.get("roleRef") or {}, namespace)
            if error is not None:
                if not visitor(None, None, error):
                    return
                continue
            metadata = binding["metadata"]
            source = (f'RoleBinding "{metadata["name"]}/{metadata.get("namespace", namespace)}" of '
                      f'{binding["roleRef"]["kind"]} "{binding["roleRef"]["name"]}" to '
                      f'{_describe_subject(subject, metadata.get("namespace", namespace))}')
            for rule in rules:
                if not visitor(source, rule, None):
                    return

    def role_ref_rules(self, role_ref: dict, namespace: str) -> tuple[list[dict], str | None]:
        """GetRoleReferenceRules: the roleRef's rules, or the lister's not-found text."""
        kind, name = role_ref.get("kind"), role_ref.get("name", "")
        if kind == "Role":
            role = self.rules_source.get_role(namespace, name) if namespace else None
            if role is None:
                return [], f'role.{RBAC_GROUP} "{name}" not found'
            return list(role.get("rules") or []), None
        if kind == "ClusterRole":
            role = self.rules_source.get_cluster_role(name)
            if role is None:
                return [], f'clusterrole.{RBAC_GROUP} "{name}" not found'
            return list(role.get("rules") or []), None
        return [], f'unsupported role reference kind: "{kind}"'


def _applies_to(user: UserInfo, subjects: list[dict], namespace: str) -> dict | None:
    """The first subject of a binding that names this user, if any."""
    for subject in subjects:
        if _applies_to_user(user, subject, namespace):
            return subject
    return None


def _applies_to_user(user: UserInfo, subject: dict, namespace: str) -> bool:
    kind, name = subject.get("kind"), subject.get("name", "")
    if kind == "User":
        return user.name == name
    if kind == "Group":
        return name in user.groups
    if kind == "ServiceAccount":
        # A ServiceAccount subject without a namespace means the binding's own namespace.
        account_namespace = subject.get("namespace") or namespace
        if not account_namespace:
            return False
        return user.name == f"{SERVICE_ACCOUNT_PREFIX}{account_namespace}:{name}"
    return False


def _describe_subject(subject: dict, binding_namespace: str) -> str:
    if subject.get("kind") == "ServiceAccount":
        return f'ServiceAccount "{subject["name"]}/{subject.get("namespace") or binding_namespace}"'
    return f'{subject.get("kind")} "{subject.get("name", "")}"'


def _aggregate(messages: list[str]) -> str:
    return messages[0] if len(messages) == 1 else "[" + ", ".join(messages) + "]"


# -- matching one rule (evaluation_helpers.go) -------------------------------

def rule_allows(attrs: Attributes, rule: dict) -> bool:
    """RuleAllows: does this PolicyRule cover the request?"""
    if attrs.resource_request:
        combined = f"{attrs.resource}/{attrs.subresource}" if attrs.subresource else attrs.resource
        return (verb_matches(rule, attrs.verb) and api_group_matches(rule, attrs.api_group)
                and resource_matches(rule, combined, attrs.subresource)
                and resource_name_matches(rule, attrs.name))
    return verb_matches(rule, attrs.verb) and non_resource_url_matches(rule, attrs.path)


def verb_matches(rule: dict, verb: str) -> bool:
    return any(allowed in ("*", verb) for allowed in rule.get("verbs") or ())


def api_group_matches(rule: dict, group: str) -> bool:
    return any(allowed in ("*", group) for allowed in rule.get("apiGroups") or ())


def resource_matches(rule: dict, combined: str, subresource: str) -> bool:
    """``*``, an exact ``pods`` or ``pods/log``, or ``*/scale`` for any resource's scale.

    Note what does not match: ``pods`` does not cover ``pods/log``, and the real
    helper has no ``pods/*`` form (a rule naming ``pods/*`` matches nothing
    unless a request's subresource is literally ``*``).
    """
    for allowed in rule.get("resources") or ():
        if allowed in ("*", combined):
            return True
        if subresource and allowed == f"*/{subresource}":
            return True
    return False


def resource_name_matches(rule: dict, name: str) -> bool:
    """A rule with resourceNames covers only requests for those names.

    list, watch, create and deletecollection carry no name, so such a rule never
    allows them (the RBAC docs say so: resourceNames cannot restrict them).
    """
    names = rule.get("resourceNames") or ()
    return not names or name in names


def non_resource_url_matches(rule: dict, path: str) -> bool:
    for allowed in rule.get("nonResourceURLs") or ():
        if allowed in ("*", path):
            return True
        if allowed.endswith("*") and path.startswith(allowed.rstrip("*")):
            return True
    return False


# -- the 403 (apiserver/pkg/endpoints/handlers/responsewriters/errors.go) ---------

def forbidden_message(attrs: Attributes) -> str:
    """``User "alice" cannot list resource "pods" in API group "" in the namespace "default"``."""
    if not attrs.resource_request:
        return f'User "{attrs.user.name}" cannot {attrs.verb} path "{attrs.path}"'
    resource = f"{attrs.resource}/{attrs.subresource}" if attrs.subresource else attrs.resource
    where = f'in the namespace "{attrs.namespace}"' if attrs.namespace else "at the cluster scope"
    return (f'User "{attrs.user.name}" cannot {attrs.verb} resource "{resource}" in API group '
            f'"{attrs.api_group}" {where}')


def forbidden_error(attrs: Attributes, reason: str = "") -> errors.Forbidden:
    """The 403 the real server sends: ``pods is forbidden: User ...`` (``: <reason>`` appended if any)."""
    message = forbidden_message(attrs)
    if reason:
        message = f"{message}: {reason}"
    if not attrs.resource_request:
        return errors.Forbidden(f"forbidden: {message}")
    return errors.forbidden(attrs.resource, attrs.name, message, attrs.api_group)


# -- aggregated ClusterRoles (pkg/controller/clusterroleaggregation) ---------------

POLICY_RULE_FIELDS = ("verbs", "apiGroups", "resources", "resourceNames", "nonResourceURLs")


def _semantic_rule(rule: dict) -> tuple[tuple[str, ...], ...]:
    """A PolicyRule as ``equality.Semantic.DeepEqual`` compares it: its five lists in order, a missing, null or
    empty list all the same (the real server's ``omitempty`` drops empty lists; this one stores them as sent)."""
    return tuple(tuple(rule.get(name) or ()) for name in POLICY_RULE_FIELDS)


def same_rules(rules: list[dict] | None, others: list[dict] | None) -> bool:
    """Semantic equality of two rule lists: same length, each pair of rules semantically equal."""
    return [_semantic_rule(r) for r in rules or ()] == [_semantic_rule(r) for r in others or ()]


def aggregate_cluster_role(role: dict, all_cluster_roles: list[dict]) -> list[dict]:
    """The rules the clusterrole-aggregation controller stores in ``role`` (syncClusterRole).

    For each of its ``clusterRoleSelectors`` in order, every other ClusterRole the selector matches, in name
    order, contributes its rules, each appended unless a semantically equal rule is already there (ruleExists).
    A selector that does not convert (``metav1.LabelSelectorAsSelector``) raises ``SelectorError``: the whole
    role fails, as upstream's sync returns the error.
    """
    selectors = (role.get("aggregationRule") or {}).get("clusterRoleSelectors") or []
    name = role["metadata"]["name"]
    rules: list[dict] = []
    seen: set[tuple[tuple[str, ...], ...]] = set()
    for selector in selectors:
        matcher = from_label_selector(selector)
        matching = [other for other in all_cluster_roles if matcher.matches(other["metadata"].get("labels"))]
        for other in sorted(matching, key=lambda r: r["metadata"]["name"]):
            if other["metadata"]["name"] == name:
                continue
            for rule in other.get("rules") or ():
                key = _semantic_rule(rule)
                if key not in seen:
                    seen.add(key)
                    rules.append(rule)
    return rules
