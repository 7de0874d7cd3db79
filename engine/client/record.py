"""The event recorder (client-go tools/record): how components leave ``kubectl describe``'s Events.

``recorder.event(obj, "Normal", "Scheduled", "Successfully assigned default/web to node-1")``
writes a core/v1 Event about ``obj`` through the component's own client, so
Events pass the same authentication, RBAC and admission as any other write.
The Event is shaped as client-go's ``makeEvent`` shapes it: named
``<involvedObject.name>.<hex nanoseconds>``, in the involved object's namespace
(``default`` for cluster-scoped objects), with ``involvedObject`` (kind,
namespace, name, uid, apiVersion, resourceVersion, fieldPath), ``reason``,
``message``, ``type``, ``source`` (component, host), ``firstTimestamp``,
``lastTimestamp`` and ``count``.

Before writing, the ``EventCorrelator`` does what client-go's does, with its
real defaults:

- de-duplication: an event identical to one already written (same source,
  involved object, type, reason and message) patches that Event's ``count``
  and ``lastTimestamp`` instead of creating another (client-go keeps this
  memory in an LRU of 4096 entries, with no time limit);
- aggregation: when 10 events that differ only in their message arrive
  within 10 minutes of each other, the 10th and later are written as one
  Event whose message starts ``(combined from similar events):``;
- spam filtering: each source may write 25 events about one object at once,
  then one every 5 minutes; the rest are dropped.

Events are best-effort, as in Kubernetes: an API error writing one is logged
at debug level and swallowed, never raised into the component. Names use the
virtual clock; a few random nanoseconds from the loop's seeded source keep
two events at the same virtual instant apart, as real clocks do.
"""

from __future__ import annotations

import logging
import random
from collections import OrderedDict
from typing import TYPE_CHECKING, Any, Generic, Hashable, TypeVar

from engine.api.errors import ApiError, NotFound
from engine.api.meta import EPOCH, timestamp
from engine.client.client import STRATEGIC_MERGE_PATCH
from engine.client.workqueue import refilled

if TYPE_CHECKING:
    from engine.client.client import Client
    from engine.sim.loop import Loop

log = logging.getLogger(__name__)

NORMAL = "Normal"
WARNING = "Warning"

MAX_LRU_CACHE_ENTRIES = 4096
AGGREGATE_MAX_EVENTS = 10
AGGREGATE_INTERVAL_SECONDS = 600
SPAM_BURST = 25
SPAM_QPS = 1.0 / 300.0
COMBINED_PREFIX = "(combined from similar events): "

_EPOCH_NANOS = int(EPOCH.timestamp()) * 1_000_000_000

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class _LRU(Generic[K, V]):
    """groupcache's lru.Cache: the least recently used entry goes when full.

    ``take`` then ``put`` of the same key is groupcache's ``Get`` then ``Add``: one touch instead of two.
    """

    def __init__(self, size: int = MAX_LRU_CACHE_ENTRIES) -> None:
        self.size = size
        self.entries: OrderedDict[K, V] = OrderedDict()

    def get(self, key: K) -> V | None:
        value = self.entries.get(key)
        if value is not None:
            self.entries.move_to_end(key)
        return value

    def add(self, key: K, value: V) -> None:
        entries = self.entries
        if key in entries:
            entries.move_to_end(key)
        entries[key] = value
        if len(entries) > self.size:
            entries.popitem(last=False)

    def take(self, key: K) -> V | None:
        """The entry's value, out of the cache until ``put`` puts the key back (as the most recently used)."""
        return self.entries.pop(key, None)

    def put(self, key: K, value: V) -> None:
        """Add ``key`` as the most recently used (after ``take``, or when absent)."""
        entries = self.entries
        entries[key] = value
        if len(entries) > self.size:
            entries.popitem(last=False)


def object_reference(obj: dict, field_path: str = "") -> dict:
    """An ObjectReference to ``obj`` (client-go tools/reference.GetReference); a reference passes through."""
    if "metadata" not in obj and "name" in obj:      # already an ObjectReference
        return dict(obj)
    metadata = obj.get("metadata") or {}
    reference: dict[str, Any] = {"kind": obj.get("kind", "")}
    value = metadata.get("namespace")
    if value:
        reference["namespace"] = value
    value = metadata.get("name")
    if value:
        reference["name"] = value
    value = metadata.get("uid")
    if value:
        reference["uid"] = value
    reference["apiVersion"] = obj.get("apiVersion", "")
    value = metadata.get("resourceVersion")
    if value:
        reference["resourceVersion"] = value
    if field_path:
        reference["fieldPath"] = field_path
    return reference


def _event_key(event: dict) -> tuple:
    """getEventKey: what makes two events the same event."""
    source, ref = event.get("source") or {}, event["involvedObject"]
    return (source.get("component", ""), source.get("host", ""), ref.get("kind", ""), ref.get("namespace", ""),
            ref.get("name", ""), ref.get("fieldPath", ""), ref.get("uid", ""), ref.get("apiVersion", ""),
            event.get("type", ""), event.get("reason", ""), event.get("message", ""))


class EventCorrelator:
    """client-go's EventCorrelator: aggregation, de-duplication and spam filtering, on virtual time.

    The three memories are keyed by tuples: the spam key (getSpamKey: the source and the involved object),
    the aggregate key (EventAggregatorByReasonFunc: everything but the message) and the event key
    (getEventKey). An observed event is remembered as ``(count, firstTimestamp, name, resourceVersion)``, an
    aggregate as ``(time, message, message...)`` (its distinct messages in arrival order) and a spam bucket as
    ``(tokens, last)``: flat tuples of atoms, which the garbage collector stops tracking the first time it
    sees them (a tuple inside a tuple would take it two collections).
    """

    def __init__(self, loop: "Loop") -> None:
        self.loop = loop
        self._aggregates: _LRU[tuple, tuple] = _LRU()
        self._observed: _LRU[tuple, tuple[int, Any, str, str]] = _LRU()
        self._spam: _LRU[tuple, tuple[float, float]] = _LRU()

    def correlate(self, event: dict, name_for: Any) -> tuple[dict, dict | None] | None:
        """The event to write and the patch for an existing one (or None), or None to drop it."""
        source, ref = event.get("source") or {}, event["involvedObject"]
        component, host = source.get("component", ""), source.get("host", "")
        kind, namespace, name = ref.get("kind", ""), ref.get("namespace", ""), ref.get("name", "")
        uid, api_version = ref.get("uid", ""), ref.get("apiVersion", "")
        type_, reason, message = event.get("type", ""), event.get("reason", ""), event.get("message", "")
        spam_key = (component, host, kind, namespace, name, uid, api_version)
        aggregate_key = spam_key + (type_, reason, event.get("reportingComponent", ""),
                                    event.get("reportingInstance", ""))
        if self._similar(aggregate_key, message) < AGGREGATE_MAX_EVENTS:
            key = _event_key(event)
        else:
            event, key = self._combined(event, name_for), aggregate_key
        event, patch = self._observe(event, key)
        if self._filtered(spam_key):     # the aggregate keeps the source and the involved object: same key
            return None
        return event, patch

    def _similar(self, aggregate_key: tuple, message: str) -> int:
        """EventAggregate's count: how many distinct messages of this aggregate key within the interval."""
        now = self.loop.now
        record = self._aggregates.take(aggregate_key)
        if record is None or now - record[0] > AGGREGATE_INTERVAL_SECONDS:
            messages: tuple = (message,)
        else:
            messages = record[1:]
            if message not in messages:
                messages += (message,)
        count = len(messages)
        if count >= AGGREGATE_MAX_EVENTS:
            messages = messages[1:]                       # do not grow the set beyond the maximum
        self._aggregates.put(aggregate_key, (now, *messages))
        return count

    def _combined(self, event: dict, name_for: Any) -> dict:
        """The aggregate Event that stands for ten or more similar ones."""
        stamp = timestamp(self.loop.now)
        return {
            "apiVersion": "v1", "kind": "Event",
            "metadata": {"name": name_for(event["involvedObject"].get("name", "")),
                         "namespace": event["metadata"]["namespace"]},
            "involvedObject": event["involvedObject"], "reason": event.get("reason", ""),
            "message": COMBINED_PREFIX + event.get("message", ""), "source": event.get("source", {}),
            "firstTimestamp": stamp, "lastTimestamp": stamp, "count": 1, "type": event.get("type", ""),
        }

    def _observe(self, event: dict, key: tuple) -> tuple[dict, dict | None]:
        """eventObserve: a repeat becomes a patch of the first one's count and lastTimestamp."""
        observed = self._observed
        last = observed.take(key)
        patch = None
        if last is not None and last[0] > 0:
            count, first, name, version = last
            event = dict(event, metadata=dict(event["metadata"], name=name), firstTimestamp=first, count=count + 1)
            if version:
                event["metadata"]["resourceVersion"] = version
            patch = {"count": event["count"], "lastTimestamp": event["lastTimestamp"], "message": event["message"]}
        observed.put(key, self._log_entry(event))
        return event, patch

    def update_state(self, event: dict) -> None:
        """Remember what the server returned (name, resourceVersion, count) for the next repeat."""
        self._observed.add(_event_key(event), self._log_entry(event))

    @staticmethod
    def _log_entry(event: dict) -> tuple[int, Any, str, str]:
        metadata = event["metadata"]
        return (event.get("count", 1), event.get("firstTimestamp"), metadata["name"],
                metadata.get("resourceVersion", ""))

    def _filtered(self, key: tuple) -> bool:
        """getSpamKey's token bucket (rate.Limiter, SPAM_QPS a second, SPAM_BURST at most): True to drop.

        A bucket is kept as its state ``(tokens, last)``, a plain tuple of floats (which the garbage collector
        stops tracking), and refilled by ``TokenBucket``'s own arithmetic (``refilled``): the same verdicts.
        """
        spam = self._spam
        bucket = spam.take(key)
        now = self.loop.now
        if bucket is None:                  # a new, full bucket: try_accept at its own instant takes a token
            spam.put(key, (SPAM_BURST - 1.0, now))
            return False
        tokens, last = refilled(*bucket, now, SPAM_QPS, SPAM_BURST)
        accepted = tokens >= 1.0
        if accepted:
            tokens -= 1.0
        spam.put(key, (tokens, last))
        return not accepted


def _below_a_million(rng: random.Random) -> int:
    """``rng.randrange(1_000_000)``, drawn as ``Random._randbelow_with_getrandbits`` draws it (the same numbers
    from the same state) without randrange's argument checks."""
    getrandbits = rng.getrandbits
    value = getrandbits(20)                 # (1_000_000).bit_length()
    while value >= 1_000_000:
        value = getrandbits(20)
    return value


class EventRecorder:
    """Records Events on behalf of one component (``source.component``) on one host (``source.host``)."""

    def __init__(self, client: "Client", component: str, host: str = "", *,
                 correlator: EventCorrelator | None = None) -> None:
        self.client = client
        self.loop = client.loop
        self.component = component
        self.host = host
        self.correlator = correlator or EventCorrelator(self.loop)
        self.written = 0
        self.dropped = 0
        self._last_nanos = 0

    def event(self, obj: dict, type_: str, reason: str, message: str, *, field_path: str = "",
              annotations: dict[str, str] | None = None) -> None:
        """Record one event about ``obj`` (an API object, or an ObjectReference to use as it is)."""
        if type_ not in (NORMAL, WARNING):
            log.debug("unsupported event type: %r", type_)
            self.dropped += 1
            return
        reference = object_reference(obj, field_path)
        event = self._make_event(reference, annotations, type_, reason, message)
        correlated = self.correlator.correlate(event, self._name_for)
        if correlated is None:
            self.dropped += 1
            return
        self._write(*correlated)

    def eventf(self, obj: dict, type_: str, reason: str, message_format: str, *args: Any, **options: Any) -> None:
        """``event`` with a printf-style message (Go's ``%v`` is read as ``%s``)."""
        message = message_format.replace("%v", "%s") % args if args else message_format
        self.event(obj, type_, reason, message, **options)

    def _name_for(self, name: str) -> str:
        """``<name>.<hex nanoseconds>``: virtual now, plus random sub-millisecond nanos, never repeating."""
        loop = self.loop
        nanos = _EPOCH_NANOS + int(round(loop.now * 1e9)) + _below_a_million(loop.random)
        if nanos <= self._last_nanos:
            nanos = self._last_nanos + 1
        self._last_nanos = nanos
        return f"{name}.{nanos:x}"

    def _make_event(self, reference: dict, annotations: dict[str, str] | None, type_: str, reason: str,
                    message: str) -> dict:
        stamp = timestamp(self.loop.now)
        metadata: dict[str, Any] = {"name": self._name_for(reference.get("name", "")),
                                    "namespace": reference.get("namespace") or "default"}
        if annotations:
            metadata["annotations"] = dict(annotations)
        source = {"component": self.component}
        if self.host:
            source["host"] = self.host
        return {
            "apiVersion": "v1", "kind": "Event", "metadata": metadata,
            "involvedObject": reference, "reason": reason, "message": message, "source": source,
            "firstTimestamp": stamp, "lastTimestamp": stamp, "count": 1, "type": type_,
            "eventTime": None, "reportingComponent": self.component, "reportingInstance": self.host,
        }

    def _write(self, event: dict, patch: dict | None) -> None:
        """recordEvent: patch the existing Event for a repeat (create it if it expired), else create."""
        namespace = event["metadata"]["namespace"]
        written = None
        try:
            if patch is not None and event.get("count", 1) > 1:
                try:
                    written = self.client.patch("events", event["metadata"]["name"], patch, namespace,
                                                patch_type=STRATEGIC_MERGE_PATCH)
                except NotFound:
                    written = None
            if written is None:
                fresh = event
                if "resourceVersion" in event["metadata"]:
                    fresh = dict(event, metadata={k: v for k, v in event["metadata"].items() if k != "resourceVersion"})
                written = self.client.create(fresh, namespace)
        except ApiError as error:
            self.dropped += 1
            log.debug("server rejected event %s (will not retry!): %s", event["metadata"]["name"], error)
            return
        self.written += 1
        self.correlator.update_state(written)
