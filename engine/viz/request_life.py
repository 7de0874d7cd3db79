"""The life of a request: ``kubectl apply`` of a Deployment and a Service, followed to a pod that answers.

``life_of_a_request(cluster, deployment="web", service="web", curl=result)`` finds, in what the cluster
already records, the twelve steps every such request goes through, in order:

     1  kubectl -> kube-apiserver          authentication, authorization, admission, validation (audit log)
     2  kube-apiserver -> etcd             the Deployment stored at a revision (audit log)
     3  deployment controller              a ReplicaSet for the pod template (audit log)
     4  replicaset controller              the Pods (audit log)
     5  kube-scheduler                     a node for each Pod: pods/binding (audit log; FailedScheduling events)
     6  kubelet + container runtime        sandbox, CNI (pod IP), image pull, container started (events, status)
     7  kubelet's readiness probe          the Pod turns Ready (its Ready condition; Unhealthy events)
     8  endpointslice controller           the Service's EndpointSlice lists the ready Pods
     9  kube-proxy                         every node's rules DNAT the Service IP to them (each node's netfilter)
    10  CoreDNS                            the Service's name answers its ClusterIP (the curl's DNS hops)
    11  the client's node                  DNAT of the ClusterIP to one Pod (the curl's hops)
    12  the Pod                            the program in the container answers (the curl's result)

Each step is ``done`` (with its virtual time where one is recorded, and what shows it), ``failed``
(with the error the cluster gave: a 403, a FailedScheduling message, ErrImagePull...) or ``not reached``
(an earlier step failed, so nothing here happened). The first step that did not happen is where to
look when an application "does not work": the capstone chapter injects a failure at each step.

``request_life(stages)`` draws them as one picture: the components as boxes, a numbered arrow per step,
green when done, red when failed, grey and dashed when not reached. Both only read (the audit log, the
API, each node's netfilter and ipvs tables as ``iptables-save`` would, a curl result already made).
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import graphviz

from engine.api.meta import parse_timestamp

if TYPE_CHECKING:
    from engine.cluster import Cluster
    from engine.network.curl import CurlResult

DONE, FAILED, NOT_REACHED = "done", "failed", "not reached"
COLORS = {DONE: "#2e7d32", FAILED: "#c62828", NOT_REACHED: "#9e9e9e"}
CONTROLLER_USER = "system:serviceaccount:kube-system:{}"
SCHEDULER_USER = "system:kube-scheduler"


@dataclass(frozen=True)
class Stage:
    number: int
    source: str            # who acts (a box of the picture)
    target: str            # what it acts on
    title: str             # the step, in a few words
    state: str             # DONE, FAILED or NOT_REACHED
    detail: str            # what shows it happened, or the error
    time: float | None = None

    def __str__(self) -> str:
        when = f"t={self.time:8.3f}" if self.time is not None else " " * 10
        return f"{self.number:2}. {when}  {self.state:11}  {self.title}: {self.detail}"


class _Walk:
    """Builds the stages in order; once one is not done, the later ones are not reached."""

    def __init__(self) -> None:
        self.stages: list[Stage] = []
        self.stopped = False

    def add(self, source: str, target: str, title: str, found: tuple[str, str, float | None]) -> None:
        state, detail, time = found
        if self.stopped:
            state, detail, time = NOT_REACHED, "an earlier step did not happen", None
        self.stages.append(Stage(len(self.stages) + 1, source, target, title, state, detail, time))
        self.stopped = self.stopped or state != DONE


def _audit(cluster: "Cluster", since: float) -> list[Any]:
    return [entry for entry in cluster.apiserver.audit if entry.time >= since]


def _timestamp(value: str | None) -> float | None:
    try:
        return parse_timestamp(value) if value else None
    except ValueError:
        return None


def _events_for(cluster: "Cluster", namespace: str, names: set[str]) -> list[dict]:
    events = [e for e in cluster.list("events", namespace) if (e.get("involvedObject") or {}).get("name") in names]
    return sorted(events, key=lambda e: _timestamp(e.get("lastTimestamp") or e.get("eventTime")) or 0.0)


def _request(entries: list[Any], namespace: str, name: str) -> tuple[str, str, float | None]:
    """Step 1: the user's write of the Deployment, and what the API server answered."""
    writes = [e for e in entries if e.resource == "deployments" and e.namespace == namespace and not e.subresource
              and e.verb in ("create", "update", "patch") and (e.name == name or e.name is None and e.code in (401, 403))
              and not e.user.startswith("system:serviceaccount:kube-system:")]
    if not writes:
        return FAILED, f"no request for deployments/{name} reached the API server", None
    entry = next((e for e in writes if e.code < 300), writes[-1])
    meaning = {401: "not authenticated", 403: "forbidden by authorization (RBAC)",
               422: "invalid: validation refused it", 409: "conflict", 400: "bad request"}
    if entry.code >= 300:
        return FAILED, f"{entry.verb} deployments/{name} as {entry.user}: {entry.code} " \
                       f"{meaning.get(entry.code, 'refused')}", entry.time
    return DONE, f"{entry.verb} deployments/{name} as {entry.user}: {entry.code}, authenticated, authorized, " \
                 "admitted and valid", entry.time


def _stored(entries: list[Any], namespace: str, name: str) -> tuple[str, str, float | None]:
    entry = next((e for e in entries if e.resource == "deployments" and e.name == name and e.namespace == namespace
                  and e.verb in ("create", "update", "patch") and not e.subresource and e.code < 300), None)
    if entry is None:
        return FAILED, "nothing stored", None
    return DONE, f"/registry/deployments/{namespace}/{name} at revision {entry.revision}", entry.time


def _created(entries: list[Any], controller: str, resource: str, namespace: str, prefix: str) -> list[Any]:
    user = CONTROLLER_USER.format(controller)
    return [e for e in entries if e.user == user and e.verb == "create" and e.resource == resource
            and not e.subresource and e.namespace == namespace and (e.name or "").startswith(prefix) and e.code < 300]


def _current(cluster: "Cluster", kind: str, names: list[str], namespace: str) -> list[dict]:
    wanted = set(names)
    return [o for o in cluster.list(kind, namespace) if o["metadata"]["name"] in wanted
            and not o["metadata"].get("deletionTimestamp")]


def _ready_time(pod: dict) -> float | None:
    for condition in (pod.get("status") or {}).get("conditions") or []:
        if condition.get("type") == "Ready" and condition.get("status") == "True":
            return _timestamp(condition.get("lastTransitionTime"))
    return None


def _warning(events: list[dict], reasons: tuple[str, ...]) -> str | None:
    """The first warning of those reasons: the cause (a pull's "not found" comes before ErrImagePull, BackOff)."""
    found = [e for e in events if e.get("type") == "Warning" and e.get("reason") in reasons]
    return f"{found[0]['reason']}: {found[0].get('message', '')}" if found else None


def _rules_on(cluster: "Cluster", node: str, namespace: str, service: str) -> list[str]:
    """The endpoints every node's kube-proxy sends the Service to: its DNAT targets (iptables) or real servers."""
    stack = cluster.machines[node].network_stack
    comment = re.compile(rf'--comment "?{re.escape(namespace)}/{re.escape(service)}(:[^" ]*)?"? ')
    targets = [line.split("--to-destination ")[1].split()[0] for line in stack.iptables.save(("nat",)).splitlines()
               if line.startswith("-A KUBE-SEP-") and comment.search(line) and "--to-destination " in line]
    return sorted(set(targets))


def _ipvs_on(cluster: "Cluster", node: str, cluster_ip: str) -> list[str]:
    stack = cluster.machines[node].network_stack
    servers, inside = [], False
    for line in stack.ipvs.dump().splitlines():
        if line.startswith(("TCP", "UDP", "SCTP")):
            inside = line.split()[1].startswith(f"{cluster_ip}:")
        elif inside and "->" in line:
            servers.append(line.split("->")[1].split()[0])
    return sorted(set(servers))


def life_of_a_request(cluster: "Cluster", *, deployment: str = "web", service: str = "web",
                      namespace: str = "default", since: float = 0.0,
                      curl: "CurlResult | None" = None) -> list[Stage]:
    """The twelve steps from ``kubectl apply`` to an answering pod, each done, failed or not reached.

    ``since``: the virtual time the apply was made (earlier requests are ignored); ``curl``: the result of
    ``cluster.curl(client, "http://<service>...")`` for steps 10-12 (without it they are not reached).
    """
    entries = _audit(cluster, since)
    walk = _Walk()
    walk.add("kubectl", "kube-apiserver", "the API request", _request(entries, namespace, deployment))
    walk.add("kube-apiserver", "etcd", "stored in etcd", _stored(entries, namespace, deployment))

    replicasets = _created(entries, "deployment-controller", "replicasets", namespace, f"{deployment}-")
    walk.add("deployment controller", "kube-apiserver", "a ReplicaSet for the template",
             (DONE, f"create replicasets/{replicasets[-1].name}", replicasets[-1].time) if replicasets else
             (FAILED, "no ReplicaSet created: is kube-controller-manager running (and leading)?", None))
    rs_names = [e.name for e in replicasets]
    pod_writes = [e for name in rs_names for e in _created(entries, "replicaset-controller", "pods", namespace,
                                                           f"{name}-")]
    pod_names = [e.name for e in pod_writes]
    walk.add("replicaset controller", "kube-apiserver", "the Pods",
             (DONE, f"create pods {', '.join(pod_names)}", pod_writes[-1].time) if pod_writes else
             (FAILED, "no Pod created (a quota or an admission webhook can refuse them: see the "
                      "ReplicaSet's FailedCreate events)", None))

    pods = _current(cluster, "pods", pod_names, namespace)
    names = {p["metadata"]["name"] for p in pods}
    events = _events_for(cluster, namespace, names)
    bindings = [e for e in entries if e.user == SCHEDULER_USER and e.subresource == "binding" and e.name in names
                and e.code < 300]
    bound = {p["metadata"]["name"]: p["spec"]["nodeName"] for p in pods if p["spec"].get("nodeName")}
    walk.add("kube-scheduler", "kube-apiserver", "a node for each Pod",
             (DONE, ", ".join(f"{pod} -> {node}" for pod, node in sorted(bound.items())),
              bindings[-1].time if bindings else None) if pods and len(bound) == len(pods) else
             (FAILED, _warning(events, ("FailedScheduling",)) or "Pods not bound to a node (is kube-scheduler "
                                                                  "running?)", None))

    running = [p for p in pods if any((s.get("state") or {}).get("running")
                                      for s in (p.get("status") or {}).get("containerStatuses") or [])]
    started = [e for e in events if e.get("reason") == "Started"]
    walk.add("kubelet", "container runtime", "sandbox, pod IP, image, container",
             (DONE, ", ".join(f"{p['metadata']['name']} IP {p['status'].get('podIP')}" for p in running),
              _timestamp(started[-1].get("lastTimestamp")) if started else None) if pods and len(running) == len(pods)
             else (FAILED, _warning(events, ("Failed", "BackOff", "FailedCreatePodSandBox", "FailedMount",
                                             "NetworkNotReady")) or "containers not running yet", None))

    ready = [p for p in pods if _ready_time(p) is not None]
    walk.add("kubelet", "kube-apiserver", "Ready (readiness probe)",
             (DONE, f"{len(ready)}/{len(pods)} Pods Ready", max(_ready_time(p) or 0.0 for p in ready))
             if pods and len(ready) == len(pods) else
             (FAILED, _warning(events, ("Unhealthy",)) or f"{len(ready)}/{len(pods)} Pods Ready", None))

    slices = cluster.list("endpointslices", namespace, selector=f"kubernetes.io/service-name={service}")
    ready_ips = sorted(address for s in slices for e in s.get("endpoints") or []
                       if (e.get("conditions") or {}).get("ready") for address in e.get("addresses") or [])
    pod_ips = {p["status"].get("podIP") for p in ready}
    slice_writes = [e for e in entries if e.user == CONTROLLER_USER.format("endpointslice-controller")
                    and e.resource == "endpointslices" and e.namespace == namespace and e.code < 300
                    and (e.name or "").startswith(f"{service}-")]
    walk.add("endpointslice controller", "kube-apiserver", "the Service's endpoints",
             (DONE, f"EndpointSlice {slices[0]['metadata']['name']}: ready {', '.join(ready_ips)}",
              slice_writes[-1].time if slice_writes else None) if ready_ips and pod_ips <= set(ready_ips) else
             (FAILED, "no ready endpoint for the Service (does its selector match the Pods' labels?)"
              if slices or _service(cluster, service, namespace) else f"no Service {namespace}/{service}", None))

    svc = _service(cluster, service, namespace)
    cluster_ip = (svc or {}).get("spec", {}).get("clusterIP", "")
    if getattr(cluster, "proxy_mode", "iptables") == "ipvs":
        per_node = {node: _ipvs_on(cluster, node, cluster_ip) for node in cluster.node_names}
    else:
        per_node = {node: _rules_on(cluster, node, namespace, service) for node in cluster.node_names}
    expected = {f"{ip}:{port}" for ip in ready_ips for port in _target_ports(slices)}
    missing = [node for node, targets in per_node.items() if not expected or set(targets) != expected]
    walk.add("kube-proxy", "every node's netfilter", "the Service's rules on every node",
             (DONE, f"{cluster_ip} -> {', '.join(sorted(expected))} on {len(per_node)} nodes", None)
             if not missing else (FAILED, f"rules missing or stale on {', '.join(missing)}", None))

    hops = curl.hops if curl is not None else []
    answers = [h for h in hops if h.what == "DNS answer"]
    request = hops[hops.index(answers[-1]) + 1:] if answers else hops     # the HTTP exchange, after the lookup
    dnat = next((h for h in request if h.what == "DNAT"), None)
    delivered = next((h for h in request if h.what == "deliver"), None)
    walk.add("CoreDNS", "client Pod", "the name answers the ClusterIP",
             (DONE, f"{curl.url.split('/')[2]} -> {answers[-1].rule}", None) if answers and
             answers[-1].rule.startswith("NOERROR") else
             (DONE, "the client used an IP: no lookup", None) if curl is not None and not answers and not curl.error
             .startswith("curl: (6)") else (FAILED, curl.error if curl is not None and curl.error else
                                             "no DNS answer", None))
    walk.add("client's node", "a Pod", "DNAT of the ClusterIP to a Pod",
             (DONE, f"{dnat.where}: {dnat.rule}", None) if dnat is not None else
             (FAILED, curl.error if curl is not None and curl.error else "no DNAT", None))
    walk.add("Pod", "client Pod", "the program answers",
             (DONE, f"{delivered.where}: {delivered.rule}, HTTP {curl.status}", None)
             if delivered is not None and curl is not None and curl.status is not None else
             (FAILED, curl.error if curl is not None and curl.error else "no answer", None))
    return walk.stages


def _service(cluster: "Cluster", name: str, namespace: str) -> dict | None:
    return next((s for s in cluster.list("services", namespace) if s["metadata"]["name"] == name), None)


def _target_ports(slices: list[dict]) -> list[int]:
    return sorted({p["port"] for s in slices for p in s.get("ports") or [] if p.get("port") is not None})


def stages_text(stages: list[Stage]) -> str:
    """The stages one per line: number, time, state, step and what shows it."""
    return "\n".join(str(stage) for stage in stages)


BOXES = {
    "kubectl": ("kubectl", "user"),
    "kube-apiserver": ("kube-apiserver", "control"),
    "etcd": ("etcd", "control"),
    "deployment controller": ("kube-controller-manager\ndeployment controller", "control"),
    "replicaset controller": ("kube-controller-manager\nreplicaset controller", "control"),
    "endpointslice controller": ("kube-controller-manager\nendpointslice controller", "control"),
    "kube-scheduler": ("kube-scheduler", "control"),
    "kubelet": ("kubelet", "node"),
    "container runtime": ("containerd + CNI", "node"),
    "kube-proxy": ("kube-proxy", "node"),
    "every node's netfilter": ("netfilter (iptables / ipvs)", "node"),
    "CoreDNS": ("CoreDNS", "addon"),
    "client Pod": ("client Pod", "node"),
    "client's node": ("client's node", "node"),
    "a Pod": ("web Pod", "node"),
    "Pod": ("web Pod", "node"),
}


def request_life(stages: list[Stage], *, title: str = "The life of a request") -> graphviz.Digraph:
    """The stages as one picture: components as boxes, a numbered arrow per step (green, red, grey dashed)."""
    graph = graphviz.Digraph("request_life", graph_attr={"rankdir": "LR", "fontname": "Helvetica",
                                                         "label": title, "labelloc": "t", "fontsize": "16"},
                             node_attr={"shape": "box", "style": "rounded,filled", "fontname": "Helvetica",
                                        "fontsize": "11"},
                             edge_attr={"fontname": "Helvetica", "fontsize": "9"})
    fills = {"user": "#fff8e1", "control": "#e3f2fd", "node": "#e8f5e9", "addon": "#f3e5f5"}
    clusters = {"control": "control plane", "node": "nodes", "addon": "add-ons"}
    drawn: dict[str, str] = {}
    for stage in stages:
        for name in (stage.source, stage.target):
            label, group = BOXES.get(name, (name, "node"))
            if label not in drawn:
                drawn[label] = group
    for group, caption in [("user", None), *clusters.items()]:
        members = [label for label, where in drawn.items() if where == group]
        if not members:
            continue
        box = graphviz.Digraph(f"cluster_{group}") if caption else graph
        if caption:
            box.attr(label=caption, style="dashed", color="#90a4ae", fontname="Helvetica")
        for label in members:
            box.node(_node_id(label), label, fillcolor=fills[group])
        if caption:
            graph.subgraph(box)
    for stage in stages:
        source, target = BOXES.get(stage.source, (stage.source,))[0], BOXES.get(stage.target, (stage.target,))[0]
        when = f" t={stage.time:.1f}s" if stage.time is not None else ""
        label = f"{stage.number}. {stage.title}{when}"
        graph.edge(_node_id(source), _node_id(target), label=html.escape(label), color=COLORS[stage.state],
                   fontcolor=COLORS[stage.state], style="dashed" if stage.state == NOT_REACHED else "solid",
                   penwidth="2" if stage.state == FAILED else "1.2", tooltip=html.escape(stage.detail))
    return graph


def _node_id(label: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", label.lower())
