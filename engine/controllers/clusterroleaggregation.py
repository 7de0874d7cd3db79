"""The clusterrole-aggregation controller (``pkg/controller/clusterroleaggregation``): aggregated ClusterRoles.

A ClusterRole with an ``aggregationRule`` owns no rules of its own: this controller keeps its ``rules`` equal to
the union of the rules of the ClusterRoles its ``clusterRoleSelectors`` select (``aggregate_cluster_role``:
selector by selector, the matching roles in name order, itself left out, no rule twice). That is how ``admin``,
``edit`` and ``view`` grow when a ClusterRole labelled ``rbac.authorization.k8s.io/aggregate-to-view: "true"``
(a CRD's, metrics-server's ``system:aggregated-metrics-reader``) appears, and shrink when it goes; ``view`` is
itself labelled aggregate-to-edit and ``edit`` aggregate-to-admin, so a change flows up the chain one write at a
time, each write being one more ClusterRole event.

As upstream, any ClusterRole event (add, update, delete) queues every ClusterRole that has an aggregationRule:
the set is small and nobody knows which selector a label change affects. The sync is level-triggered: it
recomputes from the informer's cache and writes only when the result differs (semantically, ``same_rules``)
from what is stored, so a hand edit of an aggregated role's rules is put back on its next sync.

Upstream writes with server-side apply (field manager ``clusterrole-aggregation-controller``) and falls back to
an update when the server answers 415; this engine's API server has no server-side apply, so the controller
updates the cached role with the new rules (a stale cache is a 409 Conflict, retried through the queue). It
writes as the ServiceAccount ``kube-system/clusterrole-aggregation-controller``, whose bootstrap role allows
escalate, get, list, watch, update and patch on clusterroles, and records no events.
"""

from __future__ import annotations

import logging

from engine.api import thaw
from engine.apiserver.rbac import aggregate_cluster_role, same_rules
from engine.client.workqueue import WorkQueue, Workers, run_workers
from engine.components import ComponentContext

log = logging.getLogger(__name__)

WORKERS = 5
"""kube-controller-manager runs this controller with five workers (startClusterRoleAggregationController)."""


class ClusterRoleAggregationController:
    """Keeps the rules of every ClusterRole with an aggregationRule equal to what its selectors select."""

    name = "clusterrole-aggregation"
    service_account = "clusterrole-aggregation-controller"

    def __init__(self, context: ComponentContext) -> None:
        self.client = context.client
        self.queue = WorkQueue(context.loop, name="ClusterRoleAggregator")
        self.cluster_roles = context.informers.informer("clusterroles")
        self.cluster_roles.add_event_handler(on_add=lambda _role: self._enqueue(),
                                             on_update=lambda _old, _new: self._enqueue(),
                                             on_delete=lambda _role: self._enqueue())
        self.workers: Workers | None = None

    def _enqueue(self) -> None:
        """Queue every ClusterRole that aggregates: which of them an event affects is not worth working out."""
        for role in self.cluster_roles.lister.list():
            if role.get("aggregationRule") is not None:
                self.queue.add_key(role)

    def start(self) -> None:
        self.workers = run_workers(self.queue, self.sync, WORKERS)

    def stop(self) -> None:
        if self.workers is not None:
            self.workers.stop()

    def sync(self, key: str) -> None:
        """syncClusterRole: recompute the role's rules from the cache and write them if they differ."""
        role = self.cluster_roles.lister.get(key)
        if role is None or role.get("aggregationRule") is None:
            return
        rules = aggregate_cluster_role(role, self.cluster_roles.lister.list())
        if same_rules(rules, role.get("rules")):
            return
        updated = thaw(role)
        updated["rules"] = thaw(rules)
        self.client.update(updated)
        log.debug("clusterrole-aggregation: %s now has %d rules", key, len(rules))
