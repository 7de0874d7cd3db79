"""The kubelet: the node agent that makes the pods bound to its node run (``pkg/kubelet/kubelet.go``).

Pod sources: the API server's pods with ``spec.nodeName=<this node>`` (one
informer with that field selector) and static pods: the manifest files in
the node's ``/etc/kubernetes/manifests`` (``config_file``, re-read every
20 s, where kubeadm writes the control plane's) and manifests handed in as
``options["static_pods"]``; each gets a *mirror pod* in the API server so
that kubectl sees it, deleted once its static pod is gone. The sync loop turns every change into work for the pod workers:

    pod added         kubelet admission (``admission.admit``): rejected pods
                      turn Failed with OutOfcpu, OutOfmemory, ...; admitted
                      pods get a worker
    pod updated       the worker syncs again; a deletionTimestamp kills it
    PLEG event        the pod's worker syncs (a container started or died)
    probe result      the worker syncs (readiness, liveness restarts)
    housekeeping (2 s)  pods gone from every source are killed and removed

Each sync reads the pod's status from the runtime, writes the API status
through the status manager, and lets the runtime manager act (sandbox,
pulls, init containers, containers, restarts with CrashLoopBackOff).

The runtime (``options["runtime"]``, one RuntimeService per node owned by
the cluster) outlives the kubelet: stopping the kubelet stops heartbeats and
syncing but leaves containers running, and a new kubelet finds them again
through the PLEG's first relist, keeping their restart counts.

Containers get the Service environment variables (``envvars``) from the
kubelet's own Service informer, as the real kubelet's service lister gives
them; a hostNetwork pod's sandbox shares the node's network namespace, and
the pod reports the node's InternalIP as its pod IP.

The kubelet talks to the API server only through its client, informers and
event recorder, and to the runtime only through the CRI calls.
Seams a lab may replace through ``options``: ``restart_backoff``,
``pod_phase``, ``compute_pod_actions``, ``linux_resources``.
"""

from __future__ import annotations

import hashlib
import json
import logging
from typing import Any

from engine import flags
from engine.api import errors
from engine.api.defaults import apply_defaults
from engine.api.frozen import thaw
from engine.client.record import WARNING, EventRecorder
from engine.components import ComponentContext
from engine.kubelet import admission, envvars
from engine.kubelet.config_file import read_manifests
from engine.kubelet.container_logs import remove_dead_logs
from engine.kubelet.kuberuntime import ContainerConfigError, RuntimeManager, get_pod_status
from engine.kubelet.network_dns import Configurer, EtcHosts
from engine.kubelet.node_status import NodeStatusAgent
from engine.kubelet.pleg import GenericPLEG, PodLifecycleEvent
from engine.kubelet.eviction import EvictionManager
from engine.kubelet.pod_workers import PodWorkers, Task
from engine.kubelet.prober import ProbeManager
from engine.kubelet.server import KubeletServer
from engine.kubelet.stats import StatsProvider
from engine.kubelet.status import generate_api_pod_status, pod_phase
from engine.kubelet.status_manager import TERMINAL, StatusManager
from engine.kubelet.volumes import VolumeError, VolumeManager
from engine.runtime.containerd import RuntimeService
from engine.runtime.images import Registry
from engine.runtime.programs.catalogue import register_all
from engine.sim.loop import Timer

log = logging.getLogger(__name__)

CONFIG_SOURCE = "kubernetes.io/config.source"
CONFIG_MIRROR = "kubernetes.io/config.mirror"
CONFIG_HASH = "kubernetes.io/config.hash"
CONFIG_SEEN = "kubernetes.io/config.seen"


def is_mirror_pod(pod: dict) -> bool:
    return CONFIG_MIRROR in (pod["metadata"].get("annotations") or {})


def is_static_pod(pod: dict) -> bool:
    return (pod["metadata"].get("annotations") or {}).get(CONFIG_SOURCE, "api") != "api"


def static_pod(manifest: dict, node_name: str, seen: str) -> dict:
    """A manifest as the kubelet's file source turns it into a pod: ``<name>-<node>``, a uid hashed from both."""
    pod = thaw(manifest)
    pod.setdefault("apiVersion", "v1")
    pod.setdefault("kind", "Pod")
    meta = pod.setdefault("metadata", {})
    meta.setdefault("namespace", "default")
    meta["name"] = f"{meta['name']}-{node_name}"
    digest = hashlib.md5(json.dumps(manifest, sort_keys=True).encode() + node_name.encode()).hexdigest()
    meta["uid"] = digest
    meta["annotations"] = {**(meta.get("annotations") or {}), CONFIG_HASH: digest, CONFIG_SEEN: seen,
                           CONFIG_SOURCE: "file"}
    pod.setdefault("spec", {})["nodeName"] = node_name
    pod["spec"].setdefault("tolerations", [{"operator": "Exists", "effect": "NoExecute"}])
    apply_defaults(pod)
    pod["status"] = {"phase": "Pending"}
    return pod


def _differ_semantically(old: dict, new: dict) -> bool:
    """podsDifferSemantically: a change the kubelet must act on (spec, labels, annotations), not our own status."""
    return any(old["metadata"].get(key) != new["metadata"].get(key) for key in ("labels", "annotations",
                                                                                 "deletionTimestamp")) \
        or old.get("spec") != new.get("spec")


class Kubelet:
    """One node's kubelet: node status and heartbeats, and every pod bound to the node."""

    name = "kubelet"

    def __init__(self, context: ComponentContext) -> None:
        self.context = context
        self.client = context.client
        self.loop = context.loop
        self.node_name = context.node_name or "node"
        self.options = context.options
        self.running = False
        self.runtime: RuntimeService = self.options.get("runtime") or RuntimeService(
            self.loop, register_all(Registry()), node_name=self.node_name)
        self.host_ip = self.options.get("address", "")
        self.node_status = NodeStatusAgent(context)
        self.recorder = EventRecorder(self.client, "kubelet", self.node_name)
        self.runtime_manager = RuntimeManager(self.loop, self.runtime, self.recorder, host_ip=self.host_ip,
                                              options=self.options)
        self.pod_phase = self.options.get("pod_phase", pod_phase)
        self.admit = self.options.get("admit", admission.admit)
        informers = context.informers
        self.pods = informers.informer("pods", field_selector=f"spec.nodeName={self.node_name}")
        self.nodes = informers.informer("nodes", field_selector=f"metadata.name={self.node_name}")
        self.services = informers.informer("services")
        self.runtime_manager.service_env = self._service_env
        self.runtime_manager.get_object = lambda resource, namespace, name: self.client.get(resource, name, namespace)
        self.runtime_manager.allocatable = self._allocatable
        self.pod_workers = PodWorkers(self.loop, sync=self._sync_pod, terminate=self._terminate_pod,
                                      finish=self._terminated_pod)
        self.status_manager = StatusManager(self.client, self.loop, self._api_pod)
        self.pleg = GenericPLEG(self.loop, self.runtime, self._on_pleg_event)
        self.static_pods: dict[str, dict] = {}
        self.file_pods: set[str] = set()
        """The uids of the static pods read from the static pod directory (``config_file``)."""
        self.admitted: set[str] = set()
        self.rejected: set[str] = set()
        self.reasons: dict[str, dict[str, tuple[str, str]]] = {}
        probe_options = {"count_result": self.options["probe_result"]} if "probe_result" in self.options else {}
        self.probes = ProbeManager(self.loop, self.runtime, self.recorder, self._on_probe_update, **probe_options)
        self.volumes = VolumeManager(self.client, self.loop, self.node_name, host_fs=self.runtime.host_fs)
        self.runtime_manager.mounts = self.volumes.mounts_for
        self.volumes.allocatable = self._allocatable
        self.node_status.volumes_in_use = self.volumes.volumes_in_use
        self.dns = Configurer(self.recorder, self.node_name, self.runtime.host_fs,
                             cluster_dns=self.options.get("cluster_dns"),
                             cluster_domain=self.options.get("cluster_domain"))
        self.runtime_manager.dns_config = self.dns.get_pod_dns
        self.runtime_manager.etc_hosts = EtcHosts(self.runtime.host_fs, self.dns.cluster_domain).mounts
        capacity = self.node_status.capacity()
        self.stats = StatsProvider(self.runtime, self.loop, self.node_name, capacity)
        self.eviction = EvictionManager(self.loop, self.recorder, capacity, self.stats, self.active_pods,
                                        self._evict_pod, self.node_status.set_condition)
        self.server = KubeletServer(self)
        self.hostnet = self.options.get("hostnet")
        self.kill_statuses: dict[str, dict] = {}
        """What a pod killed by the kubelet itself reports at the end (evicted: Failed, reason Evicted)."""
        self._timers: list[Timer] = []

    # -- lifecycle ------------------------------------------------------------------
    def start(self) -> None:
        self.running = True
        self.pod_workers.stopped = False
        self.node_status.start()
        self.pods.add_event_handler(self._on_add, self._on_update, self._on_delete)
        self.context.informers.start()
        self.pleg.start()
        self.eviction.start()
        if self.hostnet is not None and self.host_ip:
            self.hostnet.listen(self.host_ip, flags.kubelet_port, self.server)
        for manifest in self.options.get("static_pods") or []:
            pod = static_pod(manifest, self.node_name, "")
            self.static_pods[pod["metadata"]["uid"]] = pod
            self._handle_addition(pod)
        self._check_manifests()
        self._timers.append(self.loop.call_later(flags.housekeeping_period, self._housekeeping,
                                                 label=f"kubelet {self.node_name} housekeeping"))

    def stop(self) -> None:
        """The kubelet process ends: no heartbeats, no syncing; the containers keep running in the runtime."""
        self.running = False
        self.node_status.stop()
        self.pleg.stop()
        self.eviction.stop()
        if self.hostnet is not None and self.host_ip:
            self.hostnet.close(self.host_ip, flags.kubelet_port, self.server)
        self.pod_workers.stop()
        self.context.informers.stop()
        for timer in self._timers:
            timer.cancel()
        self._timers.clear()

    # -- pod sources -------------------------------------------------------------------
    def _on_add(self, pod: dict) -> None:
        if is_mirror_pod(pod):
            self._mirror_changed(pod)
            return
        self._handle_addition(pod)

    def _mirror_changed(self, mirror: dict) -> None:
        """A mirror pod changed or went: its static pod's worker checks it (and recreates it if needed)."""
        uid = mirror["metadata"]["annotations"][CONFIG_MIRROR]
        if uid in self.static_pods:
            self.pod_workers.wake(uid)

    def _on_update(self, old: dict, pod: dict) -> None:
        if is_mirror_pod(pod):
            self._mirror_changed(pod)
            return
        uid = pod["metadata"]["uid"]
        if uid in self.rejected:
            return
        if uid not in self.admitted:
            self._handle_addition(pod)
        elif pod["metadata"].get("deletionTimestamp"):
            self.pod_workers.update_pod(pod, kill=True)
        elif _differ_semantically(old, pod):
            self.pod_workers.update_pod(pod)
        elif uid in self.pod_workers.workers:
            self.pod_workers.workers[uid].pod = pod

    def _on_delete(self, pod: Any) -> None:
        pod = getattr(pod, "obj", pod)
        if not isinstance(pod, dict):
            return
        if is_mirror_pod(pod):
            self._mirror_changed(pod)
            return
        uid = pod["metadata"]["uid"]
        if uid in self.pod_workers.workers:
            self.pod_workers.update_pod(pod, kill=True)

    def _handle_addition(self, pod: dict) -> None:
        """HandlePodAdditions: admit (or reject) a pod new to this kubelet, then hand it to its worker."""
        uid = pod["metadata"]["uid"]
        if uid in self.admitted or uid in self.rejected:
            return
        phase = (pod.get("status") or {}).get("phase")
        if phase in TERMINAL:
            self.admitted.add(uid)
            self.pod_workers.update_pod(pod, kill=True)
            return
        if pod["metadata"].get("deletionTimestamp"):
            self.admitted.add(uid)
            self.pod_workers.update_pod(pod, kill=True)
            return
        node = self.nodes.lister.get(None, self.node_name)
        if node is not None and not is_static_pod(pod) and not self._already_running(uid):
            ok, reason, message = self.eviction.admit(pod)
            if not ok:
                self._reject(pod, reason, message)
                return
            result = self.admit(pod, node, self.active_pods())
            if not result.admit:
                self._reject(pod, result.reason, result.message)
                return
        self.admitted.add(uid)
        self.pod_workers.update_pod(pod)

    def _already_running(self, uid: str) -> bool:
        return any(s.metadata.uid == uid for s in self.runtime.list_pod_sandbox())

    def active_pods(self) -> list[dict]:
        """The admitted pods that are not terminal (what admission and eviction count)."""
        found = []
        for uid in sorted(self.admitted):
            worker = self.pod_workers.workers.get(uid)
            if worker is not None and not self.pod_workers.is_terminating(uid):
                found.append(worker.pod)
        return found

    def _reject(self, pod: dict, reason: str, message: str) -> None:
        """rejectPod: an event and a Failed status with the admission's reason and message."""
        uid = pod["metadata"]["uid"]
        self.rejected.add(uid)
        self.recorder.event(pod, WARNING, reason, message)
        status = thaw(pod.get("status") or {})
        status.update({"phase": "Failed", "reason": reason, "message": message})
        self.status_manager.set_pod_status(pod, status)

    def _evict_pod(self, pod: dict, status: dict, grace_period: int) -> None:
        """The eviction manager's killPodFunc: terminate the pod, reporting ``status`` (Failed, Evicted)."""
        uid = pod["metadata"]["uid"]
        self.kill_statuses[uid] = status
        self.pod_workers.update_pod(self._newest(pod), kill=True, grace=float(grace_period))

    def _api_pod(self, pod: dict) -> dict | None:
        """The pod as the API server has it: itself, or a static pod's mirror."""
        meta = pod["metadata"]
        current = self.pods.lister.get(meta.get("namespace"), meta["name"])
        if current is None:
            return None
        if is_static_pod(pod):
            return current if is_mirror_pod(current) else None
        return current if current["metadata"].get("uid") == meta["uid"] else None

    def _allocatable(self) -> dict:
        nodes = self.nodes.lister.list()
        return dict((nodes[0].get("status") or {}).get("allocatable") or {}) if nodes else {}

    def _service_env(self, pod: dict) -> dict[str, str]:
        """getServiceEnvVarMap over the kubelet's Service lister (a pod from the API server waits for its sync)."""
        if not is_static_pod(pod) and not self.services.has_synced:
            raise ContainerConfigError("services have not yet been read at least once, cannot construct envvars")
        spec = pod["spec"]
        return envvars.service_env(self.services.lister.list(), pod["metadata"].get("namespace", "default"),
                                   spec.get("enableServiceLinks", True))

    # -- events that wake workers ---------------------------------------------------------
    def _on_pleg_event(self, event: PodLifecycleEvent) -> None:
        if event.pod_uid in self.pod_workers.workers:
            self.pod_workers.wake(event.pod_uid)

    def _on_probe_update(self, pod_uid: str) -> None:
        self.pod_workers.wake(pod_uid)

    # -- the pod worker's sync functions ----------------------------------------------------
    def _status(self, pod: dict, terminating: bool = False) -> dict:
        uid = pod["metadata"]["uid"]
        runtime_status = get_pod_status(self.runtime, uid)
        api = self._api_pod(pod) or pod
        status = generate_api_pod_status({**pod, "status": api.get("status") or {}}, runtime_status,
                                         self.reasons.get(uid, {}), host_ip=self.host_ip, now=self.loop.now,
                                         terminating=terminating, phase_function=self.pod_phase,
                                         readiness=lambda built: self.probes.update_pod_status(pod, built))
        killed = self.kill_statuses.get(uid)
        if killed is not None:
            status.update({key: killed[key] for key in ("phase", "reason", "message") if key in killed})
            types = {c["type"] for c in status["conditions"]}
            status["conditions"].extend(dict(c) for c in killed.get("conditions") or [] if c["type"] not in types)
        return status

    def _sync_pod(self, pod: dict) -> Task:
        """SyncPod: status first, then make the runtime match the spec; a finished pod moves on to terminating."""
        uid = pod["metadata"]["uid"]
        if is_static_pod(pod):
            self._ensure_mirror_pod(pod)
        self.probes.add_pod(pod)
        status = self._status(pod)
        self.status_manager.set_pod_status(pod, status)
        if status["phase"] in TERMINAL:
            self.pod_workers.update_pod(pod, kill=True)
            return
        try:
            self.volumes.wait_for_attach_and_mount(pod)
        except VolumeError as error:
            self.recorder.event(pod, WARNING, "FailedMount", str(error))
            self.pod_workers.wake(uid, delay=flags.container_backoff_initial)
            return
        network_error = self.node_status.network_error()
        if network_error and not pod["spec"].get("hostNetwork"):
            # only hostNetwork pods start while the runtime's network is not ready (the CNI agents among them)
            self.recorder.event(pod, WARNING, "NetworkNotReady", f"network is not ready: {network_error}")
            self.pod_workers.wake(uid, delay=flags.container_backoff_initial)
            return
        failures = {}
        for container in get_pod_status(self.runtime, uid).containers:
            if self.probes.liveness_failed(container.id):
                failures[container.id] = "liveness"
            elif self.probes.startup_failed(container.id):
                failures[container.id] = "startup"
        result = yield from self.runtime_manager.sync_pod(pod, get_pod_status(self.runtime, uid), failures)
        self.reasons[uid] = result.reasons
        status = self._status(pod)
        self.status_manager.set_pod_status(pod, status)
        if status["phase"] in TERMINAL:
            self.pod_workers.update_pod(pod, kill=True)
            return
        # a failed sync comes back after backOffPeriod at the latest (the worker's error requeue), sooner when a
        # back-off ends first; a good one at the next resync
        delay = flags.sync_frequency
        if result.reasons:
            delay = flags.container_backoff_initial
        if result.retry_at is not None:
            delay = min(delay, max(0.0, result.retry_at - self.loop.now))
        self.pod_workers.wake(uid, delay=delay)

    def _terminate_pod(self, pod: dict, grace: float | None) -> Task:
        """syncTerminatingPod: stop every container (grace period, preStop), then the sandbox; report the end."""
        uid = pod["metadata"]["uid"]
        self.probes.remove_pod(pod)
        yield from self.runtime_manager.kill_pod(pod, get_pod_status(self.runtime, uid), grace)
        if uid not in self.rejected:
            self.status_manager.set_pod_status(pod, self._status(pod, terminating=True))

    def _terminated_pod(self, pod: dict) -> Task:
        """syncTerminatedPod: the pod is stopped for good; finish its deletion in the API server."""
        self.volumes.unmount(pod)
        self.status_manager.terminated(self._newest(pod))
        return
        yield

    def _newest(self, pod: dict) -> dict:
        worker = self.pod_workers.workers.get(pod["metadata"]["uid"])
        return worker.pod if worker is not None else pod

    # -- static pods --------------------------------------------------------------------------
    def _ensure_mirror_pod(self, pod: dict) -> None:
        meta = pod["metadata"]
        current = self.pods.lister.get(meta["namespace"], meta["name"])
        if current is not None and is_mirror_pod(current) and current["metadata"].get("deletionTimestamp"):
            try:
                self.client.delete("pods", meta["name"], meta["namespace"], grace_period_seconds=0,
                                   preconditions={"uid": current["metadata"]["uid"]})
            except errors.ApiError as error:
                log.debug("mirror pod %s: %s", meta["name"], error)
                return
        elif current is not None:
            return
        node = self.nodes.lister.get(None, self.node_name)
        mirror = thaw(pod)
        mirror["metadata"].pop("uid", None)
        mirror["metadata"]["annotations"][CONFIG_MIRROR] = meta["annotations"][CONFIG_HASH]
        if node is not None:
            mirror["metadata"]["ownerReferences"] = [{"apiVersion": "v1", "kind": "Node", "name": self.node_name,
                                                      "uid": node["metadata"]["uid"], "controller": True}]
        mirror.pop("status", None)
        try:
            self.client.create(mirror)
        except errors.ApiError as error:
            log.debug("mirror pod %s: %s", meta["name"], error)

    def _check_manifests(self) -> None:
        """The file source: start the static pods of new manifest files, stop those whose file went or changed."""
        if not self.running:
            return
        path = self.options.get("static_pod_path", flags.static_pod_path)
        found = {}
        for _, manifest in read_manifests(self.runtime.host_fs, path):
            pod = static_pod(manifest, self.node_name, "")
            found[pod["metadata"]["uid"]] = pod
        for uid in sorted(self.file_pods - set(found)):
            self.file_pods.discard(uid)
            pod = self.static_pods.pop(uid)
            self.pod_workers.update_pod(self._newest(pod), kill=True)
        for uid, pod in found.items():
            if uid not in self.file_pods:
                self.file_pods.add(uid)
                self.static_pods[uid] = pod
                self._handle_addition(pod)
        self._later(flags.file_check_frequency, self._check_manifests, "file source")

    def _delete_orphaned_mirror_pods(self) -> None:
        """Mirror pods whose static pod is gone from this node's sources are deleted (HandlePodCleanups)."""
        for pod in self.pods.lister.list():
            if is_mirror_pod(pod) and pod["metadata"]["annotations"][CONFIG_MIRROR] not in self.static_pods:
                meta = pod["metadata"]
                try:
                    self.client.delete("pods", meta["name"], meta["namespace"], grace_period_seconds=0,
                                       preconditions={"uid": meta["uid"]})
                except errors.ApiError as error:
                    log.debug("mirror pod %s: %s", meta["name"], error)

    # -- housekeeping --------------------------------------------------------------------------
    def _housekeeping(self) -> None:
        """HandlePodCleanups: forget finished workers of pods gone from every source; kill orphans in the runtime."""
        if not self.running:
            return
        if self.pods.has_synced:
            known = {p["metadata"]["uid"] for p in self.pods.lister.list() if not is_mirror_pod(p)}
            known |= set(self.static_pods)
            self._delete_orphaned_mirror_pods()
            for uid, worker in list(self.pod_workers.workers.items()):
                if uid in known:
                    continue
                if not self.pod_workers.is_terminating(uid):
                    self.pod_workers.update_pod(worker.pod, kill=True)
                elif self.pod_workers.is_terminated(uid) and not worker.busy:
                    self._remove_pod(uid)
            for sandbox in self.runtime.list_pod_sandbox():
                uid = sandbox.metadata.uid
                if uid not in known and uid not in self.pod_workers.workers:
                    self.runtime.remove_pod_sandbox(sandbox.id)
                    remove_dead_logs(self.runtime.host_fs, uid)
        self._later(flags.housekeeping_period, self._housekeeping, "housekeeping")

    def _later(self, delay: float, action: Any, what: str) -> None:
        """Schedule one of the kubelet's periodic loops (stop() cancels them), forgetting timers that fired."""
        self._timers = [t for t in self._timers if not t.cancelled and t.when > self.loop.now]
        self._timers.append(self.loop.call_later(delay, action, label=f"kubelet {self.node_name} {what}"))

    def _remove_pod(self, uid: str) -> None:
        for sandbox in self.runtime.list_pod_sandbox():
            if sandbox.metadata.uid == uid:
                self.runtime.remove_pod_sandbox(sandbox.id)
        remove_dead_logs(self.runtime.host_fs, uid)
        self.pod_workers.forget(uid)
        self.status_manager.forget(uid)
        self.reasons.pop(uid, None)
        self.kill_statuses.pop(uid, None)
        self.admitted.discard(uid)
        self.runtime_manager.backoff.forget_prefix(uid)
        self.runtime_manager.image_backoff.forget_prefix(uid)
