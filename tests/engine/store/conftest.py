"""Fixtures of the store tests: the backend under test, its clock, and a recorder of watch events.

The conformance suite asks only for these fixtures, so both backends run it: the in-memory store, and a
real etcd (one server for the whole session, started here on 127.0.0.1 with a temporary data directory;
each test gets a store confined to a fresh key prefix, and a test marked ``fresh_store`` a server of its
own). For etcd ``advance`` sleeps (leases expire in real seconds) and ``settle`` waits for the watch
stream to catch up; for the in-memory store both are immediate: time is the loop's, delivery synchronous.
"""

from __future__ import annotations

from dataclasses import dataclass, field
import time
from typing import Callable, Iterator

import pytest

from engine.sim import Loop
from engine.store import Event, MemoryStore, Store
from engine.store.etcd import EtcdStore
from engine.store.etcd_process import EtcdServer


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "fresh_store: on real etcd, the test needs a server of its own")


@dataclass
class Recorder:
    """A watch callback that keeps every call: ``calls[i]`` is the list of events of one revision."""

    calls: list[list[Event]] = field(default_factory=list)

    def __call__(self, events: list[Event]) -> None:
        self.calls.append(list(events))

    @property
    def events(self) -> list[Event]:
        return [event for call in self.calls for event in call]

    @property
    def revisions(self) -> list[int]:
        """The revision of each call (every event of a call shares it)."""
        return [call[0].kv.mod_revision for call in self.calls]

    def summary(self) -> list[tuple[str, str, bytes]]:
        return [(event.type, event.kv.key, event.kv.value) for event in self.events]


@pytest.fixture
def loop() -> Loop:
    return Loop(seed=0)


@pytest.fixture(scope="session")
def etcd_server() -> Iterator[EtcdServer]:
    server = EtcdServer("conformance").start()
    yield server
    server.remove()


@pytest.fixture(params=["memory", "etcd"], ids=["in-memory store", "real etcd"])
def store(request: pytest.FixtureRequest, loop: Loop) -> Iterator[Store]:
    if request.param == "memory":
        yield MemoryStore(loop)
        return
    if request.node.get_closest_marker("fresh_store"):
        with EtcdServer("fresh") as server:
            etcd = EtcdStore(server.endpoint, loop=loop)
            yield etcd
            etcd.close()
        return
    server = request.getfixturevalue("etcd_server")
    etcd = EtcdStore(server.endpoint, loop=loop, prefix=f"/{request.node.name}/")
    yield etcd
    etcd.revoke_granted_leases()     # a lease left behind would expire in the middle of a later test
    etcd.close()


@pytest.fixture
def advance(store: Store, loop: Loop) -> Callable[[float], None]:
    """Let ``seconds`` of the store's time pass (its leases expire on this clock)."""
    return time.sleep if isinstance(store, EtcdStore) else loop.run_for


@pytest.fixture
def settle(store: Store) -> Callable[[], None]:
    """Wait until every watch event of the writes made so far has been delivered."""
    if isinstance(store, EtcdStore):
        return lambda: assert_synced(store)
    return lambda: None


def assert_synced(store: EtcdStore) -> None:
    assert store.sync(timeout=5.0), "the etcd watch stream did not catch up within 5 s"


@pytest.fixture
def recorder() -> Callable[[], Recorder]:
    return Recorder
