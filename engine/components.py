"""The component registry: the one place that says which components a cluster runs.

A Kubernetes cluster is a set of programs that only talk through the API
server. Here each program is a *component*: a class built from a
``ComponentContext`` (its own client and credentials, its informer factory,
the loop, its node for node components) with ``start()`` and ``stop()``.

``COMPONENTS`` lists them in boot order, by role: control-plane components
run once, node components once per node. Later work adds a line here and
``Cluster`` starts it, nothing else changes. An entry names its class as
``"module:Class"`` and is imported only when a cluster starts it, so
``import engine`` stays fast. Labs and tests can run a cluster with a
different list (``Cluster(components=[...])``) to plug in the learner's own.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol

if TYPE_CHECKING:
    from engine.client.client import Client
    from engine.sim.loop import Loop


class Component(Protocol):
    """A running program of the cluster; ``running`` is False once it is stopped (views show it)."""

    name: str
    running: bool

    def start(self) -> None: ...

    def stop(self) -> None: ...


@dataclass
class ComponentContext:
    """What a component is given: never the store, never another component."""

    name: str
    client: "Client"
    loop: "Loop"
    node_name: str | None = None
    options: dict[str, Any] = field(default_factory=dict)
    _informers: Any = None

    @property
    def informers(self) -> Any:
        """This component's SharedInformerFactory (created on first use, shared by its parts)."""
        if self._informers is None:
            from engine.client.informer import SharedInformerFactory
            self._informers = SharedInformerFactory(self.client)
        return self._informers


@dataclass(frozen=True)
class ComponentSpec:
    """One line of the registry: a name, where it runs, and its class."""

    name: str
    role: Literal["control-plane", "node"]
    target: str                    # "module:Class"
    user: str                      # the identity it authenticates as
    groups: tuple[str, ...] = ()
    options: dict[str, Any] = field(default_factory=dict, hash=False)
    """Merged into the context's options when a cluster starts it (labs plug their functions in here)."""

    def load(self) -> type:
        module_name, _, class_name = self.target.partition(":")
        return getattr(importlib.import_module(module_name), class_name)


COMPONENTS: list[ComponentSpec] = [
    ComponentSpec("kube-controller-manager", "control-plane", "engine.controllers.manager:ControllerManager",
                  user="system:kube-controller-manager"),
    ComponentSpec("kube-scheduler", "control-plane", "engine.scheduler.scheduler:Scheduler",
                  user="system:kube-scheduler"),
    ComponentSpec("kubelet", "node", "engine.kubelet.kubelet:Kubelet",
                  user="system:node:{node}", groups=("system:nodes",)),
]
"""Boot order. ``{node}`` in a user name is replaced by the node's name. The scheduler's and the kubelet's
lines are also ``engine.scheduler.SCHEDULER`` and ``engine.kubelet.KUBELET``; a cluster given the same
line twice runs it once."""
