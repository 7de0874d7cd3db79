"""The generic Pod Lifecycle Event Generator: relist the runtime every second, report what changed.

Polling every container of every pod on each sync would be too costly, so
the kubelet asks the runtime once per ``plegRelistPeriod`` (1 s) for all
sandboxes and containers, compares each container's state with the previous
listing, and turns differences into events (``generic.go``):

    ContainerStarted   a container is now running
    ContainerDied      a container has exited
    ContainerRemoved   a container is gone
    ContainerChanged   it moved to another state (created, unknown)

Each event names the pod (by uid) and wakes that pod's worker; the worker
then reads the pod's full status from the runtime. The first relist reports
every running container as started, which is how a restarted kubelet finds
its pods again. The PLEG never acts on a pod itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

from engine import flags
from engine.kubelet.status import LABEL_POD_UID
from engine.runtime import cri

if TYPE_CHECKING:
    from engine.runtime.containerd import RuntimeService
    from engine.sim.loop import Loop, Timer

CONTAINER_STARTED = "ContainerStarted"
CONTAINER_DIED = "ContainerDied"
CONTAINER_REMOVED = "ContainerRemoved"
CONTAINER_CHANGED = "ContainerChanged"


@dataclass(frozen=True)
class PodLifecycleEvent:
    pod_uid: str
    type: str
    container_id: str


def lifecycle_events(pod_uid: str, container_id: str, old: str | None, new: str | None) -> list[PodLifecycleEvent]:
    """generateEvents: the events one container's state change means."""
    if old == new:
        return []
    if new == cri.CONTAINER_RUNNING:
        kind = CONTAINER_STARTED
    elif new == cri.CONTAINER_EXITED:
        kind = CONTAINER_DIED
    elif new is None:
        kind = CONTAINER_DIED if old == cri.CONTAINER_RUNNING else CONTAINER_REMOVED
    else:
        kind = CONTAINER_CHANGED
    return [PodLifecycleEvent(pod_uid, kind, container_id)]


class GenericPLEG:
    """Relists one node's runtime every period and hands each event to ``on_event``."""

    def __init__(self, loop: "Loop", runtime: "RuntimeService", on_event: Callable[[PodLifecycleEvent], None],
                 period: float = flags.pleg_relist_period) -> None:
        self.loop = loop
        self.runtime = runtime
        self.on_event = on_event
        self.period = period
        self.relist_time: float | None = None
        self._states: dict[str, tuple[str, str]] = {}     # container id -> (pod uid, state)
        self._timer: "Timer | None" = None

    def start(self) -> None:
        self._timer = self.loop.call_soon(self._tick, label="pleg relist")

    def stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def healthy(self) -> bool:
        """The PLEG is healthy while it has relisted within the last 3 minutes (relistThreshold)."""
        return self.relist_time is not None and self.loop.now - self.relist_time <= 180.0

    def _tick(self) -> None:
        self.relist()
        self._timer = self.loop.call_later(self.period, self._tick, label="pleg relist")

    def relist(self) -> list[PodLifecycleEvent]:
        current: dict[str, tuple[str, str]] = {}
        for container in self.runtime.list_containers():
            uid = container.labels.get(LABEL_POD_UID)
            if uid:
                current[container.id] = (uid, container.state)
        events: list[PodLifecycleEvent] = []
        for container_id in [*self._states, *(c for c in current if c not in self._states)]:
            old, new = self._states.get(container_id), current.get(container_id)
            uid = (new or old)[0]  # type: ignore[index]
            events.extend(lifecycle_events(uid, container_id, old[1] if old else None, new[1] if new else None))
        self._states = current
        self.relist_time = self.loop.now
        for event in events:
            self.on_event(event)
        return events
