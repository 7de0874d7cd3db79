"""Container log files on the node: what containerd writes under /var/log/pods and the kubelet links from
/var/log/containers.

containerd writes each container's stdout and stderr to the file the kubelet named in the CRI
(``/var/log/pods/<namespace>_<pod>_<uid>/<container>/<restart>.log``), one CRI record per line:
``<RFC3339Nano time> <stdout|stderr> <P|F> <text>``. The kubelet then creates the legacy symlink
``/var/log/containers/<pod>_<namespace>_<container>-<containerID>.log`` to it, the path node log agents
(fluentd, fluent-bit) tail because the file name carries the pod, namespace and container.

In the node's filesystem (``NodeFilesystem``, path -> content) such a file is a ``LogFile``: append-only
lines (the very list containerd appends to), an inode number, and byte offsets, so that a tail reads from
where it stopped without copying the whole file. A ``Symlink`` names its target file. Reading either
through a container's mounts gives the text (``cat`` works); ``MountedFS.open`` gives the file object, the
way an open descriptor keeps a deleted file readable. Offsets count characters of the text (the
programs write ASCII). What it never does: rotate files (the kubelet's ``containerLogMaxSize`` rotation is
not modelled) or write anything itself.
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Iterator

FIRST_INODE = 1_048_577


def inodes() -> Iterator[int]:
    """One node's inode numbers for new files (a per-node source, so two clusters never share one)."""
    return itertools.count(FIRST_INODE)


class LogFile:
    """An append-only text file of lines; ``lines`` is shared with its writer, which appends to it."""

    def __init__(self, path: str, inode: int, lines: list[str] | None = None) -> None:
        self.path = path
        self.inode = inode
        self.lines: list[str] = lines if lines is not None else []
        self._ends: list[int] = []         # _ends[i]: offset just past line i's newline

    def _index(self) -> None:
        end = self._ends[-1] if self._ends else 0
        for line in self.lines[len(self._ends):]:
            end += len(line) + 1
            self._ends.append(end)

    @property
    def size(self) -> int:
        """Its length in characters (``stat``'s size)."""
        self._index()
        return self._ends[-1] if self._ends else 0

    def read(self, offset: int = 0) -> str:
        """The text from ``offset`` to the end (a ``read`` after ``lseek(offset)``)."""
        self._index()
        if offset <= 0:
            first, skip = 0, offset
        else:
            first = bisect.bisect_right(self._ends, offset)
            skip = offset - (self._ends[first - 1] if first else 0)
        text = "".join(line + "\n" for line in self.lines[first:])
        return text[max(skip, 0):]

    def __len__(self) -> int:
        return self.size

    def __str__(self) -> str:
        return self.read(0)

    def __repr__(self) -> str:
        return f"LogFile({self.path!r}, inode={self.inode}, size={self.size})"


class Symlink:
    """A symbolic link to a file: reads follow it; its own size is its target path's length, as lstat says."""

    def __init__(self, target: LogFile) -> None:
        self.target = target

    def __len__(self) -> int:
        return len(self.target.path)

    def __str__(self) -> str:
        return str(self.target)

    def __repr__(self) -> str:
        return f"Symlink(-> {self.target.path!r})"


def follow(content: object) -> object:
    """What reading a path gives: a symlink's target, else the content itself."""
    return content.target if isinstance(content, Symlink) else content


def dangling(host_fs: dict, link: Symlink) -> bool:
    """The link's target is no longer in ``host_fs`` (its file was removed)."""
    return host_fs.get(link.target.path) is not link.target
