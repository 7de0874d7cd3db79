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
- ``check_watch(watch_events, seed, ...)``, ``check_cas(cas_update, seed, ...)`` and
  ``check_cas_race(cas_update, seed, ...)``: the lab's scenario checks, raising a
  ``GradingFailure`` that names the mistake when they recognise it.

Everything is deterministic: the same seed gives the same operations, stores and cases.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from types import GeneratorType
from typing import Any, Callable, Sequence

from engine.grading.delegation import OwnWork
from engine.grading.feedback import Outcome, check, compare, describe_exception, fail
from engine.sim.loop import Loop
from engine.store.memory import MemoryStore
from engine.store.types import CompactedError, Compare, Event, PutOp, Store, prefix_end

SEE_WATCH = ("course/02_etcd.ipynb, sections \"Watch: following changes from a revision\" and "
             "\"Compaction, and the 410 it causes\"; engine module engine.store.memory (MemoryStore.watch, _replay)")
SEE_CAS = ("course/03_apiserver.ipynb, section \"5. Storage: resourceVersion and conflicts\"; "
           "engine modules engine.store.types (Compare, PutOp) and engine.store.memory (MemoryStore.txn)")

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


def diagnose_watch(case: tuple, expected: Outcome, got: Outcome) -> str | None:
    """Name the usual mistakes of a watch: the off-by-one start, compaction ignored or misplaced, the prefix."""
    history, start, compact, prefix = case
    if expected.error is not None:
        return (f"start_revision {start} is below the compaction point {compact}: those revisions are gone, so "
                f"the watch must raise CompactedError (the API server turns it into 410 Gone and the client relists)")
    if got.error is not None:
        if isinstance(got.error, CompactedError):
            return (f"revision {compact} itself survives compaction: only start_revision < compact_revision "
                    f"is too old")
        return None
    value = got.value
    if not isinstance(value, list) or not all(isinstance(event, Event) for event in value):
        return "return a list of the history's Event objects (not keys, values or revisions)"
    if start <= 0:
        return "start_revision 0 means 'from now on': a watch from 0 replays no history"
    inside = [event for event in history if event.kv.key.startswith(prefix)]
    if value == [event for event in inside if event.kv.mod_revision > start]:
        return (f"you left out revision {start} itself: a watch from revision r delivers r, r+1, ... "
                f"(etcd's start_revision is inclusive)")
    if any(event.kv.mod_revision < start for event in value):
        return f"you delivered events older than start_revision {start}"
    if any(not event.kv.key.startswith(prefix) for event in value):
        return f"you delivered events of keys outside the prefix {prefix!r}"
    if sorted(value, key=lambda e: e.kv.mod_revision) == expected.value and value != expected.value:
        return "the events are out of order: deliver them in revision order, as the history holds them"
    return None


def _as_list(value: Any) -> Any:
    """A generator or tuple of events counts as the list it yields (a lazy CompactedError counts as raised)."""
    return list(value) if isinstance(value, (tuple, GeneratorType)) else value


def check_watch(watch_events: Callable[..., Any], seed: int, scenarios: int = 15, *, compactions: bool = True,
                prefixes: Sequence[str] = PREFIXES, only_compacted: bool = False) -> None:
    """Compare ``watch_events`` with the store's own watch on generated histories; raises on the first mismatches."""
    made = watch_cases(seed, scenarios, compactions=compactions, prefixes=prefixes)
    cases = made.cases
    if only_compacted:
        cases = [case for case in cases if case[2] > 0]
    # Each call gets its own copy of the history: a learner's code that sorts or pops it must not
    # change the cases that follow (Events themselves are frozen).
    own = watch_own_work()
    answer = own.wrap(watch_events)

    def learner(history: list[Event], *rest: Any) -> Any:
        return answer(list(history), *rest)

    compare(learner, made.reference, cases, describe=made.describe, render=render_events,
            normalize=_as_list, what="watch_events", diagnose=diagnose_watch, see=SEE_WATCH,
            hint="the reference is MemoryStore.watch(prefix, prefix_end(prefix), start_revision=...)")
    own.check(watch_events)


def watch_own_work() -> OwnWork:
    """The engine's own watch replay, which ``watch_events`` must not hand its work to."""
    return OwnWork("watch_events", [MemoryStore.watch, MemoryStore._replay, reference_watch, kept_history,
                                    watch_cases], see=SEE_WATCH)


def cas_own_work() -> OwnWork:
    """The engine's own compare-and-swaps, which ``cas_update`` must not hand its work to."""
    from engine.apiserver.storage import ResourceStorage

    return OwnWork("cas_update", [reference_cas, ResourceStorage.update, ResourceStorage.remove], see=SEE_CAS)


def reference_cas(store: Store, key: str, expected_mod_revision: int, new_value: bytes) -> bool:
    """Compare-and-swap as etcd clients write it: one txn guarded by the key's mod revision."""
    return store.txn([Compare(key, "MOD", "=", expected_mod_revision)], [PutOp(key, new_value)], []).succeeded


def _cas_run(cas_update: Callable[..., Any], seed: int, key: str, choice: str) -> tuple[Any, bytes | None, int]:
    store = new_store(seed)
    apply_operations(store, random_operations(seed, 25, compactions=False))
    kvs = store.range(key).kvs
    current = kvs[0].mod_revision if kvs else 0
    expected = {"current": current, "stale": max(0, current - 1) if current else store.revision,
                "missing": 0, "version": kvs[0].version if kvs else 1}[choice]
    result = cas_update(store, key, expected, b"new")
    after = store.range(key).kvs
    return result, (after[0].value if after else None), store.revision


def _describe_cas(seed: int, key: str, choice: str) -> str:
    store = new_store(seed)
    apply_operations(store, random_operations(seed, 25, compactions=False))
    kvs = store.range(key).kvs
    now = (f"{key!r} exists with mod_revision {kvs[0].mod_revision}, version {kvs[0].version}" if kvs
           else f"{key!r} does not exist")
    expected = {"current": "its current mod revision", "stale": "an older revision", "missing": "0",
                "version": "its version number"}[choice]
    return f"store at revision {store.revision}, {now}; cas_update(store, {key!r}, <{expected}>, b'new')"


def _render_cas(value: Any) -> str:
    if isinstance(value, tuple) and len(value) == 3:
        result, stored, revision = value
        return f"returned {result!r}; the key then holds {stored!r}; store revision {revision}"
    return repr(value)


def diagnose_cas(case: tuple, expected: Outcome, got: Outcome) -> str | None:
    seed, key, choice = case
    if got.error is not None or not isinstance(got.value, tuple):
        return None
    result, stored, revision = got.value
    if not isinstance(result, bool):
        return "cas_update must return True or False: TxnResponse.succeeded says whether the compare held"
    if choice == "version":
        return ("a key's version counts its own writes (1, 2, 3...); its mod_revision is the store revision "
                "of its last write: compare target \"MOD\", not \"VERSION\"")
    if choice == "missing":
        return "a missing key has mod_revision 0: Compare(key, \"MOD\", \"=\", 0) holds only when it does not exist"
    if expected.value[0] is False and result is False and stored != expected.value[1]:
        return "a failed compare must change nothing: put the new value in the success branch only"
    if expected.value[0] is False:
        return "the key changed since expected_mod_revision: the swap must not happen"
    if result is False:
        return "expected_mod_revision is the key's current mod_revision: the compare holds, the swap must happen"
    return None


def check_cas(cas_update: Callable[..., Any], seed: int, scenarios: int = 12) -> None:
    """Compare ``cas_update`` with a one-txn reference: result, stored value and revision, over generated stores."""
    rng = random.Random(seed)
    cases = [(rng.randrange(1 << 20), rng.choice(KEYS), choice)
             for _ in range(scenarios) for choice in ("current", "stale", "missing", "version")]
    own = cas_own_work()
    answer = own.wrap(cas_update)
    compare(lambda *case: _cas_run(answer, *case), lambda *case: _cas_run(reference_cas, *case), cases,
            describe=_describe_cas, render=_render_cas, what="cas_update", diagnose=diagnose_cas,
            see=SEE_CAS, hint="store.txn([Compare(key, \"MOD\", \"=\", expected)], [PutOp(key, value)], [])")
    own.check(cas_update)


def check_cas_race(cas_update: Callable[..., Any], seed: int, scenarios: int = 10) -> None:
    """Two writers read the same mod revision; another writer's CAS lands just before ours writes.

    Exactly one may win: the other writer's (which came first), and the key keeps its value.
    """
    rng = random.Random(seed)
    own = cas_own_work()
    answer = own.wrap(cas_update)
    for _ in range(scenarios):
        store = new_store(seed)
        apply_operations(store, random_operations(rng.randrange(1 << 20), 20, compactions=False))
        key = rng.choice(KEYS)
        kvs = store.range(key).kvs
        seen = kvs[0].mod_revision if kvs else 0
        other: list[bool] = []

        def competitor() -> None:
            with own.paused():               # the other writer is the grader's, inside the learner's call
                other.append(reference_cas(store, key, seen, b"theirs"))

        racing = RacingStore(store, competitor)
        try:
            ours = answer(racing, key, seen, b"ours")
        except Exception as error:
            fail(f"cas_update raised {describe_exception(error)}", see=SEE_CAS)
        situation = (f"both writers saw {key!r} at mod_revision {seen}; the other writer's compare-and-swap "
                     f"landed between your read and your write")
        check(racing.raced, f"cas_update(store, {key!r}, {seen}, b'ours') never wrote to the store",
              hint="a compare-and-swap that may succeed must write (store.txn with a PutOp)", see=SEE_CAS)
        stored = store.range(key).kvs
        value = stored[0].value if stored else None
        winners = [name for name, won in (("the other writer", other[0]), ("yours", ours)) if won is True]
        check(winners == ["the other writer"] and value == b"theirs",
              f"{situation}: exactly one writer may win, and it is the other one (it wrote first)",
              expected="the other writer wins; yours returns False; the key holds b'theirs'",
              got=f"winners: {', '.join(winners) or 'none'}; the key holds {value!r}",
              hint=("a read followed by a put is not atomic: between them another writer can change the key, and "
                    "the put overwrites that change (a lost update). Let etcd compare and write in one txn: "
                    "Compare(key, \"MOD\", \"=\", expected_mod_revision)"),
              see=SEE_CAS)
    own.check(cas_update)


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


__all__ = ["CompactedError", "KEYS", "check_cas", "check_cas_race", "check_watch", "reference_cas", "Operation", "RacingStore", "WatchCases", "apply_operations", "kept_history",
           "new_store", "random_operations", "reference_watch", "render_events", "watch_cases"]
