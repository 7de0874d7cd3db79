"""lab04_scheduler: the cells of its source notebook, and what its grading round trip expects."""

from __future__ import annotations

from lab_specs.cells import Cell, code, md, solution, tests


def cells() -> list[Cell]:
    see_filter = 'course/04_scheduler.ipynb, section "3. Filter, then score"'
    see_taints = 'course/04_scheduler.ipynb, section "5. Taints and tolerations"'
    return [
        md("intro", """
# Lab 4: kube-scheduler, where does this pod go?

The scheduler takes one Pending pod at a time and picks a node for it in two rounds: **Filter** plugins
throw out the nodes where the pod cannot run, **Score** plugins grade the nodes that are left (0 to 100
each, times the plugin's weight), and the highest total wins. Then it binds the pod (it writes
`spec.nodeName` through the `binding` subresource) and moves on. A pod that fits nowhere gets a
`FailedScheduling` event such as `0/5 nodes are available: 3 Insufficient cpu, 2 node(s) had
untolerated taint {gpu: true}.` and waits.

In this lab you write three of the default plugins, as plain functions:

1. `pod_requests`: how much a pod asks for (the rule every part of Kubernetes uses);
2. `fit_filter`: **NodeResourcesFit**'s Filter, `Insufficient cpu` / `Insufficient memory` / `Too many pods`;
3. `tolerates` and `taint_filter`: **TaintToleration**'s Filter;
4. `least_allocated_score`: NodeResourcesFit's default Score, **LeastAllocated**.

Then `plug_scheduler_plugins` puts your functions into a *running* kube-scheduler in place of the
engine's own, and whole workloads are scheduled with them. The lecture is `course/04_scheduler.ipynb`;
the engine's versions are in `engine/scheduler/plugins/`. Graded cells: 10 points. Hidden tests compare
your functions with the engine's on many generated pods and nodes, then compare where a running
scheduler puts whole workloads with your plugins and with the engine's, and the messages it gives.
"""),
        code("setup", f"""
from engine.api.quantity import parse_quantity
from engine.scheduler.nodeinfo import NodeInfo
from engine.grading import check, fail

# Where the checks below send you when something is not right yet.
FILTER_SECTION = {see_filter!r}
TAINTS_SECTION = {see_taints!r}


def amount(resource, value):
    \"\"\"A quantity as the scheduler counts it: cpu in millicores ('500m' -> 500, '2' -> 2000),
    anything else in bytes or units ('1Gi' -> 1073741824).\"\"\"
    quantity = parse_quantity(value)
    return quantity.milli_value() if resource == "cpu" else quantity.value()


def make_node(name, cpu="4", memory="8Gi", pods=110, taints=()):
    \"\"\"A Node object as the kubelet reports it: status.allocatable is what pods may use.\"\"\"
    allocatable = {{"cpu": cpu, "memory": memory, "pods": str(pods)}}
    return {{"apiVersion": "v1", "kind": "Node",
            "metadata": {{"name": name, "labels": {{"kubernetes.io/hostname": name}}}},
            "spec": {{"taints": list(taints)}} if taints else {{}},
            "status": {{"allocatable": allocatable, "capacity": dict(allocatable),
                       "conditions": [{{"type": "Ready", "status": "True"}}]}}}}


def container(name, cpu=None, memory=None):
    requests = {{key: value for key, value in (("cpu", cpu), ("memory", memory)) if value}}
    return {{"name": name, "image": "nginx", "resources": {{"requests": requests}} if requests else {{}}}}


def make_pod(name, containers=None, init_containers=None, tolerations=None, cpu=None, memory=None):
    \"\"\"A Pod object; make_pod("web", cpu="500m") has one container requesting 500m.\"\"\"
    spec = {{"containers": containers or [container("app", cpu, memory)]}}
    if init_containers:
        spec["initContainers"] = init_containers
    if tolerations:
        spec["tolerations"] = tolerations
    return {{"apiVersion": "v1", "kind": "Pod", "metadata": {{"name": name, "namespace": "default"}}, "spec": spec}}


def node_info(node, *pods):
    \"\"\"The scheduler's view of a node: the Node, and the pods already placed there.\"\"\"
    info = NodeInfo(node)
    for pod in pods:
        info.add_pod("default/" + pod["metadata"]["name"], pod)
    return info


busy = node_info(make_node("node-1", cpu="4", memory="8Gi"), make_pod("db", cpu="3", memory="2Gi"),
                 make_pod("cache", memory="1Gi"))
print("allocatable:       ", busy.allocatable)       # integers: cpu in millicores, memory in bytes
print("requested:         ", busy.requested)         # the sum of the requests of the pods on the node
print("non_zero_requested:", busy.non_zero_requested)  # the same, counting 100m / 200Mi where none is set
print("pods:              ", list(busy.pods))
print("taints:            ", busy.taints)
"""),
        md("requests_intro", """
## Part 1: what does a pod request? (2 points)

Each container may set `resources.requests` (`cpu: 500m`, `memory: 256Mi`). The scheduler reserves a
pod's **requests** on its node, not what it uses. For the whole pod, resource by resource:

- app containers run **together**: their requests **add up**;
- init containers run **one after another, before** the app containers: only the **largest** one counts;
- so the pod requests the **max** of (the sum of its app containers) and (its largest init container);
- plus `spec.overhead` when it is set (what the pod's sandbox itself costs, from its RuntimeClass).

Write `pod_requests(pod, defaults=None) -> {"cpu": millicores, "memory": bytes}` with `amount` from the
setup cell. `defaults` is for scoring (Part 4): when it is given, a container (app or init) that requests
no cpu counts as `defaults["cpu"]`, one that requests no memory as `defaults["memory"]`. Without it, a
missing request counts as 0. (Pods in this lab have no sidecars, init containers with
`restartPolicy: Always`, which add to everything after them.)
"""),
        solution("pod_requests", """
def pod_requests(pod, defaults=None):
    \"\"\"{"cpu": millicores, "memory": bytes}: what the pod requests (defaults: per container without a request).\"\"\"
    ### BEGIN SOLUTION
    defaults = defaults or {}
    spec = pod["spec"]

    def requests_of(container):
        requests = (container.get("resources") or {}).get("requests") or {}
        return {name: amount(name, requests[name]) if name in requests else defaults.get(name, 0)
                for name in ("cpu", "memory")}

    total = {"cpu": 0, "memory": 0}
    for app in spec["containers"]:
        for name, value in requests_of(app).items():
            total[name] += value
    for init in spec.get("initContainers") or []:
        for name, value in requests_of(init).items():
            total[name] = max(total[name], value)
    for name, value in (spec.get("overhead") or {}).items():
        total[name] += amount(name, value)
    return total
    ### END SOLUTION
"""),
        tests("test_pod_requests", 2, """
web = make_pod("web", containers=[container("app", cpu="500m", memory="256Mi"), container("log", cpu="100m")])
check(pod_requests(web) == {"cpu": 600, "memory": 268435456},
      "app containers add up: 500m + 100m cpu, 256Mi memory", expected={"cpu": 600, "memory": 268435456},
      got=pod_requests(web), see=FILTER_SECTION)
migrate = make_pod("migrate", containers=[container("app", cpu="500m", memory="1Gi")],
                   init_containers=[container("schema", cpu="2", memory="128Mi")])
check(pod_requests(migrate) == {"cpu": 2000, "memory": 1073741824},
      "a pod's init containers count: one runs alone before the app, so the pod needs max(2, 500m) cpu and max(128Mi, 1Gi) memory",
      expected={"cpu": 2000, "memory": 1073741824}, got=pod_requests(migrate), see=FILTER_SECTION)
bare = make_pod("bare")
check(pod_requests(bare) == {"cpu": 0, "memory": 0}, "a container without requests requests nothing",
      got=pod_requests(bare), see=FILTER_SECTION)
check(pod_requests(bare, {"cpu": 100, "memory": 209715200}) == {"cpu": 100, "memory": 209715200},
      "with defaults, a container without requests counts as the defaults", got=pod_requests(bare, {"cpu": 100, "memory": 209715200}),
      see=FILTER_SECTION)
### BEGIN HIDDEN TESTS
from engine.grading.integrity import ensure_installed
ensure_installed()     # the engine as installed, whatever the notebook patched
from engine.grading.scheduling import check_pod_requests
check_pod_requests(pod_requests, seed=40)
### END HIDDEN TESTS
"""),
        md("fit_intro", """
## Part 2: NodeResourcesFit's Filter (2 points)

A pod fits on a node when, for each resource it requests, the request is **at most** what is left:
`node_info.allocatable[r] - node_info.requested[r]` (what the node may give pods, minus the requests of
the pods already there; the scheduler counts requests, never actual use). `fit_filter(pod, node_info)`
returns the list of reasons the pod does **not** fit, empty when it fits, in this order:

1. `"Too many pods"` when the node already holds `allocatable["pods"]` pods (`len(node_info.pods)`);
2. `"Insufficient cpu"` when the pod requests some cpu and more than is left;
3. `"Insufficient memory"` likewise.

These are the exact words of the real scheduler: they end up, counted per node, in the pod's
`FailedScheduling` event (`0/3 nodes are available: 2 Insufficient cpu, 1 Too many pods.`).
"""),
        solution("fit_filter", """
def fit_filter(pod, node_info):
    \"\"\"NodeResourcesFit's Filter: the reasons the pod does not fit on the node ([] when it fits).\"\"\"
    ### BEGIN SOLUTION
    reasons = []
    if len(node_info.pods) + 1 > node_info.allocatable.get("pods", 0):
        reasons.append("Too many pods")
    request = pod_requests(pod)
    for name in ("cpu", "memory"):
        left = node_info.allocatable.get(name, 0) - node_info.requested.get(name, 0)
        if request[name] > 0 and request[name] > left:
            reasons.append(f"Insufficient {name}")
    return reasons
    ### END SOLUTION
"""),
        tests("test_fit_filter", 2, """
# busy (setup cell): 4 cpu and 8Gi allocatable, 3 cpu and 3Gi requested by two pods.
check(list(fit_filter(make_pod("small", cpu="1", memory="1Gi"), busy)) == [],
      "1 cpu fits in the 1 cpu left: a pod that fills the node exactly fits", see=FILTER_SECTION)
check(list(fit_filter(make_pod("large", cpu="1500m", memory="6Gi"), busy)) == ["Insufficient cpu", "Insufficient memory"],
      "1500m cpu and 6Gi do not fit in 1 cpu and 5Gi", expected=["Insufficient cpu", "Insufficient memory"],
      got=fit_filter(make_pod("large", cpu="1500m", memory="6Gi"), busy), see=FILTER_SECTION)
full = node_info(make_node("tiny", pods=2), make_pod("a"), make_pod("b"))
check(list(fit_filter(make_pod("c"), full)) == ["Too many pods"], "a node with pods=2 holds two pods",
      got=fit_filter(make_pod("c"), full), see=FILTER_SECTION)
### BEGIN HIDDEN TESTS
from engine.grading.integrity import ensure_installed
ensure_installed()     # the engine as installed, whatever the notebook patched
from engine.grading.scheduling import check_fit_filter
check_fit_filter(fit_filter, pod_requests, seed=41)
### END HIDDEN TESTS
"""),
        md("taints_intro", """
## Part 3: taints and tolerations (2 points)

A **taint** on a node (`kubectl taint nodes node1 key1=value1:NoSchedule`) repels pods; a **toleration**
in a pod lets it ignore a matching taint. A taint is `{"key", "value" (may be missing), "effect"}` with
effect `NoSchedule`, `PreferNoSchedule` or `NoExecute`.

`tolerates(toleration, taint)`: a toleration matches a taint when

- its `effect` is empty (missing) or equal to the taint's, **and**
- its `key` is empty (missing) or equal to the taint's, **and**
- its `operator` (default `Equal`) is `Exists` (any value), or `Equal` and its `value` equals the
  taint's (a missing value is `""`).

`taint_filter(pod, node_info)`: the node's taints are `node_info.taints`, the pod's tolerations
`pod["spec"].get("tolerations")`. Only `NoSchedule` and `NoExecute` taints keep a pod off a node
(`PreferNoSchedule` only lowers the node's score, which the engine does for you). Return `None` when
every such taint is tolerated, else the reason for the **first** one that is not, in the node's order:
`"node(s) had untolerated taint {key: value}"` (for a taint without a value: `{key: }`).
"""),
        solution("taints", """
def tolerates(toleration, taint):
    \"\"\"True when the toleration matches the taint.\"\"\"
    ### BEGIN SOLUTION
    if toleration.get("effect") and toleration["effect"] != taint["effect"]:
        return False
    if toleration.get("key") and toleration["key"] != taint["key"]:
        return False
    operator = toleration.get("operator") or "Equal"
    if operator == "Exists":
        return True
    return operator == "Equal" and (toleration.get("value") or "") == (taint.get("value") or "")
    ### END SOLUTION


def taint_filter(pod, node_info):
    \"\"\"TaintToleration's Filter: None, or the reason naming the first untolerated NoSchedule/NoExecute taint.\"\"\"
    ### BEGIN SOLUTION
    tolerations = pod["spec"].get("tolerations") or []
    for taint in node_info.taints:
        if taint["effect"] not in ("NoSchedule", "NoExecute"):
            continue
        if not any(tolerates(toleration, taint) for toleration in tolerations):
            return f"node(s) had untolerated taint {{{taint['key']}: {taint.get('value') or ''}}}"
    return None
    ### END SOLUTION
"""),
        tests("test_taints", 2, """
# The example of the Kubernetes documentation (Concepts > Taints and Tolerations):
taint = {"key": "key1", "value": "value1", "effect": "NoSchedule"}
check(tolerates({"key": "key1", "operator": "Equal", "value": "value1", "effect": "NoSchedule"}, taint) is True,
      "key1=value1:NoSchedule is tolerated by an Equal toleration of key1=value1:NoSchedule", see=TAINTS_SECTION)
check(tolerates({"key": "key1", "operator": "Exists", "effect": "NoSchedule"}, taint) is True,
      "Exists tolerates any value of key1", see=TAINTS_SECTION)
check(tolerates({"key": "key1", "operator": "Equal", "value": "value2", "effect": "NoSchedule"}, taint) is False,
      "Equal compares the values", see=TAINTS_SECTION)
node1 = node_info(make_node("node1", taints=[
    {"key": "key1", "value": "value1", "effect": "NoSchedule"},
    {"key": "key1", "value": "value1", "effect": "NoExecute"},
    {"key": "key2", "value": "value2", "effect": "NoSchedule"}]))
pod = make_pod("pod", tolerations=[{"key": "key1", "operator": "Equal", "value": "value1", "effect": "NoSchedule"},
                                   {"key": "key1", "operator": "Equal", "value": "value1", "effect": "NoExecute"}])
check(taint_filter(pod, node1) == "node(s) had untolerated taint {key2: value2}",
      "the pod tolerates both key1 taints, not key2=value2:NoSchedule", expected="node(s) had untolerated taint {key2: value2}",
      got=taint_filter(pod, node1), see=TAINTS_SECTION)
### BEGIN HIDDEN TESTS
from engine.grading.integrity import ensure_installed
ensure_installed()     # the engine as installed, whatever the notebook patched
from engine.grading.scheduling import check_taints
check_taints(tolerates, taint_filter, seed=42)
### END HIDDEN TESTS
"""),
        md("score_intro", """
## Part 4: the LeastAllocated score (2 points)

Among the nodes that pass every filter, NodeResourcesFit prefers the **emptiest** (its default strategy,
`LeastAllocated`; `MostAllocated` would pack pods instead). For each scored resource `r` (cpu and memory,
each with a weight from the scheduler's configuration):

- `requested` = `node_info.non_zero_requested[r]` + the pod's request for `r`, where scoring counts a
  container without a cpu request as 100m and one without a memory request as 200Mi (so that pods
  without requests still spread): `pod_requests(pod, DEFAULT_REQUESTS)`;
- `capacity` = `node_info.allocatable[r]`;
- the resource's score is `(capacity - requested) * 100 // capacity`, or 0 when `capacity` is 0 or
  `requested > capacity`.

The node's score is the weighted mean, `sum(score_r * weight_r) // sum(weight_r)`. Everything is
**integer** arithmetic, truncating as Go's integer division does: the real scheduler never rounds.
`resources` is a list of `(name, weight)` pairs, `[("cpu", 1), ("memory", 1)]` by default.
"""),
        solution("least_allocated_score", """
DEFAULT_REQUESTS = {"cpu": 100, "memory": 200 * 1024 * 1024}


def least_allocated_score(pod, node_info, resources):
    \"\"\"NodeResourcesFit's LeastAllocated score of the node for the pod, 0..100.\"\"\"
    ### BEGIN SOLUTION
    request = pod_requests(pod, DEFAULT_REQUESTS)
    total = weights = 0
    for name, weight in resources:
        capacity = node_info.allocatable.get(name, 0)
        requested = node_info.non_zero_requested.get(name, 0) + request[name]
        score = 0 if capacity == 0 or requested > capacity else (capacity - requested) * 100 // capacity
        total += score * weight
        weights += weight
    return total // weights if weights else 0
    ### END SOLUTION
"""),
        tests("test_least_allocated", 2, """
empty = node_info(make_node("empty", cpu="4", memory="8Gi"))
both = [("cpu", 1), ("memory", 1)]
check(least_allocated_score(make_pod("p", cpu="1", memory="2Gi"), empty, both) == 75,
      "1 of 4 cpu and 2 of 8Gi leave 75% free of each (LeastAllocated; 25 would be MostAllocated)", got=least_allocated_score(make_pod("p", cpu="1", memory="2Gi"), empty, both))
check(least_allocated_score(make_pod("p"), empty, both) == 97,
      "a pod without requests counts as 100m and 200Mi: (4000 - 100) * 100 // 4000 = 97, and 97 for memory",
      got=least_allocated_score(make_pod("p"), empty, both))
odd = node_info(make_node("odd", cpu="3", memory="8Gi"))
check(least_allocated_score(make_pod("p", cpu="1", memory="1Gi"), odd, both) == 76,
      "integer division at each step: cpu 2000 * 100 // 3000 = 66, memory 87, (66 + 87) // 2 = 76",
      got=least_allocated_score(make_pod("p", cpu="1", memory="1Gi"), odd, both))
check(least_allocated_score(make_pod("p", cpu="1", memory="1Gi"), odd, [("cpu", 3), ("memory", 1)]) == 71,
      "weights: (66 * 3 + 87 * 1) // 4 = 71", got=least_allocated_score(make_pod("p", cpu="1", memory="1Gi"), odd, [("cpu", 3), ("memory", 1)]))
### BEGIN HIDDEN TESTS
from engine.grading.integrity import ensure_installed
ensure_installed()     # the engine as installed, whatever the notebook patched
from engine.grading.scheduling import check_score
check_score(least_allocated_score, pod_requests, seed=43)
### END HIDDEN TESTS
"""),
        md("live_intro", """
## Part 5: your plugins in a running scheduler (2 points)

`scheduler_cluster(nodes)` starts a cluster of an API server and a kube-scheduler with these nodes (no
kubelets: pods are bound to nodes and wait there). `plug_scheduler_plugins(cluster, fit_filter=...,
taint_filter=..., score=...)` rebuilds the scheduler's profile so that NodeResourcesFit and
TaintToleration call your functions: from then on, every pod is filtered and scored by your code, the
engine's framework does the rest (the other plugins, weights, picking the best node, binding, the
`FailedScheduling` message built from your reasons). The hidden tests schedule whole seeded workloads
this way and compare every placement and message with what the engine's own plugins produce.
"""),
        code("live_setup", """
from engine.grading.scheduler import plug_scheduler_plugins, scheduler_cluster
"""),
        tests("test_in_scheduler", 2, """
cluster = scheduler_cluster([make_node("small", cpu="2"), make_node("large", cpu="8"),
                             make_node("gpu", cpu="8", taints=[{"key": "gpu", "value": "true", "effect": "NoSchedule"}])])
plugged = plug_scheduler_plugins(cluster, fit_filter=fit_filter, taint_filter=taint_filter, score=least_allocated_score)
cluster.apply(make_pod("web", cpu="3"))
cluster.apply(make_pod("huge", cpu="16"))
cluster.run(2)
for function, error in plugged.errors[:1]:     # what your code raised inside the scheduler, if anything
    fail(f"the scheduler called your {function} and it raised {type(error).__name__}: {error}")
check(cluster.get("pod", "web")["spec"].get("nodeName") == "large",
      "3 cpu fit only on 'large' (small has 2, gpu is tainted)", got=cluster.get("pod", "web")["spec"].get("nodeName"))
message = [e["message"] for e in cluster.list("events") if e["reason"] == "FailedScheduling"]
expected = ("0/3 nodes are available: 1 node(s) had untolerated taint {gpu: true}, 2 Insufficient cpu. preemption: "
            "0/3 nodes are available: 1 Preemption is not helpful for scheduling, 2 No preemption victims found for incoming pod..")
check(message[:1] == [expected], "'huge' fits nowhere: the FailedScheduling event counts your reasons",
      expected=[expected], got=message)
print(cluster.kubectl("get pods -o wide"))
### BEGIN HIDDEN TESTS
from engine.grading.integrity import ensure_installed
ensure_installed()     # the engine as installed, whatever the notebook patched
from engine.grading.scheduling import check_in_scheduler
check_in_scheduler(fit_filter, taint_filter, least_allocated_score, seed=45)
### END HIDDEN TESTS
"""),
        md("outro", """
## What you built

Your functions ran inside a real scheduling cycle: `fit_filter` is `fitsRequest` in
`pkg/scheduler/framework/plugins/noderesources/fit.go`, `taint_filter` is TaintToleration's `Filter`
(`v1helper.FindMatchingUntoleratedTaint`), `least_allocated_score` is `leastResourceScorer` in
`least_allocated.go`, and `pod_requests` is `resourcehelper.PodRequests`, which the kubelet's admission,
ResourceQuota and the cluster autoscaler use too. The real scheduler adds the rest: ephemeral storage
and extended resources (GPUs), sidecars, and `ignoredResources`.
"""),
    ]


FULL = {"test_pod_requests": 2, "test_fit_filter": 2, "test_taints": 2, "test_least_allocated": 2,
        "test_in_scheduler": 2}
"""Points per graded cell: what the solution scores."""

BROKEN = ("broken_import", "broken_loop")
"""Which kinds of broken submission the round trip hands in for this lab (tests/grading/test_round_trip.py)."""

SECRETS = ("check_pod_requests", "check_fit_filter", "check_taints", "check_score", "check_in_scheduler")
"""Names of hidden-test helpers that must never appear in a released lab or in feedback."""

_EDITS = {
    "wrong_init_containers": ("pod_requests", "            total[name] = max(total[name], value)\n",
                              "            pass\n",
                              {"test_pod_requests", "test_fit_filter", "test_least_allocated", "test_in_scheduler"},
                              "init containers count"),
    "wrong_prefer_no_schedule": ("taints", '        if taint["effect"] not in ("NoSchedule", "NoExecute"):\n            continue\n',
                                 "", {"test_taints", "test_in_scheduler"}, "PreferNoSchedule never keeps a pod off a node"),
    "wrong_most_allocated": ("least_allocated_score", "(capacity - requested) * 100 // capacity",
                             "requested * 100 // capacity", {"test_least_allocated", "test_in_scheduler"},
                             "MostAllocated"),
    "wrong_rounding": ("least_allocated_score", "return total // weights if weights else 0",
                       "return round(total / weights) if weights else 0", {"test_least_allocated", "test_in_scheduler"},
                       "integer division"),
}


_DELEGATES = """
from engine.scheduler.plugins.taint_toleration import tolerates


def taint_filter(pod, node_info):
    for taint in node_info.taints:
        if taint["effect"] in ("NoSchedule", "NoExecute") and not any(
                tolerates(toleration, taint) for toleration in pod["spec"].get("tolerations") or []):
            return f"node(s) had untolerated taint {{{taint['key']}: {taint.get('value') or ''}}}"
    return None
"""


def wrong_answers() -> dict[str, tuple[str, str, set[str], str]]:
    """Typical mistakes, each a one-line change of the solution (so they follow its text), and an answer that
    hands its work to the engine: student -> (answer cell id, its wrong source, graded cells that fail, words in
    feedback)."""
    sources = {grade_id: text for kind, grade_id, text, _ in cells() if kind == "solution"}
    wrong = {"wrong_delegates_tolerates": ("taints", _DELEGATES, {"test_taints", "test_in_scheduler"},
                                           "hands the work to the engine's own implementation")}
    for student, (cell_id, old, new, failing, words) in _EDITS.items():
        source = sources[cell_id].strip("\n")
        assert old in source, f"{student}: the solution of {cell_id} changed; update lab04_scheduler._EDITS"
        wrong[student] = (cell_id, source.replace(old, new), failing, words)
    return wrong
