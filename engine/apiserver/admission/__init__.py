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


@dataclass(slots=True)
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
    """Base of admission plugins; override ``admit`` (mutating) and/or ``validate``.

    ``admits`` and ``validates`` may name the kinds (``Kind.kind``) a plugin's phase can act on, so the chain
    skips the phase for other kinds; None (the default) means any kind. A phase the plugin does not override
    is skipped as well. The plugin still checks the request itself: these only spare calls that would return.
    """

    name = ""
    admits: frozenset[str] | None = None
    validates: frozenset[str] | None = None

    def admit(self, attrs: Attributes, context: AdmissionContext) -> None:
        """Mutating phase: may change ``attrs.object``; raise ApiError to reject."""

    def validate(self, attrs: Attributes, context: AdmissionContext) -> None:
        """Validating phase: may only reject, by raising ApiError."""


class AdmissionChain:
    """Runs plugins in order, mutating phase then (after validation) validating phase.

    For each kind the chain remembers which plugins' phases can act on it (``Plugin.admits`` and
    ``Plugin.validates``), in order, and runs only those; assigning ``plugins`` starts afresh.
    """

    def __init__(self, plugins: list[Plugin]) -> None:
        self.plugins = plugins

    @property
    def plugins(self) -> tuple[Plugin, ...]:
        return self._plugins

    @plugins.setter
    def plugins(self, plugins: list[Plugin] | tuple[Plugin, ...]) -> None:
        self._plugins = tuple(plugins)
        self._admitting: dict[str, tuple[Plugin, ...]] = {}
        self._validating: dict[str, tuple[Plugin, ...]] = {}

    @property
    def names(self) -> list[str]:
        return [plugin.name for plugin in self.plugins]

    def admit(self, attrs: Attributes, context: AdmissionContext) -> None:
        for plugin in self._phase(self._admitting, "admit", "admits", attrs.kind.kind):
            plugin.admit(attrs, context)

    def validate(self, attrs: Attributes, context: AdmissionContext) -> None:
        for plugin in self._phase(self._validating, "validate", "validates", attrs.kind.kind):
            plugin.validate(attrs, context)

    def _phase(self, plans: dict[str, tuple[Plugin, ...]], method: str, declared: str,
               kind: str) -> tuple[Plugin, ...]:
        """The plugins, in chain order, whose ``method`` can act on ``kind``: they override it, and their
        ``declared`` kinds (``admits`` / ``validates``) are None or name it; worked out once per kind."""
        plugins = plans.get(kind)
        if plugins is None:
            plugins = plans[kind] = tuple(
                plugin for plugin in self._plugins if getattr(type(plugin), method) is not getattr(Plugin, method)
                and (getattr(plugin, declared) is None or kind in getattr(plugin, declared)))
        return plugins


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
