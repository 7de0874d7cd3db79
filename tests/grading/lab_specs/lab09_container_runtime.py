"""lab09_container_runtime: the cells of its source notebook, and what its grading round trip expects."""

from __future__ import annotations

from lab_specs.cells import Cell, code, md, solution, tests


def cells() -> list[Cell]:
    see_cgroups = 'course/09_container_runtime.ipynb, section "3. Namespaces and cgroups"'
    see_images = 'course/09_container_runtime.ipynb, section "2. Images and layers"'
    see_cri = 'course/09_container_runtime.ipynb, section "1. docker, containerd, runc and the CRI"'
    return [
        md("intro", """
# Lab 9: the container runtime, from a pod spec to cgroups

Under the kubelet, the **container runtime** does the work: containerd pulls images and keeps containers,
runc creates each one in its own namespaces and cgroup. The kubelet drives it through the **CRI**: it
calls `RunPodSandbox`, `PullImage`, `CreateContainer`, `StartContainer` in the right order, and it
computes each container's **cgroup limits** from the pod's requests and limits.

In this lab you write:

1. `linux_resources(resources)`: the cgroup settings (cpu shares, cpu quota, memory limit);
2. `default_pull_policy(image)` and `pull_decision(policy, present)`: when an image is pulled;
3. `start_calls(pod, view)`: the CRI calls that start a pod (sandbox, pulls, init containers one at
   a time, then the app containers).

Then `runtime_cluster(...)` runs a node whose **kubelet uses your `linux_resources` and `start_calls`**.
The lecture is `course/09_container_runtime.ipynb`; the engine's versions are in `engine/runtime/runc.py`,
`engine/runtime/images.py` and `engine/kubelet/kuberuntime.py`. Graded cells: 10 points.
"""),
        code("setup", f"""
import engine
from engine.api.quantity import parse_quantity
from engine.runtime.cri import LinuxContainerResources
from engine.grading import check, fail
from engine.grading.runtime import runtime_cluster

# Where the checks below send you when something is not right yet.
CGROUPS_SECTION = {see_cgroups!r}
IMAGES_SECTION = {see_images!r}
CRI_SECTION = {see_cri!r}


def millicores(value):
    \"\"\"'500m' -> 500, '2' -> 2000.\"\"\"
    return parse_quantity(value).milli_value()


def bytes_of(value):
    \"\"\"'128Mi' -> 134217728, '1G' -> 1000000000.\"\"\"
    return parse_quantity(value).value()


print(LinuxContainerResources())       # all 0: nothing set
print(millicores("250m"), bytes_of("64Mi"))
"""),
        md("cgroups_intro", """
## Part 1: cgroups from requests and limits (3 points)

The kubelet turns a container's `resources` into the cgroup settings runc writes
(`LinuxContainerResources`, every field an integer, 0 meaning "not set"):

- **`cpu_shares`**, the container's weight when CPUs are contested, from the **cpu request**:
  `millicores * 1024 // 1000`, at least **2** (also when there is no request at all), at most 262144;
- **`cpu_quota`** and **`cpu_period`**, the hard ceiling, from the **cpu limit**: the period is
  **100000** µs (100 ms) and the quota `millicores * 100000 // 1000` µs of it, at least 1000; without a
  cpu limit both stay 0 (no ceiling);
- **`memory_limit_in_bytes`**, from the **memory limit** (0 without one): above it, the OOM killer.

When a resource has a limit but no request, the API server sets the request to the limit: do the same
(`requests = {**limits, **requests}`). `resources` may be `{}` or `None`.
"""),
        solution("linux_resources", """
MIN_SHARES, MAX_SHARES = 2, 262144
QUOTA_PERIOD, MIN_QUOTA = 100000, 1000


def linux_resources(resources):
    \"\"\"The cgroup settings for a container's resources.\"\"\"
    ### BEGIN SOLUTION
    resources = resources or {}
    limits = resources.get("limits") or {}
    requests = {**limits, **(resources.get("requests") or {})}
    cpu_request = millicores(requests["cpu"]) if "cpu" in requests else 0
    cpu_limit = millicores(limits["cpu"]) if "cpu" in limits else 0
    shares = min(max(cpu_request * 1024 // 1000, MIN_SHARES), MAX_SHARES)
    quota = max(cpu_limit * QUOTA_PERIOD // 1000, MIN_QUOTA) if cpu_limit else 0
    return LinuxContainerResources(
        cpu_period=QUOTA_PERIOD if cpu_limit else 0,
        cpu_quota=quota,
        cpu_shares=shares,
        memory_limit_in_bytes=bytes_of(limits["memory"]) if "memory" in limits else 0,
    )
    ### END SOLUTION
"""),
        tests("test_linux_resources", 3, """
web = linux_resources({"requests": {"cpu": "250m", "memory": "64Mi"}, "limits": {"cpu": "500m", "memory": "128Mi"}})
check(web.cpu_shares == 256, "cpu shares = 250 * 1024 // 1000 = 256", expected=256, got=web.cpu_shares, see=CGROUPS_SECTION)
check((web.cpu_period, web.cpu_quota) == (100000, 50000), "a 500m limit is 50 ms of every 100 ms period",
      expected=(100000, 50000), got=(web.cpu_period, web.cpu_quota), see=CGROUPS_SECTION)
check(web.memory_limit_in_bytes == 134217728, "the memory limit: 128Mi in bytes", got=web.memory_limit_in_bytes,
      see=CGROUPS_SECTION)
bare = linux_resources({})
check((bare.cpu_shares, bare.cpu_quota, bare.memory_limit_in_bytes) == (2, 0, 0),
      "no requests, no limits: cpu shares are at least 2, no quota, no memory limit",
      expected=(2, 0, 0), got=(bare.cpu_shares, bare.cpu_quota, bare.memory_limit_in_bytes), see=CGROUPS_SECTION)
limited = linux_resources({"limits": {"cpu": "1"}})
check(limited.cpu_shares == 1024, "a limit without a request: the request is the limit, 1 cpu = 1024 shares",
      got=limited.cpu_shares, see=CGROUPS_SECTION)
### BEGIN HIDDEN TESTS
from engine.grading.integrity import ensure_installed
ensure_installed()     # the engine as installed, whatever the notebook patched
from engine.grading.runtime import check_linux_resources
check_linux_resources(linux_resources, seed=91)
### END HIDDEN TESTS
"""),
        md("pull_intro", """
## Part 2: when to pull (2 points)

Every container has an `imagePullPolicy`. If the pod does not set one, the API server sets it from the
image reference: **`Always`** when there is no tag or the tag is `:latest` (`nginx`, `nginx:latest`),
**`IfNotPresent`** otherwise (`nginx:1.27`, and an image by digest, `nginx@sha256:...`). Careful: in
`localhost:5000/app` the `:5000` is a port, not a tag (look only after the last `/`).

Before starting a container the kubelet decides, from the policy and whether the image is on the node:

- `Always`: `"pull"` (even when present: the registry may have a newer image under the same tag);
- `IfNotPresent`: `"use"` when present, else `"pull"`;
- `Never`: `"use"` when present, else `"ErrImageNeverPull"` (the container cannot start).
"""),
        solution("pull", """
def default_pull_policy(image):
    \"\"\"Always or IfNotPresent, from the image reference.\"\"\"
    ### BEGIN SOLUTION
    if "@" in image:
        return "IfNotPresent"
    last = image.rsplit("/", 1)[-1]
    if ":" not in last or last.endswith(":latest"):
        return "Always"
    return "IfNotPresent"
    ### END SOLUTION


def pull_decision(policy, present):
    \"\"\"'pull', 'use' or 'ErrImageNeverPull'.\"\"\"
    ### BEGIN SOLUTION
    if policy == "Always":
        return "pull"
    if present:
        return "use"
    if policy == "Never":
        return "ErrImageNeverPull"
    return "pull"
    ### END SOLUTION
"""),
        tests("test_pull", 2, """
check([default_pull_policy(i) for i in ("nginx", "nginx:latest", "nginx:1.27")] == ["Always", "Always", "IfNotPresent"],
      "no tag or :latest means Always; a tag means IfNotPresent",
      got=[default_pull_policy(i) for i in ("nginx", "nginx:latest", "nginx:1.27")], see=IMAGES_SECTION)
check(default_pull_policy("localhost:5000/app") == "Always", "the :5000 in localhost:5000/app is a port, not a tag",
      got=default_pull_policy("localhost:5000/app"), see=IMAGES_SECTION)
check(pull_decision("Always", True) == "pull", "Always pulls even when the image is on the node",
      got=pull_decision("Always", True), see=IMAGES_SECTION)
check((pull_decision("IfNotPresent", True), pull_decision("IfNotPresent", False)) == ("use", "pull"),
      "IfNotPresent pulls only when the image is missing", see=IMAGES_SECTION)
check(pull_decision("Never", False) == "ErrImageNeverPull", "Never never pulls", got=pull_decision("Never", False),
      see=IMAGES_SECTION)
### BEGIN HIDDEN TESTS
from engine.grading.integrity import ensure_installed
ensure_installed()     # the engine as installed, whatever the notebook patched
from engine.grading.runtime import check_pull_policy
check_pull_policy(default_pull_policy, pull_decision)
### END HIDDEN TESTS
"""),
        md("start_intro", """
## Part 3: the CRI calls that start a pod (3 points)

The kubelet's sync is level-triggered: each time it looks at a pod it compares the spec with what the
runtime reports and makes the **next** calls. `start_calls(pod, view)` returns them, as a list of
`(call, what)` pairs, for a pod that is starting. `view` is what the runtime reports:

- `view["sandbox"]`: True when the pod has a ready sandbox;
- `view["containers"]`: `{name: "running" | "exited 0" | "exited 1" ...}` for the containers that
  exist (init or app), empty when there is no sandbox;
- `view["images"]`: the image references on the node.

The calls, in order:

1. no sandbox: `("RunPodSandbox", <pod name>)` (and then no container exists yet);
2. the **init containers**, in order: skip those that `"exited 0"`; for the first one that has not:
   if it is `"running"`, stop here (wait for it); if it failed and `restartPolicy` is `Never`, stop
   here (the pod fails); otherwise start it, and stop here: **one init container at a time**;
3. when every init container exited 0: start every **app container** that does not exist yet, in order.

To *start* a container: decide with your `pull_decision` (the policy is its `imagePullPolicy`, or
`default_pull_policy(image)`; present means in `view["images"]` or pulled earlier in this list):
`"pull"` adds `("PullImage", image)`; `"ErrImageNeverPull"` skips the container; then
`("CreateContainer", name)` and `("StartContainer", name)`.
"""),
        solution("start_calls", """
def start_calls(pod, view):
    \"\"\"The CRI calls the kubelet makes next to start the pod: [(call, what), ...].\"\"\"
    ### BEGIN SOLUTION
    spec, calls = pod["spec"], []
    present = set(view.get("images") or [])
    states = dict(view.get("containers") or {})
    if not view.get("sandbox"):
        calls.append(("RunPodSandbox", pod["metadata"]["name"]))
        states = {}

    def start(container):
        image = container["image"]
        decision = pull_decision(container.get("imagePullPolicy") or default_pull_policy(image), image in present)
        if decision == "ErrImageNeverPull":
            return
        if decision == "pull":
            calls.append(("PullImage", image))
            present.add(image)
        calls.append(("CreateContainer", container["name"]))
        calls.append(("StartContainer", container["name"]))

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
    for container in spec["containers"]:
        if container["name"] not in states:
            start(container)
    return calls
    ### END SOLUTION
"""),
        tests("test_start_calls", 3, """
pod = {"metadata": {"name": "web"}, "spec": {
    "initContainers": [{"name": "migrate", "image": "busybox:1.36"}],
    "containers": [{"name": "app", "image": "nginx:1.27"}, {"name": "log", "image": "busybox:1.36"}]}}
first = start_calls(pod, {"sandbox": False, "containers": {}, "images": []})
expected = [("RunPodSandbox", "web"), ("PullImage", "busybox:1.36"), ("CreateContainer", "migrate"),
            ("StartContainer", "migrate")]
check([tuple(c) for c in first] == expected, "a new pod: its sandbox, then its first init container only",
      expected=expected, got=first, see=CRI_SECTION)
waiting = start_calls(pod, {"sandbox": True, "containers": {"migrate": "running"}, "images": ["busybox:1.36"]})
check(list(waiting) == [], "while an init container runs, nothing else starts", got=waiting, see=CRI_SECTION)
then = start_calls(pod, {"sandbox": True, "containers": {"migrate": "exited 0"}, "images": ["busybox:1.36"]})
expected = [("PullImage", "nginx:1.27"), ("CreateContainer", "app"), ("StartContainer", "app"),
            ("CreateContainer", "log"), ("StartContainer", "log")]
check([tuple(c) for c in then] == expected, "after the init containers, every app container (busybox:1.36 is already there)",
      expected=expected, got=then, see=CRI_SECTION)
### BEGIN HIDDEN TESTS
from engine.grading.integrity import ensure_installed
ensure_installed()     # the engine as installed, whatever the notebook patched
from engine.grading.runtime import check_start_calls
check_start_calls(start_calls, seed=92)
### END HIDDEN TESTS
"""),
        md("live_intro", """
## Part 4: your runtime code in a kubelet (2 points)

`runtime_cluster(linux_resources=..., start_calls=...)` starts a node whose kubelet computes every
container's cgroup with your `linux_resources` and asks your `start_calls` what to start while a pod is
starting (its own logic still handles restarts and kills, and pulls with its own policy). Below, a CPU
burner wants 2 cores under a 500m limit: the quota your function computed throttles it. The hidden test
starts pods with init containers, a throttled burner and a memory hog on a node with your functions
and on one with the engine's, and compares them.
"""),
        tests("test_in_kubelet", 2, """
cluster = runtime_cluster(linux_resources=linux_resources, start_calls=start_calls)
cluster.apply({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "burner"}, "spec": {"containers": [
    {"name": "burn", "image": "vish/stress", "args": ["-cpus", "2"],
     "resources": {"requests": {"cpu": "100m"}, "limits": {"cpu": "500m"}}}]}})
cluster.run(20)
print(cluster.kubectl("get pods"))
runtime = cluster.runtimes["node-1"]
burn = runtime.list_containers()[0]
stats = runtime.container_stats(burn.id)
print(stats)
check(stats["nr_throttled"] > 0, "a container that wants 2 cores under a 500m limit is throttled", got=stats, see=CGROUPS_SECTION)
share = stats["usage_usec"] / (stats["nr_periods"] * 100000)
check(abs(share - 0.5) < 0.05, "under a 500m quota it gets 50 ms of each 100 ms period: half a core",
      expected=0.5, got=round(share, 3), see=CGROUPS_SECTION)
### BEGIN HIDDEN TESTS
from engine.grading.integrity import ensure_installed
ensure_installed()     # the engine as installed, whatever the notebook patched
from engine.grading.runtime import check_in_kubelet
check_in_kubelet(linux_resources, start_calls, seed=93)
### END HIDDEN TESTS
"""),
        md("outro", """
## What you built

`linux_resources` is the kubelet's `generateLinuxContainerResources` (`MilliCPUToShares`,
`MilliCPUToQuota` in `pkg/kubelet/cm/helpers_linux.go`); `default_pull_policy` is the API server's
defaulting of `imagePullPolicy`; `pull_decision` is `shouldPullImage` in
`pkg/kubelet/images/image_manager.go`; `start_calls` is the start path of `computePodActions` and
`SyncPod` in `pkg/kubelet/kuberuntime/kuberuntime_manager.go`. The real kubelet adds cgroup v2's
`cpu.weight` (converted from shares), hugepages, the pod-level cgroup, sidecars, and ephemeral containers.
"""),
    ]


FULL = {"test_linux_resources": 3, "test_pull": 2, "test_start_calls": 3, "test_in_kubelet": 2}
"""Points per graded cell: what the solution scores."""

BROKEN = ("broken_import", "broken_loop")
"""Which kinds of broken submission the round trip hands in for this lab (tests/grading/test_round_trip.py)."""

SECRETS = ("check_linux_resources", "check_pull_policy", "check_start_calls", "check_in_kubelet")
"""Names of hidden-test helpers that must never appear in a released lab or in feedback."""

_EDITS = {
    "wrong_no_min_shares": ("linux_resources", "shares = min(max(cpu_request * 1024 // 1000, MIN_SHARES), MAX_SHARES)",
                            "shares = min(cpu_request * 1024 // 1000, MAX_SHARES)",
                            {"test_linux_resources", "test_in_kubelet"}, "cpu shares are at least 2"),
    "wrong_quota_from_request": ("linux_resources", "quota = max(cpu_limit * QUOTA_PERIOD // 1000, MIN_QUOTA) if cpu_limit else 0",
                                 "quota = max(cpu_request * QUOTA_PERIOD // 1000, MIN_QUOTA) if cpu_limit else 0",
                                 {"test_linux_resources", "test_in_kubelet"}, "a 500m limit is 50 ms of every 100 ms period"),
    "wrong_always_uses_present": ("pull", '    if policy == "Always":\n        return "pull"\n    if present:',
                                  '    if present:\n        return "use"\n    if policy == "Always":\n        return "pull"\n    if present:',
                                  {"test_pull", "test_start_calls"}, "Always pulls even when the image is on the node"),
    "wrong_all_inits_at_once": ("start_calls", "        start(init)\n        return calls\n",
                                "        start(init)\n        continue\n",
                                {"test_start_calls", "test_in_kubelet"}, "its first init container only"),
}


_DELEGATES = """
def linux_resources(resources):
    from engine.runtime.runc import linux_resources as generate
    return generate(resources)
"""


def wrong_answers() -> dict[str, tuple[str, str, set[str], str]]:
    """Typical mistakes, each a one-line change of the solution (so they follow its text), and an answer that
    hands its work to the engine: student -> (answer cell id, its wrong source, graded cells that fail, words in
    feedback)."""
    sources = {grade_id: text for kind, grade_id, text, _ in cells() if kind == "solution"}
    wrong = {"wrong_delegates_cgroups": ("linux_resources", _DELEGATES, {"test_linux_resources", "test_in_kubelet"},
                                         "hands the work to the engine's own implementation")}
    for student, (cell_id, old, new, failing, words) in _EDITS.items():
        source = sources[cell_id].strip("\n")
        assert old in source, f"{student}: the solution of {cell_id} changed; update lab09_container_runtime._EDITS"
        wrong[student] = (cell_id, source.replace(old, new), failing, words)
    return wrong
