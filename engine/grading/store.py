"""Store scenarios for the etcd lab: random write sequences, the history a store keeps, and a racing writer.

Interface:

- ``random_operations(seed, n, keys=KEYS)``: a reproducible list of ``Operation``
  (put, delete, delete of a prefix, a txn writing two keys, compaction).
- ``apply_operations(store, operations)``: run them against any ``Store``.
- ``kept_history(store, prefix="")``: the events the store still keeps (from its
  compaction point on), exactly what a watch from that point replays.
- ``reference_watch(store, start_revision, prefix="")``: what the store's own
  watch delivers from ``start_revision`` (or the ``CompactedError`` it raises).
- ``watch_cases(seed, scenarios)``: learner-shaped cases
  ``(history, start_revision, compact_revision, prefix)`` with the reference that answers them.
- ``RacingStore(store, competitor)``: the store as a learner's code sees it, except
  that ``competitor()`` writes just before the learner's first write: the window
  in which a read-then-write update loses another writer's change.
- ``render_events(events)``: ``[PUT a=v1 @3, DELETE b @4]``.

Everything is deterministic: the same seed gives the same operations, stores and cases.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any, Callable, Sequence

from engine.sim.loop import Loop
from engine.store.memory import MemoryStore
from engine.store.types import CompactedError, Event, PutOp, Store, prefix_end

KEYS = ("a", "b", "c", "dir/x", "dir/y", "dir/z", "other/q")
PREFIXES = ("", "dir/", "other/", "a")


@dataclass(frozen=True)
class Operation:
    """One step of a scenario. ``compact`` keeps the last ``keep`` revisions (skipped when nothing to cut)."""

    kind: str                    # "put", "delete", "delete_prefix", "txn", "compact"
    key: str = ""
    value: bytes = b""
    other_key: str = ""          # the second key of a txn
    keep: int = 0

    def __str__(self) -> str:
        if self.kind == "put":
            return f"put {self.key}={self.value.decode()}"
        if self.kind == "txn":
            return f"txn put {self.key}, {self.other_key}"
        if self.kind == "compact":
            return f"compact (keep {self.keep})"
        return f"{self.kind} {self.key}"


def random_operations(seed: int, n: int, keys: Sequence[str] = KEYS, *, compactions: bool = True) -> list[Operation]:
    """``n`` operations drawn with ``random.Random(seed)``: mostly puts, some deletes, txns and compactions."""
    rng = random.Random(seed)
    operations: list[Operation] = []
    for index in range(n):
        roll = rng.random()
        key = rng.choice(keys)
        if roll < 0.55:
            operations.append(Operation("put", key, f"v{index}".encode()))
        elif roll < 0.72:
            operations.append(Operation("delete", key))
        elif roll < 0.77:
            operations.append(Operation("delete_prefix", rng.choice(("dir/", "other/"))))
        elif roll < 0.90 or not compactions:
            other = rng.choice([k for k in keys if k != key])
            operations.append(Operation("txn", key, f"v{index}".encode(), other_key=other))
        else:
            operations.append(Operation("compact", keep=rng.randint(1, 8)))
    return operations


def apply_operations(store: Store, operations: Sequence[Operation]) -> None:
    """Run ``operations`` in order (a compaction that would cut nothing is skipped)."""
    for operation in operations:
        if operation.kind == "put":
            store.put(operation.key, operation.value)
        elif operation.kind == "delete":
            store.delete_range(operation.key)
        elif operation.kind == "delete_prefix":
            store.delete_range(operation.key, prefix_end(operation.key))
        elif operation.kind == "txn":
            store.txn([], [PutOp(operation.key, operation.value), PutOp(operation.other_key, operation.value)], [])
        elif operation.kind == "compact":
            target = store.revision - operation.keep
            if target > store.compact_revision and target >= 1:
                store.compact(target)
        else:
            raise ValueError(f"unknown operation kind {operation.kind!r}")


def new_store(seed: int = 0) -> MemoryStore:
    """A fresh in-memory store on its own loop."""
    return MemoryStore(Loop(seed))


def _range_of(prefix: str) -> tuple[str, str]:
    return (prefix, prefix_end(prefix)) if prefix else ("", "\0")


def reference_watch(store: Store, start_revision: int, prefix: str = "") -> list[Event]:
    """The events a watch on ``prefix`` from ``start_revision`` replays now (the store's own answer)."""
    events: list[Event] = []
    key, range_end = _range_of(prefix)
    handle = store.watch(key, range_end, start_revision=start_revision, callback=events.extend)
    handle.cancel()
    return events


def kept_history(store: Store, prefix: str = "") -> list[Event]:
    """Every event the store still keeps, oldest first: a watch from the compaction point (or revision 1)."""
    return reference_watch(store, max(1, store.compact_revision), prefix)


def render_events(events: Any) -> str:
    """``[PUT a=v1 @3, DELETE b @4]``: events as a learner reads them."""
    if not isinstance(events, (list, tuple)):
        return repr(events)
    parts = []
    for event in events:
        if not isinstance(event, Event):
            parts.append(repr(event))
        elif event.type == "PUT":
            parts.append(f"PUT {event.kv.key}={event.kv.value.decode(errors='replace')} @{event.kv.mod_revision}")
        else:
            parts.append(f"DELETE {event.kv.key} @{event.kv.mod_revision}")
    return "[" + ", ".join(parts) + "]"


def _describe_watch_case(history: list[Event], start_revision: int, compact_revision: int, prefix: str) -> str:
    span = (f"revisions {history[0].kv.mod_revision}..{history[-1].kv.mod_revision}" if history else "empty")
    return (f"watch_events(history of {len(history)} events ({span}), start_revision={start_revision}, "
            f"compact_revision={compact_revision}, prefix={prefix!r})")


@dataclass
class WatchCases:
    """Cases for ``compare``: ``cases`` are learner arguments, ``reference`` answers them, ``describe`` names one."""

    cases: list[tuple[list[Event], int, int, str]]
    reference: Callable[[list[Event], int, int, str], list[Event]]
    describe: Callable[..., str] = _describe_watch_case


def watch_cases(seed: int, scenarios: int = 20, operations: int = 30, *, compactions: bool = True,
                prefixes: Sequence[str] = PREFIXES) -> WatchCases:
    """For each scenario, a store after random operations, and start revisions all around its history.

    The history handed to the learner is the whole kept history (every key); the prefix
    filter is the learner's job, as etcd's watch filters its log by key range.
    """
    rng = random.Random(seed)
    stores: dict[int, MemoryStore] = {}
    cases: list[tuple[list[Event], int, int, str]] = []
    for number in range(scenarios):
        store = new_store(seed)
        apply_operations(store, random_operations(rng.randrange(1 << 30), operations, compactions=compactions))
        history = kept_history(store)
        stores[id(history)] = store
        compact = store.compact_revision
        starts = {0, 1, max(1, compact), compact + 1, store.revision, store.revision + 1,
                  rng.randint(1, store.revision)}
        if compact > 1:
            starts.add(compact - 1)
        for start in sorted(starts):
            cases.append((history, start, compact, rng.choice(prefixes)))

    def reference(history: list[Event], start_revision: int, compact_revision: int, prefix: str) -> list[Event]:
        return reference_watch(stores[id(history)], start_revision, prefix)

    return WatchCases(cases, reference)


class RacingStore:
    """A store whose first write by the learner's code is preceded by ``competitor()``'s write.

    Reads and writes go to ``store`` unchanged; ``raced`` tells whether the competitor
    has run. A compare-and-swap built on one ``txn`` is immune to the race; a read
    followed by a plain ``put`` overwrites the competitor's change: a lost update.
    """

    def __init__(self, store: Store, competitor: Callable[[], Any]) -> None:
        self._store = store
        self._competitor = competitor
        self.raced = False

    def _race(self) -> None:
        if not self.raced:
            self.raced = True
            self._competitor()

    def put(self, *args: Any, **kwargs: Any) -> Any:
        self._race()
        return self._store.put(*args, **kwargs)

    def txn(self, *args: Any, **kwargs: Any) -> Any:
        self._race()
        return self._store.txn(*args, **kwargs)

    def delete_range(self, *args: Any, **kwargs: Any) -> Any:
        self._race()
        return self._store.delete_range(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)


__all__ = ["CompactedError", "KEYS", "Operation", "RacingStore", "WatchCases", "apply_operations", "kept_history",
           "new_store", "random_operations", "reference_watch", "render_events", "watch_cases"]
