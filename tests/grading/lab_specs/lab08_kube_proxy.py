"""lab08_kube_proxy: the cells of its source notebook, and what its grading round trip expects."""

from __future__ import annotations

from lab_specs.cells import Cell, code, md, solution, tests


def cells() -> list[Cell]:
    see_chains = 'course/08_kube_proxy.ipynb, section "2. The chains of a Service"'
    see_ready = 'course/08_kube_proxy.ipynb, section "4. The rules follow the endpoints"'
    see_spread = 'course/08_kube_proxy.ipynb, sections "Why 1/3, then 1/2, then 1" and "3. Curl again and again"'
    return [
        md("intro", """
# Lab 8: kube-proxy, writing a Service's rules

A Service's cluster IP is on no interface and no process listens on it: **kube-proxy** makes it work by
writing the node's **iptables** rules from the Service and its **EndpointSlices**. When a new
connection to `clusterIP:port` passes through the node, the `nat` table sends it through
`KUBE-SERVICES` → `KUBE-SVC-…` (one random pick among the endpoints) → `KUBE-SEP-…` (that endpoint's
`DNAT`). In this lab you write those rules yourself:

1. `cluster_endpoints(endpoint_slices, port_name)`: which endpoints a Service port's traffic may go to;
2. `service_rules(service, endpoint_slices)`: the `nat` rules of the Service's cluster IP;
3. `node_port_rules(service, endpoint_slices)`: the rules of its NodePort;
4. then a cluster whose **kube-proxy runs your functions** on every node, and real requests through them.

Your rules are lines of `iptables-restore` input, as kube-proxy writes them: kube-proxy puts them in its
own restore input (with its fixed chains, `KUBE-MARK-MASQ`, `KUBE-POSTROUTING`, the `filter` table and
the other Services) and loads it with `iptables-restore --noflush`. The lecture is
`course/08_kube_proxy.ipynb`; the engine's kube-proxy is `engine/proxy/iptables/rules.py`. Graded cells:
10 points. The hidden tests never read your rules: they send thousands of connections through them, on a
node and in a running cluster, and check where every one lands.
"""),
        code("setup", f"""
from collections import Counter

import engine
from engine.grading import check, fail
from engine.grading.kube_proxy import endpoint_chain, kube_proxy_cluster, send, service_chain
from engine.proxy import dump

# Where the checks below send you when something is not right yet.
CHAINS_SECTION = {see_chains!r}
READY_SECTION = {see_ready!r}
SPREAD_SECTION = {see_spread!r}

SERVICE = {{
    "apiVersion": "v1", "kind": "Service", "metadata": {{"name": "web", "namespace": "default"}},
    "spec": {{"type": "NodePort", "clusterIP": "10.96.0.20",
             "ports": [{{"name": "http", "port": 80, "protocol": "TCP", "targetPort": "http", "nodePort": 30080}}]}},
}}


def endpoint(ip, node, ready=True, serving=None, terminating=False):
    \"\"\"One entry of an EndpointSlice's endpoints, as the EndpointSlice controller writes it.\"\"\"
    serving = ready if serving is None else serving
    return {{"addresses": [ip], "nodeName": node,
            "conditions": {{"ready": ready, "serving": serving, "terminating": terminating}}}}


def endpoint_slice(name, endpoints, port=8080, port_name="http"):
    \"\"\"An EndpointSlice of the Service web (label kubernetes.io/service-name).\"\"\"
    return {{"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice", "addressType": "IPv4",
            "metadata": {{"name": name, "namespace": "default", "labels": {{"kubernetes.io/service-name": "web"}}}},
            "endpoints": endpoints, "ports": [{{"name": port_name, "port": port, "protocol": "TCP"}}]}}


SLICES = [endpoint_slice("web-x7k2p", [
    endpoint("10.244.1.5", "node-1"),
    endpoint("10.244.2.6", "node-2"),
    endpoint("10.244.2.7", "node-2", ready=False),      # its readiness probe fails
    endpoint("10.244.1.9", "node-1"),
])]

print(service_chain("default/web:http", "tcp"))
print(endpoint_chain("default/web:http", "tcp", "10.244.1.5:8080"))
"""),
        md("endpoints_intro", """
## Part 1: which endpoints get traffic (2 points)

A Service's EndpointSlices (label `kubernetes.io/service-name: <service>`) list its endpoints: each
has `addresses` (use the first) and `conditions`; each slice has `ports`, by **name**. kube-proxy takes,
for one Service port (its `name`, `""` when unnamed), the endpoints of every slice that has a port of
that name, at **that slice's port number** (the Service's `targetPort` resolved for those pods: two pods
can give a named port different numbers, and then they are in different slices). Then:

- an endpoint is **ready** when `conditions.ready` is true **or missing** (missing means unknown, which
  counts as ready); `conditions.serving` missing means the same as `ready`; `terminating` missing is false;
- only **ready** endpoints get traffic;
- when **no** endpoint is ready, kube-proxy falls back to the endpoints that are **serving and
  terminating** (pods shutting down that still answer), so that a rolling update never drops traffic;
- slices with `addressType` other than `IPv4` are skipped, and an endpoint listed twice counts once.

Write `cluster_endpoints(endpoint_slices, port_name)` returning the endpoints as `"ip:port"` strings
(in any order; kube-proxy sorts them).
"""),
        solution("cluster_endpoints", """
def cluster_endpoints(endpoint_slices, port_name):
    \"\"\"The endpoints ("ip:port") a Service port's traffic goes to: ready ones, else serving-terminating ones.\"\"\"
    ### BEGIN SOLUTION
    ready, serving_terminating = [], []
    for slice_ in endpoint_slices:
        if slice_.get("addressType", "IPv4") != "IPv4":
            continue
        port = next((p["port"] for p in slice_.get("ports") or [] if (p.get("name") or "") == port_name), None)
        if port is None:
            continue
        for item in slice_.get("endpoints") or []:
            conditions = item.get("conditions") or {}
            is_ready = conditions.get("ready") is not False
            serving = is_ready if conditions.get("serving") is None else conditions["serving"]
            address = f"{item['addresses'][0]}:{port}"
            if is_ready and address not in ready:
                ready.append(address)
            elif not is_ready and serving and conditions.get("terminating") and address not in serving_terminating:
                serving_terminating.append(address)
    return sorted(ready or serving_terminating)
    ### END SOLUTION
"""),
        tests("test_cluster_endpoints", 2, """
got = sorted(cluster_endpoints(SLICES, "http"))
check(got == ["10.244.1.5:8080", "10.244.1.9:8080", "10.244.2.6:8080"],
      "only ready endpoints get traffic, each at its slice's port (8080, the targetPort), not the Service's 80",
      expected=["10.244.1.5:8080", "10.244.1.9:8080", "10.244.2.6:8080"], got=got, see=READY_SECTION)
draining = [endpoint_slice("web-x7k2p", [endpoint("10.244.1.5", "node-1", ready=False, serving=True, terminating=True),
                                         endpoint("10.244.2.6", "node-2", ready=False)])]
got = sorted(cluster_endpoints(draining, "http"))
check(got == ["10.244.1.5:8080"], "with no ready endpoint, the serving and terminating ones get the traffic",
      expected=["10.244.1.5:8080"], got=got, see=READY_SECTION)
check(list(cluster_endpoints(SLICES, "metrics")) == [], "a port name no slice has has no endpoints",
      expected=[], got=cluster_endpoints(SLICES, "metrics"), see=READY_SECTION)
### BEGIN HIDDEN TESTS
from engine.grading.integrity import ensure_installed
ensure_installed()     # the engine as installed, whatever the notebook patched
from engine.grading.kube_proxy_checks import check_cluster_endpoints
check_cluster_endpoints(cluster_endpoints, seed=81)
### END HIDDEN TESTS
"""),
        md("rules_intro", """
## Part 2: the cluster IP's rules (3 points)

For every port of the Service that has endpoints, kube-proxy writes these `nat` lines (the chapter
printed them with `dump`). With `name` the port's name as kube-proxy spells it (`"default/web:http"`;
`"default/web"` for an unnamed port), `proto` the protocol in lower case and the chain names from the
helpers of the setup cell (`svc = service_chain(name, proto)`, `sep = endpoint_chain(name, proto,
"ip:port")` for each endpoint):

```
:KUBE-SVC-…  - [0:0]                          a chain line for each chain you create (KUBE-SVC-…, every KUBE-SEP-…)
-A KUBE-SERVICES -m comment --comment "default/web:http cluster IP" -m tcp -p tcp -d 10.96.0.20 --dport 80 -j KUBE-SVC-…
-A KUBE-SVC-… -m comment --comment "default/web:http -> 10.244.1.5:8080" -m statistic --mode random --probability 0.3333333333 -j KUBE-SEP-…
-A KUBE-SVC-… -m comment --comment "default/web:http -> 10.244.1.9:8080" -m statistic --mode random --probability 0.5000000000 -j KUBE-SEP-…
-A KUBE-SVC-… -m comment --comment "default/web:http -> 10.244.2.6:8080" -j KUBE-SEP-…
-A KUBE-SEP-… -m comment --comment default/web:http -s 10.244.1.5 -j KUBE-MARK-MASQ
-A KUBE-SEP-… -m comment --comment default/web:http -m tcp -p tcp -j DNAT --to-destination 10.244.1.5:8080
```

- The **probabilities**: rules are tried in order and the first match wins, so for `n` endpoints the
  first rule matches with `1/n`, the second with `1/(n-1)` of what is left, ..., and the last rule has
  no `statistic` match at all: it takes the rest. Every endpoint gets `1/n` (kube-proxy prints the
  number with `%0.10f`).
- The **DNAT** goes to the endpoint's `ip:port` (its slice's port), never to the Service's port.
- The **`-s <endpoint IP> -j KUBE-MARK-MASQ`** rule is for *hairpin* traffic: a pod reaching itself
  through its own Service. Marked packets are masqueraded on the way out (`KUBE-POSTROUTING`), so the pod
  sees the request come from the node and answers through it; without that, the pod answers itself
  directly, the node never undoes the DNAT, and the client waits for an answer from the VIP that never
  comes. Traffic from other pods is **not** marked: the pods behind a Service see their clients' addresses.
- A port with **no** endpoints gets no `nat` lines (kube-proxy rejects its traffic in the `filter` table,
  which it writes for you).

Write `service_rules(service, endpoint_slices)` returning a list of such lines (strings) for all the
Service's ports, using your `cluster_endpoints`. (kube-proxy also writes a `! -s 10.244.0.0/16 ...
-j KUBE-MARK-MASQ` rule in `KUBE-SVC` for clients outside the pod network; this lab leaves it out.)
`send(service_rules, SERVICE, SLICES, count)` loads your rules on a node's netfilter (the engine's, with
kube-proxy's other rules) and opens `count` new connections to the cluster IP: it tells you where they went.
"""),
        solution("service_rules", """
def service_rules(service, endpoint_slices):
    \"\"\"kube-proxy's nat lines for the cluster IP of every port of `service` that has endpoints.\"\"\"
    ### BEGIN SOLUTION
    meta, spec = service["metadata"], service["spec"]
    lines = []
    for port in spec["ports"]:
        port_name = port.get("name") or ""
        name = f"{meta['namespace']}/{meta['name']}" + (f":{port_name}" if port_name else "")
        proto = (port.get("protocol") or "TCP").lower()
        endpoints = sorted(cluster_endpoints(endpoint_slices, port_name))
        if not endpoints:
            continue
        svc = service_chain(name, proto)
        lines.append(f":{svc} - [0:0]")
        lines.append(f'-A KUBE-SERVICES -m comment --comment "{name} cluster IP" -m {proto} -p {proto} '
                     f'-d {spec["clusterIP"]} --dport {port["port"]} -j {svc}')
        n = len(endpoints)
        for i, address in enumerate(endpoints):
            sep = endpoint_chain(name, proto, address)
            chance = f" -m statistic --mode random --probability {1 / (n - i):0.10f}" if i < n - 1 else ""
            lines.append(f":{sep} - [0:0]")
            lines.append(f'-A {svc} -m comment --comment "{name} -> {address}"{chance} -j {sep}')
            lines.append(f"-A {sep} -m comment --comment {name} -s {address.split(':')[0]} -j KUBE-MARK-MASQ")
            lines.append(f"-A {sep} -m comment --comment {name} -m {proto} -p {proto} -j DNAT --to-destination {address}")
    return lines
    ### END SOLUTION
"""),
        code("rules_demo", """
for line in service_rules(SERVICE, SLICES):
    print(line)
print()
print(send(service_rules, SERVICE, SLICES, 3000))
"""),
        tests("test_service_rules", 3, """
spread = send(service_rules, SERVICE, SLICES, 3000)
ready = ["10.244.1.5:8080", "10.244.1.9:8080", "10.244.2.6:8080"]
check(set(spread) == set(ready), "every new connection to 10.96.0.20:80 is DNATed to a ready endpoint, at the "
      "endpoint's own port (8080 from its EndpointSlice: the targetPort), not to the Service's port 80",
      expected=ready, got=dict(spread), see=CHAINS_SECTION)
check(all(850 <= spread[e] <= 1150 for e in ready),
      "3000 connections over 3 endpoints: about 1000 each (probabilities 1/3, then 1/2, then the rest)",
      expected="about 1000 each", got=dict(spread), see=SPREAD_SECTION)
### BEGIN HIDDEN TESTS
from engine.grading.integrity import ensure_installed
ensure_installed()     # the engine as installed, whatever the notebook patched
from engine.grading.kube_proxy_checks import check_service_rules
check_service_rules(service_rules, seed=82)
### END HIDDEN TESTS
"""),
        md("node_port_intro", """
## Part 3: the NodePort (2 points)

A Service of `type: NodePort` also answers on every node's address at its `nodePort` (30000-32767).
kube-proxy's last rule in `KUBE-SERVICES` sends packets for the node's own addresses to `KUBE-NODEPORTS`
(it writes that one); for each port with a `nodePort` and endpoints, you write:

```
:KUBE-EXT-…  - [0:0]                          service_chain(name, proto, "KUBE-EXT-")
-A KUBE-NODEPORTS -m comment --comment default/web:http -m tcp -p tcp --dport 30080 -j KUBE-EXT-…
-A KUBE-EXT-… -m comment --comment "masquerade traffic for default/web:http external destinations" -j KUBE-MARK-MASQ
-A KUBE-EXT-… -j KUBE-SVC-…
```

The jump to the Service's `KUBE-SVC-…` chain (which `service_rules` writes) reuses its random pick. Every
NodePort connection is **masqueraded**: the endpoint it lands on may be on another node, and its answer
must come back through the node the client talked to, which undoes the DNAT.

Write `node_port_rules(service, endpoint_slices)` returning those lines (nothing for ports without a
`nodePort` or without endpoints). Your kube-proxy will run `service_rules` and `node_port_rules` together.
"""),
        solution("node_port_rules", """
def node_port_rules(service, endpoint_slices):
    \"\"\"kube-proxy's nat lines for the NodePorts of `service` (KUBE-NODEPORTS -> KUBE-EXT- -> KUBE-SVC-).\"\"\"
    ### BEGIN SOLUTION
    meta = service["metadata"]
    lines = []
    for port in service["spec"]["ports"]:
        port_name = port.get("name") or ""
        if not port.get("nodePort") or not cluster_endpoints(endpoint_slices, port_name):
            continue
        name = f"{meta['namespace']}/{meta['name']}" + (f":{port_name}" if port_name else "")
        proto = (port.get("protocol") or "TCP").lower()
        ext = service_chain(name, proto, "KUBE-EXT-")
        lines.append(f":{ext} - [0:0]")
        lines.append(f"-A KUBE-NODEPORTS -m comment --comment {name} -m {proto} -p {proto} --dport {port['nodePort']} -j {ext}")
        lines.append(f'-A {ext} -m comment --comment "masquerade traffic for {name} external destinations" -j KUBE-MARK-MASQ')
        lines.append(f"-A {ext} -j {service_chain(name, proto)}")
    return lines
    ### END SOLUTION
"""),
        tests("test_node_port", 2, """
via_node_port = send(service_rules, SERVICE, SLICES, 300, node_port_rules=node_port_rules, node_port=30080)
via_cluster_ip = send(service_rules, SERVICE, SLICES, 300)
check(set(via_node_port) == set(via_cluster_ip) - {"not DNATed"},
      "connections from another node to this node's port 30080 go where the cluster IP's go (its KUBE-SVC chain)",
      expected=sorted(via_cluster_ip), got=dict(via_node_port), see=CHAINS_SECTION)
### BEGIN HIDDEN TESTS
from engine.grading.integrity import ensure_installed
ensure_installed()     # the engine as installed, whatever the notebook patched
from engine.grading.kube_proxy_checks import check_node_port_rules
check_node_port_rules(service_rules, node_port_rules, seed=83)
### END HIDDEN TESTS
"""),
        md("live_intro", """
## Part 4: your kube-proxy in a cluster (3 points)

`kube_proxy_cluster(service_rules, node_port_rules)` boots a cluster the kubeadm way (flannel, CoreDNS,
kube-proxy as a DaemonSet), builds a kube-proxy image whose rule writer calls your two functions for every
Service outside `kube-system` (the engine's own rules keep DNS and the API server's Service working), and
rolls it out: `kubectl -n kube-system set image daemonset/kube-proxy kube-proxy=course/kube-proxy:lab08`.
From then on each node's kube-proxy calls your functions at every sync, with the objects from its
informers. Below: the chapter's `web` Deployment, a client pod, and 300 requests. The hidden test does
more: a pod that is never ready, a pod calling its own Service, a NodePort from another node, and a
scale-down, and it checks that every request lands on a ready pod, evenly.
"""),
        code("live_demo", """
print(len(service_rules(SERVICE, SLICES) + node_port_rules(SERVICE, SLICES)), "lines for default/web")
cluster = kube_proxy_cluster(service_rules, node_port_rules)
cluster.apply('''
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
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{name: http, port: 80, targetPort: http}]
---
apiVersion: v1
kind: Pod
metadata: {name: client}
spec:
  nodeName: node-1
  containers: [{name: main, image: busybox, command: [sleep, "3600"]}]
''')
cluster.run(15)
vip = cluster.get("service", "web")["spec"]["clusterIP"]
answers = Counter(cluster.curl("client", f"http://{vip}/hostname", connect_timeout=2).body.strip() or "(failed)"
                  for _ in range(300))
print(cluster.kubectl("get pods -o wide"))
print(answers)
print("\\n".join(line for line in dump(cluster, "node-1", table="nat").splitlines() if "default/web" in line))
"""),
        tests("test_in_cluster", 3, """
pods = sorted(p["metadata"]["name"] for p in cluster.list("pods", selector="app=web"))
check(set(answers) == set(pods), "every request to the Service is answered by one of its pods",
      expected=pods, got=dict(answers), see=CHAINS_SECTION)
check(all(70 <= answers[p] <= 130 for p in pods), "300 requests over 3 pods: about 100 each",
      expected="about 100 each", got=dict(answers), see=SPREAD_SECTION)
### BEGIN HIDDEN TESTS
from engine.grading.integrity import ensure_installed, fresh_cluster
ensure_installed()     # the engine as installed, whatever the notebook patched
from engine.grading.kube_proxy_live import check_in_cluster
check_in_cluster(service_rules, node_port_rules, seed=84, cluster_factory=fresh_cluster)
### END HIDDEN TESTS
"""),
        md("outro", """
## What you built

`cluster_endpoints` is kube-proxy's `CategorizeEndpoints` (`pkg/proxy/topology.go`) over the endpoints
`EndpointSliceCache` merged from the slices; `service_rules` and `node_port_rules` are the parts of
`syncProxyRules` (`pkg/proxy/iptables/proxier.go`) that write a Service's `KUBE-SVC`, `KUBE-SEP` and
`KUBE-EXT` chains. The real kube-proxy also handles `sessionAffinity: ClientIP` (`-m recent`),
`externalTrafficPolicy: Local` (`KUBE-SVL` chains and no masquerade), `internalTrafficPolicy`, load
balancer IPs with source ranges (`KUBE-FW`), topology hints, and only rewrites the chains of the Services
that changed. Compare yours with `engine/proxy/iptables/rules.py`.
"""),
    ]


FULL = {"test_cluster_endpoints": 2, "test_service_rules": 3, "test_node_port": 2, "test_in_cluster": 3}
"""Points per graded cell: what the solution scores."""

BROKEN = ("broken_import",)
"""Which kinds of broken submission the round trip hands in for this lab (tests/grading/test_round_trip.py)."""

SECRETS = ("check_cluster_endpoints", "check_service_rules", "check_node_port_rules", "check_in_cluster")
"""Names of hidden-test helpers that must never appear in a released lab or in feedback."""

_EDITS = {
    "wrong_probability_1_over_n": ("service_rules", "{1 / (n - i):0.10f}", "{1 / n:0.10f}",
                                   {"test_service_rules", "test_in_cluster"}, "then 1/2, then the rest"),
    "wrong_not_ready_endpoints": ("cluster_endpoints", "            if is_ready and address not in ready:\n",
                                  "            if address not in ready:\n",
                                  {"test_cluster_endpoints", "test_service_rules", "test_in_cluster"},
                                  "only ready endpoints get traffic"),
    "wrong_dnat_to_service_port": ("service_rules", "-j DNAT --to-destination {address}\")",
                                   "-j DNAT --to-destination {address.split(':')[0]}:{port['port']}\")",
                                   {"test_service_rules", "test_in_cluster"},
                                   "not to the Service's port 80"),
}


def wrong_answers() -> dict[str, tuple[str, str, set[str], str]]:
    """Typical mistakes, each a one-line change of the solution (so they follow its text): student -> (answer
    cell id, its wrong source, graded cells that fail, words in feedback)."""
    sources = {grade_id: text for kind, grade_id, text, _ in cells() if kind == "solution"}
    wrong = {}
    for student, (cell_id, old, new, failing, words) in _EDITS.items():
        source = sources[cell_id].strip("\n")
        assert old in source, f"{student}: the solution of {cell_id} changed; update lab08_kube_proxy._EDITS"
        wrong[student] = (cell_id, source.replace(old, new), failing, words)
    return wrong
