"""Cluster logging (EFK) as pods: fluent-bit on every node ships container logs to Elasticsearch.

One cluster for the module, its story in order: pods on two nodes log numbered lines; their lines arrive
with the pod's metadata and are found by field and by full text; the store goes away (its StatefulSet
scaled to 0) while the pods keep logging, the agents buffer and retry, and once the store is back every
line is there exactly once; then an agent is deleted (its DaemonSet makes a new one) and again no line is
lost or doubled; and the store keeps its indices when its pod is deleted (they live on its node's disk).
"""

from __future__ import annotations

import json
import re
from collections import Counter

import pytest

import engine
from engine.addons import logging as efk
from engine.viz.log_search import LogSearch


def talker(name: str, node: str) -> dict:
    script = f'i=0; while true; do echo "{name} seq $i ok"; i=$((i+1)); sleep 1; done'
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "labels": {"app": "talker", "who": name}},
            "spec": {"nodeName": node, "containers": [{"name": "talk", "image": "busybox",
                                                       "command": ["sh", "-c", script]}]}}


@pytest.fixture(scope="module")
def c() -> engine.Cluster:
    c = engine.Cluster(nodes=2, seed=1, network="flannel")
    efk.install(c)
    c.apply(talker("talker-a", "node-1"))
    c.apply(talker("talker-b", "node-2"))
    c.run(110)      # the store's image pulled and started; the agents' first retries (at most 60 s apart) done
    return c


def shipped(c: engine.Cluster, pod: str) -> Counter:
    store = efk.LogStore(c)
    store.refresh()
    hits = store.search(filters={"kubernetes.pod_name.keyword": pod}, size=5000)["hits"]["hits"]
    return Counter(hit["_source"]["log"] for hit in hits)


def written(c: engine.Cluster, pod: str) -> list[str]:
    return c.kubectl(f"logs {pod}").splitlines()


def agent_metrics(c: engine.Cluster, node: str) -> dict:
    pod = next(p for p in c.list("pods", "logging", selector="app.kubernetes.io/name=fluent-bit")
               if p["spec"]["nodeName"] == node)
    result = c.curl(node, f"http://{pod['status']['podIP']}:2020/api/v1/metrics")
    return json.loads(result.body)["output"]["es.0"]


def test_lines_of_pods_on_every_node_arrive_with_their_metadata(c):
    store = efk.LogStore(c)
    store.refresh()
    hit = store.search('seq AND kubernetes.pod_name:"talker-b"', size=1)["hits"]["hits"][0]["_source"]
    meta = hit["kubernetes"]
    assert (meta["pod_name"], meta["namespace_name"], meta["container_name"], meta["host"]) == \
        ("talker-b", "default", "talk", "node-2")
    assert meta["labels"] == {"app": "talker", "who": "talker-b"}
    assert meta["pod_id"] == c.get("pod", "talker-b")["metadata"]["uid"]
    assert hit["stream"] == "stdout" and hit["@timestamp"].startswith("2025-01-01T00:")
    assert "logstash-2025.01.01" in store.indices()
    hosts = store.search(aggs={"hosts": {"terms": {"field": "kubernetes.host.keyword"}}}, size=0)
    assert {"control-plane", "node-1", "node-2"} <= {b["key"] for b in hosts["aggregations"]["hosts"]["buckets"]}


def test_lines_are_found_by_field_and_by_full_text(c):
    store = efk.LogStore(c)
    line = written(c, "talker-a")[3]
    by_text = store.search(f'"{line}"', size=5)["hits"]["hits"]
    assert [h["_source"]["log"] for h in by_text] == [line]
    by_field = store.count(filters={"kubernetes.labels.who.keyword": "talker-a"})
    assert by_field == store.count('kubernetes.pod_name:"talker-a"') > 30
    assert store.count({"term": {"kubernetes.pod_name": "Talker-A"}}) == 0      # term is not analyzed


def test_the_log_search_widget_searches_and_charts_them(c):
    view = LogSearch(c, query='kubernetes.pod_name:"talker-a" AND seq', since="now-5m")
    assert re.search(r"<b>(\d+)</b> hits", view.status.value) and "<mark>talker-a</mark> <mark>seq</mark>" in view.table.value
    assert view.chart.value.count("<rect") >= 20
    assert list(view.filters["pod"].options) == ["(all)", "talker-a"]


def test_nothing_is_lost_or_doubled_while_the_store_is_down(c):
    c.kubectl("scale statefulset elasticsearch -n logging --replicas=0")
    c.run(40)
    with pytest.raises(efk.store.LogStoreError):
        efk.LogStore(c).count()
    assert agent_metrics(c, "node-1")["retries"] > 0
    c.kubectl("scale statefulset elasticsearch -n logging --replicas=1")
    c.run(100)
    for pod in ("talker-a", "talker-b"):
        lines = written(c, pod)
        got = shipped(c, pod)
        assert max(got.values()) == 1, "a line arrived twice"
        assert set(lines[:-3]) <= set(got), "lines written during the outage are missing"


def test_an_agent_restart_neither_loses_nor_repeats_a_line(c):
    agent = next(p for p in c.list("pods", "logging", selector="app.kubernetes.io/name=fluent-bit")
                 if p["spec"]["nodeName"] == "node-1")
    c.delete("pod", agent["metadata"]["name"], "logging")
    c.run(60)
    lines = written(c, "talker-a")
    got = shipped(c, "talker-a")
    assert max(got.values()) == 1
    assert set(lines[:-3]) <= set(got)


def test_the_store_keeps_its_indices_when_its_pod_is_deleted(c):
    before = efk.LogStore(c).count('kubernetes.pod_name:"talker-b"')
    c.delete("pod", "elasticsearch-0", "logging")
    c.run(40)
    store = efk.LogStore(c)
    assert store.count('kubernetes.pod_name:"talker-b"') >= before
    assert store.count('log:"talker-b seq 0 ok"') == 1          # from long before the restart
