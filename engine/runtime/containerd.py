"""containerd's CRI RuntimeService: pod sandboxes, containers, their logs, exec and stats.

Interface (the CRI calls, snake_case, on the virtual loop):
    run_pod_sandbox(config) -> id           stop_pod_sandbox(id)      remove_pod_sandbox(id)
    pod_sandbox_status(id)                  list_pod_sandbox()
    create_container(sandbox_id, config) -> id      start_container(id)
    stop_container(id, timeout) -> Pending  remove_container(id)
    list_containers(filter)  container_status(id)   exec_sync(id, cmd, timeout)   container_stats(id)
    update_container_resources(id, resources)       version()   status()
    read_log(path) -> the CRI log file's lines
Guarantees: stop and remove calls are idempotent (as the CRI requires);
``power_off`` / ``boot``: the machine's power going off (every process gone, nothing recorded) and containerd
starting again on boot (the vanished tasks' containers EXITED 255 ``Unknown``, every sandbox NOTREADY).
StopContainer sends the image's stop signal (SIGTERM by default), waits ``timeout`` virtual seconds, then SIGKILLs
(exit 137), and its Pending resolves once the process is gone; a container
moves CREATED -> RUNNING -> EXITED only; timestamps are virtual nanoseconds.
Log lines are written as containerd writes them:
``2025-01-01T00:00:05.000000000Z stdout F hello`` (``P`` marks a piece of a line
longer than 16 KiB; a last line without a newline is still ``F``), into the file the kubelet named
(``/var/log/pods/<ns>_<pod>_<uid>/<container>/<restart>.log``), which is a ``logfiles.LogFile`` in the node's
``host_fs`` (so a hostPath mount of /var/log shows it) until RemoveContainer removes it. What it never does: pull images (CreateContainer
needs the image on the node), restart containers, or retry anything; that is
the kubelet's job.

Network namespaces: a sandbox whose ``namespace_options.network`` is NODE
(a hostNetwork pod) shares the machine's network namespace: containerd calls
no CNI plugin for it, reports no IP of its own (the kubelet reports the
node's), and its processes see the node's ``Machine`` (``ctx.machine``).
Every process dials out straight on the machine's host network unless the
network layer (``network.wire``) points its calls at its pod's namespace.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from engine.runtime import cri
from engine.runtime.cri import (
    CODE_DEADLINE_EXCEEDED,
    CODE_NOT_FOUND,
    CODE_UNKNOWN,
    CONTAINER_CREATED,
    CONTAINER_EXITED,
    CONTAINER_RUNNING,
    SANDBOX_NOTREADY,
    SANDBOX_READY,
    SIGKILL,
    SIGTERM,
    ContainerConfig,
    ContainerFilter,
    CriError,
    ExecSyncResponse,
    Pending,
    PodSandboxConfig,
)
from engine.runtime.images import ImageService, Registry
from engine.runtime.logfiles import LogFile, inodes
from engine.runtime.mounts import MountedFS, NodeFilesystem
from engine.runtime.runc import Cgroup, Namespaces, Process, namespace_inodes

if TYPE_CHECKING:
    from engine.sim.loop import Loop
    from engine.sim.machine import Machine


LOG_LINE_BUFFER = 16 * 1024
"""containerd's default max container log line size: longer lines are split into P (partial) records."""

RUNTIME_NAME = "containerd"
RUNTIME_VERSION = "v1.7.24"

BASE_DIRECTORIES = ("/bin/", "/dev/", "/etc/", "/home/", "/proc/", "/root/", "/tmp/", "/usr/", "/var/")
"""Every container's root filesystem starts with these directories (a key ending in / is a directory)."""
SANDBOXES_DIR = "/var/lib/containerd/io.containerd.grpc.v1.cri/sandboxes"
UNKNOWN_EXIT_CODE = 255
UNKNOWN_EXIT_REASON = "Unknown"
"""What containerd's CRI records for a container whose task vanished while containerd was down (restart.go)."""


def resolv_conf(dns: cri.DNSConfig) -> str:
    """parseDNSOptions: the sandbox's resolv.conf from the kubelet's DNSConfig ("" when it has nothing)."""
    text = f"search {' '.join(dns.searches)}\n" if dns.searches else ""
    text += "".join(f"nameserver {server}\n" for server in dns.servers)
    return text + (f"options {' '.join(dns.options)}\n" if dns.options else "")


@dataclass
class _Sandbox:
    id: str
    config: PodSandboxConfig
    namespaces: Namespaces
    state: str
    created_at: int
    ip: str = ""
    containers: list[str] = field(default_factory=list)
    networked: bool = False
    """CNI ADD succeeded and no DEL has run yet (the IPAM allocation and the plugins' state are still held)."""


@dataclass
class _Container:
    id: str
    sandbox_id: str
    config: ContainerConfig
    image_ref: str
    name: str
    namespaces: Namespaces
    cgroup: Cgroup
    log_path: str
    state: str = CONTAINER_CREATED
    created_at: int = 0
    started_at: int = 0
    finished_at: int = 0
    exit_code: int = 0
    reason: str = ""
    message: str = ""
    process: Process | None = None
    fs: dict[str, str] = field(default_factory=dict)
    """The container's own root filesystem (its writable layer); volumes are mounted over it."""
    partial: dict[str, str] = field(default_factory=dict)
    stopping: list[Pending[None]] = field(default_factory=list)
    stop_signal: int = SIGTERM


def _host_network(sandbox: _Sandbox) -> bool:
    return sandbox.config.namespace_options.network == cri.NAMESPACE_NODE


def _not_found(kind: str, ident: str) -> CriError:
    return CriError(CODE_NOT_FOUND, f'an error occurred when try to find {kind} "{ident}": not found')


class RuntimeService:
    """One node's containerd: the CRI RuntimeService, with its ImageService beside it as ``images``."""

    def __init__(self, loop: Loop, registry: Registry | None = None, *, images: ImageService | None = None,
                 node_name: str = "node") -> None:
        self.loop = loop
        self.machine: Machine | None = None
        """The machine this containerd runs on (set by ``Cluster``): its host network and, for hostNetwork pods,
        the machine itself as their processes see it."""
        self.registry = registry if registry is not None else Registry()
        self.images = images if images is not None else ImageService(loop, self.registry)
        self.node_name = node_name
        self.log_files: dict[str, list[str]] = {}
        self._sandboxes: dict[str, _Sandbox] = {}
        self._containers: dict[str, _Container] = {}
        self._names: dict[str, str] = {}
        self._inodes = namespace_inodes()
        self._file_inodes = inodes()
        self.host_namespaces = Namespaces.initial()
        """The machine's own (initial) namespaces: what hostNetwork, hostPID and hostIPC pods join."""
        self.resolver: Callable[[str], list[str]] | None = None
        """Set by the DNS / network layer: what ``nslookup`` inside a container resolves."""
        self.http: Callable[[str], dict[str, Any] | None] | None = None
        """Set by the network layer: what ``wget`` inside a container reaches."""
        self.network_ready = True
        self.powered = True
        """False while the machine is off (``power_off`` / ``boot``)."""
        self.host_fs = NodeFilesystem()
        """The node's own filesystem: hostPath volumes and the kubelet's volume directories live here."""
        self.cni: Any = None
        """Set by the cluster's network: ``cni.add(sandbox_id) -> pod IP`` as a sandbox starts, ``cni.delete(sandbox_id)``
        as it stops (containerd calls the CNI plugin at RunPodSandbox and StopPodSandbox); a failed ADD fails
        RunPodSandbox with ``failed to setup network for sandbox``. ``engine.network.cni.CNIExecutor`` runs the
        plugin chain of ``/etc/cni/net.d``; without a network add-on it is a bare host-local IPAM."""
        self.network: Any = None
        """Set by ``engine.network``: ``network.wire(ctx, sandbox_id)`` points a process's ``http`` / ``resolve`` /
        ``dial`` at its pod's network namespace (they then go through the packet model)."""

    def _new_id(self) -> str:
        return f"{self.loop.random.getrandbits(256):064x}"

    def _now(self) -> int:
        return cri.nanos(self.loop.now)

    # -- sandboxes -------------------------------------------------------------
    def run_pod_sandbox(self, config: PodSandboxConfig) -> str:
        meta = config.metadata
        name = f"k8s_POD_{meta.name}_{meta.namespace}_{meta.uid}_{meta.attempt}"
        sandbox_id = self._new_id()
        self._reserve(name, sandbox_id)
        namespaces = Namespaces.for_sandbox(self._inodes)
        options = config.namespace_options
        if options.network == cri.NAMESPACE_NODE:
            namespaces.net, namespaces.uts = self.host_namespaces.net, self.host_namespaces.uts
        if options.ipc == cri.NAMESPACE_NODE:
            namespaces.ipc = self.host_namespaces.ipc
        sandbox = _Sandbox(sandbox_id, config, namespaces, SANDBOX_READY, self._now())
        self._sandboxes[sandbox_id] = sandbox
        if self.cni is not None and options.network != cri.NAMESPACE_NODE:
            try:
                sandbox.ip = self.cni.add(sandbox_id)
            except Exception as error:  # noqa: BLE001 - any plugin failure fails RunPodSandbox, as in containerd
                self.cni.delete(sandbox_id)
                del self._sandboxes[sandbox_id]
                self._names.pop(name, None)
                raise CriError(CODE_UNKNOWN, f'failed to setup network for sandbox "{sandbox_id}": {error}') from None
            sandbox.networked = True
        # setupSandboxFiles: the hostname and resolv.conf every container of the pod bind-mounts.
        text = resolv_conf(config.dns_config) if config.dns_config is not None else ""
        self.host_fs[f"{SANDBOXES_DIR}/{sandbox_id}/resolv.conf"] = text or self.host_fs.get("/etc/resolv.conf", "")
        hostname = self.node_name if options.network == cri.NAMESPACE_NODE else config.hostname
        self.host_fs[f"{SANDBOXES_DIR}/{sandbox_id}/hostname"] = (hostname or meta.name) + "\n"
        return sandbox_id

    def stop_pod_sandbox(self, sandbox_id: str) -> None:
        """Kill what still runs in the pod (no grace: the kubelet gave it already) and mark it NOTREADY."""
        sandbox = self._sandboxes.get(sandbox_id)
        if sandbox is None:
            return
        for container_id in sandbox.containers:
            container = self._containers.get(container_id)
            if container is not None and container.process is not None:
                container.process.kill(SIGKILL)
        if sandbox.networked and self.cni is not None:
            self.cni.delete(sandbox_id)
            sandbox.networked = False
        sandbox.state = SANDBOX_NOTREADY

    def remove_pod_sandbox(self, sandbox_id: str) -> None:
        sandbox = self._sandboxes.get(sandbox_id)
        if sandbox is None:
            return
        self.stop_pod_sandbox(sandbox_id)
        for container_id in list(sandbox.containers):
            self.remove_container(container_id)
        meta = sandbox.config.metadata
        self._names.pop(f"k8s_POD_{meta.name}_{meta.namespace}_{meta.uid}_{meta.attempt}", None)
        for name in ("resolv.conf", "hostname"):
            self.host_fs.pop(f"{SANDBOXES_DIR}/{sandbox_id}/{name}", None)
        del self._sandboxes[sandbox_id]

    def cni_port_mappings(self, sandbox_id: str) -> list[dict[str, Any]]:
        """toCNIPortMappings: the sandbox's port mappings that have a host port, as the ``portMappings``
        capability hands them to CNI plugins (protocol in lower case)."""
        sandbox = self._sandboxes.get(sandbox_id)
        if sandbox is None:
            return []
        return [{"hostPort": m.host_port, "containerPort": m.container_port, "protocol": m.protocol.lower(),
                 "hostIP": m.host_ip} for m in sandbox.config.port_mappings if m.host_port > 0]

    def pod_sandbox_status(self, sandbox_id: str) -> cri.PodSandboxStatus:
        sandbox = self._sandboxes.get(sandbox_id)
        if sandbox is None:
            raise _not_found("sandbox", sandbox_id)
        ns = sandbox.namespaces
        return cri.PodSandboxStatus(
            sandbox.id, replace(sandbox.config.metadata), sandbox.state, sandbox.created_at,
            dict(sandbox.config.labels), dict(sandbox.config.annotations), sandbox.ip,
            {"net": ns.net, "ipc": ns.ipc, "uts": ns.uts},
        )

    def list_pod_sandbox(self) -> list[cri.PodSandbox]:
        return [
            cri.PodSandbox(s.id, replace(s.config.metadata), s.state, s.created_at, dict(s.config.labels),
                           dict(s.config.annotations))
            for s in sorted(self._sandboxes.values(), key=lambda s: (s.created_at, s.id))
        ]

    # -- containers ------------------------------------------------------------
    def create_container(self, sandbox_id: str, config: ContainerConfig,
                         sandbox_config: PodSandboxConfig | None = None) -> str:
        sandbox = self._sandboxes.get(sandbox_id)
        if sandbox is None:
            raise _not_found("sandbox", sandbox_id)
        if sandbox.state != SANDBOX_READY:
            raise CriError(CODE_UNKNOWN, f"failed to create containerd container: sandbox {sandbox_id} is not ready")
        manifest = self.images.manifest_of(config.image)
        if manifest is None:
            raise CriError(CODE_NOT_FOUND, f'failed to resolve image "{config.image}": not found')
        meta, pod = config.metadata, sandbox.config.metadata
        name = f"k8s_{meta.name}_{pod.name}_{pod.namespace}_{pod.uid}_{meta.attempt}"
        container_id = self._new_id()
        self._reserve(name, container_id)
        log_dir = sandbox.config.log_directory or f"/var/log/pods/{pod.namespace}_{pod.name}_{pod.uid}"
        log_path = f"{log_dir}/{config.log_path or f'{meta.name}/{meta.attempt}.log'}"
        container = _Container(
            container_id, sandbox_id, config, manifest.id, name, sandbox.namespaces.for_container(self._inodes),
            Cgroup(f"/kubepods/pod{pod.uid}/{container_id}", replace(config.resources)), log_path,
            created_at=self._now(), fs={**dict.fromkeys(BASE_DIRECTORIES, ""),     # containerd's CRI mounts the
                                        "/etc/hostname": f"{sandbox.config.hostname or pod.name}\n",  # sandbox's
                                        **config.files},                                            # hostname file
        )
        self._containers[container_id] = container
        sandbox.containers.append(container_id)
        self._open_log(log_path)
        return container_id

    def start_container(self, container_id: str) -> None:
        container = self._get(container_id)
        if container.state != CONTAINER_CREATED:
            raise CriError(CODE_UNKNOWN, f"failed to start container \"{container_id}\": container is in "
                           f"{container.state} state")
        manifest = self.images.manifest_of(container.image_ref)
        if manifest is None:
            raise CriError(CODE_NOT_FOUND, f'failed to resolve image "{container.config.image}": not found')
        config = container.config
        if config.command:
            argv = list(config.command) + list(config.args)
        elif config.args:
            argv = list(manifest.entrypoint) + list(config.args)
        else:
            argv = list(manifest.entrypoint) + list(manifest.cmd)
        env = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", **manifest.env,
               "HOSTNAME": self._hostname(container), **config.envs}
        view = MountedFS(container.fs, self.host_fs, list(config.mounts) + self._sandbox_mounts(container),
                         charge=lambda delta: container.cgroup.charge_shmem(self.loop.now, delta))
        process = Process(
            self.loop, manifest.program_factory(), argv=argv, env=env, fs=view,
            hostname=self._hostname(container), namespaces=container.namespaces, cgroup=container.cgroup,
            write=lambda stream, text: self._write(container, stream, text),
            on_exit=lambda code, oom: self._exited(container, code, oom),
        )
        process.ctx.resolve = self.resolver
        process.ctx.http = self.http
        if self.machine is not None:
            process.ctx.dial = self.machine.hostnet.dial
        if _host_network(self._sandboxes[container.sandbox_id]):
            process.ctx.machine = self.machine
        if self.network is not None:
            self.network.wire(process.ctx, container.sandbox_id)
        container.stop_signal = manifest.stop_signal
        container.process = process
        container.state = CONTAINER_RUNNING
        container.started_at = self._now()
        process.start()

    def stop_container(self, container_id: str, timeout: float) -> Pending[None]:
        """The image's stop signal (SIGTERM unless it says otherwise), SIGKILL after ``timeout`` seconds.

        The Pending resolves when the process has exited.
        """
        container = self._get(container_id)
        done: Pending[None] = Pending()
        process = container.process
        if container.state != CONTAINER_RUNNING or process is None or not process.alive:
            done.set_result(None)
            return done
        container.stopping.append(done)
        if timeout <= 0:
            process.kill(SIGKILL)
            return done
        self.loop.call_later(timeout, process.kill, SIGKILL, label="containerd.stop-timeout")
        process.kill(container.stop_signal)
        return done

    def remove_container(self, container_id: str) -> None:
        container = self._containers.get(container_id)
        if container is None:
            return
        if container.process is not None and container.process.alive:
            container.process.kill(SIGKILL)
        del self._containers[container_id]
        self._names.pop(container.name, None)
        self.log_files.pop(container.log_path, None)
        if isinstance(self.host_fs.get(container.log_path), LogFile):
            del self.host_fs[container.log_path]
        sandbox = self._sandboxes.get(container.sandbox_id)
        if sandbox is not None and container_id in sandbox.containers:
            sandbox.containers.remove(container_id)

    def list_containers(self, filter: ContainerFilter | None = None) -> list[cri.Container]:
        f = filter or ContainerFilter()
        found = []
        for c in sorted(self._containers.values(), key=lambda c: (c.created_at, c.id)):
            if (f.id and c.id != f.id) or (f.state and c.state != f.state) or \
                    (f.pod_sandbox_id and c.sandbox_id != f.pod_sandbox_id):
                continue
            if any(c.config.labels.get(k) != v for k, v in f.label_selector.items()):
                continue
            found.append(cri.Container(c.id, c.sandbox_id, replace(c.config.metadata), c.config.image, c.image_ref,
                                       c.state, c.created_at, dict(c.config.labels), dict(c.config.annotations)))
        return found

    def container_status(self, container_id: str) -> cri.ContainerStatus:
        c = self._get(container_id)
        return cri.ContainerStatus(
            c.id, replace(c.config.metadata), c.state, c.created_at, c.started_at, c.finished_at, c.exit_code,
            c.config.image, c.image_ref, c.reason, c.message, c.log_path, dict(c.config.labels),
            dict(c.config.annotations),
        )

    def exec_sync(self, container_id: str, cmd: list[str], timeout: float = 0.0) -> ExecSyncResponse:
        """Run ``cmd`` beside the container's process, against its filesystem and environment."""
        c = self._get(container_id)
        if c.state != CONTAINER_RUNNING or c.process is None:
            raise CriError(CODE_UNKNOWN, f'container {container_id} is not running: cannot exec in a stopped state')
        result = c.process.program.exec(list(cmd), c.process.ctx)
        if timeout > 0 and result.elapsed > timeout:
            raise CriError(CODE_DEADLINE_EXCEEDED, f"failed to exec in container: timeout {timeout:g}s exceeded: "
                           "context deadline exceeded")
        return ExecSyncResponse(result.stdout, result.stderr, result.exit_code, result.elapsed)

    def update_container_resources(self, container_id: str, resources: cri.LinuxContainerResources) -> None:
        """Change a container's cgroup in place (in-place pod resize); usage above a new memory limit OOM-kills."""
        c = self._get(container_id)
        c.cgroup.set_cpu_demand(self.loop.now, c.cgroup.cpu_demand)
        c.cgroup.resources = replace(resources)
        c.config.resources = replace(resources)
        if c.process is not None and c.process.alive:
            c.cgroup.set_memory(self.loop.now, c.cgroup.memory_usage - c.cgroup.shmem)

    def version(self) -> dict[str, str]:
        """CRI Version: what the node reports as ``containerRuntimeVersion`` (``containerd://1.7.24``)."""
        return {"version": "0.1.0", "runtime_name": RUNTIME_NAME, "runtime_version": RUNTIME_VERSION,
                "runtime_api_version": "v1"}

    def status(self) -> dict[str, bool]:
        """CRI Status: the RuntimeReady and NetworkReady conditions the kubelet turns into node readiness
        (NetworkReady is false while the CNI executor has no network configuration)."""
        ready = getattr(self.cni, "ready", None)
        return {"RuntimeReady": True, "NetworkReady": self.network_ready and (ready() if ready else True)}

    def container_stats(self, container_id: str) -> dict[str, int]:
        """cAdvisor's view of the container: its cgroup's CPU (usage, throttling) and memory, its disk use."""
        c = self._get(container_id)
        stats = c.cgroup.cpu_stat(self.loop.now)
        stats["memory_working_set_bytes"] = c.cgroup.memory_usage
        stats["memory_shmem_bytes"] = c.cgroup.shmem
        stats["memory_max_usage_bytes"] = c.cgroup.memory_max_usage
        stats["oom_kills"] = c.cgroup.oom_kills
        stats["rootfs_used_bytes"] = sum(len(content) for content in c.fs.values())
        stats["logs_used_bytes"] = sum(len(line) + 1 for line in self.log_files.get(c.log_path, []))
        stats["processes"] = 1 if c.process is not None and c.process.alive else 0
        return stats

    def namespaces(self, container_id: str) -> Namespaces:
        return replace(self._get(container_id).namespaces)

    def read_log(self, path: str) -> list[str]:
        return list(self.log_files.get(path, []))

    def program(self, container_id: str) -> object | None:
        """The running program (web servers answer HTTP through it); None when not running."""
        c = self._get(container_id)
        return c.process.program if c.process is not None and c.process.alive else None

    # -- internals -------------------------------------------------------------
    def _get(self, container_id: str) -> _Container:
        container = self._containers.get(container_id)
        if container is None:
            raise _not_found("container", container_id)
        return container

    def _open_log(self, path: str) -> None:
        """Create the container's log file (and its directories) in the node's filesystem."""
        lines = self.log_files.setdefault(path, [])
        parts = path.strip("/").split("/")
        for depth in range(1, len(parts)):
            self.host_fs.setdefault("/" + "/".join(parts[:depth]) + "/", "")
        self.host_fs[path] = LogFile(path, next(self._file_inodes), lines)

    def _reserve(self, name: str, ident: str) -> None:
        owner = self._names.get(name)
        if owner is not None:
            raise CriError(CODE_UNKNOWN, f'failed to reserve container name "{name}": name "{name}" is reserved '
                           f'for "{owner}"')
        self._names[name] = ident

    def _sandbox_mounts(self, container: _Container) -> list[cri.Mount]:
        """containerMounts: /etc/hostname and /etc/resolv.conf from the sandbox, unless the kubelet mounts them."""
        taken = {m.container_path for m in container.config.mounts}
        directory = f"{SANDBOXES_DIR}/{container.sandbox_id}"
        return [cri.Mount(path, f"{directory}/{name}") for path, name in
                (("/etc/hostname", "hostname"), ("/etc/resolv.conf", "resolv.conf"))
                if path not in taken and f"{directory}/{name}" in self.host_fs]

    def _hostname(self, container: _Container) -> str:
        sandbox = self._sandboxes.get(container.sandbox_id)
        if sandbox is None:
            return ""
        if _host_network(sandbox):
            return self.node_name      # the node's UTS namespace: its hostname
        return sandbox.config.hostname or sandbox.config.metadata.name

    def _write(self, container: _Container, stream: str, text: str) -> None:
        buffered = container.partial.get(stream, "") + text
        *lines, rest = buffered.split("\n")
        log = self.log_files.setdefault(container.log_path, [])
        stamp = cri.rfc3339_nano(self.loop.now)
        for line in lines:
            while len(line) > LOG_LINE_BUFFER:
                log.append(f"{stamp} {stream} P {line[:LOG_LINE_BUFFER]}")
                line = line[LOG_LINE_BUFFER:]
            log.append(f"{stamp} {stream} F {line}")
        while len(rest) > LOG_LINE_BUFFER:
            log.append(f"{stamp} {stream} P {rest[:LOG_LINE_BUFFER]}")
            rest = rest[LOG_LINE_BUFFER:]
        container.partial[stream] = rest

    # -- the machine's power ---------------------------------------------------------
    def power_off(self) -> None:
        """The machine loses power: every process is gone at once, and containerd with them, so no exit is
        recorded (its state on disk still says RUNNING, as it was)."""
        self.powered = False
        for container in self._containers.values():
            if container.process is not None and container.process.alive:
                container.process.kill(SIGKILL)

    def boot(self) -> None:
        """containerd starts on a machine that was powered off (containerd's CRI restart.go: ``loadContainer``,
        ``loadSandbox``): a container whose task is gone is EXITED with exit code 255 and reason ``Unknown``,
        finished now; every sandbox is NOTREADY (its network namespace went with the power; the CNI DEL that
        releases its address runs when the kubelet stops it). Nothing runs until the kubelet starts it again."""
        self.powered = True
        for container in self._containers.values():
            if container.state == CONTAINER_RUNNING:
                container.state = CONTAINER_EXITED
                container.exit_code = UNKNOWN_EXIT_CODE
                container.reason = UNKNOWN_EXIT_REASON
                container.finished_at = self._now()
                container.process = None
                container.stopping = []
        for sandbox in self._sandboxes.values():
            sandbox.state = SANDBOX_NOTREADY

    def _exited(self, container: _Container, code: int, oom: bool) -> None:
        if not self.powered:       # killed by the power going off: nobody is left to record it
            return
        log = self.log_files.setdefault(container.log_path, [])
        for stream in ("stdout", "stderr"):
            rest = container.partial.pop(stream, "")
            if rest:
                log.append(f"{cri.rfc3339_nano(self.loop.now)} {stream} F {rest}")
        container.state = CONTAINER_EXITED
        container.finished_at = self._now()
        container.exit_code = code
        if oom:
            container.reason = cri.REASON_OOM_KILLED
        else:
            container.reason = cri.REASON_COMPLETED if code == 0 else cri.REASON_ERROR
        waiting, container.stopping = container.stopping, []
        for pending in waiting:
            pending.set_result(None)
