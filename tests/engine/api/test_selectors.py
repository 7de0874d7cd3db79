"""Label and field selectors parse, match and print as apimachinery's labels and fields packages do."""

import pytest

from engine.api.selectors import (
    EVERYTHING, NOTHING, SUPPORTED_FIELDS, SelectorError, convert_field_selector, field_value,
    format_label_selector, from_label_selector, from_set, matches_fields, parse, parse_field_selector,
    selectable_fields,
)

KEY_ERROR = ("name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
             "alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is "
             "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')")

PARSES = [
    ("", ""),
    ("app=web", "app=web"),
    ("app==web", "app==web"),
    ("app!=web", "app!=web"),
    ("tier=fe,app=web", "app=web,tier=fe"),
    ("  app = web ,  tier in ( b , a )  ", "app=web,tier in (a,b)"),
    ("env in (prod,qa)", "env in (prod,qa)"),
    ("env notin (prod)", "env notin (prod)"),
    ("app", "app"),
    ("!app", "!app"),
    ("x in (foo,,baz),y,z notin ()", "x in (,baz,foo),y,z notin ()"),
    ("a in (in,notin)", "a in (in,notin)"),
    ("replicas>1", "replicas>1"),
    ("app=", "app="),
    ("example.com/app=web", "example.com/app=web"),
]


@pytest.mark.parametrize("text, canonical", PARSES, ids=[f"{p[0]!r} prints as {p[1]!r}" for p in PARSES])
def test_a_label_selector_string_parses_and_prints_canonically(text, canonical):
    assert str(parse(text)) == canonical


ERRORS = [
    ("app web", "unable to parse requirement: found 'web', expected: in, notin, =, ==, !=, gt, lt"),
    ("app=web=x", "found '=', expected: ',' or 'end of string'"),
    ("app=web,", "found '', expected: identifier after ','"),
    ("=web", "found '=', expected: !, identifier, or 'end of string'"),
    ("env in prod", "unable to parse requirement: found 'prod' expected: '('"),
    ("env in (prod", "unable to parse requirement: found '', expected: ',' or ')'"),
    ("-app=web", f"unable to parse requirement: <nil>: Invalid value: \"-app\": {KEY_ERROR}"),
    ("app=-web", "unable to parse requirement: values[0][app]: Invalid value: \"-web\": a valid label must be an "
                 "empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
                 "alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is "
                 "'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"),
    ("replicas>many", "unable to parse requirement: values[0]: Invalid value: \"many\": for 'Gt', 'Lt' operators, "
                      "the value must be an integer"),
]


@pytest.mark.parametrize("text, message", ERRORS, ids=[
    "two words need an operator between them", "a value cannot be followed by another operator",
    "a trailing comma wants another requirement", "a selector cannot start with an operator",
    "in needs a parenthesised set", "an unclosed set is reported at the end",
    "a key must start with an alphanumeric character", "a value must start with an alphanumeric character",
    "greater-than compares integers only"])
def test_a_bad_label_selector_string_is_rejected_with_go_s_message(text, message):
    with pytest.raises(SelectorError) as excinfo:
        parse(text)
    assert str(excinfo.value) == message


MATCHES = [
    ("app=web", {"app": "web"}, True),
    ("app=web", {"app": "db"}, False),
    ("app=web", {}, False),
    ("app!=web", {}, True),
    ("app!=web", {"app": "web"}, False),
    ("env in (prod,qa)", {"env": "qa"}, True),
    ("env notin (prod)", {"tier": "fe"}, True),
    ("env notin (prod)", {"env": "prod"}, False),
    ("app", {"app": ""}, True),
    ("!app", {"app": "x"}, False),
    ("replicas>1", {"replicas": "3"}, True),
    ("replicas<1", {"replicas": "three"}, False),
    ("app=web,tier=fe", {"app": "web", "tier": "fe", "extra": "x"}, True),
    ("", {"anything": "goes"}, True),
]


@pytest.mark.parametrize("text, labels, expected", MATCHES, ids=[
    "equality matches the same value", "equality rejects another value", "equality needs the key",
    "inequality matches a missing key", "inequality rejects the value", "in matches any listed value",
    "notin matches a missing key", "notin rejects a listed value", "exists matches an empty value",
    "does-not-exist rejects a present key", "greater-than compares numbers", "a non-number never compares",
    "commas mean AND and extra labels do not matter", "the empty selector selects everything"])
def test_a_label_selector_matches_labels(text, labels, expected):
    assert parse(text).matches(labels) is expected


LABEL_SELECTORS = [
    ({"matchLabels": {"app": "web"}}, "app=web"),
    ({"matchLabels": {"tier": "fe", "app": "web"}, "matchExpressions": [
        {"key": "env", "operator": "In", "values": ["qa", "prod"]},
        {"key": "canary", "operator": "DoesNotExist"}]}, "app=web,!canary,env in (prod,qa),tier=fe"),
    ({"matchExpressions": [{"key": "env", "operator": "Exists"}]}, "env"),
    ({}, ""),
]


@pytest.mark.parametrize("selector, text", LABEL_SELECTORS, ids=[
    "matchLabels become equality requirements", "labels and expressions are sorted by key",
    "Exists is a bare key", "an empty LabelSelector prints as the empty string"])
def test_an_api_label_selector_converts_like_label_selector_as_selector(selector, text):
    assert str(from_label_selector(selector)) == text


BAD_LABEL_SELECTORS = [
    ({"matchExpressions": [{"key": "env", "operator": "In", "values": []}]},
     "values: Invalid value: []string(nil): for 'in', 'notin' operators, values set can't be empty"),
    ({"matchExpressions": [{"key": "env", "operator": "Exists", "values": ["x"]}]},
     "values: Invalid value: []string{\"x\"}: values set must be empty for exists and does not exist"),
    ({"matchExpressions": [{"key": "env", "operator": "Equals", "values": ["x"]}]},
     "\"Equals\" is not a valid pod selector operator"),
    ({"matchLabels": {"bad key": "x"}}, f"key: Invalid value: \"bad key\": {KEY_ERROR}"),
]


@pytest.mark.parametrize("selector, message", BAD_LABEL_SELECTORS, ids=[
    "In with no values is an error", "Exists with values is an error", "only the four API operators exist",
    "a key with a space is not a label key"])
def test_a_bad_api_label_selector_is_rejected(selector, message):
    with pytest.raises(SelectorError) as excinfo:
        from_label_selector(selector)
    assert str(excinfo.value) == message


def test_a_missing_selector_selects_nothing_but_an_empty_one_selects_everything():
    assert from_label_selector(None) is NOTHING
    assert not NOTHING.matches({"app": "web"}) and not NOTHING.empty
    assert from_label_selector({}) == EVERYTHING
    assert EVERYTHING.matches({}) and EVERYTHING.empty
    assert format_label_selector(None) == "<none>"
    assert format_label_selector({"matchLabels": {"app": "web"}}) == "app=web"
    assert format_label_selector({"matchExpressions": [{"key": "a", "operator": "Bad"}]}) == "<error>"


def test_a_set_selects_exactly_its_labels_and_reports_exact_matches():
    selector = from_set({"tier": "fe", "app": "web"})
    assert str(selector) == "app=web,tier=fe"
    assert selector.requires_exact_match("app") == "web"
    assert selector.requires_exact_match("zone") is None
    assert from_set({}) == EVERYTHING


FIELD_SELECTORS = [
    ("metadata.name=x,metadata.namespace!=y", "metadata.name=x,metadata.namespace!=y"),
    ("status.phase==Running", "status.phase=Running"),
    ("spec.nodeName=", "spec.nodeName="),
    ("spec.nodeName=n1,metadata.name=a", "metadata.name=a,spec.nodeName=n1"),
    (r"metadata.name=a\,b", r"metadata.name=a\,b"),
    ("", ""),
]


@pytest.mark.parametrize("text, canonical", FIELD_SELECTORS, ids=[
    "equality and inequality", "double equals is equality", "an empty value selects unset fields",
    "terms are sorted", "an escaped comma is data", "the empty field selector"])
def test_a_field_selector_parses_and_prints(text, canonical):
    assert str(parse_field_selector(text)) == canonical


@pytest.mark.parametrize("text, message", [
    ("metadata.name", "invalid selector: 'metadata.name'; can't understand 'metadata.name'"),
    (r"metadata.name=a\x", r"invalid field selector: invalid escape sequence: \x"),
    ("metadata.name=a=b", "invalid field selector: unescaped character in value: 61"),
], ids=["a term needs an operator", "only backslash, comma and equals can be escaped",
        "an equals sign in a value must be escaped"])
def test_a_bad_field_selector_is_rejected(text, message):
    with pytest.raises(SelectorError) as excinfo:
        parse_field_selector(text)
    assert str(excinfo.value) == message


POD = {"kind": "Pod", "metadata": {"name": "web-1", "namespace": "default"},
       "spec": {"nodeName": "node-2", "restartPolicy": "Always", "schedulerName": "default-scheduler"},
       "status": {"phase": "Running", "podIPs": [{"ip": "10.244.1.5"}]}}


@pytest.mark.parametrize("selector, expected", [
    ("spec.nodeName=node-2", True), ("spec.nodeName=node-1", False), ("status.phase!=Running", False),
    ("status.podIP=10.244.1.5", True), ("metadata.name=web-1,metadata.namespace=default", True),
    ("spec.hostNetwork=false", True), ("status.nominatedNodeName=", True),
], ids=["a pod on its node", "a pod not on another node", "a running pod is not non-running",
        "the pod IP is the first of podIPs", "name and namespace together", "host network defaults to false",
        "an unset field equals the empty string"])
def test_field_selectors_match_pods_as_kubectl_get_field_selector_does(selector, expected):
    assert matches_fields(POD, convert_field_selector("Pod", selector)) is expected


@pytest.mark.parametrize("kind, label", [
    ("Pod", "spec.containers"), ("Deployment", "spec.replicas"), ("Node", "metadata.namespace"),
    ("Namespace", "metadata.namespace"), ("Secret", "data"),
], ids=["pods do not select on containers", "deployments select only on metadata",
        "nodes have no namespace to select on", "namespaces select only on name and phase",
        "secrets select on type, not data"])
def test_an_unsupported_field_label_is_rejected_with_the_real_message(kind, label):
    with pytest.raises(SelectorError) as excinfo:
        convert_field_selector(kind, f"{label}=x")
    assert str(excinfo.value) == f"field label not supported: {label}"


def test_the_supported_field_table_matches_the_api_server():
    assert set(SUPPORTED_FIELDS["Pod"]) >= {"spec.nodeName", "spec.restartPolicy", "spec.schedulerName",
                                            "spec.serviceAccountName", "status.phase", "status.podIP",
                                            "status.nominatedNodeName"}
    assert SUPPORTED_FIELDS["Node"] == ("metadata.name", "spec.unschedulable")
    assert "status.replicas" in SUPPORTED_FIELDS["ReplicaSet"]
    assert "status.successful" in SUPPORTED_FIELDS["Job"]
    assert "type" in SUPPORTED_FIELDS["Secret"]
    assert str(convert_field_selector("Pod", "spec.host=n1")) == "spec.nodeName=n1"
    assert str(convert_field_selector("ConfigMap", "metadata.name=x")) == "metadata.name=x"


def test_selectable_fields_of_other_kinds():
    node = {"kind": "Node", "metadata": {"name": "n1"}, "spec": {"unschedulable": True}}
    assert selectable_fields(node) == {"metadata.name": "n1", "spec.unschedulable": "true"}
    job = {"kind": "Job", "metadata": {"name": "pi", "namespace": "ns"}, "status": {"succeeded": 1}}
    assert selectable_fields(job)["status.successful"] == "1"
    event = {"kind": "Event", "metadata": {"name": "e", "namespace": "ns"}, "reason": "Scheduled",
             "involvedObject": {"kind": "Pod", "name": "web-1"}, "source": {"component": "default-scheduler"},
             "type": "Normal"}
    fields = selectable_fields(event)
    assert (fields["involvedObject.name"], fields["reason"], fields["source"]) == ("web-1", "Scheduled",
                                                                                   "default-scheduler")
    assert field_value(POD, "spec.nodeName") == "node-2"
    assert field_value(POD, "spec.missing.deeper") == ""
    assert field_value(node, "spec.unschedulable") == "true"
