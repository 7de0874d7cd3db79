"""The own-controller lab: the learner's CRD, their desired objects and their whole controller, in a cluster.

Interface:

- ``WEBSITE`` (group, version, kind, plural) and ``CONTROLLER_USER``: the lab's names;
- ``with_desired(current, desired)``: the current object with the desired fields written over it, or
  None when it already has them all (a tool the lab hands to learners: compare before you write);
- ``own_controller_cluster(crd=<the reference>, nodes=0, seed=0)``: a cluster (controller manager, and with nodes
  the scheduler and kubelets) where ``crd`` (default: the lab's reference Website CRD) is established and
  ``website-controller`` may do what a Website controller needs (a ClusterRole and its binding);
- ``run_controller(cluster, controller_class)``: the learner's class started as a component of the
  cluster, with its own client and informer factory; ``.stop()``, ``.restart()`` (a new instance: an
  empty cache), ``.writes()`` (its writes, from the API server's audit log);
- ``check_crd``, ``check_desired``, ``check_converges``, ``check_level_triggered``,
  ``check_idempotent`` (each raises a ``GradingFailure`` naming the mistake: an edge-triggered handler,
  a create without looking in the lister, missing ownerReferences, status not written through its
  subresource, a ``stop`` that does not stop).

A learner's exception never crashes the grader: it is reported with the learner's own line. Every
check runs a cluster for a few virtual minutes at most. Nothing here prints or writes to stderr.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from engine.api.frozen import thaw
from engine.components import ComponentContext
from engine.grading.feedback import describe_exception, fail

SEE = "course/13_objects_and_controllers.ipynb and the lab's instructions above this cell"
CONTROLLER_USER = "website-controller"


@dataclass(frozen=True)
class _Names:
    group: str = "course.example.com"
    version: str = "v1"
    kind: str = "Website"
    plural: str = "websites"

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}"

    @property
    def resource(self) -> str:
        return f"{self.plural}.{self.group}"


WEBSITE = _Names()

_CRD: dict = {
    "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
    "metadata": {"name": WEBSITE.resource},
    "spec": {"group": WEBSITE.group, "scope": "Namespaced",
             "names": {"plural": "websites", "singular": "website", "kind": "Website", "shortNames": ["ws"]},
             "versions": [{"name": "v1", "served": True, "storage": True, "subresources": {"status": {}},
                           "schema": {"openAPIV3Schema": {"type": "object", "properties": {
                               "spec": {"type": "object", "required": ["image"], "properties": {
                                   "image": {"type": "string", "minLength": 1},
                                   "replicas": {"type": "integer", "minimum": 0, "default": 1},
                                   "port": {"type": "integer", "minimum": 1, "maximum": 65535, "default": 80}}},
                               "status": {"type": "object", "properties": {
                                   "observedGeneration": {"type": "integer"},
                                   "readyReplicas": {"type": "integer"},
                                   "url": {"type": "string"}}}}}}}]}}

_RBAC: list[dict] = [
    {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": CONTROLLER_USER},
     "rules": [{"apiGroups": [WEBSITE.group], "resources": ["websites"], "verbs": ["get", "list", "watch"]},
               {"apiGroups": [WEBSITE.group], "resources": ["websites/status"], "verbs": ["update", "patch"]},
               {"apiGroups": ["apps"], "resources": ["deployments"],
                "verbs": ["get", "list", "watch", "create", "update", "patch", "delete"]},
               {"apiGroups": [""], "resources": ["services"],
                "verbs": ["get", "list", "watch", "create", "update", "patch", "delete"]},
               {"apiGroups": ["", "events.k8s.io"], "resources": ["events"], "verbs": ["create", "patch", "update"]}]},
    {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding", "metadata": {"name": CONTROLLER_USER},
     "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": CONTROLLER_USER},
     "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": CONTROLLER_USER}]},
]


# -- tools the lab hands to learners ------------------------------------------------------------

def _contains(current: Any, desired: Any) -> bool:
    """Every field of ``desired`` is in ``current`` with the same value (lists item by item)."""
    if isinstance(desired, dict):
        if not desired:
            return True
        return isinstance(current, dict) and all(_contains(current.get(k), v) for k, v in desired.items())
    if isinstance(desired, list):
        return isinstance(current, list) and len(current) == len(desired) and \
            all(_contains(c, d) for c, d in zip(current, desired))
    return current == desired


def _overlay(current: Any, desired: Any) -> Any:
    if isinstance(desired, dict) and isinstance(current, dict):
        merged = dict(current)
        for key, value in desired.items():
            merged[key] = _overlay(current.get(key), value)
        return merged
    return copy.deepcopy(desired)


def with_desired(current: dict, desired: dict) -> dict | None:
    """``current`` (a cached object) with ``desired``'s labels, ownerReferences and spec written over it.

    Returns a new dict to send with ``client.update``, or None when ``current`` already has every field
    ``desired`` asks for: then there is nothing to write. Fields the API server defaulted
    (``strategy``, ``protocol``...) are kept; a list in ``desired`` replaces the current list.
    """
    wanted = {"metadata": {key: desired["metadata"][key] for key in ("labels", "ownerReferences")
                           if key in desired.get("metadata", {})}, "spec": desired.get("spec", {})}
    if _contains(current, wanted):
        return None
    return _overlay(thaw(current), wanted)


# -- the cluster and the learner's controller in it ---------------------------------------------------

_REFERENCE = object()


def own_controller_cluster(crd: Any = _REFERENCE, *, nodes: int = 0, seed: int = 0) -> Any:
    """A cluster with the Website CRD (``crd``, or the lab's reference) established and the controller's RBAC."""
    if crd is not _REFERENCE and not isinstance(crd, dict):
        fail("the CustomResourceDefinition should be a manifest (a dict)", got=crd, see=SEE)
    import dataclasses
    from engine.components import COMPONENTS
    from engine.grading.integrity import fresh_cluster

    specs = [spec for spec in COMPONENTS if nodes or spec.role == "control-plane"]
    if nodes:
        from engine.kubelet import KUBELET
        from engine.scheduler import SCHEDULER
        names = {spec.name for spec in specs}
        specs = [s for s in specs if s.name != "kubelet"] + \
            [s for s in (SCHEDULER,) if s.name not in names] + [KUBELET]
    cluster = fresh_cluster(nodes=nodes, seed=seed, components=[dataclasses.replace(spec) for spec in specs])
    cluster.apply(_RBAC)
    cluster.apply(copy.deepcopy(_CRD if crd is _REFERENCE else crd))
    cluster.run(1)
    return cluster


class RunningController:
    """The learner's controller class running in a cluster, as the component ``website-controller``."""

    def __init__(self, cluster: Any, controller_class: type) -> None:
        self.cluster = cluster
        self.controller_class = controller_class
        self.context: ComponentContext | None = None
        self.controller: Any = None
        self.start()

    def start(self) -> None:
        """A new instance with a fresh client and informer factory (an empty cache), then ``start()``."""
        self.context = ComponentContext(name=CONTROLLER_USER, client=self.cluster.client(CONTROLLER_USER),
                                        loop=self.cluster.loop)
        try:
            self.controller = self.controller_class(self.context)
            self.controller.start()
        except Exception as error:
            fail(f"starting your controller failed: {describe_exception(error)}", see=SEE)

    def stop(self) -> None:
        try:
            self.controller.stop()
        except Exception as error:
            fail(f"your controller's stop() failed: {describe_exception(error)}", see=SEE)

    def restart(self) -> None:
        """What a crash and a restart do: the old instance stops, a new one starts from nothing."""
        self.stop()
        self.start()

    def sync(self, key: str) -> None:
        """Your controller's ``sync(key)`` called directly, as its work queue would call it; what it raises is feedback."""
        try:
            self.controller.sync(key)
        except Exception as error:
            fail(f"sync({key!r}) raised {describe_exception(error)}: a sync reads the current state (your listers) and "
                 "only writes what differs, so running it again is always safe", see=SEE)

    def drop_watches(self, seconds: float) -> None:
        """Every watch of the controller's informers drops for ``seconds`` (a network partition)."""
        for informer in self.context.informers.informers.values():
            informer.reflector.disconnect(seconds)

    def writes(self, since: int = 0) -> list[Any]:
        """The controller's writes (audit events) after audit id ``since``."""
        return [event for event in self.cluster.apiserver.audit.since(since)
                if event.user == CONTROLLER_USER and event.verb in ("create", "update", "patch", "delete")]

    def audit_mark(self) -> int:
        events = list(self.cluster.apiserver.audit)
        return events[-1].audit_id if events else 0


def run_controller(cluster: Any, controller_class: type) -> RunningController:
    """Start ``controller_class(context)`` in ``cluster`` as ``website-controller``; returns its handle."""
    return RunningController(cluster, controller_class)


# -- the reference desired state ----------------------------------------------------------------------

def _owner(website: dict) -> dict:
    meta = website["metadata"]
    return {"apiVersion": WEBSITE.api_version, "kind": WEBSITE.kind, "name": meta["name"], "uid": meta["uid"],
            "controller": True, "blockOwnerDeletion": True}


def _deployment(website: dict) -> dict:
    meta, spec = website["metadata"], website["spec"]
    labels = {"app": meta["name"]}
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": meta["name"], "namespace": meta["namespace"], "labels": labels,
                         "ownerReferences": [_owner(website)]},
            "spec": {"replicas": spec.get("replicas", 1), "selector": {"matchLabels": labels},
                     "template": {"metadata": {"labels": labels}, "spec": {"containers": [
                         {"name": "web", "image": spec["image"],
                          "ports": [{"containerPort": spec.get("port", 80)}]}]}}}}


def _service(website: dict) -> dict:
    meta, spec = website["metadata"], website["spec"]
    return {"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": meta["name"], "namespace": meta["namespace"], "labels": {"app": meta["name"]},
                         "ownerReferences": [_owner(website)]},
            "spec": {"selector": {"app": meta["name"]},
                     "ports": [{"port": spec.get("port", 80), "targetPort": spec.get("port", 80)}]}}


def url_of(website: dict) -> str:
    """Where the Website answers inside the cluster: its Service's DNS name and port."""
    meta = website["metadata"]
    return f"http://{meta['name']}.{meta['namespace']}.svc.cluster.local:{website['spec'].get('port', 80)}"


__all__ = ["CONTROLLER_USER", "RunningController", "WEBSITE", "own_controller_cluster", "run_controller",
           "url_of", "with_desired"]
