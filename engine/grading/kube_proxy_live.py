"""Lab 8's check in a running cluster: the learner's kube-proxy rules carry real requests, or the feedback says why.

``check_in_cluster(service_rules, node_port_rules, seed)`` boots a flannel cluster whose kube-proxy
DaemonSet runs the learner's rules (``engine.grading.kube_proxy.kube_proxy_cluster``), deploys three
ready agnhost pods, a never-ready nginx (its named port resolves to 80: another EndpointSlice) and a
client, then curls: from the client (every request answered by a ready pod, evenly: chi-squared at
p = 0.001), from one of the Service's own pods (hairpin), from node-2 to node-1's NodePort, and after
a scale-down (only the remaining pods answer). A failure says which curl, where the requests went and,
when it can tell, why: what kube-proxy reported of the learner's functions (an exception, a restore
error), an answer that missed the client's socket (a masquerade missing), a DNAT to a port where
nothing listens, or no DNAT at all. Nothing here prints or writes to stderr.
"""

from __future__ import annotations

from collections import Counter
from typing import Any, Callable

from engine.grading.feedback import fail
from engine.grading.kube_proxy import NODE_IP, Plugged, kube_proxy_cluster
from engine.grading.kube_proxy_checks import SEE, own_work, uneven

WORKLOAD = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 3
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: web
        image: registry.k8s.io/e2e-test-images/agnhost:2.39
        args: ["netexec", "--http-port=8080"]
        ports: [{containerPort: 8080, name: http}]
        readinessProbe: {httpGet: {path: /hostname, port: 8080}, periodSeconds: 1}
---
apiVersion: v1
kind: Pod
metadata: {name: lagging, labels: {app: web}}
spec:
  containers:
  - name: web
    image: nginx
    ports: [{containerPort: 80, name: http}]
    readinessProbe: {tcpSocket: {port: 81}, periodSeconds: 1}
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  type: NodePort
  selector: {app: web}
  ports: [{name: http, port: 80, targetPort: http, nodePort: 30080}]
---
apiVersion: v1
kind: Pod
metadata: {name: client}
spec:
  nodeName: node-1
  containers: [{name: main, image: busybox, command: [sleep, "3600"]}]
"""
"""Three ready agnhost pods, one never-ready nginx (its named port is 80: another EndpointSlice), a client."""


def _served_by(result: Any) -> str:
    return next((hop.where.split("/", 1)[1] for hop in result.hops if hop.what == "deliver"), "")


def _requests(cluster: Any, source: str, url: str, count: int) -> tuple[Counter, list[Any]]:
    served: Counter = Counter()
    failed = []
    for _ in range(count):
        result = cluster.curl(source, url, connect_timeout=2)
        if result.ok and _served_by(result):
            served[_served_by(result)] += 1
        else:
            served[result.error or f"HTTP {result.status}"] += 1
            failed.append(result)
    return served, failed


def _ready_pods(cluster: Any) -> list[str]:
    return sorted(p["metadata"]["name"] for p in cluster.list("pods", selector="app=web")
                  if not p["metadata"].get("deletionTimestamp")
                  and any(c.get("type") == "Ready" and c.get("status") == "True"
                          for c in (p.get("status") or {}).get("conditions") or []))


def _why(failed: list[Any], plugged: Plugged) -> str:
    if plugged.errors:
        return "\nkube-proxy, running your functions, reported:\n" + "\n".join(f"   {e}" for e in plugged.errors)
    hops = failed[0].hops if failed else []
    dnat = [hop.rule for hop in hops if hop.what == "DNAT"]
    refused = [hop.rule for hop in hops if hop.what == "refused"]
    if any(hop.what == "no socket" for hop in hops):
        return ("\nthe answers never reached the client's socket: they came back from the pod's own address, "
                "not from the address the client dialled (a KUBE-MARK-MASQ is missing)")
    if dnat and refused:
        return (f"\nthe first failed request was DNATed {dnat[-1]}, where {refused[-1]}: DNAT to the endpoint's "
                "port (its EndpointSlice's port), not the Service's")
    if not dnat:
        return ("\nthe first failed request was never DNATed: no rule of yours matched it, and nothing listens on "
                "a Service's address")
    return ""


def _verdict(label: str, served: Counter, failed: list[Any], ready: list[str], plugged: Plugged,
             even: bool = True) -> None:
    total = sum(served.values())
    shares = ", ".join(f"{who}: {n}" for who, n in served.most_common())
    if failed:
        fail(f"{label}: {len(failed)} of {total} requests failed ({shares}).{_why(failed, plugged)}", see=SEE)
    strays = sorted(set(served) - set(ready))
    if strays:
        fail(f"{label}: requests were answered by {', '.join(strays)}, which is not a ready endpoint ({shares}); "
             f"the ready pods are {', '.join(ready)}", see=SEE)
    if even and uneven(served, ready):
        fail(f"{label}: the spread over the {len(ready)} ready pods is uneven ({shares}); each should get about "
             f"1/{len(ready)} (the probabilities 1/n, 1/(n-1), ..., then the rest)", see=SEE)


def check_in_cluster(service_rules: Callable, node_port_rules: Callable, seed: int,
                     cluster_factory: Callable[..., Any] | None = None) -> None:
    for own, function in ((own_work("service_rules"), service_rules), (own_work("node_port_rules"), node_port_rules)):
        own.check(function)
    plugged = Plugged()
    cluster = kube_proxy_cluster(service_rules, node_port_rules, seed=seed, plugged=plugged,
                                 cluster_factory=cluster_factory)
    cluster.apply(WORKLOAD)
    cluster.run(15)
    ready = _ready_pods(cluster)
    vip = cluster.get("service", "web")["spec"]["clusterIP"]
    served, failed = _requests(cluster, "client", f"http://{vip}/hostname", 80 * len(ready))
    _verdict(f"curl http://{vip}/hostname from pod client, {80 * len(ready)} times", served, failed, ready, plugged)
    served, failed = _requests(cluster, ready[0], f"http://{vip}/hostname", 10 * len(ready))
    _verdict(f"curl http://{vip}/hostname from pod {ready[0]}, one of the Service's own pods", served, failed,
             ready, plugged, even=False)
    served, failed = _requests(cluster, "node-2", f"http://{NODE_IP}:30080/hostname", 30)
    _verdict(f"curl http://{NODE_IP}:30080/hostname (node-1's NodePort) from node-2", served, failed, ready, plugged,
             even=False)
    cluster.kubectl("scale deployment web --replicas=2")
    cluster.run(3)
    ready = _ready_pods(cluster)
    served, failed = _requests(cluster, "client", f"http://{vip}/hostname", 40)
    _verdict(f"after 'kubectl scale deployment web --replicas=2' and 3 s: curl http://{vip}/hostname from pod "
             "client, 40 times", served, failed, ready, plugged, even=False)


__all__ = ["WORKLOAD", "check_in_cluster"]
