"""The Container Runtime Interface: the messages the kubelet and the runtime exchange.

This is ``k8s.io/cri-api/pkg/apis/runtime/v1`` in miniature: the state names
(``CONTAINER_CREATED`` ... ``SANDBOX_NOTREADY``), the records returned by
ListContainers / ContainerStatus / ListImages, the configs the kubelet sends,
and the error every failed call raises (``CriError``, printed as gRPC prints
it: ``rpc error: code = NotFound desc = ...``).

Contract:
    * every timestamp is an integer count of nanoseconds of *virtual* time
      since ``engine.api.meta.EPOCH`` (the CRI's ``created_at`` is Unix nanos);
    * calls that take time in the real runtime (PullImage, StopContainer)
      return a ``Pending`` that the loop completes later; every other call
      answers at once;
    * records handed out are copies: changing them never changes the runtime.

The exit codes follow the shell's convention: a process killed by signal N
exits 128 + N, so SIGTERM gives 143 and SIGKILL (and the OOM killer) 137.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from engine.api.meta import EPOCH

# ContainerState
CONTAINER_CREATED = "CONTAINER_CREATED"
CONTAINER_RUNNING = "CONTAINER_RUNNING"
CONTAINER_EXITED = "CONTAINER_EXITED"
CONTAINER_UNKNOWN = "CONTAINER_UNKNOWN"

# PodSandboxState
SANDBOX_READY = "SANDBOX_READY"
SANDBOX_NOTREADY = "SANDBOX_NOTREADY"

# Signals and the exit codes they leave behind (128 + signal number).
SIGKILL = 9
SIGTERM = 15
EXIT_SIGKILL = 128 + SIGKILL   # 137
EXIT_SIGTERM = 128 + SIGTERM   # 143

# Reasons containerd writes into ContainerStatus.reason.
REASON_COMPLETED = "Completed"
REASON_ERROR = "Error"
REASON_OOM_KILLED = "OOMKilled"

# gRPC status codes the CRI uses.
CODE_NOT_FOUND = "NotFound"
CODE_UNKNOWN = "Unknown"
CODE_INVALID_ARGUMENT = "InvalidArgument"
CODE_FAILED_PRECONDITION = "FailedPrecondition"
CODE_ALREADY_EXISTS = "AlreadyExists"
CODE_DEADLINE_EXCEEDED = "DeadlineExceeded"


class CriError(Exception):
    """A failed CRI call, carrying the gRPC code and description."""

    def __init__(self, code: str, desc: str) -> None:
        super().__init__(f"rpc error: code = {code} desc = {desc}")
        self.code = code
        self.desc = desc


def nanos(now: float) -> int:
    """Virtual seconds as the CRI's integer nanoseconds."""
    return round(now * 1_000_000_000)


def rfc3339_nano(now: float) -> str:
    """The timestamp at the head of a CRI log line: ``2025-01-01T00:00:05.000000000Z``."""
    total = nanos(now)
    seconds, fraction = divmod(total, 1_000_000_000)
    moment = EPOCH + _dt.timedelta(seconds=seconds)
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + f".{fraction:09d}Z"


T = TypeVar("T")


class Pending(Generic[T]):
    """The answer to a call that takes virtual time; ``result()`` raises the CriError if it failed."""

    def __init__(self) -> None:
        self._done = False
        self._value: Any = None
        self._error: CriError | None = None
        self._callbacks: list[Callable[[Pending[T]], None]] = []

    def done(self) -> bool:
        return self._done

    def result(self) -> T:
        if not self._done:
            raise RuntimeError("the call has not finished yet: advance the loop (loop.run_for) first")
        if self._error is not None:
            raise self._error
        return self._value

    def error(self) -> CriError | None:
        return self._error

    def add_done_callback(self, callback: Callable[[Pending[T]], None]) -> None:
        if self._done:
            callback(self)
        else:
            self._callbacks.append(callback)

    def set_result(self, value: T) -> None:
        self._finish(value, None)

    def set_error(self, error: CriError) -> None:
        self._finish(None, error)

    def _finish(self, value: Any, error: CriError | None) -> None:
        if self._done:
            return
        self._done, self._value, self._error = True, value, error
        callbacks, self._callbacks = self._callbacks, []
        for callback in callbacks:
            callback(self)


# -- configs the kubelet sends ---------------------------------------------

@dataclass
class PortMapping:
    """runtimeapi.PortMapping: a container port the sandbox publishes on the node (``hostPort``)."""

    protocol: str = "TCP"
    container_port: int = 0
    host_port: int = 0
    host_ip: str = ""


@dataclass
class PodSandboxMetadata:
    name: str
    namespace: str = "default"
    uid: str = ""
    attempt: int = 0


# NamespaceMode: whose namespace a sandbox's network / ipc namespace is.
NAMESPACE_POD = "POD"              # the pod's own (the pause container's)
NAMESPACE_NODE = "NODE"            # the node's (hostNetwork, hostIPC)


@dataclass
class NamespaceOption:
    """LinuxSandboxSecurityContext.namespace_options: the kubelet sets NODE for hostNetwork / hostIPC."""

    network: str = NAMESPACE_POD
    ipc: str = NAMESPACE_POD


@dataclass
class DNSConfig:
    """The pod's resolver settings; the runtime writes them as the sandbox's resolv.conf."""

    servers: list[str] = field(default_factory=list)
    searches: list[str] = field(default_factory=list)
    options: list[str] = field(default_factory=list)


@dataclass
class PodSandboxConfig:
    metadata: PodSandboxMetadata
    hostname: str = ""
    log_directory: str = ""
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)
    cgroup_parent: str = ""
    namespace_options: NamespaceOption = field(default_factory=NamespaceOption)
    """``linux.security_context.namespace_options`` in the CRI's message."""
    dns_config: DNSConfig | None = None
    port_mappings: list[PortMapping] = field(default_factory=list)


@dataclass
class LinuxContainerResources:
    """The cgroup settings the kubelet computes from requests and limits (0 means unset)."""

    cpu_period: int = 0
    cpu_quota: int = 0
    cpu_shares: int = 0
    memory_limit_in_bytes: int = 0


@dataclass
class ContainerMetadata:
    name: str
    attempt: int = 0


@dataclass
class Mount:
    """A bind mount of a node path into the container (the CRI's Mount; volumes arrive as these)."""

    container_path: str
    host_path: str
    readonly: bool = False


@dataclass
class ContainerConfig:
    metadata: ContainerMetadata
    image: str
    command: list[str] = field(default_factory=list)
    args: list[str] = field(default_factory=list)
    working_dir: str = ""
    envs: dict[str, str] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)
    log_path: str = ""
    resources: LinuxContainerResources = field(default_factory=LinuxContainerResources)
    files: dict[str, str] = field(default_factory=dict)
    """Files copied into the container's own filesystem at creation, path -> content."""
    mounts: list[Mount] = field(default_factory=list)
    """Volumes: node paths bind-mounted into the container (shared, live, optionally read-only)."""


# -- records the runtime returns -------------------------------------------

@dataclass
class PodSandbox:
    id: str
    metadata: PodSandboxMetadata
    state: str
    created_at: int
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)


@dataclass
class PodSandboxStatus(PodSandbox):
    ip: str = ""
    namespaces: dict[str, int] = field(default_factory=dict)


@dataclass
class Container:
    id: str
    pod_sandbox_id: str
    metadata: ContainerMetadata
    image: str
    image_ref: str
    state: str
    created_at: int
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)


@dataclass
class ContainerStatus:
    id: str
    metadata: ContainerMetadata
    state: str
    created_at: int
    started_at: int
    finished_at: int
    exit_code: int
    image: str
    image_ref: str
    reason: str = ""
    message: str = ""
    log_path: str = ""
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)


@dataclass
class Image:
    id: str
    repo_tags: list[str]
    repo_digests: list[str]
    size: int


@dataclass
class ExecSyncResponse:
    stdout: str
    stderr: str
    exit_code: int
    elapsed: float = 0.0
    """Virtual seconds the command took (its sleeps): a preStop hook's share of the grace period."""


@dataclass
class ContainerFilter:
    id: str = ""
    state: str = ""
    pod_sandbox_id: str = ""
    label_selector: dict[str, str] = field(default_factory=dict)
