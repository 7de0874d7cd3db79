"""kubectl's JSONPath templates, as ``-o jsonpath`` prints them."""

from __future__ import annotations

import pytest

from engine.kubectl.jsonpath import JSONPathError, find_results, relaxed, render

DATA = {
    "kind": "List",
    "items": [
        {"metadata": {"name": "web", "labels": {"app": "web", "app.kubernetes.io/name": "shop"}},
         "spec": {"replicas": 2, "containers": [{"name": "nginx", "image": "nginx:1.25"},
                                                {"name": "log", "image": "busybox"}]},
         "status": {"conditions": [{"type": "Ready", "status": "True"}, {"type": "Synced", "status": "False"}]}},
        {"metadata": {"name": "db", "labels": {"app": "db"}},
         "spec": {"replicas": 1, "containers": [{"name": "postgres", "image": "postgres:16"}]},
         "status": {"conditions": [{"type": "Ready", "status": "False"}]}},
    ],
}


@pytest.mark.parametrize("template, expected", [
    pytest.param("{.kind}", "List", id="a field of the root"),
    pytest.param("{$.kind}", "List", id="the root can be named with a dollar"),
    pytest.param("{.items[*].metadata.name}", "web db", id="a wildcard yields every item, space separated"),
    pytest.param("{.items[0].metadata.name}", "web", id="an index selects one item"),
    pytest.param("{.items[-1].metadata.name}", "db", id="a negative index counts from the end"),
    pytest.param("{.items[-1:].metadata.name}", "db", id="a slice from the end"),
    pytest.param("{.items[0:1].metadata.name}", "web", id="a slice with both bounds"),
    pytest.param("{..image}", "nginx:1.25 busybox postgres:16", id="recursive descent finds every image"),
    pytest.param("{.items[*].spec.replicas}", "2 1", id="numbers print as text"),
    pytest.param("{.items[0].metadata.labels}", '{"app":"web","app.kubernetes.io/name":"shop"}',
                 id="maps print as compact JSON"),
    pytest.param("{.items[0].metadata.labels.app\\.kubernetes\\.io/name}", "shop",
                 id="a backslash escapes dots in a key"),
    pytest.param('{.items[?(@.metadata.name=="db")].spec.replicas}', "1", id="a filter on equality"),
    pytest.param('{.items[0].status.conditions[?(@.type=="Ready")].status}', "True",
                 id="the usual Ready condition filter"),
    pytest.param("{.items[?(@.spec.replicas>1)].metadata.name}", "web", id="a filter on a number comparison"),
    pytest.param("{.items[?(@.metadata.labels.app)].metadata.name}", "web db", id="a filter on existence"),
    pytest.param("{.items[0]['kind','metadata'].name}", "web", id="a union of keys"),
    pytest.param('{range .items[*]}{.metadata.name}{"\\t"}{.spec.replicas}{"\\n"}{end}', "web\t2\ndb\t1\n",
                 id="range with string literals prints one line per item"),
    pytest.param("names: {.items[*].metadata.name}!", "names: web db!", id="text outside braces is literal"),
    pytest.param("{.missing}", "", id="a missing key prints nothing"),
    pytest.param('{range .items[*]}{.metadata.name}:{range .spec.containers[*]}{.name},{end};{end}',
                 "web:nginx,log,;db:postgres,;", id="ranges nest"),
])
def test_render(template: str, expected: str) -> None:
    assert render(template, DATA) == expected


@pytest.mark.parametrize("template", [
    pytest.param("{.items[*]", id="an unclosed action"),
    pytest.param("{range .items[*]}{.kind}", id="a range without end"),
    pytest.param("{end}", id="an end without range"),
])
def test_bad_templates_are_rejected(template: str) -> None:
    with pytest.raises(JSONPathError):
        render(template, DATA)


def test_relaxed_expressions_and_find_results() -> None:
    assert relaxed("metadata.name") == "{.metadata.name}"
    assert relaxed("{.metadata.name}") == "{.metadata.name}"
    assert find_results(".items[*].spec.replicas", DATA) == [2, 1]
