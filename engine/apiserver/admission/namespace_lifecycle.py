"""NamespaceLifecycle admission: no new objects in a missing or terminating namespace.

Also protects the namespaces the system needs (``default``, ``kube-system``,
``kube-public``) from deletion, with the real API server's messages. It is
first in the chain and says no before any other plugin looks at the object,
which is why ``kubectl run x -n ghost`` answers ``namespaces "ghost" not found``.
"""

from __future__ import annotations

from engine.api import errors
from engine.apiserver.admission import AdmissionContext, Attributes, Plugin

IMMORTAL_NAMESPACES = ("default", "kube-system", "kube-public")


class NamespaceLifecycle(Plugin):
    name = "NamespaceLifecycle"

    def admit(self, attrs: Attributes, context: AdmissionContext) -> None:
        """Runs first in the chain, so a missing namespace is reported before anything else."""
        kind = attrs.kind
        if kind.kind == "Namespace":
            if attrs.operation == "DELETE" and attrs.name in IMMORTAL_NAMESPACES:
                raise errors.forbidden("namespaces", attrs.name, "this namespace may not be deleted")
            return
        if attrs.operation != "CREATE" or not kind.namespaced or attrs.subresource:
            return
        namespace = context.cached("namespaces", None, attrs.namespace or "")
        if namespace is None:
            raise errors.not_found("namespaces", attrs.namespace or "")
        if namespace.get("status", {}).get("phase") == "Terminating":
            raise errors.forbidden(kind.plural, attrs.name,
                                   f"unable to create new content in namespace {attrs.namespace} "
                                   "because it is being terminated", kind.group)
