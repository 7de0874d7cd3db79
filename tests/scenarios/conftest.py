"""Fixtures of the whole-cluster scenarios: ``make_cluster`` builds ``engine.Cluster`` on each store backend.

A scenario that asks for ``make_cluster`` runs twice: on the in-memory store, and on a real etcd (one server
for the session, started on 127.0.0.1 with a temporary data directory; each cluster gets a key prefix of
its own, so ``etcdctl`` shows ``/scenario-N/registry/...``). The etcd stores are closed after the test.
"""

from __future__ import annotations

import itertools
from typing import Any, Callable, Iterator

import pytest

import engine
from engine.store.etcd import EtcdStore
from engine.store.etcd_process import EtcdServer

_prefixes = itertools.count(1)


@pytest.fixture(scope="session")
def scenario_etcd() -> Iterator[EtcdServer]:
    server = EtcdServer("scenarios").start()
    yield server
    server.remove()


@pytest.fixture(params=["memory", "etcd"], ids=["in-memory store", "real etcd"])
def make_cluster(request: pytest.FixtureRequest) -> Iterator[Callable[..., engine.Cluster]]:
    server = request.getfixturevalue("scenario_etcd") if request.param == "etcd" else None
    clusters: list[engine.Cluster] = []

    def make(**options: Any) -> engine.Cluster:
        if server is not None:
            options["store"] = f"etcd://127.0.0.1:{server.client_port}/scenario-{next(_prefixes)}"
        cluster = engine.Cluster(**options)
        clusters.append(cluster)
        return cluster

    yield make
    for cluster in clusters:
        if isinstance(cluster.store, EtcdStore):
            cluster.store.revoke_granted_leases()
            cluster.store.close()
