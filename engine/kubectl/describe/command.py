"""``kubectl describe`` itself: pick the describer for each kind and describe what the user named.

Interface: ``DESCRIBERS`` (Kind name to describer), ``describe_object(kind, obj,
client, now)`` and ``run_describe(invocation)``. Kinds missing from the table
get the generic describer.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine.api.kinds import Kind
from engine.kubectl.describe.generic import describe_generic
from engine.kubectl.describe.ingress import describe_ingress, describe_ingressclass
from engine.kubectl.describe.network import describe_networkpolicy
from engine.kubectl.describe.pods import describe_node, describe_pod
from engine.kubectl.describe.resources import (describe_binding, describe_configmap, describe_endpoints,
                                               describe_endpointslice,
                                               describe_limitrange, describe_namespace, describe_quota,
                                               describe_role, describe_secret, describe_service,
                                               describe_serviceaccount)
from engine.kubectl.describe.storage import describe_pv, describe_pvc, describe_storageclass
from engine.kubectl.describe.workloads import (describe_cronjob, describe_daemonset, describe_deployment,
                                               describe_hpa, describe_job, describe_replicaset,
                                               describe_replicationcontroller,
                                               describe_statefulset)
from engine.kubectl.describe.writer import Describer

if TYPE_CHECKING:
    from engine.client.client import Client
    from engine.kubectl.cli import Invocation


DESCRIBERS: dict[str, Describer] = {
    "Pod": describe_pod, "Node": describe_node, "Deployment": describe_deployment,
    "ReplicaSet": describe_replicaset, "ReplicationController": describe_replicationcontroller,
    "Service": describe_service, "Namespace": describe_namespace,
    "ConfigMap": describe_configmap, "Secret": describe_secret, "ServiceAccount": describe_serviceaccount,
    "DaemonSet": describe_daemonset, "StatefulSet": describe_statefulset, "Job": describe_job,
    "Role": describe_role, "ClusterRole": describe_role, "RoleBinding": describe_binding,
    "ClusterRoleBinding": describe_binding, "CronJob": describe_cronjob, "HorizontalPodAutoscaler": describe_hpa,
    "Endpoints": describe_endpoints, "EndpointSlice": describe_endpointslice, "ResourceQuota": describe_quota, "LimitRange": describe_limitrange,
    "NetworkPolicy": describe_networkpolicy, "Ingress": describe_ingress, "IngressClass": describe_ingressclass,
    "PersistentVolumeClaim": describe_pvc, "PersistentVolume": describe_pv, "StorageClass": describe_storageclass,
}


def describe_object(kind: Kind, obj: dict, client: "Client", now: float) -> str:
    """The describe text of one object (ends with a newline)."""
    return DESCRIBERS.get(kind.kind, describe_generic)(obj, client, now)


def run_describe(invocation: "Invocation") -> str:
    """``kubectl describe``: several objects are separated by a blank line, as kubectl does."""
    from engine.kubectl.cli import KubectlError, fetch, resolve_targets
    if not invocation.args:
        raise KubectlError("You must specify the type of resource to describe. Use \"kubectl api-resources\" for "
                           "a complete list of supported resources.")
    texts: list[str] = []
    problems: list[str] = []
    for kind, names in resolve_targets(invocation.args):
        if names:
            # describe matches names by prefix when no exact object exists, as kubectl does.
            objects, missing = fetch(invocation, kind, names)
            if missing:
                listed, _ = fetch(invocation, kind, [])
                for name, problem in zip([n for n in names if n not in {o['metadata']['name'] for o in objects}],
                                         missing):
                    matches = [o for o in listed if o["metadata"]["name"].startswith(name)]
                    if matches:
                        objects.extend(matches)
                    else:
                        problems.append(problem)
        else:
            objects, _ = fetch(invocation, kind, [])
        for obj in objects:
            texts.append(describe_object(kind, obj, invocation.client, invocation.now))
    if not texts and not problems:
        if invocation.all_namespaces:
            return "No resources found"
        return f"No resources found in {invocation.namespace} namespace."
    return "\n\n".join(texts) + "".join(problem + "\n" for problem in problems)
