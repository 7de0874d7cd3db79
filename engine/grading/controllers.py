"""The controllers lab: the learner's ReplicaSet and rolling-update decisions, alone and in a running cluster.

Interface:

- ``deletion_order(pods, related_pods, now)``: the order in which the ReplicaSet controller deletes
  pods (ActivePodsWithRanks), a tool the lab hands to learners;
- ``controllers_cluster(nodes, seed, manage_replicas=None, rolling_update_step=None)``: a cluster of
  kube-controller-manager, kube-scheduler and real kubelets whose ReplicaSet and Deployment
  controllers call the given functions in place of the engine's decisions (each call is recorded
  in ``cluster.decisions``: the learner's answer beside the engine's, and any exception);
- ``check_manage_replicas``, ``check_fenceposts``, ``check_rolling_step`` (pure functions against
  the engine's on seeded cases) and ``check_in_cluster`` (the same seeded scale-ups and rollouts on
  a cluster running the learner's decisions and on one running the engine's), ``check_node_failure``
  (the learner's ReplicaSet decision while a node dies and its pods are evicted): each raises a
  ``GradingFailure`` naming the mistake, and gives no marks to an answer that hands its work to the
  engine's own decision (``OwnWork``).

A learner's exception inside a controller never crashes the cluster: the call is recorded and the
controller does nothing that sync. Nothing here prints or writes to stderr.
"""

from __future__ import annotations

import dataclasses
import random
from typing import Any, Callable

from engine.components import COMPONENTS, ComponentSpec
from engine.controllers import controller_utils as cu
from engine.controllers.deployment import DeploymentController
from engine.controllers.deployment import rolling, util
from engine.controllers.deployment.rolling import ReplicaSetState
from engine.controllers.manager import CONTROLLERS
from engine.controllers.replicaset import ReplicaPlan, ReplicaSetController
from engine.controllers import replicaset
from engine.grading.delegation import OwnWork
from engine.grading.feedback import Outcome, compare, describe_exception, fail
from engine.grading.integrity import ensure_installed

SEE = "course/05_controller_manager.ipynb and the lab's instructions above this cell"
REFERENCE_MANAGE_REPLICAS = replicaset.manage_replicas
REFERENCE_ROLLING_UPDATE_STEP = rolling.rolling_update_step
REFERENCE_FENCEPOSTS = util.resolve_fenceposts


def deletion_order(pods: list[dict], related_pods: list[dict], now: float) -> list[dict]:
    """``pods`` in the order the ReplicaSet controller deletes them: the ones to delete first come first."""
    ranks = cu.ranks_by_related_pods_on_same_node(pods, related_pods)
    return cu.sort_active_pods_with_ranks(pods, ranks, now)


# -- the learner's functions inside the controllers ---------------------------------------

class _Decisions:
    """Every call a controller made to a plugged decision: ``(name, args, learner Outcome, engine Outcome)``."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple, Outcome, Outcome]] = []

    def plug(self, name: str, learner: Callable, reference: Callable, idle: Any) -> Callable:
        def decide(*args: Any) -> Any:
            expected = Outcome(value=reference(*args))
            try:
                got = Outcome(value=learner(*args))
            except Exception as error:      # the learner's exception: recorded, and the sync does nothing
                self.calls.append((name, args, Outcome(error=error), expected))
                return idle
            self.calls.append((name, args, got, expected))
            return got.value
        return decide

    def errors(self) -> list[tuple[str, BaseException]]:
        return [(name, got.error) for name, _args, got, _expected in self.calls if got.error is not None]

    def disagreements(self, same: Callable[[str, Any, Any], bool]) -> list[tuple[str, tuple, Outcome, Outcome]]:
        return [call for call in self.calls if call[2].error is None and not same(call[0], call[2].value,
                                                                                  call[3].value)]


class LearnerReplicaSetController(ReplicaSetController):
    """The ReplicaSet controller with ``options["manage_replicas"]`` as its decision."""

    def __init__(self, context: Any, **kwargs: Any) -> None:
        super().__init__(context, **kwargs)
        if context.options.get("manage_replicas") is not None:
            self.manage_replicas = context.options["manage_replicas"]


class LearnerDeploymentController(DeploymentController):
    """The Deployment controller with ``options["rolling_update_step"]`` as its decision."""

    def __init__(self, context: Any, **kwargs: Any) -> None:
        super().__init__(context, **kwargs)
        if context.options.get("rolling_update_step") is not None:
            self.rolling_update_step = context.options["rolling_update_step"]


_REPLACED = {"engine.controllers.replicaset:ReplicaSetController": f"{__name__}:LearnerReplicaSetController",
             "engine.controllers.deployment:DeploymentController": f"{__name__}:LearnerDeploymentController"}


def controllers_cluster(nodes: int = 3, seed: int = 0, *, manage_replicas: Callable | None = None,
                        rolling_update_step: Callable | None = None) -> Any:
    """A cluster (manager, scheduler, kubelets) whose ReplicaSet / Deployment controllers use these decisions."""
    from engine.cluster import Cluster
    from engine.kubelet import KUBELET
    from engine.scheduler import SCHEDULER

    decisions = _Decisions()
    options: dict[str, Any] = {"controllers": [_REPLACED.get(target, target) for target in CONTROLLERS]}
    if manage_replicas is not None:
        options["manage_replicas"] = decisions.plug("manage_replicas", manage_replicas, REFERENCE_MANAGE_REPLICAS,
                                                    ReplicaPlan())
    if rolling_update_step is not None:
        options["rolling_update_step"] = decisions.plug("rolling_update_step", rolling_update_step,
                                                        REFERENCE_ROLLING_UPDATE_STEP, [])
    names = {spec.name for spec in COMPONENTS}
    specs: list[ComponentSpec] = []
    for spec in COMPONENTS:
        if spec.name == "kube-controller-manager":
            specs.append(dataclasses.replace(spec, options={**spec.options, **options}))
        elif spec.name != "kubelet":
            specs.append(spec)
    specs += [spec for spec in (SCHEDULER,) if spec.name not in names] + [KUBELET]
    cluster = Cluster(nodes=nodes, seed=seed, components=specs)
    cluster.decisions = decisions
    return cluster


# -- pure checks ------------------------------------------------------------------------------

def own_work(what: str) -> OwnWork:
    pieces = {"manage_replicas": [REFERENCE_MANAGE_REPLICAS, ReplicaSetController],
              "resolve_fenceposts": [REFERENCE_FENCEPOSTS, util.scaled_value, util.max_surge, util.max_unavailable],
              "rolling_update_step": [REFERENCE_ROLLING_UPDATE_STEP, DeploymentController]}[what]
    return OwnWork(what, pieces, see=SEE)


def _random_pod(rng: random.Random, name: str, now: float) -> dict:
    node = rng.choice(["", "node-1", "node-2", "node-3"])
    phase = "Pending" if not node else rng.choice(["Pending", "Running", "Running", "Running"])
    ready = phase == "Running" and rng.random() < 0.8
    created = now - rng.randint(1, 600)
    status: dict[str, Any] = {"phase": phase}
    if ready:
        status["conditions"] = [{"type": "Ready", "status": "True",
                                 "lastTransitionTime": _stamp(created + rng.randint(0, 60))}]
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": "default", "uid": f"uid-{name}",
                         "creationTimestamp": _stamp(created)},
            "spec": {"nodeName": node} if node else {}, "status": status}


def _stamp(seconds: float) -> str:
    from engine.api.meta import timestamp
    return timestamp(seconds)


def _plan(plan: Any) -> tuple[int, tuple[str, ...]]:
    """(pods to create, names of the pods to delete, sorted: which pods go matters, not the order of one sync)."""
    return int(getattr(plan, "create", 0)), tuple(sorted(pod["metadata"]["name"] for pod in getattr(plan, "delete", ())))


def _diagnose_replicas(case: tuple, expected: Outcome, got: Outcome) -> str | None:
    replicas, pods, _related, _now, *rest = case
    burst = rest[0] if rest else replicaset.BURST_REPLICAS
    want, have = expected.value, got.value
    if want[0] and have[0] == replicas - len(pods) and want[0] == burst:
        return f"at most burst_replicas ({burst}) pods are created in one sync"
    if want[1] and len(have[1]) == len(pods) - replicas and len(want[1]) == burst:
        return f"at most burst_replicas ({burst}) pods are deleted in one sync"
    if want[1] and len(have[1]) == len(want[1]) and set(have[1]) != set(want[1]):
        return ("the wrong pods: the first pods of deletion_order(pods, related_pods, now) go (unscheduled, "
                "pending, not ready, doubled up, younger first), not the first of the list")
    return None


def _describe_replicas(replicas: int, pods: list, related: list, now: float,
                       burst: int = replicaset.BURST_REPLICAS) -> str:
    names = ", ".join(f"{p['metadata']['name']}({p['status']['phase']}{' ready' if cu.is_pod_ready(p) else ''}"
                      f"{' on ' + p['spec']['nodeName'] if p['spec'].get('nodeName') else ''})" for p in pods)
    return f"replicas={replicas}, burst_replicas={burst}, pods=[{names}]"


def check_manage_replicas(manage_replicas: Callable, seed: int, n: int = 150) -> None:
    rng = random.Random(seed)
    now = 10_000.0
    cases = []
    for index in range(n):
        pods = [_random_pod(rng, f"p{index}-{i}", now) for i in range(rng.randint(0, 8))]
        related = pods + [_random_pod(rng, f"r{index}-{i}", now) for i in range(rng.randint(0, 3))]
        burst = rng.choice([500, 500, 500, 2, 3])
        cases.append((rng.randint(0, 9), pods, related, now, burst))
    own = own_work("manage_replicas")
    compare(own.wrap(manage_replicas), lambda *case: _plan(REFERENCE_MANAGE_REPLICAS(*case)), cases, normalize=_plan, describe=_describe_replicas,
            render=lambda plan: f"create {plan[0]}, delete {list(plan[1])}", what="manage_replicas",
            diagnose=_diagnose_replicas, see=SEE)
    own.check(manage_replicas)


_SURGES = (0, 1, 2, 3, "0%", "10%", "25%", "30%", "50%", "100%", "33%")


def _diagnose_fenceposts(case: tuple, expected: Outcome, got: Outcome) -> str | None:
    surge, unavailable, desired = case
    if got.value is None or expected.value is None:
        return None
    if got.value[0] != expected.value[0] and isinstance(surge, str):
        return "maxSurge percentages round up, maxUnavailable percentages round down"
    if got.value[1] != expected.value[1] and isinstance(unavailable, str) and expected.value != (0, 1):
        return "maxSurge percentages round up, maxUnavailable percentages round down"
    if expected.value[1] == 1 and got.value[1] == 0 and expected.value[0] == 0:
        return "when both resolve to 0, maxUnavailable becomes 1 (else a rollout could never move)"
    return None


def check_fenceposts(resolve_fenceposts: Callable, seed: int, n: int = 200) -> None:
    rng = random.Random(seed)
    cases = [(rng.choice(_SURGES), rng.choice(_SURGES), rng.randint(0, 13)) for _ in range(n)]
    own = own_work("resolve_fenceposts")
    compare(own.wrap(resolve_fenceposts), REFERENCE_FENCEPOSTS, cases, normalize=lambda v: tuple(int(x) for x in v),
            describe=lambda s, u, d: f"maxSurge={s!r}, maxUnavailable={u!r}, replicas={d}",
            what="resolve_fenceposts", diagnose=_diagnose_fenceposts, see=SEE)
    own.check(resolve_fenceposts)


def _random_step_case(rng: random.Random) -> tuple:
    desired = rng.randint(1, 10)
    surge, unavailable = REFERENCE_FENCEPOSTS(rng.choice(_SURGES), rng.choice(_SURGES), desired)
    new_replicas = rng.randint(0, desired + 2)
    new = ReplicaSetState("web-new", new_replicas, rng.randint(0, new_replicas))
    old = []
    for index in range(rng.choice([1, 1, 2, 3])):
        replicas = rng.randint(0, desired)
        old.append(ReplicaSetState(f"web-old{index}", replicas, rng.randint(0, replicas)))
    return desired, surge, unavailable, new, old


def _steps(value: Any) -> list[tuple[str, int]]:
    return [(str(name), int(size)) for name, size in value]


def _diagnose_step(case: tuple, expected: Outcome, got: Outcome) -> str | None:
    desired, surge, unavailable, new, old = case
    total = new.replicas + sum(rs.replicas for rs in old)
    want, have = expected.value, got.value
    if have and want and have[0][0] == new.name and want[0][0] == new.name and have[0][1] > want[0][1]:
        return (f"the new set grows at most to replicas + maxSurge = {desired + surge} pods in all "
                f"(now {total}), and never above replicas ({desired})")
    if have and any(name != new.name for name, _ in have) and want and want[0][0] == new.name:
        return "scale the new set up first; old sets are only scaled down when the new set cannot grow"
    if any(name != new.name for name, _ in have):
        return ("old sets may lose at most allPods - (replicas - maxUnavailable) - newUnavailable pods; "
                "first their unavailable replicas, then available ones while more than "
                "replicas - maxUnavailable stay available, oldest set first")
    return None


def _describe_step(desired: int, surge: int, unavailable: int, new: ReplicaSetState, old: list) -> str:
    sets = ", ".join(f"{rs.name} {rs.replicas}/{rs.available}" for rs in old)
    return (f"replicas={desired}, max_surge={surge}, max_unavailable={unavailable}, new {new.name} "
            f"{new.replicas}/{new.available}, old (replicas/available) [{sets}]")


def check_rolling_step(rolling_update_step: Callable, seed: int, n: int = 200) -> None:
    rng = random.Random(seed)
    cases = [_random_step_case(rng) for _ in range(n)]
    own = own_work("rolling_update_step")
    compare(own.wrap(rolling_update_step), lambda *case: _steps(REFERENCE_ROLLING_UPDATE_STEP(*case)), cases, normalize=_steps,
            describe=_describe_step, what="rolling_update_step", diagnose=_diagnose_step, see=SEE)
    own.check(rolling_update_step)


# -- in a running cluster --------------------------------------------------------------------

def _deployment(image: str, strategy: dict, replicas: int) -> dict:
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
            "spec": {"replicas": replicas, "minReadySeconds": 1, "selector": {"matchLabels": {"app": "web"}},
                     "strategy": {"type": "RollingUpdate", "rollingUpdate": strategy},
                     "template": {"metadata": {"labels": {"app": "web"}},
                                  "spec": {"containers": [{"name": "app", "image": image}]}}}}


def _replica_set(replicas: int) -> dict:
    return {"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": "frontend"},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": "frontend"}},
                     "template": {"metadata": {"labels": {"app": "frontend"}},
                                  "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]}}}}


def _scenario(cluster: Any, seed: int) -> list[tuple[str, Any]]:
    """Scale-ups, a deleted pod, a scale-down and two rollouts; what the cluster looked like after each."""
    rng = random.Random(seed)
    seen: list[tuple[str, Any]] = []

    def look(label: str) -> None:
        pods = sorted((p["metadata"]["name"], p["spec"]["containers"][0]["image"]) for p in cluster.list("pods")
                      if not p["metadata"].get("deletionTimestamp") and p["status"].get("phase") != "Succeeded")
        sets = sorted((rs["metadata"]["name"], rs["spec"]["replicas"]) for rs in cluster.list("rs"))
        seen.append((label, {"pods": pods, "replicasets": sets}))

    cluster.apply(_replica_set(2))
    cluster.run(5)
    look("ReplicaSet frontend created with 2 replicas")
    cluster.apply(_replica_set(7))
    cluster.run(5)
    look("frontend scaled up to 7")
    victims = sorted(p["metadata"]["name"] for p in cluster.list("pods", selector="app=frontend"))
    victim = rng.choice(victims) if victims else None     # a learner's decision may have made none
    if victim is not None:
        cluster.delete("pod", victim)
    cluster.run(5)
    look("a frontend pod deleted")
    cluster.apply(_replica_set(3))
    cluster.run(5)
    look("frontend scaled down to 3")
    replicas = rng.choice([4, 5, 6])
    cluster.apply(_deployment("nginx:1.14.2", {"maxSurge": "25%", "maxUnavailable": "25%"}, replicas))
    cluster.run(10)
    look(f"Deployment web created with {replicas} replicas")
    cluster.apply(_deployment("nginx:1.16.1", {"maxSurge": rng.choice(["30%", 2]), "maxUnavailable": "30%"},
                              replicas))
    for second in range(20):
        cluster.run(1)
        look(f"rollout to nginx:1.16.1, {second + 1} s")
    cluster.apply(_deployment("nginx:1.25", {"maxSurge": 0, "maxUnavailable": 1}, replicas + 2))
    for second in range(25):
        cluster.run(1)
        look(f"rollout to nginx:1.25 and scale to {replicas + 2}, {second + 1} s")
    events = sorted((e["metadata"]["creationTimestamp"], e["message"]) for e in cluster.list("events")
                    if e["reason"] in ("ScalingReplicaSet", "SuccessfulCreate", "SuccessfulDelete"))
    seen.append(("the controllers' events", [message for _time, message in events]))
    return seen


def _same_decision(name: str, got: Any, expected: Any) -> bool:
    if name == "manage_replicas":
        return _plan(got) == _plan(expected)
    return _steps(got) == _steps(expected)


def check_in_cluster(manage_replicas: Callable, rolling_update_step: Callable, seed: int) -> None:
    """One seeded scenario on the engine's controllers and on the learner's decisions; compare."""
    ensure_installed("engine.cluster")
    expected = _scenario(controllers_cluster(3, seed), seed)
    owns = [own_work("manage_replicas"), own_work("rolling_update_step")]
    cluster = controllers_cluster(3, seed, manage_replicas=owns[0].wrap(manage_replicas),
                                  rolling_update_step=owns[1].wrap(rolling_update_step))
    got = _scenario(cluster, seed)
    owns[0].check(manage_replicas)
    owns[1].check(rolling_update_step)
    errors = cluster.decisions.errors()
    if errors:
        name, error = errors[0]
        fail(f"the controllers called your {name} and it failed: {describe_exception(error)}", see=SEE)
    wrong = cluster.decisions.disagreements(_same_decision)
    why = ""
    if wrong:
        name, args, learner, reference = wrong[0]
        shown = (_describe_replicas(*args) if name == "manage_replicas" else _describe_step(*args))
        value = (lambda v: _plan(v)) if name == "manage_replicas" else _steps
        why = (f"\nThe first disagreement: {name}({shown}) answered {value(learner.value)!r}, "
               f"the engine {value(reference.value)!r}.")
    for (label, want), (_label, have) in zip(expected, got):
        if want != have:
            fail(f"with your decisions the cluster differs after: {label} (scenario seed {seed})" + why,
                 expected=want, got=have, see=SEE)
    if wrong:
        fail(f"the cluster ended as with the engine's controllers, but {len(wrong)} of {len(cluster.decisions.calls)} "
             "decisions differed" + why, see=SEE)


# -- through a node failure --------------------------------------------------------------------

FAILOVER_TOLERATION_SECONDS = 10
"""The survivors' tolerationSeconds for the not-ready / unreachable taints (300 s by default): a short wait."""


def _survivors(replicas: int) -> dict:
    tolerations = [{"key": f"node.kubernetes.io/{taint}", "operator": "Exists", "effect": "NoExecute",
                    "tolerationSeconds": FAILOVER_TOLERATION_SECONDS} for taint in ("unreachable", "not-ready")]
    return {"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": "survivor"},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": "survivor"}},
                     "template": {"metadata": {"labels": {"app": "survivor"}},
                                  "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}],
                                           "tolerations": tolerations}}}}


def check_node_failure(manage_replicas: Callable, seed: int) -> None:
    """The learner's decision as the ReplicaSet controller while a node dies and its pods are evicted.

    A ReplicaSet of 4-6 pods on 3 nodes; the node with the most of them powers off. Some 40 s later
    it is tainted unreachable, 10 s after that its pods are evicted (Terminating), and the ReplicaSet
    must create as many replacements, on the other nodes, in the same burst as the engine: at no moment
    more live pods than replicas, and every decision the engine's.
    """
    ensure_installed("engine.cluster")
    rng = random.Random(seed)
    replicas = rng.choice([4, 5, 6])
    own = own_work("manage_replicas")
    cluster = controllers_cluster(3, seed, manage_replicas=own.wrap(manage_replicas))
    cluster.apply(_survivors(replicas))
    cluster.run(5)

    def live() -> list[dict]:
        return [p for p in cluster.list("pods", selector="app=survivor") if not p["metadata"].get("deletionTimestamp")]

    before = live()
    if len(before) != replicas:
        fail(f"a ReplicaSet of {replicas} replicas made {len(before)} pods with your manage_replicas", see=SEE,
             expected=replicas, got=len(before))
    placed = sorted({p["spec"].get("nodeName") or "" for p in before} - {""})
    victim = max(placed, key=lambda node: (sum(p["spec"].get("nodeName") == node for p in before), node))
    evicted = {p["metadata"]["name"] for p in before if p["spec"].get("nodeName") == victim}
    cluster.fail_node(victim)
    for step in range(14):
        cluster.run(5)
        now = live()
        if len(now) > replicas:
            fail(f"{victim} failed; {5 * (step + 1)} s later the ReplicaSet (replicas {replicas}) had {len(now)} "
                 "live pods: more than it wants (a replacement was created twice)", see=SEE,
                 got=sorted(p["metadata"]["name"] for p in now))
    own.check(manage_replicas)
    errors = cluster.decisions.errors()
    if errors:
        name, error = errors[0]
        fail(f"the controllers called your {name} and it failed: {describe_exception(error)}", see=SEE)
    now = live()
    names = {p["metadata"]["name"] for p in now}
    nodes = sorted({p["spec"].get("nodeName") or "" for p in now if p["metadata"]["name"] not in evicted})
    if len(now) != replicas or names & evicted or victim in nodes or "" in nodes:
        fail(f"{victim} failed and its pods {sorted(evicted)} were evicted: the ReplicaSet should have replaced "
             f"them with {len(evicted)} new pods on the other nodes", see=SEE,
             expected=f"{replicas} live pods, none on {victim}",
             got=sorted((p["metadata"]["name"], p["spec"].get("nodeName")) for p in now))
    wrong = cluster.decisions.disagreements(_same_decision)
    if wrong:
        _name, args, learner, reference = wrong[0]
        fail(f"through the node failure your manage_replicas({_describe_replicas(*args)}) answered "
             f"{_plan(learner.value)!r}, the engine {_plan(reference.value)!r}", see=SEE)


__all__ = ["ReplicaPlan", "ReplicaSetState", "check_fenceposts", "check_in_cluster", "check_manage_replicas",
           "check_node_failure", "check_rolling_step", "controllers_cluster", "deletion_order"]
