"""The kubelet server's log reading: CRI records to lines, and the ReadLogs options."""

from __future__ import annotations

import pytest

from engine.apiserver.pod_connect import validate_container
from engine.kubelet.server import parse_log, render, rfc3339_nano

RECORDS = [
    "2025-01-01T00:00:01.500000000Z stdout F one",
    "2025-01-01T00:00:02.000000000Z stderr P tw",
    "2025-01-01T00:00:02.000000000Z stderr F o",
    "2025-01-01T00:00:03.250000000Z stdout F three",
]


def test_partial_records_join_into_one_line():
    assert [e.text for e in parse_log(RECORDS)] == ["one", "two", "three"]


@pytest.mark.parametrize("params, text", [
    ({}, "one\ntwo\nthree\n"),
    ({"tailLines": 2}, "two\nthree\n"),
    ({"tailLines": "0"}, ""),
    ({"sinceSeconds": "2"}, "two\nthree\n"),
    ({"limitBytes": 6}, "one\ntw"),
    ({"timestamps": "true", "tailLines": 1}, "2025-01-01T00:00:03.25Z three\n"),
], ids=["everything", "the last two lines", "no lines", "the last two seconds", "the first six bytes",
        "timestamps as Go's RFC3339Nano"])
def test_read_logs_options(params, text):
    assert render(parse_log(RECORDS), params, now=4.0) == text


def test_timestamps_drop_trailing_zeros():
    assert rfc3339_nano("2025-01-01T00:00:02.000000000Z") == "2025-01-01T00:00:02Z"
    assert rfc3339_nano("2025-01-01T00:00:02.120000000Z") == "2025-01-01T00:00:02.12Z"


POD = {"metadata": {"name": "web"}, "spec": {"containers": [{"name": "a"}, {"name": "b"}],
                                             "initContainers": [{"name": "init"}]}}


def test_the_api_server_defaults_the_only_container_and_refuses_unknown_ones():
    assert validate_container({"metadata": {"name": "p"}, "spec": {"containers": [{"name": "x"}]}}, "") == "x"
    assert validate_container(POD, "init") == "init"
    with pytest.raises(Exception, match=r"^a container name must be specified for pod web, choose one of: \[a b\] or "
                                        r"one of the init containers: \[init\]$"):
        validate_container(POD, "")
    with pytest.raises(Exception, match="^container c is not valid for pod web$"):
        validate_container(POD, "c")
