"""Who talked to kube-apiserver lately: request counts per drawn component, from the audit log.

``request_counts(cluster, seconds)`` counts the audit entries of the last
``seconds`` of virtual time by the box of the architecture diagram that made
them (``node-1/kubelet`` for ``system:node:node-1``, ``kubectl`` for the
admin, ``kube-scheduler`` for ``system:kube-scheduler``), and the writes
that reached etcd (distinct revisions made). Users that match no drawn
component are counted under their own name and simply not drawn.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine.viz._objects import component_of

if TYPE_CHECKING:
    from engine.cluster import Cluster

WRITE_VERBS = ("create", "update", "patch", "delete", "deletecollection")


def box_for_user(cluster: "Cluster", user: str) -> str:
    """The id of the diagram box whose component authenticates as ``user``."""
    component = component_of(user, cluster)
    if component is not None:
        name, node = component
        return f"{node}/{name}" if node else name
    if user == getattr(getattr(cluster, "admin", None), "name", "kubernetes-admin"):
        return "kubectl"
    if user.startswith("system:serviceaccount:kube-system:") and user.endswith("-controller"):
        return "kube-controller-manager"      # --use-service-account-credentials: one identity per controller
    if user.startswith("system:") and not user.startswith("system:serviceaccount:"):
        return user[len("system:"):]
    return user


def request_counts(cluster: "Cluster", seconds: float) -> tuple[dict[str, int], int]:
    """(requests per box id, etcd writes) over the last ``seconds`` of virtual time."""
    since = cluster.now - seconds
    counts: dict[str, int] = {}
    revisions: set[int] = set()
    previous: int | None = None
    recent = []
    for entry in reversed(cluster.apiserver.audit.entries):
        if entry.time < since:
            previous = entry.revision
            break
        recent.append(entry)
    for entry in reversed(recent):
        box = box_for_user(cluster, entry.user)
        counts[box] = counts.get(box, 0) + 1
        if entry.verb in WRITE_VERBS and entry.code < 300 and (previous is None or entry.revision > previous):
            revisions.add(entry.revision)
        previous = entry.revision
    return counts, len(revisions)
