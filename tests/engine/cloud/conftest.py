"""A small cluster on the simulated cloud (the default components, the kubelet's node agent, plus the CCM),
and helpers to read its events and reach the CCM's controllers."""

from __future__ import annotations

from typing import Any, Callable

import pytest

import engine


@pytest.fixture
def cluster() -> engine.Cluster:
    return engine.Cluster(nodes=2, seed=0, cloud="sim")


@pytest.fixture
def events() -> Callable[..., list[dict]]:
    def find(cluster: engine.Cluster, reason: str, name: str | None = None) -> list[dict]:
        return [e for e in cluster.list("events", all_namespaces=True)
                if e["reason"] == reason and (name is None or e["involvedObject"]["name"] == name)]
    return find


@pytest.fixture
def ccm_controller() -> Callable[[engine.Cluster, str], Any]:
    return lambda cluster, name: cluster.components[("cloud-controller-manager", None)].controller(name)
