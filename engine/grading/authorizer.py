"""A learner's RBAC decision inside a running API server: the adapter and the plug.

Interface:

- ``LearnerAuthorizer(learner_authorize, rules_source)``: the API server's authorizer
  interface (``authorize(attrs) -> Decision``) around a learner's
  ``authorize(attrs, roles, cluster_roles, role_bindings, cluster_role_bindings) -> bool``.
  It hands the learner every RBAC object the API server's watch caches hold, asks the
  engine's own ``RBACAuthorizer`` too, and records both answers (``decisions``). The
  learner's answer is the one the server acts on; a non-bool answer is a ``TypeError``.
  It remembers no decision (it has no ``remembered``), so every request reaches the learner.
- ``plug_authorizer(cluster, learner_authorize)`` / ``unplug_authorizer(cluster)``: swap it
  into a running ``Cluster``'s API server and back. Members of ``system:masters`` never
  reach any authorizer (the server lets them through first, as the real one does), so the
  cluster's admin, and the tests that set a scenario up through it, keep working.

It never changes an RBAC object, and the learner gets fresh lists on every request.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from engine.apiserver.rbac import Attributes, Decision, RBACAuthorizer

LearnerAuthorize = Callable[[Attributes, list, list, list, list], Any]


@dataclass(frozen=True)
class Recorded:
    """One authorization the API server asked for while the learner's code was plugged in."""

    attrs: Attributes
    learner: Any                 # what the learner's function returned (or the exception it raised)
    reference: Decision          # the engine's own RBAC answer, with its reason


class LearnerAuthorizer:
    """An authorizer that asks the learner's function; the API server cannot tell it from RBAC."""

    def __init__(self, learner_authorize: LearnerAuthorize, rules_source: Any) -> None:
        self.learner_authorize = learner_authorize
        self.rules_source = rules_source
        self.reference = RBACAuthorizer(rules_source)
        self.decisions: list[Recorded] = []

    def objects(self) -> tuple[list[dict], list[dict], list[dict], list[dict]]:
        """Roles (every namespace), ClusterRoles, RoleBindings (every namespace), ClusterRoleBindings."""
        server = self.rules_source.server
        return (list(server.cached_list("roles")), list(server.cached_list("clusterroles")),
                list(server.cached_list("rolebindings")), list(server.cached_list("clusterrolebindings")))

    def authorize(self, attrs: Attributes) -> Decision:
        reference = self.reference.authorize(attrs)
        try:
            answer = self.learner_authorize(attrs, *self.objects())
        except Exception as error:
            self.decisions.append(Recorded(attrs, error, reference))
            raise
        self.decisions.append(Recorded(attrs, answer, reference))
        if not isinstance(answer, bool):
            raise TypeError(f"authorize must return True or False, not {answer!r}")
        return Decision(answer, "allowed by the learner's authorize" if answer else "")


def plug_authorizer(cluster: Any, learner_authorize: LearnerAuthorize) -> LearnerAuthorizer:
    """Make ``cluster``'s API server decide every request (but system:masters') with ``learner_authorize``."""
    server = cluster.apiserver
    original = getattr(server, "_grading_original_authorizer", None) or server.authorizer
    server._grading_original_authorizer = original
    adapter = LearnerAuthorizer(learner_authorize, original.rules_source)
    server.authorizer = adapter
    return adapter


def unplug_authorizer(cluster: Any) -> None:
    """Give the API server its own RBAC authorizer back."""
    server = cluster.apiserver
    original = getattr(server, "_grading_original_authorizer", None)
    if original is not None:
        server.authorizer = original
