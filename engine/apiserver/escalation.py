"""RBAC privilege-escalation prevention: nobody grants, through a Role or a binding, more than they hold.

Without it, a user allowed to create Roles and RoleBindings could write a Role granting ``*`` on ``*`` and bind
it to themselves. The real API server's RBAC storage (pkg/registry/rbac/{role,clusterrole,rolebinding,
clusterrolebinding}/policybased and pkg/registry/rbac/validation) refuses such a write unless:

- the user is in ``system:masters`` (EscalationAllowed: the API server's own loopback client is, too);
- for a Role or ClusterRole: the user has ``escalate`` on roles / clusterroles (RoleEscalationAuthorized), or
  already holds every permission its rules grant, at the request's scope (ConfirmNoEscalation);
- for a RoleBinding or ClusterRoleBinding: the user has ``bind`` on the referenced role (BindingAuthorized;
  ``resourceNames`` may name it), or holds every permission of the referenced role at the binding's scope.

An update that only changes ``ownerReferences`` and ``finalizers`` (the garbage collector's fields) is let
through (IsOnlyMutatingGCFields). "Holds every permission" is ``Covers`` (policy_comparator.go): each
(apiGroup, resource, resourceName, verb) or (nonResourceURL, verb) a rule grants must be matched by one of
the user's rules, with the authorizer's own matching (``rbac.rule_allows``), where ``*`` in the user's rule
matches anything and ``*`` in the granted rule only a ``*``. The refusal is the real 403:
``roles.rbac.authorization.k8s.io "x" is forbidden: user "bob" (groups=["system:authenticated"]) is attempting
to grant RBAC permissions not currently held:`` and one compact line per missing permission.
"""

from __future__ import annotations

import json
from typing import Protocol

from engine.api import errors
from engine.api.frozen import thaw
from engine.api.kinds import Kind
from engine.apiserver.authn import UserInfo
from engine.apiserver.rbac import RBAC_GROUP, Attributes, Decision, RBACAuthorizer, rule_allows

PRIVILEGED_GROUP = "system:masters"
ROLE_KINDS = ("Role", "ClusterRole")
BINDING_KINDS = ("RoleBinding", "ClusterRoleBinding")
_GC_FIELDS = ("ownerReferences", "finalizers")


class Authorizer(Protocol):
    def authorize(self, attrs: Attributes) -> Decision: ...


def confirm_no_escalation(authorizer: Authorizer, rule_resolver: RBACAuthorizer, kind: Kind, obj: dict,
                          old: dict | None, user: UserInfo, namespace: str) -> None:
    """Raise the real 403 if writing ``obj`` (replacing ``old`` on update) would grant what ``user`` lacks.

    ``authorizer`` answers ``escalate`` and ``bind`` (the server's, whichever is plugged in); ``rule_resolver``
    supplies the RBAC rules the user holds and the referenced role's. Kinds other than the four RBAC ones pass
    untouched; so do members of ``system:masters``.
    """
    if kind.group != RBAC_GROUP or kind.kind not in ROLE_KINDS + BINDING_KINDS:
        return
    if PRIVILEGED_GROUP in user.groups:
        return
    name = obj.get("metadata", {}).get("name", "")
    if kind.kind in ROLE_KINDS:
        named = name if old is not None else ""        # a create is a POST to the collection: no name
        if _allowed(authorizer, user, "escalate", namespace, kind.plural, named):
            return
        if old is not None and only_mutating_gc_fields(obj, old):
            return
        rules = list(obj.get("rules") or [])
    else:
        if old is not None and only_mutating_gc_fields(obj, old):
            return
        role_ref = obj.get("roleRef") or {}
        ref_kind, ref_name = role_ref.get("kind"), role_ref.get("name", "")
        if ref_kind not in ROLE_KINDS:
            return      # validation refuses it (roleRef.kind: Unsupported value)
        resource = "roles" if ref_kind == "Role" else "clusterroles"
        if _allowed(authorizer, user, "bind", namespace, resource, ref_name, role_ref.get("apiGroup", RBAC_GROUP)):
            return
        rules = _role_ref_rules(rule_resolver, role_ref, namespace)
    missing = uncovered(rule_resolver.rules_for(user, namespace), rules)
    if missing:
        raise errors.forbidden(kind.plural, name, escalation_message(user, missing), kind.group)


def _allowed(authorizer: Authorizer, user: UserInfo, verb: str, namespace: str, resource: str, name: str,
             group: str = RBAC_GROUP) -> bool:
    """RoleEscalationAuthorized / BindingAuthorized: the authorizer's answer to ``verb`` on that role."""
    attrs = Attributes(user=user, verb=verb, namespace=namespace, api_group=group, resource=resource, name=name)
    return authorizer.authorize(attrs).allowed


def _role_ref_rules(rule_resolver: RBACAuthorizer, role_ref: dict, namespace: str) -> list[dict]:
    """GetRoleReferenceRules as the RBAC storage reads it: the resolver's, but a missing role is a 404 (the
    registry's Get) rather than a resolution error."""
    rules, error = rule_resolver.role_ref_rules(role_ref, namespace)
    if error is not None:
        raise errors.not_found("roles" if role_ref.get("kind") == "Role" else "clusterroles",
                               role_ref.get("name", ""), RBAC_GROUP)
    return rules


def only_mutating_gc_fields(obj: dict, old: dict) -> bool:
    """IsOnlyMutatingGCFields: the update differs from the stored object in ownerReferences/finalizers only."""
    def without_gc(document: dict) -> dict:
        copy = thaw(document)
        metadata = copy.setdefault("metadata", {})
        for field in _GC_FIELDS + ("resourceVersion",):
            metadata.pop(field, None)
        return copy
    return without_gc(obj) == without_gc(old)


def breakdown(rule: dict) -> list[dict]:
    """BreakdownRule: one rule per (apiGroup, resource, verb[, resourceName]) and per (nonResourceURL, verb)."""
    verbs, names = rule.get("verbs") or [], rule.get("resourceNames") or []
    subrules = [{"apiGroups": [group], "resources": [resource], "verbs": [verb],
                 **({"resourceNames": [name]} if name is not None else {})}
                for group in rule.get("apiGroups") or [] for resource in rule.get("resources") or []
                for verb in verbs for name in (names or [None])]
    subrules += [{"nonResourceURLs": [url], "verbs": [verb]} for url in rule.get("nonResourceURLs") or []
                 for verb in verbs]
    return subrules


_NOBODY = UserInfo(name="", groups=())     # the matching helpers read no user


def _covers(owner: dict, subrule: dict) -> bool:
    """ruleCovers for a broken-down rule, through the authorizer's matching of a request."""
    if "nonResourceURLs" in subrule:
        attrs = Attributes(user=_NOBODY, verb=subrule["verbs"][0], path=subrule["nonResourceURLs"][0],
                           resource_request=False)
        return not owner.get("resourceNames") and rule_allows(attrs, owner)
    resource, _, subresource = subrule["resources"][0].partition("/")
    name = (subrule.get("resourceNames") or [""])[0]
    if not name and owner.get("resourceNames"):
        return False            # a rule limited to names does not cover every name
    attrs = Attributes(user=_NOBODY, verb=subrule["verbs"][0], api_group=subrule["apiGroups"][0],
                       resource=resource, subresource=subresource, name=name)
    return rule_allows(attrs, owner)


def uncovered(owner_rules: list[dict], rules: list[dict]) -> list[dict]:
    """Covers: the broken-down permissions of ``rules`` that none of ``owner_rules`` covers."""
    return [subrule for rule in rules for subrule in breakdown(rule)
            if not any(_covers(owner, subrule) for owner in owner_rules)]


def compact(rules: list[dict]) -> list[dict]:
    """CompactRules: simple rules (one group, one resource, at most one name) merge their verbs."""
    merged: dict[tuple, dict] = {}
    others: list[dict] = []
    for rule in rules:
        if "nonResourceURLs" in rule:
            others.append(rule)
            continue
        key = (rule["apiGroups"][0], rule["resources"][0], tuple(rule.get("resourceNames") or ()))
        if key in merged:
            merged[key]["verbs"] = merged[key]["verbs"] + rule["verbs"]
        else:
            merged[key] = thaw(rule)
    return others + list(merged.values())


def compact_string(rule: dict) -> str:
    """CompactString: ``{APIGroups:[""], Resources:["pods"], Verbs:["get"]}``, empty fields left out."""
    parts = [f"{label}:{_go_quoted(rule[field])}"
             for label, field in (("APIGroups", "apiGroups"), ("Resources", "resources"),
                                  ("NonResourceURLs", "nonResourceURLs"), ("ResourceNames", "resourceNames"),
                                  ("Verbs", "verbs")) if rule.get(field)]
    return "{" + ", ".join(parts) + "}"


def escalation_message(user: UserInfo, missing: list[dict]) -> str:
    """ConfirmNoEscalation's error text: the user, their groups, and the missing permissions, sorted."""
    lines = sorted({compact_string(rule) for rule in compact(missing)})
    return (f"user {json.dumps(user.name)} (groups={_go_quoted(list(user.groups))}) is attempting to grant RBAC "
            f"permissions not currently held:\n" + "\n".join(lines))


def _go_quoted(values: list[str]) -> str:
    """Go's ``%q`` of a ``[]string``: ``["a" "b"]``."""
    return "[" + " ".join(json.dumps(value) for value in values) + "]"
