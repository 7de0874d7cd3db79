"""Lab 9's plugs and checks: a learner's container-runtime pieces run by the engine's kubelet.

The pieces:

- ``linux_resources(resources) -> LinuxContainerResources``: the cgroup settings from a container's
  requests and limits (``engine.runtime.runc.linux_resources``; the kubelet's seam
  ``options["linux_resources"]``);
- ``pull_decision(policy, present) -> "pull" | "use" | "ErrImageNeverPull"`` and
  ``default_pull_policy(image)`` (``engine.runtime.images``);
- ``start_calls(pod, view) -> [(call, what), ...]``: the CRI calls SyncPod makes next for a pod that is
  starting, from a plain ``view`` of the node: ``{"sandbox": ready?, "containers": {name: "running" |
  "exited <code>"}, "images": [references on the node]}``. The reference (``reference_start_calls``)
  is the engine's computePodActions and EnsureImageExists for that case: RunPodSandbox when there is
  no sandbox; the first init container not yet exited 0 (pulled if the policy says so, created,
  started), waiting while it runs; then every app container not started yet, in order.

``runtime_cluster(**pieces)`` starts one node whose kubelet runs the learner's ``linux_resources``
and, through an adapter to its ``compute_pod_actions`` seam, ``start_calls`` (the kubelet keeps its
own decisions for restarts, kills and probe failures, and makes pulls with its own pull policy: the
pure check covers the learner's). ``check_*`` raise a ``GradingFailure`` that names the mistake, and
give no marks to an answer that hands its work to the engine's own code.
"""

from __future__ import annotations

import dataclasses
import random
from typing import Any, Callable

from engine.grading.delegation import OwnWork
from engine.grading.feedback import compare, fail
from engine.grading.kubelet import Plugged, timeline
from engine.kubelet.kuberuntime import PodActions, compute_pod_actions
from engine.runtime import cri, runc
from engine.runtime.images import ERR_IMAGE_NEVER_PULL, default_pull_policy, pull_decision

SEE = "course/09_container_runtime.ipynb and the lab's instructions above this cell"
CPUS = ("", "1m", "10m", "100m", "250m", "500m", "1", "1500m", "2", "4")
MEMORIES = ("", "64Mi", "100Mi", "128Mi", "256M", "1Gi")


# -- the cgroup arithmetic ------------------------------------------------------------------------
def random_resources(rng: random.Random) -> dict:
    resources: dict[str, dict] = {}
    for kind in ("requests", "limits"):
        values = {name: value for name, value in (("cpu", rng.choice(CPUS)), ("memory", rng.choice(MEMORIES)))
                  if value}
        if values and rng.random() < 0.8:
            resources[kind] = values
    return resources


def _fields(value: Any) -> Any:
    if isinstance(value, cri.LinuxContainerResources):
        return dataclasses.asdict(value)
    return value


def _diagnose_cgroups(case: tuple, expected: Any, got: Any) -> str | None:
    want, have = _fields(expected.value), _fields(got.value)
    if not isinstance(have, dict):
        return "return engine.runtime.cri.LinuxContainerResources(cpu_period=..., cpu_quota=..., cpu_shares=..., " \
               "memory_limit_in_bytes=...)"
    if have.get("cpu_shares") != want["cpu_shares"]:
        if want["cpu_shares"] == 2:
            return "cpu shares are at least 2 (a container without a cpu request gets 2)"
        return "cpu shares = millicores * 1024 // 1000, from the request (the limit when there is no request)"
    if have.get("cpu_quota") != want["cpu_quota"] or have.get("cpu_period") != want["cpu_period"]:
        if want["cpu_quota"] == 0:
            return "no cpu limit, no quota: cpu_period and cpu_quota stay 0"
        return "the quota is the limit's share of a 100 ms period: millicores * 100000 // 1000 (at least 1000)"
    if have.get("memory_limit_in_bytes") != want["memory_limit_in_bytes"]:
        return "the memory limit in bytes comes from limits.memory only (0 without one)"
    return None


def check_linux_resources(linux_resources: Callable, seed: int, n: int = 200) -> None:
    rng = random.Random(seed)
    cases = [(random_resources(rng),) for _ in range(n)]
    own = OwnWork("linux_resources", [runc.linux_resources, runc.milli_cpu_to_shares, runc.milli_cpu_to_quota],
                  see=SEE)
    compare(own.wrap(linux_resources), runc.linux_resources, cases, describe=lambda r: f"resources={r}",
            render=lambda value: repr(_fields(value)), equal=lambda a, b: _fields(a) == _fields(b),
            what="linux_resources", diagnose=_diagnose_cgroups, see=SEE)
    own.check(linux_resources)


# -- image pulls ----------------------------------------------------------------------------------
IMAGES = ("nginx", "nginx:latest", "nginx:1.27", "docker.io/library/busybox:1.36", "registry.k8s.io/pause:3.9",
          "example.com/team/app", "localhost:5000/app:v2", "nginx@sha256:" + "a" * 64)


def check_pull_policy(default_policy: Callable, decision: Callable) -> None:
    own_default = OwnWork("default_pull_policy", [default_pull_policy], see=SEE)
    compare(own_default.wrap(default_policy), default_pull_policy, [(image,) for image in IMAGES],
            describe=lambda image: f"image {image!r}", what="default_pull_policy", see=SEE,
            diagnose=lambda case, want, got: "no tag, or :latest, means Always; a tag or a digest means IfNotPresent")
    own_default.check(default_policy)
    own = OwnWork("pull_decision", [pull_decision], see=SEE)
    cases = [(policy, present) for policy in ("Always", "IfNotPresent", "Never") for present in (True, False)]
    compare(own.wrap(decision), pull_decision, cases, describe=lambda p, present: f"policy {p}, image on the node: "
            f"{present}", what="pull_decision", see=SEE,
            diagnose=lambda case, want, got: {
                "Always": "Always pulls even when the image is on the node (to check for a newer digest)",
                "IfNotPresent": "IfNotPresent pulls only when the image is missing",
                "Never": "Never uses the image on the node, and fails with ErrImageNeverPull when it is missing",
            }[case[0]])
    own.check(decision)


# -- the CRI call sequence ------------------------------------------------------------------------
def reference_start_calls(pod: dict, view: dict) -> list[tuple[str, str]]:
    """The CRI calls SyncPod makes next for a starting pod (see the module docstring)."""
    spec, calls = pod["spec"], []
    present = set(view.get("images") or [])
    states = dict(view.get("containers") or {})
    if not view.get("sandbox"):
        calls.append(("RunPodSandbox", pod["metadata"]["name"]))
        states = {}

    def start(container: dict) -> None:
        image = container["image"]
        policy = container.get("imagePullPolicy") or default_pull_policy(image)
        decision = pull_decision(policy, image in present)
        if decision == ERR_IMAGE_NEVER_PULL:
            return
        if decision == "pull":
            calls.append(("PullImage", image))
            present.add(image)
        calls.extend([("CreateContainer", container["name"]), ("StartContainer", container["name"])])

    for init in spec.get("initContainers") or []:
        state = states.get(init["name"])
        if state == "exited 0":
            continue
        if state == "running":
            return calls
        if state is not None and spec.get("restartPolicy", "Always") == "Never":
            return calls
        start(init)
        return calls
    for container in spec.get("containers") or []:
        if container["name"] not in states:
            start(container)
    return calls


def random_start_case(rng: random.Random, index: int) -> tuple[dict, dict]:
    images = ("nginx", "nginx:1.27", "busybox:1.36", "redis:7", "example.com/app")
    def container(name: str) -> dict:
        c = {"name": name, "image": rng.choice(images)}
        if rng.random() < 0.4:
            c["imagePullPolicy"] = rng.choice(("Always", "IfNotPresent", "Never"))
        return c
    spec: dict[str, Any] = {"restartPolicy": rng.choice(("Always", "OnFailure", "Never")),
                            "containers": [container(f"app-{i}") for i in range(rng.randint(1, 3))]}
    if rng.random() < 0.6:
        spec["initContainers"] = [container(f"init-{i}") for i in range(rng.randint(1, 3))]
    pod = {"metadata": {"name": f"pod-{index}"}, "spec": spec}
    sandbox = rng.random() < 0.7
    states: dict[str, str] = {}
    if sandbox:
        inits = [c["name"] for c in spec.get("initContainers") or []]
        done = rng.randint(0, len(inits))
        for name in inits[:done]:
            states[name] = "exited 0"
        if done < len(inits) and rng.random() < 0.6:
            states[inits[done]] = rng.choice(("running", "exited 1"))
        elif done == len(inits):
            for c in spec["containers"]:
                if rng.random() < 0.4:
                    states[c["name"]] = "running"
    view = {"sandbox": sandbox, "containers": states, "images": sorted(rng.sample(images, rng.randint(0, 3)))}
    return pod, view


def _describe_start(pod: dict, view: dict) -> str:
    spec = pod["spec"]
    def names(key: str) -> str:
        return ", ".join(f"{c['name']} {c['image']}" + (f" ({c['imagePullPolicy']})" if c.get("imagePullPolicy")
                                                         else "") for c in spec.get(key) or [])
    inits = names("initContainers")
    return (f"restartPolicy {spec.get('restartPolicy')}, " + (f"init [{inits}], " if inits else "")
            + f"containers [{names('containers')}]; view {view}")


def _diagnose_start(case: tuple, expected: Any, got: Any) -> str | None:
    want = list(expected.value)
    have = [tuple(call) for call in got.value] if isinstance(got.value, (list, tuple)) else got.value
    if not isinstance(have, list):
        return "return a list of (call, what) pairs"
    if [c for c in want if c[0] == "RunPodSandbox"] != [c for c in have if c[0] == "RunPodSandbox"]:
        return "RunPodSandbox first, and only when the pod has no ready sandbox"
    if [c for c in want if c[0] == "PullImage"] != [c for c in have if c[0] == "PullImage"]:
        return "pull as imagePullPolicy says (its default comes from the tag), and an image pulled once is present"
    started_want = [c[1] for c in want if c[0] == "StartContainer"]
    started_have = [c[1] for c in have if c[0] == "StartContainer"]
    inits = [c["name"] for c in case[0]["spec"].get("initContainers") or []]
    if any(name in inits for name in started_want) or set(started_have) & set(inits):
        return "init containers run one at a time, in order, each waiting for the one before to exit 0; " \
               "the app containers start only after the last one"
    if started_want != started_have:
        return "every app container not started yet is started, in the order of the spec"
    return "each container is CreateContainer, then StartContainer"


def check_start_calls(start_calls: Callable, seed: int, n: int = 200) -> None:
    rng = random.Random(seed)
    cases = [random_start_case(rng, i) for i in range(n)]
    own = OwnWork("start_calls", [compute_pod_actions, pull_decision, default_pull_policy], see=SEE)
    compare(own.wrap(start_calls), reference_start_calls, cases, describe=_describe_start, what="start_calls",
            normalize=lambda v: [tuple(call) for call in v] if isinstance(v, (list, tuple)) else v,
            diagnose=_diagnose_start, see=SEE)
    own.check(start_calls)


# -- the pieces in a running kubelet --------------------------------------------------------------
def _view(pod: dict, status: Any, sandbox: bool) -> dict:
    states = {}
    if sandbox:
        names = [c["name"] for c in [*(pod["spec"].get("initContainers") or []), *pod["spec"]["containers"]]]
        for name in names:
            latest = status.latest(name)
            if latest is not None:
                states[name] = "running" if latest.state == cri.CONTAINER_RUNNING else (
                    f"exited {latest.exit_code}" if latest.state == cri.CONTAINER_EXITED else "running")
    return {"sandbox": sandbox, "containers": states, "images": []}


def start_calls_adapter(start_calls: Callable, plugged: Plugged) -> Callable[..., PodActions]:
    """A ``compute_pod_actions`` that asks ``start_calls`` while a pod is starting (the engine's otherwise)."""
    def adapted(pod: dict, status: Any, probe_failures: dict | None = None) -> PodActions:
        reference = compute_pod_actions(pod, status, probe_failures)
        app_exited = any((status.latest(c["name"]) is not None and status.latest(c["name"]).state != cri.CONTAINER_RUNNING)
                         for c in pod["spec"]["containers"])
        if reference.containers_to_kill or app_exited or (reference.kill_pod and not reference.create_sandbox):
            return reference
        view = _view(pod, status, not reference.create_sandbox)
        expected = reference_start_calls(pod, view)
        try:
            calls = [tuple(call) for call in start_calls(pod, view)]
        except Exception as error:
            if len(plugged.errors) < 3:
                plugged.errors.append(f"start_calls for pod {pod['metadata']['name']} raised {error!r}")
            return reference
        if calls != expected and len(plugged.disagreements) < 3:
            plugged.disagreements.append(f"start_calls({_describe_start(pod, view)}) answered {calls}, "
                                         f"the engine {expected}")
        creates = any(call[0] == "RunPodSandbox" for call in calls)
        if reference.create_sandbox and not creates:
            return PodActions()          # no sandbox, nothing can start: the pod stays where it is
        inits = {c["name"] for c in pod["spec"].get("initContainers") or []}
        started = [call[1] for call in calls if call[0] == "StartContainer"]
        first_init = next((name for name in started if name in inits), None)
        return PodActions(kill_pod=reference.kill_pod and creates, create_sandbox=creates,
                          sandbox_id=reference.sandbox_id, attempt=reference.attempt, next_init_container=first_init,
                          containers_to_start=[] if first_init else [n for n in started if n not in inits])
    return adapted


def runtime_cluster(*, linux_resources: Callable | None = None, start_calls: Callable | None = None, seed: int = 0,
                    plugged: Plugged | None = None) -> Any:
    """One node whose kubelet computes cgroups with ``linux_resources`` and starts pods with ``start_calls``."""
    from engine.cluster import Cluster
    from engine.components import COMPONENTS
    from engine.kubelet import KUBELET
    from engine.scheduler import SCHEDULER
    plugged = plugged or Plugged()
    options: dict[str, Any] = {}
    if linux_resources is not None:
        options["linux_resources"] = plugged.guard("linux_resources", linux_resources, runc.linux_resources, repr)
    if start_calls is not None:
        options["compute_pod_actions"] = start_calls_adapter(start_calls, plugged)
    kubelet = dataclasses.replace(KUBELET, options={**KUBELET.options, **options})
    return Cluster(nodes=1, seed=seed, components=[COMPONENTS[0], SCHEDULER, kubelet])


def runtime_pods(seed: int) -> list[dict]:
    """Seeded pods with init containers, several app containers, limits that throttle and one that OOM-kills."""
    rng = random.Random(seed)

    def pod(name: str, containers: list[dict], inits: list[dict] | None = None, policy: str = "Always") -> dict:
        spec: dict[str, Any] = {"containers": containers, "restartPolicy": policy}
        if inits:
            spec["initContainers"] = inits
        return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": spec}

    def sleeper(name: str, seconds: int, image: str = "busybox:1.36") -> dict:
        return {"name": name, "image": image, "command": ["sh", "-c", f"sleep {seconds}"]}

    burner_limit = rng.choice(("250m", "500m", "750m"))
    return [
        pod("inits", [sleeper("app", 3600), {"name": "web", "image": "nginx:1.27"}],
            [sleeper("first", rng.randint(1, 4)), sleeper("second", rng.randint(1, 4), "busybox")]),
        pod("burner", [{"name": "burn", "image": "vish/stress", "args": ["-cpus", "2"],
                        "resources": {"requests": {"cpu": "100m"}, "limits": {"cpu": burner_limit}}}]),
        pod("hog", [{"name": "hog", "image": "polinux/stress", "command": ["stress"],
                     "args": ["--vm", "1", "--vm-bytes", f"{rng.choice((150, 200))}M", "--vm-hang", "1"],
                     "resources": {"limits": {"memory": "100Mi", "cpu": "1"}}}], policy="Never"),
    ]


def _stats(cluster: Any) -> dict[str, tuple]:
    runtime = cluster.runtimes["node-1"]
    found = {}
    for record in runtime.list_containers():
        status = runtime.container_status(record.id)
        stats = runtime.container_stats(record.id)
        found[f"{status.metadata.name}#{status.metadata.attempt}"] = (stats["nr_throttled"], stats["oom_kills"])
    return found


def check_in_kubelet(linux_resources: Callable, start_calls: Callable, seed: int, seconds: int = 30) -> None:
    """The seeded pods on a node running the learner's pieces and on one running the engine's: same history?"""
    for what, piece, pieces in (("linux_resources", linux_resources, [runc.linux_resources]),
                                ("start_calls", start_calls, [compute_pod_actions])):
        OwnWork(what, pieces, see=SEE).check(piece)
    pods = runtime_pods(seed)
    plugged = Plugged()
    learner = runtime_cluster(linux_resources=linux_resources, start_calls=start_calls, seed=seed, plugged=plugged)
    got = timeline(learner, pods, seconds)
    if plugged.errors:
        fail("the kubelet called your functions and they raised:\n" + "\n".join(plugged.errors), see=SEE)
    reference = runtime_cluster(seed=seed)
    expected = timeline(reference, pods, seconds)
    for (now, want), (_, have) in zip(expected, got):
        for name in want:
            if want[name] != have.get(name):
                lines = [f"with your functions in the kubelet, pod {name!r} at t={now:.0f}s is {have.get(name)}",
                         f"with the engine's it is {want[name]}"]
                lines += [f"   {line}" for line in plugged.disagreements]
                fail("\n".join(lines), see=SEE)
    if _stats(learner) != _stats(reference):
        fail(f"the containers' cgroups behaved differently (throttled periods, OOM kills): yours {_stats(learner)}, "
             f"the engine's {_stats(reference)}", see=SEE)
    if plugged.disagreements:
        fail("the pods went the same way, but some of your functions' answers differ from the engine's:\n"
             + "\n".join(plugged.disagreements), see=SEE)


__all__ = ["check_in_kubelet", "check_linux_resources", "check_pull_policy", "check_start_calls",
           "reference_start_calls", "runtime_cluster", "runtime_pods", "start_calls_adapter"]
