"""Lab 7's plugs and checks: a learner's kubelet pieces run by the engine's kubelet, compared with its own.

The kubelet has seams (``engine.kubelet``'s options) for three pure pieces a learner writes:

- ``restart_backoff(steps) -> seconds``: the CrashLoopBackOff delay after ``steps`` back-offs
  (``options["restart_backoff"]``, ``engine.kubelet.backoff.backoff_delay``);
- ``pod_phase(spec, init_statuses, statuses, pod_is_terminal=False) -> phase``: getPhase
  (``options["pod_phase"]``, ``engine.kubelet.status.pod_phase``);
- ``probe_step(last_result, run, outcome, probe_type, success_threshold, failure_threshold)
  -> (last_result, run, publish)``: one probe outcome counted (``options["probe_result"]``, the
  ProbeManager's ``count_result`` over a ``ProbeCount``; ``probe_step`` is the same machine on plain
  values, adapted here).

``kubelet_cluster(**pieces)`` starts one node (controller manager, scheduler, kubelet) whose kubelet
runs the given pieces. The checks (``check_restart_backoff``, ``check_pod_phase``,
``check_probe_step``: seeded cases against the engine's functions; ``check_in_kubelet``: the same
pods on a node running the learner's pieces and on one running the engine's, sampled every 2 s)
raise a ``GradingFailure`` that names the mistake, and give no marks to an answer that hands its
work to the engine's own code. A learner's piece that raises inside the kubelet does not stop the
node: the plug records the error, answers as the engine would, and the check reports the error.
"""

from __future__ import annotations

import dataclasses
import random
from typing import Any, Callable

from engine.grading.delegation import OwnWork
from engine.grading.feedback import compare, describe_exception, fail, show
from engine.kubelet.backoff import Backoff, backoff_delay
from engine.kubelet.prober.results import FAILURE, LIVENESS, READINESS, STARTUP, SUCCESS, ProbeCount, count_result
from engine.kubelet.status import pod_phase as reference_phase

SEE = "course/07_kubelet.ipynb and the lab's instructions above this cell"
PROBE_TYPES = (LIVENESS, READINESS, STARTUP)


def reference_probe_step(last_result: str, run: int, outcome: str, probe_type: str, success_threshold: int,
                         failure_threshold: int) -> tuple[str, int, str | None]:
    """The engine's ``count_result`` on plain values: what ``probe_step`` must answer."""
    count, publish = count_result(ProbeCount(last_result, run), outcome, probe_type=probe_type,
                                  success_threshold=success_threshold, failure_threshold=failure_threshold)
    return count.last_result, count.run, publish


# -- plugging the learner's pieces into a kubelet -------------------------------------------------
@dataclasses.dataclass
class Plugged:
    """What the plugs saw: calls where the learner's piece raised or answered otherwise than the engine."""

    errors: list[str] = dataclasses.field(default_factory=list)
    disagreements: list[str] = dataclasses.field(default_factory=list)

    def guard(self, name: str, learner: Callable[..., Any], reference: Callable[..., Any],
              describe: Callable[..., str]) -> Callable[..., Any]:
        """``learner`` as the kubelet calls it: its answer, or the engine's when it raises (recorded)."""
        def plugged(*args: Any, **kwargs: Any) -> Any:
            expected = reference(*args, **kwargs)
            try:
                got = learner(*args, **kwargs)
            except Exception as error:          # the node must go on; the check reports it
                if len(self.errors) < 3:
                    self.errors.append(f"{name}({describe(*args, **kwargs)}) raised {describe_exception(error)}")
                return expected
            if got != expected and len(self.disagreements) < 3:
                self.disagreements.append(f"{name}({describe(*args, **kwargs)}) answered {show(got)}, "
                                          f"the engine {show(expected)}")
            return got
        return plugged


def _describe_phase(spec: dict, init_statuses: list, statuses: list, pod_is_terminal: bool = False) -> str:
    return describe_phase_case(spec, init_statuses, statuses, pod_is_terminal)


def _describe_probe(count: ProbeCount, outcome: str, *, probe_type: str, success_threshold: int,
                    failure_threshold: int) -> str:
    return (f"last_result={count.last_result!r}, run={count.run}, outcome={outcome!r}, probe_type={probe_type!r}, "
            f"success_threshold={success_threshold}, failure_threshold={failure_threshold}")


def kubelet_options(plugged: Plugged, *, restart_backoff: Callable | None = None, pod_phase: Callable | None = None,
                    probe_step: Callable | None = None) -> dict[str, Any]:
    """The kubelet's options that run the learner's pieces (guarded by ``plugged``)."""
    options: dict[str, Any] = {}
    if restart_backoff is not None:
        options["restart_backoff"] = plugged.guard("restart_backoff", restart_backoff, backoff_delay, str)
    if pod_phase is not None:
        options["pod_phase"] = plugged.guard("pod_phase", pod_phase, reference_phase, _describe_phase)
    if probe_step is not None:
        def learner_count(count: ProbeCount, outcome: str, **kw: Any) -> tuple[ProbeCount, str | None]:
            last, run, publish = probe_step(count.last_result, count.run, outcome, kw["probe_type"],
                                            kw["success_threshold"], kw["failure_threshold"])
            return ProbeCount(last, run), publish
        options["probe_result"] = plugged.guard("probe_step", learner_count, count_result, _describe_probe)
    return options


def kubelet_cluster(*, restart_backoff: Callable | None = None, pod_phase: Callable | None = None,
                    probe_step: Callable | None = None, seed: int = 0, plugged: Plugged | None = None,
                    **cluster_options: Any) -> Any:
    """One node whose kubelet runs the given pieces (the engine's for those not given)."""
    from engine.cluster import Cluster
    from engine.components import COMPONENTS
    from engine.kubelet import KUBELET
    from engine.scheduler import SCHEDULER
    options = kubelet_options(plugged or Plugged(), restart_backoff=restart_backoff, pod_phase=pod_phase,
                              probe_step=probe_step)
    kubelet = dataclasses.replace(KUBELET, options={**KUBELET.options, **options})
    return Cluster(nodes=1, seed=seed, components=[COMPONENTS[0], SCHEDULER, kubelet], **cluster_options)


# -- the back-off ---------------------------------------------------------------------------------
def _diagnose_backoff(case: tuple, expected: Any, got: Any) -> str | None:
    steps, = case
    value = got.value
    if steps == 0 and value != 10:
        return "the first back-off is 10 s (steps=0 answers 10)"
    if expected.value == 300 and isinstance(value, (int, float)) and value > 300:
        return "the back-off doubles from 10 s and stops at 300 s (5 minutes)"
    if isinstance(value, (int, float)) and value < expected.value:
        return "the back-off doubles at each step: 10, 20, 40, 80, 160, then 300 s"
    return None


def check_restart_backoff(restart_backoff: Callable[[int], float]) -> None:
    own = OwnWork("restart_backoff", [backoff_delay, Backoff], see=SEE)
    compare(own.wrap(restart_backoff), backoff_delay, [(steps,) for steps in range(12)],
            describe=lambda steps: f"steps={steps}", what="restart_backoff", diagnose=_diagnose_backoff,
            normalize=lambda v: v if isinstance(v, (int, float)) and not isinstance(v, bool) else f"{v!r} (not a number)",
            equal=lambda a, b: isinstance(a, (int, float)) and isinstance(b, (int, float)) and abs(a - b) < 1e-9, see=SEE)
    own.check(restart_backoff)


# -- the pod phase --------------------------------------------------------------------------------
_STATES = ("missing", "running", "exited 0", "exited 1", "waiting", "waiting after exit 0", "waiting after exit 1")


def _status(name: str, state: str) -> dict | None:
    if state == "missing":
        return None
    status: dict[str, Any] = {"name": name, "restartCount": 0}
    if state == "running":
        status["state"] = {"running": {"startedAt": "2024-01-01T00:00:00Z"}}
    elif state.startswith("exited"):
        code = int(state.split()[-1])
        status["state"] = {"terminated": {"exitCode": code, "reason": "Completed" if code == 0 else "Error"}}
    else:
        reason = "ContainerCreating" if state == "waiting" else "CrashLoopBackOff"
        status["state"] = {"waiting": {"reason": reason}}
        if state != "waiting":
            code = int(state.split()[-1])
            status["lastState"] = {"terminated": {"exitCode": code, "reason": "Completed" if code == 0 else "Error"}}
            status["restartCount"] = 1
    return status


def _state_of(status: dict | None) -> str:
    if status is None:
        return "missing"
    state = status.get("state") or {}
    if "running" in state:
        return "running"
    if "terminated" in state:
        return f"exited {state['terminated'].get('exitCode', 0)}"
    last = (status.get("lastState") or {}).get("terminated")
    return f"waiting after exit {last.get('exitCode', 0)}" if last else "waiting"


def describe_phase_case(spec: dict, init_statuses: list, statuses: list, pod_is_terminal: bool = False) -> str:
    by_name = {s["name"]: s for s in [*init_statuses, *statuses]}
    inits = ", ".join(f"{c['name']} {_state_of(by_name.get(c['name']))}" for c in spec.get("initContainers") or [])
    apps = ", ".join(f"{c['name']} {_state_of(by_name.get(c['name']))}" for c in spec.get("containers") or [])
    text = f"restartPolicy {spec.get('restartPolicy', 'Always')}: " + (f"init [{inits}], " if inits else "")
    return text + f"containers [{apps}]" + (", pod_is_terminal=True" if pod_is_terminal else "")


def random_phase_case(rng: random.Random) -> tuple[dict, list, list, bool]:
    policy = rng.choice(("Always", "OnFailure", "Never"))
    spec: dict[str, Any] = {"restartPolicy": policy, "containers": []}
    init_statuses: list[dict] = []
    statuses: list[dict] = []
    if rng.random() < 0.3:
        spec["initContainers"] = []
        for i in range(rng.randint(1, 2)):
            spec["initContainers"].append({"name": f"init-{i}", "image": "busybox"})
            status = _status(f"init-{i}", rng.choice(_STATES))
            if status:
                init_statuses.append(status)
    for i in range(rng.randint(1, 3)):
        spec["containers"].append({"name": f"app-{i}", "image": "nginx"})
        status = _status(f"app-{i}", rng.choice(_STATES[1:] if rng.random() < 0.85 else _STATES))
        if status:
            statuses.append(status)
    return spec, init_statuses, statuses, rng.random() < 0.1


def _diagnose_phase(case: tuple, expected: Any, got: Any) -> str | None:
    spec, init_statuses, statuses, terminal = case
    policy = spec.get("restartPolicy", "Always")
    states = [_state_of(s) for s in statuses]
    if expected.value == "Succeeded" and policy == "OnFailure":
        return "restartPolicy OnFailure: a container that exited 0 is not restarted, so the pod is Succeeded"
    if expected.value == "Failed" and policy == "Never":
        return "restartPolicy Never: a container that failed is not restarted, so the pod is Failed"
    if expected.value == "Running" and policy == "Always" and not any(s == "running" for s in states):
        return "restartPolicy Always: every stopped container will be restarted, so the pod stays Running"
    if expected.value == "Pending" and spec.get("initContainers"):
        return "a pod is Pending until every init container has exited 0 (and while a container is waiting to start)"
    if expected.value == "Pending" and any(s == "waiting" for s in states):
        return "a container waiting for its first start keeps the pod Pending"
    return None


def check_pod_phase(pod_phase: Callable, seed: int, n: int = 300) -> None:
    rng = random.Random(seed)
    cases = [random_phase_case(rng) for _ in range(n)]
    own = OwnWork("pod_phase", [reference_phase], see=SEE)
    compare(own.wrap(pod_phase), reference_phase, cases, describe=describe_phase_case, what="pod_phase",
            diagnose=_diagnose_phase, see=SEE)
    own.check(pod_phase)


# -- the probe state machine ----------------------------------------------------------------------
def _diagnose_probe(case: tuple, expected: Any, got: Any) -> str | None:
    last, run, outcome, probe_type, success, failure = case
    want, answer = expected.value, got.value
    if not isinstance(answer, tuple) or len(answer) != 3:
        return "probe_step returns three values: (last_result, run, publish)"
    if want[2] != answer[2]:
        threshold = "failure_threshold failures" if outcome == FAILURE else "success_threshold successes"
        if want[2] is None:
            return f"nothing is published before {threshold} in a row"
        return f"a result is published once there are {threshold} in a row (and at every probe after that)"
    if want[1] == 0 and answer[1] != 0:
        return "once a liveness or startup Failure is published, the run starts again from 0"
    if want[1] == 1 and last != outcome:
        return "a different outcome from the last one starts a new run at 1"
    return None


def probe_cases(seed: int) -> list[tuple]:
    rng = random.Random(seed)
    cases = []
    for last in ("", SUCCESS, FAILURE):
        for outcome in (SUCCESS, FAILURE):
            for probe_type in PROBE_TYPES:
                for _ in range(4):
                    cases.append((last, rng.randint(0, 4) if last else 0, outcome, probe_type,
                                  rng.randint(1, 3), rng.randint(1, 4)))
    return cases


def check_probe_step(probe_step: Callable, seed: int) -> None:
    own = OwnWork("probe_step", [count_result], see=SEE)
    compare(own.wrap(probe_step), reference_probe_step, probe_cases(seed),
            describe=lambda last, run, outcome, probe_type, success, failure: (
                f"last_result={last!r}, run={run}, outcome={outcome!r}, probe_type={probe_type!r}, "
                f"success_threshold={success}, failure_threshold={failure}"),
            normalize=lambda value: tuple(value) if isinstance(value, (tuple, list)) else value,
            what="probe_step", diagnose=_diagnose_probe, see=SEE)
    own.check(probe_step)


# -- the pieces in a running kubelet --------------------------------------------------------------
def crash_loop_pods(seed: int) -> list[dict]:
    """Seeded pods that crash, complete, fail, initialise and get probed: every piece has work to do."""
    rng = random.Random(seed)
    after = rng.choice((1, 2, 3))

    def pod(name: str, containers: list[dict], policy: str = "Always", inits: list[dict] | None = None) -> dict:
        spec: dict[str, Any] = {"restartPolicy": policy, "containers": containers, "terminationGracePeriodSeconds": 2}
        if inits:
            spec["initContainers"] = inits
        return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": spec}

    def crasher(name: str, seconds: int, code: int) -> dict:
        return {"name": name, "image": "course/crasher:1.0", "args": ["--after", str(seconds), "--exit-code", str(code)]}

    def shell(name: str, script: str, **probes: Any) -> dict:
        return {"name": name, "image": "busybox", "command": ["sh", "-c", script], **probes}

    exec_probe = {"exec": {"command": ["cat", "/tmp/healthy"]}, "periodSeconds": rng.choice((2, 3)),
                  "failureThreshold": rng.choice((2, 3))}
    ready_probe = {"exec": {"command": ["cat", "/tmp/ready"]}, "periodSeconds": 2,
                   "successThreshold": rng.choice((1, 2, 3)), "failureThreshold": 1}
    script = (f"sleep {rng.randint(3, 6)}; touch /tmp/ready; touch /tmp/healthy; sleep {rng.randint(8, 14)}; "
              "rm -f /tmp/healthy; sleep 600")
    return [
        pod("crash-always", [crasher("app", after, 1)]),
        pod("crash-on-failure", [crasher("app", after, 0)], "OnFailure"),
        pod("init-then-app", [shell("app", "sleep 3600")], "Always",
            [shell("setup", f"sleep {rng.randint(1, 4)}"), crasher("migrate", after, rng.choice((0, 0, 1)))]),
        pod("probed", [shell("app", script, livenessProbe={**exec_probe, "initialDelaySeconds": 8},
                             readinessProbe=ready_probe)]),
    ]


def _snapshot(cluster: Any) -> dict[str, tuple]:
    seen = {}
    for pod in cluster.list("pods"):
        status = pod.get("status") or {}
        containers = []
        for c in [*(status.get("initContainerStatuses") or []), *(status.get("containerStatuses") or [])]:
            state = c.get("state") or {}
            kind = next(iter(state), "")
            containers.append((c["name"], kind, (state.get(kind) or {}).get("reason", ""), c.get("restartCount", 0),
                               bool(c.get("ready"))))
        seen[pod["metadata"]["name"]] = (status.get("phase", ""), tuple(containers))
    return seen


def timeline(cluster: Any, pods: list[dict], seconds: int, every: int = 2) -> list[tuple[float, dict]]:
    """Every pod's phase and containers (state, reason, restarts, ready), sampled every ``every`` seconds."""
    for pod in pods:
        cluster.apply(pod)
    samples = []
    for _ in range(seconds // every):
        cluster.run(every)
        samples.append((cluster.now, _snapshot(cluster)))
    return samples


def _render(sample: tuple) -> str:
    phase, containers = sample
    parts = [f"{name} {kind}{'(' + reason + ')' if reason else ''} restarts={restarts}{' ready' if ready else ''}"
             for name, kind, reason, restarts, ready in containers]
    return f"{phase or '(no phase)'}: " + "; ".join(parts)


def check_in_kubelet(restart_backoff: Callable, pod_phase: Callable, probe_step: Callable, seed: int,
                     seconds: int = 36) -> None:
    """The seeded pods on a node running the learner's pieces and on one running the engine's: same history?"""
    pods = crash_loop_pods(seed)
    plugged = Plugged()
    owns = [OwnWork("restart_backoff", [backoff_delay, Backoff], see=SEE),
            OwnWork("pod_phase", [reference_phase], see=SEE), OwnWork("probe_step", [count_result], see=SEE)]
    for own, piece in zip(owns, (restart_backoff, pod_phase, probe_step)):
        own.check(piece)
    learner = kubelet_cluster(restart_backoff=restart_backoff, pod_phase=pod_phase, probe_step=probe_step,
                              seed=seed, plugged=plugged)
    got = timeline(learner, pods, seconds)
    if plugged.errors:
        fail("the kubelet called your functions and they raised:\n" + "\n".join(plugged.errors), see=SEE)
    expected = timeline(kubelet_cluster(seed=seed), pods, seconds)
    for (now, want), (_, have) in zip(expected, got):
        for name in want:
            if want[name] != have.get(name):
                lines = [f"with your functions in the kubelet, pod {name!r} at t={now:.0f}s is",
                         f"   {_render(have[name]) if name in have else '(gone)'}",
                         "with the engine's it is", f"   {_render(want[name])}"]
                if plugged.disagreements:
                    lines.append("calls where your functions answered otherwise:")
                    lines += [f"   {line}" for line in plugged.disagreements]
                fail("\n".join(lines), see=SEE)
    if plugged.disagreements:
        fail("the pods went the same way, but some of your functions' answers differ from the engine's:\n"
             + "\n".join(plugged.disagreements), see=SEE)


__all__ = ["Plugged", "check_in_kubelet", "check_pod_phase", "check_probe_step", "check_restart_backoff",
           "crash_loop_pods", "describe_phase_case", "kubelet_cluster", "kubelet_options", "random_phase_case",
           "reference_probe_step", "timeline"]
