"""The event log: kubectl's columns and words, time order, and the widget's live mode."""

from __future__ import annotations

import pytest

from engine.client.record import EventRecorder
from engine.viz.events import EventLog, event_rows, events_text, format_events, human_duration


AGES = [(0, "0s"), (-1.5, "0s"), (-3, "<invalid>"), (59, "59s"), (119, "119s"), (120, "2m"), (185, "3m5s"),
        (600, "10m"), (179 * 60, "179m"), (3 * 3600, "3h"), (3 * 3600 + 60 * 7, "3h7m"), (10 * 3600, "10h"),
        (50 * 3600, "2d2h"), (30 * 86400, "30d"), (3 * 365 * 86400 + 86400, "3y1d"), (9 * 365 * 86400, "9y")]


@pytest.mark.parametrize("seconds, text", AGES, ids=[f"{seconds} seconds read as {text}" for seconds, text in AGES])
def test_ages_read_as_kubectl_prints_them(seconds, text):
    assert human_duration(seconds) == text


def event(name: str, reason: str, last: str, *, type_: str = "Normal", count: int = 1,
          first: str | None = None, kind: str = "Pod", obj: str = "web", rv: str = "10") -> dict:
    return {"metadata": {"name": name, "namespace": "default", "resourceVersion": rv},
            "involvedObject": {"kind": kind, "name": obj, "namespace": "default"},
            "reason": reason, "message": f"{reason} happened", "type": type_, "count": count,
            "firstTimestamp": first or last, "lastTimestamp": last}


def test_rows_are_in_last_seen_order_with_kubectl_columns():
    rows = event_rows([
        event("b", "Started", "2025-01-01T00:00:30Z"),
        event("a", "Scheduled", "2025-01-01T00:00:10Z"),
        event("c", "BackOff", "2025-01-01T00:01:00Z", type_="Warning", count=4, first="2025-01-01T00:00:20Z",
              kind="Node", obj="node-1"),
    ], now=100.0)
    assert [row["reason"] for row in rows] == ["Scheduled", "Started", "BackOff"]
    assert rows[0]["last_seen"] == "90s"
    assert rows[2]["last_seen"] == "40s (x4 over 80s)"
    assert rows[2]["object"] == "node/node-1"
    assert rows[2]["type"] == "Warning"


def test_the_text_table_has_kubectls_header_and_padding():
    rows = event_rows([event("a", "Scheduled", "2025-01-01T00:00:10Z")], now=15.0)
    text = format_events(rows, namespaces=False)
    header, line = text.splitlines()
    assert header.split() == ["LAST", "SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"]
    assert line.split() == ["5s", "Normal", "Scheduled", "pod/web", "Scheduled", "happened"]
    assert header.index("TYPE") == line.index("Normal")
    assert format_events([]) == "No resources found"


def test_events_written_by_a_component_appear_in_the_log(cluster, pods):
    web = cluster.admin.create(pods.make("web", node="node-1"))
    recorder = EventRecorder(cluster.client("system:kube-scheduler"), "default-scheduler")
    log = EventLog(cluster)
    recorder.event(web, "Normal", "Scheduled", "Successfully assigned default/web to node-1")
    cluster.run(2)
    recorder.event(web, "Warning", "FailedMount", "MountVolume.SetUp failed")
    cluster.run(1)
    log.refresh()
    assert [row["reason"] for row in log.rows] == ["Scheduled", "FailedMount"]
    assert "Successfully assigned default/web to node-1" in log.table.value
    assert "kv-event-warning" in log.table.value
    assert "pod/web" in events_text(cluster)


def test_without_live_mode_the_log_waits_for_its_refresh_button(cluster, pods):
    web = cluster.admin.create(pods.make("web", node="node-1"))
    log = EventLog(cluster, live=False)
    EventRecorder(cluster.admin, "kubelet", "node-1").event(web, "Normal", "Pulled", "image pulled")
    cluster.run(1)
    log.refresh()
    assert log.rows == []
    log.refresh_button.click()
    assert [row["reason"] for row in log.rows] == ["Pulled"]
