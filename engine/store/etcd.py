"""etcd for real: the second backend of ``engine.store``, a client of a real etcd server's v3 API.

``EtcdStore(endpoint, loop=loop, prefix="")`` implements the ``Store`` interface of ``engine.store.types``
over etcd's JSON gateway (``engine.store.etcd_client``). Reads, writes, transactions, compaction and leases
are etcd's own: the server assigns revisions, checks compares, refuses duplicate keys, expires leases. The
conformance suite (tests/engine/store/test_conformance.py) runs unchanged against this and ``MemoryStore``.

How watches work. The store opens ONE watch stream on its whole key space when it is created (with prev_kv
and progress notifications), read by a daemon thread that only queues what arrives (``etcd_watch.WatchFeed``).
Every ``watch()`` is served locally from that stream, as etcd's own gRPC proxy does: callbacks run on the caller's thread, never
on the reader thread, in revision order, one call per revision, never a miss or a repeat. History since the
store was created is kept in a local log (trimmed by ``compact``), so a watch from a recent revision replays
it; a watch from further back reads the server's history once.

The contract with a virtual-clock cluster (the engine is single-threaded; etcd lives in real time):

- A write made through this store returns only after its own events came back on the stream and every
  watcher got them: callbacks run inside the write, as with ``MemoryStore``, so the API server's watch
  cache is never behind its own writes and a cluster on etcd runs the same sequence of steps.
- Changes made by anyone else (``etcdctl``, another client, a lease expiring) arrive in real time and are
  handed to ``loop`` with ``call_soon_threadsafe``: delivered at the loop's next step, or at the next
  write, whichever comes first, still in revision order. ``sync()`` waits for them explicitly.
- Lease TTLs are real seconds on the server's clock, not virtual ones: a lease of 60 s outlives a minute
  of virtual time that a cluster runs in a tenth of a second. (The API server's Event TTL is such a lease:
  on etcd, Events outlive a fast-forwarded hour.) Keep-alives are RPCs; nothing renews a lease on its own.
- ``revision`` is the newest revision this client has seen (every response header and watch message moves
  it), so reading it costs nothing; writes by others may not be counted until their events arrive.
- Determinism ends at the store: same seed, same calls give the same revisions only on a fresh server.

``Cluster(store="etcd://127.0.0.1:2379")`` runs a whole cluster on it. The API server lays its keys out as
Kubernetes does (``/registry/pods/default/web-abc12``, ``/registry/deployments/default/web``, nodes under
``/registry/minions/node-1``), so ``etcdctl get --prefix /registry --keys-only`` shows what it stores. The
values are JSON; a real API server stores built-in kinds as protobuf (``k8s\0`` then binary, which is why
``etcdctl get`` prints bytes there) and only custom resources as JSON. A URL path is a prefix for every key.
Like a new kube-apiserver, a new cluster expects an empty key space: give it a fresh server or a fresh prefix.

``prefix`` confines the store to the keys under it (etcd's namespace client): the cluster sees ``/registry/..``
while the server holds ``<prefix>/registry/..``; tests give each case a fresh prefix on one server.

What it never does: write to stderr, run a callback on another thread, or retry a write (a write that timed
out may or may not have been applied; that is etcd's contract too).
"""

from __future__ import annotations

import threading
from bisect import bisect_left
from typing import Any
from urllib.parse import urlsplit

from engine.sim.loop import Loop
from engine.store.etcd_client import EtcdClient, EtcdUnavailable, decode_kv, encode_key, encode_value, header_revision
from engine.store.etcd_watch import WatchFeed, server_history
from engine.store.types import (
    CompactedError, Compare, DeleteOp, DeleteResponse, Event, FutureRevisionError, KeyValue, LeaseGrant,
    LeaseNotFoundError, LeaseStatus, Op, PutOp, PutResponse, RangeOp, RangeResponse, StoreError, TxnResponse,
    WatchCallback, WatchHandle, prefix_end,
)

_RESULTS = {"=": "EQUAL", "!=": "NOT_EQUAL", "<": "LESS", ">": "GREATER"}
_TARGETS = {"VERSION": "version", "CREATE": "create_revision", "MOD": "mod_revision", "LEASE": "lease"}


def _in_range(key: str, start: str, range_end: str | None) -> bool:
    if range_end is None:
        return key == start
    return key >= start and (range_end == "\0" or key < range_end)


def _revision_of(entry: tuple[int, list[Event]]) -> int:
    return entry[0]


class _Watcher:
    """One local watch: its range, and the next revision it is owed."""

    def __init__(self, store: "EtcdStore", watch_id: int, key: str, range_end: str | None, prev_kv: bool,
                 callback: WatchCallback, next_revision: int) -> None:
        self.id = watch_id
        self.key = key
        self.range_end = range_end
        self.prev_kv = prev_kv
        self.callback = callback
        self.next_revision = next_revision
        self.cancelled = False
        self._store = store

    def cancel(self) -> None:
        """Stop the watch; safe from inside any callback, and harmless twice."""
        self.cancelled = True
        self._store._watchers.pop(self.id, None)


class EtcdStore:
    """A ``Store`` backed by a real etcd at ``endpoint`` (``http://127.0.0.1:2379``)."""

    def __init__(self, endpoint: str, *, loop: Loop | None = None, prefix: str = "", timeout: float = 10.0) -> None:
        self.endpoint = endpoint
        self.prefix = prefix
        self.timeout = timeout
        self._loop = loop
        self._client = EtcdClient(endpoint, timeout=timeout)
        self._granted: set[int] = set()
        # Owner-thread state: local watchers and the log of delivered revisions.
        self._watchers: dict[int, _Watcher] = {}
        self._next_watch_id = 1
        self._log: list[tuple[int, list[Event]]] = []
        self._delivering = False
        self._errors: list[Exception] = []
        self._pump_scheduled = threading.Event()
        self._revision = 0
        start = self._current_revision()
        self._start_revision = start     # the feed covers every revision after this one
        self._delivered = start
        self._compact_revision = self._probe_compact_revision()
        self._feed = WatchFeed(endpoint, prefix, start + 1, timeout=timeout, on_arrival=self._arrival)

    # -- the Store interface ------------------------------------------------------
    @property
    def revision(self) -> int:
        return self._revision

    @property
    def compact_revision(self) -> int:
        return self._compact_revision

    def range(self, key: str, range_end: str | None = None, *, revision: int = 0, limit: int = 0,
              keys_only: bool = False, count_only: bool = False) -> RangeResponse:
        """Read ``key`` (or ``[key, range_end)``) at ``revision`` (0: now), in key order."""
        if key == "" and range_end is None:
            return RangeResponse(self._revision, [], 0, False)
        body = self._range_body(key, range_end, revision, limit)
        body.update(keys_only=keys_only, count_only=count_only)
        response = self._call("kv/range", body, revision=revision)
        return self._range_response(response, header_revision(response))

    def put(self, key: str, value: bytes, *, lease: int = 0, prev_kv: bool = False) -> PutResponse:
        """Write ``key`` in a new revision; returns once every watcher has seen it."""
        self._check_put(key, value)
        response = self._call("kv/put", {"key": self._key(key), "value": encode_value(value), "lease": lease,
                                         "prev_kv": prev_kv}, lease=lease)
        revision = header_revision(response)
        self._written(revision)
        previous = response.get("prev_kv")
        return PutResponse(revision, self._kv(previous) if previous else None)

    def delete_range(self, key: str, range_end: str | None = None, *, prev_kv: bool = False) -> DeleteResponse:
        """Delete ``key`` (or ``[key, range_end)``) in one revision; no revision when nothing matched."""
        if key == "" and range_end is None:
            return DeleteResponse(self._revision, 0)
        body = self._range_body(key, range_end, 0, 0)
        del body["revision"], body["limit"]
        body["prev_kv"] = prev_kv
        response = self._call("kv/deleterange", body)
        revision, deleted = header_revision(response), int(response.get("deleted", 0))
        if deleted:
            self._written(revision)
        return DeleteResponse(revision, deleted, [self._kv(kv) for kv in response.get("prev_kvs", [])])

    def txn(self, compare: list[Compare], success: list[Op], failure: list[Op]) -> TxnResponse:
        """If every compare holds run ``success``, else ``failure``; its writes make one revision."""
        body = {"compare": [self._compare(guard) for guard in compare],
                "success": [self._op(op) for op in success], "failure": [self._op(op) for op in failure]}
        leases = [op.lease for op in success + failure if isinstance(op, PutOp) and op.lease]
        reads = [op.revision for op in success + failure if isinstance(op, RangeOp) and op.revision]
        response = self._call("kv/txn", body, lease=leases[0] if leases else 0,
                              revision=max(reads) if reads else 0)
        revision = header_revision(response)
        succeeded = bool(response.get("succeeded", False))
        responses: list[RangeResponse | PutResponse | DeleteResponse] = []
        wrote = False
        for item in response.get("responses", []):
            if "response_range" in item:
                inner = item["response_range"]
                responses.append(self._range_response(inner, header_revision(inner) or revision))
            elif "response_put" in item:
                inner = item["response_put"]
                wrote = True
                previous = inner.get("prev_kv")
                responses.append(PutResponse(header_revision(inner) or revision,
                                             self._kv(previous) if previous else None))
            else:
                inner = item.get("response_delete_range", {})
                deleted = int(inner.get("deleted", 0))
                wrote = wrote or deleted > 0
                responses.append(DeleteResponse(header_revision(inner) or revision, deleted,
                                                [self._kv(kv) for kv in inner.get("prev_kvs", [])]))
        if wrote:
            self._written(revision)
        return TxnResponse(revision, succeeded, responses)

    def compact(self, revision: int) -> None:
        """Forget every version superseded at ``revision``: reads and watches below it fail from now on."""
        self._call("kv/compaction", {"revision": revision}, revision=revision)
        self._compact_revision = revision
        cut = bisect_left(self._log, revision, key=_revision_of)
        del self._log[:cut]
        if self._log and self._log[0][0] == revision:   # etcd drops the tombstones at the compaction point
            self._log[0] = (revision, [event for event in self._log[0][1] if event.type == "PUT"])

    def watch(self, key: str, range_end: str | None = None, *, start_revision: int = 0,
              prev_kv: bool = False, callback: WatchCallback) -> WatchHandle:
        """Call ``callback`` with the events in range: history from ``start_revision`` (0: none), then live."""
        if 0 < start_revision < self._compact_revision:
            raise CompactedError(start_revision, self._compact_revision)
        next_revision = start_revision if start_revision > 0 else self._current_revision() + 1
        history = server_history(self.endpoint, self.prefix, key, range_end, next_revision, self._start_revision,
                                 timeout=self.timeout)
        watcher = _Watcher(self, self._next_watch_id, key, range_end, prev_kv, callback, next_revision)
        self._next_watch_id += 1
        self._watchers[watcher.id] = watcher
        outermost = not self._delivering
        self._delivering = True
        errors_before = len(self._errors)
        try:
            for revision, events in history:
                self._offer(watcher, revision, events, replay=True)
            watcher.next_revision = max(watcher.next_revision, self._start_revision + 1)
            index = bisect_left(self._log, watcher.next_revision, key=_revision_of)
            for revision, events in self._log[index:]:
                self._offer(watcher, revision, events, replay=True)
        finally:
            self._delivering = not outermost
        failed = self._errors[errors_before:]
        del self._errors[errors_before:]
        if failed:
            watcher.cancel()
            raise failed[0]
        self._pump()
        return watcher

    def lease_grant(self, ttl: int, lease_id: int = 0) -> LeaseGrant:
        """Create a lease of ``ttl`` real seconds (etcd raises it to its minimum, 2 s by default)."""
        response = self._call("lease/grant", {"TTL": ttl, "ID": lease_id})
        grant = LeaseGrant(int(response["ID"]), int(response["TTL"]))
        self._granted.add(grant.id)
        return grant

    def lease_revoke(self, lease_id: int) -> None:
        """End the lease now, deleting its keys in one revision."""
        holds_keys = bool(self.lease_time_to_live(lease_id).keys)
        response = self._call("lease/revoke", {"ID": lease_id}, lease=lease_id)
        self._granted.discard(lease_id)
        if holds_keys:
            self._written(header_revision(response))

    def lease_keep_alive(self, lease_id: int) -> int:
        """Renew the lease for its TTL again; returns the TTL."""
        response = self._call("lease/keepalive", {"ID": lease_id}, lease=lease_id).get("result", {})
        ttl = int(response.get("TTL", 0))
        if ttl <= 0:
            raise LeaseNotFoundError(lease_id)
        return ttl

    def lease_time_to_live(self, lease_id: int) -> LeaseStatus:
        """Seconds left, granted TTL and attached keys (of this store's prefix); ``ttl == -1`` when gone."""
        response = self._call("lease/timetolive", {"ID": lease_id, "keys": True})
        ttl = int(response.get("TTL", -1))
        if ttl < 0:
            return LeaseStatus(lease_id, -1, 0)
        keys = [decode_kv({"key": key}).key for key in response.get("keys", [])]
        mine = sorted(key[len(self.prefix):] for key in keys if key.startswith(self.prefix))
        return LeaseStatus(lease_id, float(ttl), int(response.get("grantedTTL", 0)), tuple(mine))

    # -- beyond the interface ---------------------------------------------------------
    @classmethod
    def from_url(cls, url: str, *, loop: Loop | None = None) -> "EtcdStore":
        """``etcd://127.0.0.1:2379`` (keys as they are) or ``etcd://127.0.0.1:2379/some/prefix``."""
        parts = urlsplit(url)
        if parts.scheme != "etcd" or not parts.hostname:
            raise ValueError(f"an etcd store URL looks like etcd://127.0.0.1:2379[/prefix], not {url!r}")
        endpoint = f"http://{parts.hostname}:{parts.port or 2379}"
        return cls(endpoint, loop=loop, prefix=parts.path.rstrip("/"))

    def sync(self, timeout: float | None = None) -> bool:
        """Wait until every change the server has made so far is delivered; False if ``timeout`` ran out.

        Servers started by ``engine.store.etcd_process`` prove progress every 100 ms; others every 10 min.
        """
        reached = self._feed.wait_for(self._current_revision(), self.timeout if timeout is None else timeout)
        self._pump()
        return reached

    def revoke_granted_leases(self) -> None:
        """Revoke every lease this store granted that is still alive (a test's clean-up)."""
        for lease_id in sorted(self._granted):
            try:
                self.lease_revoke(lease_id)
            except LeaseNotFoundError:
                self._granted.discard(lease_id)

    def close(self) -> None:
        """Stop the watch stream and its thread; the store answers nothing after this."""
        self._feed.close()
        self._client.close()

    # -- talking to etcd ------------------------------------------------------------
    def _key(self, key: str) -> str:
        return encode_key(self.prefix + key)

    def _range_body(self, key: str, range_end: str | None, revision: int, limit: int) -> dict[str, Any]:
        start = self.prefix + key
        body: dict[str, Any] = {"revision": revision, "limit": limit}
        if range_end is not None:
            end = (prefix_end(self.prefix) if self.prefix else "\0") if range_end == "\0" else self.prefix + range_end
            body["range_end"] = encode_key(end)
            start = start or "\0"       # etcd refuses an empty key; nothing sorts below "\0"
        body["key"] = encode_key(start)
        return body

    def _kv(self, data: dict) -> KeyValue:
        kv = decode_kv(data)
        return KeyValue(kv.key[len(self.prefix):], kv.value, kv.create_revision, kv.mod_revision, kv.version,
                        kv.lease)

    def _range_response(self, response: dict, revision: int) -> RangeResponse:
        return RangeResponse(revision, [self._kv(kv) for kv in response.get("kvs", [])],
                             int(response.get("count", 0)), bool(response.get("more", False)))

    def _compare(self, guard: Compare) -> dict[str, Any]:
        result = _RESULTS.get(guard.result)
        if result is None:
            raise ValueError(f"compare result {guard.result!r} is not one of =, !=, <, >")
        body: dict[str, Any] = {"key": self._key(guard.key), "target": guard.target, "result": result}
        if guard.target == "VALUE":
            if not isinstance(guard.value, bytes):
                raise TypeError(f"a VALUE compare needs bytes, got {guard.value!r}")
            body["value"] = encode_value(guard.value)
        elif guard.target in _TARGETS:
            if isinstance(guard.value, bytes):
                raise TypeError(f"a {guard.target} compare needs an int, got {guard.value!r}")
            body[_TARGETS[guard.target]] = guard.value
        else:
            raise ValueError(f"compare target {guard.target!r} is not VERSION, CREATE, MOD, VALUE or LEASE")
        return body

    def _op(self, op: Op) -> dict[str, Any]:
        if isinstance(op, RangeOp):
            return {"request_range": self._range_body(op.key, op.range_end, op.revision, op.limit)}
        if isinstance(op, PutOp):
            self._check_put(op.key, op.value)
            return {"request_put": {"key": self._key(op.key), "value": encode_value(op.value), "lease": op.lease,
                                    "prev_kv": op.prev_kv}}
        if isinstance(op, DeleteOp):
            body = self._range_body(op.key, op.range_end, 0, 0)
            del body["revision"], body["limit"]
            return {"request_delete_range": {**body, "prev_kv": op.prev_kv}}
        raise TypeError(f"a txn op is a RangeOp, PutOp or DeleteOp, not {type(op).__name__}")

    @staticmethod
    def _check_put(key: str, value: bytes) -> None:
        if not key:
            raise StoreError("etcdserver: key is not provided; every key needs at least one character")
        if not isinstance(value, bytes):
            raise TypeError(f"values are bytes (encode JSON first), got {type(value).__name__}")

    def _call(self, path: str, body: dict[str, Any], *, lease: int = 0, revision: int = 0) -> dict:
        """One RPC; etcd's errors come back as the store's, with the numbers they concern."""
        try:
            response = self._client.call(path, body)
        except LeaseNotFoundError as error:
            raise LeaseNotFoundError(lease) from error
        except CompactedError as error:
            self._compact_revision = max(self._compact_revision, self._probe_compact_revision())
            raise CompactedError(revision, self._compact_revision) from error
        except FutureRevisionError as error:
            raise FutureRevisionError(revision, self._current_revision()) from error
        self._revision = max(self._revision, header_revision(response))
        return response

    def _current_revision(self) -> int:
        response = self._client.call("kv/range", {"key": encode_key("\0"), "count_only": True})
        self._revision = max(self._revision, header_revision(response))
        return header_revision(response)

    def _probe_compact_revision(self) -> int:
        """The server's compaction point, the oldest revision it can still read (0 when never compacted):
        a binary search of reads, since etcd reports the point itself only on a cancelled watch."""
        def readable(revision: int) -> bool:
            try:
                self._client.call("kv/range", {"key": encode_key("\0"), "revision": revision, "count_only": True})
                return True
            except CompactedError:
                return False
        if readable(1):
            return 0
        low, high = 1, max(self._revision, 1)      # unreadable at low, readable at high
        while high - low > 1:
            middle = (low + high) // 2
            low, high = (low, middle) if readable(middle) else (middle, high)
        return high

    # -- delivering (owner thread) ------------------------------------------------------
    def _written(self, revision: int) -> None:
        """Wait until the stream brought back ``revision`` (a write of ours), then deliver it."""
        if not self._feed.wait_for(revision, self.timeout):
            raise EtcdUnavailable(f"{self.endpoint}: revision {revision} was written but its events did not "
                                  f"come back within {self.timeout} s")
        self._pump()

    def _arrival(self) -> None:
        """Called by the feed's thread: ask the loop (once until it runs) to deliver what arrived."""
        if self._loop is not None and not self._pump_scheduled.is_set():
            self._pump_scheduled.set()
            self._loop.call_soon_threadsafe(self._scheduled_pump)

    def _scheduled_pump(self) -> None:
        self._pump_scheduled.clear()
        self._pump()

    def _pump(self) -> None:
        """Deliver the queued revisions in order; a nested call (from a callback) leaves it to the outer one."""
        if self._delivering:
            return
        self._delivering = True
        try:
            while (arrived := self._feed.pop()) is not None:
                revision, events = arrived
                if revision <= self._delivered:
                    continue
                self._delivered = revision
                self._revision = max(self._revision, revision)
                if revision >= self._compact_revision:
                    kept = events if revision > self._compact_revision else [e for e in events if e.type == "PUT"]
                    self._log.append((revision, kept))
                for watcher in sorted(self._watchers.values(), key=lambda w: w.id):
                    self._offer(watcher, revision, events, replay=False)
        finally:
            self._delivering = False
        if self._errors:
            error = self._errors[0]
            self._errors.clear()
            raise error

    def _offer(self, watcher: _Watcher, revision: int, events: list[Event], *, replay: bool) -> None:
        if watcher.cancelled or revision < watcher.next_revision:
            return
        watcher.next_revision = revision + 1
        with_prev = watcher.prev_kv and not (replay and revision <= self._compact_revision)
        matching = [event if with_prev or event.prev_kv is None else Event(event.type, event.kv)
                    for event in events if _in_range(event.kv.key, watcher.key, watcher.range_end)]
        if not matching:
            return
        try:
            watcher.callback(matching)
        except Exception as error:      # one broken watcher must not starve the others
            self._errors.append(error)
