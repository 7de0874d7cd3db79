"""fluent-bit's pieces: the CRI parser, tail with its position DB, the buffer and its backoff, the es output's
bulk body, and the engine delivering every line exactly once through a store that goes away and an agent that
restarts; Elasticsearch's REST API on the other end."""

from __future__ import annotations

import json

import pytest

from engine.addons.logging.buffer import Buffer, backoff
from engine.addons.logging.elasticsearch import HTTP_PORT, STARTUP_SECONDS, ElasticsearchProgram
from engine.addons.logging.fluent_bit import FluentBit, parse_config
from engine.addons.logging.manifests import CONFIG
from engine.addons.logging.out_es import bulk_body, index_name
from engine.addons.logging.tail import Tail, parse_cri, tag_of
from engine.api import errors
from engine.components import ComponentContext
from engine.runtime.cri import Mount, rfc3339_nano
from engine.runtime.logfiles import LogFile, Symlink
from engine.runtime.mounts import MountedFS, NodeFilesystem
from engine.runtime.programs.base import ProcessContext
from engine.runtime.runc import Cgroup
from engine.sim.loop import Loop

ID = "a" * 64
LINK = f"/var/log/containers/web_default_nginx-{ID}.log"


def node_with_log(lines: list[str]) -> tuple[NodeFilesystem, LogFile]:
    node = NodeFilesystem()
    log = LogFile("/var/log/pods/default_web_uid/nginx/0.log", 11, lines)
    node[log.path] = log
    node[LINK] = Symlink(log)
    return node, log


def cri(when: float, text: str, tag: str = "F", stream: str = "stdout") -> str:
    return f"{rfc3339_nano(when)} {stream} {tag} {text}"


def agent_fs(node: NodeFilesystem) -> MountedFS:
    return MountedFS({}, node, [Mount("/var/log", "/var/log")])


def test_the_cri_parser_reads_time_stream_and_tag():
    assert parse_cri("2025-01-01T00:00:05.250000000Z stderr F oops: it broke") == (5.25, "stderr", "F", "oops: it broke")
    assert parse_cri("not a cri line") is None


def test_tail_tags_records_by_path_joins_partial_lines_and_keeps_an_unfinished_one():
    node, log = node_with_log([cri(1, "one"), cri(2, "par", "P"), cri(2, "tial"), cri(3, "half", "P")])
    tail = Tail(agent_fs(node), "/var/log/containers/*.log", read_from_head=True)
    assert tail.scan() == [LINK]
    records = tail.collect()
    assert list(records) == [tag_of(LINK)] == [f"kube.var.log.containers.web_default_nginx-{ID}.log"]
    assert [(when, r["log"]) for when, r in records[tag_of(LINK)]] == [(1.0, "one"), (2.0, "partial")]
    log.lines.append(cri(3, " done"))
    assert [r["log"] for _, r in tail.collect()[tag_of(LINK)]] == ["half done"]


def test_the_db_resumes_each_file_at_its_offset_after_a_restart():
    node, log = node_with_log([cri(1, "one"), cri(2, "two")])
    fs = agent_fs(node)
    first = Tail(fs, "/var/log/containers/*.log", db="/var/log/flb_kube.db", read_from_head=True)
    first.scan()
    assert len(first.collect()[tag_of(LINK)]) == 2
    first.commit()
    log.lines.append(cri(3, "three"))
    second = Tail(fs, "/var/log/containers/*.log", db="/var/log/flb_kube.db", read_from_head=True)
    second.scan()
    assert [r["log"] for _, r in second.collect()[tag_of(LINK)]] == ["three"]
    assert json.loads(node["/var/log/flb_kube.db"])["in_tail_files"][0]["inode"] == 11


def test_without_read_from_head_a_file_found_at_start_is_read_from_its_end():
    node, log = node_with_log([cri(1, "old")])
    tail = Tail(agent_fs(node), "/var/log/containers/*.log")
    tail.scan()
    log.lines.append(cri(2, "new"))
    assert [r["log"] for _, r in tail.collect()[tag_of(LINK)]] == ["new"]


def test_a_file_removed_before_it_was_read_to_the_end_is_still_read():
    node, log = node_with_log([cri(1, "one")])
    tail = Tail(agent_fs(node), "/var/log/containers/*.log", read_from_head=True)
    tail.scan()
    log.lines.append(cri(2, "last words"))
    del node[LINK], node[log.path]
    assert [r["log"] for _, r in tail.collect()[tag_of(LINK)]] == ["one", "last words"]
    tail.commit()
    assert tail.files == {}


@pytest.mark.parametrize("retry, low, high", [(1, 5, 10), (3, 5, 40), (12, 5, 2000)],
                         ids=["the first retry waits 5 to 10 s", "the third 5 to 40 s", "the cap bounds the wait"])
def test_full_jitter_backoff(retry, low, high):
    import random
    waits = {backoff(retry, 5, 2000, random.Random(seed)) for seed in range(200)}
    assert min(waits) >= low and max(waits) <= high and len(waits) > 3


def test_chunks_on_the_filesystem_are_the_next_run_s_backlog():
    fs: dict[str, str] = {}
    buffer = Buffer(fs, "/var/log/flb-storage/", "tail.0")
    buffer.append("kube.a", [(1.0, {"log": "x"})], 1.0)
    buffer.append("kube.a", [(1.5, {"log": "y"})], 1.5)
    buffer.close_open()
    assert [len(c.records) for c in buffer.ready(2.0)] == [2]
    again = Buffer(fs, "/var/log/flb-storage/", "tail.0")
    assert again.load() == 1 and again.records() == 2
    again.done(next(iter(again.chunks.values())))
    assert not [p for p in fs if p.endswith(".flb")]


def test_the_bulk_body_names_the_daily_index_and_replaces_dots():
    body = bulk_body([(86400.5, {"log": "hi", "kubernetes": {"labels": {"app.kubernetes.io/name": "web"}}})])
    action, doc = [json.loads(line) for line in body.splitlines()]
    assert action == {"create": {"_index": "logstash-2025.01.02"}} and index_name(0) == "logstash-2025.01.01"
    assert list(doc)[0] == "@timestamp" and doc["@timestamp"] == "2025-01-02T00:00:00.500Z"
    assert doc["kubernetes"]["labels"] == {"app_kubernetes_io/name": "web"}


# -- the engine against a real Elasticsearch program --------------------------------------------------
class Pods:
    """The API server as the kubernetes filter sees it: one pod, or none."""

    def __init__(self) -> None:
        self.pod = {"metadata": {"name": "web", "namespace": "default", "uid": "u-1", "labels": {"app": "web"}},
                    "spec": {"nodeName": "node-1"},
                    "status": {"containerStatuses": [{"name": "nginx", "image": "nginx:1.27", "imageID": "sha"}]}}

    def get(self, resource: str, name: str, namespace: str | None = None) -> dict:
        if name != "web":
            raise errors.not_found("pods", name)
        return self.pod


class Store:
    """Elasticsearch as a process with its own filesystem; ``dial`` reaches it while it listens."""

    def __init__(self, loop: Loop) -> None:
        self.loop = loop
        self.fs: dict[str, str] = {}
        self.program: ElasticsearchProgram | None = None

    def start(self) -> None:
        ctx = ProcessContext(self.loop, argv=["eswrapper"], env={"node.name": "es-0"}, fs=self.fs, hostname="es-0",
                             write=lambda stream, text: None, cgroup=Cgroup("/es"), on_exit=lambda code: None)
        self.program = ElasticsearchProgram()
        self.program.start(ctx)

    def stop(self) -> None:
        if self.program is not None:
            self.program.ctx.exit(137)

    def dial(self, address: str, port: int) -> ElasticsearchProgram:
        from engine.sim.hostnet import ConnectionRefused
        program = self.program
        if program is None or not program.ctx.alive or port not in program.ctx.ports:
            raise ConnectionRefused(address, port)
        return program

    def request(self, method: str, path: str, body: dict | None = None) -> dict:
        answer = self.program.handle_http({"method": method, "path": path, "body": json.dumps(body or {})})
        return json.loads(answer["body"])

    def lines(self) -> list[str]:
        self.request("POST", "/_refresh")
        hits = self.request("POST", "/logstash-*/_search", {"size": 1000, "sort": ["@timestamp"]})["hits"]["hits"]
        return [h["_source"]["log"] for h in hits]


def agent(loop: Loop, fs: MountedFS, store: Store) -> FluentBit:
    context = ComponentContext("fluent-bit", Pods(), loop, "node-1",
                               {"fs": fs, "sections": parse_config(CONFIG), "dial": store.dial,
                                "resolve": lambda name: ["10.96.0.50"]})
    engine = FluentBit(context)
    engine.start()
    return engine


def write_every_second(loop: Loop, log: LogFile, until: float) -> None:
    def tick(n: int = 0) -> None:
        log.lines.append(cri(loop.now, f"line {n}"))
        if loop.now + 1 <= until:
            loop.call_later(1.0, tick, n + 1)
    loop.call_later(1.0, tick)


def test_every_line_arrives_once_through_a_store_outage_and_an_agent_restart():
    loop = Loop(seed=3)
    node, log = node_with_log([])
    fs = agent_fs(node)
    store = Store(loop)
    store.start()
    write_every_second(loop, log, until=200)
    fluent = agent(loop, fs, store)
    loop.run_for(STARTUP_SECONDS + 5)
    assert store.program.ctx.ports == {HTTP_PORT}
    store.stop()                                      # the store is gone for a minute
    loop.run_for(60)
    assert fluent.metrics["retries"] > 0 and fluent.buffer.records() > 0
    store.start()                                     # back, with its data
    loop.run_for(40)
    fluent.stop()                                     # the agent restarts
    loop.run_for(10)
    fluent = agent(loop, fs, store)
    loop.run_for(200 - loop.now + 70)
    written = [line.split(" ", 3)[3] for line in log.lines]
    shipped = store.lines()
    assert sorted(shipped) == sorted(written) and len(written) == 200
    assert fluent.buffer.records() == 0


def test_records_carry_the_pod_metadata_from_the_api_server():
    loop = Loop(seed=1)
    node, log = node_with_log([cri(0.5, "hello")])
    store = Store(loop)
    store.start()
    agent(loop, agent_fs(node), store)
    loop.run_for(STARTUP_SECONDS + 70)
    store.request("POST", "/_refresh")
    hit = store.request("GET", "/_search?q=hello")["hits"]["hits"][0]["_source"]
    assert hit["kubernetes"] == {"pod_name": "web", "namespace_name": "default", "pod_id": "u-1",
                                 "labels": {"app": "web"}, "host": "node-1", "container_name": "nginx",
                                 "docker_id": ID, "container_hash": "sha", "container_image": "nginx:1.27"}


def test_elasticsearch_answers_its_rest_api():
    loop = Loop(seed=1)
    store = Store(loop)
    store.start()
    assert store.program.handle_http({"method": "GET", "path": "/"}) is None     # still starting: refused
    loop.run_for(STARTUP_SECONDS)
    assert store.request("GET", "/")["tagline"] == "You Know, for Search"
    bulk = store.program.handle_http({"method": "POST", "path": "/_bulk", "body": (
        '{"create":{"_index":"logs"}}\n{"n":1}\n{"create":{"_index":"logs"}}\n{"n":"not a number"}\n')})
    items = json.loads(bulk["body"])
    assert items["errors"] is True
    assert [i["create"]["status"] for i in items["items"]] == [201, 400]
    assert items["items"][1]["create"]["error"]["type"] == "document_parsing_exception"
    missing = store.program.handle_http({"method": "GET", "path": "/nope/_search"})
    assert missing["status"] == 404 and json.loads(missing["body"])["error"]["type"] == "index_not_found_exception"
    assert store.request("GET", "/logs/_count")["count"] == 0           # not refreshed yet
    loop.run_for(1)
    assert store.request("GET", "/logs/_count")["count"] == 1
    assert store.request("GET", "/logs/_mapping")["logs"]["mappings"]["properties"] == {"n": {"type": "long"}}
    assert store.request("GET", "/_cluster/health")["status"] == "yellow"


def test_sigterm_s_grace_reads_and_flushes_once_more_before_the_agent_stops():
    loop = Loop(seed=2)
    node, log = node_with_log([])
    store = Store(loop)
    store.start()
    written: list[str] = []
    context = ComponentContext("fluent-bit", Pods(), loop, "node-1",
                               {"fs": agent_fs(node), "sections": parse_config(CONFIG), "dial": store.dial,
                                "resolve": lambda name: ["10.96.0.50"], "log": written.append})
    fluent = FluentBit(context)
    fluent.start()
    loop.run_for(STARTUP_SECONDS + 3)
    log.lines.append(cri(loop.now, "said just before the end"))
    fluent.shutdown()
    assert "said just before the end" in store.lines()
    assert written[-1].endswith("[ info] [engine] service has stopped (0 pending tasks)\n")


def test_partial_lines_join_per_stream_and_an_unfinished_one_holds_back_what_follows_it():
    node, log = node_with_log([cri(1, "out-", "P"), cri(1, "err line", stream="stderr"), cri(1, "done"),
                               cri(2, "half", "P", "stderr"), cri(2, "after")])
    tail = Tail(agent_fs(node), "/var/log/containers/*.log", read_from_head=True)
    tail.scan()
    assert [(r["stream"], r["log"]) for _, r in tail.collect()[tag_of(LINK)]] == [
        ("stderr", "err line"), ("stdout", "out-done")]
    log.lines.append(cri(3, " end", stream="stderr"))
    assert [(r["stream"], r["log"]) for _, r in tail.collect()[tag_of(LINK)]] == [
        ("stdout", "after"), ("stderr", "half end")]
