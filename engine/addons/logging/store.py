"""``LogStore``: Elasticsearch's REST API from outside the pods, the way Kibana (or ``curl`` on a node) uses it.

``LogStore(cluster)`` sends HTTP requests from a node (the control plane by default) to the ``elasticsearch``
Service's ClusterIP on 9200, through the cluster's network (kube-proxy's DNAT to the pod): exactly the
packets ``curl -XPOST http://10.96.x.y:9200/logstash-*/_search -d '{...}'`` on that node would send.
``search``, ``count``, ``indices`` and ``request`` return Elasticsearch's answers decoded; an unreachable store
or an error status raises ``LogStoreError`` with Elasticsearch's (or curl's) message. What it never does:
touch the Elasticsearch process or its files.
"""

from __future__ import annotations

import json
from typing import Any

from engine.addons.logging.manifests import ES_NAME, NAMESPACE


class LogStoreError(Exception):
    """The store did not answer, or answered with an error (``status`` 0 when it could not be reached)."""

    def __init__(self, message: str, status: int = 0) -> None:
        super().__init__(message)
        self.status = status


def query_body(query: str | dict | None = None, *, filters: dict[str, Any] | None = None,
               since: str | None = None) -> dict:
    """A bool query: a query string (or DSL dict) that must match, ``term`` filters on keyword fields
    (``{"kubernetes.namespace_name.keyword": "default"}``; a list of values is a ``terms``), and an
    ``@timestamp`` range from ``since`` (``"now-15m"``)."""
    must: list[dict] = []
    if isinstance(query, dict):
        must.append(query)
    elif query and query.strip():
        must.append({"query_string": {"query": query}})
    filter_clauses: list[dict] = []
    for field, value in (filters or {}).items():
        if value in (None, "", []):
            continue
        filter_clauses.append({"terms": {field: list(value)}} if isinstance(value, (list, tuple))
                              else {"term": {field: value}})
    if since:
        filter_clauses.append({"range": {"@timestamp": {"gte": since}}})
    if not must and not filter_clauses:
        return {"match_all": {}}
    return {"bool": {"must": must or [{"match_all": {}}], "filter": filter_clauses}}


class LogStore:
    """Elasticsearch as reached from ``source`` (a node name) in ``cluster``."""

    def __init__(self, cluster: Any, *, source: str = "control-plane", namespace: str = NAMESPACE,
                 service: str = ES_NAME, port: int = 9200) -> None:
        self.cluster = cluster
        self.source = source
        self.namespace = namespace
        self.service = service
        self.port = port

    def url(self, path: str) -> str:
        address = self.cluster.get("services", self.service, self.namespace)["spec"]["clusterIP"]
        return f"http://{address}:{self.port}/{path.lstrip('/')}"

    def request(self, method: str, path: str, body: Any = None) -> Any:
        """One request; the decoded JSON answer (or the text, for ``_cat``)."""
        from engine.network.door import curl_from
        payload = body if body is None or isinstance(body, str) else json.dumps(body)
        headers = {"Content-Type": "application/json"} if payload is not None else None
        result = curl_from(self.cluster, self.source, self.url(path), method=method, headers=headers,
                           body=payload)
        if not result.ok:
            raise LogStoreError(result.error or "no answer from Elasticsearch")
        is_json = result.headers.get("Content-Type", "").startswith("application/json")
        answer = json.loads(result.body) if is_json and result.body else result.body
        if result.status is not None and result.status >= 400:
            reason = answer.get("error", {}).get("reason", result.body) if isinstance(answer, dict) else result.body
            raise LogStoreError(f"{result.status}: {reason}", result.status)
        return answer

    def search(self, query: str | dict | None = None, *, index: str = "logstash-*", size: int = 10,
               sort: Any = None, filters: dict[str, Any] | None = None, since: str | None = None,
               aggs: dict | None = None, body: dict | None = None) -> dict:
        """``POST /<index>/_search``: ``query`` is a query string (``'log:error AND stream:stderr'``) or a DSL
        dict; ``filters`` and ``since`` narrow it (``query_body``); ``sort`` defaults to newest first. With
        ``body`` the request body is sent as given instead."""
        if body is None:
            body = {"query": query_body(query, filters=filters, since=since), "size": size,
                    "sort": sort if sort is not None else [{"@timestamp": {"order": "desc"}}]}
            if aggs:
                body["aggs"] = aggs
        return self.request("POST", f"{index}/_search", body)

    def count(self, query: str | dict | None = None, *, index: str = "logstash-*",
              filters: dict[str, Any] | None = None) -> int:
        """``POST /<index>/_count``: how many documents match."""
        return int(self.request("POST", f"{index}/_count", {"query": query_body(query, filters=filters)})["count"])

    def indices(self) -> str:
        """``GET /_cat/indices?v``: a line per index."""
        return str(self.request("GET", "_cat/indices?v"))

    def refresh(self) -> None:
        """``POST /_refresh``: what was indexed becomes searchable now."""
        self.request("POST", "_refresh")
