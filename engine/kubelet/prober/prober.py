"""The prober: runs one probe of one container and says Success or Failure (pkg/kubelet/prober/prober.go).

Probe kinds, each against the simulated programs through the runtime:

- ``exec``: CRI ExecSync in the container; exit code 0 is success, other
  codes fail with the command's output; a command that takes longer than
  ``timeoutSeconds`` fails with ``command "..." timed out``.
- ``httpGet``: ``scheme://host:port/path`` with ``httpHeaders`` (host defaults
  to the pod IP, port by number or by a container port's name; a hostNetwork
  pod is also reached on the node's loopback, as kubeadm's control-plane
  probes do with ``host: 127.0.0.1``); the request
  is answered by the ``handle_http`` of whichever running container of the
  pod listens on the port (they share the pod's network namespace); a status
  in 200-399 succeeds (3xx with a ProbeWarning event), any other fails with
  ``HTTP probe failed with statuscode: N``; nothing listening fails with
  ``connect: connection refused``.
- ``tcpSocket``: success when a container of the pod listens on the port.
- ``grpc``: the gRPC health protocol: success when the program's
  ``grpc_health(service)`` answers ``SERVING``.

Failures are recorded as ``Unhealthy`` Warning events worded as upstream
(``Liveness probe failed: HTTP probe failed with statuscode: 500``). A probe
that cannot run at all (a named port that does not exist, a container that is
not running) is an error: an ``Unhealthy`` event ``... probe errored ...``,
and the worker throws the result away. Simulated programs answer at once, so
only exec probes can time out. What it never does: count results against
thresholds (the worker does) or restart anything (the kubelet does).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from engine.kubelet.prober.results import FAILURE, SUCCESS
from engine.runtime.cri import CODE_DEADLINE_EXCEEDED, CONTAINER_RUNNING, ContainerFilter, CriError

log = logging.getLogger(__name__)

USER_AGENT = "kube-probe/1.31"
LOOPBACK = ("127.0.0.1", "localhost")


class ProbeError(Exception):
    """The probe could not be run; its result is thrown away."""


@dataclass
class Outcome:
    result: str          # SUCCESS or FAILURE
    output: str = ""
    warning: bool = False


def resolve_port(port: Any, container: dict) -> int:
    """probe.ResolveContainerPort: a number, or the name of one of the container's ports."""
    if isinstance(port, str):
        named = next((p.get("containerPort") for p in container.get("ports") or [] if p.get("name") == port), None)
        if named is None:
            if not port.isdigit():
                raise ProbeError(f"port {port} not found")
            named = int(port)
        port = named
    if not 0 < int(port) < 65536:
        raise ProbeError(f"invalid port number: {port}")
    return int(port)


class Prober:
    """Runs probes for the ProbeManager's workers and records their failures as events."""

    def __init__(self, runtime: Any, recorder: Any) -> None:
        self.runtime = runtime
        self.recorder = recorder

    def probe(self, probe_type: str, pod: dict, pod_ip: str, container: dict, container_id: str,
              probe: dict) -> str:
        """Run ``probe`` once; return SUCCESS or FAILURE, or raise ProbeError when it could not run."""
        try:
            outcome = self._run(probe, pod_ip, container, container_id, bool(pod["spec"].get("hostNetwork")))
        except ProbeError as error:
            self._event(pod, container, "Unhealthy",
                        f"{probe_type} probe errored and resulted in unknown state: {error}")
            raise
        if outcome.result == FAILURE:
            self._event(pod, container, "Unhealthy", f"{probe_type} probe failed: {outcome.output}")
        elif outcome.warning:
            self._event(pod, container, "ProbeWarning", f"{probe_type} probe warning: {outcome.output}")
        return outcome.result

    def _event(self, pod: dict, container: dict, reason: str, message: str) -> None:
        if self.recorder is not None:
            self.recorder.event(pod, "Warning", reason, message, field_path=f"spec.containers{{{container['name']}}}")

    def _run(self, probe: dict, pod_ip: str, container: dict, container_id: str,
             host_network: bool = False) -> Outcome:
        timeout = float(probe.get("timeoutSeconds") or 1)
        if "exec" in probe:
            return self._exec(probe["exec"].get("command") or [], container_id, timeout)
        if "httpGet" in probe:
            return self._http(probe["httpGet"], pod_ip, container, container_id, host_network)
        if "tcpSocket" in probe:
            spec = probe["tcpSocket"]
            return self._tcp(spec.get("host") or pod_ip, resolve_port(spec.get("port"), container), container_id)
        if "grpc" in probe:
            return self._grpc(probe["grpc"], pod_ip, container_id, timeout)
        raise ProbeError("missing probe handler")

    # -- exec ----------------------------------------------------------------
    def _exec(self, command: list[str], container_id: str, timeout: float) -> Outcome:
        try:
            response = self.runtime.exec_sync(container_id, list(command), timeout)
        except CriError as error:
            if error.code == CODE_DEADLINE_EXCEEDED:
                return Outcome(FAILURE, f'command "{" ".join(command)}" timed out')
            raise ProbeError(str(error)) from error
        output = response.stdout + response.stderr
        return Outcome(SUCCESS if response.exit_code == 0 else FAILURE, output)

    # -- the pod's network namespace -----------------------------------------
    def _pod_programs(self, container_id: str) -> list[Any]:
        """The running programs of the probed container's pod, the probed container first."""
        own = self.runtime.list_containers(ContainerFilter(id=container_id))
        if not own:
            raise ProbeError(f"container {container_id} not found")
        siblings = self.runtime.list_containers(ContainerFilter(pod_sandbox_id=own[0].pod_sandbox_id,
                                                                state=CONTAINER_RUNNING))
        ordered = sorted(siblings, key=lambda c: c.id != container_id)
        return [p for p in (self.runtime.program(c.id) for c in ordered) if p is not None]

    def _listener(self, container_id: str, port: int) -> Any | None:
        return next((p for p in self._pod_programs(container_id) if port in p.ctx.ports), None)

    # -- httpGet ---------------------------------------------------------------
    def _http(self, spec: dict, pod_ip: str, container: dict, container_id: str,
              host_network: bool = False) -> Outcome:
        port = resolve_port(spec.get("port"), container)
        scheme = (spec.get("scheme") or "HTTP").lower()
        host = spec.get("host") or pod_ip
        path = spec.get("path") or ""
        if path and not path.startswith("/"):
            path = "/" + path
        url = f"{scheme}://{host}:{port}{path}"
        headers = {"User-Agent": USER_AGENT, "Accept": "*/*"}
        for header in spec.get("httpHeaders") or []:
            headers[header["name"]] = header.get("value", "")
        # the kubelet runs in the node's network namespace: its loopback is a hostNetwork pod's loopback too
        local = host == pod_ip or (host_network and host in LOOPBACK)
        listener = self._listener(container_id, port) if local else None
        request = {"method": "GET", "path": path or "/", "port": port, "headers": headers, "client": pod_ip,
                   "host": host, "scheme": scheme}
        answer = listener.handle_http(request) if listener is not None else None
        if answer is None:
            return Outcome(FAILURE, f'Get "{url}": dial tcp {host}:{port}: connect: connection refused')
        status = int(answer.get("status", 0))
        if 200 <= status < 400:
            if status >= 300:
                return Outcome(SUCCESS, f"Probe terminated redirects, Response body: {answer.get('body', '')}",
                               warning=True)
            return Outcome(SUCCESS, answer.get("body", ""))
        return Outcome(FAILURE, f"HTTP probe failed with statuscode: {status}")

    # -- tcpSocket -------------------------------------------------------------
    def _tcp(self, host: str, port: int, container_id: str) -> Outcome:
        if self._listener(container_id, port) is None:
            return Outcome(FAILURE, f"dial tcp {host}:{port}: connect: connection refused")
        return Outcome(SUCCESS)

    # -- grpc --------------------------------------------------------------------
    def _grpc(self, spec: dict, pod_ip: str, container_id: str, timeout: float) -> Outcome:
        port = int(spec.get("port", 0))
        listener = self._listener(container_id, port)
        if listener is None:
            return Outcome(FAILURE, f'timeout: failed to connect service "{pod_ip}:{port}" within {timeout:g}s')
        health = getattr(listener, "grpc_health", None)
        if health is None:
            return Outcome(FAILURE, "error: health rpc probe failed: rpc error: code = Unimplemented desc = "
                                    "unknown service grpc.health.v1.Health")
        serving = health(spec.get("service") or "")
        if serving != "SERVING":
            return Outcome(FAILURE, f'service unhealthy (responded with "{serving}")')
        return Outcome(SUCCESS)
