"""The event recorder: Event shape, de-duplication into a count, aggregation, spam filtering, best effort."""

from __future__ import annotations

import re

import pytest

from engine.api.meta import timestamp
from engine.client.record import COMBINED_PREFIX, EventRecorder, object_reference


@pytest.fixture
def pod(admin, make_pod):
    return admin.create(make_pod("web"))


@pytest.fixture
def recorder(admin):
    return EventRecorder(admin, "default-scheduler")


def events(admin, namespace="default") -> list[dict]:
    return admin.list("events", namespace)["items"]


def test_an_event_has_the_shape_client_go_gives_it(admin, loop, pod, recorder):
    loop.run_until(12.5)
    recorder.event(pod, "Normal", "Scheduled", "Successfully assigned default/web to node-1")
    [event] = events(admin)
    assert re.fullmatch(r"web\.[0-9a-f]{16}", event["metadata"]["name"])
    assert event["metadata"]["namespace"] == "default"
    assert event["involvedObject"] == {
        "kind": "Pod", "namespace": "default", "name": "web", "uid": pod["metadata"]["uid"], "apiVersion": "v1",
        "resourceVersion": pod["metadata"]["resourceVersion"]}
    assert (event["type"], event["reason"], event["count"]) == ("Normal", "Scheduled", 1)
    assert event["source"] == {"component": "default-scheduler"}
    assert event["firstTimestamp"] == event["lastTimestamp"] == timestamp(12.5)
    assert event["reportingComponent"] == "default-scheduler"


def test_the_name_encodes_virtual_time_in_hex_nanoseconds(admin, loop, pod, recorder):
    loop.run_until(3)
    recorder.event(pod, "Normal", "A", "one")
    recorder.event(pod, "Normal", "B", "two")                       # same virtual instant, distinct names
    first, second = sorted(int(e["metadata"]["name"].split(".")[1], 16) for e in events(admin))
    assert first != second
    assert 0 <= first - (1735689600 + 3) * 10**9 < 10**6              # 2025-01-01 + 3 s, within a millisecond


@pytest.mark.parametrize("obj, field_path, namespace, reference", [
    pytest.param({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "node-1", "uid": "u1"}}, "", "default",
                 {"kind": "Node", "name": "node-1", "uid": "u1", "apiVersion": "v1"},
                 id="an event about a cluster-scoped object goes to the default namespace"),
    pytest.param({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "kube-system"}},
                 "spec.containers{app}", "kube-system",
                 {"kind": "Pod", "namespace": "kube-system", "name": "p", "apiVersion": "v1",
                  "fieldPath": "spec.containers{app}"},
                 id="a field path names the part of the object the event is about"),
    pytest.param({"kind": "Pod", "namespace": "kube-system", "name": "p", "apiVersion": "v1", "fieldPath": "x"}, "",
                 "kube-system", {"kind": "Pod", "namespace": "kube-system", "name": "p", "apiVersion": "v1",
                                 "fieldPath": "x"},
                 id="an ObjectReference is used as it is"),
])
def test_the_involved_object_and_namespace(admin, recorder, obj, field_path, namespace, reference):
    assert object_reference(obj, field_path) == reference
    recorder.event(obj, "Warning", "Test", "message", field_path=field_path)
    [event] = events(admin, namespace)
    assert event["involvedObject"] == reference and event["type"] == "Warning"


def test_the_same_event_within_ten_minutes_bumps_count_and_last_timestamp(admin, loop, pod, recorder):
    loop.run_until(100)
    recorder.event(pod, "Warning", "BackOff", "Back-off restarting failed container")
    loop.run_for(60)
    recorder.event(pod, "Warning", "BackOff", "Back-off restarting failed container")
    loop.run_for(400)
    recorder.event(pod, "Warning", "BackOff", "Back-off restarting failed container")
    [event] = events(admin)
    assert event["count"] == 3
    assert event["firstTimestamp"] == timestamp(100) and event["lastTimestamp"] == timestamp(560)


@pytest.mark.parametrize("second, separate", [
    pytest.param(("Warning", "BackOff", "other message"), True, id="a different message is a separate event"),
    pytest.param(("Warning", "Failed", "same"), True, id="a different reason is a separate event"),
    pytest.param(("Normal", "BackOff", "same"), True, id="a different type is a separate event"),
    pytest.param(("Warning", "BackOff", "same"), False, id="the identical event is counted, not repeated"),
])
def test_what_counts_as_the_same_event(admin, pod, recorder, second, separate):
    recorder.event(pod, "Warning", "BackOff", "same")
    recorder.event(pod, *second)
    assert len(events(admin)) == (2 if separate else 1)


def test_a_second_recorder_is_another_source_and_writes_its_own_event(admin, pod, recorder):
    recorder.event(pod, "Normal", "Pulled", "pulled")
    EventRecorder(admin, "kubelet", "node-1").event(pod, "Normal", "Pulled", "pulled")
    assert sorted((e["source"].get("component"), e["source"].get("host")) for e in events(admin)) == [
        ("default-scheduler", None), ("kubelet", "node-1")]


def test_ten_similar_events_within_ten_minutes_are_combined(admin, loop, pod, recorder):
    for index in range(12):
        recorder.event(pod, "Warning", "FailedScheduling", f"0/{index} nodes are available")
        loop.run_for(1)
    written = events(admin)
    combined = [e for e in written if e["message"].startswith(COMBINED_PREFIX)]
    assert len(written) == 10 and len(combined) == 1
    assert combined[0]["count"] == 3 and combined[0]["message"] == COMBINED_PREFIX + "0/11 nodes are available"


def test_a_source_may_burst_25_events_about_an_object_then_one_every_five_minutes(admin, loop, pod, recorder):
    for _ in range(30):
        recorder.event(pod, "Warning", "Unhealthy", "Liveness probe failed")
    [event] = events(admin)
    assert event["count"] == 25 and recorder.dropped == 5
    loop.run_for(300)
    recorder.event(pod, "Warning", "Unhealthy", "Liveness probe failed")
    [event] = events(admin)
    assert event["count"] == 31                                       # every occurrence was counted


def test_an_event_that_expired_from_the_server_is_created_again(admin, loop, pod, recorder):
    recorder.event(pod, "Normal", "Pulled", "pulled")
    [event] = events(admin)
    admin.delete("events", event["metadata"]["name"], "default")
    recorder.event(pod, "Normal", "Pulled", "pulled")
    [again] = events(admin)
    assert again["metadata"]["name"] == event["metadata"]["name"] and again["count"] == 2


def test_errors_writing_events_are_swallowed(cluster, pod):
    nobody = EventRecorder(cluster.client("nobody", ()), "rogue")
    nobody.event(pod, "Normal", "Test", "forbidden, silently")
    assert nobody.dropped == 1 and nobody.written == 0


def test_an_unknown_event_type_is_dropped(admin, pod, recorder):
    recorder.event(pod, "Info", "Test", "not a type")
    assert events(admin) == [] and recorder.dropped == 1


def test_eventf_formats_the_message_like_go(admin, pod, recorder):
    recorder.eventf(pod, "Normal", "SuccessfulCreate", "Created pod: %v on %s (%d)", "web-abc", "node-1", 3)
    assert events(admin)[0]["message"] == "Created pod: web-abc on node-1 (3)"
