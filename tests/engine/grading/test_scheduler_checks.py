"""The scheduler lab's checks: the engine's answers pass, and each typical mistake is named."""

from __future__ import annotations

import pytest

from engine.api.quantity import parse_quantity
from engine.grading import GradingFailure
from engine.grading.scheduling import (check_fit_filter, check_in_scheduler, check_pod_requests, check_score,
                                       check_taints, reference_pod_requests, reference_taint_filter)
from engine.scheduler.plugins.node_resources_fit import insufficient_resources
from engine.scheduler.plugins.taint_toleration import tolerates


def _amount(name: str, value: str) -> int:
    quantity = parse_quantity(value)
    return quantity.milli_value() if name == "cpu" else quantity.value()


def requests_without_init_containers(pod: dict, defaults: dict | None = None) -> dict:
    defaults = defaults or {}
    total = {"cpu": 0, "memory": 0}
    for container in pod["spec"]["containers"]:
        requests = (container.get("resources") or {}).get("requests") or {}
        for name in total:
            total[name] += _amount(name, requests[name]) if name in requests else defaults.get(name, 0)
    for name, value in (pod["spec"].get("overhead") or {}).items():
        total[name] += _amount(name, value)
    return total


def taints_blocking_on_every_effect(pod: dict, info) -> str | None:
    for taint in info.taints:
        if not any(own_tolerates(t, taint) for t in pod["spec"].get("tolerations") or []):
            return f"node(s) had untolerated taint {{{taint['key']}: {taint.get('value', '')}}}"
    return None


def _score(pod, info, resources, per_resource, combine):
    request = own_requests(pod, {"cpu": 100, "memory": 200 * 1024 * 1024})
    total = weights = 0
    for name, weight in resources:
        capacity = info.allocatable.get(name, 0)
        requested = info.non_zero_requested.get(name, 0) + request[name]
        total += per_resource(capacity, requested) * weight
        weights += weight
    return combine(total, weights)


def most_allocated(pod, info, resources):
    return _score(pod, info, resources, lambda c, r: r * 100 // c if c and r <= c else 0, lambda t, w: t // w)


def rounded(pod, info, resources):
    return _score(pod, info, resources, lambda c, r: (c - r) * 100 // c if c and r <= c else 0,
                  lambda t, w: round(t / w))


def own_tolerates(toleration: dict, taint: dict) -> bool:
    if toleration.get("effect") and toleration["effect"] != taint["effect"]:
        return False
    if toleration.get("key") and toleration["key"] != taint["key"]:
        return False
    if (toleration.get("operator") or "Equal") == "Exists":
        return True
    return toleration.get("operator", "Equal") == "Equal" and (toleration.get("value") or "") == (taint.get("value") or "")


def own_requests(pod: dict, defaults: dict | None = None) -> dict:
    total = requests_without_init_containers(dict(pod, spec=dict(pod["spec"], overhead={})), defaults)
    for container in pod["spec"].get("initContainers") or []:
        requests = (container.get("resources") or {}).get("requests") or {}
        for name in total:
            total[name] = max(total[name], _amount(name, requests[name]) if name in requests
                              else (defaults or {}).get(name, 0))
    for name, value in (pod["spec"].get("overhead") or {}).items():
        total[name] += _amount(name, value)
    return total


def own_fit(pod: dict, info) -> list[str]:
    reasons = ["Too many pods"] if len(info.pods) + 1 > info.allocatable.get("pods", 0) else []
    request = own_requests(pod)
    return reasons + [f"Insufficient {name}" for name in ("cpu", "memory")
                      if 0 < request[name] > info.allocatable.get(name, 0) - info.requested.get(name, 0)]


def own_taint_filter(pod: dict, info) -> str | None:
    for taint in info.taints:
        if taint["effect"] in ("NoSchedule", "NoExecute") and not any(
                own_tolerates(t, taint) for t in pod["spec"].get("tolerations") or []):
            return f"node(s) had untolerated taint {{{taint['key']}: {taint.get('value') or ''}}}"
    return None


def own_score(pod, info, resources):
    return _score(pod, info, resources, lambda c, r: (c - r) * 100 // c if c and r <= c else 0, lambda t, w: t // w)


def test_honest_answers_pass_every_check():
    check_pod_requests(own_requests, seed=1)
    check_fit_filter(own_fit, own_requests, seed=2)
    check_taints(own_tolerates, own_taint_filter, seed=3)
    check_score(own_score, own_requests, seed=4)
    check_in_scheduler(own_fit, own_taint_filter, own_score, seed=5)


def _delegating_taint_filter(pod: dict, info) -> str | None:
    return reference_taint_filter(pod, info)


@pytest.mark.parametrize("run, words", [
    pytest.param(lambda: check_pod_requests(reference_pod_requests, seed=1),
                 "pod_requests hands the work to the engine's own implementation",
                 id="requests that are the engine's own earn nothing"),
    pytest.param(lambda: check_taints(tolerates, taints_blocking_on_every_effect, seed=3),
                 "tolerates hands the work to the engine's own implementation",
                 id="the engine's tolerates handed in as the answer is caught"),
    pytest.param(lambda: check_in_scheduler(own_fit, _delegating_taint_filter, own_score, seed=44),
                 "taint_filter hands the work to the engine's own implementation",
                 id="delegating inside the running scheduler is caught"),
    pytest.param(lambda: check_pod_requests(requests_without_init_containers, seed=1),
                 "init containers count", id="requests that ignore init containers are named"),
    pytest.param(lambda: check_fit_filter(lambda pod, info: insufficient_resources(requests_without_init_containers(pod), info),
                                          requests_without_init_containers, seed=2),
                 "init containers count", id="a fit filter built on such requests sends the learner back to them"),
    pytest.param(lambda: check_taints(own_tolerates, taints_blocking_on_every_effect, seed=3),
                 "PreferNoSchedule never keeps a pod off a node", id="PreferNoSchedule treated as blocking"),
    pytest.param(lambda: check_score(most_allocated, own_requests, seed=4),
                 "MostAllocated", id="the most-allocated score instead of the least"),
    pytest.param(lambda: check_score(rounded, own_requests, seed=4),
                 "integer division", id="rounding instead of integer division"),
    pytest.param(lambda: check_in_scheduler(own_fit, taints_blocking_on_every_effect, own_score, seed=44),
                 "The first disagreement: taint_filter", id="in a running scheduler the first disagreeing call is shown"),
    pytest.param(lambda: check_in_scheduler(own_fit, own_taint_filter, rounded, seed=44),
                 "your functions answered otherwise", id="a wrong answer that changes no placement still fails"),
    pytest.param(lambda: check_in_scheduler(lambda pod, info: 1 / 0, own_taint_filter, own_score, seed=44),
                 "the scheduler called your fit_filter and it failed: ZeroDivisionError",
                 id="a learner function that raises in the scheduler is reported with its error"),
])
def test_each_typical_mistake_fails_with_feedback_that_names_it(run, words):
    with pytest.raises(GradingFailure) as failure:
        run()
    assert words in str(failure.value)
