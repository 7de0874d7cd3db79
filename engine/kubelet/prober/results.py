"""Probe results (pkg/kubelet/prober/results) and the probe result state machine.

Two things live here:

- ``ResultsManager``: the latest published result per container ID for one
  probe type (liveness, readiness or startup). ``set`` publishes a result and
  calls ``on_change(container_id, result, pod_uid)`` only when it differs
  from the previous one, which is how a changed result wakes the kubelet.
- ``count_result``: the state machine of a probe worker, a pure function of
  plain data. A probe's single outcome does not change the published result
  at once: ``failureThreshold`` failures in a row publish Failure and
  ``successThreshold`` successes in a row publish Success (upstream
  ``worker.doProbe``). After a liveness or startup failure is published the
  run count starts again from zero (the worker then holds until the
  container is replaced). Labs replace this function with the learner's; the
  ProbeManager takes it as ``count_result=``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

SUCCESS = "Success"
FAILURE = "Failure"
UNKNOWN = "Unknown"

LIVENESS = "Liveness"
READINESS = "Readiness"
STARTUP = "Startup"


@dataclass(frozen=True)
class ProbeCount:
    """What a worker remembers between probes: the last outcome and how many times in a row it came."""

    last_result: str = ""
    run: int = 0


def count_result(count: ProbeCount, result: str, *, probe_type: str, success_threshold: int,
                 failure_threshold: int) -> tuple[ProbeCount, str | None]:
    """Count one probe outcome; return the new count and the result to publish (None: publish nothing).

    ``result`` is SUCCESS or FAILURE. Below its threshold an outcome changes
    nothing visible; at or above it, it is published (again at every probe,
    as upstream does; publishing an unchanged result is harmless).
    """
    run = count.run + 1 if count.last_result == result else 1
    threshold = failure_threshold if result == FAILURE else success_threshold
    if run < threshold:
        return ProbeCount(result, run), None
    if result == FAILURE and probe_type in (LIVENESS, STARTUP):
        return ProbeCount(result, 0), result
    return ProbeCount(result, run), result


CountResult = Callable[..., tuple[ProbeCount, "str | None"]]


class ResultsManager:
    """Cached results for one probe type, by container ID; publishes changes."""

    def __init__(self, on_change: Callable[[str, str, str], None] | None = None) -> None:
        self._results: dict[str, str] = {}
        self._on_change = on_change

    def get(self, container_id: str) -> str | None:
        return self._results.get(container_id)

    def set(self, container_id: str, result: str, pod_uid: str) -> None:
        if self._results.get(container_id) == result:
            return
        self._results[container_id] = result
        if self._on_change is not None:
            self._on_change(container_id, result, pod_uid)

    def remove(self, container_id: str) -> None:
        self._results.pop(container_id, None)
