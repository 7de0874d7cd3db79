"""Per-kind create and update rules (the ``RESTCreateStrategy`` / ``RESTUpdateStrategy`` of each registry).

What the real API server does to an object besides storing it:

- on create: ``status`` is reset for kinds whose status has its own
  subresource (a client cannot create a Deployment that claims ready
  replicas); a Pod starts ``Pending`` with its QoS class; a Namespace starts
  ``Active``; ``metadata.generation`` starts at 1;
- on create of a Job: the selector and labels that tie its pods to it
  (``batch.kubernetes.io/controller-uid``) are generated;
- on update of a Service: the ClusterIP and node ports already allocated
  are kept when the update leaves them out;
- on update of the main resource: ``status`` is kept as stored (only the
  status subresource changes it), and ``generation`` goes up by one only
  when the spec changed: that is how controllers tell a new desired state
  (``observedGeneration`` lags behind) from a status write;
- on update of the status subresource: everything but ``status`` is kept.
"""

from __future__ import annotations

from engine.api.defaults import generate_job_selector
from engine.api.frozen import thaw
from engine.api.kinds import Kind
from engine.apiserver.apiextensions.kind import CustomResourceKind
from engine.api.qos import qos_class
from engine.apiserver.allocators import needs_health_check

# Kinds whose status a client may set on create (the kubelet registers a Node with its status).
_STATUS_ON_CREATE = {"Node", "Event", "Lease"}


def _spec_of(kind: Kind, obj: dict) -> object:
    """The part of an object whose change bumps generation."""
    if kind.has_spec:
        return obj.get("spec")
    return {key: value for key, value in obj.items() if key not in ("metadata", "status", "kind", "apiVersion")}


def prepare_for_create(kind: Kind, obj: dict) -> None:
    if "status" in kind.subresources and kind.kind not in _STATUS_ON_CREATE:
        obj.pop("status", None)
    if kind.has_spec or isinstance(kind, CustomResourceKind):
        obj["metadata"]["generation"] = 1
    if kind.kind == "Pod":
        obj["status"] = {"phase": "Pending", "qosClass": qos_class(obj)}
    elif kind.kind == "Namespace":
        obj["status"] = {"phase": "Active"}
    elif kind.kind in ("PersistentVolume", "PersistentVolumeClaim"):
        obj["status"] = {"phase": "Pending"}
    elif kind.kind == "PodDisruptionBudget":     # the zero PodDisruptionBudgetStatus, as v1 serialises it
        obj["status"] = {"currentHealthy": 0, "desiredHealthy": 0, "disruptionsAllowed": 0, "expectedPods": 0}
    elif kind.kind == "Ingress":                # the zero IngressStatus, as v1 serialises it
        obj["status"] = {"loadBalancer": {}}
    elif kind.kind == "Job":
        generate_job_selector(obj, obj["metadata"]["uid"])


def prepare_for_update(kind: Kind, new: dict, old: dict) -> None:
    """Main-resource update: keep the stored status, bump generation when the spec changed."""
    if "status" in kind.subresources and kind.kind not in ("Node",):
        if "status" in old:
            new["status"] = thaw(old["status"])
        else:
            new.pop("status", None)
    if kind.kind == "Service":
        _keep_allocations(new, old)
    generation = old["metadata"].get("generation")
    if generation is not None:
        changed = _spec_of(kind, new) != _spec_of(kind, old)
        new["metadata"]["generation"] = generation + 1 if changed else generation


def prepare_for_status_update(kind: Kind, new: dict, old: dict) -> dict:
    """Status update: the stored object with only its status replaced."""
    merged = thaw(old)
    merged["status"] = thaw(new.get("status", {}))
    merged["metadata"]["resourceVersion"] = new["metadata"].get("resourceVersion",
                                                                old["metadata"].get("resourceVersion"))
    return merged


def _keep_allocations(new: dict, old: dict) -> None:
    """An update that leaves out the ClusterIP, a node port or the health check node port keeps the allocated
    one; a type that needs no node ports drops the ones (and allocateLoadBalancerNodePorts,
    externalTrafficPolicy) it kept unchanged, and a health check node port the Service no longer needs is
    cleared (dropTypeDependentFields)."""
    new_spec, old_spec = new.setdefault("spec", {}), old.get("spec") or {}
    for field in ("clusterIP", "clusterIPs", "ipFamilies"):
        if not new_spec.get(field) and old_spec.get(field):
            new_spec[field] = thaw(old_spec[field])
    old_ports = {(port.get("port"), port.get("protocol", "TCP")): port.get("nodePort")
                 for port in old_spec.get("ports") or []}
    if new_spec.get("type") in ("NodePort", "LoadBalancer"):
        for port in new_spec.get("ports") or []:
            kept = old_ports.get((port.get("port"), port.get("protocol", "TCP")))
            if not port.get("nodePort") and kept:
                port["nodePort"] = kept
    elif old_spec.get("type") in ("NodePort", "LoadBalancer") and \
            all(port.get("nodePort") in (None, 0, old_ports.get((port.get("port"), port.get("protocol", "TCP"))))
                for port in new_spec.get("ports") or []):
        for port in new_spec.get("ports") or []:
            port.pop("nodePort", None)
    external = ("NodePort", "LoadBalancer")
    for field, types in (("allocateLoadBalancerNodePorts", ("LoadBalancer",)), ("externalTrafficPolicy", external)):
        if old_spec.get("type") in types and new_spec.get("type") not in types \
                and new_spec.get(field) == old_spec.get(field):
            new_spec.pop(field, None)
    needs_before, needs_now = needs_health_check(old_spec), needs_health_check(new_spec)
    if needs_before and needs_now and not new_spec.get("healthCheckNodePort"):
        new_spec["healthCheckNodePort"] = old_spec.get("healthCheckNodePort")
    elif needs_before and not needs_now and new_spec.get("healthCheckNodePort") == old_spec.get("healthCheckNodePort"):
        new_spec.pop("healthCheckNodePort", None)       # dropTypeDependentFields: no longer needed
