"""lab12_addons: the cells of its source notebook, and what its grading round trip expects."""

from __future__ import annotations

from lab_specs.cells import Cell, code, md, solution, tests


def cells() -> list[Cell]:
    see = 'course/12_addons.ipynb, section "3. Monitoring: metrics-server and the HPA"'
    return [
        md("intro", """
# Lab 12: monitoring add-ons, from a CPU counter to a replica count

The resource metrics pipeline is two add-on pieces and one controller: every kubelet reports each
container's **cumulative** CPU time (`usageCoreNanoSeconds`: nanoseconds of CPU used since the container
started), **metrics-server** scrapes them every 15 s and turns two samples into a rate (the
`metrics.k8s.io` API that `kubectl top` and the HPA read), and the **HorizontalPodAutoscaler**
controller turns the pods' usage into a replica count every 15 s. You write the three decisions:

1. `cpu_rate(prev, last)`: metrics-server's CPU rate from two samples;
2. `desired_replicas(...)`: the HPA's replica calculator (target, tolerance, unready and missing pods);
3. `normalize(...)`: the HPA's scale-down stabilization window and its limits.

Then the three run *inside* a cluster: `autoscaling_cluster(...)` installs metrics-server (whose storage
calls your `cpu_rate`) and a controller manager whose HPA controller calls your other two, with the docs'
php-apache walkthrough (`registry.k8s.io/hpa-example`, `kubectl autoscale deployment php-apache
--cpu-percent=50 --min=1 --max=10`) and busybox load generators. The lecture is `course/12_addons.ipynb`;
the engine's versions are in `engine/addons/metrics_server/storage.py`,
`engine/controllers/podautoscaler_replicas.py` and `engine/controllers/horizontal.py`. Graded cells:
10 points. Hidden tests compare your functions with the engine's on many seeded cases, then run an HPA
on your code while the load goes up, pauses and stops, and compare every decision with the engine's.
"""),
        code("setup", f"""
import math

from engine.grading import check, fail
from engine.grading.autoscaling import MetricsPoint, autoscaling_cluster, replicas, set_load

SECTION = {see!r}   # where the checks below send you


def utilization_ratio(usage, requests, target):
    \"\"\"The pods' whole-percent utilization of their requests (over the pods in ``usage``), divided by target.\"\"\"
    used = sum(usage.values())
    requested = sum(requests[pod] for pod in usage)
    return int(used * 100 / requested) / target


# Two samples of one container, 15 s apart, as metrics-server keeps them: it used 3.75 s of CPU in between.
prev = MetricsPoint(start_time=100.0, timestamp=400.0, cumulative_cpu_used=60_000_000_000, memory_usage=12_000_000)
last = MetricsPoint(start_time=100.0, timestamp=415.0, cumulative_cpu_used=63_750_000_000, memory_usage=12_000_000)
print(last)
print(utilization_ratio({{"a": 120, "b": 80}}, {{"a": 200, "b": 200}}, 50))   # 50 % used, target 50 %: 1.0
"""),
        md("rate_intro", """
## Part 1: a rate from a cumulative counter (3 points)

A kubelet's sample says how much CPU a container has used *in total* since it started
(`cumulative_cpu_used`, in nanoseconds) and when it was read (`timestamp`, in seconds). One sample
alone says nothing about *now*: a container that burned a lot an hour ago and is idle now has a big
counter. metrics-server keeps the previous sample (`prev`) of each container beside the latest
(`last`) and reports the **difference over the window** between them:

    rate = (last.cumulative_cpu_used - prev.cumulative_cpu_used) / (last.timestamp - prev.timestamp)

in nanocores (nanoseconds of CPU per second: 250000000 is 250m, a quarter of a core), rounded to an
integer. There is **no rate** (`None`) when there is no earlier sample (`prev is None`), when the two
are not from the same run of the container (`start_time` differs: it restarted and its counter began
again), when time did not move forward, or when the counter went backwards.
"""),
        solution("cpu_rate", """
def cpu_rate(prev, last):
    \"\"\"CPU used between two samples of one container, in nanocores (an int), or None.\"\"\"
    ### BEGIN SOLUTION
    if prev is None or prev.start_time != last.start_time:
        return None
    if last.timestamp <= prev.timestamp or last.cumulative_cpu_used < prev.cumulative_cpu_used:
        return None
    return round((last.cumulative_cpu_used - prev.cumulative_cpu_used) / (last.timestamp - prev.timestamp))
    ### END SOLUTION
"""),
        tests("test_cpu_rate", 3, """
check(cpu_rate(prev, last) == 250_000_000, "3.75 s of CPU in 15 s is a quarter of a core: 250000000 nanocores",
      expected=250_000_000, got=cpu_rate(prev, last), see=SECTION,
      hint="the rate is the difference of the two counters over the time between the samples, not the last counter alone")
check(cpu_rate(None, last) is None, "no earlier sample: no rate yet", got=cpu_rate(None, last), see=SECTION)
restarted = MetricsPoint(start_time=410.0, timestamp=415.0, cumulative_cpu_used=900_000_000, memory_usage=1)
check(cpu_rate(prev, restarted) is None, "the container restarted (another start_time): no rate",
      got=cpu_rate(prev, restarted), see=SECTION)
idle_now = MetricsPoint(start_time=100.0, timestamp=430.0, cumulative_cpu_used=63_750_000_000, memory_usage=1)
check(cpu_rate(last, idle_now) == 0, "a big counter that did not move: the container is idle now",
      expected=0, got=cpu_rate(last, idle_now), see=SECTION)
### BEGIN HIDDEN TESTS
from engine.grading.integrity import ensure_installed
ensure_installed()     # the engine as installed, whatever the notebook patched
from engine.grading.autoscaling_checks import check_cpu_rate
check_cpu_rate(cpu_rate, seed=120)
### END HIDDEN TESTS
"""),
        md("replicas_intro", """
## Part 2: the HPA's replica count (3 points)

Every 15 s the HPA controller reads the pods' usage (from metrics-server) and their requests, and
`desired_replicas(current, target, usage, requests, unready, missing, tolerance)` answers the count:

- `usage`: milli-cpu used by each **ready** pod that has a metric (`{"php-apache-x": 230, ...}`);
  `requests`: milli-cpu requested by **every** counted pod (ready, unready and missing);
  `unready`, `missing`: names of the pods still starting up and of those without a metric;
  `target`: the target utilization in percent; `tolerance`: 0.1.
- `ratio = utilization_ratio(usage, requests, target)` (setup cell: the ready pods' whole-percent
  utilization over the target).
- With no missing pod, and no unready pod while `ratio > 1`: if `abs(1 - ratio) <= tolerance` the
  count stays `current` (the **tolerance**: without it the HPA flaps between counts); otherwise it is
  `ceil(ratio * len(usage))` (**round up**: fewer pods would sit above the target).
- Otherwise fill in the pods you have no number for, then decide again: on a scale-up (`ratio > 1`)
  missing and unready pods count as using **0**; on a scale-down (`ratio < 1`) missing pods count as
  using `max(100, target)` percent of their request (`requests[pod] * max(100, target) // 100`);
  nothing is filled in when `ratio == 1`. Compute `new_ratio` over all the pods you now have numbers
  for. If `new_ratio` is within the tolerance of 1, or on the other side of 1 from `ratio`, the count
  stays `current`; else it is `ceil(new_ratio * number of those pods)`, unless that moves the count the
  other way (down on a scale-up, up on a scale-down), in which case it stays `current`.
"""),
        solution("desired_replicas", """
def desired_replicas(current, target, usage, requests, unready=frozenset(), missing=frozenset(), tolerance=0.1):
    \"\"\"The replica count the HPA wants for a target utilization.\"\"\"
    ### BEGIN SOLUTION
    ratio = utilization_ratio(usage, requests, target)
    if not missing and not (unready and ratio > 1):
        if abs(1 - ratio) <= tolerance:
            return current
        return math.ceil(ratio * len(usage))
    filled = dict(usage)
    if missing and ratio != 1:
        fallback = max(100, target) if ratio < 1 else 0
        for pod in missing:
            filled[pod] = requests[pod] * fallback // 100
    if unready and ratio > 1:
        for pod in unready:
            filled[pod] = 0
    new_ratio = utilization_ratio(filled, requests, target)
    if abs(1 - new_ratio) <= tolerance or (ratio < 1 < new_ratio) or (ratio > 1 > new_ratio):
        return current
    count = math.ceil(new_ratio * len(filled))
    if (new_ratio < 1 and count > current) or (new_ratio > 1 and count < current):
        return current
    return count
    ### END SOLUTION
"""),
        tests("test_desired_replicas", 3, """
one = {"php-0": 400}
check(desired_replicas(1, 50, one, {"php-0": 200}) == 4, "one pod at 200 % of its request, target 50 %: 4 pods",
      expected=4, got=desired_replicas(1, 50, one, {"php-0": 200}), see=SECTION)
five = {f"php-{i}": 106 for i in range(5)}
requests = {f"php-{i}": 200 for i in range(5)}
check(desired_replicas(5, 50, five, requests) == 5, "53 % against a 50 % target is within the tolerance: stay at 5",
      expected=5, got=desired_replicas(5, 50, five, requests), see=SECTION)
three = {f"php-{i}": 130 for i in range(3)}
check(desired_replicas(3, 50, three, requests) == 4, "65 % of 3 pods is 3.9 pods at 50 %: round up to 4",
      expected=4, got=desired_replicas(3, 50, three, requests), see=SECTION)
starting = desired_replicas(2, 50, {"php-0": 300}, {"php-0": 200, "php-1": 200}, unready={"php-1"})
check(starting == 3, "150 % on the ready pod, 0 assumed for the one starting up: 75 % over 2 pods, target 50 %: 3",
      expected=3, got=starting, see=SECTION)
### BEGIN HIDDEN TESTS
from engine.grading.integrity import ensure_installed
ensure_installed()     # the engine as installed, whatever the notebook patched
from engine.grading.autoscaling_checks import check_desired_replicas
check_desired_replicas(desired_replicas, seed=121)
### END HIDDEN TESTS
"""),
        md("normalize_intro", """
## Part 3: the stabilization window and the limits (2 points)

A recommendation is not applied as it is. `normalize(current, desired, recommendations, now,
min_replicas, max_replicas, window=300)` gets the recommendations of the earlier syncs
(`[(time, count), ...]`, oldest first) and returns the count to scale to:

1. **stabilize**: the highest of `desired` and of the recommendations made at `now - window` or later
   (`--horizontal-pod-autoscaler-downscale-stabilization`, 5 minutes): the HPA scales *down* only when
   it has wanted fewer pods for the whole window, so a short lull does not throw pods away;
2. **limit**: at least `min_replicas`, at most the lower of `max_replicas` and the scale-up limit
   `max(2 * current, 4)` (at most doubling in one step, or going to 4).
"""),
        solution("normalize", """
def normalize(current, desired, recommendations, now, min_replicas, max_replicas, window=300):
    \"\"\"The count the HPA scales to: stabilized over the window, then within the limits.\"\"\"
    ### BEGIN SOLUTION
    stabilized = max([desired] + [count for moment, count in recommendations if moment >= now - window])
    limit = max(2 * current, 4)
    return max(min_replicas, min(stabilized, max_replicas, limit))
    ### END SOLUTION
"""),
        tests("test_normalize", 2, """
history = [(700.0, 2), (900.0, 6), (1000.0, 5)]
check(normalize(6, 2, history, 1015.0, 1, 10) == 6, "6 were wanted 115 s ago: stay at 6 for now",
      expected=6, got=normalize(6, 2, history, 1015.0, 1, 10), see=SECTION)
check(normalize(6, 2, history, 1300.0, 1, 10) == 5, "300 s later the 6 is out of the window, the 5 is not",
      expected=5, got=normalize(6, 2, history, 1300.0, 1, 10), see=SECTION)
check(normalize(1, 9, [], 50.0, 1, 10) == 4, "from 1 pod the scale-up limit is max(2 * 1, 4) = 4",
      expected=4, got=normalize(1, 9, [], 50.0, 1, 10), see=SECTION)
check(normalize(8, 30, [], 50.0, 1, 10) == 10, "never above max_replicas",
      expected=10, got=normalize(8, 30, [], 50.0, 1, 10), see=SECTION)
check(normalize(3, 0, [], 50.0, 2, 10) == 2, "never below min_replicas",
      expected=2, got=normalize(3, 0, [], 50.0, 2, 10), see=SECTION)
### BEGIN HIDDEN TESTS
from engine.grading.integrity import ensure_installed
ensure_installed()     # the engine as installed, whatever the notebook patched
from engine.grading.autoscaling_checks import check_normalize
check_normalize(normalize, seed=122)
### END HIDDEN TESTS
"""),
        md("cluster_intro", """
## Part 4: an HPA running on your code (2 points)

`autoscaling_cluster(seed, cpu_rate=..., desired_replicas=..., normalize=...)` boots the walkthrough's
cluster with your functions plugged in; `set_load(cluster, n)` runs `n` busybox load generators (each the
walkthrough's `while sleep 0.01; do wget -q -O- http://php-apache; done`, by the Service's address), and `cluster.decisions.calls` records every
call of your functions: your answer beside the engine's. The cell below puts one load generator on for
90 s. The hidden test drives the load up, pauses it for less than the window, stops it, and checks that
every one of your answers in the running cluster was the engine's, that php-apache scaled up, held its
size through the pause and came back to 1 pod only after the 5-minute window.
"""),
        code("try_in_cluster", """
cluster = autoscaling_cluster(seed=0, cpu_rate=cpu_rate, desired_replicas=desired_replicas, normalize=normalize)
cluster.run(30)
set_load(cluster, 1)
for _ in range(3):
    cluster.run(30)
    print(cluster.kubectl("get hpa --no-headers").strip())
print(cluster.kubectl("top pods"))
"""),
        tests("test_in_cluster", 2, """
failures = [(name, got.error) for name, _args, got, _expected in cluster.decisions.calls if got.error]
check(not failures, "metrics-server or the HPA controller called your function and it raised", got=failures[:1],
      see=SECTION)
check(replicas(cluster) >= 3, "one load generator for 90 s: php-apache should have at least 3 replicas",
      got=cluster.kubectl("get hpa"), see=SECTION)
### BEGIN HIDDEN TESTS
from engine.grading.integrity import ensure_installed
ensure_installed()     # the engine as installed, whatever the notebook patched
from engine.grading.autoscaling_checks import check_in_cluster
check_in_cluster(cpu_rate, desired_replicas, normalize, seed=123)
### END HIDDEN TESTS
"""),
        md("outro", """
## What you built

`cpu_rate` is metrics-server's `resourceUsage` (`pkg/storage/types.go`, over the points `pkg/storage`
keeps per container); `desired_replicas` is the HPA's `GetResourceReplicas`
(`pkg/controller/podautoscaler/replica_calculator.go`, after `groupPods` sorted the pods), and
`normalize` is `stabilizeRecommendation` plus `convertDesiredReplicasWithRules`
(`pkg/controller/podautoscaler/horizontal.go`). Everything around them (the kubelet's Summary API, the
scrape loop, the aggregation layer that forwards `metrics.k8s.io` to metrics-server, the 15 s sync of
each HPA, the scale subresource, events and status) is the engine's, as it is the real components'.
"""),
    ]


FULL = {"test_cpu_rate": 3, "test_desired_replicas": 3, "test_normalize": 2, "test_in_cluster": 2}
"""Points per graded cell: what the solution scores."""

BROKEN = ("broken_import",)
"""Which kinds of broken submission the round trip hands in for this lab (tests/grading/test_round_trip.py)."""

SECRETS = ("check_cpu_rate", "check_desired_replicas", "check_normalize", "check_in_cluster")
"""Names of hidden-test helpers that must never appear in a released lab or in feedback."""

_EDITS = {
    "wrong_rate_last_counter": (
        "cpu_rate",
        "round((last.cumulative_cpu_used - prev.cumulative_cpu_used) / (last.timestamp - prev.timestamp))",
        "round(last.cumulative_cpu_used / (last.timestamp - last.start_time))",
        {"test_cpu_rate", "test_in_cluster"}, "last counter alone"),
    "wrong_no_tolerance": ("desired_replicas", "if abs(1 - ratio) <= tolerance:", "if ratio == 1:",
                           {"test_desired_replicas"}, "tolerance"),
    "wrong_rounds_down": ("desired_replicas", "return math.ceil(ratio * len(usage))",
                          "return math.floor(ratio * len(usage))", {"test_desired_replicas", "test_in_cluster"},
                          "round up"),
}


def wrong_answers() -> dict[str, tuple[str, str, set[str], str]]:
    """Typical mistakes, each a one-line change of the solution (so they follow its text): student -> (answer
    cell id, its wrong source, graded cells that fail, words in feedback)."""
    sources = {grade_id: text for kind, grade_id, text, _ in cells() if kind == "solution"}
    wrong = {}
    for student, (cell_id, old, new, failing, words) in _EDITS.items():
        source = sources[cell_id].strip("\n")
        assert old in source, f"{student}: the solution of {cell_id} changed; update lab12_addons._EDITS"
        wrong[student] = (cell_id, source.replace(old, new), failing, words)
    return wrong
