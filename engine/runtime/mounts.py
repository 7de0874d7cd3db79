"""Bind mounts: how a container's filesystem view shows the node's directories (runc's mount namespace).

A container's filesystem is a dict, path -> content (a key ending in ``/`` is
a directory). The kubelet asks for volumes as CRI ``Mount`` records (a
``container_path`` backed by a ``host_path`` on the node); runc bind-mounts
them, so the container sees the node's files, live: two containers that
mount the same host directory share it (an emptyDir written by one is read by
the other), and a file the kubelet rewrites on the node (a configMap update)
appears in every container at once.

Here the node's filesystem is a ``NodeFilesystem`` (a dict owned by the
node's runtime, plus the set of directories mounted as tmpfs), and a
container's view is a ``MountedFS``: a mapping that sends each path under a
mount point to the node's dict (the longest mount point wins, as with
stacked mounts) and every other path to the container's own root. Promises:
writes under a ``readonly`` mount raise ``ReadOnlyFilesystem`` (EROFS) and
change nothing; bytes written under a tmpfs directory are charged to the
writing container's memory cgroup, as tmpfs pages are. Container log files (``logfiles``) read as their
text; ``open(path)`` hands the file object itself. What it never does:
decide what to mount (the kubelet's volume manager does) or copy files.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, MutableMapping

from engine.runtime.cri import Mount
from engine.runtime.logfiles import follow


class ReadOnlyFilesystem(OSError):
    """EROFS: a write under a read-only mount."""

    def __init__(self, path: str) -> None:
        super().__init__(30, "Read-only file system", path)
        self.path = path


class NodeFilesystem(dict):
    """The node's own files, path -> content; ``tmpfs`` lists the host directories backed by memory,
    ``modes`` the permission bits the kubelet set on files it wrote (0644 when absent)."""

    def __init__(self, *args: object, **kwargs: str) -> None:
        super().__init__(*args, **kwargs)
        self.tmpfs: set[str] = set()
        self.modes: dict[str, int] = {}

    def in_tmpfs(self, path: str) -> bool:
        return any(path == root or path.startswith(root.rstrip("/") + "/") for root in self.tmpfs)

    def tmpfs_bytes(self, root: str) -> int:
        """Bytes held in files under ``root`` (what ``du`` would say of an emptyDir)."""
        prefix = root.rstrip("/") + "/"
        return sum(len(content) for path, content in self.items() if path.startswith(prefix))


def _inside(path: str, mount_point: str) -> bool:
    return path == mount_point or path.startswith(mount_point + "/")


class MountedFS(MutableMapping[str, str]):
    """A container's filesystem view: its own root, with the node's directories bind-mounted over it."""

    def __init__(self, root: dict[str, str], node: dict[str, str], mounts: list[Mount],
                 charge: Callable[[int], None] | None = None) -> None:
        self.root = root
        self.node = node
        # Longest mount point first, so a nested mount shadows the one it sits in.
        self.mounts = sorted(mounts, key=lambda m: len(m.container_path.rstrip("/")), reverse=True)
        self.charge = charge
        """Called with the change in tmpfs bytes when a write lands in a memory-backed directory."""

    def _resolve(self, path: str) -> tuple[dict[str, str], str, Mount | None]:
        bare = path.rstrip("/")
        for mount in self.mounts:
            point = mount.container_path.rstrip("/")
            if _inside(bare, point):
                host = mount.host_path.rstrip("/") + path[len(point):]
                return self.node, host, mount
        return self.root, path, None

    def __getitem__(self, path: str) -> str:
        content = self.open(path)
        return content if isinstance(content, str) else str(content)

    def open(self, path: str) -> object:
        """The file itself: a str, or a node's ``LogFile`` (a symlink followed), which stays readable while held
        even after the path is removed, as an open descriptor does. Raises KeyError when nothing is there."""
        store, key, mount = self._resolve(path)
        if mount is not None and key.rstrip("/") == mount.host_path.rstrip("/") and path.endswith("/"):
            return ""   # the mount point itself is a directory
        return follow(store[key])

    def __contains__(self, path: object) -> bool:
        if not isinstance(path, str):
            return False
        store, key, mount = self._resolve(path)
        if mount is not None and path.endswith("/") and key.rstrip("/") == mount.host_path.rstrip("/"):
            return True
        return key in store

    def __setitem__(self, path: str, content: str) -> None:
        store, key, mount = self._resolve(path)
        if mount is not None and mount.readonly:
            raise ReadOnlyFilesystem(path)
        before = len(store.get(key, ""))
        store[key] = content
        self._charge(store, key, len(content) - before)

    def __delitem__(self, path: str) -> None:
        store, key, mount = self._resolve(path)
        if mount is not None and mount.readonly:
            raise ReadOnlyFilesystem(path)
        content = store.pop(key)
        self._charge(store, key, -len(content))

    def _charge(self, store: dict[str, str], key: str, delta: int) -> None:
        if delta and self.charge is not None and isinstance(store, NodeFilesystem) and store.in_tmpfs(key):
            self.charge(delta)

    def __iter__(self) -> Iterator[str]:
        points = [m.container_path.rstrip("/") for m in self.mounts]
        for path in list(self.root):
            if not any(_inside(path.rstrip("/"), point) for point in points):
                yield path
        seen: set[str] = set()
        for mount in self.mounts:
            point = mount.container_path.rstrip("/")
            host = mount.host_path.rstrip("/")
            for key in list(self.node):
                if not _inside(key.rstrip("/"), host):
                    continue
                path = point + key[len(host):]
                # A path under a deeper mount belongs to that mount, not to this one.
                if self._resolve(path)[2] is mount and path not in seen:
                    seen.add(path)
                    yield path
            if host not in self.node and point + "/" not in seen:   # a directory mount, not a file's
                seen.add(point + "/")
                yield point + "/"

    def __len__(self) -> int:
        return sum(1 for _ in self)
