"""The ``%kubectl`` notebook magic: kubectl commands in a cell, printed as notebook output.

Interface:

- ``%load_ext engine.kubectl`` registers the magic (``load_ipython_extension``).
- ``%kubectl get pods -o wide``: a line magic.
- ``%%kubectl apply -f -``: a cell magic; the cell body is the standard input,
  so a manifest can be written right in the cell.
- ``use(cluster)``: the cluster the magic talks to from now on.
- ``register(cluster)``: called by ``Cluster.__init__``; remembers the most
  recently created cluster through a weak reference, so the magic works with
  no set-up and never keeps a discarded cluster alive.

The magic prints the command's text to standard output (the notebook shows
it) and never writes to stderr, even for errors: nbgrader scores a cell that
writes to stderr as zero. This module holds the one piece of process-wide
state in the engine (which cluster the magic uses), because a magic has no
other place to keep it.
"""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from engine.cluster import Cluster

_latest: "weakref.ref[Cluster] | None" = None
_chosen: "Cluster | None" = None

NO_CLUSTER = ("error: no cluster to talk to: create one with engine.Cluster(), or choose one with "
              "engine.kubectl.magic.use(cluster)\n")


def register(cluster: "Cluster") -> None:
    """Remember ``cluster`` as the latest one created (weakly)."""
    global _latest
    _latest = weakref.ref(cluster)


def use(cluster: "Cluster | None") -> None:
    """Make the magic talk to ``cluster`` (``None`` goes back to the latest cluster created)."""
    global _chosen
    _chosen = cluster


def current() -> "Cluster | None":
    """The cluster the magic talks to: the one chosen with ``use``, else the latest created."""
    if _chosen is not None:
        return _chosen
    return _latest() if _latest is not None else None


def kubectl_text(line: str, cell: str | None = None) -> str:
    """What ``%kubectl line`` (or ``%%kubectl line`` with ``cell``) shows."""
    from engine.kubectl.cli import run
    cluster = current()
    if cluster is None:
        return NO_CLUSTER
    return run(cluster, line, stdin=cell)


def kubectl(line: str, cell: str | None = None) -> None:
    """The magic itself: print the command's output."""
    print(kubectl_text(line, cell), end="")


def load_ipython_extension(ipython: Any) -> None:
    """Register ``%kubectl`` and ``%%kubectl`` in an IPython shell."""
    ipython.register_magic_function(kubectl, magic_kind="line_cell", magic_name="kubectl")
