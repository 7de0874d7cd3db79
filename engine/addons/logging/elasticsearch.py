"""Elasticsearch as the process of a container: a single-node cluster answering its REST API on port 9200.

``ElasticsearchProgram`` is what the ``docker.elastic.co/elasticsearch/elasticsearch`` image runs. On start it
reads its settings from the environment the manifest gives (``cluster.name``, ``node.name``,
``discovery.type=single-node``, ``ES_JAVA_OPTS=-Xms512m -Xmx512m``: the heap is the memory it holds), loads
every index from its data path (``path.data``, ``/usr/share/elasticsearch/data``: whatever volume is
mounted there keeps the data across restarts of the pod), logs its JSON lines, and ``STARTUP_SECONDS`` later
(the JVM's start) binds port 9200. The REST API, JSON bodies in and out:
    GET  /                                   the node's banner ("You Know, for Search")
    GET  /_cluster/health                    yellow when it holds indices (their replica cannot be assigned
                                             on a single node), green when it holds none
    GET  /_cat/indices[?v]                   one line per index: health, status, name, uuid, docs.count...
    POST /_bulk, /<index>/_bulk              NDJSON ``create`` / ``index`` / ``delete`` actions; an index is
                                             created on first use; each item answers for itself (``errors``)
    POST /<index>/_doc, GET /<index>/_doc/<id>
    GET|POST /<indices>/_search, /_search    the query DSL (``search``), or ``?q=`` (a query_string), ``?size=``
    GET|POST /<indices>/_count, /_count
    GET  /<index>/_mapping, DELETE /<index>, POST /_refresh
``<indices>`` is a comma-separated list of names and patterns (``logstash-*``); a missing name is a 404
``index_not_found_exception``, a pattern matching nothing is no index. Writes are durable when answered (a
segment file per request), and searchable after the next refresh (every ``index.refresh_interval``, 1 s).
What it never does: form a cluster of several nodes, replicate, or authenticate (security is disabled, as
``xpack.security.enabled=false`` in the manifest says).
"""

from __future__ import annotations

import base64
import fnmatch
import json
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from engine.addons.logging.index import Index
from engine.addons.logging.mapping import MappingError, properties, virtual_to_millis, format_millis
from engine.addons.logging.query import QueryError
from engine.addons.logging.search import count, search
from engine.runtime.programs.base import Program

VERSION = "8.13.4"
LUCENE_VERSION = "9.10.0"
HTTP_PORT = 9200
DATA_PATH = "/usr/share/elasticsearch/data"
REFRESH_INTERVAL = 1.0
STARTUP_SECONDS = 15.0
"""From the JVM's start to "started" (a small single node on a laptop)."""
DEFAULT_HEAP = 512 * 1024 * 1024
MiB = 1024 * 1024
JSON = {"Content-Type": "application/json"}


def _error(status: int, kind: str, reason: str, **extra: Any) -> dict:
    cause = {"type": kind, "reason": reason, **extra}
    return {"status": status, "headers": dict(JSON),
            "body": json.dumps({"error": {"root_cause": [cause], **cause}, "status": status})}


def _ok(body: Any, status: int = 200) -> dict:
    return {"status": status, "headers": dict(JSON), "body": json.dumps(body)}


def _heap(options: str) -> int:
    for option in options.split():
        if option.startswith("-Xmx"):
            size = option[4:].lower()
            factor = {"k": 1024, "m": MiB, "g": 1024 * MiB}.get(size[-1:], 1)
            return int(size.rstrip("kmg")) * factor
    return DEFAULT_HEAP


class ElasticsearchProgram(Program):
    """A single Elasticsearch node: its indices in memory and on its data path, its REST API on 9200."""

    def start(self, ctx: Any) -> None:
        super().start(ctx)
        env = ctx.env
        self.cluster_name = env.get("cluster.name", "elasticsearch")
        self.node_name = env.get("node.name") or ctx.hostname
        self.data = env.get("path.data", DATA_PATH).rstrip("/")
        self.indices: dict[str, Index] = {}
        self.started = False
        self.cluster_uuid = self._random_id(22)
        ctx.set_memory(_heap(env.get("ES_JAVA_OPTS", "")) + 64 * MiB)
        ctx.set_cpu(0.05)
        self._load()
        self._log("INFO", "org.elasticsearch.node.Node", f"version[{VERSION}], pid[1], build[docker], "
                                                          f"OS[Linux], JVM[Oracle Corporation/OpenJDK 21]")
        ctx.call_later(STARTUP_SECONDS, self._started)

    def _started(self) -> None:
        self.ctx.listen(HTTP_PORT)
        self.started = True
        self._log("INFO", "org.elasticsearch.http.AbstractHttpServerTransport",
                  f"publish_address {{{self.ctx.hostname}:{HTTP_PORT}}}, bound_addresses {{0.0.0.0:{HTTP_PORT}}}")
        self._log("INFO", "org.elasticsearch.node.Node", "started {%s}" % self.node_name)
        self.ctx.call_later(REFRESH_INTERVAL, self._refresh)

    def _refresh(self) -> None:
        for index in self.indices.values():
            index.refresh()
        self.ctx.call_later(REFRESH_INTERVAL, self._refresh)

    def _log(self, level: str, logger: str, message: str) -> None:
        """One ECS JSON line on stdout, as Elasticsearch 8's docker image logs."""
        self.ctx.stdout(json.dumps({"@timestamp": format_millis(virtual_to_millis(self.ctx.now)), "log.level": level,
                                    "message": message, "ecs.version": "1.2.0", "service.name": "ES_ECS",
                                    "event.dataset": "elasticsearch.server", "log.logger": logger,
                                    "elasticsearch.node.name": self.node_name,
                                    "elasticsearch.cluster.name": self.cluster_name}) + "\n")

    def _random_id(self, length: int = 20) -> str:
        raw = self.ctx.random.getrandbits(length * 6).to_bytes((length * 6 + 7) // 8, "big")
        return base64.urlsafe_b64encode(raw).decode()[:length]

    # -- the data path -------------------------------------------------------------------------
    def _load(self) -> None:
        fs = self.ctx.fs
        root = f"{self.data}/indices/"
        for path in sorted(p for p in list(fs) if p.startswith(root) and p.endswith("/index.json")):
            index = Index.load(fs, path[:-len("/index.json")])
            self.indices[index.name] = index
        if self.indices:
            self._log("INFO", "org.elasticsearch.gateway.GatewayService",
                      f"recovered [{len(self.indices)}] indices into cluster_state")

    def _index(self, name: str) -> Index:
        index = self.indices.get(name)
        if index is None:
            if name != name.lower() or name.startswith(("_", "-", "+")) or not name:
                raise QueryError(f"Invalid index name [{name}], must be lowercase", "invalid_index_name_exception")
            index = Index(name, self._random_id(22), virtual_to_millis(self.ctx.now))
            self.indices[name] = index
            self._log("INFO", "org.elasticsearch.cluster.metadata.MetadataCreateIndexService",
                      f"[{name}] creating index, cause [auto(bulk api)], templates [], shards [1]/[1]")
        return index

    def _resolve(self, expression: str) -> list[Index] | dict:
        if expression in ("", "_all", "*"):
            return [self.indices[name] for name in sorted(self.indices)]
        found: list[Index] = []
        for part in expression.split(","):
            if "*" in part or "?" in part:
                found.extend(self.indices[n] for n in sorted(self.indices) if fnmatch.fnmatchcase(n, part))
            elif part in self.indices:
                found.append(self.indices[part])
            else:
                return _error(404, "index_not_found_exception", f"no such index [{part}]", index=part,
                              **{"resource.type": "index_or_alias", "resource.id": part})
        return list(dict.fromkeys(found))

    # -- HTTP --------------------------------------------------------------------------------------
    def handle_http(self, request: dict[str, Any]) -> dict[str, Any] | None:
        if not self.started:
            return None
        parts = urlsplit(request.get("path", "/"))
        query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
        segments = [unquote(s) for s in parts.path.split("/") if s]
        method = str(request.get("method", "GET")).upper()
        try:
            return self._route(method, segments, query, request.get("body") or "")
        except QueryError as error:
            return _error(400, error.kind, str(error))
        except json.JSONDecodeError as error:
            return _error(400, "parsing_exception", f"Failed to parse the request body: {error}")

    def _route(self, method: str, segments: list[str], query: dict, body: str) -> dict:
        if not segments:
            return _ok({"name": self.node_name, "cluster_name": self.cluster_name, "cluster_uuid": self.cluster_uuid,
                        "version": {"number": VERSION, "build_flavor": "default", "build_type": "docker",
                                    "lucene_version": LUCENE_VERSION, "minimum_wire_compatibility_version": "7.17.0",
                                    "minimum_index_compatibility_version": "7.0.0"},
                        "tagline": "You Know, for Search"})
        head, last = segments[0], segments[-1]
        if segments == ["_cluster", "health"]:
            return _ok(self._health())
        if segments == ["_cat", "indices"]:
            return {"status": 200, "headers": {"Content-Type": "text/plain"}, "body": self._cat("v" in query)}
        if last == "_bulk" and method in ("POST", "PUT"):
            return self._bulk(body, segments[0] if len(segments) == 2 else None)
        if last == "_refresh":
            for index in self.indices.values():
                index.refresh()
            return _ok({"_shards": {"total": 2, "successful": 1, "failed": 0}})
        if last in ("_search", "_count") and len(segments) <= 2:
            indices = self._resolve(segments[0] if len(segments) == 2 else "")
            if isinstance(indices, dict):
                return indices
            request = json.loads(body) if body.strip() else {}
            if "q" in query:
                request["query"] = {"query_string": {"query": query["q"]}}
            if "size" in query:
                request["size"] = int(query["size"])
            run = search if last == "_search" else count
            return _ok(run(indices, request, self.ctx.now))
        if len(segments) == 2 and last == "_mapping":
            indices = self._resolve(head)
            if isinstance(indices, dict):
                return indices
            return _ok({i.name: {"mappings": {"properties": properties(i.fields)}} for i in indices})
        if len(segments) >= 2 and segments[1] == "_doc":
            return self._doc(method, head, segments[2] if len(segments) == 3 else None, body)
        if len(segments) == 1 and method == "DELETE":
            indices = self._resolve(head)
            if isinstance(indices, dict):
                return indices
            for index in indices:
                del self.indices[index.name]
                directory = index.directory(self.data)
                for path in [p for p in list(self.ctx.fs) if p.startswith(directory + "/") or p == directory]:
                    del self.ctx.fs[path]
            return _ok({"acknowledged": True})
        return _error(400, "illegal_argument_exception", f"request [{method} /{'/'.join(segments)}] has no handler")

    def _health(self) -> dict:
        status = "yellow" if self.indices else "green"
        return {"cluster_name": self.cluster_name, "status": status, "timed_out": False, "number_of_nodes": 1,
                "number_of_data_nodes": 1, "active_primary_shards": len(self.indices),
                "active_shards": len(self.indices), "relocating_shards": 0, "initializing_shards": 0,
                "unassigned_shards": len(self.indices), "active_shards_percent_as_number":
                    50.0 if self.indices else 100.0}

    def _cat(self, verbose: bool) -> str:
        rows = [("health", "status", "index", "uuid", "pri", "rep", "docs.count", "docs.deleted", "store.size",
                 "pri.store.size", "dataset.size")] if verbose else []
        for name in sorted(self.indices):
            index = self.indices[name]
            size = sum(len(str(self.ctx.fs.get(f"{index.directory(self.data)}/{s.name}", "")))
                       for s in index.segments)
            text = f"{size / 1024:.1f}kb"
            rows.append(("yellow", "open", name, index.uuid, "1", "1", str(len(index)), str(len(index.deleted)),
                         text, text, text))
        if not rows:
            return ""
        widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
        return "".join(" ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() + "\n"
                       for row in rows)

    # -- writes --------------------------------------------------------------------------------
    def _bulk(self, body: str, default_index: str | None) -> dict:
        lines = [line for line in body.split("\n") if line.strip()]
        items, errors, touched = [], False, set()
        position = 0
        while position < len(lines):
            action_line = json.loads(lines[position])
            position += 1
            (action, meta), = action_line.items()
            name = meta.get("_index", default_index)
            if action not in ("create", "index", "delete"):
                return _error(400, "illegal_argument_exception", f"Malformed action/metadata line [{position}], "
                              f"expected one of [create, delete, index, update] but found [{action}]")
            source = None
            if action != "delete":
                source = json.loads(lines[position])
                position += 1
            item = self._bulk_item(action, name, meta.get("_id"), source)
            errors = errors or "error" in item
            if "error" not in item:
                touched.add(name)
            items.append({action: item})
        for name in sorted(touched):
            self.indices[name].write_segment(self.ctx.fs, self.data)
        return _ok({"errors": errors, "took": 1, "items": items})

    def _bulk_item(self, action: str, name: str | None, doc_id: str | None, source: dict | None) -> dict:
        if name is None:
            return {"status": 400, "error": {"type": "action_request_validation_exception",
                                             "reason": "Validation Failed: 1: index is missing;"}}
        try:
            index = self._index(name)
        except QueryError as error:
            return {"_index": name, "status": 400, "error": {"type": error.kind, "reason": str(error)}}
        if action == "delete":
            found = doc_id is not None and index.delete(doc_id)
            return {"_index": name, "_id": doc_id, "result": "deleted" if found else "not_found",
                    "status": 200 if found else 404}
        if action == "create" and doc_id is not None and index.get(doc_id) is not None:
            return {"_index": name, "_id": doc_id, "status": 409, "error": {
                "type": "version_conflict_engine_exception",
                "reason": f"[{doc_id}]: version conflict, document already exists (current version [1])",
                "index_uuid": index.uuid, "shard": "0", "index": name}}
        try:
            index.check(source or {})
        except MappingError as error:
            return {"_index": name, "_id": doc_id, "status": 400, "error": {
                "type": "document_parsing_exception", "reason": f"[1:1] {error}"}}
        replaced = doc_id is not None and index.get(doc_id) is not None
        doc = index.add(doc_id or self._random_id(), source or {})
        return {"_index": name, "_id": doc.id, "_version": 1, "result": "updated" if replaced else "created",
                "_shards": {"total": 2, "successful": 1, "failed": 0}, "_seq_no": doc.seq_no, "_primary_term": 1,
                "status": 200 if replaced else 201}

    def _doc(self, method: str, name: str, doc_id: str | None, body: str) -> dict:
        if method == "GET" and doc_id is not None:
            index = self.indices.get(name)
            doc = index.get(doc_id) if index is not None else None
            if doc is None:
                return {"status": 404, "headers": dict(JSON),
                        "body": json.dumps({"_index": name, "_id": doc_id, "found": False})}
            return _ok({"_index": name, "_id": doc.id, "_version": 1, "_seq_no": doc.seq_no, "_primary_term": 1,
                        "found": True, "_source": doc.source})
        if method in ("POST", "PUT"):
            item = self._bulk_item("index", name, doc_id, json.loads(body or "{}"))
            if "error" in item:
                return _error(item["status"], item["error"]["type"], item["error"]["reason"])
            self.indices[name].write_segment(self.ctx.fs, self.data)
            return _ok({k: v for k, v in item.items() if k != "status"}, item["status"])
        return _error(405, "illegal_argument_exception", f"Incorrect HTTP method for uri [/{name}/_doc] and method "
                      f"[{method}], allowed: [POST]")

