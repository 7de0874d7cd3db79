"""The in-tree plugin registry (pkg/scheduler/framework/plugins/registry.go): plugin name -> factory.

A factory is ``new(args: dict | None, handle) -> plugin``. Labs and tests add
their own plugins with ``Registry.register(name, factory)`` on a copy of
``default_registry()``; a name may be registered once.
"""

from __future__ import annotations

import importlib
from typing import Any, Callable

Factory = Callable[[dict | None, Any], Any]

IN_TREE = [
    "node_name", "node_unschedulable", "taint_toleration", "node_affinity", "node_ports",
    "node_resources_fit", "balanced_allocation", "image_locality", "default_binder",
    "pod_topology_spread", "inter_pod_affinity", "default_preemption",
]


class Registry(dict):
    """Plugin names to factories."""

    def register(self, name: str, factory: Factory) -> None:
        if name in self:
            raise ValueError(f"a plugin named {name} already exists")
        self[name] = factory

    def unregister(self, name: str) -> None:
        if name not in self:
            raise ValueError(f"no plugin named {name} exists")
        del self[name]


def default_registry() -> Registry:
    """A fresh registry of every in-tree plugin that exists in this package."""
    registry = Registry()
    for module_name in IN_TREE:
        try:
            module = importlib.import_module(f"engine.scheduler.plugins.{module_name}")
        except ModuleNotFoundError as error:
            if error.name == f"engine.scheduler.plugins.{module_name}":
                continue
            raise
        registry.register(module.NAME, module.new)
    return registry
