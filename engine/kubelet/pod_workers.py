"""Pod workers: one serialized worker per pod, moving it through sync -> terminating -> terminated.

Upstream (``pod_workers.go``) each pod gets a goroutine fed by a channel of
updates; the kubelet never runs two syncs of one pod at once, and the latest
update wins over older ones still waiting. A worker's life:

    syncing      syncPod runs again on every update, PLEG event and resync
    terminating  the pod was deleted, rejected or finished: syncTerminatingPod
                 stops its containers (grace period, preStop), once
    terminated   syncTerminatedPod cleans up; the worker is forgotten later

Here a "goroutine" is a Python generator run on the virtual loop by
``spawn``: it yields a ``Pending`` (a CRI call still running, such as a pull
or a graceful stop) or a number of seconds to sleep, and resumes when that is
done. So a pod whose image takes 5 s to pull blocks only its own worker, and
its next sync waits for the pull, as the real per-pod goroutine does.

What this module never does: decide what to do with a pod (the kubelet's
sync functions do) or talk to the API server.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Generator, Iterable

from engine.runtime.cri import Pending

if TYPE_CHECKING:
    from engine.sim.loop import Loop, Timer

log = logging.getLogger(__name__)

Task = Generator[Any, Any, Any]

SYNCING, TERMINATING, TERMINATED = "syncing", "terminating", "terminated"


def spawn(loop: "Loop", task: Task, label: str = "kubelet", alive: Callable[[], bool] | None = None) -> Pending[Any]:
    """Run a generator on the loop; the Pending resolves with its return value (or its error).

    ``alive`` is asked before every step: once it says False (the kubelet stopped) the task is dropped mid-way,
    as a killed process drops its goroutines.
    """
    done: Pending[Any] = Pending()

    def step(value: Any = None) -> None:
        if alive is not None and not alive():
            task.close()
            return
        try:
            waiting = task.send(value)
        except StopIteration as stop:
            done.set_result(stop.value)
            return
        except Exception as error:  # noqa: BLE001 - a failed step ends the task, the caller logs it
            log.exception("kubelet task %s failed", label)
            done.set_error(error)  # type: ignore[arg-type]
            return
        if isinstance(waiting, Pending):
            waiting.add_done_callback(lambda finished: loop.call_soon(step, None, label=label))
        else:
            loop.call_later(float(waiting or 0.0), step, label=label)

    loop.call_soon(step, label=label)
    return done


def all_of(pendings: Iterable[Pending[Any]]) -> Pending[None]:
    """A Pending that resolves when every one of ``pendings`` has."""
    done: Pending[None] = Pending()
    waiting = list(pendings)
    remaining = [len(waiting)]
    if not waiting:
        done.set_result(None)

    def one(_: Pending[Any]) -> None:
        remaining[0] -= 1
        if remaining[0] == 0:
            done.set_result(None)

    for pending in waiting:
        pending.add_done_callback(one)
    return done


@dataclass
class PodWorker:
    """podSyncStatus: where one pod is in its life, and what is waiting to run."""

    uid: str
    pod: dict
    state: str = SYNCING
    busy: bool = False
    dirty: bool = False
    kill_grace: float | None = None
    kill_reason: str = ""
    timer: "Timer | None" = None
    finished_at: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)


class PodWorkers:
    """The set of pod workers of one kubelet.

    ``sync(pod)``, ``terminate(pod)`` and ``finish(pod)`` are generators the
    kubelet provides; ``update_pod`` hands a worker the newest pod and wakes it.
    """

    def __init__(self, loop: "Loop", *, sync: Callable[[dict], Task], terminate: Callable[[dict, float | None], Task],
                 finish: Callable[[dict], Task]) -> None:
        self.loop = loop
        self._sync = sync
        self._terminate = terminate
        self._finish = finish
        self.workers: dict[str, PodWorker] = {}
        self.stopped = False

    def update_pod(self, pod: dict, *, kill: bool = False, grace: float | None = None) -> None:
        """UpdatePod: the newest version of a pod; ``kill`` asks for it to be terminated."""
        uid = pod["metadata"]["uid"]
        worker = self.workers.get(uid)
        if worker is None:
            worker = self.workers[uid] = PodWorker(uid, pod)
        worker.pod = pod
        if kill and worker.state == SYNCING:
            worker.state = TERMINATING
            worker.kill_grace = grace
        self.wake(uid)

    def wake(self, uid: str, delay: float = 0.0) -> None:
        """Run the worker now (or after ``delay``); a busy worker runs again when it is done."""
        worker = self.workers.get(uid)
        if worker is None or self.stopped:
            return
        if delay > 0:
            if worker.timer is not None and not worker.timer.cancelled and worker.timer.when <= self.loop.now + delay:
                return
            if worker.timer is not None:
                worker.timer.cancel()
            worker.timer = self.loop.call_later(delay, self._resync, uid, label="kubelet pod worker")
            return
        if worker.busy:
            worker.dirty = True
            return
        self._run(worker)

    def _resync(self, uid: str) -> None:
        worker = self.workers.get(uid)
        if worker is not None:
            worker.timer = None
            self.wake(uid)

    def _run(self, worker: PodWorker) -> None:
        worker.busy, worker.dirty = True, False
        if worker.state == SYNCING:
            task = self._sync(worker.pod)
        elif worker.state == TERMINATING:
            task = self._then(worker, self._terminate(worker.pod, worker.kill_grace))
        else:
            task = self._finish(worker.pod)
        spawn(self.loop, task, label=f"pod worker {worker.uid}", alive=lambda: not self.stopped).add_done_callback(
            lambda _: self._done(worker))

    def _then(self, worker: PodWorker, task: Task) -> Task:
        yield from task
        worker.state = TERMINATED
        worker.finished_at = self.loop.now
        worker.dirty = True

    def _done(self, worker: PodWorker) -> None:
        worker.busy = False
        if self.workers.get(worker.uid) is worker and worker.dirty and not self.stopped:
            self._run(worker)

    def is_terminating(self, uid: str) -> bool:
        worker = self.workers.get(uid)
        return worker is not None and worker.state != SYNCING

    def is_terminated(self, uid: str) -> bool:
        worker = self.workers.get(uid)
        return worker is not None and worker.state == TERMINATED

    def forget(self, uid: str) -> None:
        worker = self.workers.pop(uid, None)
        if worker is not None and worker.timer is not None:
            worker.timer.cancel()

    def stop(self) -> None:
        self.stopped = True
        for worker in self.workers.values():
            if worker.timer is not None:
                worker.timer.cancel()
