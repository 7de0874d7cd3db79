"""Lab 12's checks: a learner's CPU rate and HPA decisions against the engine's, alone and in a running cluster.

Interface:

- ``check_cpu_rate(cpu_rate, seed)``: metrics-server's rate from two cumulative samples, on seeded cases (the
  same run, a restarted container, a counter that went back, no earlier sample);
- ``check_desired_replicas(desired_replicas, seed)``: the HPA's replica calculator on seeded pods (usage,
  requests, unready and missing pods, targets, ratios near the tolerance);
- ``check_normalize(normalize, seed)``: the stabilization window and the limits on seeded histories;
- ``check_in_cluster(cpu_rate, desired_replicas, normalize, seed)``: the walkthrough's cluster running all three
  through a seeded load (a load generator on, a lull shorter than the window, off): every call must answer as
  the engine's function does on the same arguments, and php-apache's replicas must go up under load, hold
  through the lull and come back to 1 only after the 5-minute window.

Each raises a ``GradingFailure`` that names the typical mistake when it recognises one (a rate from the last
counter alone, no tolerance, rounding down, no stabilization) and gives no marks to an answer that hands its
work to the engine's (``OwnWork``). Nothing here prints or writes to stderr.
"""

from __future__ import annotations

import math
import random
from typing import Any, Callable

from engine.addons.metrics_server.storage import MetricsPoint, MetricsStorage
from engine.controllers.horizontal import Normalizer, convert_desired_replicas_with_rules
from engine.controllers.podautoscaler_replicas import resource_replicas
from engine.grading.autoscaling import REFERENCES, autoscaling_cluster, replicas, set_load
from engine.grading.delegation import OwnWork
from engine.grading.feedback import Outcome, compare, describe_exception, fail
from engine.grading.integrity import ensure_installed

SEE = "course/12_addons.ipynb, section \"3. Monitoring: metrics-server and the HPA\", and the lab's instructions"
WINDOW = 300.0


def own_work(what: str) -> OwnWork:
    pieces = {"cpu_rate": [REFERENCES["cpu_rate"], MetricsStorage],
              "desired_replicas": [REFERENCES["desired_replicas"], resource_replicas],
              "normalize": [REFERENCES["normalize"], convert_desired_replicas_with_rules, Normalizer]}[what]
    return OwnWork(what, pieces, see=SEE)


# -- cpu_rate ----------------------------------------------------------------------------------

def _point(start: float, at: float, cpu_ns: int, memory: int = 50_000_000) -> MetricsPoint:
    return MetricsPoint(start_time=start, timestamp=at, cumulative_cpu_used=cpu_ns, memory_usage=memory)


def rate_cases(seed: int, n: int = 120) -> list[tuple[MetricsPoint | None, MetricsPoint]]:
    rng = random.Random(seed)
    cases: list[tuple[MetricsPoint | None, MetricsPoint]] = []
    for _ in range(n):
        start = float(rng.randint(0, 600))
        earlier = start + rng.choice([15.0, 30.0, 47.5, 120.0, 600.0])
        window = rng.choice([15.0, 15.0, 10.0, 60.0, 14.25])
        used = rng.randint(0, 5_000_000_000) * int(earlier - start + 1)
        rate = rng.choice([0.0, 0.001, 0.05, 0.25, 0.5, 1.0, 1.7])
        prev = _point(start, earlier, used)
        last = _point(start, earlier + window, used + int(rate * window * 1e9) + rng.randint(0, 999))
        kind = rng.random()
        if kind < 0.1:
            prev = None
        elif kind < 0.2:            # the container restarted between the two samples: its counter began again
            last = _point(earlier + 3, last.timestamp, int(rate * 9e9))
        elif kind < 0.27:           # the same sample twice
            last = prev
        elif kind < 0.32:           # a counter that went backwards
            last = _point(start, last.timestamp, max(0, used - 1_000_000))
        cases.append((prev, last))
    return cases


def _describe_points(prev: MetricsPoint | None, last: MetricsPoint) -> str:
    def one(point: MetricsPoint | None) -> str:
        if point is None:
            return "None"
        return (f"(start_time={point.start_time:g}, timestamp={point.timestamp:g}, "
                f"cumulative_cpu_used={point.cumulative_cpu_used})")
    return f"prev={one(prev)}, last={one(last)}"


def _diagnose_rate(case: tuple, expected: Outcome, got: Outcome) -> str | None:
    prev, last = case
    if expected.value is None or got.value is None:
        return ("no rate without an earlier sample of the same run: None when prev is None, the start times "
                "differ (a restart), time did not move forward or the counter went backwards")
    alone = {round(last.cumulative_cpu_used / max(last.timestamp - last.start_time, 1e-9)),
             round(last.cumulative_cpu_used / max(last.timestamp - prev.timestamp, 1e-9))}
    if got.value in alone:
        return ("that is the last counter alone; the rate is a difference over the window: (last.cumulative_cpu_used"
                " - prev.cumulative_cpu_used) / (last.timestamp - prev.timestamp)")
    return None


def check_cpu_rate(cpu_rate: Callable[..., Any], seed: int) -> None:
    own = own_work("cpu_rate")
    compare(own.wrap(cpu_rate), REFERENCES["cpu_rate"], rate_cases(seed), describe=_describe_points,
            equal=lambda got, want: got == want if want is None or got is None else abs(got - want) <= 1,
            what="cpu_rate", diagnose=_diagnose_rate, see=SEE)
    own.check(cpu_rate)


# -- desired_replicas ----------------------------------------------------------------------------

def replica_cases(seed: int, n: int = 150) -> list[tuple]:
    rng = random.Random(seed)
    cases = []
    for index in range(n):
        pods = [f"php-{index}-{i}" for i in range(rng.randint(1, 9))]
        requests = {pod: rng.choice([100, 200, 200, 250, 500]) for pod in pods}
        target = rng.choice([50, 50, 60, 80, 100, 150])
        level = rng.choice([0.0, 0.3, 0.9, 0.95, 1.0, 1.05, 1.08, 1.2, 1.5, 2.5]) * target / 100
        unready, missing = set(), set()
        for pod in pods[1:]:
            roll = rng.random()
            if roll < 0.12:
                unready.add(pod)
            elif roll < 0.24:
                missing.add(pod)
        usage = {pod: int(requests[pod] * level * rng.uniform(0.9, 1.1)) for pod in pods
                 if pod not in unready | missing}
        current = len(pods) if rng.random() < 0.8 else max(1, len(pods) + rng.choice([-1, 1, 2]))
        cases.append((current, target, usage, requests, frozenset(unready), frozenset(missing), 0.1))
    return cases


def _describe_replicas(current: int, target: int, usage: dict, requests: dict, unready: frozenset,
                       missing: frozenset, tolerance: float) -> str:
    used = ", ".join(f"{usage[pod]}m/{requests[pod]}m" for pod in usage)
    text = f"current={current}, target={target}%, ready pods' usage/request=[{used}]"
    if unready:
        text += f", unready={len(unready)} pod(s)"
    if missing:
        text += f", missing={len(missing)} pod(s)"
    return text


def _diagnose_replicas(case: tuple, expected: Outcome, got: Outcome) -> str | None:
    current, target, usage, requests, unready, missing, tolerance = case
    ratio = int(sum(usage.values()) * 100 / sum(requests[pod] for pod in usage)) / target
    if expected.value == current and got.value != current and abs(1 - ratio) <= tolerance:
        return (f"the ratio is {ratio:.2f}, within the tolerance ({tolerance}) of 1: the count stays as it is "
                f"(without the tolerance the HPA flaps between counts)")
    if not unready and not missing and got.value == math.floor(ratio * len(usage)) != expected.value:
        return "round up (math.ceil): rounding down leaves the pods above the target"
    if unready or missing:
        return ("with unready or missing pods: on a scale-up they count as using 0 %, missing pods on a scale-down "
                "as max(100 %, target); then the ratio is computed again over all of them")
    return None


def check_desired_replicas(desired_replicas: Callable[..., Any], seed: int) -> None:
    own = own_work("desired_replicas")
    compare(own.wrap(desired_replicas), REFERENCES["desired_replicas"], replica_cases(seed),
            describe=_describe_replicas, what="desired_replicas", diagnose=_diagnose_replicas, see=SEE)
    own.check(desired_replicas)


# -- normalize -------------------------------------------------------------------------------------

def normalize_cases(seed: int, n: int = 120) -> list[tuple]:
    rng = random.Random(seed)
    cases = []
    for _ in range(n):
        now = 1000.0 + rng.randint(0, 60) * 15
        history = [(now - 15 * k, rng.randint(1, 12)) for k in range(rng.randint(0, 30), 0, -1)]
        current = rng.randint(1, 10)
        desired = rng.choice([rng.randint(0, 25), current, max(0, current - 2)])
        minimum = rng.choice([1, 1, 2, 3])
        cases.append((current, desired, history, now, minimum, rng.choice([5, 10, 10, 20])))
    return cases


def _describe_normalize(current: int, desired: int, history: list, now: float, minimum: int, maximum: int) -> str:
    recent = [replicas for moment, replicas in history if moment >= now - WINDOW]
    return (f"current={current}, desired={desired}, recommendations of the last 5 minutes={recent}, "
            f"min={minimum}, max={maximum}")


def _diagnose_normalize(case: tuple, expected: Outcome, got: Outcome) -> str | None:
    current, desired, history, now, minimum, maximum = case
    if got.value is not None and got.value < expected.value and expected.value <= current:
        return ("scale down only to the highest recommendation of the last 5 minutes (the downscale stabilization "
                "window), not to the newest one")
    if got.value is not None and got.value > max(2 * current, 4) and got.value > expected.value:
        return "a scale-up goes at most to max(2 * current, 4) in one step"
    return None


def check_normalize(normalize: Callable[..., Any], seed: int) -> None:
    own = own_work("normalize")
    compare(own.wrap(normalize), REFERENCES["normalize"], normalize_cases(seed), describe=_describe_normalize,
            what="normalize", diagnose=_diagnose_normalize, see=SEE)
    own.check(normalize)


# -- in a running cluster --------------------------------------------------------------------------

LOAD_PROFILE = ((1, 75), (0, 45), (0, 300))
"""(load generators, seconds): up under one generator, a lull shorter than the window, then the window runs out."""


def run_profile(cluster: Any, profile: tuple[tuple[int, int], ...] = LOAD_PROFILE) -> list[tuple[float, int, int]]:
    """(time, load generators, php-apache replicas) every 15 s through ``profile``."""
    cluster.run(30)                           # metrics-server up and two scrapes in
    timeline = []
    for generators, seconds in profile:
        set_load(cluster, generators)
        for _ in range(seconds // 15):
            cluster.run(15)
            timeline.append((cluster.now, generators, replicas(cluster)))
    return timeline


def _show_call(name: str, args: tuple) -> str:
    if name == "cpu_rate":
        return _describe_points(*args)
    if name == "desired_replicas":
        return _describe_replicas(*args)
    return _describe_normalize(*args)


def check_in_cluster(cpu_rate: Callable[..., Any], desired_replicas: Callable[..., Any],
                     normalize: Callable[..., Any], seed: int) -> None:
    """The walkthrough's cluster on the learner's three functions, through ``LOAD_PROFILE``."""
    ensure_installed("engine.cluster")
    owns = {name: own_work(name) for name in REFERENCES}
    cluster = autoscaling_cluster(seed, cpu_rate=owns["cpu_rate"].wrap(cpu_rate),
                                  desired_replicas=owns["desired_replicas"].wrap(desired_replicas),
                                  normalize=owns["normalize"].wrap(normalize))
    timeline = run_profile(cluster)
    for name, answer in (("cpu_rate", cpu_rate), ("desired_replicas", desired_replicas), ("normalize", normalize)):
        owns[name].check(answer)
    errors = cluster.decisions.errors()
    if errors:
        name, args, error = errors[0]
        fail(f"metrics-server or the HPA controller called your {name}({_show_call(name, args)}) and it failed: "
             f"{describe_exception(error)}", see=SEE)
    shown = ", ".join(f"{int(at)}s:{count}" for at, _load, count in timeline)
    wrong = cluster.decisions.disagreements()
    if wrong:
        name, args, learner, reference = wrong[0]
        diagnose = {"cpu_rate": _diagnose_rate, "desired_replicas": _diagnose_replicas,
                    "normalize": _diagnose_normalize}[name]
        try:
            why = diagnose(args, reference, learner)
        except Exception:                   # a diagnosis is a bonus; never let it hide the disagreement
            why = None
        fail(f"under load, {len(wrong)} of {len(cluster.decisions.calls)} calls of your functions in the running "
             f"cluster answered differently from the engine's. The first: {name}({_show_call(name, args)})"
             + (f"\nWhy: {why}" if why else ""),
             expected=reference.value, got=learner.value, hint=f"php-apache's replicas every 15 s: {shown}",
             see=SEE)
    loaded = [count for _at, load, count in timeline if load]
    lull = timeline[len(loaded):len(loaded) + 3]
    if max(loaded) < 3 or any(count < loaded[-1] for _at, _load, count in lull) or timeline[-1][2] != 1:
        fail("php-apache should scale up under the load generator, hold its size through the lull (the "
             "5-minute window) and come back to 1 after it", got=shown, see=SEE)
