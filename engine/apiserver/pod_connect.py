"""``pods/log`` and ``pods/exec``: kube-apiserver asks the pod's kubelet (``registry/core/pod/rest``, ``kubelet/client``).

The API server keeps no logs. For ``GET .../pods/{name}/log`` it checks the
container name against the pod (``LogLocation``: a pod with several
containers needs ``container``, a wrong name is a 400), finds the pod's node,
reads where its kubelet listens from the Node object (the ``InternalIP``
address, as kubeadm's ``--kubelet-preferred-address-types`` puts it first,
and ``daemonEndpoints.kubeletEndpoint.Port``), dials it on the hosts' network
and passes the kubelet's answer through: the log text, a ``LogStream`` when
following, or the kubelet's refusal as a 400 with its words. A pod not yet
on a node has an empty log. A node whose kubelet does not answer gives the
dial error, as the real ``Get "https://...": dial tcp ...`` does.

``pods/exec`` (``ExecLocation`` then the kubelet's ``/exec``; RBAC verb
``create`` on ``pods/exec``) answers an ``ExecSession`` whose ``run()``
has the kubelet run the command in the running container: an
``ExecResult`` (stdout, stderr, exit code). The checks made before
any connection is upgraded answer as HTTP errors (``pod x does not have a
host assigned``, ``container c is not valid for pod x``: 400); what the
kubelet refuses comes back as kubectl sees it through the stream, an
internal error: ``unable to upgrade connection: container not found ("c")``
when the container is not running. The command runs whole, non-interactive
(no stdin, no tty): ``ExecSync``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from engine.api import errors
from engine.kubelet.server import KubeletError
from engine.sim.hostnet import ConnectionRefused, HostNetwork

if TYPE_CHECKING:
    from engine.apiserver.server import APIServer, Request

PREFERRED_ADDRESS_TYPES = ("InternalIP", "ExternalIP", "Hostname")
"""kubeadm's --kubelet-preferred-address-types."""
DEFAULT_KUBELET_PORT = 10250


def validate_container(pod: dict, container: str) -> str:
    """validateContainer: the container to read (the only one when none is named), or a 400."""
    spec = pod.get("spec") or {}
    name = pod["metadata"]["name"]
    names = [c["name"] for c in spec.get("containers") or []]
    init_names = [c["name"] for c in spec.get("initContainers") or []]
    if not container:
        if len(names) == 1:
            return names[0]
        if not names:
            raise errors.bad_request(f"a container name must be specified for pod {name}")
        message = f"a container name must be specified for pod {name}, choose one of: [{' '.join(names)}]"
        if init_names:
            message += f" or one of the init containers: [{' '.join(init_names)}]"
        raise errors.bad_request(message)
    if container not in names + init_names + [c["name"] for c in spec.get("ephemeralContainers") or []]:
        raise errors.bad_request(f"container {container} is not valid for pod {name}")
    return container


def kubelet_location(apiserver: "APIServer", node_name: str) -> tuple[str, int]:
    """GetConnectionInfo: the kubelet's address and port, from the Node object."""
    node = apiserver.cached("nodes", None, node_name)
    if node is None:
        raise errors.not_found("nodes", node_name)
    status = node.get("status") or {}
    addresses = {a.get("type"): a.get("address") for a in status.get("addresses") or []}
    address = next((addresses[kind] for kind in PREFERRED_ADDRESS_TYPES if addresses.get(kind)), None)
    if address is None:
        raise errors.ApiError(f"no preferred addresses found; known addresses: {list(addresses.values())}")
    port = ((status.get("daemonEndpoints") or {}).get("kubeletEndpoint") or {}).get("Port") or DEFAULT_KUBELET_PORT
    return address, int(port)


class PodLogs:
    """The ``pods/log`` connect handler."""

    def __init__(self, apiserver: "APIServer", hostnet: HostNetwork) -> None:
        self.apiserver = apiserver
        self.hostnet = hostnet

    def __call__(self, request: "Request", pod: dict) -> Any:
        params = dict(request.params or {})
        container = validate_container(pod, str(params.get("container") or ""))
        node_name = (pod.get("spec") or {}).get("nodeName")
        if not node_name:
            return ""
        address, port = kubelet_location(self.apiserver, node_name)
        namespace, name = pod["metadata"].get("namespace", "default"), pod["metadata"]["name"]
        path = f"/containerLogs/{namespace}/{name}/{container}"
        try:
            kubelet = self.hostnet.dial(address, port)
        except ConnectionRefused as error:
            raise errors.ApiError(f'Get "https://{address}:{port}{path}": {error}', reason="", code=500) from None
        try:
            return kubelet.get(path, params)
        except KubeletError as error:
            if error.code == 400:
                raise errors.bad_request(error.message) from None
            if error.code == 404:
                raise errors.NotFound(error.message) from None
            raise errors.ApiError(error.message) from None


@dataclass(frozen=True)
class ExecResult:
    """What a non-interactive exec gives back: the command's output and its exit code."""

    stdout: str
    stderr: str
    exit_code: int
    command: tuple[str, ...] = ()

    @property
    def status(self) -> dict:
        """The ``Status`` the server writes on the error channel when the command ends."""
        if self.exit_code == 0:
            return {"metadata": {}, "status": "Success"}
        return {"metadata": {}, "status": "Failure",
                "message": f"command terminated with non-zero exit code: error executing command "
                           f"[{' '.join(self.command)}], exit code {self.exit_code}",
                "reason": "NonZeroExitCode",
                "details": {"causes": [{"reason": "ExitCode", "message": str(self.exit_code)}]}}


def exec_command(params: dict) -> list[str]:
    """The ``command`` query parameter, repeated once per word."""
    command = params.get("command")
    words = [command] if isinstance(command, str) else list(command or [])
    if not words:
        raise errors.bad_request("you must specify at least 1 command")
    return [str(word) for word in words]


@dataclass
class ExecSession:
    """An exec the API server has checked and located: ``run()`` opens the stream to the kubelet and runs it.

    The HTTP front upgrades the client's connection between the two (what fails in ``run`` reaches kubectl
    through the stream); an in-process client runs it at once.
    """

    kubelet: Any
    path: str
    command: list[str]

    def run(self) -> ExecResult:
        try:
            response = self.kubelet.post(self.path, {"command": self.command})
        except KubeletError as error:
            raise upgrade_failure(error.message) from None
        return ExecResult(response.stdout, response.stderr, response.exit_code, tuple(self.command))


class PodExec:
    """The ``pods/exec`` connect handler (``ExecLocation``): the checks, then a session on the pod's kubelet."""

    def __init__(self, apiserver: "APIServer", hostnet: HostNetwork) -> None:
        self.apiserver = apiserver
        self.hostnet = hostnet

    def __call__(self, request: "Request", pod: dict) -> ExecSession:
        params = dict(request.params or {})
        name = pod["metadata"]["name"]
        container = validate_container(pod, str(params.get("container") or ""))
        command = exec_command(params)
        node_name = (pod.get("spec") or {}).get("nodeName")
        if not node_name:
            raise errors.bad_request(f"pod {name} does not have a host assigned")
        address, port = kubelet_location(self.apiserver, node_name)
        namespace = pod["metadata"].get("namespace", "default")
        try:
            kubelet = self.hostnet.dial(address, port)
        except ConnectionRefused as error:
            raise errors.ApiError(f"Internal error occurred: error dialing backend: {error}") from None
        return ExecSession(kubelet, f"/exec/{namespace}/{name}/{container}", command)


def upgrade_failure(message: str) -> errors.ApiError:
    """The kubelet refused the stream: the error kubectl reads (``NewInternalError`` of the upgrade's failure)."""
    return errors.ApiError(f"Internal error occurred: unable to upgrade connection: {message}")


def register(apiserver: "APIServer", hostnet: HostNetwork) -> None:
    """Install the connect handlers that reach kubelets (the cluster does this as it builds its API server)."""
    apiserver.register_connect("pods", "log", PodLogs(apiserver, hostnet))
    apiserver.register_connect("pods", "exec", PodExec(apiserver, hostnet))
