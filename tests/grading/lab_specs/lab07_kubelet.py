"""lab07_kubelet: the cells of its source notebook, and what its grading round trip expects."""

from __future__ import annotations

from lab_specs.cells import Cell, code, md, solution, tests


def cells() -> list[Cell]:
    see_backoff = 'course/07_kubelet.ipynb, section "4. CrashLoopBackOff"'
    see_phase = 'course/07_kubelet.ipynb, section "2. A pod\'s life on the node"'
    see_probes = 'course/07_kubelet.ipynb, section "3. Probes"'
    return [
        md("intro", """
# Lab 7: the kubelet, keeping containers alive

The kubelet is the node agent: for every pod bound to its node it asks the container runtime (through
the CRI) to start the pod's containers, then it watches them. When a container exits it decides
whether to **restart** it and **how long to wait** first (CrashLoopBackOff); it runs the pod's
**probes** and restarts a container whose liveness probe fails; and after every change it works out
the pod's **phase** (`Pending`, `Running`, `Succeeded`, `Failed`) and writes it to the API server.

In this lab you write those three decisions as plain functions:

1. `restart_backoff(steps)`: how long the kubelet waits before restarting a crashed container;
2. `pod_phase(spec, init_statuses, statuses, pod_is_terminal)`: the pod's phase (the kubelet's `getPhase`);
3. `probe_step(...)`: one probe outcome counted against `failureThreshold` / `successThreshold`.

Then `kubelet_cluster(...)` starts a node whose **kubelet runs your functions** instead of its own.
The lecture is `course/07_kubelet.ipynb`; the engine's versions are in `engine/kubelet/`. Graded
cells: 10 points. Hidden tests compare your functions with the engine's on many generated cases, then
run the same pods on a node with your functions and on a node with the engine's and compare what
happens to them second by second.
"""),
        code("setup", f"""
import engine
from engine.grading import check, fail
from engine.grading.kubelet import kubelet_cluster

# Where the checks below send you when something is not right yet.
BACKOFF_SECTION = {see_backoff!r}
PHASE_SECTION = {see_phase!r}
PROBES_SECTION = {see_probes!r}


def running(name):
    \"\"\"A container status as the kubelet writes it: running.\"\"\"
    return {{"name": name, "restartCount": 0, "state": {{"running": {{"startedAt": "2024-01-01T00:00:00Z"}}}}}}


def exited(name, code):
    \"\"\"Terminated with an exit code (0: Completed, anything else: Error).\"\"\"
    reason = "Completed" if code == 0 else "Error"
    return {{"name": name, "restartCount": 0, "state": {{"terminated": {{"exitCode": code, "reason": reason}}}}}}


def waiting(name, last_exit=None):
    \"\"\"Waiting: for its first start (last_exit None), or for a restart after exiting with last_exit.\"\"\"
    status = {{"name": name, "restartCount": 0, "state": {{"waiting": {{"reason": "ContainerCreating"}}}}}}
    if last_exit is not None:
        reason = "Completed" if last_exit == 0 else "Error"
        status["state"] = {{"waiting": {{"reason": "CrashLoopBackOff"}}}}
        status["lastState"] = {{"terminated": {{"exitCode": last_exit, "reason": reason}}}}
        status["restartCount"] = 1
    return status


def spec(*containers, policy="Always", init=()):
    \"\"\"A pod spec with these container names (and init container names).\"\"\"
    result = {{"restartPolicy": policy, "containers": [{{"name": n, "image": "busybox"}} for n in containers]}}
    if init:
        result["initContainers"] = [{{"name": n, "image": "busybox"}} for n in init]
    return result


print(waiting("app", last_exit=1))
"""),
        md("backoff_intro", """
## Part 1: CrashLoopBackOff (2 points)

When a container exits and the pod's `restartPolicy` says to restart it, the kubelet restarts it at
once the first time. If it crashes again, it waits before the next restart, and the wait **doubles**
each time: **10 s, 20 s, 40 s, 80 s, 160 s**, then it stays at the cap of **300 s (5 minutes)**.
Meanwhile `kubectl get pods` shows `CrashLoopBackOff`. (A container that then runs for 10 minutes
without crashing has its back-off forgotten; the engine does that bookkeeping for you.)

Write `restart_backoff(steps) -> seconds`: the wait after `steps` back-offs in a row, so
`restart_backoff(0) == 10`, `restart_backoff(1) == 20`, ..., and never more than 300.
"""),
        solution("restart_backoff", """
INITIAL_BACKOFF = 10     # seconds
MAX_BACKOFF = 300        # seconds: 5 minutes


def restart_backoff(steps):
    \"\"\"Seconds to wait before the next restart after `steps` back-offs in a row.\"\"\"
    ### BEGIN SOLUTION
    delay = INITIAL_BACKOFF
    for _ in range(steps):
        delay = min(delay * 2, MAX_BACKOFF)
    return delay
    ### END SOLUTION
"""),
        tests("test_restart_backoff", 2, """
check([restart_backoff(steps) for steps in range(5)] == [10, 20, 40, 80, 160],
      "the back-off doubles from 10 s", expected=[10, 20, 40, 80, 160],
      got=[restart_backoff(steps) for steps in range(5)], see=BACKOFF_SECTION)
check(restart_backoff(5) == 300 and restart_backoff(9) == 300,
      "the back-off doubles from 10 s and stops at 300 s (5 minutes)", expected=[300, 300], got=[restart_backoff(5), restart_backoff(9)],
      see=BACKOFF_SECTION)
### BEGIN HIDDEN TESTS
from engine.grading.integrity import ensure_installed
ensure_installed()     # the engine as installed, whatever the notebook patched
from engine.grading.kubelet import check_restart_backoff
check_restart_backoff(restart_backoff)
### END HIDDEN TESTS
"""),
        md("phase_intro", """
## Part 2: the pod's phase (3 points)

After every sync the kubelet computes the pod's `status.phase` from its containers' statuses. Each
status has a `state` with one key: `running`, `terminated` (with an `exitCode`) or `waiting`; a
container that already ran once also has `lastState.terminated`. The setup cell builds them:
`running(name)`, `exited(name, code)`, `waiting(name)` and `waiting(name, last_exit=1)`.

`pod_phase(spec, init_statuses, statuses, pod_is_terminal=False)`. First the **init containers**
(`spec["initContainers"]`, which run one after another before the app containers):

- one that has no status yet, is running, or is waiting for its first start is **pending**;
- one that terminated with a non-zero exit code, or is waiting after such an exit, has **failed**;
- if one failed and `restartPolicy` is `Never`, the pod is **`Failed`**.

Then count the **app containers** (`spec["containers"]`), each by its status:

- no status at all: *unknown*; `running`: *running*;
- `terminated`: *stopped*, and also *succeeded* when its exit code is 0;
- `waiting` with a `lastState.terminated`: *stopped* (it ran and is waiting to restart); without: *waiting*.

The phase:

1. **`Pending`** while an init container is pending or an app container is waiting;
2. **`Running`** when some are running and none is unknown;
3. when none is running, some stopped and none is unknown:
   - if `pod_is_terminal` (the pod is being shut down for good): `Succeeded` if all stopped ones
     succeeded, else `Failed`;
   - `restartPolicy: Always`: **`Running`** (they will be restarted);
   - all stopped ones succeeded: **`Succeeded`** (`OnFailure` does not restart a container that exited 0);
   - `restartPolicy: Never`: **`Failed`**; otherwise (`OnFailure`, one failed): **`Running`**;
4. anything else: **`Pending`**.
"""),
        solution("pod_phase", """
def pod_phase(spec, init_statuses, statuses, pod_is_terminal=False):
    \"\"\"Pending, Running, Succeeded or Failed: the kubelet's getPhase.\"\"\"
    ### BEGIN SOLUTION
    policy = spec.get("restartPolicy", "Always")
    by_name = {status["name"]: status for status in list(init_statuses) + list(statuses)}

    def last_exit(status):
        terminated = (status.get("lastState") or {}).get("terminated")
        return None if terminated is None else terminated.get("exitCode", 0)

    pending_init = failed_init = 0
    for container in spec.get("initContainers") or []:
        status = by_name.get(container["name"])
        state = (status or {}).get("state") or {}
        if status is None or "running" in state:
            pending_init += 1
        elif "terminated" in state:
            failed_init += state["terminated"].get("exitCode", 0) != 0
        elif "waiting" in state and last_exit(status) is not None:
            failed_init += last_exit(status) != 0
        else:
            pending_init += 1

    unknown = running = waiting = stopped = succeeded = 0
    for container in spec.get("containers") or []:
        status = by_name.get(container["name"])
        state = (status or {}).get("state") or {}
        if status is None:
            unknown += 1
        elif "running" in state:
            running += 1
        elif "terminated" in state:
            stopped += 1
            succeeded += state["terminated"].get("exitCode", 0) == 0
        elif "waiting" in state:
            if last_exit(status) is not None:
                stopped += 1
            else:
                waiting += 1
        else:
            unknown += 1

    if failed_init and policy == "Never":
        return "Failed"
    if pending_init or waiting:
        return "Pending"
    if running and not unknown:
        return "Running"
    if not running and stopped and not unknown:
        if pod_is_terminal:
            return "Succeeded" if stopped == succeeded else "Failed"
        if policy == "Always":
            return "Running"
        if stopped == succeeded:
            return "Succeeded"
        if policy == "Never":
            return "Failed"
        return "Running"
    return "Pending"
    ### END SOLUTION
"""),
        tests("test_pod_phase", 3, """
check(pod_phase(spec("app"), [], [running("app")]) == "Running", "a running container: Running",
      got=pod_phase(spec("app"), [], [running("app")]), see=PHASE_SECTION)
check(pod_phase(spec("app"), [], [waiting("app")]) == "Pending", "a container waiting for its first start: Pending",
      got=pod_phase(spec("app"), [], [waiting("app")]), see=PHASE_SECTION)
check(pod_phase(spec("app", policy="OnFailure"), [], [exited("app", 0)]) == "Succeeded",
      "restartPolicy OnFailure: a container that exited 0 is not restarted, so the pod is Succeeded",
      got=pod_phase(spec("app", policy="OnFailure"), [], [exited("app", 0)]), see=PHASE_SECTION)
check(pod_phase(spec("app", policy="Never"), [], [exited("app", 1)]) == "Failed",
      "restartPolicy Never: a container that exited 1 is not restarted, so the pod is Failed",
      got=pod_phase(spec("app", policy="Never"), [], [exited("app", 1)]), see=PHASE_SECTION)
check(pod_phase(spec("app"), [], [waiting("app", last_exit=1)]) == "Running",
      "restartPolicy Always: a container in CrashLoopBackOff will be restarted, so the pod stays Running",
      got=pod_phase(spec("app"), [], [waiting("app", last_exit=1)]), see=PHASE_SECTION)
check(pod_phase(spec("app", init=("setup",)), [running("setup")], []) == "Pending",
      "a pod whose init container still runs is Pending",
      got=pod_phase(spec("app", init=("setup",)), [running("setup")], []), see=PHASE_SECTION)
### BEGIN HIDDEN TESTS
from engine.grading.integrity import ensure_installed
ensure_installed()     # the engine as installed, whatever the notebook patched
from engine.grading.kubelet import check_pod_phase
check_pod_phase(pod_phase, seed=71)
### END HIDDEN TESTS
"""),
        md("probe_intro", """
## Part 3: the probe state machine (3 points)

A probe (`livenessProbe`, `readinessProbe`, `startupProbe`) runs every `periodSeconds`; each run's
**outcome** is `"Success"` or `"Failure"`. One outcome alone changes nothing the kubelet acts on: the
probe worker counts outcomes **in a row** and only **publishes** a result once the run reaches the
threshold: `failure_threshold` failures in a row publish `"Failure"` (default 3), `success_threshold`
successes in a row publish `"Success"` (default 1). Once at the threshold, the result is published
again at every probe of the same outcome.

The kubelet restarts a container whose liveness (or startup) probe publishes `"Failure"`; so, after
publishing a **liveness or startup** `"Failure"`, the run starts again from **0** (the next container
is counted from scratch). A readiness `"Failure"` only marks the pod not Ready: its run keeps counting.

Write `probe_step(last_result, run, outcome, probe_type, success_threshold, failure_threshold)`
returning `(last_result, run, publish)`:

- `last_result` and `run` are what the worker remembers: the previous outcome (`""` before the first
  probe) and how many times in a row it came;
- the new `run` is `run + 1` if `outcome == last_result`, else 1; the new `last_result` is `outcome`;
- `publish` is `None` below the threshold, else `outcome`;
- `probe_type` is `"Liveness"`, `"Readiness"` or `"Startup"`.
"""),
        solution("probe_step", """
def probe_step(last_result, run, outcome, probe_type, success_threshold, failure_threshold):
    \"\"\"Count one probe outcome: (last_result, run, result to publish or None).\"\"\"
    ### BEGIN SOLUTION
    run = run + 1 if outcome == last_result else 1
    threshold = failure_threshold if outcome == "Failure" else success_threshold
    if run < threshold:
        return outcome, run, None
    if outcome == "Failure" and probe_type in ("Liveness", "Startup"):
        return outcome, 0, outcome
    return outcome, run, outcome
    ### END SOLUTION
"""),
        tests("test_probe_step", 3, """
# The docs' liveness example: periodSeconds 5, failureThreshold 3 (the default), successThreshold 1.
state, published = ("", 0), []
for outcome in ["Success", "Success", "Failure", "Failure", "Failure"]:
    last, run, publish = probe_step(*state, outcome, "Liveness", 1, 3)
    state = (last, run)
    published.append(publish)
check(published == ["Success", "Success", None, None, "Failure"],
      "a liveness probe publishes Failure only at the third failure in a row", expected=["Success", "Success", None, None, "Failure"],
      got=published, see=PROBES_SECTION)
check(state == ("Failure", 0), "after publishing a liveness Failure the run starts again from 0",
      expected=("Failure", 0), got=state, see=PROBES_SECTION)
check(tuple(probe_step("Failure", 1, "Success", "Readiness", 2, 3)) == ("Success", 1, None),
      "with successThreshold 2, one success is not enough to become Ready",
      got=probe_step("Failure", 1, "Success", "Readiness", 2, 3), see=PROBES_SECTION)
check(tuple(probe_step("Failure", 3, "Failure", "Readiness", 1, 3)) == ("Failure", 4, "Failure"),
      "a readiness Failure keeps counting (only liveness and startup start again from 0)",
      got=probe_step("Failure", 3, "Failure", "Readiness", 1, 3), see=PROBES_SECTION)
### BEGIN HIDDEN TESTS
from engine.grading.integrity import ensure_installed
ensure_installed()     # the engine as installed, whatever the notebook patched
from engine.grading.kubelet import check_probe_step
check_probe_step(probe_step, seed=72)
### END HIDDEN TESTS
"""),
        md("live_intro", """
## Part 4: your functions in a running kubelet (2 points)

`kubelet_cluster(restart_backoff=..., pod_phase=..., probe_step=...)` starts a one-node cluster (API
server, controller manager, scheduler, and a kubelet that calls your functions where it would call
its own). Below, a container that crashes after 1 s runs for 30 s: your back-off spaces its
restarts, your `pod_phase` says what phase the pod is in. The hidden test runs crashing, completing,
initialising and probed pods on a node with your functions and on one with the engine's, and compares
them every 2 seconds (phase, each container's state, restarts and readiness).
"""),
        code("live_demo", """
cluster = kubelet_cluster(restart_backoff=restart_backoff, pod_phase=pod_phase, probe_step=probe_step)
cluster.apply({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "crash"}, "spec": {"containers": [
    {"name": "app", "image": "course/crasher:1.0", "args": ["--after", "1"]}]}})
cluster.run(30)
print(cluster.kubectl("get pods"))
"""),
        tests("test_in_kubelet", 2, """
status = cluster.get("pod", "crash")["status"]
restarts = status["containerStatuses"][0]["restartCount"]
check(status["phase"] == "Running", "restartPolicy Always: a crashing container will be restarted, so the pod is Running",
      got=status["phase"], see=PHASE_SECTION)
check(restarts == 2, "crashing 1 s after each start: restarted at once, then after 10 s; the next restart "
      "waits 20 s, so 2 restarts in the first 30 s", expected=2, got=restarts, see=BACKOFF_SECTION)
### BEGIN HIDDEN TESTS
from engine.grading.integrity import ensure_installed
ensure_installed()     # the engine as installed, whatever the notebook patched
from engine.grading.kubelet import check_in_kubelet
check_in_kubelet(restart_backoff, pod_phase, probe_step, seed=73)
### END HIDDEN TESTS
"""),
        md("outro", """
## What you built

`restart_backoff` is the growth of client-go's `flowcontrol.Backoff` that the kubelet keys per
container (`kuberuntime_manager.go: doBackOff`, 10 s initial, 5 min cap); `pod_phase` is `getPhase`
in `pkg/kubelet/kubelet_pods.go`; `probe_step` is the counting in `pkg/kubelet/prober/worker.go:
doProbe`. The real kubelet adds sidecars (init containers with `restartPolicy: Always`), the
`PodReadyToStartContainers` and `DisruptionTarget` conditions, and a per-node back-off cap you can set
in its configuration.
"""),
    ]


FULL = {"test_restart_backoff": 2, "test_pod_phase": 3, "test_probe_step": 3, "test_in_kubelet": 2}
"""Points per graded cell: what the solution scores."""

BROKEN = ("broken_import", "broken_loop")
"""Which kinds of broken submission the round trip hands in for this lab (tests/grading/test_round_trip.py)."""

SECRETS = ("check_restart_backoff", "check_pod_phase", "check_probe_step", "check_in_kubelet")
"""Names of hidden-test helpers that must never appear in a released lab or in feedback."""

_EDITS = {
    "wrong_no_backoff_cap": ("restart_backoff", "delay = min(delay * 2, MAX_BACKOFF)", "delay = delay * 2",
                             {"test_restart_backoff"}, "the back-off doubles from 10 s and stops at 300 s (5 minutes)"),
    "wrong_on_failure_restarts": ("pod_phase", '        if policy == "Always":\n',
                                  '        if policy in ("Always", "OnFailure"):\n',
                                  {"test_pod_phase", "test_in_kubelet"},
                                  "restartPolicy OnFailure: a container that exited 0 is not restarted, so the pod "
                                  "is Succeeded"),
    "wrong_liveness_run_kept": ("probe_step", "        return outcome, 0, outcome\n", "        return outcome, run, outcome\n",
                                {"test_probe_step", "test_in_kubelet"},
                                "after publishing a liveness Failure the run starts again from 0"),
    "wrong_threshold_off_by_one": ("probe_step", "    if run < threshold:\n", "    if run <= threshold:\n",
                                   {"test_probe_step", "test_in_kubelet"}, "in a row"),
}


_DELEGATES = """
def pod_phase(spec, init_statuses, statuses, pod_is_terminal=False):
    from engine.kubelet.status import pod_phase as getphase
    return getphase(spec, init_statuses, statuses, pod_is_terminal)
"""


def wrong_answers() -> dict[str, tuple[str, str, set[str], str]]:
    """Typical mistakes, each a one-line change of the solution (so they follow its text), and an answer that
    hands its work to the engine: student -> (answer cell id, its wrong source, graded cells that fail, words in
    feedback)."""
    sources = {grade_id: text for kind, grade_id, text, _ in cells() if kind == "solution"}
    wrong = {"wrong_delegates_pod_phase": ("pod_phase", _DELEGATES, {"test_pod_phase", "test_in_kubelet"},
                                           "hands the work to the engine's own implementation")}
    for student, (cell_id, old, new, failing, words) in _EDITS.items():
        source = sources[cell_id].strip("\n")
        assert old in source, f"{student}: the solution of {cell_id} changed; update lab07_kubelet._EDITS"
        wrong[student] = (cell_id, source.replace(old, new), failing, words)
    return wrong
