"""lab05_controllers: the cells of its source notebook, and what its grading round trip expects."""

from __future__ import annotations

from lab_specs.cells import Cell, code, md, solution, tests


def cells() -> list[Cell]:
    see_rs = 'course/05_controller_manager.ipynb, section "2. A ReplicaSet replaces a deleted pod"'
    see_rollout = 'course/05_controller_manager.ipynb, section "3. A Deployment rollout, frame by frame"'
    return [
        md("intro", """
# Lab 5: controllers, the decisions inside the loop

Every controller of kube-controller-manager runs the same loop (informers, a work queue, `sync(key)`),
and at the heart of each `sync` sits one small decision: *given what is wanted and what is there, what
do I change?* In this lab you write two of them, as plain functions:

1. `manage_replicas`: the **ReplicaSet** controller's diff: how many pods to create, or which to delete;
2. `resolve_fenceposts`: a Deployment's `maxSurge` / `maxUnavailable`, percentages turned into numbers;
3. `rolling_update_step`: the **Deployment** controller's rolling update: which ReplicaSets to resize,
   and to what, in one step.

Then your functions run *as the cluster's controllers*: `controllers_cluster(...)` starts a cluster
(controller manager, scheduler, kubelets) whose ReplicaSet and Deployment controllers call your code in
place of the engine's. The lecture is `course/05_controller_manager.ipynb`; the engine's versions are in
`engine/controllers/replicaset.py` and `engine/controllers/deployment/`. Graded cells: 10 points.
Hidden tests compare your functions with the engine's on many generated cases, then run the same
scale-ups and rollouts on a cluster with your decisions and on one with the engine's, and take a node
down under your ReplicaSet decision.
"""),
        code("setup", f"""
import engine
from engine.grading import check, fail
from engine.grading.controllers import ReplicaPlan, ReplicaSetState, controllers_cluster, deletion_order

# Where the checks below send you when something is not right yet.
RS_SECTION = {see_rs!r}
ROLLOUT_SECTION = {see_rollout!r}


def make_pod(name, node=None, ready=True, created="2025-01-01T00:00:00Z"):
    \"\"\"A Pod as the ReplicaSet controller sees it: on ``node`` (None: not scheduled yet), Running and Ready or not.\"\"\"
    status = {{"phase": "Running" if node else "Pending"}}
    if node and ready:
        status["conditions"] = [{{"type": "Ready", "status": "True", "lastTransitionTime": created}}]
    return {{"apiVersion": "v1", "kind": "Pod",
            "metadata": {{"name": name, "namespace": "default", "uid": "uid-" + name, "creationTimestamp": created}},
            "spec": {{"nodeName": node}} if node else {{}}, "status": status}}


NOW = 1735689600.0 + 3600      # an hour after 2025-01-01T00:00:00Z, in seconds
pods = [make_pod("a", "node-1"), make_pod("b", "node-1", ready=False), make_pod("c"), make_pod("d", "node-2")]
print("deletion order:", [pod["metadata"]["name"] for pod in deletion_order(pods, pods, NOW)])
print(ReplicaPlan(create=2), ReplicaPlan(delete=(pods[2],)).delete[0]["metadata"]["name"])
print(ReplicaSetState("web-5d4f", replicas=3, available=2))
"""),
        md("rs_intro", """
## Part 1: the ReplicaSet's diff (3 points)

`sync` lists the active pods the ReplicaSet owns and calls `manage_replicas(replicas, pods,
related_pods, now, burst_replicas)`, which returns a `ReplicaPlan(create=n)` or a
`ReplicaPlan(delete=(pod, ...))`:

- `diff = len(pods) - replicas`;
- too few (`diff < 0`): create the difference, but **at most `burst_replicas`** pods in one sync;
- too many (`diff > 0`): delete the difference, at most `burst_replicas`, and choose *which* pods with
  `deletion_order(pods, related_pods, now)` (setup cell): it puts first the pods that cost least to lose
  (unscheduled, then pending, then not ready, then doubled up on a node with related pods, then ready
  for less time, then newer): delete the first ones;
- just right: `ReplicaPlan()`.

`sync` only calls it when the ReplicaSet's **expectations** are satisfied: right after asking for 3
creations, the controller's cache still shows none of the new pods (the watch lags), and acting on the
cache would create 3 more. So the controller remembers "3 adds expected" and waits until its pod
informer has seen them (or 5 minutes pass). That is why your function may trust `pods`.
"""),
        solution("manage_replicas", """
def manage_replicas(replicas, pods, related_pods, now, burst_replicas=500):
    \"\"\"The ReplicaSet's decision: ReplicaPlan(create=n) or ReplicaPlan(delete=(pod, ...)) or ReplicaPlan().\"\"\"
    ### BEGIN SOLUTION
    diff = len(pods) - replicas
    if diff < 0:
        return ReplicaPlan(create=min(-diff, burst_replicas))
    if diff > 0:
        diff = min(diff, burst_replicas)
        return ReplicaPlan(delete=tuple(deletion_order(pods, related_pods, now)[:diff]))
    return ReplicaPlan()
    ### END SOLUTION
"""),
        tests("test_manage_replicas", 3, """
check(manage_replicas(5, pods, pods, NOW) == ReplicaPlan(create=1), "4 pods, 5 wanted: create 1",
      expected=ReplicaPlan(create=1), got=manage_replicas(5, pods, pods, NOW), see=RS_SECTION)
check(manage_replicas(20, pods, pods, NOW, burst_replicas=10).create == 10,
      "at most burst_replicas pods are created in one sync", got=manage_replicas(20, pods, pods, NOW, 10), see=RS_SECTION)
plan = manage_replicas(2, pods, pods, NOW)
deleted = sorted(pod["metadata"]["name"] for pod in plan.delete)
check(deleted == ["b", "c"], "4 pods, 2 wanted: the unscheduled pod c and the not-ready pod b go first (deletion_order puts them first)",
      expected=["b", "c"], got=deleted, see=RS_SECTION)
check(manage_replicas(4, pods, pods, NOW) == ReplicaPlan(), "4 pods, 4 wanted: nothing to do",
      got=manage_replicas(4, pods, pods, NOW), see=RS_SECTION)
### BEGIN HIDDEN TESTS
from engine.grading.integrity import ensure_installed
ensure_installed()     # the engine as installed, whatever the notebook patched
from engine.grading.controllers import check_manage_replicas
check_manage_replicas(manage_replicas, seed=50)
### END HIDDEN TESTS
"""),
        md("fenceposts_intro", """
## Part 2: maxSurge and maxUnavailable (2 points)

`strategy.rollingUpdate.maxSurge` and `maxUnavailable` are each a number (`2`) or a percentage of
`replicas` (`"25%"`, the default for both). `resolve_fenceposts(max_surge, max_unavailable, replicas)`
returns the pair of numbers:

- a percentage of **maxSurge rounds up** (more room to create: 25 % of 5 is 2);
- a percentage of **maxUnavailable rounds down** (never less safe than asked: 25 % of 5 is 1);
- when **both** come out 0, maxUnavailable becomes 1 (else the rollout could never move).
"""),
        solution("resolve_fenceposts", """
import math


def resolve_fenceposts(max_surge, max_unavailable, replicas):
    \"\"\"(surge, unavailable) as numbers of pods.\"\"\"
    ### BEGIN SOLUTION
    def scaled(value, round_up):
        if isinstance(value, int):
            return value
        exact = int(value.rstrip("%")) * replicas / 100
        return math.ceil(exact) if round_up else math.floor(exact)

    surge, unavailable = scaled(max_surge, True), scaled(max_unavailable, False)
    if surge == 0 and unavailable == 0:
        unavailable = 1
    return surge, unavailable
    ### END SOLUTION
"""),
        tests("test_fenceposts", 2, """
check(tuple(resolve_fenceposts("25%", "25%", 4)) == (1, 1), "25% of 4 is exactly 1, both ways",
      got=resolve_fenceposts("25%", "25%", 4), see=ROLLOUT_SECTION)
check(tuple(resolve_fenceposts("25%", "25%", 5)) == (2, 1),
      "25% of 5 is 1.25: maxSurge percentages round up, maxUnavailable percentages round down (2 and 1)",
      expected=(2, 1), got=resolve_fenceposts("25%", "25%", 5), see=ROLLOUT_SECTION)
check(tuple(resolve_fenceposts(3, "0%", 10)) == (3, 0), "numbers stay numbers",
      got=resolve_fenceposts(3, "0%", 10), see=ROLLOUT_SECTION)
check(tuple(resolve_fenceposts("10%", "10%", 3)) == (1, 0), "10% of 3: surge rounds up to 1, unavailable down to 0",
      got=resolve_fenceposts("10%", "10%", 3), see=ROLLOUT_SECTION)
check(tuple(resolve_fenceposts(0, 0, 3)) == (0, 1), "both 0: maxUnavailable becomes 1",
      got=resolve_fenceposts(0, 0, 3), see=ROLLOUT_SECTION)
### BEGIN HIDDEN TESTS
from engine.grading.integrity import ensure_installed
ensure_installed()     # the engine as installed, whatever the notebook patched
from engine.grading.controllers import check_fenceposts
check_fenceposts(resolve_fenceposts, seed=51)
### END HIDDEN TESTS
"""),
        md("step_intro", """
## Part 3: one rolling-update step (3 points)

Each sync of a Deployment being rolled takes at most one step. `rolling_update_step(desired, max_surge,
max_unavailable, new, old)` gets numbers (Part 2 already resolved) and `ReplicaSetState(name, replicas,
available)` of the new set and of the old sets (oldest first). It returns `[(set name, new
spec.replicas), ...]`, in the order to apply them; `[]` when nothing can move.

1. **Scale the new set up** (reconcileNewReplicaSet). If `new.replicas > desired`, scale it down to
   `desired` (that is the step). If it is smaller than `desired`: all pods may total at most
   `desired + max_surge` (`total` = the new set's replicas plus the old sets'); when `total` is below
   that, grow the new set by `min(desired + max_surge - total, desired - new.replicas)`, and that is
   the step.
2. Otherwise **scale old sets down** (reconcileOldReplicaSets). Nothing if the old sets have 0
   replicas. `min_available = desired - max_unavailable`; `new_unavailable = new.replicas -
   new.available`; at most `max_scaled_down = total - min_available - new_unavailable` old replicas may
   go (none if that is 0 or less). Then, in two passes over the old sets, oldest first:
   - **unhealthy first**: each old set with unavailable replicas (`replicas > available`) loses up to
     `replicas - available` of them, while the total taken stays within `max_scaled_down`;
   - **then available ones**: with `available` = the new set's available plus the old sets' available,
     if `available > min_available`, old sets (oldest first) lose up to `available - min_available`
     replicas in all (never below 0; use their sizes after the first pass).
   Each set resized is one `(name, new size)` entry, in the order you resized them (a set may appear
   twice, once per pass).
"""),
        solution("rolling_update_step", """
def rolling_update_step(desired, max_surge, max_unavailable, new, old):
    \"\"\"One step of a rolling update: [(ReplicaSet name, new spec.replicas), ...].\"\"\"
    ### BEGIN SOLUTION
    total = new.replicas + sum(rs.replicas for rs in old)
    if new.replicas > desired:
        return [(new.name, desired)]
    if new.replicas < desired and total < desired + max_surge:
        return [(new.name, new.replicas + min(desired + max_surge - total, desired - new.replicas))]
    if sum(rs.replicas for rs in old) == 0:
        return []
    min_available = desired - max_unavailable
    max_scaled_down = total - min_available - (new.replicas - new.available)
    if max_scaled_down <= 0:
        return []
    steps, sizes, cleaned = [], {rs.name: rs.replicas for rs in old}, 0
    for rs in old:
        if cleaned >= max_scaled_down:
            break
        if rs.replicas == 0 or rs.replicas == rs.available:
            continue
        count = min(max_scaled_down - cleaned, rs.replicas - rs.available)
        sizes[rs.name] -= count
        steps.append((rs.name, sizes[rs.name]))
        cleaned += count
    available = new.available + sum(rs.available for rs in old)
    if available <= min_available:
        return steps
    to_scale_down, scaled = available - min_available, 0
    for rs in old:
        if scaled >= to_scale_down:
            break
        if sizes[rs.name] == 0:
            continue
        count = min(sizes[rs.name], to_scale_down - scaled)
        sizes[rs.name] -= count
        steps.append((rs.name, sizes[rs.name]))
        scaled += count
    return steps
    ### END SOLUTION
"""),
        tests("test_rolling_update_step", 3, """
old = [ReplicaSetState("web-old", replicas=4, available=4)]
check(list(rolling_update_step(4, 1, 1, ReplicaSetState("web-new", 0, 0), old)) == [("web-new", 1)],
      "4 old pods, maxSurge 1: the first step creates one new pod (5 in all)",
      got=rolling_update_step(4, 1, 1, ReplicaSetState("web-new", 0, 0), old), see=ROLLOUT_SECTION)
check(list(rolling_update_step(4, 1, 1, ReplicaSetState("web-new", 1, 0), old)) == [("web-old", 3)],
      "5 pods, the new one not available yet: one old pod may go (4 - maxUnavailable 1 = 3 must stay available)",
      got=rolling_update_step(4, 1, 1, ReplicaSetState("web-new", 1, 0), old), see=ROLLOUT_SECTION)
check(list(rolling_update_step(4, 0, 1, ReplicaSetState("web-new", 1, 0), [ReplicaSetState("web-old", 3, 3)])) == [],
      "4 pods, 1 new not available, 3 old available: nothing may move until the new pod is available",
      got=rolling_update_step(4, 0, 1, ReplicaSetState("web-new", 1, 0), [ReplicaSetState("web-old", 3, 3)]),
      see=ROLLOUT_SECTION)
sick = [ReplicaSetState("web-v1", 2, 0), ReplicaSetState("web-v2", 2, 2)]
check(list(rolling_update_step(4, 0, 1, ReplicaSetState("web-v3", 0, 0), sick)) == [("web-v1", 1)],
      "4 pods, 3 must stay available: 1 old replica may go, and an unavailable one goes first (web-v1's)",
      got=rolling_update_step(4, 0, 1, ReplicaSetState("web-v3", 0, 0), sick), see=ROLLOUT_SECTION)
### BEGIN HIDDEN TESTS
from engine.grading.integrity import ensure_installed
ensure_installed()     # the engine as installed, whatever the notebook patched
from engine.grading.controllers import check_rolling_step
check_rolling_step(rolling_update_step, seed=52)
### END HIDDEN TESTS
"""),
        md("live_intro", """
## Part 4: your decisions as the cluster's controllers (2 points)

`controllers_cluster(nodes, seed, manage_replicas=..., rolling_update_step=...)` starts a cluster whose
ReplicaSet and Deployment controllers call your functions in every sync (the engine still resolves
`maxSurge` / `maxUnavailable` for the running controller). `cluster.decisions.calls` records each call:
your answer beside the engine's. The hidden tests run seeded scale-ups, a deleted pod, a scale-down and
two rollouts this way and compare the cluster, step by step, with one running the engine's decisions
(1 point); then they power off a node under your ReplicaSet decision (1 point).
"""),
        tests("test_in_cluster", 1, """
cluster = controllers_cluster(3, seed=1, manage_replicas=manage_replicas, rolling_update_step=rolling_update_step)
cluster.apply('''
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 4
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: app, image: "nginx:1.14.2"}]
''')
cluster.run(10)
check(len(cluster.list("pods", selector="app=web")) == 4, "your ReplicaSet decision made the 4 pods",
      got=cluster.kubectl("get pods"))
web = cluster.get("deployment", "web")
web["spec"]["template"]["spec"]["containers"][0]["image"] = "nginx:1.16.1"
cluster.apply(web)
cluster.run(30)
images = sorted(pod["spec"]["containers"][0]["image"] for pod in cluster.list("pods", selector="app=web"))
check(images == ["nginx:1.16.1"] * 4, "your rolling update replaced every pod", got=images)
errors = [(name, got.error) for name, _args, got, _expected in cluster.decisions.calls if got.error]
check(not errors, "your functions raised inside the controllers", got=errors[:1])
print(cluster.kubectl("get rs"))
### BEGIN HIDDEN TESTS
from engine.grading.integrity import ensure_installed
ensure_installed()     # the engine as installed, whatever the notebook patched
from engine.grading.controllers import check_in_cluster
check_in_cluster(manage_replicas, rolling_update_step, seed=53)
### END HIDDEN TESTS
"""),
        md("node_failure_intro", """
### When a node dies

The course's section "6. A node fails and its pods move" shows the chain: the node stops renewing its
Lease, 40 s later it is tainted `unreachable`, and once a pod's `tolerationSeconds` run out the taint
eviction controller deletes it. The pod stays `Terminating` (its kubelet is gone), so the ReplicaSet
controller, which only passes *active* pods to `manage_replicas`, sees fewer pods than it wants and
creates replacements; the scheduler puts them on the healthy nodes. Nothing in your function knows
about nodes: it only has to answer the diff. The hidden test runs it through exactly that, and checks
that there are never more live pods than replicas.
"""),
        tests("test_node_failure", 1, """
# A ReplicaSet of 4; node-2 held two of its pods, evicted (Terminating): sync passes the two active pods.
survivors = [make_pod("s-1", "node-1"), make_pod("s-3", "node-3")]
check(manage_replicas(4, survivors, survivors, NOW) == ReplicaPlan(create=2),
      "two of four pods evicted from a dead node: create two replacements",
      expected=ReplicaPlan(create=2), got=manage_replicas(4, survivors, survivors, NOW), see=RS_SECTION)
### BEGIN HIDDEN TESTS
from engine.grading.integrity import ensure_installed
ensure_installed()     # the engine as installed, whatever the notebook patched
from engine.grading.controllers import check_node_failure
check_node_failure(manage_replicas, seed=54)
### END HIDDEN TESTS
"""),
        md("outro", """
## What you built

`manage_replicas` is the diff of `manageReplicas` in `pkg/controller/replicaset/replica_set.go` (with
`getPodsToDelete` and `ActivePodsWithRanks`), `resolve_fenceposts` is `ResolveFenceposts` in
`pkg/controller/deployment/util`, and `rolling_update_step` is `reconcileNewReplicaSet` plus
`reconcileOldReplicaSets` (`cleanupUnhealthyReplicas`, `scaleDownOldReplicaSetsForRollingUpdate`) in
`pkg/controller/deployment/rolling.go`. Everything around them (informers, work queues, expectations,
slow-start batches of creations, events and status) is the engine's, as it is the real controllers'.
"""),
    ]


FULL = {"test_manage_replicas": 3, "test_fenceposts": 2, "test_rolling_update_step": 3, "test_in_cluster": 1,
        "test_node_failure": 1}
"""Points per graded cell: what the solution scores."""

BROKEN = ("broken_import", "broken_loop")
"""Which kinds of broken submission the round trip hands in for this lab (tests/grading/test_round_trip.py)."""

SECRETS = ("check_manage_replicas", "check_fenceposts", "check_rolling_step", "check_in_cluster", "check_node_failure")
"""Names of hidden-test helpers that must never appear in a released lab or in feedback."""

_EDITS = {
    "wrong_rounding": ("resolve_fenceposts", "return math.ceil(exact) if round_up else math.floor(exact)",
                       "return round(exact)", {"test_fenceposts"},
                       "maxSurge percentages round up, maxUnavailable percentages round down"),
    "wrong_no_burst": ("manage_replicas", "return ReplicaPlan(create=min(-diff, burst_replicas))",
                       "return ReplicaPlan(create=-diff)", {"test_manage_replicas"}, "burst_replicas"),
    "wrong_deletes_first_listed": ("manage_replicas", "deletion_order(pods, related_pods, now)[:diff]", "pods[:diff]",
                                   {"test_manage_replicas", "test_in_cluster"}, "deletion_order"),
    "wrong_surge_ignored": ("rolling_update_step",
                            "new.replicas + min(desired + max_surge - total, desired - new.replicas)",
                            "desired", {"test_rolling_update_step", "test_in_cluster"}, "maxSurge"),
}

_DELEGATES = """
from engine.controllers.deployment.rolling import rolling_update_step
"""


def wrong_answers() -> dict[str, tuple[str, str, set[str], str]]:
    """Typical mistakes, each a one-line change of the solution (so they follow its text), and an answer that
    hands its work to the engine: student -> (answer cell id, its wrong source, graded cells that fail, words in
    feedback)."""
    sources = {grade_id: text for kind, grade_id, text, _ in cells() if kind == "solution"}
    wrong = {"wrong_delegates_rolling_step": ("rolling_update_step", _DELEGATES,
                                              {"test_rolling_update_step", "test_in_cluster"},
                                              "hands the work to the engine's own implementation")}
    for student, (cell_id, old, new, failing, words) in _EDITS.items():
        source = sources[cell_id].strip("\n")
        assert old in source, f"{student}: the solution of {cell_id} changed; update lab05_controllers._EDITS"
        wrong[student] = (cell_id, source.replace(old, new), failing, words)
    return wrong
