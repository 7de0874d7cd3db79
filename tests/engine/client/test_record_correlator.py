"""The correlator's lean path (tuple keys, one LRU touch per memory) decides exactly as client-go's plain
EventCorrelator written out step by step does: same events, same patches, same drops, small LRUs included."""

from __future__ import annotations

import gc
import random
from collections import OrderedDict
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from engine.api.meta import timestamp
from engine.client.record import (
    AGGREGATE_INTERVAL_SECONDS, AGGREGATE_MAX_EVENTS, COMBINED_PREFIX, SPAM_BURST, SPAM_QPS, EventCorrelator,
    _below_a_million,
)
from engine.client.workqueue import TokenBucket
from engine.sim.loop import Loop


class _PlainLRU:
    def __init__(self, size: int) -> None:
        self.size = size
        self.entries: OrderedDict = OrderedDict()

    def get(self, key):
        value = self.entries.get(key)
        if value is not None:
            self.entries.move_to_end(key)
        return value

    def add(self, key, value) -> None:
        if key in self.entries:
            self.entries.move_to_end(key)
        self.entries[key] = value
        if len(self.entries) > self.size:
            self.entries.popitem(last=False)


def _event_key(event: dict) -> tuple:
    source, ref = event.get("source") or {}, event["involvedObject"]
    return (source.get("component", ""), source.get("host", ""), ref.get("kind", ""), ref.get("namespace", ""),
            ref.get("name", ""), ref.get("fieldPath", ""), ref.get("uid", ""), ref.get("apiVersion", ""),
            event.get("type", ""), event.get("reason", ""), event.get("message", ""))


def _spam_key(event: dict) -> tuple:
    source, ref = event.get("source") or {}, event["involvedObject"]
    return (source.get("component", ""), source.get("host", ""), ref.get("kind", ""), ref.get("namespace", ""),
            ref.get("name", ""), ref.get("uid", ""), ref.get("apiVersion", ""))


class PlainCorrelator:
    """client-go's EventCorrelator as the engine first wrote it: one LRU get and one add per memory."""

    def __init__(self, loop: Any, size: int) -> None:
        self.loop = loop
        self._aggregates, self._observed, self._spam = _PlainLRU(size), _PlainLRU(size), _PlainLRU(size)

    def correlate(self, event: dict, name_for: Any):
        spam_key = _spam_key(event)
        event, key = self._aggregate(event, name_for, spam_key)
        event, patch = self._observe(event, key)
        if self._filtered(spam_key):
            return None
        return event, patch

    def _aggregate(self, event, name_for, spam_key):
        now = self.loop.now
        aggregate_key = spam_key + (event.get("type", ""), event.get("reason", ""),
                                    event.get("reportingComponent", ""), event.get("reportingInstance", ""))
        record = self._aggregates.get(aggregate_key)
        messages = {} if record is None or now - record[1] > AGGREGATE_INTERVAL_SECONDS else record[0]
        messages[event.get("message", "")] = None
        self._aggregates.add(aggregate_key, (messages, now))
        if len(messages) < AGGREGATE_MAX_EVENTS:
            return event, _event_key(event)
        messages.pop(next(iter(messages)))
        stamp = timestamp(now)
        combined = {
            "apiVersion": "v1", "kind": "Event",
            "metadata": {"name": name_for(event["involvedObject"].get("name", "")),
                         "namespace": event["metadata"]["namespace"]},
            "involvedObject": event["involvedObject"], "reason": event.get("reason", ""),
            "message": COMBINED_PREFIX + event.get("message", ""), "source": event.get("source", {}),
            "firstTimestamp": stamp, "lastTimestamp": stamp, "count": 1, "type": event.get("type", ""),
        }
        return combined, aggregate_key

    def _observe(self, event, key):
        last = self._observed.get(key)
        patch = None
        if last is not None and last["count"] > 0:
            event = dict(event, metadata=dict(event["metadata"], name=last["name"]),
                         firstTimestamp=last["firstTimestamp"], count=last["count"] + 1)
            if last.get("resourceVersion"):
                event["metadata"]["resourceVersion"] = last["resourceVersion"]
            patch = {"count": event["count"], "lastTimestamp": event["lastTimestamp"], "message": event["message"]}
        self._observed.add(key, self._log_entry(event))
        return event, patch

    def update_state(self, event: dict) -> None:
        self._observed.add(_event_key(event), self._log_entry(event))

    @staticmethod
    def _log_entry(event: dict) -> dict:
        return {"count": event.get("count", 1), "firstTimestamp": event.get("firstTimestamp"),
                "name": event["metadata"]["name"], "resourceVersion": event["metadata"].get("resourceVersion", "")}

    def _filtered(self, key) -> bool:
        bucket = self._spam.get(key)
        if bucket is None:
            bucket = TokenBucket(self.loop, SPAM_QPS, SPAM_BURST)
        accepted = bucket.try_accept()
        self._spam.add(key, bucket)
        return not accepted


class _Clock:
    now = 0.0


def _event(pod: int, host: str, type_: str, reason: str, message: str, field_path: str, now: float) -> dict:
    reference = {"kind": "Pod", "namespace": "default", "name": f"p{pod}", "uid": f"u{pod}", "apiVersion": "v1"}
    if field_path:
        reference["fieldPath"] = field_path
    source = {"component": "kubelet", **({"host": host} if host else {})}
    stamp = timestamp(now)
    return {"apiVersion": "v1", "kind": "Event", "metadata": {"name": f"p{pod}.{int(now * 1e9):x}",
                                                             "namespace": "default"},
            "involvedObject": reference, "reason": reason, "message": message, "source": source,
            "firstTimestamp": stamp, "lastTimestamp": stamp, "count": 1, "type": type_, "eventTime": None,
            "reportingComponent": "kubelet", "reportingInstance": host}


steps = st.lists(st.tuples(st.integers(0, 1), st.sampled_from(["", "", "", "node-1"]),
                           st.sampled_from(["Warning", "Warning", "Warning", "Normal"]),
                           st.sampled_from(["BackOff", "BackOff", "BackOff", "Failed"]), st.integers(0, 12),
                           st.sampled_from(["", "", "x"]), st.sampled_from([0, 0, 0, 1, 30, 400, 700]),
                           st.booleans()),
                 max_size=80)


bursts = st.lists(st.tuples(st.just(0), st.just(""), st.just("Warning"), st.just("BackOff"), st.integers(0, 14),
                            st.just(""), st.sampled_from([0, 0, 0, 1, 30, 650]), st.booleans()),
                  min_size=9, max_size=40)
"""Many similar events about one object: aggregation, and the spam filter's burst."""


@settings(max_examples=200, deadline=None)
@given(steps | bursts, st.sampled_from([2, 5, 4096]))
def test_the_lean_correlator_decides_as_the_plain_one(steps, size):
    clock = _Clock()
    lean, plain = EventCorrelator(clock), PlainCorrelator(clock, size)   # type: ignore[arg-type]
    lean._aggregates.size = lean._observed.size = lean._spam.size = size
    names = iter(range(10**6))

    def name_for(name: str) -> str:
        return f"{name}.{next(names):x}"

    version = 0
    for pod, host, type_, reason, message, field_path, advance, stored in steps:
        clock.now += advance
        event = _event(pod, host, type_, reason, f"message {message}", field_path, clock.now)
        mark = next(names)
        from_lean = lean.correlate(dict(event), name_for)
        names = iter(range(mark + 1, 10**6))
        from_plain = plain.correlate(dict(event), name_for)
        assert from_lean == from_plain
        if from_lean is None or not stored:
            continue
        version += 1                    # what the server gave back: the event with a resourceVersion
        written = dict(from_lean[0], metadata=dict(from_lean[0]["metadata"], resourceVersion=str(version)))
        lean.update_state(written)
        plain.update_state(written)


def test_the_random_nanoseconds_are_randrange_s():
    for seed in range(20):
        drawn, expected = random.Random(seed), random.Random(seed)
        assert [_below_a_million(drawn) for _ in range(200)] == [expected.randrange(1_000_000) for _ in range(200)]
        assert drawn.getstate() == expected.getstate()


def test_a_spam_bucket_is_kept_as_an_untracked_tuple_of_floats():
    loop = Loop(seed=0)
    correlator = EventCorrelator(loop)
    assert not correlator._filtered(("c", "h", "Pod", "default", "p", "u", "v1"))
    state = correlator._spam.entries[("c", "h", "Pod", "default", "p", "u", "v1")]
    assert state == (SPAM_BURST - 1.0, loop.now)
    gc.collect()
    assert not gc.is_tracked(state)


def test_an_aggregate_is_kept_as_an_untracked_tuple_of_its_messages():
    loop = Loop(seed=0)
    correlator = EventCorrelator(loop)
    key = ("c", "h", "Pod", "default", "p", "u", "v1", "Normal", "Pulled", "", "")
    counts = [correlator._similar(key, message) for message in ("a", "b", "a", "c")]
    assert counts == [1, 2, 2, 3]
    state = correlator._aggregates.entries[key]
    assert state == (loop.now, "a", "b", "c")
    gc.collect()
    assert not gc.is_tracked(state)
