"""The kubelet lab's checks: the engine's own pieces (rewritten) pass, and typical mistakes are named."""

from __future__ import annotations

import inspect

import pytest

from engine.grading import GradingFailure
from engine.grading.kubelet import (Plugged, check_in_kubelet, check_pod_phase, check_probe_step,
                                    check_restart_backoff, kubelet_cluster)
from engine.kubelet.status import pod_phase as engine_phase


def backoff(steps: int) -> float:
    delay = 10
    for _ in range(steps):
        delay = min(delay * 2, 300)
    return delay


def _retyped() -> object:
    """The engine's getPhase as a learner would retype it: its own code object, nothing of the engine's."""
    namespace: dict = {}
    exec(inspect.getsource(engine_phase).replace("def pod_phase", "def _copy"), namespace)
    return namespace["_copy"]


_copy = _retyped()


def probe(last: str, run: int, outcome: str, probe_type: str, success: int, failure: int) -> tuple:
    run = run + 1 if last == outcome else 1
    threshold = failure if outcome == "Failure" else success
    if run < threshold:
        return outcome, run, None
    if outcome == "Failure" and probe_type in ("Liveness", "Startup"):
        return outcome, 0, outcome
    return outcome, run, outcome


def test_right_answers_pass_every_check() -> None:
    check_restart_backoff(backoff)
    check_pod_phase(_copy, seed=1)
    check_probe_step(probe, seed=2)
    check_in_kubelet(backoff, _copy, probe, seed=3)


def test_a_back_off_without_its_cap_is_told_the_cap() -> None:
    with pytest.raises(GradingFailure, match=r"stops at 300 s \(5 minutes\)"):
        check_restart_backoff(lambda steps: 10 * 2 ** steps)


def test_on_failure_treated_as_always_is_told_the_pod_succeeded() -> None:
    def wrong(spec, init_statuses, statuses, pod_is_terminal=False):
        spec = {**spec, "restartPolicy": "Always" if spec.get("restartPolicy") == "OnFailure" else
                spec.get("restartPolicy", "Always")}
        return _copy(spec, init_statuses, statuses, pod_is_terminal)
    with pytest.raises(GradingFailure, match="restartPolicy OnFailure: a container that exited 0 is not restarted"):
        check_pod_phase(wrong, seed=1)


def test_a_probe_that_publishes_at_once_is_told_about_the_threshold() -> None:
    with pytest.raises(GradingFailure, match="in a row"):
        check_probe_step(lambda last, run, outcome, *rest: (outcome, 1, outcome), seed=2)


def test_an_answer_that_calls_the_engine_gets_no_marks() -> None:
    with pytest.raises(GradingFailure, match="hands the work to the engine's own implementation"):
        check_pod_phase(lambda *args: engine_phase(*args), seed=1)


def test_a_piece_that_raises_in_the_kubelet_does_not_stop_the_node_and_is_reported() -> None:
    def broken(steps):
        raise ValueError("no")
    plugged = Plugged()
    c = kubelet_cluster(restart_backoff=broken, plugged=plugged)
    c.apply({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "crash"}, "spec": {"containers": [
        {"name": "app", "image": "course/crasher:1.0", "args": ["--after", "1"]}]}})
    c.run(30)
    assert c.get("pod", "crash")["status"]["containerStatuses"][0]["restartCount"] >= 2
    assert plugged.errors and "restart_backoff(0) raised ValueError" in plugged.errors[0]
    with pytest.raises(GradingFailure, match="raised"):
        check_in_kubelet(broken, _copy, probe, seed=3)


def test_a_wrong_probe_step_in_the_kubelet_is_caught_second_by_second() -> None:
    def no_reset(last, run, outcome, probe_type, success, failure):
        new_last, new_run, publish = probe(last, run, outcome, probe_type, success, failure)
        return new_last, (run + 1 if last == outcome else 1), publish
    with pytest.raises(GradingFailure, match="probe_step"):
        check_in_kubelet(backoff, _copy, no_reset, seed=3)
