"""The kubelet's runtime manager: make the runtime match a pod's spec, over the CRI (``kuberuntime_manager.go``).

``compute_pod_actions(pod, status)`` is the decision, a pure function of the
pod and what the runtime reports: create a sandbox (and with which attempt
number), which init container runs next, which app containers to (re)start,
which to kill, or kill the whole pod. It is the seam lab 09 replaces
(``options["compute_pod_actions"]``).

``RuntimeManager.sync_pod`` carries the actions out, in the real order:
kill what must go, RunPodSandbox, then for the next init container or each
app container to start: the CrashLoopBackOff check, the image (PullImage
honouring imagePullPolicy, with ErrImagePull then ImagePullBackOff),
CreateContainer, StartContainer, with the real events (Pulling, Pulled,
Created, Started, BackOff, Failed); each container's environment is its
own ``env`` (values and downward API fields) over the Service variables the
kubelet hands in (``service_env``; CreateContainerConfigError while it cannot),
and a hostNetwork pod's sandbox asks for the node's network namespace. ``kill_pod`` stops every container
with the grace period (preStop hooks first: exec, httpGet or sleep; what is
left of the grace for SIGTERM, at least 2 s; then SIGKILL) and then the
sandbox. Both are generators run by the pod worker (``pod_workers.spawn``):
they yield a ``Pending`` while a pull or a graceful stop takes virtual time.

Container restart counts live where upstream keeps them, in the container's
``io.kubernetes.container.restartCount`` annotation, so a restarted kubelet
continues counting from the runtime. What this module never does: talk to
the API server (apart from recording events) or compute the pod's status.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable

from engine.client.record import NORMAL, WARNING
from engine.kubelet.backoff import Backoff
from engine.kubelet.container_env import EnvError, expand_command_and_args, make_environment_variables
from engine.kubelet.container_logs import link_container_log, remove_dead_logs
from engine.kubelet.pod_workers import Task, all_of, spawn
from engine.kubelet.status import (
    ANNOTATION_RESTART_COUNT,
    LABEL_CONTAINER_NAME,
    LABEL_POD_NAME,
    LABEL_POD_NAMESPACE,
    LABEL_POD_UID,
    RuntimePodStatus,
    restart_count,
    should_restart,
)
from engine.runtime import cri, images
from engine.runtime.cri import ContainerConfig, ContainerFilter, ContainerMetadata, CriError, PodSandboxConfig
from engine.runtime.runc import linux_resources
from engine import flags

if TYPE_CHECKING:
    from engine.client.record import EventRecorder
    from engine.runtime.containerd import RuntimeService
    from engine.sim.loop import Loop

log = logging.getLogger(__name__)

ANNOTATION_GRACE = "io.kubernetes.pod.terminationGracePeriod"
ANNOTATION_PRE_STOP = "io.kubernetes.container.preStopHandler"
CRASH_LOOP_BACK_OFF = "CrashLoopBackOff"
CREATE_CONTAINER_ERROR = "CreateContainerError"
CREATE_CONTAINER_CONFIG_ERROR = "CreateContainerConfigError"
RUN_CONTAINER_ERROR = "RunContainerError"


# -- the decision ----------------------------------------------------------------

@dataclass
class ContainerToKill:
    container_id: str
    name: str
    message: str


@dataclass
class PodActions:
    """podActions: what SyncPod is to do, in order."""

    kill_pod: bool = False
    create_sandbox: bool = False
    sandbox_id: str = ""
    attempt: int = 0
    next_init_container: str | None = None
    containers_to_start: list[str] = field(default_factory=list)
    containers_to_kill: list[ContainerToKill] = field(default_factory=list)


def _sandbox_changed(status: RuntimePodStatus) -> tuple[bool, int, str]:
    """podSandboxChanged: (create a new one?, its attempt, the ready sandbox's id)."""
    if not status.sandboxes:
        return True, 0, ""
    ready = [s for s in status.sandboxes if s.state == cri.SANDBOX_READY]
    latest = status.sandboxes[0]
    if len(ready) != 1 or latest.state != cri.SANDBOX_READY:
        return True, latest.metadata.attempt + 1, latest.id
    return False, latest.metadata.attempt, latest.id


def _init_failed(status: cri.ContainerStatus) -> bool:
    return status.state == cri.CONTAINER_EXITED and status.exit_code != 0 or status.state == cri.CONTAINER_UNKNOWN


def next_init_container(pod: dict, status: RuntimePodStatus) -> tuple[cri.ContainerStatus | None, str | None, bool]:
    """findNextInitContainerToRun: (the failed one's status, the next to run, all done?)."""
    spec = pod["spec"]
    inits = [c["name"] for c in spec.get("initContainers") or []]
    if not inits:
        return None, None, True
    for container in spec.get("containers") or []:
        latest = status.latest(container["name"])
        if latest is not None and latest.state == cri.CONTAINER_RUNNING:
            return None, None, True
    for name in reversed(inits):
        latest = status.latest(name)
        if latest is not None and _init_failed(latest):
            return latest, name, False
    for index in range(len(inits) - 1, -1, -1):
        latest = status.latest(inits[index])
        if latest is None:
            continue
        if latest.state in (cri.CONTAINER_RUNNING, cri.CONTAINER_CREATED):
            return None, None, False
        if latest.state == cri.CONTAINER_EXITED:
            if index == len(inits) - 1:
                return None, None, True
            return None, inits[index + 1], False
    return None, inits[0], False


def compute_pod_actions(pod: dict, status: RuntimePodStatus, probe_failures: dict[str, str] | None = None) -> PodActions:
    """computePodActions. ``probe_failures`` maps a running container's id to ``liveness`` or ``startup``."""
    spec = pod["spec"]
    restart_policy = spec.get("restartPolicy", "Always")
    create, attempt, sandbox_id = _sandbox_changed(status)
    actions = PodActions(kill_pod=create, create_sandbox=create, sandbox_id=sandbox_id, attempt=attempt)
    containers = spec.get("containers") or []
    if create:
        if restart_policy == "Never" and attempt != 0 and status.containers:
            actions.create_sandbox = False
            return actions
        if spec.get("initContainers"):
            actions.next_init_container = spec["initContainers"][0]["name"]
            return actions
        for container in containers:
            latest = status.latest(container["name"])
            if restart_policy == "OnFailure" and latest is not None and latest.state == cri.CONTAINER_EXITED \
                    and latest.exit_code == 0:
                continue
            actions.containers_to_start.append(container["name"])
        return actions
    failed, next_name, done = next_init_container(pod, status)
    if not done:
        if next_name is not None:
            if failed is not None and restart_policy == "Never":
                actions.kill_pod = True
            else:
                actions.next_init_container = next_name
        return actions
    keep = 0
    for container in containers:
        name = container["name"]
        latest = status.latest(name)
        if latest is None or latest.state != cri.CONTAINER_RUNNING:
            if should_restart(container, restart_policy, latest):
                actions.containers_to_start.append(name)
            continue
        failure = (probe_failures or {}).get(latest.id)
        if failure:
            actions.containers_to_kill.append(ContainerToKill(latest.id, name, f"Container {name} failed {failure} "
                                                                               f"probe"))
            if restart_policy != "Never":
                actions.containers_to_start.append(name)
            continue
        keep += 1
    if keep == 0 and not actions.containers_to_start:
        actions.kill_pod = True
    return actions


# -- helpers -----------------------------------------------------------------------

def format_pod(pod: dict) -> str:
    """format.Pod: ``name_namespace(uid)``."""
    meta = pod["metadata"]
    return f"{meta['name']}_{meta.get('namespace', 'default')}({meta['uid']})"


def go_duration(seconds: float) -> str:
    """Go's time.Duration.String() for a duration truncated to milliseconds: ``1.2s``, ``500ms``, ``5m0s``."""
    total = int(seconds * 1000 + 1e-6)
    if total == 0:
        return "0s"
    if total < 1000:
        return f"{total}ms"
    hours, rest = divmod(total, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    whole, millis = divmod(rest, 1000)
    text = f"{whole}" + (f".{millis:03d}".rstrip("0") if millis else "") + "s"
    if hours:
        return f"{hours}h{minutes}m{text}"
    if minutes:
        return f"{minutes}m{text}"
    return text


def container_spec(pod: dict, name: str) -> tuple[dict | None, str]:
    """The container named ``name`` and its field path (``spec.containers{web}``)."""
    spec = pod["spec"]
    for key in ("initContainers", "containers"):
        for container in spec.get(key) or []:
            if container["name"] == name:
                return container, f"spec.{key}{{{name}}}"
    return None, ""


def port_mappings(pod: dict) -> list[cri.PortMapping]:
    """generatePodSandboxConfig's PortMappings: every container port (kubecontainer.MakePortMappings, with
    hostPort 0 when none is asked; the runtime keeps only those with a host port)."""
    mappings = []
    for container in pod["spec"].get("containers") or ():
        for port in container.get("ports") or ():
            mappings.append(cri.PortMapping(port.get("protocol") or "TCP", int(port.get("containerPort") or 0),
                                            int(port.get("hostPort") or 0), port.get("hostIP") or ""))
    return mappings


def log_directory(pod: dict) -> str:
    meta = pod["metadata"]
    return f"/var/log/pods/{meta.get('namespace', 'default')}_{meta['name']}_{meta['uid']}"


def get_pod_status(runtime: "RuntimeService", uid: str) -> RuntimePodStatus:
    """GetPodStatus: the pod's sandboxes and containers as the runtime reports them, newest first."""
    sandboxes = [runtime.pod_sandbox_status(s.id) for s in runtime.list_pod_sandbox() if s.metadata.uid == uid]
    sandboxes.sort(key=lambda s: (s.created_at, s.id), reverse=True)
    containers = [runtime.container_status(c.id)
                  for c in runtime.list_containers(ContainerFilter(label_selector={LABEL_POD_UID: uid}))]
    for container in containers:
        # containerd reports the image by its full name and its repo digest, as kubectl then shows them
        record = runtime.images.image_status(container.image_ref)
        container.image = images.normalize(container.image)
        if record is not None and record.repo_digests:
            container.image_ref = record.repo_digests[0]
    containers.sort(key=lambda c: (c.created_at, c.id), reverse=True)
    return RuntimePodStatus(uid, sandboxes, containers)


class ContainerConfigError(Exception):
    """generateContainerConfig failed (the container waits with reason CreateContainerConfigError)."""


# -- carrying the actions out ----------------------------------------------------------

@dataclass
class SyncResult:
    """What a SyncPod left behind: waiting reasons per container, and when to try again."""

    reasons: dict[str, tuple[str, str]] = field(default_factory=dict)
    retry_at: float | None = None

    def retry(self, when: float) -> None:
        self.retry_at = when if self.retry_at is None else min(self.retry_at, when)


class RuntimeManager:
    """kubeGenericRuntimeManager: SyncPod and KillPod over one node's RuntimeService and ImageService."""

    def __init__(self, loop: "Loop", runtime: "RuntimeService", recorder: "EventRecorder", *,
                 host_ip: str = "", options: dict[str, Any] | None = None) -> None:
        options = options or {}
        self.loop = loop
        self.runtime = runtime
        self.images = runtime.images
        self.recorder = recorder
        self.host_ip = host_ip
        delay = options.get("restart_backoff")
        self.backoff = Backoff(lambda: loop.now, delay) if delay else Backoff(lambda: loop.now)
        self.image_backoff = Backoff(lambda: loop.now)
        self.compute_pod_actions: Callable[..., PodActions] = options.get("compute_pod_actions", compute_pod_actions)
        self.linux_resources: Callable[[dict | None], cri.LinuxContainerResources] = options.get(
            "linux_resources", linux_resources)
        self.mounts: Callable[[dict, dict], list[cri.Mount]] | None = None
        """``mounts(pod, container)``: the container's volume mounts (the volume manager's ``mounts_for``)."""
        self.service_env: Callable[[dict], dict[str, str]] | None = None
        """``service_env(pod)``: the Service variables for the pod's containers (the kubelet's
        getServiceEnvVarMap); raises ContainerConfigError while the kubelet has not read the Services yet."""
        self.dns_config: Callable[[dict], cri.DNSConfig] | None = None
        """``dns_config(pod)``: the sandbox's resolver settings (network_dns.Configurer.get_pod_dns)."""
        self.etc_hosts: Callable[[dict, dict, str], list[cri.Mount]] | None = None
        """``etc_hosts(pod, container, pod_ip)``: the managed /etc/hosts mount (network_dns.EtcHosts.mounts)."""
        self.get_object: Callable[[str, str, str], dict] | None = None
        """``get_object(resource, namespace, name)``: ConfigMaps and Secrets for env / envFrom (the kubelet's client)."""
        self.allocatable: Callable[[], dict[str, Any]] | None = None
        """The node's allocatable: what a ``resourceFieldRef`` to an unset limit reads."""

    # -- events ----------------------------------------------------------------
    def event(self, pod: dict, name: str, type_: str, reason: str, message: str) -> None:
        _, field_path = container_spec(pod, name)
        self.recorder.event(pod, type_, reason, message, field_path=field_path)

    # -- SyncPod ---------------------------------------------------------------
    def sync_pod(self, pod: dict, status: RuntimePodStatus, probe_failures: dict[str, str] | None = None) -> Task:
        """SyncPod: a generator returning a SyncResult."""
        result = SyncResult()
        actions = self.compute_pod_actions(pod, status, probe_failures or {})
        if actions.kill_pod:
            yield from self.kill_pod(pod, status, None)
            if not actions.create_sandbox:
                return result
            status = get_pod_status(self.runtime, pod["metadata"]["uid"])
            if self._purge_init_containers(pod, status):
                status = get_pod_status(self.runtime, pod["metadata"]["uid"])
        else:
            stops = []
            for victim in actions.containers_to_kill:
                self.event(pod, victim.name, NORMAL, "Killing", f"{victim.message}, will be restarted"
                           if victim.name in actions.containers_to_start else victim.message)
                stops.append(spawn(self.loop, self.kill_container(pod, victim.container_id, victim.name, None)))
            if stops:
                yield all_of(stops)
                status = get_pod_status(self.runtime, pod["metadata"]["uid"])
        sandbox_id = actions.sandbox_id
        if actions.create_sandbox:
            try:
                sandbox_id = self.runtime.run_pod_sandbox(self.sandbox_config(pod, actions.attempt))
            except CriError as error:       # e.g. the CNI plugin failed: the worker's error requeue tries again
                self.recorder.event(pod, WARNING, "FailedCreatePodSandBox", f"Failed to create pod sandbox: {error}")
                result.retry(self.loop.now + flags.container_backoff_initial)
                return result
            status = get_pod_status(self.runtime, pod["metadata"]["uid"])
        if actions.next_init_container is not None:
            yield from self._start(pod, status, sandbox_id, actions.next_init_container, result)
            return result
        for name in actions.containers_to_start:
            yield from self._start(pod, status, sandbox_id, name, result)
        return result

    def sandbox_config(self, pod: dict, attempt: int) -> PodSandboxConfig:
        meta = pod["metadata"]
        labels = {**(meta.get("labels") or {}), LABEL_POD_NAME: meta["name"],
                  LABEL_POD_NAMESPACE: meta.get("namespace", "default"), LABEL_POD_UID: meta["uid"]}
        spec = pod["spec"]
        host_network = bool(spec.get("hostNetwork"))
        namespaces = cri.NamespaceOption(network=cri.NAMESPACE_NODE if host_network else cri.NAMESPACE_POD,
                                         ipc=cri.NAMESPACE_NODE if spec.get("hostIPC") else cri.NAMESPACE_POD)
        return PodSandboxConfig(
            cri.PodSandboxMetadata(meta["name"], meta.get("namespace", "default"), meta["uid"], attempt),
            # a hostNetwork pod keeps the node's hostname (its UTS namespace is the node's)
            hostname="" if host_network else spec.get("hostname") or meta["name"], log_directory=log_directory(pod),
            labels=labels, annotations=dict(meta.get("annotations") or {}),
            cgroup_parent=f"/kubepods/pod{meta['uid']}", namespace_options=namespaces,
            dns_config=self.dns_config(pod) if self.dns_config is not None else None,
            port_mappings=port_mappings(pod))

    def _backoff_key(self, pod: dict, name: str) -> str:
        return f"{pod['metadata']['uid']}_{name}"

    def _start(self, pod: dict, status: RuntimePodStatus, sandbox_id: str, name: str, result: SyncResult) -> Task:
        container, _ = container_spec(pod, name)
        if container is None:
            return
        exited = next((c for c in status.by_name(name) if c.state == cri.CONTAINER_EXITED), None)
        if exited is not None:
            key = self._backoff_key(pod, name)
            finished = exited.finished_at / 1e9
            if self.backoff.is_in_backoff_since(key, finished):
                self.event(pod, name, WARNING, "BackOff",
                           f"Back-off restarting failed container {name} in pod {format_pod(pod)}")
                result.reasons[name] = (CRASH_LOOP_BACK_OFF, f"back-off {go_duration(self.backoff.get(key))} "
                                                             f"restarting failed container={name} pod={format_pod(pod)}")
                result.retry(self.backoff.retry_at(key, finished))
                return
            self.backoff.next(key, finished)
        image_ok = yield from self._ensure_image(pod, container, result)
        if not image_ok:
            return
        latest = status.latest(name)
        restarts = restart_count(latest) + 1 if latest is not None else 0
        pod_ip = self.host_ip if pod["spec"].get("hostNetwork") else status.ip
        try:
            config = self.container_config(pod, container, restarts, pod_ip)
        except ContainerConfigError as error:
            self.event(pod, name, WARNING, "Failed", f"Error: {error}")
            result.reasons[name] = (CREATE_CONTAINER_CONFIG_ERROR, str(error))
            return
        try:
            container_id = self.runtime.create_container(sandbox_id, config)
        except CriError as error:
            self.event(pod, name, WARNING, "Failed", f"Error: {error.desc}")
            result.reasons[name] = (CREATE_CONTAINER_ERROR, error.desc)
            return
        self.event(pod, name, NORMAL, "Created", f"Created container {name}")
        self._remove_dead(status, name)
        try:
            self.runtime.start_container(container_id)
        except CriError as error:
            self.event(pod, name, WARNING, "Failed", f"Error: {error.desc}")
            result.reasons[name] = (RUN_CONTAINER_ERROR, error.desc)
            return
        meta = pod["metadata"]
        link_container_log(self.runtime.host_fs, f"{log_directory(pod)}/{config.log_path}", container_id, name,
                           meta["name"], meta.get("namespace", "default"))
        self.event(pod, name, NORMAL, "Started", f"Started container {name}")

    def _purge_init_containers(self, pod: dict, status: RuntimePodStatus) -> bool:
        """purgeInitContainers: a pod getting a new sandbox runs every init container again, so the old ones
        (all stopped by now) are removed; else the last one's old success would count for the new sandbox."""
        names = {c["name"] for c in pod["spec"].get("initContainers") or ()}
        purged = [c for name in sorted(names) for c in status.by_name(name)]
        for container in purged:
            self.runtime.remove_container(container.id)
        return bool(purged)

    def _remove_dead(self, status: RuntimePodStatus, name: str) -> None:
        """The container GC's per-container rule (MaxPerPodContainer = 1): keep only the newest dead instance."""
        dead = [c for c in status.by_name(name) if c.state == cri.CONTAINER_EXITED]
        for container in dead[1:]:
            self.runtime.remove_container(container.id)
        if dead[1:]:
            remove_dead_logs(self.runtime.host_fs)

    def container_config(self, pod: dict, container: dict, restarts: int, pod_ip: str) -> ContainerConfig:
        meta = pod["metadata"]
        annotations = {ANNOTATION_RESTART_COUNT: str(restarts),
                       ANNOTATION_GRACE: str(pod["spec"].get("terminationGracePeriodSeconds", 30))}
        pre_stop = (container.get("lifecycle") or {}).get("preStop")
        if pre_stop:
            annotations[ANNOTATION_PRE_STOP] = json.dumps(pre_stop, sort_keys=True)
        try:
            envs = make_environment_variables(
                pod, container, pod_ip=pod_ip, host_ip=self.host_ip,
                service_env=self.service_env(pod) if self.service_env else None, get_object=self.get_object,
                allocatable=self.allocatable() if self.allocatable else None,
                warn=lambda reason, message: self.recorder.event(pod, WARNING, reason, message))
        except EnvError as error:
            raise ContainerConfigError(str(error)) from None
        command, args = expand_command_and_args(container, envs)
        mounts = self.mounts(pod, container) if self.mounts is not None else []
        if self.etc_hosts is not None:
            mounts = list(mounts) + self.etc_hosts(pod, container, pod_ip)
        return ContainerConfig(
            ContainerMetadata(container["name"], restarts), container.get("image", ""),
            command=command, args=args, working_dir=container.get("workingDir", ""), envs=envs,
            labels={LABEL_POD_NAME: meta["name"], LABEL_POD_NAMESPACE: meta.get("namespace", "default"),
                    LABEL_POD_UID: meta["uid"], LABEL_CONTAINER_NAME: container["name"]},
            annotations=annotations, log_path=f"{container['name']}/{restarts}.log",
            resources=self.linux_resources(container.get("resources")), mounts=list(mounts))

    # -- images --------------------------------------------------------------------
    def _ensure_image(self, pod: dict, container: dict, result: SyncResult) -> Task:
        """EnsureImageExists: True when the image is on the node (pulling it first if the policy says so)."""
        name, image = container["name"], container.get("image", "")
        policy = container.get("imagePullPolicy") or images.default_pull_policy(image)
        present = self.images.image_status(image) is not None
        decision = images.pull_decision(policy, present)
        if decision == images.ERR_IMAGE_NEVER_PULL:
            message = images.never_pull_message(image)
            self.event(pod, name, WARNING, images.ERR_IMAGE_NEVER_PULL, message)
            result.reasons[name] = (images.ERR_IMAGE_NEVER_PULL, message)
            return False
        if decision == "use":
            self.event(pod, name, NORMAL, "Pulled", f'Container image "{image}" already present on machine')
            return True
        key = f"{pod['metadata']['uid']}_{image}"
        if self.image_backoff.is_in_backoff_since_update(key, self.loop.now):
            message = images.back_off_message(image)
            self.event(pod, name, NORMAL, "BackOff", message)
            self.event(pod, name, WARNING, "Failed", f"Error: {images.IMAGE_PULL_BACKOFF}")
            result.reasons[name] = (images.IMAGE_PULL_BACKOFF, message)
            result.retry(self.image_backoff.retry_after_update(key))
            return False
        self.event(pod, name, NORMAL, "Pulling", f'Pulling image "{image}"')
        started = self.loop.now
        pull = self.images.pull_image(image)
        yield pull
        error = pull.error()
        if error is not None:
            message = images.pull_failed_message(image, error)
            self.event(pod, name, WARNING, "Failed", message)
            self.event(pod, name, WARNING, "Failed", f"Error: {images.ERR_IMAGE_PULL}")
            self.image_backoff.next(key, self.loop.now)
            result.reasons[name] = (images.ERR_IMAGE_PULL, message)
            result.retry(self.image_backoff.retry_after_update(key))
            return False
        took = go_duration(self.loop.now - started)
        record = self.images.image_status(image)
        size = record.size if record is not None else 0
        self.event(pod, name, NORMAL, "Pulled", f'Successfully pulled image "{image}" in {took} ({took} including '
                                                f'waiting). Image size: {size} bytes.')
        return True

    # -- KillPod -----------------------------------------------------------------
    def kill_pod(self, pod: dict, status: RuntimePodStatus, grace: float | None) -> Task:
        """KillPod: stop every running container at once (each with its grace and preStop), then the sandboxes."""
        stops = []
        for running in status.containers:
            if running.state != cri.CONTAINER_RUNNING:
                continue
            name = running.labels.get(LABEL_CONTAINER_NAME, "")
            self.event(pod, name, NORMAL, "Killing", f"Stopping container {name}")
            stops.append(spawn(self.loop, self.kill_container(pod, running.id, name, grace)))
        if stops:
            yield all_of(stops)
        for sandbox in status.sandboxes:
            self.runtime.stop_pod_sandbox(sandbox.id)

    def grace_period(self, pod: dict, override: float | None) -> float:
        if override is not None:
            return override
        deletion = pod["metadata"].get("deletionGracePeriodSeconds")
        if deletion is not None:
            return float(deletion)
        return float(pod["spec"].get("terminationGracePeriodSeconds", 30))

    def kill_container(self, pod: dict, container_id: str, name: str, grace: float | None) -> Task:
        """killContainer: preStop hook, then StopContainer with what is left of the grace period (at least 2 s)."""
        period = self.grace_period(pod, grace)
        container, _ = container_spec(pod, name)
        pre_stop = ((container or {}).get("lifecycle") or {}).get("preStop")
        if pre_stop and period > 0:
            started = self.loop.now
            took = self._pre_stop(pod, container_id, name, pre_stop, period)
            if took > 0:
                yield min(took, period)
            period -= self.loop.now - started
        if period < flags.minimum_grace_period:
            period = flags.minimum_grace_period
        try:
            yield self.runtime.stop_container(container_id, period)
        except CriError as error:
            log.debug("stop %s: %s", container_id, error)

    def _pre_stop(self, pod: dict, container_id: str, name: str, hook: dict, grace: float) -> float:
        """Run a preStop handler; returns the virtual seconds it takes."""
        if "sleep" in hook:
            return float((hook["sleep"] or {}).get("seconds", 0))
        if "exec" in hook:
            command = list((hook["exec"] or {}).get("command") or [])
            try:
                answer = self.runtime.exec_sync(container_id, command, grace)
            except CriError as error:
                self._hook_failed(pod, name, f"Exec lifecycle hook ({command}) for Container \"{name}\" in Pod "
                                             f"\"{format_pod(pod)}\" failed - error: {error.desc}, message: \"\"")
                return grace
            if answer.exit_code != 0:
                self._hook_failed(pod, name, f"Exec lifecycle hook ({command}) for Container \"{name}\" in Pod "
                                             f"\"{format_pod(pod)}\" failed - error: command '{' '.join(command)}' "
                                             f"exited with {answer.exit_code}: {answer.stderr}, message: "
                                             f"\"{answer.stdout}\"")
            return answer.elapsed
        if "httpGet" in hook:
            get = hook["httpGet"] or {}
            program = self.runtime.program(container_id)
            port = get.get("port", 80)
            answer = None
            if program is not None and hasattr(program, "handle_http"):
                answer = program.handle_http({"method": "GET", "path": get.get("path", "/"), "port": port,
                                              "headers": {"User-Agent": "kube-lifecycle/1.31"}})
            if answer is None:
                self._hook_failed(pod, name, f"HTTP lifecycle hook ({get.get('path', '/')}) for Container \"{name}\" "
                                             f"in Pod \"{format_pod(pod)}\" failed - error: Get "
                                             f"\"http://{get.get('host', '')}:{port}{get.get('path', '/')}\": dial tcp: "
                                             f"connect: connection refused")
        return 0.0

    def _hook_failed(self, pod: dict, name: str, message: str) -> None:
        self.event(pod, name, WARNING, "FailedPreStopHook", message)
