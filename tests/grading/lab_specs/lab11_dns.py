"""lab11_dns: the cells of its source notebook, and what its grading round trip expects."""

from __future__ import annotations

from lab_specs.cells import Cell, code, md, solution, tests


def cells() -> list[Cell]:
    see_search = 'course/11_dns.ipynb, section "2. A pod\'s resolv.conf and ndots:5"'
    see_walk = 'course/11_dns.ipynb, section "3. A lookup, traced through the search list"'
    see_records = 'course/11_dns.ipynb, section "4. Headless Services and SRV records"'
    return [
        md("intro", """
# Lab 11: cluster DNS, from a short name to an address

A program in a pod asks for `web`; a moment later it talks to `10.96.12.34`. Two pieces make that
happen. In the pod, the C library's **stub resolver** reads `/etc/resolv.conf` and turns the short name
into the questions it sends (`web.default.svc.cluster.local.` first: the **search list** and **ndots:5**).
Behind the `kube-dns` Service, **CoreDNS**'s kubernetes plugin answers those questions from the Services
and EndpointSlices it watches.

In this lab you write:

1. `search_names(name, search, ndots)`: the names the resolver asks, in order;
2. `kubernetes_records(name, qtype, services, endpointslices, namespaces)`: what CoreDNS answers.

Then the engine runs **your** functions: every pod's resolver walks the search list with yours, and the
CoreDNS pods answer with yours, while pods look names up and curl Services by name. The lecture is
`course/11_dns.ipynb`; the engine's versions are in `engine/dns/resolver.py` and
`engine/dns/plugins/kubernetes.py`. Graded cells: 10 points.
"""),
        code("setup", f"""
import ipaddress

import engine
from engine.grading import check, fail
from engine.grading.dns import dns_cluster
from engine.network.door import lookup_from

# Where the checks below send you when something is not right yet.
SEARCH_SECTION = {see_search!r}
WALK_SECTION = {see_walk!r}
RECORDS_SECTION = {see_records!r}
POD_SEARCH = ["default.svc.cluster.local", "svc.cluster.local", "cluster.local"]


def service(name, namespace, cluster_ip, ports):
    \"\"\"A Service; ports as (name, port, protocol).\"\"\"
    return {{"apiVersion": "v1", "kind": "Service", "metadata": {{"name": name, "namespace": namespace}},
            "spec": {{"clusterIP": cluster_ip,
                     "ports": [{{"name": n, "port": p, "protocol": proto}} for n, p, proto in ports]}}}}


def endpoint_slice(service_name, namespace, endpoints, ports):
    \"\"\"An EndpointSlice of a Service; endpoints as (address, ready, hostname), ports as (name, port, protocol).\"\"\"
    return {{"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice", "addressType": "IPv4",
            "metadata": {{"name": service_name + "-abcde", "namespace": namespace,
                         "labels": {{"kubernetes.io/service-name": service_name}}}},
            "endpoints": [{{"addresses": [address], "conditions": {{"ready": ready}},
                           **({{"hostname": hostname}} if hostname else {{}})}} for address, ready, hostname in endpoints],
            "ports": [{{"name": n, "port": p, "protocol": proto}} for n, p, proto in ports]}}


print("kubernetes.default".count("."), "web.".endswith("."))
print("_http._tcp.web.prod.svc.cluster.local."[: -len(".cluster.local.")].split("."))
"""),
        md("search_intro", """
## Part 1: the search-list walk (3 points)

The kubelet writes each pod's `/etc/resolv.conf`:

    nameserver 10.96.0.10
    search default.svc.cluster.local svc.cluster.local cluster.local
    options ndots:5

For a name, glibc's resolver asks these questions, in order, until one is answered:

1. a name that **ends with a dot** is absolute: it is asked as it is, and only that;
2. a name with **at least `ndots` dots** is asked as it is **first**;
3. then the name with **each search domain** appended, in the order of the search list;
4. a name with **fewer than `ndots` dots** is asked as it is **last**.

`search_names(name, search, ndots)` returns the names asked, each absolute (ending with a dot):
`search_names("web", POD_SEARCH, 5)` is `["web.default.svc.cluster.local.", "web.svc.cluster.local.",
"web.cluster.local.", "web."]`. `search` lists the domains without their trailing dot.
"""),
        solution("search_names", """
def search_names(name, search, ndots):
    \"\"\"The names the stub resolver asks for `name`, in order, each ending with a dot.\"\"\"
    ### BEGIN SOLUTION
    if name.endswith("."):
        return [name]
    names = []
    if name.count(".") >= ndots:
        names.append(name + ".")
    for domain in search:
        names.append(f"{name}.{domain}.")
    if name.count(".") < ndots:
        names.append(name + ".")
    return names
    ### END SOLUTION
"""),
        tests("test_search_names", 3, """
web = search_names("web", POD_SEARCH, 5)
check(list(web) == ["web.default.svc.cluster.local.", "web.svc.cluster.local.", "web.cluster.local.", "web."],
      "'web' has 0 dots, fewer than ndots:5: every search domain first, the name as it is last", got=web,
      see=SEARCH_SECTION)
full = search_names("kubernetes.default.svc.cluster.local", POD_SEARCH, 5)
check(list(full)[0] == "kubernetes.default.svc.cluster.local.default.svc.cluster.local.",
      "even the full name has only 4 dots, fewer than ndots:5: the search list still comes first", got=full,
      see=SEARCH_SECTION)
absolute = search_names("kubernetes.default.svc.cluster.local.", POD_SEARCH, 5)
check(list(absolute) == ["kubernetes.default.svc.cluster.local."],
      "a trailing dot makes a name absolute: asked once, as it is", got=absolute, see=SEARCH_SECTION)
many = search_names("a.b.c.d.e.f", POD_SEARCH, 5)
check(list(many)[0] == "a.b.c.d.e.f.", "5 dots, at least ndots:5: asked as it is first", got=many, see=SEARCH_SECTION)
tuned = search_names("example.com", POD_SEARCH, 1)
check(list(tuned) == ["example.com.", "example.com.default.svc.cluster.local.", "example.com.svc.cluster.local.",
                      "example.com.cluster.local."], "with ndots:1, example.com is asked as it is first, then "
      "with the search domains (and not again at the end)", got=tuned, see=SEARCH_SECTION)
### BEGIN HIDDEN TESTS
from engine.grading.integrity import ensure_installed
ensure_installed()     # the engine as installed, whatever the notebook patched
from engine.grading.dns import check_search_names
check_search_names(search_names, seed=111)
### END HIDDEN TESTS
"""),
        md("search_live_intro", """
## Part 2: your walk in every pod (2 points)

`dns_cluster(search_names=search_names)` boots a flannel cluster (CoreDNS behind `kube-dns`, kube-proxy's
DNAT) and makes every lookup from a pod or a node walk the search list with **your** `search_names`:
`lookup_from(cluster, pod, name)` (the `host` command's path: it returns the resolver's record of every
question and the packets' hops), `cluster.curl(pod, "http://web/")`, busybox's `nslookup` and `wget`. The
hidden test looks names up from pods in two namespaces, one of them with `dnsConfig` `ndots:2`, and
compares every question asked with glibc's.
"""),
        tests("test_search_in_pods", 2, """
cluster = dns_cluster(search_names=search_names)
cluster.apply({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
               "spec": {"selector": {"app": "web"}, "ports": [{"name": "http", "port": 80}]}})
cluster.apply({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web", "labels": {"app": "web"}},
               "spec": {"containers": [{"name": "web", "image": "nginx"}]}})
cluster.apply({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "client"},
               "spec": {"nodeName": "node-1", "containers": [{"name": "main", "image": "busybox",
                                                               "command": ["sleep", "3600"]}]}})
cluster.run(15)
found, hops = lookup_from(cluster, "client", "web")
print(found.trace())
check([q.query.name for q in found.queries] == ["web.default.svc.cluster.local."],
      "from a pod in default, 'web' is found with the first search domain: one question",
      got=[q.query.name for q in found.queries], see=WALK_SECTION)
found, _ = lookup_from(cluster, "client", "kubernetes.default")
print(found.trace())
check([q.query.name for q in found.queries] == ["kubernetes.default.default.svc.cluster.local.",
                                                "kubernetes.default.svc.cluster.local."],
      "kubernetes.default (1 dot) walks the search list: the first question is wasted",
      got=[q.query.name for q in found.queries], see=WALK_SECTION)
reached = cluster.curl("client", "http://web/")
check(reached.status == 200, "curl http://web/ from the pod reaches the Service by its short name",
      got=reached.error or reached.status, see=WALK_SECTION)
check(not cluster.plugged.errors, "your search_names raised in the pods' resolver", got=cluster.plugged.errors,
      see=SEARCH_SECTION)
### BEGIN HIDDEN TESTS
from engine.grading.integrity import ensure_installed
ensure_installed()     # the engine as installed, whatever the notebook patched
from engine.grading.dns_live import check_search_in_pods
check_search_in_pods(search_names, seed=112)
### END HIDDEN TESTS
"""),
        md("records_intro", """
## Part 3: the records CoreDNS answers (3 points)

CoreDNS's kubernetes plugin answers for the zone `cluster.local.` from the Services, EndpointSlices and
Namespaces it watches. `kubernetes_records(name, qtype, services, endpointslices, namespaces)` gets an
absolute name, the question's type, the Service and EndpointSlice objects of the cluster and the names
of its namespaces, and returns the answer as a list of `(type, data)` records, or **`None` for
NXDOMAIN** (the name does not exist). Three shapes of names:

- `<service>.<namespace>.svc.cluster.local.`, type `A`:
  - a Service with a cluster IP: `[("A", <its clusterIP>)]`;
  - a **headless** Service (`clusterIP: "None"`): one `("A", address)` per **ready** endpoint of its
    EndpointSlices (the slices labelled `kubernetes.io/service-name: <service>` in its namespace; an
    endpoint whose `conditions.ready` is `False` is left out, a missing `ready` counts as ready); no ready
    endpoint: NXDOMAIN;
- `_<port name>._<protocol>.<service>.<namespace>.svc.cluster.local.`, type `SRV`: the labels carry a
  leading underscore (`_http._tcp`: the port named `http`, protocol `TCP`). One record per matching port
  and target, its data `"0 <weight> <port> <target>"`: priority 0, weight `100 // n` for `n` records, and
  - with a cluster IP: the Service's port, target `<service>.<namespace>.svc.cluster.local.`;
  - headless: each ready endpoint with the EndpointSlice's port, target
    `<hostname>.<service>.<namespace>.svc.cluster.local.`, the hostname being the endpoint's `hostname`
    (`db-0` for a StatefulSet's pod) or else its address with dashes (`10-244-1-5`);
  - no such port: NXDOMAIN;
- `<a-b-c-d>.<namespace>.pod.cluster.local.`, type `A` (kubeadm's Corefile says `pods insecure`): the
  address `a.b.c.d` itself, if it is a valid IPv4 address and the namespace exists; else NXDOMAIN.

A Service or namespace that does not exist: NXDOMAIN. The order of the records does not matter.
"""),
        solution("kubernetes_records", """
ZONE = "cluster.local."


def kubernetes_records(name, qtype, services, endpointslices, namespaces):
    \"\"\"CoreDNS's answer for `name`: a list of (type, data) records, or None for NXDOMAIN.\"\"\"
    ### BEGIN SOLUTION
    labels = name[: -len("." + ZONE)].split(".")
    namespace = labels[-2]
    if namespace not in namespaces:
        return None
    if labels[-1] == "pod":
        try:
            return [("A", str(ipaddress.IPv4Address(labels[0].replace("-", "."))))]
        except ValueError:
            return None
    service = next((s for s in services if s["metadata"]["name"] == labels[-3]
                    and s["metadata"]["namespace"] == namespace), None)
    if service is None:
        return None
    base = f"{labels[-3]}.{namespace}.svc.{ZONE}"
    port_name = protocol = None
    if qtype == "SRV":
        port_name, protocol = labels[0].removeprefix("_"), labels[1].removeprefix("_").upper()
    found = []                     # (address, port, target)
    if service["spec"].get("clusterIP") == "None":
        for slice_ in endpointslices:
            if slice_["metadata"].get("namespace") != namespace or \\
                    slice_["metadata"].get("labels", {}).get("kubernetes.io/service-name") != labels[-3]:
                continue
            for endpoint in slice_.get("endpoints") or []:
                if (endpoint.get("conditions") or {}).get("ready") is False:
                    continue
                for address in endpoint["addresses"]:
                    host = endpoint.get("hostname") or address.replace(".", "-")
                    for port in slice_.get("ports") or []:
                        if port_name is None or (port["name"] == port_name and port["protocol"] == protocol):
                            found.append((address, port["port"], f"{host}.{base}"))
    else:
        for port in service["spec"]["ports"]:
            if port_name is None or (port["name"] == port_name and port.get("protocol", "TCP") == protocol):
                found.append((service["spec"]["clusterIP"], port["port"], base))
    if not found:
        return None
    if qtype == "A":
        return [("A", address) for address in dict.fromkeys(address for address, _, _ in found)]
    srv = list(dict.fromkeys((port, target) for _, port, target in found))
    return [("SRV", f"0 {100 // len(srv)} {port} {target}") for port, target in srv]
    ### END SOLUTION
"""),
        tests("test_records", 3, """
SERVICES = [service("web", "prod", "10.96.0.20", [("http", 80, "TCP")]),
            service("db", "prod", "None", [("http", 80, "TCP")])]
SLICES = [endpoint_slice("db", "prod", [("10.244.1.5", True, "db-0"), ("10.244.2.6", True, "db-1"),
                                        ("10.244.2.7", False, "db-2")], [("http", 8080, "TCP")])]
NAMESPACES = ["default", "prod"]


def ask(name, qtype="A"):
    answer = kubernetes_records(name, qtype, SERVICES, SLICES, NAMESPACES)
    return None if answer is None else sorted(tuple(record) for record in answer)


check(ask("web.prod.svc.cluster.local.") == [("A", "10.96.0.20")], "a Service with a cluster IP answers with it",
      got=ask("web.prod.svc.cluster.local."), see=RECORDS_SECTION)
check(ask("db.prod.svc.cluster.local.") == [("A", "10.244.1.5"), ("A", "10.244.2.6")],
      "a headless Service (clusterIP None) answers with the addresses of its ready endpoints (db-2 is not ready)",
      got=ask("db.prod.svc.cluster.local."), see=RECORDS_SECTION)
check(ask("_http._tcp.web.prod.svc.cluster.local.", "SRV") == [("SRV", "0 100 80 web.prod.svc.cluster.local.")],
      "SRV of the port named http over TCP: the labels are _http and _tcp, strip the underscore",
      got=ask("_http._tcp.web.prod.svc.cluster.local.", "SRV"), see=RECORDS_SECTION)
check(ask("_http._tcp.db.prod.svc.cluster.local.", "SRV") == [("SRV", "0 50 8080 db-0.db.prod.svc.cluster.local."),
                                                             ("SRV", "0 50 8080 db-1.db.prod.svc.cluster.local.")],
      "a headless Service's SRV: one record per ready endpoint, its hostname as the target, the endpoint's port",
      got=ask("_http._tcp.db.prod.svc.cluster.local.", "SRV"), see=RECORDS_SECTION)
check(ask("_http._udp.web.prod.svc.cluster.local.", "SRV") is None, "no port named http over UDP: NXDOMAIN",
      got=ask("_http._udp.web.prod.svc.cluster.local.", "SRV"), see=RECORDS_SECTION)
check(ask("10-244-1-5.prod.pod.cluster.local.") == [("A", "10.244.1.5")], "a pod name: the address with dots",
      got=ask("10-244-1-5.prod.pod.cluster.local."), see=RECORDS_SECTION)
check([ask("nothere.prod.svc.cluster.local."), ask("web.nowhere.svc.cluster.local.")] == [None, None],
      "a Service or a namespace that does not exist: NXDOMAIN (None)", see=RECORDS_SECTION)
### BEGIN HIDDEN TESTS
from engine.grading.integrity import ensure_installed
ensure_installed()     # the engine as installed, whatever the notebook patched
from engine.grading.dns import check_records
check_records(kubernetes_records, seed=113)
### END HIDDEN TESTS
"""),
        md("records_live_intro", """
## Part 4: your records from CoreDNS (2 points)

`dns_cluster(kubernetes_records=kubernetes_records)` boots a cluster whose CoreDNS pods answer the three
shapes of names above with **your** function (everything else stays CoreDNS's own: other names, the
forwarding of names outside `cluster.local`, the cache). Pods' lookups travel as UDP packets to
`10.96.0.10`, kube-proxy DNATs them to a CoreDNS pod, and your records come back. Below, a StatefulSet
behind a headless Service, as in the chapter; the hidden test also checks SRV records, a pod's own name,
a name that does not exist and requests by name.
"""),
        tests("test_records_in_cluster", 2, """
cluster = dns_cluster(kubernetes_records=kubernetes_records)
cluster.apply('''
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
---
apiVersion: v1
kind: Pod
metadata: {name: client}
spec:
  nodeName: node-1
  containers: [{name: main, image: busybox, command: [sleep, "3600"]}]
''')
cluster.run(25)
db_ips = sorted(pod["status"]["podIP"] for pod in cluster.list("pods", selector="app=db"))
found, _ = lookup_from(cluster, "client", "db")
print(found.trace())
check(sorted(found.addresses) == db_ips, "the headless Service's name gives its pods' addresses", expected=db_ips,
      got=found.addresses, see=RECORDS_SECTION)
found, _ = lookup_from(cluster, "client", "_http._tcp.db", "SRV")
print(found.trace())
targets = sorted(record.target for record in found.response.answers) if found.response else []
check(targets == ["db-0.db.default.svc.cluster.local.", "db-1.db.default.svc.cluster.local."],
      "SRV of the headless Service's port http: one record per pod, named db-0.db, db-1.db", got=targets,
      see=RECORDS_SECTION)
check(not cluster.plugged.errors, "CoreDNS called your kubernetes_records and it raised", got=cluster.plugged.errors,
      see=RECORDS_SECTION)
### BEGIN HIDDEN TESTS
from engine.grading.integrity import ensure_installed
ensure_installed()     # the engine as installed, whatever the notebook patched
from engine.grading.dns_live import check_records_in_cluster
check_records_in_cluster(kubernetes_records, seed=114)
### END HIDDEN TESTS
"""),
        md("outro", """
## What you built

`search_names` is glibc's `res_nsearch` (`resolv/res_query.c`): the same walk runs in every pod, and it is
why a lookup of an external name from a pod costs three wasted questions with `ndots:5` (musl, in Alpine
images, walks the same list but stops at the first answer of any kind). `kubernetes_records` is the heart of
CoreDNS's kubernetes plugin (`parse.go`, `kubernetes.go`'s `findServices`, `backend_lookup.go`), which
implements the Kubernetes DNS-based service discovery specification; the real one adds reverse (PTR)
records, ExternalName Services as CNAMEs, endpoint names (`db-0.db.default.svc`), `pods verified`, and
wildcards.
"""),
    ]


FULL = {"test_search_names": 3, "test_search_in_pods": 2, "test_records": 3, "test_records_in_cluster": 2}
"""Points per graded cell: what the solution scores."""

BROKEN: tuple[str, ...] = ()
"""Which kinds of broken submission the round trip hands in for this lab (tests/grading/test_round_trip.py)."""

SECRETS = ("check_search_names", "check_search_in_pods", "check_records", "check_records_in_cluster")
"""Names of hidden-test helpers that must never appear in a released lab or in feedback."""

_EDITS = {
    "wrong_bare_name_first": ("search_names", [
        ('    if name.count(".") >= ndots:\n        names.append(name + ".")\n', '    names.append(name + ".")\n'),
        ('    if name.count(".") < ndots:\n        names.append(name + ".")\n', '')],
        {"test_search_names", "test_search_in_pods"}, "every search domain first, the name as it is last"),
    "wrong_headless_cluster_ip": ("kubernetes_records", [
        ('    if service["spec"].get("clusterIP") == "None":\n', '    if False:\n')],
        {"test_records", "test_records_in_cluster"}, "a headless Service (clusterIP None) answers"),
    "wrong_srv_underscore": ("kubernetes_records", [
        ('labels[0].removeprefix("_"), labels[1].removeprefix("_").upper()', 'labels[0], labels[1].upper()')],
        {"test_records", "test_records_in_cluster"}, "strip the underscore"),
}


def wrong_answers() -> dict[str, tuple[str, str, set[str], str]]:
    """Typical mistakes, each a small change of the solution (so they follow its text): student -> (answer cell
    id, its wrong source, graded cells that fail, words in feedback)."""
    sources = {grade_id: text for kind, grade_id, text, _ in cells() if kind == "solution"}
    wrong = {}
    for student, (cell_id, changes, failing, words) in _EDITS.items():
        source = sources[cell_id].strip("\n")
        for old, new in changes:
            assert old in source, f"{student}: the solution of {cell_id} changed; update lab11_dns._EDITS"
            source = source.replace(old, new, 1)
        wrong[student] = (cell_id, source, failing, words)
    return wrong
