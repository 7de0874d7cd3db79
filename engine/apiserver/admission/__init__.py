"""Admission control: the plugins every write passes after authorization.

As in kube-apiserver, a write first goes through every *mutating* plugin in
order (they may change the object: defaults from a LimitRange, the default
ServiceAccount, default tolerations), then through validation, then through
every *validating* plugin (they may only say no: NamespaceLifecycle,
ResourceQuota). A plugin says no by raising an ``ApiError``; the request
stops there and nothing is stored. Plugins read other objects through the
``AdmissionContext`` (the API server's own caches), never the store.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Protocol

from engine.api.kinds import Kind
from engine.apiserver.authn import UserInfo


@dataclass
class Attributes:
    """What a plugin knows of a request (admission.Attributes)."""

    operation: str               # CREATE, UPDATE, DELETE, CONNECT
    kind: Kind
    namespace: str | None
    name: str
    subresource: str | None
    object: dict | None          # the new object, mutable by mutating plugins
    old_object: dict | None      # the stored object on UPDATE and DELETE (frozen)
    user: UserInfo
    dry_run: bool = False


class AdmissionContext(Protocol):
    """Read access to current objects, as plugins' informers would give them."""

    @property
    def now(self) -> float: ...

    @property
    def random(self) -> random.Random: ...

    def cached(self, kind: str, namespace: str | None, name: str) -> dict | None: ...

    def cached_list(self, kind: str, namespace: str | None = None) -> list[dict]: ...


class Plugin:
    """Base of admission plugins; override ``admit`` (mutating) and/or ``validate``."""

    name = ""

    def admit(self, attrs: Attributes, context: AdmissionContext) -> None:
        """Mutating phase: may change ``attrs.object``; raise ApiError to reject."""

    def validate(self, attrs: Attributes, context: AdmissionContext) -> None:
        """Validating phase: may only reject, by raising ApiError."""


class AdmissionChain:
    """Runs plugins in order, mutating phase then (after validation) validating phase."""

    def __init__(self, plugins: list[Plugin]) -> None:
        self.plugins = plugins

    @property
    def names(self) -> list[str]:
        return [plugin.name for plugin in self.plugins]

    def admit(self, attrs: Attributes, context: AdmissionContext) -> None:
        for plugin in self.plugins:
            plugin.admit(attrs, context)

    def validate(self, attrs: Attributes, context: AdmissionContext) -> None:
        for plugin in self.plugins:
            plugin.validate(attrs, context)


def default_chain() -> AdmissionChain:
    """The plugins kube-apiserver enables by default, in its order, that this engine implements."""
    from engine.apiserver.admission.default_ingress_class import DefaultIngressClass
    from engine.apiserver.admission.default_toleration_seconds import DefaultTolerationSeconds
    from engine.apiserver.admission.limit_ranger import LimitRanger
    from engine.apiserver.admission.namespace_lifecycle import NamespaceLifecycle
    from engine.apiserver.admission.priority import Priority
    from engine.apiserver.admission.resource_quota import ResourceQuota
    from engine.apiserver.admission.service_account import ServiceAccount

    return AdmissionChain([NamespaceLifecycle(), LimitRanger(), ServiceAccount(),
                           DefaultTolerationSeconds(), Priority(), DefaultIngressClass(), ResourceQuota()])
