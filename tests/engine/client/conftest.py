"""Fixtures of the client tests: a real API server (a cluster with no components), its loop, and clients.

The cluster runs no controllers, scheduler or kubelets (``components=[]``), so
every object the tests see was written by the test itself, and every event an
informer delivers can be predicted. Only the ``default`` ServiceAccounts the
ServiceAccount controller would make are created here, so pods are admitted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from engine.cluster import Cluster
from engine.client.client import Client
from engine.sim.loop import Loop


@pytest.fixture
def cluster() -> Cluster:
    cluster = Cluster(nodes=0, seed=0, components=[])
    for namespace in ("default", "kube-system"):       # what the ServiceAccount controller would create
        cluster.admin.create({"apiVersion": "v1", "kind": "ServiceAccount",
                              "metadata": {"name": "default", "namespace": namespace}})
    return cluster


@pytest.fixture
def loop(cluster) -> Loop:
    return cluster.loop


@pytest.fixture
def admin(cluster) -> Client:
    return cluster.admin


def _pod(name: str, namespace: str = "default", node: str | None = None, **labels: str) -> dict:
    spec: dict[str, Any] = {"containers": [{"name": "app", "image": "nginx:1.27"}], "serviceAccountName": "default"}
    if node:
        spec["nodeName"] = node
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": namespace, "labels": labels or {"app": "web"}},
            "spec": spec}


@dataclass
class Seen:
    """Handlers that keep what they were told, as (verb, name[, detail]) tuples, with virtual times."""

    loop: Loop
    calls: list[tuple] = field(default_factory=list)
    times: list[float] = field(default_factory=list)
    objects: list[Any] = field(default_factory=list)

    @staticmethod
    def _name(obj: Any) -> str:
        inner = getattr(obj, "obj", obj)
        return inner["metadata"]["name"]

    def on_add(self, obj: dict) -> None:
        self._keep(("add", self._name(obj)), obj)

    def on_update(self, old: dict, new: dict) -> None:
        self._keep(("update", self._name(new)), (old, new))

    def on_delete(self, obj: Any) -> None:
        tombstone = type(obj).__name__ == "DeletedFinalStateUnknown"
        self._keep(("delete", self._name(obj)) + (("tombstone",) if tombstone else ()), obj)

    def _keep(self, call: tuple, obj: Any) -> None:
        self.calls.append(call)
        self.times.append(self.loop.now)
        self.objects.append(obj)

    def handlers(self) -> dict:
        return {"on_add": self.on_add, "on_update": self.on_update, "on_delete": self.on_delete}

    def clear(self) -> None:
        self.calls.clear()
        self.times.clear()
        self.objects.clear()


@pytest.fixture
def make_pod():
    """``make_pod(name, namespace="default", node=None, **labels)``: a minimal Pod manifest."""
    return _pod


@pytest.fixture
def seen(loop) -> Seen:
    return Seen(loop)


@pytest.fixture
def new_seen(loop):
    """Make more ``Seen`` recorders (one per handler registration)."""
    return lambda: Seen(loop)
