"""Fixtures of the store tests: the backend under test, its clock, and a recorder of watch events.

The conformance suite asks only for these fixtures, so a second backend (a real etcd) joins it by adding a
``store`` parameter: ``advance`` then sleeps instead of running the loop, ``settle`` waits for the watch
stream to catch up. For the in-memory store both are immediate: time is the loop's, delivery is synchronous.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Iterator

import pytest

from engine.sim import Loop
from engine.store import Event, MemoryStore, Store


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


@pytest.fixture(params=["memory"], ids=["in-memory store"])
def store(request: pytest.FixtureRequest, loop: Loop) -> Iterator[Store]:
    yield MemoryStore(loop)


@pytest.fixture
def advance(loop: Loop) -> Callable[[float], None]:
    """Let ``seconds`` of the store's time pass (its leases expire on this clock)."""
    return loop.run_for


@pytest.fixture
def settle() -> Callable[[], None]:
    """Wait until every watch event of the writes made so far has been delivered."""
    return lambda: None


@pytest.fixture
def recorder() -> Callable[[], Recorder]:
    return Recorder
