"""An Event of the usual shape is validated without its typed copy: the same causes, in the same order, as
type-checking it and validating the copy."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from engine.api.validation import validate
from engine.api.validation.cluster import validate_event
from engine.api.validation.decoder import plainly_typed_event, type_checked
from engine.api.validation.fields import Errors

Odd = type("Odd", (str,), {})
names = st.sampled_from(["web.17f3a", "Bad_Name", "", "a" * 254, "ok-", "-x", "x.y.z", "default", "Default",
                         "kube-system"])
scalars = st.none() | names | st.integers(-2, 2) | st.floats(-2, 2) | st.booleans() | st.just(Odd("o"))
values = scalars | st.dictionaries(st.sampled_from(["a", "b/c", "Bad Key"]), scalars, max_size=2) | st.lists(scalars,
                                                                                                           max_size=2)
metadata = st.dictionaries(st.sampled_from(["name", "generateName", "namespace", "uid", "resourceVersion",
                                            "creationTimestamp", "labels", "annotations", "generation", "extra"]),
                           names | values, max_size=5)
reference = st.dictionaries(st.sampled_from(["kind", "namespace", "name", "uid", "apiVersion", "resourceVersion",
                                             "fieldPath"]), names | values, max_size=5)
events = st.fixed_dictionaries({"apiVersion": st.just("v1"), "kind": st.just("Event")}, optional={
    "metadata": metadata | values, "involvedObject": reference | values, "source": st.dictionaries(
        st.sampled_from(["component", "host", "x"]), names | values, max_size=2) | values,
    "reason": names | values, "message": names | values, "type": names | values, "count": values,
    "eventTime": values, "firstTimestamp": values, "reportingComponent": values})

texts = names | st.none()
plain_events = st.fixed_dictionaries({"apiVersion": st.just("v1"), "kind": st.just("Event")}, optional={
    "metadata": st.dictionaries(st.sampled_from(["name", "generateName", "namespace", "uid", "creationTimestamp"]),
                                texts, max_size=4),
    "involvedObject": st.dictionaries(st.sampled_from(["kind", "namespace", "name", "uid"]), texts, max_size=3),
    "source": st.dictionaries(st.sampled_from(["component", "host"]), texts, max_size=2),
    "reason": texts, "message": texts, "type": texts, "count": st.none() | st.integers(-1, 3), "eventTime": values})
"""Events of the usual shape, with good and bad names and namespaces: the plain path's cases."""


def general(obj: dict) -> list:
    errs = Errors()
    validate_event(type_checked(obj, "Event", errs), None, errs)
    return list(errs)


@settings(max_examples=400, deadline=None)
@given(events | plain_events)
def test_a_plain_event_gets_the_causes_its_typed_copy_gets(event):
    assert validate(event) == general(event)


def test_the_recorder_s_events_take_the_plain_path():
    event = {"apiVersion": "v1", "kind": "Event",
             "metadata": {"name": "web.17f3a", "namespace": "default", "uid": "u", "creationTimestamp": "t"},
             "involvedObject": {"kind": "Pod", "namespace": "default", "name": "web", "uid": "u", "apiVersion": "v1",
                                "resourceVersion": "7"},
             "reason": "Scheduled", "message": "m", "source": {"component": "default-scheduler"},
             "firstTimestamp": "t", "lastTimestamp": "t", "count": 1, "type": "Normal", "eventTime": None,
             "reportingComponent": "default-scheduler", "reportingInstance": ""}
    assert plainly_typed_event(event) and validate(event) == [] == general(event)
    elsewhere = dict(event, involvedObject=dict(event["involvedObject"], namespace="other"))
    assert plainly_typed_event(elsewhere)
    assert [cause["field"] for cause in validate(elsewhere)] == ["involvedObject.namespace"]
    assert not plainly_typed_event(dict(event, count=1.0)) and validate(dict(event, count=1.0)) == []
    assert not plainly_typed_event(dict(event, metadata=dict(event["metadata"], labels={"a": "b"})))
