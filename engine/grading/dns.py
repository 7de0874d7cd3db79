"""Lab 11's plugs and checks: a learner's search-list walk in the pods' resolver, and their records in CoreDNS.

The pieces:

- ``search_names(name, search, ndots) -> [fqdn, ...]``: the names glibc's stub resolver asks, in order,
  for ``name`` with resolv.conf's ``search`` list and ``ndots`` (``engine.dns.resolver.Resolver.candidates``):
  a name ending in a dot is absolute and asked alone; a name with at least ``ndots`` dots is asked as is
  first; then the name with each search domain; a name with fewer dots is asked as is last. Plugged in as
  the fabric's ``stub_resolver`` (every lookup from a pod or a node: curl, wget, nslookup);
- ``kubernetes_records(name, qtype, services, endpointslices, namespaces) -> [(type, data), ...] | None``:
  what CoreDNS's kubernetes plugin (``engine.dns.plugins.kubernetes``, zone ``cluster.local.``, ``pods
  insecure``) answers for the lab's shapes of names: ``svc.ns.svc.cluster.local.`` A (the ClusterIP, or a
  headless Service's ready endpoint addresses), ``_port._proto.svc.ns.svc.cluster.local.`` SRV (``0 <100/n>
  <port> <target>``) and ``a-b-c-d.ns.pod.cluster.local.`` A; None is NXDOMAIN. Plugged in as the
  plugin's ``answer_hook`` in every CoreDNS pod, for those shapes (the rest stays the plugin's).

The reference for records is the engine's plugin itself, run over the given objects (``reference_records``).
``dns_cluster(**pieces)`` boots a flannel cluster with the pieces plugged in, each call compared with the
engine's answer (``Plugged``). ``check_*`` raise a ``GradingFailure`` that names the mistake, and give no
marks to an answer that hands its work to the engine's own code. Nothing here prints or writes to stderr.
"""

from __future__ import annotations

import random
from typing import Any, Callable

from engine.api.frozen import thaw
from engine.dns import corefile
from engine.dns.manifests import default_corefile
from engine.dns.message import NXDOMAIN, DnsQuery, DnsResponse, ResourceRecord
from engine.dns.plugin import Request, ServerContext
from engine.dns.plugins.kubernetes import Kubernetes
from engine.dns.resolver import ResolvConf, Resolver
from engine.grading.delegation import OwnWork
from engine.grading.feedback import compare, describe_exception, fail, show
from engine.grading.kubelet import Plugged

SEE_SEARCH = 'course/11_dns.ipynb, section "2. A pod\'s resolv.conf and ndots:5"'
SEE_RECORDS = 'course/11_dns.ipynb, section "4. Headless Services and SRV records"'
ZONE = "cluster.local."


# -- the search-list walk ---------------------------------------------------------------------------------
def reference_search_names(name: str, search: list[str], ndots: int) -> list[str]:
    return Resolver(ResolvConf(search=list(search), ndots=ndots), lambda *a: None).candidates(name)


NAMES = ("web", "web.prod", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local",
         "kubernetes.default.svc.cluster.local.", "example.com", "api.example.com.", "a.b.c.d.e", "a.b.c.d.e.f",
         "_http._tcp.db", "_http._tcp.db.prod.svc", "www.kubernetes.io", "db-0.db")
SEARCHES = (["default.svc.cluster.local", "svc.cluster.local", "cluster.local"],
            ["prod.svc.cluster.local", "svc.cluster.local", "cluster.local"],
            ["prod.svc.cluster.local", "svc.cluster.local", "cluster.local", "c.example.internal"],
            ["example.com"], [])


def search_cases(seed: int, n: int = 120) -> list[tuple[str, list[str], int]]:
    rng = random.Random(seed)
    cases = [("web", list(SEARCHES[0]), 5), ("kubernetes.default.svc.cluster.local", list(SEARCHES[0]), 5),
             ("example.com.", list(SEARCHES[0]), 5), ("a.b.c.d.e", list(SEARCHES[0]), 5)]
    while len(cases) < n:
        cases.append((rng.choice(NAMES), list(rng.choice(SEARCHES)), rng.choice((5, 5, 5, 1, 2, 3, 0))))
    return cases


def _diagnose_search(case: tuple, expected: Any, got: Any) -> str | None:
    name, search, ndots = case
    want, have = expected.value, got.value
    if not isinstance(have, list):
        return "return a list of names"
    if any(not str(n).endswith(".") for n in have):
        return "each name asked is absolute: end it with a dot (web.default.svc.cluster.local.)"
    if name.endswith("."):
        return "a name ending in a dot is absolute: it is asked once, as it is, and never with a search domain"
    dots = name.count(".")
    if dots < ndots and have and have[0] == want[-1]:
        return f"{name!r} has {dots} dot(s), fewer than ndots:{ndots}: the search list comes first, the name " \
               f"as it is last"
    if dots >= ndots and (not have or have[0] != want[0]):
        return f"{name!r} has {dots} dot(s), at least ndots:{ndots}: it is asked as it is first, then with the " \
               f"search domains"
    return "every search domain in order, appended to the name; the name as it is once, first or last"


def check_search_names(search_names: Callable, seed: int) -> None:
    own = OwnWork("search_names", [Resolver, reference_search_names], see=SEE_SEARCH)
    compare(own.wrap(search_names), reference_search_names, search_cases(seed), what="search_names",
            describe=lambda name, search, ndots: f"name {name!r}, search {search}, ndots:{ndots}",
            normalize=lambda value: [str(n) for n in value] if isinstance(value, (list, tuple)) else value,
            diagnose=_diagnose_search, see=SEE_SEARCH)
    own.check(search_names)


def stub_resolver(search_names: Callable, plugged: Plugged) -> type:
    """glibc's resolver walking the search list with ``search_names`` (the engine's when it raises)."""
    guarded = plugged.guard("search_names", search_names, reference_search_names,
                            lambda name, search, ndots: f"{name!r}, {search}, {ndots}")

    class LearnersResolver(Resolver):
        def candidates(self, name: str) -> list[str]:
            return [str(n) for n in guarded(name, list(self.conf.search), self.conf.ndots)]

    return LearnersResolver


# -- CoreDNS's records ------------------------------------------------------------------------------------
class _Lister:
    def __init__(self, items: list[dict]) -> None:
        self.items = items

    def get(self, namespace: str | None, name: str) -> dict | None:
        return next((o for o in self.items if o["metadata"]["name"] == name
                     and o["metadata"].get("namespace") == namespace), None)

    def list(self, namespace: str | None = None) -> list[dict]:
        return [o for o in self.items if namespace is None or o["metadata"].get("namespace") == namespace]


class _Informer:
    """What the plugin asks of an informer, over a fixed list: a lister, synced, no events."""

    has_synced = True

    def __init__(self, items: list[dict]) -> None:
        self.lister = _Lister(items)

    def on_change(self, _handler: Callable) -> None:
        return None

    def remove_event_handler(self, _registration: Any) -> None:
        return None


class _Informers:
    def __init__(self, objects: dict[str, list[dict]]) -> None:
        self.objects = objects

    def informer(self, resource: str) -> _Informer:
        return _Informer(self.objects.get(resource, []))


class _Clock:
    now = 0.0


def _plugin(services: list[dict], endpointslices: list[dict], namespaces: list[str]) -> Kubernetes:
    directive = next(d for block in corefile.parse(default_corefile()) for d in block.directives
                     if d.name == "kubernetes")
    objects = {"services": services, "endpointslices": endpointslices,
               "namespaces": [{"metadata": {"name": name}} for name in namespaces]}
    return Kubernetes(directive, ServerContext(_Clock(), _Informers(objects)))     # type: ignore[arg-type]


def _records_of(response: DnsResponse) -> list[tuple[str, str]] | None:
    if response.rcode == NXDOMAIN:
        return None
    return [(r.type, r.data) for r in response.answers]


def reference_records(name: str, qtype: str, services: list[dict], endpointslices: list[dict],
                      namespaces: list[str]) -> list[tuple[str, str]] | None:
    """The engine's kubernetes plugin over these objects: the answer records, or None for NXDOMAIN."""
    plugin = _plugin(services, endpointslices, namespaces)
    response = plugin.serve(Request(DnsQuery(name, qtype)), lambda request: DnsResponse(request.query, "REFUSED"))
    return _records_of(response)


def _shape(name: str, qtype: str) -> str | None:
    """Which of the lab's shapes ``name`` has ("service", "srv", "pod"), or None."""
    if not name.endswith("." + ZONE):
        return None
    labels = name[: -len(ZONE) - 1].split(".")
    if qtype == "A" and len(labels) == 3 and labels[2] == "svc":
        return "service"
    if qtype == "SRV" and len(labels) == 5 and labels[4] == "svc":
        return "srv"
    if qtype == "A" and len(labels) == 3 and labels[2] == "pod":
        return "pod"
    return None


def _slice(service: str, namespace: str, endpoints: list[tuple[str, bool | None, str | None]],
           ports: list[dict], index: int = 0) -> dict:
    listed = []
    for address, ready, hostname in endpoints:
        endpoint: dict[str, Any] = {"addresses": [address]}
        if ready is not None:
            endpoint["conditions"] = {"ready": ready}
        if hostname:
            endpoint["hostname"] = hostname
        listed.append(endpoint)
    return {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice", "addressType": "IPv4",
            "metadata": {"name": f"{service}-{index}", "namespace": namespace,
                         "labels": {"kubernetes.io/service-name": service}},
            "endpoints": listed, "ports": ports}


def records_world(rng: random.Random) -> tuple[list[dict], list[dict], list[str]]:
    """Services (ClusterIP and headless, named ports of both protocols) and their EndpointSlices."""
    namespaces = ["default", "prod", "dev"]
    services, slices = [], []
    for index, (name, namespace) in enumerate((("web", "prod"), ("db", "prod"), ("cache", "dev"), ("dns", "dev"),
                                               ("ghost", "prod"), ("api", "default"))):
        headless = name in ("db", "ghost") or (name == "cache" and rng.random() < 0.5)
        ports = [{"name": "http", "port": 80, "targetPort": 8080, "protocol": "TCP"}]
        if name in ("dns", "api"):
            ports = [{"name": "dns", "port": 53, "protocol": "UDP"}, {"name": "dns-tcp", "port": 53, "protocol": "TCP"},
                     {"name": "metrics", "port": 9153, "protocol": "TCP"}]
        elif name == "db":
            ports = [{"name": "postgres", "port": 5432, "protocol": "TCP"},
                     {"name": "metrics", "port": 9187, "protocol": "TCP"}]
        spec: dict[str, Any] = {"ports": ports,
                                "clusterIP": "None" if headless else f"10.96.{rng.randint(1, 200)}.{10 + index}"}
        services.append({"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": namespace},
                         "spec": spec})
        endpoints = []
        for number in range(0 if name == "ghost" else rng.randint(1, 3)):
            ready = rng.choice((True, True, None, False))
            hostname = f"{name}-{number}" if name == "db" else None
            endpoints.append((f"10.244.{rng.randint(1, 3)}.{rng.randint(2, 250)}", ready, hostname))
        if name == "ghost":
            endpoints = [("10.244.1.99", False, None)]
        slice_ports = [{"name": p["name"], "port": p.get("targetPort", p["port"]), "protocol": p["protocol"]}
                       for p in ports]
        slices.append(_slice(name, namespace, endpoints, slice_ports))
    return services, slices, namespaces


def records_cases(seed: int, n: int = 150) -> list[tuple]:
    rng = random.Random(seed)
    cases: list[tuple] = []
    while len(cases) < n:
        services, slices, namespaces = records_world(rng)
        for _ in range(10):
            roll = rng.random()
            service = rng.choice(services)
            svc, ns = service["metadata"]["name"], service["metadata"]["namespace"]
            if roll < 0.35:
                svc_label = svc if rng.random() < 0.9 else "nothere"
                ns_label = ns if rng.random() < 0.85 else rng.choice(("dev", "nowhere"))
                cases.append((f"{svc_label}.{ns_label}.svc.{ZONE}", "A", services, slices, namespaces))
            elif roll < 0.75:
                port = rng.choice(service["spec"]["ports"])
                label = port["name"] if rng.random() < 0.9 else "nope"
                proto = port["protocol"].lower()
                if rng.random() < 0.15:
                    proto = "udp" if proto == "tcp" else "tcp"
                cases.append((f"_{label}._{proto}.{svc}.{ns}.svc.{ZONE}", "SRV", services, slices, namespaces))
            else:
                address = rng.choice(("10-244-1-5", "10-244-2-17", "172-17-0-3", "10-96-0-10", "10-244-1", "300-1-2-3"))
                namespace = rng.choice(("prod", "default", "dev", "nowhere"))
                cases.append((f"{address}.{namespace}.pod.{ZONE}", "A", services, slices, namespaces))
    return cases[:n]


def _normalize_records(value: Any) -> Any:
    if value is None:
        return None
    return sorted((str(kind), str(data)) for kind, data in value)


def _service_of(case: tuple) -> dict | None:
    name, _, services = case[0], case[1], case[2]
    labels = name[: -len(ZONE) - 1].split(".")
    svc, ns = labels[-3], labels[-2]
    return next((s for s in services if s["metadata"]["name"] == svc and s["metadata"]["namespace"] == ns), None)


def _diagnose_records(case: tuple, expected: Any, got: Any) -> str | None:
    name, qtype = case[0], case[1]
    want, have = _normalize_records(expected.value), got.value
    shape = _shape(name, qtype)
    if want is None and have is not None:
        if shape == "pod":
            return "a pod name is a-b-c-d.<namespace>.pod: an IPv4 address with dashes, in a namespace that exists"
        return "NXDOMAIN (None) when the Service, the namespace, or (for SRV) a port with that name and protocol " \
               "does not exist, or a headless Service has no ready endpoint"
    if want is not None and have is None:
        if shape == "srv":
            return "an SRV name is _<port name>._<protocol>.<service>.<namespace>.svc: strip the underscores, and " \
                   "compare the protocol case-insensitively (_tcp is TCP)"
        return "this name exists: answer its records"
    service = _service_of(case) if shape in ("service", "srv") else None
    headless = service is not None and service["spec"].get("clusterIP") == "None"
    if headless and any("None" in str(record) for record in have or []):
        return "a headless Service (clusterIP None) has no address of its own: its name answers with the " \
               "addresses of its ready endpoints (from its EndpointSlices)"
    if headless:
        return "a headless Service answers with every ready endpoint (ready true or unset; never ready false); " \
               "SRV targets are <hostname or a-b-c-d>.<service>.<namespace>.svc.cluster.local."
    if shape == "srv":
        return "SRV data is '0 <weight> <port> <target>': priority 0, weight 100 // (number of records), the " \
               "Service's port, the target <service>.<namespace>.svc.cluster.local."
    return "a ClusterIP Service's name answers with its clusterIP"


def _describe_records(name: str, qtype: str, services: list[dict], slices: list[dict], namespaces: list[str]) -> str:
    labels = name[: -len(ZONE) - 1].split(".")
    service = next((s for s in services if len(labels) >= 3 and s["metadata"]["name"] == labels[-3]
                    and s["metadata"]["namespace"] == labels[-2]), None)
    text = f"{qtype} {name}"
    if service is not None and labels[-1] == "svc":
        spec = service["spec"]
        ports = [f"{p['name']}/{p['port']}/{p['protocol']}" for p in spec["ports"]]
        endpoints = [(e["addresses"][0], (e.get("conditions") or {}).get("ready"), e.get("hostname"))
                     for s in slices if s["metadata"]["namespace"] == service["metadata"]["namespace"]
                     and s["metadata"]["labels"]["kubernetes.io/service-name"] == labels[-3] for e in s["endpoints"]]
        slice_ports = [f"{p['name']}/{p['port']}" for s in slices if s["metadata"]["name"].startswith(labels[-3] + "-")
                       and s["metadata"]["namespace"] == labels[-2] for p in s["ports"]][:4]
        text += f"; Service clusterIP {spec['clusterIP']}, ports {ports}; endpoints (address, ready, hostname) " \
                f"{endpoints}, endpoint ports {slice_ports}"
    return text + f"; namespaces {namespaces}"


def check_records(kubernetes_records: Callable, seed: int) -> None:
    own = OwnWork("kubernetes_records", [Kubernetes, reference_records], see=SEE_RECORDS)
    compare(own.wrap(kubernetes_records), reference_records, records_cases(seed), what="kubernetes_records",
            describe=_describe_records, normalize=_normalize_records,
            equal=lambda a, b: a == _normalize_records(b), diagnose=_diagnose_records, see=SEE_RECORDS)
    own.check(kubernetes_records)


def records_hook(plugin: Kubernetes, kubernetes_records: Callable, plugged: Plugged) -> Callable:
    """The plugin's ``answer_hook``: the learner's records for the lab's shapes, compared with the plugin's."""
    def hook(query: DnsQuery, zone: str) -> tuple[list[ResourceRecord] | None, list[ResourceRecord]] | None:
        if zone != ZONE or _shape(query.name, query.qtype) is None:
            return None
        try:
            expected_answers, additional = plugin._records(query, zone)
        except Exception:
            expected_answers, additional = None, []
        expected = None if expected_answers is None else [(r.type, r.data) for r in expected_answers]
        objects = (thaw(plugin.services.lister.list()), thaw(plugin.slices.lister.list()),
                   sorted(ns["metadata"]["name"] for ns in plugin.namespaces.lister.list()))
        try:
            got = _normalize_records(kubernetes_records(query.name, query.qtype, *objects))
        except Exception as error:
            if len(plugged.errors) < 3:
                plugged.errors.append(f"kubernetes_records({query.name!r}, {query.qtype!r}) raised "
                                      f"{describe_exception(error)}")
            return None
        if got != _normalize_records(expected) and len(plugged.disagreements) < 3:
            plugged.disagreements.append(f"kubernetes_records({query.name!r}, {query.qtype!r}) answered {show(got)}, "
                                         f"CoreDNS {show(expected)}")
        if got is None:
            return None, []
        answers = [ResourceRecord(query.name, kind, plugin.ttl, data) for kind, data in got]
        targets = {record.target for record in answers if record.type == "SRV"}
        return answers, [record for record in additional if record.name in targets]
    return hook


def _coredns_plugins(cluster: Any) -> list[Kubernetes]:
    from engine.dns.program import CoreDNSProgram
    plugins = []
    for runtime in cluster.runtimes.values():
        for container in runtime.list_containers():
            program = runtime.program(container.id)
            if isinstance(program, CoreDNSProgram) and program.component is not None:
                plugins += [p for server in program.component.servers for p in server.plugins
                            if isinstance(p, Kubernetes)]
    return plugins


def dns_cluster(*, search_names: Callable | None = None, kubernetes_records: Callable | None = None, seed: int = 0,
                plugged: Plugged | None = None) -> Any:
    """A flannel cluster (booted, CoreDNS running) whose resolvers and CoreDNS use the learner's pieces."""
    from engine.grading.integrity import fresh_cluster
    from engine.grading.networking import _parts
    plugged = plugged if plugged is not None else Plugged()
    cluster = fresh_cluster(nodes=2, seed=seed, network="flannel", components=_parts({}))
    cluster.run(20)
    if search_names is not None:
        cluster.fabric.stub_resolver = stub_resolver(search_names, plugged)
    if kubernetes_records is not None:
        plugins = _coredns_plugins(cluster)
        if not plugins:
            fail("no CoreDNS pod runs in this cluster yet: run it a little longer (cluster.run(20))", see=SEE_RECORDS)
        for plugin in plugins:
            plugin.answer_hook = records_hook(plugin, kubernetes_records, plugged)
    cluster.plugged = plugged
    return cluster


__all__ = ["check_records", "check_search_names", "dns_cluster", "records_cases", "records_hook", "records_world",
           "reference_records", "reference_search_names", "search_cases", "stub_resolver"]
