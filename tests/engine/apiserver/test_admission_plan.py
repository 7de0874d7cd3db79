"""The admission chain runs, per kind, only the plugin phases that can act on it, in order: every phase a
default plugin declares it can skip really does nothing for those kinds."""

from __future__ import annotations

import copy

import pytest

from engine.api.kinds import REGISTRY
from engine.apiserver.admission import AdmissionChain, Attributes, Plugin, default_chain
from engine.apiserver.authn import UserInfo


class Untouchable:
    """A context that fails the test when a plugin reads anything."""

    def __getattr__(self, name):
        raise AssertionError(f"the plugin read the context ({name}) for a kind it declared it skips")


def _object(kind) -> dict:
    return {"apiVersion": kind.api_version, "kind": kind.kind, "metadata": {"name": "x", "namespace": "default"},
            "spec": {"containers": [{"name": "c", "image": "i"}], "globalDefault": True}, "globalDefault": True}


@pytest.mark.parametrize("plugin", default_chain().plugins, ids=lambda plugin: plugin.name)
def test_a_phase_a_plugin_skips_for_a_kind_does_nothing_for_it(plugin):
    for phase, declared in (("admit", plugin.admits), ("validate", plugin.validates)):
        if declared is None:
            continue
        for kind in REGISTRY:
            if kind.kind in declared:
                continue
            for operation in ("CREATE", "UPDATE", "DELETE", "CONNECT"):
                for subresource in (None, "status"):
                    new, old = _object(kind), _object(kind)
                    attrs = Attributes(operation, kind, "default", "x", subresource, new,
                                       old if operation != "CREATE" else None, UserInfo("u"))
                    getattr(plugin, phase)(attrs, Untouchable())
                    assert new == _object(kind), (plugin.name, phase, kind.kind, operation)


class Recording(Plugin):
    def __init__(self, name: str, calls: list, admits=None, validates=None) -> None:
        self.name, self.calls, self.admits, self.validates = name, calls, admits, validates

    def admit(self, attrs, context):
        self.calls.append((self.name, "admit", attrs.kind.kind))

    def validate(self, attrs, context):
        self.calls.append((self.name, "validate", attrs.kind.kind))


class AdmitsOnly(Plugin):
    name = "AdmitsOnly"

    def __init__(self, calls: list) -> None:
        self.calls = calls

    def admit(self, attrs, context):
        self.calls.append((self.name, "admit", attrs.kind.kind))


def test_the_chain_runs_the_phases_that_apply_in_order():
    calls: list = []
    chain = AdmissionChain([Recording("any", calls), Recording("pods", calls, admits=frozenset({"Pod"}),
                                                                 validates=frozenset({"Pod"})),
                            AdmitsOnly(calls), Recording("last", calls)])
    for resource in ("pods", "events", "pods"):
        kind = REGISTRY.lookup(resource)
        attrs = Attributes("CREATE", kind, "default", "x", None, {}, None, UserInfo("u"))
        chain.admit(attrs, Untouchable())
        chain.validate(attrs, Untouchable())
    pod = [("any", "admit", "Pod"), ("pods", "admit", "Pod"), ("AdmitsOnly", "admit", "Pod"), ("last", "admit", "Pod"),
           ("any", "validate", "Pod"), ("pods", "validate", "Pod"), ("last", "validate", "Pod")]
    event = [("any", "admit", "Event"), ("AdmitsOnly", "admit", "Event"), ("last", "admit", "Event"),
             ("any", "validate", "Event"), ("last", "validate", "Event")]
    assert calls == pod + event + pod
    calls.clear()
    chain.plugins = [Recording("new", calls)]                # a new list of plugins takes effect at once
    attrs = Attributes("CREATE", REGISTRY.lookup("pods"), "default", "x", None, {}, None, UserInfo("u"))
    chain.admit(attrs, Untouchable())
    assert calls == [("new", "admit", "Pod")] and chain.names == ["new"]


def test_the_default_chain_keeps_kube_apiserver_s_order():
    assert default_chain().names == ["NamespaceLifecycle", "LimitRanger", "ServiceAccount", "DefaultTolerationSeconds",
                                     "Priority", "DefaultIngressClass", "ResourceQuota"]
    assert copy.copy(default_chain()).names == default_chain().names
