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
        kind = attrs.kind.kind
        plugins = self._admitting.get(kind)
        if plugins is None:
            plugins = self._admitting[kind] = tuple(
                plugin for plugin in self._plugins if type(plugin).admit is not Plugin.admit
                and (plugin.admits is None or kind in plugin.admits))
        for plugin in plugins:
            plugin.admit(attrs, context)

    def validate(self, attrs: Attributes, context: AdmissionContext) -> None:
        kind = attrs.kind.kind
        plugins = self._validating.get(kind)
        if plugins is None:
            plugins = self._validating[kind] = tuple(
                plugin for plugin in self._plugins if type(plugin).validate is not Plugin.validate
                and (plugin.validates is None or kind in plugin.validates))
        for plugin in plugins:
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
