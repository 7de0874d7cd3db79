"""The ReplicationController manager (pkg/controller/replication): the ReplicaSet controller run over v1 RCs.

Upstream keeps no second copy of the logic: ``NewReplicationManager`` builds a
``ReplicaSetController`` whose informer, lister and client are adapters that
convert each ReplicationController to a ReplicaSet and back
(``conversion.go``). This module does the same with the least machinery: a
subclass of ``engine.controllers.replicaset.ReplicaSetController`` that names
its kind, resource, queue and ServiceAccount (``replication-controller``,
bound to ``system:controller:replication-controller``) and reads the one field
whose shape differs, ``spec.selector``, which in core/v1 is a plain label map
(``app: web``) rather than a LabelSelector. Everything else (expectations,
slow-start batches, deletion ranking, adoption and release, status with
readyReplicas and availableReplicas, the ReplicaFailure condition, Events
``SuccessfulCreate`` / ``SuccessfulDelete``) is the ReplicaSet controller's
code, run unchanged.

What it never does: convert or rewrite the ReplicationController object; it
writes only its pods and its status, as the ReplicaSet controller does.
"""

from __future__ import annotations

from engine.api.selectors import LabelSelector, from_set
from engine.controllers.replicaset import ReplicaSetController


class ReplicationManager(ReplicaSetController):
    """Keeps the number of active pods owned by each ReplicationController at spec.replicas."""

    name = "replicationmanager"
    kind = "ReplicationController"
    resource = "replicationcontrollers"
    service_account = "replication-controller"

    def selector_of(self, rc: dict) -> LabelSelector:
        """``labels.SelectorFromSet(rc.Spec.Selector)`` (never empty: defaulting copies the template's labels)."""
        return from_set((rc.get("spec") or {}).get("selector") or {})
