"""The kubelet's stats provider: cAdvisor-style usage per container, pod and node, as the Summary API shapes it.

``StatsProvider(runtime, loop, node_name, node_capacity).summary()`` returns
what ``GET /stats/summary`` on a kubelet returns (k8s.io/kubelet stats
v1alpha1): ``node`` with ``cpu`` (``usageNanoCores``,
``usageCoreNanoSeconds``), ``memory`` (``availableBytes``, ``usageBytes``,
``workingSetBytes``, ``rssBytes``), ``fs`` (the node's root filesystem),
``runtime.imageFs`` and ``rlimit``; and ``pods``, each with ``podRef``,
its ``containers`` (the same ``cpu`` / ``memory`` plus ``rootfs`` and
``logs``), its totals, its ``volume`` stats and ``ephemeral-storage``.

Where the numbers come from: the runtime's ``container_stats`` (the
container's cgroup, read as cAdvisor reads it). ``usageNanoCores`` is the
rate over the time since the previous summary (since the container started,
the first time). The node's memory working set is the sum of its containers'
(system daemons use nothing here), so ``memory.availableBytes`` = capacity -
that sum: the signal the eviction manager watches. The node's filesystem
holds the images, the containers' writable layers and logs, and the node's
own files (hostPath and disk-backed emptyDir volumes). What it never does:
write anything, or keep more than one previous sample per container.
"""

from __future__ import annotations

from typing import Any

from engine.api.meta import timestamp
from engine.api.quantity import memory_bytes
from engine.runtime.cri import CONTAINER_RUNNING, SANDBOX_READY, ContainerFilter

MAX_PID = 4194304
"""/proc/sys/kernel/pid_max on a 64-bit node: what ``rlimit.maxpid`` reports."""

VOLUMES_ROOT = "/var/lib/kubelet/pods"


def _pod_volume_dir(uid: str) -> str:
    return f"{VOLUMES_ROOT}/{uid}/volumes/"


class StatsProvider:
    """Answers the Summary API for one node from its runtime."""

    def __init__(self, runtime: Any, loop: Any, node_name: str, node_capacity: dict[str, Any]) -> None:
        self.runtime = runtime
        self.loop = loop
        self.node_name = node_name
        self.memory_capacity = memory_bytes(node_capacity.get("memory", 0))
        storage = node_capacity.get("ephemeral-storage")
        self.fs_capacity = memory_bytes(storage) if storage is not None else 0
        self.started_at = loop.now
        self._previous: dict[str, tuple[float, int]] = {}

    def summary(self) -> dict[str, Any]:
        now = self.loop.now
        stamp = timestamp(now)
        pods, processes = [], 0
        for sandbox in self.runtime.list_pod_sandbox():
            if sandbox.state != SANDBOX_READY:
                continue
            containers = []
            for record in self.runtime.list_containers(ContainerFilter(pod_sandbox_id=sandbox.id,
                                                                       state=CONTAINER_RUNNING)):
                raw = self.runtime.container_stats(record.id)
                processes += raw["processes"]
                containers.append(self._container(record, raw, now, stamp))
            processes += 1      # the pause process
            pods.append(self._pod(sandbox, containers, stamp))
        live = {c["id"] for p in pods for c in p["containers"]}
        self._previous = {cid: sample for cid, sample in self._previous.items() if cid in live}
        for pod in pods:
            for container in pod["containers"]:
                del container["id"]
        return {"node": self._node(pods, processes, stamp), "pods": pods}

    # -- containers and pods ---------------------------------------------------------
    def _container(self, record: Any, raw: dict[str, int], now: float, stamp: str) -> dict[str, Any]:
        usage_ns = raw["usage_usec"] * 1000
        started = self.runtime.container_status(record.id).started_at / 1e9
        since, before = self._previous.get(record.id, (started, 0))
        nano_cores = round((usage_ns - before) / (now - since)) if now > since else 0
        self._previous[record.id] = (now, usage_ns)
        working_set = raw["memory_working_set_bytes"]
        return {
            "id": record.id,
            "name": record.metadata.name,
            "startTime": timestamp(started),
            "cpu": {"time": stamp, "usageNanoCores": nano_cores, "usageCoreNanoSeconds": usage_ns},
            "memory": {"time": stamp, "usageBytes": working_set, "workingSetBytes": working_set,
                       "rssBytes": working_set - raw["memory_shmem_bytes"], "pageFaults": 0, "majorPageFaults": 0},
            "rootfs": {"time": stamp, "usedBytes": raw["rootfs_used_bytes"]},
            "logs": {"time": stamp, "usedBytes": raw["logs_used_bytes"]},
        }

    def _pod(self, sandbox: Any, containers: list[dict[str, Any]], stamp: str) -> dict[str, Any]:
        meta = sandbox.metadata
        volumes = self._volumes(meta.uid, stamp)
        disk_volumes = sum(v["usedBytes"] for v in volumes if not v["memoryBacked"])
        for volume in volumes:
            del volume["memoryBacked"]
        ephemeral = disk_volumes + sum(c["rootfs"]["usedBytes"] + c["logs"]["usedBytes"] for c in containers)
        return {
            "podRef": {"name": meta.name, "namespace": meta.namespace, "uid": meta.uid},
            "startTime": timestamp(sandbox.created_at / 1e9),
            "containers": containers,
            "cpu": {"time": stamp,
                    "usageNanoCores": sum(c["cpu"]["usageNanoCores"] for c in containers),
                    "usageCoreNanoSeconds": sum(c["cpu"]["usageCoreNanoSeconds"] for c in containers)},
            "memory": {"time": stamp,
                       "usageBytes": sum(c["memory"]["usageBytes"] for c in containers),
                       "workingSetBytes": sum(c["memory"]["workingSetBytes"] for c in containers),
                       "rssBytes": sum(c["memory"]["rssBytes"] for c in containers)},
            "volume": volumes,
            "ephemeral-storage": {"time": stamp, "usedBytes": ephemeral},
            "process_stats": {"process_count": len(containers)},
        }

    def _volumes(self, uid: str, stamp: str) -> list[dict[str, Any]]:
        """Bytes under each of the pod's volume directories (``/var/lib/kubelet/pods/<uid>/volumes/<plugin>/<name>``)."""
        host_fs = self.runtime.host_fs
        prefix = _pod_volume_dir(uid)
        used: dict[str, int] = {}
        roots: dict[str, str] = {}
        for path, content in host_fs.items():
            if not path.startswith(prefix):
                continue
            parts = path[len(prefix):].split("/")
            if len(parts) < 2 or not parts[1]:
                continue
            used[parts[1]] = used.get(parts[1], 0) + len(content)
            roots[parts[1]] = prefix + parts[0] + "/" + parts[1]
        return [{"time": stamp, "name": name, "usedBytes": used[name], "memoryBacked": host_fs.in_tmpfs(roots[name])}
                for name in sorted(used)]

    # -- the node --------------------------------------------------------------
    def _node(self, pods: list[dict[str, Any]], processes: int, stamp: str) -> dict[str, Any]:
        working_set = sum(p["memory"]["workingSetBytes"] for p in pods)
        node: dict[str, Any] = {
            "nodeName": self.node_name,
            "startTime": timestamp(self.started_at),
            "cpu": {"time": stamp, "usageNanoCores": sum(p["cpu"]["usageNanoCores"] for p in pods),
                    "usageCoreNanoSeconds": sum(p["cpu"]["usageCoreNanoSeconds"] for p in pods)},
            "memory": {"time": stamp, "availableBytes": max(0, self.memory_capacity - working_set),
                       "usageBytes": working_set, "workingSetBytes": working_set,
                       "rssBytes": sum(p["memory"]["rssBytes"] for p in pods), "pageFaults": 0, "majorPageFaults": 0},
            "rlimit": {"time": stamp, "maxpid": MAX_PID, "curproc": processes},
        }
        if self.fs_capacity:
            images = self.runtime.images.image_fs_used_bytes()
            host_fs = self.runtime.host_fs
            node_files = sum(len(content) for path, content in host_fs.items() if not host_fs.in_tmpfs(path))
            containers = sum(c["rootfs"]["usedBytes"] + c["logs"]["usedBytes"] for p in pods for c in p["containers"])
            used = images + node_files + containers
            node["fs"] = {"time": stamp, "capacityBytes": self.fs_capacity,
                          "availableBytes": max(0, self.fs_capacity - used), "usedBytes": used}
            node["runtime"] = {"imageFs": {"time": stamp, "capacityBytes": self.fs_capacity,
                                           "availableBytes": max(0, self.fs_capacity - used), "usedBytes": images}}
        return node
