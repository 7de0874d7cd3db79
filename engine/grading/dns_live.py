"""Lab 11's live checks: real lookups from pods through the learner's search-list walk and CoreDNS records.

- ``check_search_in_pods(search_names, seed)``: a flannel cluster whose pods' resolver walks the search list
  with ``search_names``; lookups (``lookup_from``, the ``host`` command's path) from pods in two
  namespaces, one with ``dnsConfig`` ``ndots:2``, must ask exactly the questions glibc's walk asks, in order,
  and find the same addresses; ``curl http://web/`` and busybox's ``nslookup web`` in the pod (through
  ``kubectl exec``'s path) must reach the Service by its short name.
- ``check_records_in_cluster(kubernetes_records, seed)``: a cluster whose CoreDNS pods answer the lab's names
  with ``kubernetes_records``; lookups from a pod (a ClusterIP Service, a headless Service of a StatefulSet,
  SRV records of their named ports, a pod's own name, a name that does not exist) and requests by name must
  come back as the objects say, and every answer must agree with the plugin's.

Each raises a ``GradingFailure`` naming the first difference. Nothing here prints or writes to stderr.
"""

from __future__ import annotations

import random
from typing import Any, Callable

from engine.dns.resolver import Resolver as GlibcResolver
from engine.grading.delegation import OwnWork
from engine.grading.dns import (SEE_RECORDS, SEE_SEARCH, dns_cluster, reference_records, reference_search_names)
from engine.grading.feedback import fail
from engine.grading.kubelet import Plugged
from engine.dns.plugins.kubernetes import Kubernetes
from engine.dns.resolver import Resolver


def _objects(namespace: str = "default", *, web_namespace: str = "default") -> str:
    return f"""
apiVersion: v1
kind: Service
metadata: {{name: web, namespace: {web_namespace}}}
spec:
  selector: {{app: web}}
  ports: [{{name: http, port: 80}}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {{name: web, namespace: {web_namespace}}}
spec:
  replicas: 1
  selector: {{matchLabels: {{app: web}}}}
  template:
    metadata: {{labels: {{app: web}}}}
    spec:
      containers: [{{name: web, image: nginx, ports: [{{containerPort: 80, name: http}}]}}]
"""


def _client(name: str, namespace: str, ndots: str | None = None) -> dict:
    spec: dict[str, Any] = {"nodeName": "node-1", "containers": [{"name": "main", "image": "busybox",
                                                                  "command": ["sleep", "3600"]}]}
    if ndots is not None:
        spec["dnsConfig"] = {"options": [{"name": "ndots", "value": ndots}]}
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": namespace}, "spec": spec}


def _walk(cluster: Any, source: str, name: str, qtype: str = "A", stub: Any = None) -> Any:
    from engine.network.door import source_of
    from engine.network.curl import Resolver as Lookups
    from engine.network.packet import Trace
    origin, files = source_of(cluster, source)
    return Lookups(cluster.fabric, origin, files, cluster.loop.random).record(name, qtype, Trace(), stub)


def check_search_in_pods(search_names: Callable, seed: int) -> None:
    OwnWork("search_names", [Resolver, reference_search_names], see=SEE_SEARCH).check(search_names)
    plugged = Plugged()
    cluster = dns_cluster(search_names=search_names, seed=seed, plugged=plugged)
    cluster.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "prod"}})
    cluster.run(2)
    cluster.apply(_objects(web_namespace="prod"))
    cluster.apply(_client("client", "prod"))
    cluster.apply(_client("tuned", "default", ndots="2"))
    cluster.run(15)
    rng = random.Random(seed)
    names = ["web", "web.prod", "kubernetes.default", "web.prod.svc.cluster.local", "web.prod.svc.cluster.local.",
             "example.com", *rng.sample(["web.prod.svc", "kubernetes", "nothere", "example.com.", "a.b.c"], 3)]
    for source in ("prod/client", "tuned"):
        for name in names:
            got = _walk(cluster, source, name)
            want = _walk(cluster, source, name, stub=GlibcResolver)
            asked, expected = [q.query.name for q in got.queries], [q.query.name for q in want.queries]
            if asked != expected or got.addresses != want.addresses:
                fail(f"a lookup of {name!r} from pod {source} (its resolv.conf: search "
                     f"{' '.join(GlibcResolver.from_fs(_files(cluster, source), lambda *a: None).conf.search)}, "
                     f"ndots:{GlibcResolver.from_fs(_files(cluster, source), lambda *a: None).conf.ndots}) asked "
                     f"{asked} and found {got.addresses}; glibc asks {expected} and finds {want.addresses}",
                     see=SEE_SEARCH)
    reached = cluster.curl("prod/client", "http://web/")
    if reached.status != 200:
        fail(f"curl http://web/ from a pod in prod: {reached.error or reached.status}", see=SEE_SEARCH)
    web_ip = cluster.get("service", "web", namespace="prod")["spec"]["clusterIP"]
    printed = cluster.admin.exec("prod", "client", ["nslookup", "web"]).stdout      # kubectl exec's path
    if f"Address: {web_ip}" not in printed:
        fail(f"nslookup web in a pod in prod printed:\n{printed}\nnot the Service's address {web_ip}", see=SEE_SEARCH)
    if plugged.errors:
        fail("the pods' resolver called your search_names and it raised:\n" + "\n".join(plugged.errors),
             see=SEE_SEARCH)


def _files(cluster: Any, source: str) -> dict:
    from engine.network.door import source_of
    return source_of(cluster, source)[1]


DB = """
apiVersion: v1
kind: Service
metadata: {name: db}
spec:
  clusterIP: None
  selector: {app: db}
  ports: [{name: http, port: 80}]
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db}
spec:
  serviceName: db
  replicas: 2
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec:
      containers: [{name: db, image: nginx, ports: [{containerPort: 80, name: http}]}]
"""


def check_records_in_cluster(kubernetes_records: Callable, seed: int) -> None:
    OwnWork("kubernetes_records", [Kubernetes, reference_records], see=SEE_RECORDS).check(kubernetes_records)
    plugged = Plugged()
    cluster = dns_cluster(kubernetes_records=kubernetes_records, seed=seed, plugged=plugged)
    cluster.apply(_objects())
    cluster.apply(DB)
    cluster.apply(_client("client", "default"))
    cluster.run(25)
    web_ip = cluster.get("service", "web")["spec"]["clusterIP"]
    db_ips = sorted(p["status"]["podIP"] for p in cluster.list("pods", selector="app=db"))
    client_ip = cluster.get("pod", "client")["status"]["podIP"]
    pod_name = client_ip.replace(".", "-") + ".default.pod"
    expected: list[tuple[str, str, Any]] = [
        ("web", "A", [web_ip]), ("db", "A", db_ips), (pod_name, "A", [client_ip]), ("nothere", "A", []),
        ("_http._tcp.web", "SRV", ["0 100 80 web.default.svc.cluster.local."]),
        ("_http._tcp.db", "SRV", ["0 50 80 db-0.db.default.svc.cluster.local.",
                                  "0 50 80 db-1.db.default.svc.cluster.local."]),
        ("_http._udp.db", "SRV", [])]
    random.Random(seed).shuffle(expected)
    for name, qtype, want in expected:
        found = _walk(cluster, "client", name, qtype)
        answers = sorted(r.data for r in found.response.answers) if found.response is not None and found.ok else []
        if answers != sorted(want):
            lines = [f"{qtype} lookup of {name!r} from a pod: got {answers or 'NXDOMAIN'}, expected {want or 'NXDOMAIN'}"]
            lines += [f"   {line}" for line in plugged.disagreements]
            fail("\n".join(lines), see=SEE_RECORDS)
    for url in ("http://web/", "http://db/"):
        result = cluster.curl("client", url)
        if result.status != 200:
            fail(f"curl {url} from a pod: {result.error or result.status}", see=SEE_RECORDS)
    if plugged.errors:
        fail("CoreDNS called your kubernetes_records and it raised:\n" + "\n".join(plugged.errors), see=SEE_RECORDS)
    if plugged.disagreements:
        fail("the lookups came back right, but some of your answers differ from CoreDNS's:\n"
             + "\n".join(plugged.disagreements), see=SEE_RECORDS)


__all__ = ["check_records_in_cluster", "check_search_in_pods"]
