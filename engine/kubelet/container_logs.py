"""The kubelet's side of container log files on the node: the legacy symlinks, and cleaning up after pods.

The runtime writes a container's log where the kubelet's CRI config says
(``/var/log/pods/<namespace>_<pod>_<uid>/<container>/<restart>.log``). After StartContainer the kubelet
links it from ``/var/log/containers/<pod>_<namespace>_<container>-<containerID>.log`` (kuberuntime's
``legacyLogSymlink``, cut to ext4's 255-character file names), "for cluster logging support": node agents
such as fluent-bit tail ``/var/log/containers/*.log`` and read pod, namespace and container from the name.
The container GC removes links whose file is gone, and a removed pod's directory under /var/log/pods
(``evictPodLogsDirectories``). What it never does: write or rotate log files.
"""

from __future__ import annotations

from engine.runtime.logfiles import LogFile, Symlink, dangling

POD_LOGS_DIR = "/var/log/pods"
LEGACY_CONTAINER_LOGS_DIR = "/var/log/containers"
LEGACY_LOG_SUFFIX = "log"
EXT4_MAX_FILE_NAME_LEN = 255


def legacy_log_symlink(container_id: str, container_name: str, pod_name: str, pod_namespace: str) -> str:
    """``/var/log/containers/<pod>_<namespace>_<container>-<containerID>.log``."""
    suffix = f".{LEGACY_LOG_SUFFIX}"
    name = f"{pod_name}_{pod_namespace}_{container_name}-{container_id}"
    return f"{LEGACY_CONTAINER_LOGS_DIR}/{name[:EXT4_MAX_FILE_NAME_LEN - len(suffix)]}{suffix}"


def link_container_log(host_fs: dict, log_path: str, container_id: str, container_name: str, pod_name: str,
                       pod_namespace: str) -> None:
    """Symlink the container's log to the legacy location, when the log file exists."""
    target = host_fs.get(log_path)
    if not isinstance(target, LogFile):
        return
    host_fs.setdefault("/var/log/", "")
    host_fs.setdefault(f"{LEGACY_CONTAINER_LOGS_DIR}/", "")
    host_fs[legacy_log_symlink(container_id, container_name, pod_name, pod_namespace)] = Symlink(target)


def remove_dead_logs(host_fs: dict, removed_pod_uid: str | None = None) -> None:
    """Remove legacy links to removed files and, for a removed pod, its /var/log/pods directory."""
    prefix = f"{LEGACY_CONTAINER_LOGS_DIR}/"
    for path in [p for p in host_fs if p.startswith(prefix)]:
        content = host_fs[path]
        if isinstance(content, Symlink) and dangling(host_fs, content):
            del host_fs[path]
    if removed_pod_uid:
        root = f"{POD_LOGS_DIR}/"
        for path in [p for p in host_fs if p.startswith(root)]:
            directory = path[len(root):].split("/", 1)[0]
            if directory.endswith(f"_{removed_pod_uid}"):
                del host_fs[path]
