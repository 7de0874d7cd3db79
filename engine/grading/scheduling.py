"""Scheduling scenarios for the scheduler lab: generated pods, nodes and workloads, and the lab's checks.

Interface:

- ``random_pod(rng, name)``, ``random_node(rng, name)``, ``random_node_info(rng, name)``: pods with
  app and init containers (cpu and memory requests, sometimes none, sometimes ``spec.overhead``)
  and tolerations; nodes with allocatable cpu / memory / pods and taints of every effect; a
  NodeInfo with pods already placed.
- ``reference_pod_requests``, ``reference_fit_filter``, ``reference_taint_filter``,
  ``reference_tolerates``, ``reference_score``: the engine's answers in the lab's shapes.
- ``check_pod_requests``, ``check_fit_filter``, ``check_taints``, ``check_score`` (pure functions
  against the engine's) and ``check_in_scheduler`` (the learner's functions plugged into a running
  kube-scheduler, see ``engine.grading.scheduler``, placing a seeded workload beside a cluster
  that runs the engine's own plugins): each raises a ``GradingFailure`` that names the mistake, and
  gives no marks to an answer that hands its work to the engine's own code (``own_work``).

Pods here have no sidecars (init containers with ``restartPolicy: Always``) and request only cpu
and memory: the lab's rules are the whole rule for them.
"""

from __future__ import annotations

import random
from typing import Any, Callable

from engine.grading.delegation import OwnWork
from engine.grading.feedback import Outcome, check, compare, describe_exception, fail
from engine.grading.integrity import ensure_installed
from engine.grading.scheduler import configure_scheduler, plug_scheduler_plugins, scheduler_cluster
from engine.scheduler.framework import CycleState
from engine.scheduler.nodeinfo import (CPU, DEFAULT_MEMORY_REQUEST, DEFAULT_MILLI_CPU_REQUEST, MEMORY, NodeInfo,
                                       pod_non_zero_request, pod_request)
from engine.scheduler.plugins.node_resources_fit import NodeResourcesFit, insufficient_resources
from engine.scheduler.plugins.taint_toleration import TaintToleration, tolerates
from engine.scheduler.profile import default_configuration

SCORING_DEFAULTS = {CPU: DEFAULT_MILLI_CPU_REQUEST, MEMORY: DEFAULT_MEMORY_REQUEST}
"""What scoring counts for a container that requests no cpu / no memory (100m, 200Mi)."""
SEE = "course/04_scheduler.ipynb and the lab's instructions above this cell"

CPUS = ("100m", "250m", "500m", "750m", "1", "1500m", "2")
MEMORIES = ("64Mi", "128Mi", "256Mi", "512Mi", "1Gi", "1536Mi", "2Gi")
BIG_CPUS = ("1", "2", "3", "4")
BIG_MEMORIES = ("1Gi", "2Gi", "3Gi", "6Gi")
TAINTS = (
    {"key": "dedicated", "value": "db", "effect": "NoSchedule"},
    {"key": "dedicated", "value": "web", "effect": "NoExecute"},
    {"key": "gpu", "value": "true", "effect": "NoSchedule"},
    {"key": "spot", "value": "true", "effect": "PreferNoSchedule"},
    {"key": "maintenance", "effect": "PreferNoSchedule"},
    {"key": "node.kubernetes.io/unreachable", "effect": "NoExecute"},
)
TOLERATIONS = (
    {"key": "dedicated", "operator": "Equal", "value": "db", "effect": "NoSchedule"},
    {"key": "dedicated", "operator": "Exists"},
    {"key": "dedicated", "operator": "Equal", "value": "web", "effect": "NoSchedule"},
    {"key": "gpu", "value": "true"},
    {"key": "gpu", "operator": "Equal", "value": "false"},
    {"key": "spot", "operator": "Exists", "effect": "PreferNoSchedule"},
    {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300},
    {"operator": "Exists"},
)


# -- generated objects ---------------------------------------------------------------------------
def _requests(rng: random.Random, cpus: tuple, memories: tuple) -> dict:
    requests = {}
    if rng.random() < 0.8:
        requests[CPU] = rng.choice(cpus)
    if rng.random() < 0.75:
        requests[MEMORY] = rng.choice(memories)
    return {"requests": requests} if requests else {}


def random_pod(rng: random.Random, name: str, *, tolerations: bool = True) -> dict:
    """A Pending pod: 1-3 app containers, init containers in about 40% of pods, overhead in 15%."""
    containers = [{"name": f"app-{i}", "image": "nginx", "resources": _requests(rng, CPUS, MEMORIES)}
                  for i in range(rng.randint(1, 3))]
    spec: dict = {"containers": containers}
    if rng.random() < 0.4:
        spec["initContainers"] = [{"name": f"init-{i}", "image": "busybox",
                                   "resources": _requests(rng, BIG_CPUS + CPUS, BIG_MEMORIES + MEMORIES)}
                                  for i in range(rng.randint(1, 2))]
    if rng.random() < 0.15:
        spec["overhead"] = {CPU: "250m", MEMORY: "120Mi"}
    if tolerations and rng.random() < 0.5:
        spec["tolerations"] = rng.sample(TOLERATIONS, rng.randint(1, 2))
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": "default", "uid": f"uid-{name}"},
            "spec": spec, "status": {"phase": "Pending"}}


def random_node(rng: random.Random, name: str, *, taint_chance: float = 0.5) -> dict:
    allocatable = {CPU: rng.choice(("2", "4", "8")), MEMORY: rng.choice(("4Gi", "8Gi", "16Gi")),
                   "pods": str(rng.choice((110, 110, 110, 4, 6)))}
    spec: dict = {}
    if rng.random() < taint_chance:
        spec["taints"] = rng.sample(TAINTS, rng.randint(1, 2))
    return {"apiVersion": "v1", "kind": "Node", "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name}},
            "spec": spec, "status": {"allocatable": allocatable, "capacity": dict(allocatable),
                                     "conditions": [{"type": "Ready", "status": "True"}]}}


def random_node_info(rng: random.Random, name: str) -> NodeInfo:
    """A node with 0-5 pods on it (bound, as the scheduler's cache holds them)."""
    info = NodeInfo(random_node(rng, name))
    for index in range(rng.randint(0, 5)):
        pod = random_pod(rng, f"{name}-placed-{index}", tolerations=False)
        pod["spec"]["nodeName"] = name
        info.add_pod(f"default/{pod['metadata']['name']}", pod)
    return info


# -- the engine's answers, in the lab's shapes --------------------------------------------------
def _cpu_memory(values: Any) -> dict[str, int]:
    values = values or {}
    return {CPU: values.get(CPU, 0), MEMORY: values.get(MEMORY, 0)}


def reference_pod_requests(pod: dict, defaults: dict | None = None) -> dict[str, int]:
    return _cpu_memory(pod_non_zero_request(pod) if defaults else pod_request(pod))


def reference_fit_filter(pod: dict, node_info: NodeInfo) -> list[str]:
    return insufficient_resources(pod_request(pod), node_info)


def reference_tolerates(toleration: dict, taint: dict) -> bool:
    return tolerates(toleration, taint)


def reference_taint_filter(pod: dict, node_info: NodeInfo) -> str | None:
    status = TaintToleration().filter(CycleState(), pod, node_info)
    return status.reasons[0] if status else None


def reference_score(pod: dict, node_info: NodeInfo, resources: list) -> int:
    plugin = NodeResourcesFit({"scoringStrategy": {"type": "LeastAllocated",
                                                   "resources": [{"name": n, "weight": w} for n, w in resources]}})
    return plugin.score(CycleState(), pod, node_info)


def own_work(what: str) -> OwnWork:
    """The engine's own pieces that the lab's ``what`` must not hand its work to (a function the answer
    builds on counts too: a fit filter or a score on top of delegated requests is delegated)."""
    from engine.api import resources
    from engine.scheduler import nodeinfo
    from engine.scheduler.plugins import node_resources_fit, taint_toleration

    requests = [nodeinfo.pod_request, nodeinfo.pod_non_zero_request, nodeinfo._compute, resources.combine,
                resources.pod_resources, reference_pod_requests]
    taints = [taint_toleration.tolerates, taint_toleration.find_untolerated, taint_toleration.TaintToleration,
              reference_tolerates, reference_taint_filter]
    fit = [node_resources_fit.NodeResourcesFit, node_resources_fit.insufficient_resources, reference_fit_filter]
    score = [node_resources_fit.NodeResourcesFit, node_resources_fit.least_allocated,
             node_resources_fit.most_allocated, reference_score]
    pieces = {"pod_requests": requests, "fit_filter": fit + requests, "tolerates": taints, "taint_filter": taints,
              "least_allocated_score": score + requests}[what]
    return OwnWork(what, pieces, see=SEE)


# -- how a case reads in a message ----------------------------------------------------------------
def _amounts(resources: dict) -> str:
    requests = (resources or {}).get("requests") or {}
    return f"{requests.get(CPU, '-')}/{requests.get(MEMORY, '-')}"


def describe_pod(pod: dict) -> str:
    spec = pod["spec"]
    text = "containers (cpu/memory) [" + ", ".join(_amounts(c.get("resources")) for c in spec["containers"]) + "]"
    if spec.get("initContainers"):
        text += ", init [" + ", ".join(_amounts(c.get("resources")) for c in spec["initContainers"]) + "]"
    if spec.get("overhead"):
        text += f", overhead {spec['overhead'][CPU]}/{spec['overhead'][MEMORY]}"
    return text


def describe_node(info: NodeInfo) -> str:
    a, r = info.allocatable, info.requested
    return (f"node allocatable cpu={a.get(CPU, 0)}m memory={a.get(MEMORY, 0)} pods={a.get('pods', 0)}, "
            f"already requested cpu={r.get(CPU, 0)}m memory={r.get(MEMORY, 0)} by {len(info.pods)} pod(s)")


def _taints(info: NodeInfo) -> str:
    return "node taints " + (", ".join(f"{t['key']}={t.get('value', '')}:{t['effect']}" for t in info.taints)
                             or "none")


# -- Step 1: what a pod requests ----------------------------------------------------------------
def _sum_apps_only(pod: dict, defaults: dict | None) -> dict[str, int]:
    spec = dict(pod["spec"])
    spec.pop("initContainers", None)
    return reference_pod_requests(dict(pod, spec=spec), defaults)


def _no_overhead(pod: dict, defaults: dict | None) -> dict[str, int]:
    spec = dict(pod["spec"])
    spec.pop("overhead", None)
    return reference_pod_requests(dict(pod, spec=spec), defaults)


INIT_CONTAINERS = ("a pod's init containers count: the request is the max of the largest init container and "
                   "the sum of app containers (resource by resource), plus spec.overhead")


def _diagnose_requests(case: tuple, expected: Outcome, got: Outcome) -> str | None:
    pod, defaults = case
    if got.error is not None or expected.value == got.value:
        return None
    if pod["spec"].get("initContainers") and got.value == _sum_apps_only(pod, defaults):
        return INIT_CONTAINERS
    if pod["spec"].get("overhead") and got.value == _no_overhead(pod, defaults):
        return "spec.overhead (what the pod's sandbox costs) is added to the requests"
    if defaults and got.value == reference_pod_requests(pod):
        return ("with defaults, a container (app or init) that requests no cpu counts as defaults['cpu'], one "
                "that requests no memory as defaults['memory']")
    return None


def check_pod_requests(pod_requests: Callable, seed: int, n: int = 200) -> None:
    rng = random.Random(seed)
    cases = [(random_pod(rng, f"pod-{i}", tolerations=False), None if i % 2 else dict(SCORING_DEFAULTS))
             for i in range(n)]
    own = own_work("pod_requests")
    answer = own.wrap(pod_requests)
    compare(lambda pod, defaults: answer(pod, defaults), reference_pod_requests, cases,
            describe=lambda pod, defaults: describe_pod(pod) + (", with scoring defaults" if defaults else ""),
            normalize=_cpu_memory, what="pod_requests", diagnose=_diagnose_requests, see=SEE,
            hint="requests are integers: cpu in millicores ('500m' -> 500), memory in bytes ('1Gi' -> 1073741824)")
    own.check(pod_requests)


# -- Step 2: does the pod fit? ------------------------------------------------------------------
def _diagnose_fit(pod_requests: Callable) -> Callable[[tuple, Outcome, Outcome], str | None]:
    def diagnose(case: tuple, expected: Outcome, got: Outcome) -> str | None:
        pod, info = case
        if got.error is not None:
            return None
        try:
            mine = _cpu_memory(pod_requests(pod, None))
        except Exception:
            mine = None
        if mine != reference_pod_requests(pod):
            return f"your pod_requests says {mine} for this pod, the engine {reference_pod_requests(pod)}: " + (
                INIT_CONTAINERS if pod["spec"].get("initContainers") else "fix pod_requests first")
        if "Too many pods" in expected.value and "Too many pods" not in got.value:
            return "a node holds at most allocatable['pods'] pods: one more is 'Too many pods'"
        if sorted(expected.value) == sorted(got.value):
            return "the reasons come in a fixed order: 'Too many pods', then cpu, then memory"
        return ("a resource is short when the pod's request is more than allocatable minus what the node's pods "
                "already request (node_info.requested); a pod that fills the node exactly fits")
    return diagnose


def check_fit_filter(fit_filter: Callable, pod_requests: Callable, seed: int, n: int = 200) -> None:
    rng = random.Random(seed)
    cases = [(random_pod(rng, f"pod-{i}", tolerations=False), random_node_info(rng, f"node-{i}")) for i in range(n)]
    own = own_work("fit_filter")
    compare(own.wrap(fit_filter), reference_fit_filter, cases,
            describe=lambda pod, info: f"pod {describe_pod(pod)} on {describe_node(info)}",
            normalize=lambda value: list(value or []), what="fit_filter", diagnose=_diagnose_fit(pod_requests),
            see=SEE)
    own.check(fit_filter)


# -- Step 3: taints and tolerations ------------------------------------------------------------
PREFER_NO_SCHEDULE = ("PreferNoSchedule never keeps a pod off a node: only NoSchedule and NoExecute taints do "
                      "(an untolerated PreferNoSchedule taint only lowers the node's score)")


def _diagnose_tolerates(case: tuple, expected: Outcome, got: Outcome) -> str | None:
    toleration, taint = case
    if not toleration.get("key") and toleration.get("operator") == "Exists":
        return "an empty key with operator Exists tolerates every taint"
    if not toleration.get("effect"):
        return "a toleration without an effect tolerates the taint whatever its effect"
    if not toleration.get("operator"):
        return "operator defaults to Equal"
    return None


def _diagnose_taints(case: tuple, expected: Outcome, got: Outcome) -> str | None:
    pod, info = case
    if got.error is not None:
        return None
    prefer = {f"node(s) had untolerated taint {{{t['key']}: {t.get('value', '')}}}" for t in info.taints
              if t["effect"] == "PreferNoSchedule"}
    if got.value in prefer:
        return PREFER_NO_SCHEDULE
    if expected.value and got.value and expected.value != got.value:
        return ("the reason names the first untolerated NoSchedule/NoExecute taint, in the node's order, "
                "as node(s) had untolerated taint {key: value}")
    return None


def check_taints(tolerates_fn: Callable, taint_filter: Callable, seed: int, n: int = 200) -> None:
    pairs = [(toleration, taint) for toleration in TOLERATIONS for taint in TAINTS]
    own_tolerates = own_work("tolerates")
    compare(own_tolerates.wrap(tolerates_fn), reference_tolerates, pairs, what="tolerates",
            diagnose=_diagnose_tolerates, see=SEE)
    own_tolerates.check(tolerates_fn)
    rng = random.Random(seed)
    cases = []
    for i in range(n):
        pod = random_pod(rng, f"pod-{i}")
        info = NodeInfo(random_node(rng, f"node-{i}", taint_chance=0.9))
        cases.append((pod, info))
    own = own_work("taint_filter")
    compare(own.wrap(taint_filter), reference_taint_filter, cases,
            describe=lambda pod, info: f"pod tolerations {pod['spec'].get('tolerations', [])} on {_taints(info)}",
            normalize=lambda value: value or None, what="taint_filter", diagnose=_diagnose_taints, see=SEE)
    own.check(taint_filter)


# -- Step 4: the LeastAllocated score ------------------------------------------------------------
WEIGHTS = ([(CPU, 1), (MEMORY, 1)], [(CPU, 2), (MEMORY, 1)], [(CPU, 1), (MEMORY, 3)])


def _variant(pod: dict, info: NodeInfo, resources: list, per_resource: Callable[[int, int], float],
             combine: Callable[[float, int], float]) -> float:
    request = pod_non_zero_request(pod)
    total = weights = 0
    for name, weight in resources:
        capacity = info.allocatable.get(name, 0)
        requested = info.non_zero_requested.get(name, 0) + request.get(name, 0)
        total += per_resource(requested, capacity) * weight
        weights += weight
    return combine(total, weights)


def _most(requested: int, capacity: int) -> int:
    return min(requested, capacity) * 100 // capacity if capacity else 0


def _most_or_zero(requested: int, capacity: int) -> int:
    return requested * 100 // capacity if capacity and requested <= capacity else 0


def _least_exact(requested: int, capacity: int) -> float:
    return (capacity - requested) * 100 / capacity if capacity and requested <= capacity else 0


def _diagnose_score(pod_requests: Callable) -> Callable[[tuple, Outcome, Outcome], str | None]:
    def diagnose(case: tuple, expected: Outcome, got: Outcome) -> str | None:
        pod = case[0]
        try:
            mine = _cpu_memory(pod_requests(pod, dict(SCORING_DEFAULTS)))
        except Exception:
            mine = None
        if mine != reference_pod_requests(pod, SCORING_DEFAULTS):
            return (f"your pod_requests(pod, DEFAULT_REQUESTS) says {mine} for this pod, the engine "
                    f"{reference_pod_requests(pod, SCORING_DEFAULTS)}: fix pod_requests first")
        return _diagnose_formula(case, expected, got)
    return diagnose


def _diagnose_formula(case: tuple, expected: Outcome, got: Outcome) -> str | None:
    pod, info, resources = case
    if got.error is not None:
        return None
    value = got.value
    if value in (_variant(pod, info, resources, _most, lambda t, w: t // w),
                 _variant(pod, info, resources, _most_or_zero, lambda t, w: t // w)):
        return ("that is the MostAllocated score (requested * 100 // capacity), which packs pods; LeastAllocated "
                "prefers the emptiest node: (capacity - requested) * 100 // capacity")
    exact = _variant(pod, info, resources, _least_exact, lambda t, w: t / w)
    if value in (round(exact), int(exact + 0.5)) or value == _variant(
            pod, info, resources, lambda r, c: round(_least_exact(r, c)), lambda t, w: round(t / w)):
        return ("Kubernetes scores with integer division, truncating: (capacity - requested) * 100 // capacity "
                "per resource, then the weighted sum // the sum of the weights (no rounding, no floats)")
    return None


def check_score(score: Callable, pod_requests: Callable, seed: int, n: int = 200) -> None:
    rng = random.Random(seed)
    cases = [(random_pod(rng, f"pod-{i}", tolerations=False), random_node_info(rng, f"node-{i}"),
              list(WEIGHTS[i % len(WEIGHTS)])) for i in range(n)]
    own = own_work("least_allocated_score")
    compare(own.wrap(score), reference_score, cases,
            describe=lambda pod, info, resources: f"pod {describe_pod(pod)} on {describe_node(info)}, "
                                                  f"weights {resources}",
            normalize=lambda value: value if isinstance(value, int) and not isinstance(value, bool)
            else f"{value!r} (not an int)", what="least_allocated_score", diagnose=_diagnose_score(pod_requests), see=SEE)
    own.check(score)


# -- Everything in a running scheduler -----------------------------------------------------------
def _workload(seed: int, nodes: int, pods: int) -> tuple[list[dict], list[dict]]:
    """Seeded nodes and pods; the first node has a PreferNoSchedule taint and the second a NoSchedule or
    NoExecute one, so that every workload tries each effect."""
    rng = random.Random(seed)
    node_objects = [random_node(rng, f"node-{i}", taint_chance=0.4) for i in range(1, nodes + 1)]
    prefer = [t for t in TAINTS if t["effect"] == "PreferNoSchedule"]
    blocking = [t for t in TAINTS if t["effect"] != "PreferNoSchedule"]
    for node, choices in zip(node_objects, (prefer, blocking)):
        taint = rng.choice(choices)
        node["spec"]["taints"] = [taint] + [t for t in node["spec"].get("taints", []) if t["key"] != taint["key"]]
    pod_objects = [random_pod(rng, f"pod-{i:02d}") for i in range(pods)]
    for pod in pod_objects:
        del pod["metadata"]["uid"], pod["status"]
    return node_objects, pod_objects


def _run_workload(cluster: Any, pods: list[dict], deletions: int) -> tuple[dict, dict]:
    admin = cluster.admin
    for pod in pods:
        admin.create(pod)
        cluster.run(0.05)
    cluster.run(2)
    bound = sorted(p["metadata"]["name"] for p in cluster.list("pods") if p["spec"].get("nodeName"))
    for name in bound[:deletions]:            # room frees up: unschedulable pods are retried
        cluster.delete("pod", name, grace_period_seconds=0)
    cluster.run(15)
    placements = {p["metadata"]["name"]: p["spec"].get("nodeName") for p in cluster.list("pods")}
    failures: dict[str, list[str]] = {}
    for event in sorted(cluster.list("events"), key=lambda e: (e["involvedObject"]["name"], e["metadata"]["name"])):
        if event["reason"] == "FailedScheduling":
            failures.setdefault(event["involvedObject"]["name"], []).append(event["message"])
    return placements, failures


def _configuration(seed: int) -> dict | None:
    if seed % 2 == 0:
        return None
    configuration = default_configuration()
    configuration["profiles"][0]["pluginConfig"] = [{"name": "NodeResourcesFit", "args": {"scoringStrategy": {
        "type": "LeastAllocated", "resources": [{"name": CPU, "weight": 2}, {"name": MEMORY, "weight": 1}]}}}]
    return configuration


def check_in_scheduler(fit_filter: Callable, taint_filter: Callable, score: Callable, seed: int, nodes: int = 5,
                       pods: int = 24) -> None:
    """Schedule one seeded workload twice, with the learner's plugins and with the engine's; compare."""
    node_objects, pod_objects = _workload(seed, nodes, pods)
    configuration = _configuration(seed)
    ensure_installed("engine.cluster")       # both clusters from the installed engine, before any learner code runs
    reference_cluster = scheduler_cluster(node_objects, seed)
    configure_scheduler(reference_cluster, configuration)
    cluster = scheduler_cluster(node_objects, seed)
    expected = _run_workload(reference_cluster, pod_objects, deletions=4)
    owns = [(own_work(what), function) for what, function in (("fit_filter", fit_filter),
                                                              ("taint_filter", taint_filter),
                                                              ("least_allocated_score", score))]
    record = plug_scheduler_plugins(cluster, fit_filter=owns[0][0].wrap(fit_filter),
                                    taint_filter=owns[1][0].wrap(taint_filter), score=owns[2][0].wrap(score),
                                    configuration=configuration)
    got = _run_workload(cluster, pod_objects, deletions=4)
    for own, function in owns:
        own.check(function)
    if record.errors:
        function, error = record.errors[0]
        fail(f"the scheduler called your {function} and it failed: {describe_exception(error)}", see=SEE)
    wrong = record.disagreements()
    if got == expected and not wrong:
        return
    why = ""
    if wrong:
        call = wrong[0]
        why = (f"\nThe first disagreement: {call.function} for pod {call.pod} on {call.node} answered "
               f"{call.learner!r}, the engine {call.reference!r}.")
    if got == expected:
        fail(f"the workload (seed {seed}) ended as with the engine's plugins, but on {len(wrong)} of "
             f"{len(record.calls)} calls your functions answered otherwise" + why, see=SEE)
    for name in sorted(expected[0]):
        if expected[0][name] != got[0].get(name):
            fail(f"with your plugins the scheduler placed pod {name} differently (workload seed {seed})" + why,
                 expected=expected[0][name] or "Pending", got=got[0].get(name) or "Pending", see=SEE)
    for name in sorted(expected[1]):
        if expected[1][name] != got[1].get(name):
            fail(f"pod {name} got other FailedScheduling messages with your plugins (workload seed {seed})" + why,
                 expected=expected[1][name], got=got[1].get(name, []), see=SEE)
    check(False, f"the workload (seed {seed}) ended differently with your plugins" + why, see=SEE)
