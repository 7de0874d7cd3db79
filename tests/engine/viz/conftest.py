"""Fixtures for the view tests: small booted clusters and helpers that read DOT source."""

from __future__ import annotations

import re

import pytest

import engine
from engine.components import COMPONENTS, ComponentSpec

_EDGE = re.compile(r'^\s*(?P<tail>"[^"]+"|[\w.]+) -> (?P<head>"[^"]+"|[\w.]+)(?: \[(?P<attrs>.*)\])?$')
_NODE = re.compile(r'^\s*(?P<id>"[^"]+"|[\w.]+) \[(?P<attrs>.*)\]$')


def _unquote(text: str) -> str:
    return text[1:-1] if text.startswith('"') else text


def edges_of(source: str) -> list[tuple[str, str, str]]:
    """(tail, head, attributes) of every edge in a DOT source, as the arrow points.

    An edge written ``a -> b [dir=back]`` is drawn as an arrow from b to a (the
    diagrams write upward arrows so, to rank their tails below their heads).
    """
    found = []
    for line in source.splitlines():
        match = _EDGE.match(line)
        if match:
            tail, head, attrs = _unquote(match["tail"]), _unquote(match["head"]), match["attrs"] or ""
            if "dir=back" in attrs:
                tail, head = head, tail
            found.append((tail, head, attrs))
    return found


def visible_edges(source: str) -> list[tuple[str, str, str]]:
    return [edge for edge in edges_of(source) if "invis" not in edge[2]]


def node_attrs(source: str, node_id: str) -> str:
    """The attribute list of the node statement for ``node_id``."""
    for line in source.splitlines():
        match = _NODE.match(line)
        if match and _unquote(match["id"]) == node_id and "->" not in line:
            return match["attrs"]
    raise AssertionError(f"no node {node_id!r} in the DOT source")


class Helpers:
    """The helpers above, handed to tests as the ``helpers`` fixture (tests import no conftest)."""

    edges_of = staticmethod(edges_of)
    visible_edges = staticmethod(visible_edges)
    node_attrs = staticmethod(node_attrs)


@pytest.fixture
def helpers() -> type[Helpers]:
    return Helpers


VIZ_TEST_COMPONENTS = [
    COMPONENTS[0],
    ComponentSpec("kubelet", "node", "engine.kubelet.node_status:NodeStatusAgent", user="system:node:{node}",
                  groups=("system:nodes",)),
]
"""The views are tested on a cluster whose pods stay where the tests put them: the controller manager and
nodes that register and heartbeat, but no kube-scheduler and no kubelet running containers (the tests play
those parts themselves, so every request they trace or count is theirs)."""


@pytest.fixture
def cluster() -> engine.Cluster:
    return engine.Cluster(nodes=3, seed=0, components=VIZ_TEST_COMPONENTS)


@pytest.fixture
def pods() -> "Pods":
    return Pods


def make_pod(name: str, *, node: str | None = None, namespace: str = "default", cpu: str = "100m",
             memory: str = "64Mi", labels: dict | None = None) -> dict:
    spec: dict = {"containers": [{"name": "main", "image": "nginx:1.27",
                                  "resources": {"requests": {"cpu": cpu, "memory": memory}}}]}
    if node:
        spec["nodeName"] = node
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": namespace, "labels": labels or {"app": name}},
            "spec": spec}


def set_phase(cluster: engine.Cluster, name: str, phase: str, namespace: str = "default") -> dict:
    pod = cluster.admin.get("pods", name, namespace)
    pod.setdefault("status", {})["phase"] = phase
    return cluster.admin.update_status(pod)


class Pods:
    """Pod helpers, handed to tests as the ``pods`` fixture."""

    make = staticmethod(make_pod)
    set_phase = staticmethod(set_phase)
