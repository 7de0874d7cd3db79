"""Dispatch: from a kind to its checks, as each resource's REST strategy picks them in the API server.

``validate(obj, old=None)`` first type-checks the object (``decoder``), then
runs the kind's validator from the table below on the cleaned copy, with the
cleaned ``old`` for an update, so a validator sees only well-typed fields. A
Service also gets the API server's node port range. A kind without a
validator gets the metadata checks every object gets. ``validate`` is the
only function the API server calls; it never raises on malformed input and
never changes ``obj`` or ``old``.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

from engine.api.kinds import REGISTRY
from engine.api.validation.apiextensions import validate_crd
from engine.api.validation.autoscaling import validate_hpa
from engine.api.validation.batch import validate_cron_job, validate_job
from engine.api.validation.cluster import (
    validate_event, validate_lease, validate_namespace, validate_node, validate_plain_event, validate_service_account,
)
from engine.api.validation.config import validate_config_map, validate_secret
from engine.api.validation.decoder import plainly_typed_event, type_checked
from engine.api.validation.fields import Cause, Errors
from engine.api.validation.formats import name_is_dns_subdomain
from engine.api.validation.ingress import validate_ingress, validate_ingress_class
from engine.api.validation.meta import validate_metadata
from engine.api.validation.networking import (
    validate_endpoint_slice, validate_endpoints, validate_network_policy, validate_service,
)
from engine.api.validation.pods import validate_pod
from engine.api.validation.policy import validate_pdb
from engine.api.validation.rbac import validate_role, validate_role_binding
from engine.api.validation.scheduling import validate_priority_class
from engine.api.validation.resources import validate_limit_range, validate_resource_quota
from engine.api.validation.storage import validate_pv, validate_pvc, validate_storage_class
from engine.api.validation.workloads import (
    validate_controller_revision, validate_daemon_set, validate_deployment, validate_replica_set, validate_stateful_set,
    validate_replication_controller,
)

_Validator = Callable[[dict, "dict | None", Errors], None]
_VALIDATORS: dict[str, _Validator] = {
    "Pod": validate_pod,
    "Deployment": validate_deployment,
    "ReplicaSet": validate_replica_set,
    "ReplicationController": validate_replication_controller,
    "StatefulSet": validate_stateful_set,
    "DaemonSet": validate_daemon_set,
    "Job": validate_job,
    "CronJob": validate_cron_job,
    "Namespace": validate_namespace,
    "Node": validate_node,
    "ConfigMap": validate_config_map,
    "Secret": validate_secret,
    "PersistentVolume": validate_pv,
    "PersistentVolumeClaim": validate_pvc,
    "LimitRange": validate_limit_range,
    "ResourceQuota": validate_resource_quota,
    "Endpoints": validate_endpoints,
    "ServiceAccount": validate_service_account,
    "Event": validate_event,
    "ControllerRevision": validate_controller_revision,
    "Role": validate_role,
    "ClusterRole": validate_role,
    "RoleBinding": validate_role_binding,
    "ClusterRoleBinding": validate_role_binding,
    "Lease": validate_lease,
    "EndpointSlice": validate_endpoint_slice,
    "NetworkPolicy": validate_network_policy,
    "Ingress": validate_ingress,
    "IngressClass": validate_ingress_class,
    "StorageClass": validate_storage_class,
    "HorizontalPodAutoscaler": validate_hpa,
    "PodDisruptionBudget": validate_pdb,
    "PriorityClass": validate_priority_class,
    "CustomResourceDefinition": validate_crd,
}


def validate(obj: Mapping[str, Any], old: Mapping[str, Any] | None = None, *,
             node_port_range: tuple[int, int] = (30000, 32767)) -> list[Cause]:
    """The causes the API server would give for creating ``obj`` (or updating ``old`` to ``obj``).

    An empty list means the object is valid. Unknown kinds get the metadata
    checks every object gets (a DNS subdomain name, valid labels and annotations).
    ``node_port_range`` is the API server's ``--service-node-port-range``.
    Never raises on malformed input: wrong JSON types become causes.
    """
    errs = Errors()
    if not isinstance(obj, dict):
        errs.type_invalid("", obj, "object")
        return list(errs)
    kind = obj.get("kind") if isinstance(obj.get("kind"), str) else ""
    if old is None and kind == "Event" and plainly_typed_event(obj):
        # The Event checks read a null as absent and never read count: the object reads as its typed copy.
        validate_plain_event(obj, errs)
        return list(errs)
    clean = type_checked(obj, kind, errs)
    clean_old = type_checked(old, kind, Errors()) if isinstance(old, dict) else None
    if kind == "Service":
        validate_service(clean, clean_old, errs, node_port_range)
        return list(errs)
    validator = _VALIDATORS.get(kind)
    if validator is not None:
        validator(clean, clean_old, errs)
    else:
        found = REGISTRY.find(kind) if kind else None
        namespaced = found.namespaced if found is not None else bool((clean.get("metadata") or {}).get("namespace"))
        validate_metadata(errs, clean, clean_old, name_is_dns_subdomain, namespaced)
    return list(errs)
