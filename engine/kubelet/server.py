"""The kubelet's own API on port 10250: container logs, exec and stats (``pkg/kubelet/server``).

``kubectl logs`` never reads a node's files itself: the API server looks up
the pod's node, reads the Node's ``InternalIP`` and
``daemonEndpoints.kubeletEndpoint.Port``, and asks that kubelet. This server
is what answers, listening on the cluster's host network:

    GET /containerLogs/{namespace}/{pod}/{container}
        ?follow, previous, tailLines, sinceSeconds, timestamps, limitBytes
    POST /exec/{namespace}/{pod}/{container}?command=...   (CRI ExecSync)
    GET /stats/summary                                     (the Summary API)
    GET /healthz

Logs come from the CRI log file of the container the pod's status names
(``lastState`` for ``previous``), checked first as ``validateContainerLogStatus``
checks them, so a waiting container answers 400 with the real text
(``container "web" in pod "web" is waiting to start: ContainerCreating``).
With ``follow`` the answer is a ``LogStream`` whose ``read()`` returns what
the container wrote since the last read, until it stops. The server reads
the kubelet's state and the runtime; it never changes either (exec runs a
command inside a container, as the CRI does).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Iterator
from urllib.parse import unquote

from engine.api.meta import parse_timestamp
from engine.runtime import cri
from engine.runtime.cri import CriError

if TYPE_CHECKING:
    from engine.kubelet.kubelet import Kubelet


class KubeletError(Exception):
    """An answer other than 200: the HTTP code and the body the kubelet writes."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class LogEntry:
    time: float
    stamp: str
    stream: str
    text: str


def parse_log(lines: list[str]) -> list[LogEntry]:
    """CRI log records (``<time> <stream> <P|F> <text>``) as whole lines, partial records joined."""
    entries: list[LogEntry] = []
    pending = ""
    for line in lines:
        stamp, stream, tag, text = (line.split(" ", 3) + ["", "", ""])[:4]
        if tag == "P":
            pending += text
            continue
        entries.append(LogEntry(parse_timestamp(stamp), stamp, stream, pending + text))
        pending = ""
    return entries


def rfc3339_nano(stamp: str) -> str:
    """Go's time.RFC3339Nano: the fraction without trailing zeros (``...05.1Z``, ``...05Z``)."""
    head, dot, fraction = stamp.rstrip("Z").partition(".")
    fraction = fraction.rstrip("0")
    return f"{head}.{fraction}Z" if dot and fraction else f"{head}Z"


def _flag(params: dict, name: str) -> bool:
    value = params.get(name)
    return value is True or str(value).lower() in ("true", "1")


def _number(params: dict, name: str) -> int | None:
    value = params.get(name)
    if value in (None, ""):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise KubeletError(400, f'invalid value "{value}" for {name}') from None


def render(entries: list[LogEntry], params: dict, now: float) -> str:
    """The kubelet's ReadLogs options, in their order: sinceSeconds, tailLines, timestamps, limitBytes."""
    since = _number(params, "sinceSeconds")
    if since is not None:
        entries = [e for e in entries if e.time >= now - since]
    if params.get("sinceTime"):
        start = parse_timestamp(str(params["sinceTime"]))
        entries = [e for e in entries if e.time >= start]
    tail = _number(params, "tailLines")
    if tail is not None and tail >= 0:
        entries = entries[-tail:] if tail else []
    stamps = _flag(params, "timestamps")
    text = "".join((f"{rfc3339_nano(e.stamp)} " if stamps else "") + e.text + "\n" for e in entries)
    limit = _number(params, "limitBytes")
    if limit is not None and limit >= 0:
        text = text.encode()[:limit].decode(errors="ignore")
    return text


class LogStream:
    """``follow=true``: the log so far, then whatever the container writes until it stops."""

    def __init__(self, server: "KubeletServer", container_id: str, params: dict) -> None:
        self.server = server
        self.container_id = container_id
        self.params = params
        self._seen = 0
        self._first = True

    @property
    def done(self) -> bool:
        """The container has stopped (or is gone): nothing more will come."""
        try:
            return self.server.runtime.container_status(self.container_id).state != cri.CONTAINER_RUNNING
        except CriError:
            return True

    def read(self) -> str:
        """What is new since the last read (the first read honours tailLines, sinceSeconds...)."""
        try:
            path = self.server.runtime.container_status(self.container_id).log_path
        except CriError:
            return ""
        new = self.server.runtime.read_log(path)[self._seen:]
        end = len(new)
        while end > 0 and new[end - 1].split(" ", 3)[2:3] == ["P"]:   # a line still being written
            end -= 1
        entries = parse_log(new[:end])
        self._seen += end
        params = self.params if self._first else {"timestamps": self.params.get("timestamps")}
        self._first = False
        return render(entries, params, self.server.kubelet.loop.now)

    def __iter__(self) -> Iterator[str]:
        yield self.read()


class KubeletServer:
    """What one kubelet serves on its port; ``get`` and ``post`` take the HTTP path and query."""

    def __init__(self, kubelet: "Kubelet") -> None:
        self.kubelet = kubelet
        self.runtime = kubelet.runtime

    # -- routes ------------------------------------------------------------------
    def get(self, path: str, params: dict | None = None) -> Any:
        params = params or {}
        parts = [unquote(part) for part in path.strip("/").split("/")]
        if parts[0] == "containerLogs" and len(parts) == 4:
            return self.container_logs(parts[1], parts[2], parts[3], params)
        if parts == ["stats", "summary"]:
            return self.kubelet.stats.summary()
        if parts == ["healthz"]:
            return "ok"
        if parts == ["pods"]:
            return {"kind": "PodList", "apiVersion": "v1", "metadata": {},
                    "items": [worker.pod for worker in self.kubelet.pod_workers.workers.values()]}
        raise KubeletError(404, "404 page not found")

    def post(self, path: str, params: dict | None = None) -> Any:
        params = params or {}
        parts = [unquote(part) for part in path.strip("/").split("/")]
        if parts[0] == "exec" and len(parts) == 4:
            command = params.get("command") or []
            return self.exec(parts[1], parts[2], parts[3], [command] if isinstance(command, str) else list(command))
        raise KubeletError(404, "404 page not found")

    # -- the pod and its container -------------------------------------------------
    def _pod(self, namespace: str, name: str) -> dict:
        """GetPodByName: an API pod bound here, or a static pod (by its mirror's name)."""
        for worker in self.kubelet.pod_workers.workers.values():
            meta = worker.pod["metadata"]
            if meta["name"] == name and meta.get("namespace", "default") == namespace:
                return worker.pod
        raise KubeletError(404, f'pod "{name}" not found')

    def _status(self, pod: dict) -> dict:
        cached = self.kubelet.status_manager.get(pod["metadata"]["uid"])
        if cached is not None:
            return cached
        api = self.kubelet._api_pod(pod)
        return (api or pod).get("status") or {}

    def container_id(self, pod: dict, container: str, previous: bool) -> str:
        """validateContainerLogStatus: which container instance's log to read, or the reason there is none."""
        name = pod["metadata"]["name"]
        status = self._status(pod)
        entry = next((s for s in [*(status.get("containerStatuses") or []),
                                  *(status.get("initContainerStatuses") or [])] if s.get("name") == container), None)
        if entry is None:
            raise KubeletError(400, f'container "{container}" in pod "{name}" is not available')
        state = entry.get("state") or {}
        last = (entry.get("lastState") or {}).get("terminated")
        if previous:
            if not last or not last.get("containerID"):
                raise KubeletError(400, f'previous terminated container "{container}" in pod "{name}" not found')
            found = last["containerID"]
        elif state.get("running") is not None:
            found = entry.get("containerID", "")
        elif state.get("terminated") is not None:
            found = state["terminated"].get("containerID") or (last or {}).get("containerID", "")
            if not found:
                raise KubeletError(400, f'container "{container}" in pod "{name}" is terminated')
        elif last is not None:
            if not last.get("containerID"):
                raise KubeletError(400, f'container "{container}" in pod "{name}" is terminated')
            found = last["containerID"]
        elif state.get("waiting") is not None:
            reason = state["waiting"].get("reason", "")
            if reason == "ErrImagePull":
                raise KubeletError(400, f'container "{container}" in pod "{name}" is waiting to start: image can\'t be '
                                        f'pulled')
            if reason == "ImagePullBackOff":
                raise KubeletError(400, f'container "{container}" in pod "{name}" is waiting to start: trying and '
                                        f'failing to pull image')
            raise KubeletError(400, f'container "{container}" in pod "{name}" is waiting to start: {reason}')
        else:
            raise KubeletError(400, f'container "{container}" in pod "{name}" is waiting to start - no logs yet')
        return found.split("://", 1)[-1]

    # -- the handlers -------------------------------------------------------------------
    def container_logs(self, namespace: str, pod_name: str, container: str, params: dict) -> str | LogStream:
        pod = self._pod(namespace, pod_name)
        container_id = self.container_id(pod, container, _flag(params, "previous"))
        if _flag(params, "follow") and not _flag(params, "previous"):
            return LogStream(self, container_id, params)
        try:
            path = self.runtime.container_status(container_id).log_path
        except CriError as error:
            raise KubeletError(500, f'failed to get container status "{container_id}": {error}') from None
        return render(parse_log(self.runtime.read_log(path)), params, self.kubelet.loop.now)

    def exec(self, namespace: str, pod_name: str, container: str, command: list[str]) -> cri.ExecSyncResponse:
        """GetExec: the command runs in the container if it is running (``findContainer``), else the kubelet's error."""
        try:
            pod = self._pod(namespace, pod_name)
        except KubeletError:
            raise KubeletError(404, "pod does not exist") from None
        status = self._status(pod)
        entry = next((s for s in [*(status.get("containerStatuses") or []),
                                  *(status.get("initContainerStatuses") or [])]
                      if s.get("name") == container and (s.get("state") or {}).get("running") is not None), None)
        if entry is None or not entry.get("containerID"):
            raise KubeletError(500, f'container not found ("{container}")')
        try:
            return self.runtime.exec_sync(entry["containerID"].split("://", 1)[-1], command)
        except CriError as error:
            raise KubeletError(500, str(error)) from None
