"""The kubelet's volume manager: makes a pod's volumes exist on the node and says where to mount them.

Every volume becomes a directory (or file) in the node's filesystem (the
runtime's ``host_fs``), at the place the real kubelet uses:

    emptyDir      /var/lib/kubelet/pods/<uid>/volumes/kubernetes.io~empty-dir/<name>
                  (medium Memory: a tmpfs, so what containers write counts against their memory)
    configMap     .../kubernetes.io~configmap/<name>   one file per key, or per ``items`` entry
    secret        .../kubernetes.io~secret/<name>      the same, base64-decoded, on a tmpfs
    downwardAPI   .../kubernetes.io~downward-api/<name>
    projected     .../kubernetes.io~projected/<name>   (the ``kube-api-access-*`` volume: token,
                  ca.crt from the ``kube-root-ca.crt`` ConfigMap, namespace)
    hostPath      the path itself, checked against ``type``
    PVC           the bound PV's hostPath / local path; other PV sources a per-node directory
                  /var/lib/kubelet/plugins/kubernetes.io/<plugin>/mounts/<pv> (data stays on that node)

Interface:
    VolumeManager(client, loop, node_name, *, host_fs=None)   (host_fs: the node runtime's ``host_fs``)
    wait_for_attach_and_mount(pod) -> list[cri.Mount]
        sets up every volume and returns the mounts of all the pod's containers;
        raises VolumeError (the kubelet records its message as a FailedMount
        event and keeps the pod in ContainerCreating, retrying at its next
        sync). Called at every pod sync, as SyncPod calls WaitForAttachAndMount:
        each call re-projects configMap, secret, downwardAPI and projected
        volumes, so an updated ConfigMap shows in the mounted files after the
        kubelet's sync period (written atomically, files removed when keys go).
    mounts_for(pod, container) -> list[cri.Mount]   one container's, for its ContainerConfig
    unmount(pod)   removes the pod's volume directories (emptyDir data is gone; hostPath and PV data stay)

ConfigMap, secret, downwardAPI and projected volumes are mounted read-only,
as they are since Kubernetes 1.10; file modes (``defaultMode``, an item's
``mode``) are recorded in ``host_fs.modes``. The service account token is a
TokenRequest (``serviceaccounts/<name>/token``), renewed once 80% of its
lifetime has passed, as the token manager does (it is not bound to the pod
object here). An attachable (CSI) PV is mounted only once the attach/detach
controller lists it in ``node.status.volumesAttached``; until then the pod
waits ("unattached volumes=[...]"), and the volumes the node's pods use are
reported through ``volumes_in_use()`` (``node.status.volumesInUse``) so that
nothing detaches them while mounted. What it never does: attach or detach
volumes itself, enforce emptyDir ``sizeLimit``,
or talk to anything but the API server and the node's filesystem.
"""

from __future__ import annotations

import base64
import logging
from typing import Any, Callable

from engine.api import errors
from engine.kubelet.container_env import EnvError, pod_field, resource_field
from engine.runtime.cri import Mount
from engine.runtime.mounts import NodeFilesystem

log = logging.getLogger(__name__)

PODS_DIR = "/var/lib/kubelet/pods"
DEFAULT_MODE = 0o644
TOKEN_EXPIRATION_SECONDS = 3607
TOKEN_REFRESH_FRACTION = 0.8
"""The token manager asks for a new token once 80% of the old one's lifetime has passed."""

_PLUGIN_DIRS = {"emptyDir": "kubernetes.io~empty-dir", "configMap": "kubernetes.io~configmap",
                "secret": "kubernetes.io~secret", "downwardAPI": "kubernetes.io~downward-api",
                "projected": "kubernetes.io~projected"}
_READ_ONLY_KINDS = ("configMap", "secret", "downwardAPI", "projected")


class VolumeError(Exception):
    """A volume that cannot be set up; the message is the FailedMount event's."""

    reason = "FailedMount"


def _kind_of(volume: dict) -> str:
    return next((k for k in volume if k != "name"), "")


class VolumeManager:
    """One node's volume manager."""

    def __init__(self, client: Any, loop: Any, node_name: str, *, host_fs: NodeFilesystem | None = None) -> None:
        self.client = client
        self.loop = loop
        self.node_name = node_name
        self.host_fs = host_fs if host_fs is not None else NodeFilesystem()
        self._tokens: dict[tuple[str, str, str, int], tuple[str, float]] = {}
        self.allocatable: Callable[[], dict[str, Any]] | None = None
        """The node's allocatable resources (the kubelet sets it): an unset limit's downward-API value."""
        self._in_use: dict[str, set[str]] = {}
        """Attachable (CSI) volume -> uids of the pods that use it: GetVolumesInUse, for the node status."""

    # -- the kubelet's calls ----------------------------------------------------
    def wait_for_attach_and_mount(self, pod: dict) -> list[Mount]:
        paths: dict[str, tuple[str, bool]] = {}
        failures: list[str] = []
        for volume in (pod.get("spec") or {}).get("volumes") or []:
            try:
                paths[volume["name"]] = self._set_up(pod, volume)
            except VolumeError as error:
                failures.append(str(error))
        if failures:
            raise VolumeError(failures[0])
        mounts: list[Mount] = []
        for container in self._containers(pod):
            mounts.extend(self._mounts(pod, container, paths))
        return mounts

    def mounts_for(self, pod: dict, container: dict) -> list[Mount]:
        """One container's mounts (makeMounts); call after wait_for_attach_and_mount succeeded."""
        paths = {v["name"]: self._location(pod, v) for v in (pod.get("spec") or {}).get("volumes") or []}
        return self._mounts(pod, container, paths)

    def unmount(self, pod: dict) -> None:
        prefix = f"{PODS_DIR}/{pod['metadata']['uid']}/volumes/"
        for path in [p for p in self.host_fs if p.startswith(prefix)]:
            del self.host_fs[path]
            self.host_fs.modes.pop(path, None)
        self.host_fs.tmpfs = {root for root in self.host_fs.tmpfs if not root.startswith(prefix)}
        self._tokens = {key: value for key, value in self._tokens.items() if key[2] != pod["metadata"]["uid"]}
        for pods in self._in_use.values():
            pods.discard(pod["metadata"]["uid"])
        self._in_use = {name: pods for name, pods in self._in_use.items() if pods}

    def volumes_in_use(self) -> list[str]:
        """Attachable volumes the node's pods use (node.status.volumesInUse): not to be detached yet."""
        return sorted(self._in_use)

    def _wait_for_attach(self, pod: dict, volume: dict) -> None:
        """A CSI volume is mounted only once the attach/detach controller lists it in volumesAttached."""
        pv = self._bound_pv(pod, volume["name"], volume["persistentVolumeClaim"]["claimName"])
        csi = (pv.get("spec") or {}).get("csi")
        if not csi:
            return
        unique = f"kubernetes.io/csi/{csi['driver']}^{csi['volumeHandle']}"
        self._in_use.setdefault(unique, set()).add(pod["metadata"]["uid"])
        node = self.client.get("nodes", self.node_name)
        if not any(v.get("name") == unique for v in (node.get("status") or {}).get("volumesAttached") or ()):
            name = volume["name"]
            raise VolumeError(f"Unable to attach or mount volumes: unmounted volumes=[{name}], unattached "
                              f"volumes=[{name}], failed to process volumes=[]: timed out waiting for the condition")

    # -- helpers ------------------------------------------------------------------
    @staticmethod
    def _containers(pod: dict) -> list[dict]:
        spec = pod.get("spec") or {}
        return list(spec.get("initContainers") or []) + list(spec.get("containers") or [])

    def _mounts(self, pod: dict, container: dict, paths: dict[str, tuple[str, bool]]) -> list[Mount]:
        mounts = []
        for mount in container.get("volumeMounts") or []:
            if mount["name"] not in paths:
                raise VolumeError(f'cannot find volume "{mount["name"]}" to mount into container '
                                  f'"{container["name"]}"')
            host, read_only = paths[mount["name"]]
            if mount.get("subPath"):
                host = f"{host.rstrip('/')}/{mount['subPath']}"
                if host not in self.host_fs and not self._is_dir(host):
                    self.host_fs[host + "/"] = ""      # the kubelet creates a missing subPath directory
            mounts.append(Mount(mount["mountPath"], host, read_only or bool(mount.get("readOnly"))))
        return mounts

    def _is_dir(self, path: str) -> bool:
        return path + "/" in self.host_fs or any(p.startswith(path + "/") for p in self.host_fs)

    def _volume_dir(self, pod: dict, kind: str, name: str) -> str:
        return f"{PODS_DIR}/{pod['metadata']['uid']}/volumes/{_PLUGIN_DIRS[kind]}/{name}"

    def _location(self, pod: dict, volume: dict) -> tuple[str, bool]:
        """Where the volume is on the node, and whether it is read-only for every container."""
        kind = _kind_of(volume)
        if kind in _PLUGIN_DIRS:
            return self._volume_dir(pod, kind, volume["name"]), kind in _READ_ONLY_KINDS
        if kind == "hostPath":
            return volume["hostPath"]["path"].rstrip("/") or "/", False
        if kind == "persistentVolumeClaim":
            claim = volume["persistentVolumeClaim"]
            pv = self._bound_pv(pod, volume["name"], claim["claimName"])
            return self._pv_path(pv), bool(claim.get("readOnly"))
        raise VolumeError(f'MountVolume.SetUp failed for volume "{volume["name"]}" : '
                          f"volume type {kind or 'unknown'} is not supported on this node")

    def _set_up(self, pod: dict, volume: dict) -> tuple[str, bool]:
        kind = _kind_of(volume)
        path, read_only = self._location(pod, volume)
        name = volume["name"]
        if kind == "emptyDir":
            self.host_fs.setdefault(path + "/", "")
            if (volume["emptyDir"] or {}).get("medium") == "Memory":
                self.host_fs.tmpfs.add(path)
        elif kind == "hostPath":
            self._check_host_path(name, path, volume["hostPath"].get("type") or "")
        elif kind == "persistentVolumeClaim":
            self._wait_for_attach(pod, volume)
            if path not in self.host_fs:
                self.host_fs.setdefault(path + "/", "")
        else:
            files = self._payload(pod, name, kind, volume[kind] or {})
            self._write_atomically(path, files, tmpfs=kind in ("secret", "projected"))
        return path, read_only

    # -- hostPath and PVC ---------------------------------------------------------
    def _check_host_path(self, name: str, path: str, type_: str) -> None:
        is_file, is_dir = path in self.host_fs, self._is_dir(path)
        if type_ == "DirectoryOrCreate" and not is_file:
            self.host_fs.setdefault(path + "/", "")
        elif type_ == "FileOrCreate" and not is_dir:
            self.host_fs.setdefault(path, "")
        elif type_ == "Directory" and not is_dir:
            raise VolumeError(f'MountVolume.SetUp failed for volume "{name}" : hostPath type check failed: '
                              f"{path} is not a directory")
        elif type_ == "File" and not is_file:
            raise VolumeError(f'MountVolume.SetUp failed for volume "{name}" : hostPath type check failed: '
                              f"{path} is not a file")
        elif not type_ and not is_file:
            self.host_fs.setdefault(path + "/", "")   # docker-style: a missing path becomes a directory

    def _bound_pv(self, pod: dict, volume_name: str, claim_name: str) -> dict:
        namespace = pod["metadata"].get("namespace", "default")

        def unmounted(cause: str) -> VolumeError:
            return VolumeError(f"Unable to attach or mount volumes: unmounted volumes=[{volume_name}], "
                               f"unattached volumes=[], failed to process volumes=[{volume_name}]: "
                               f"error processing PVC {namespace}/{claim_name}: {cause}")
        try:
            claim = self.client.get("persistentvolumeclaims", claim_name, namespace)
        except errors.NotFound:
            raise unmounted(f'failed to fetch PVC from API server: persistentvolumeclaims "{claim_name}" '
                            "not found") from None
        pv_name = (claim.get("spec") or {}).get("volumeName")
        if (claim.get("status") or {}).get("phase") != "Bound" or not pv_name:
            raise unmounted("PVC is not bound")
        try:
            return self.client.get("persistentvolumes", pv_name)
        except errors.NotFound:
            raise unmounted(f'failed to fetch PV {pv_name} from API server: persistentvolumes "{pv_name}" '
                            "not found") from None

    @staticmethod
    def _pv_path(pv: dict) -> str:
        spec = pv.get("spec") or {}
        if "hostPath" in spec:
            return spec["hostPath"]["path"].rstrip("/") or "/"
        if "local" in spec:
            return spec["local"]["path"].rstrip("/") or "/"
        plugin = next((k for k in spec if isinstance(spec[k], dict) and k not in ("capacity", "claimRef",
                                                                                    "nodeAffinity")), "csi")
        return f"/var/lib/kubelet/plugins/kubernetes.io/{plugin}/mounts/{pv['metadata']['name']}"

    # -- API data volumes ------------------------------------------------------------
    def _payload(self, pod: dict, name: str, kind: str, source: dict) -> dict[str, tuple[str, int]]:
        """The files of a configMap / secret / downwardAPI / projected volume: path -> (content, mode)."""
        mode = source.get("defaultMode", DEFAULT_MODE)
        if kind == "projected":
            files: dict[str, tuple[str, int]] = {}
            for projection in source.get("sources") or []:
                files.update(self._projection(pod, name, projection, mode))
            return files
        return self._source_files(pod, name, kind, source, mode)

    def _projection(self, pod: dict, name: str, projection: dict, mode: int) -> dict[str, tuple[str, int]]:
        if "serviceAccountToken" in projection:
            spec = projection["serviceAccountToken"]
            token = self._token(pod, name, int(spec.get("expirationSeconds") or TOKEN_EXPIRATION_SECONDS))
            return {spec["path"]: (token, mode)}
        kind = _kind_of(projection)
        return self._source_files(pod, name, kind, projection[kind] or {}, mode)

    def _source_files(self, pod: dict, name: str, kind: str, source: dict, mode: int) -> dict[str, tuple[str, int]]:
        if kind == "downwardAPI":
            return {item["path"]: (self._field(pod, item), item.get("mode", mode)) for item in source.get("items") or []}
        resource = {"configMap": "configmaps", "secret": "secrets"}[kind]
        object_name = source.get("name") if kind == "configMap" else source.get("secretName", source.get("name"))
        singular = {"configMap": "configmap", "secret": "secret"}[kind]
        optional = bool(source.get("optional"))
        try:
            obj = self.client.get(resource, object_name, pod["metadata"].get("namespace", "default"))
        except errors.NotFound:
            if optional:
                return {}
            raise VolumeError(f'MountVolume.SetUp failed for volume "{name}" : {singular} "{object_name}" '
                              "not found") from None
        data = self._data(kind, obj)
        items = source.get("items")
        if not items:
            return {key: (value, mode) for key, value in sorted(data.items())}
        files = {}
        for item in items:
            if item["key"] not in data:
                if optional:
                    continue
                raise VolumeError(f'MountVolume.SetUp failed for volume "{name}" : {singular} references '
                                  f"non-existent config key: {item['key']}")
            files[item["path"]] = (data[item["key"]], item.get("mode", mode))
        return files

    @staticmethod
    def _data(kind: str, obj: dict) -> dict[str, str]:
        if kind == "configMap":
            binary = {k: base64.b64decode(v).decode("utf-8", "replace") for k, v in (obj.get("binaryData") or {}).items()}
            return {**(obj.get("data") or {}), **binary}
        decoded = {k: base64.b64decode(v).decode("utf-8", "replace") for k, v in (obj.get("data") or {}).items()}
        return {**decoded, **(obj.get("stringData") or {})}

    def _field(self, pod: dict, item: dict) -> str:
        """A downwardAPI item's value: the same downward API the container environment uses (an unset limit
        is the node's allocatable)."""
        try:
            if "fieldRef" in item:
                return pod_field(pod, item["fieldRef"]["fieldPath"])
            ref = item["resourceFieldRef"]
            container = next((c for c in self._containers(pod) if c["name"] == ref.get("containerName")), None)
            return resource_field(container, ref["resource"], ref.get("divisor"),
                                  self.allocatable() if self.allocatable else None)
        except EnvError as error:
            raise VolumeError(str(error)) from None

    def _token(self, pod: dict, volume_name: str, expiration: int) -> str:
        """A TokenRequest for the pod's ServiceAccount, as the kubelet's token manager makes one."""
        account = (pod.get("spec") or {}).get("serviceAccountName") or "default"
        namespace = pod["metadata"].get("namespace", "default")
        key = (namespace, account, pod["metadata"].get("uid", ""), expiration)
        cached = self._tokens.get(key)
        if cached is not None and self.loop.now - cached[1] < TOKEN_REFRESH_FRACTION * expiration:
            return cached[0]
        try:
            answer = self.client.create_token(namespace, account, expiration)
        except errors.ApiError as error:
            raise VolumeError(f'MountVolume.SetUp failed for volume "{volume_name}" : failed to fetch token: '
                              f"{error}") from None
        self._tokens[key] = (answer["status"]["token"], self.loop.now)
        return answer["status"]["token"]

    def _write_atomically(self, root: str, files: dict[str, tuple[str, int]], *, tmpfs: bool) -> None:
        """AtomicWriter: the directory ends up holding exactly ``files``; unchanged files are left alone."""
        if tmpfs:
            self.host_fs.tmpfs.add(root)
        prefix = root + "/"
        wanted = {prefix + path: content for path, (content, _) in files.items()}
        for path in [p for p in self.host_fs if p.startswith(prefix) and p not in wanted and not p.endswith("/")]:
            del self.host_fs[path]
            self.host_fs.modes.pop(path, None)
        self.host_fs.setdefault(prefix, "")
        for path, (content, mode) in files.items():
            if self.host_fs.get(prefix + path) != content:
                self.host_fs[prefix + path] = content
            self.host_fs.modes[prefix + path] = mode
