"""lab02_etcd: the cells of its source notebook, and what its grading round trip expects."""

from __future__ import annotations

from lab_specs.cells import Cell, code, md, solution, tests


def cells() -> list[Cell]:
    see_watch = 'course/02_etcd.ipynb, section "Watch: following changes from a revision"'
    see_cas = 'course/03_apiserver.ipynb, section "5. Storage: resourceVersion and conflicts"'
    return [
        md("intro", """
# Lab 2: etcd, the cluster's memory

Every object of a Kubernetes cluster lives in **etcd**, a key-value store, under a key such as
`/registry/pods/default/web`. Every component learns about changes by **watching** etcd (through the
API server), and every update is guarded by **optimistic concurrency**. In this lab you write the heart
of both, and the engine's own etcd (`engine.store.MemoryStore`) checks your code.

What you need from the lecture (`course/02_etcd.ipynb`):

- **Revisions.** The store has one global counter, the *revision*. Every write (a put, a delete, a
  transaction) makes exactly one new revision. Each key remembers `create_revision`, `mod_revision` (the
  revision of its last write) and `version` (how many times it was written since it was created).
- **MVCC.** Old versions are kept, so you can read the store *as it was* at any past revision.
- **Watch.** A watch from revision `r` first replays every change made at revisions `r, r+1, ...` and then
  follows new ones. That is how an informer catches up after a disconnect without missing anything.
- **Compaction.** Keeping every version forever would fill the disk, so the API server asks etcd to
  *compact* every five minutes: versions older than the compaction point are forgotten, and a watch from
  an older revision fails with `CompactedError` (which the API server turns into `410 Gone`).

Graded cells: 10 points. The visible tests below each answer cell check simple cases; hidden tests run
your functions on many random histories and compare them with the engine's store.
"""),
        code("setup", f"""
from engine.sim import Loop
from engine.store import CompactedError, Compare, Event, KeyValue, MemoryStore, PutOp
from engine.grading import check, fail
from engine.grading.store import kept_history

# Where the checks below send you when something is not right yet.
WATCH_SECTION = {see_watch!r}
CAS_SECTION = {see_cas!r}

# A small store, written the way the API server writes it.
example = MemoryStore(Loop(seed=0))
example.put("/registry/configmaps/default/app", b"v1")     # revision 2 (a fresh store is at revision 1)
example.put("/registry/pods/default/web", b"running")      # revision 3
example.put("/registry/configmaps/default/app", b"v2")     # revision 4
example.delete_range("/registry/pods/default/web")         # revision 5
example.put("/registry/pods/default/api", b"pending")      # revision 6

history = kept_history(example)    # every event the store keeps, oldest first
for event in history:
    print(f"revision {{event.kv.mod_revision}}: {{event.type:6}} {{event.kv.key}} = {{event.kv.value!r}}")


def revisions(events):
    \"\"\"The mod revision of each event, for readable checks.\"\"\"
    return [getattr(getattr(event, "kv", None), "mod_revision", event) for event in (events or [])]
"""),
        md("watch_intro", """
## Part 1: watch from a revision (5 points)

Write `watch_events(history, start_revision, compact_revision, prefix="")`: the events a new watch
on the keys starting with `prefix` receives from its history replay.

- `history` is the list of `Event`s the store keeps, oldest first (as printed above). An `Event` has a
  `type` (`"PUT"` or `"DELETE"`) and a `kv` (a `KeyValue` with `key`, `value`, `create_revision`,
  `mod_revision`, `version`). One transaction may make several events with the same `mod_revision`.
- `start_revision` is where the watch starts, **inclusive**: deliver every event whose
  `kv.mod_revision >= start_revision`, in the order of the history. `0` means "from now on": no history.
- `compact_revision` is the store's compaction point (0 when it never compacted). A watch that starts
  *below* it (`0 < start_revision < compact_revision`) cannot be served: raise
  `CompactedError(start_revision, compact_revision)`. Revision `compact_revision` itself is still there.
- only events whose key starts with `prefix` belong to the watch (`""` watches every key).

The engine's version is `MemoryStore.watch` in `engine/store/memory.py`.
"""),
        solution("watch_events", """
def watch_events(history, start_revision, compact_revision, prefix=""):
    \"\"\"The events a watch on `prefix` from `start_revision` replays, or CompactedError.\"\"\"
    ### BEGIN SOLUTION
    if 0 < start_revision < compact_revision:
        raise CompactedError(start_revision, compact_revision)
    if start_revision <= 0:
        return []
    return [event for event in history
            if event.kv.mod_revision >= start_revision and event.kv.key.startswith(prefix)]
    ### END SOLUTION
"""),
        tests("test_watch_from_revision", 2, """
got = watch_events(history, 4, 0)
check(revisions(got) == [4, 5, 6], "a watch from revision 4 replays the events of revisions 4, 5 and 6",
      expected=[4, 5, 6], got=revisions(got), hint="start_revision is inclusive", see=WATCH_SECTION)
check(revisions(watch_events(history, 0, 0)) == [], "start_revision 0 means 'from now on': no history",
      expected=[], got=revisions(watch_events(history, 0, 0)), see=WATCH_SECTION)
check(revisions(watch_events(history, 7, 0)) == [], "nothing has happened at revision 7 yet",
      expected=[], got=revisions(watch_events(history, 7, 0)), see=WATCH_SECTION)
### BEGIN HIDDEN TESTS
from engine.grading.integrity import ensure_installed
ensure_installed()     # the engine as installed, whatever the notebook patched
from engine.grading.store import check_watch
check_watch(watch_events, seed=20, scenarios=12, compactions=False, prefixes=("",))
### END HIDDEN TESTS
"""),
        tests("test_watch_prefix", 1, """
pods = watch_events(history, 1, 0, prefix="/registry/pods/")
check(revisions(pods) == [3, 5, 6], "a watch on /registry/pods/ sees the pods' events only (revisions 3, 5, 6)",
      expected=[3, 5, 6], got=revisions(pods), see=WATCH_SECTION)
### BEGIN HIDDEN TESTS
from engine.grading.integrity import ensure_installed
ensure_installed()     # the engine as installed, whatever the notebook patched
from engine.grading.store import check_watch
check_watch(watch_events, seed=21, scenarios=12, compactions=False)
### END HIDDEN TESTS
"""),
        tests("test_watch_compaction", 2, """
compacted = MemoryStore(Loop(seed=0))
for key, value in [("/registry/configmaps/default/app", b"v1"), ("/registry/pods/default/web", b"running"),
                   ("/registry/configmaps/default/app", b"v2")]:
    compacted.put(key, value)
compacted.compact(3)                   # the API server compacts every 5 minutes
kept = kept_history(compacted)
try:
    too_old = watch_events(kept, 2, 3)
except CompactedError:
    pass
else:
    fail("revision 2 is below the compaction point 3: the watch must raise CompactedError",
         expected="CompactedError(2, 3)", got=revisions(too_old), see=WATCH_SECTION)
check(revisions(watch_events(kept, 3, 3)) == [3, 4], "revision 3 itself survives the compaction at 3",
      expected=[3, 4], got=revisions(watch_events(kept, 3, 3)), see=WATCH_SECTION)
### BEGIN HIDDEN TESTS
from engine.grading.integrity import ensure_installed
ensure_installed()     # the engine as installed, whatever the notebook patched
from engine.grading.store import check_watch
check_watch(watch_events, seed=22, scenarios=15, only_compacted=True)
### END HIDDEN TESTS
"""),
        md("cas_intro", """
## Part 2: compare-and-swap (5 points)

Two controllers may update the same object at the same time. Kubernetes never locks: each update says
which version it read (the object's `resourceVersion`, which *is* the etcd key's `mod_revision`), and
the API server writes only if the key has not changed since, in one etcd **transaction**:

```python
store.txn(compare=[Compare(key, "MOD", "=", expected_mod_revision)],
          success=[PutOp(key, new_value)],
          failure=[])
```

etcd checks every `Compare` and runs the `success` operations if all hold, the `failure` ones otherwise,
*atomically*: no other write can come between the check and the put. The response's `succeeded` says
which branch ran. A key that does not exist has `mod_revision` 0, so `expected_mod_revision=0` means
"create it only if nobody else has".

Write `cas_update(store, key, expected_mod_revision, new_value) -> bool`: put `new_value` only if the
key's `mod_revision` is still `expected_mod_revision`; return whether it did. The API server turns a
`False` into `409 Conflict` ("the object has been modified; please apply your changes to the latest
version and try again").
"""),
        solution("cas_update", """
def cas_update(store, key, expected_mod_revision, new_value):
    \"\"\"Put `new_value` at `key` only if its mod_revision is still `expected_mod_revision`.\"\"\"
    ### BEGIN SOLUTION
    response = store.txn([Compare(key, "MOD", "=", expected_mod_revision)], [PutOp(key, new_value)], [])
    return response.succeeded
    ### END SOLUTION
"""),
        tests("test_cas_basics", 2, """
store = MemoryStore(Loop(seed=0))
key = "/registry/configmaps/default/app"
read = store.put(key, b"v1").revision
check(cas_update(store, key, read, b"v2") is True, f"nobody changed the key since revision {read}: the swap happens",
      see=CAS_SECTION)
check(store.range(key).kvs[0].value == b"v2", "after a successful swap the key holds the new value",
      expected=b"v2", got=store.range(key).kvs[0].value, see=CAS_SECTION)
check(cas_update(store, key, read, b"v3") is False,
      f"the key changed after revision {read}: an update based on that read must fail", see=CAS_SECTION)
check(store.range(key).kvs[0].value == b"v2", "a failed swap changes nothing",
      expected=b"v2", got=store.range(key).kvs[0].value, see=CAS_SECTION)
check(cas_update(store, "/registry/configmaps/default/new", 0, b"x") is True,
      "expected_mod_revision 0 creates a key that does not exist yet", see=CAS_SECTION)
### BEGIN HIDDEN TESTS
from engine.grading.integrity import ensure_installed
ensure_installed()     # the engine as installed, whatever the notebook patched
from engine.grading.store import check_cas
check_cas(cas_update, seed=23, scenarios=12)
### END HIDDEN TESTS
"""),
        tests("test_cas_race", 3, """
store = MemoryStore(Loop(seed=1))
key = "/registry/deployments/default/web"
read = store.put(key, b"replicas: 1").revision
# Two writers read the same revision; the first to write wins, the other must retry.
first = cas_update(store, key, read, b"replicas: 3")
second = cas_update(store, key, read, b"replicas: 5")
check((first, second) == (True, False), "of two writers that read the same revision, exactly one wins",
      expected=(True, False), got=(first, second), see=CAS_SECTION)
### BEGIN HIDDEN TESTS
from engine.grading.integrity import ensure_installed
ensure_installed()     # the engine as installed, whatever the notebook patched
from engine.grading.store import check_cas_race
check_cas_race(cas_update, seed=24, scenarios=10)
### END HIDDEN TESTS
"""),
        md("outro", """
## What you built

`watch_events` is what etcd's watch does before it follows live changes, and what the API server's
watch cache does for its many watchers; `CompactedError` is the `410 Gone` that makes an informer list
again. `cas_update` is how every `kubectl apply`, every controller's status update and every leader
election lease renewal stays correct without locks. Next: the API server, in `lab03_apiserver`.
"""),
    ]


FULL = {"test_watch_from_revision": 2, "test_watch_prefix": 1, "test_watch_compaction": 2,
        "test_cas_basics": 2, "test_cas_race": 3}
"""Points per graded cell: what the solution scores."""

BROKEN = ("broken_json", "broken_loop")
"""Which kinds of broken submission the round trip hands in for this lab (tests/grading/test_round_trip.py)."""

SECRETS = ("check_watch", "check_cas")
"""Names of hidden-test helpers that must never appear in a released lab or in feedback."""


def wrong_answers() -> dict[str, tuple[str, str, set[str], str]]:
    """Typical mistakes: student -> (answer cell id, its wrong source, graded cells that fail, words in feedback)."""
    return {
        "wrong_off_by_one": ("watch_events", '''
def watch_events(history, start_revision, compact_revision, prefix=""):
    if 0 < start_revision < compact_revision:
        raise CompactedError(start_revision, compact_revision)
    if start_revision <= 0:
        return []
    return [e for e in history if e.kv.mod_revision > start_revision and e.kv.key.startswith(prefix)]
''', {"test_watch_from_revision", "test_watch_prefix", "test_watch_compaction"}, "start_revision is inclusive"),
        "wrong_no_compaction": ("watch_events", '''
def watch_events(history, start_revision, compact_revision, prefix=""):
    if start_revision <= 0:
        return []
    return [e for e in history if e.kv.mod_revision >= start_revision and e.kv.key.startswith(prefix)]
''', {"test_watch_compaction"}, "must raise CompactedError"),
        "wrong_delegates": ("cas_update", '''
from engine.grading.store import reference_cas as cas_update
''', {"test_cas_basics", "test_cas_race"}, "hands the work to the engine's own implementation"),
        "wrong_read_then_write": ("cas_update", '''
def cas_update(store, key, expected_mod_revision, new_value):
    kvs = store.range(key).kvs
    current = kvs[0].mod_revision if kvs else 0
    if current != expected_mod_revision:
        return False
    store.put(key, new_value)
    return True
''', {"test_cas_race"}, "lost update"),
    }
