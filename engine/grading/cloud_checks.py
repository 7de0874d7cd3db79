"""The cloud lab's hidden checks: the learner's load balancer code against a flaky simulated cloud.

Interface (each raises a ``GradingFailure`` whose message names the mistake and where to look):

- ``check_listeners_targets(listeners, targets, seed)``: the two pure functions against the engine's
  answers on seeded Services and node lists;
- ``check_ensure(ensure_load_balancer, seed)``: on a bare ``SimCloud``: one load balancer per Service,
  made to match on every call (ports, nodes), never a second one, not even after a timed-out create;
  cloud errors reach the caller;
- ``check_lifecycle(reconcile, seed)``: in a cluster with a network: a LoadBalancer Service gets
  ``status.loadBalancer.ingress`` and answers from the internet; a new port and a node excluded from load
  balancers reach the cloud's load balancer, which keeps its address;
- ``check_deletion(reconcile, seed)``: the finalizer holds a deleted Service until its load balancer is
  gone; a type changed away from LoadBalancer deletes it too and clears the status;
- ``check_flaky(reconcile, seed)``: with errors, throttling and timeouts injected into the cloud, every
  failed sync is reported (a ``SyncLoadBalancerFailed`` event naming the error) and retried with the work
  queue's backoff, and in the end the cloud holds exactly the load balancers the Services want.

No marks for handing the work to the engine's own service controller or provider (``OwnWork``). The
feedback helpers are reached through their modules (``feedback.check``), never bound to names here: a
notebook that patches every ``check`` and ``fail`` it can find cannot reach them, and ``ensure_installed``
puts the modules' own functions back.
Each cluster check runs one small cluster for about two virtual minutes at most.
"""

from __future__ import annotations

import random
from typing import Any, Callable

from engine.cloud.cloudprovider import SimProvider, _listeners, load_balancer_name
from engine.cloud.provider import CloudError, RequestTimeout, SimCloud
from engine.cloud.service import ServiceController
from engine.grading.cloud import (EXCLUDE_LABEL, FINALIZER, SEE, cloud_cluster, load_balancer_service,
                                  reference_listeners, reference_targets, sandbox_cloud, service_events,
                                  web_deployment)
from engine.grading.delegation import OwnWork
from engine.grading import feedback, integrity

ENGINE_PIECES = [SimProvider, ServiceController, _listeners, reference_listeners, reference_targets]
"""What the answers must not hand their work to: the engine's provider and controller, the lab's references."""


def _own(what: str) -> OwnWork:
    return OwnWork(what, ENGINE_PIECES, see=SEE)


# -- part 1: listeners and targets ----------------------------------------------------------------------

def _random_service(rng: random.Random, index: int) -> dict:
    ports = []
    for number in rng.sample([80, 443, 53, 8080, 9000, 5432], rng.randint(1, 3)):
        ports.append({"name": f"p{number}", "port": number, "targetPort": rng.choice([80, 8080, number]),
                      "protocol": "UDP" if number == 53 else "TCP", "nodePort": rng.randint(30000, 32767)})
    return {"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": f"svc-{index}", "namespace": "default", "uid": f"00000000-0000-0000-0000-{index:012d}"},
            "spec": {"type": "LoadBalancer", "ports": ports}}


def _random_nodes(rng: random.Random) -> list[dict]:
    nodes = []
    for index in range(rng.randint(1, 5)):
        metadata: dict[str, Any] = {"name": f"node-{index}", "labels": {"kubernetes.io/hostname": f"node-{index}"}}
        spec: dict[str, Any] = {}
        roll = rng.random()
        if roll < 0.7:
            spec["providerID"] = f"sim:///sim-east-1{'abc'[index % 3]}/i-0{rng.getrandbits(64):016x}"
        if 0.5 < roll < 0.65:
            metadata["labels"][EXCLUDE_LABEL] = ""
        if 0.4 < roll < 0.5:
            metadata["deletionTimestamp"] = "2025-01-01T00:00:00Z"
        nodes.append({"apiVersion": "v1", "kind": "Node", "metadata": metadata, "spec": spec})
    return nodes


def _node_names(nodes: list[dict]) -> str:
    parts = []
    for node in nodes:
        meta = node["metadata"]
        marks = [f"providerID {node['spec']['providerID'].rsplit('/', 1)[-1]}" if node["spec"].get("providerID")
                 else "no providerID"]
        if EXCLUDE_LABEL in meta["labels"]:
            marks.append("excluded")
        if meta.get("deletionTimestamp"):
            marks.append("being deleted")
        parts.append(f"{meta['name']} ({', '.join(marks)})")
    return "nodes: " + "; ".join(parts)


def check_listeners_targets(listeners: Callable[[dict], Any], targets: Callable[[list], Any], seed: int) -> None:
    integrity.ensure_installed()
    rng = random.Random(seed)
    services = [(_random_service(rng, index),) for index in range(12)]
    own = _own("listeners")
    feedback.compare(own.wrap(listeners), reference_listeners, services, what="listeners(service)",
                     describe=lambda service: f"ports {service['spec']['ports']}",
                     hint="one Listener(protocol, port, nodePort) per Service port, in the Service's order", see=SEE)
    own.check(listeners)
    cases = [(_random_nodes(rng),) for _ in range(15)]
    own = _own("targets")
    feedback.compare(own.wrap(targets), reference_targets, cases, what="targets(nodes)", describe=_node_names,
                     hint="only nodes with a providerID, without the exclude-from-external-load-balancers label "
                          "and not being deleted; the instance id is the providerID's last part; sorted", see=SEE)
    own.check(targets)


# -- part 2: ensure_load_balancer on a bare cloud -----------------------------------------------------

def _service(name: str, uid: str, ports: list[tuple[int, int]]) -> dict:
    listed = [{"name": f"p{port}", "port": port, "targetPort": 80, "protocol": "TCP", "nodePort": node_port}
              for port, node_port in ports]
    return {"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": name, "namespace": "default", "uid": uid}, "spec": {"type": "LoadBalancer",
                                                                                      "ports": listed}}


def _call_ensure(ensure: Callable, cloud: SimCloud, service: dict, nodes: list[dict], what: str) -> Any:
    try:
        return ensure(cloud, service, nodes)
    except CloudError as error:
        feedback.fail(f"{what}: ensure_load_balancer raised {feedback.describe_exception(error)}",
                      hint="look before you create: describe_load_balancers([name]) raises CloudNotFound when there is "
                           "none; create only then, and modify_load_balancer an existing one that differs", see=SEE)
    except Exception as error:
        feedback.fail(f"{what}: ensure_load_balancer raised {feedback.describe_exception(error)}", see=SEE)


def _lbs_of(cloud: SimCloud) -> list:
    return cloud.load_balancers()


def check_ensure(ensure_load_balancer: Callable, seed: int) -> None:
    integrity.ensure_installed()
    own = _own("ensure_load_balancer")
    ensure = own.wrap(ensure_load_balancer)
    cloud, nodes = sandbox_cloud(seed)
    rng = random.Random(seed)
    web = _service("web", f"5e1d0c2a-0000-4000-8000-{rng.getrandbits(40):012x}", [(80, 31080)])
    name = load_balancer_name(web)
    status = _call_ensure(ensure, cloud, web, nodes, "a new Service")
    lbs = _lbs_of(cloud)
    feedback.check(len(lbs) == 1 and lbs[0].name == name, f"a new Service gets one load balancer, named "
                   f"load_balancer_name(service) ({name!r})", got=[lb.name for lb in lbs], see=SEE)
    lb = lbs[0]
    feedback.check(lb.listeners == reference_listeners(web) and lb.targets == reference_targets(nodes),
                   "the new load balancer listens on the Service's ports and sends to every node",
                   expected=(reference_listeners(web), reference_targets(nodes)), got=(lb.listeners, lb.targets),
                   see=SEE)
    wanted = {"ingress": [{"ip": lb.address, "ipMode": "VIP"}]}
    feedback.check(status == wanted, "ensure_load_balancer returns the status to write: the load balancer's address",
                   expected=wanted, got=status, see=SEE)

    before = len(cloud.calls)
    again = _call_ensure(ensure, cloud, web, nodes, "the same Service a second time (nothing changed)")
    writes = [c.operation for c in cloud.calls[before:] if not c.operation.startswith("Describe")]
    feedback.check(again == wanted and writes == [], "calling it again for an unchanged Service finds the load "
                   "balancer and changes nothing (a sync runs many times: every retry, every node change)",
                   expected=f"{wanted} and no create, modify or delete call", got=f"{again} and calls {writes}",
                   see=SEE)

    web = _service("web", web["metadata"]["uid"], [(80, 31080), (443, 31443)])
    status = _call_ensure(ensure, cloud, web, nodes, "the Service with a new port")
    lbs = _lbs_of(cloud)
    feedback.check(len(lbs) == 1 and lbs[0].listeners == reference_listeners(web) and status == wanted,
                   "a new port is added to the same load balancer (modify_load_balancer), which keeps its address",
                   expected=(1, reference_listeners(web), wanted), got=(len(lbs), [lb.listeners for lb in lbs], status),
                   see=SEE)

    fewer = nodes[:2]
    _call_ensure(ensure, cloud, web, fewer, "the Service with one node fewer")
    feedback.check(_lbs_of(cloud)[0].targets == reference_targets(fewer),
                   "a node that is gone is taken out of the targets",
                   expected=reference_targets(fewer), got=_lbs_of(cloud)[0].targets, see=SEE)

    api = _service("api", f"9b3f7e10-0000-4000-8000-{rng.getrandbits(40):012x}", [(8080, 30808)])
    cloud.inject("CreateLoadBalancer", timeout=True)
    try:
        ensure(cloud, api, nodes)
        timed_out = None
    except RequestTimeout as error:
        timed_out = error
    except Exception as error:
        feedback.fail(f"a create that timed out: ensure_load_balancer raised {feedback.describe_exception(error)}, "
                      "not the cloud's RequestTimeout", see=SEE)
    feedback.check(timed_out is not None, "a create that timed out must reach the caller (let the RequestTimeout "
                   "propagate): the controller retries the sync", see=SEE)
    status = _call_ensure(ensure, cloud, api, nodes, "the retry after a timed-out create")
    mine = [lb for lb in _lbs_of(cloud) if lb.name == load_balancer_name(api)]
    feedback.check(len(_lbs_of(cloud)) == 2 and len(mine) == 1 and status == {"ingress": [{"ip": mine[0].address,
                                                                                             "ipMode": "VIP"}]},
                   "after a timed-out create (which did create the load balancer: the answer was lost), the retry "
                   "finds it and returns its address instead of creating another",
                   got=[(lb.name, lb.address) for lb in _lbs_of(cloud)], see=SEE)

    cloud.inject("DescribeLoadBalancers", error="InternalError")
    try:
        ensure(cloud, api, nodes)
        raised = None
    except CloudError as error:
        raised = error
    except Exception as error:
        feedback.fail(f"a failing DescribeLoadBalancers: ensure_load_balancer raised "
                      f"{feedback.describe_exception(error)}, not the cloud's error", see=SEE)
    feedback.check(raised is not None and len(_lbs_of(cloud)) == 2,
                   "when the cloud fails a call, ensure_load_balancer lets the CloudError propagate and "
                   "creates nothing (only CloudNotFound means 'there is none')",
                   got=[lb.name for lb in _lbs_of(cloud)], see=SEE)
    own.check(ensure_load_balancer)


# -- part 3: reconcile in a cluster -----------------------------------------------------------------------

def _cluster(reconcile: Callable, seed: int, *, network: str | None = None, nodes: int = 2) -> tuple[Any, OwnWork]:
    own = _own("reconcile")
    return cloud_cluster(reconcile, seed=seed, network=network, nodes=nodes, wrap=own.wrap), own


def _bugs(cluster: Any) -> None:
    bugs = cluster.plugged.bugs
    if bugs:
        feedback.fail(f"your reconcile raised {bugs[0]} (the work queue retried it {len(bugs)} time(s) or more)",
                      hint="only a cloud error (CloudError) or an API error (ApiError) should ever escape reconcile",
                      see=SEE)
    if not cluster.plugged.calls:
        feedback.fail("the service controller never called your reconcile", see=SEE)


def _ingress(cluster: Any, name: str) -> list:
    service = cluster.get("svc", name)
    return ((service.get("status") or {}).get("loadBalancer") or {}).get("ingress") or []


def _cloud_lbs(cluster: Any) -> dict[str, Any]:
    return {lb.name: lb for lb in cluster.cloud.load_balancers()}


def check_lifecycle(reconcile: Callable, seed: int) -> None:
    integrity.ensure_installed()
    from engine.cloud.internet import curl_from_internet
    cluster, own = _cluster(reconcile, seed, network="flannel")
    cluster.apply([web_deployment("web", replicas=1), load_balancer_service("web")])
    cluster.run(12)
    _bugs(cluster)
    ingress, lbs = _ingress(cluster, "web"), _cloud_lbs(cluster)
    name = load_balancer_name(cluster.get("svc", "web"))
    feedback.check(list(lbs) == [name], "a LoadBalancer Service gets one load balancer in the cloud",
                   expected=[name], got=list(lbs), see=SEE)
    address = lbs[name].address
    feedback.check(ingress == [{"ip": address, "ipMode": "VIP"}],
                   "status.loadBalancer.ingress holds the cloud's address",
                   expected=[{"ip": address, "ipMode": "VIP"}], got=ingress, see=SEE)
    answer = curl_from_internet(cluster, f"http://{address}/")
    feedback.check(answer.status == 200, f"curl http://{address}/ from the internet reaches the pods",
                   got=answer.error or answer.status, see=SEE)

    cluster.apply(load_balancer_service("web", ports=(80, 8080)))
    cluster.run(3)
    _bugs(cluster)
    lbs, service = _cloud_lbs(cluster), cluster.get("svc", "web")
    feedback.check(list(lbs) == [name] and lbs[name].listeners == reference_listeners(service),
                   "a port added to the Service is added to its load balancer (the same one)",
                   expected=reference_listeners(service), got={n: lb.listeners for n, lb in lbs.items()},
                   hint="the controller calls reconcile again when the Service changes: find the load balancer and "
                        "modify it",
                   see=SEE)
    feedback.check(_ingress(cluster, "web") == [{"ip": address, "ipMode": "VIP"}] and
                   curl_from_internet(cluster, f"http://{address}:8080/").status == 200,
                   "the Service keeps its address, and the new port answers from the internet",
                   got=_ingress(cluster, "web"), see=SEE)

    cluster.kubectl(f"label node node-2 {EXCLUDE_LABEL}=")
    cluster.run(3)
    _bugs(cluster)
    node_1 = cluster.get("node", "node-1", None)["spec"]["providerID"].rsplit("/", 1)[-1]
    feedback.check(_cloud_lbs(cluster)[name].targets == [node_1],
                   f"a node labelled {EXCLUDE_LABEL} is taken out of the load balancer's targets",
                   expected=[node_1], got=_cloud_lbs(cluster)[name].targets,
                   hint="reconcile passes every node of controller.nodes.lister.list() to ensure_load_balancer, whose "
                        "targets() leaves the excluded ones out", see=SEE)
    own.check(reconcile)


def check_deletion(reconcile: Callable, seed: int) -> None:
    integrity.ensure_installed()
    cluster, own = _cluster(reconcile, seed)
    cluster.apply([load_balancer_service("web"), load_balancer_service("api", ports=(8080,))])
    cluster.run(10)
    _bugs(cluster)
    names = {svc: load_balancer_name(cluster.get("svc", svc)) for svc in ("web", "api")}
    feedback.check(set(_cloud_lbs(cluster)) == set(names.values()) and _ingress(cluster, "web")
                   and _ingress(cluster, "api"),
                   "two LoadBalancer Services get a load balancer each", got=list(_cloud_lbs(cluster)), see=SEE)
    finalizers = cluster.get("svc", "web")["metadata"].get("finalizers") or []
    feedback.check(FINALIZER in finalizers, f"a Service with a load balancer carries the finalizer {FINALIZER}",
                   got=finalizers, hint="add it before you create the load balancer: without it the Service can vanish "
                                        "before its load balancer is deleted, which then leaks in the cloud", see=SEE)

    cluster.delete("svc", "web")
    cluster.run(5)
    _bugs(cluster)
    left = [s["metadata"]["name"] for s in cluster.list("svc")]
    feedback.check(names["web"] not in _cloud_lbs(cluster), "deleting the Service deletes its load balancer in the "
                   "cloud (the finalizer holds the Service until reconcile has deleted it)",
                   got=list(_cloud_lbs(cluster)), see=SEE)
    feedback.check("web" not in left, f"once its load balancer is gone, the Service goes: reconcile removes the "
                   f"finalizer {FINALIZER}",
                   got=cluster.get("svc", "web")["metadata"] if "web" in left else left, see=SEE)

    cluster.apply(load_balancer_service("api", ports=(8080,), service_type="ClusterIP"))
    cluster.run(5)
    _bugs(cluster)
    api = cluster.get("svc", "api")
    feedback.check(names["api"] not in _cloud_lbs(cluster) and not _ingress(cluster, "api")
                   and FINALIZER not in (api["metadata"].get("finalizers") or []),
                   "a Service whose type changed from LoadBalancer to ClusterIP loses its load balancer, its "
                   "status.loadBalancer.ingress and the finalizer",
                   got={"cloud": list(_cloud_lbs(cluster)), "ingress": _ingress(cluster, "api"),
                        "finalizers": api["metadata"].get("finalizers")}, see=SEE)
    own.check(reconcile)


def _failures(cluster: Any, name: str) -> list[dict]:
    return [e for e in service_events(cluster, name) if e["reason"] == "SyncLoadBalancerFailed"]


def check_flaky(reconcile: Callable, seed: int) -> None:
    integrity.ensure_installed()
    cluster, own = _cluster(reconcile, seed)
    cloud = cluster.cloud
    cloud.inject("CreateLoadBalancer", error="InternalError", times=2)
    cluster.apply(load_balancer_service("web"))
    cluster.run(30)
    _bugs(cluster)
    creates = cloud.calls_of("CreateLoadBalancer")
    times = [round(c.time, 3) for c in creates]
    feedback.check(len(set(times)) == len(times), "every retry waits for the work queue's backoff (5 s, 10 s, ...)",
                   got=f"CreateLoadBalancer called at t={times}", hint="raise the error out of reconcile instead of "
                   "retrying in a loop: the controller requeues the Service with a growing delay", see=SEE)
    feedback.check(len(creates) >= 3 and _ingress(cluster, "web"), "after two failed CreateLoadBalancer calls, the "
                   "Service's sync is retried until it gets its load balancer",
                   got=f"{len(creates)} CreateLoadBalancer call(s), ingress {_ingress(cluster, 'web')}",
                   hint="a failed sync must raise (after recording its SyncLoadBalancerFailed event), so that the work "
                        "queue retries the key with backoff; an error swallowed is a Service left without its load "
                        "balancer", see=SEE)
    failed = _failures(cluster, "web")
    messages = [e["message"] for e in failed]
    feedback.check(failed and all(e["type"] == "Warning" for e in failed)
                   and any(m.startswith("Error syncing load balancer: ") and "InternalError" in m for m in messages),
                   "each failed sync records a Warning event SyncLoadBalancerFailed, "
                   "'Error syncing load balancer: <the error>'",
                   got=[(e["type"], e["reason"], e["message"]) for e in service_events(cluster, "web")][:6], see=SEE)

    cloud.inject("DescribeLoadBalancers", error="RequestLimitExceeded")
    cloud.inject("ModifyLoadBalancer", timeout=True)
    cluster.apply(load_balancer_service("web", ports=(80, 443)))
    cluster.run(30)
    _bugs(cluster)
    service, lbs = cluster.get("svc", "web"), _cloud_lbs(cluster)
    feedback.check(len(lbs) == 1 and list(lbs.values())[0].listeners == reference_listeners(service),
                   "throttled (RequestLimitExceeded) and timed out (RequestTimeout), the port change still reaches "
                   "the one load balancer", expected=reference_listeners(service),
                   got=[lb.listeners for lb in lbs.values()], see=SEE)
    messages = " ".join(e["message"] for e in _failures(cluster, "web"))
    feedback.check("RequestLimitExceeded" in messages, "a throttled call is reported like any failure "
                   "(SyncLoadBalancerFailed names RequestLimitExceeded) and retried", got=messages[-300:], see=SEE)

    cloud.inject("DeleteLoadBalancer", error="InternalError", times=2)
    cluster.delete("svc", "web")
    cluster.run(40)
    _bugs(cluster)
    feedback.check(_cloud_lbs(cluster) == {}, "after a Service is deleted, however often the cloud failed, no load "
                   "balancer is left behind in the cloud (a leaked load balancer costs money every hour)",
                   got=list(_cloud_lbs(cluster)), hint="keep the finalizer until DeleteLoadBalancer has succeeded; "
                                                        "raise on failure so that the deletion is retried", see=SEE)
    feedback.check("web" not in [s["metadata"]["name"] for s in cluster.list("svc")],
                   "and the Service is gone (its finalizer removed once the load balancer was deleted)", see=SEE)
    own.check(reconcile)


__all__ = ["check_deletion", "check_ensure", "check_flaky", "check_lifecycle", "check_listeners_targets"]
