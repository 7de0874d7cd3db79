"""The table of printers and the human-readable table itself.

Interface: ``PRINTERS`` (Kind name to column names, wide column names and row
function, the columns as the Go TableColumnDefinitions spell them),
``columns_and_rows(kind, objects, now, wide)``, ``resource_prefix(kind)``
(``deployment.apps``) and ``render_table(...)``: the rows aligned as kubectl's
tabwriter aligns them, with the optional NAMESPACE and LABELS columns and
``kind/name`` names when several kinds are printed together.
"""

from __future__ import annotations

from engine.api.kinds import Kind
from engine.apiserver.apiextensions.kind import CustomResourceKind
from engine.kubectl.printers import custom
from engine.kubectl.printers.cells import Row, RowFunction, dig, format_labels
from engine.kubectl.printers.network import (endpoints_row, endpointslice_row, ingress_row, ingressclass_row,
                                             netpol_row, service_row)
from engine.kubectl.printers.pods import node_row, pod_row
from engine.kubectl.printers.resources import (binding_row, configmap_row, created_at_row, default_row, event_row,
                                               lease_row, namespace_row, pdb_row, priorityclass_row, pv_row, pvc_row,
                                               quota_row, revision_row, secret_row, serviceaccount_row,
                                               storageclass_row)
from engine.kubectl.printers.workloads import (cronjob_row, daemonset_row, deployment_row, hpa_row, job_row,
                                               replicaset_row, replicationcontroller_row, statefulset_row)
from engine.kubectl.tabwriter import format_tabbed


PRINTERS: dict[str, tuple[list[str], list[str], RowFunction]] = {
    "Pod": (["Name", "Ready", "Status", "Restarts", "Age"], ["IP", "Node", "Nominated Node", "Readiness Gates"],
            pod_row),
    "Node": (["Name", "Status", "Roles", "Age", "Version"],
             ["Internal-IP", "External-IP", "OS-Image", "Kernel-Version", "Container-Runtime"], node_row),
    "Deployment": (["Name", "Ready", "Up-to-date", "Available", "Age"], ["Containers", "Images", "Selector"],
                   deployment_row),
    "ReplicaSet": (["Name", "Desired", "Current", "Ready", "Age"], ["Containers", "Images", "Selector"],
                   replicaset_row),
    "ReplicationController": (["Name", "Desired", "Current", "Ready", "Age"], ["Containers", "Images", "Selector"],
                              replicationcontroller_row),
    "StatefulSet": (["Name", "Ready", "Age"], ["Containers", "Images"], statefulset_row),
    "DaemonSet": (["Name", "Desired", "Current", "Ready", "Up-to-date", "Available", "Node Selector", "Age"],
                  ["Containers", "Images", "Selector"], daemonset_row),
    "Job": (["Name", "Status", "Completions", "Duration", "Age"], ["Containers", "Images", "Selector"], job_row),
    "CronJob": (["Name", "Schedule", "Timezone", "Suspend", "Active", "Last Schedule", "Age"],
                ["Containers", "Images", "Selector"], cronjob_row),
    "Service": (["Name", "Type", "Cluster-IP", "External-IP", "Port(s)", "Age"], ["Selector"], service_row),
    "Endpoints": (["Name", "Endpoints", "Age"], [], endpoints_row),
    "EndpointSlice": (["Name", "AddressType", "Ports", "Endpoints", "Age"], [], endpointslice_row),
    "ConfigMap": (["Name", "Data", "Age"], [], configmap_row),
    "Secret": (["Name", "Type", "Data", "Age"], [], secret_row),
    "Namespace": (["Name", "Status", "Age"], [], namespace_row),
    "ServiceAccount": (["Name", "Secrets", "Age"], [], serviceaccount_row),
    "Event": (["Last Seen", "Type", "Reason", "Object", "Message"], [], event_row),
    "Lease": (["Name", "Holder", "Age"], [], lease_row),
    "Role": (["Name", "Created At"], [], created_at_row),
    "ClusterRole": (["Name", "Created At"], [], created_at_row),
    "RoleBinding": (["Name", "Role", "Age"], ["Users", "Groups", "ServiceAccounts"], binding_row),
    "ClusterRoleBinding": (["Name", "Role", "Age"], ["Users", "Groups", "ServiceAccounts"], binding_row),
    "LimitRange": (["Name", "Created At"], [], created_at_row),
    "ResourceQuota": (["Name", "Age", "Request", "Limit"], [], quota_row),
    "PersistentVolume": (["Name", "Capacity", "Access Modes", "Reclaim Policy", "Status", "Claim", "StorageClass",
                          "VolumeAttributesClass", "Reason", "Age"], [], pv_row),
    "PersistentVolumeClaim": (["Name", "Status", "Volume", "Capacity", "Access Modes", "StorageClass",
                               "VolumeAttributesClass", "Age"], ["VolumeMode"], pvc_row),
    "StorageClass": (["Name", "Provisioner", "ReclaimPolicy", "VolumeBindingMode", "AllowVolumeExpansion", "Age"],
                     [], storageclass_row),
    "NetworkPolicy": (["Name", "Pod-Selector", "Age"], [], netpol_row),
    "Ingress": (["Name", "Class", "Hosts", "Address", "Ports", "Age"], [], ingress_row),
    "IngressClass": (["Name", "Controller", "Parameters", "Age"], [], ingressclass_row),
    "HorizontalPodAutoscaler": (["Name", "Reference", "Targets", "MinPods", "MaxPods", "Replicas", "Age"], [],
                                hpa_row),
    "ControllerRevision": (["Name", "Controller", "Revision", "Age"], [], revision_row),
    "PriorityClass": (["Name", "Value", "Global-Default", "Age", "PreemptionPolicy"], [], priorityclass_row),
    "PodDisruptionBudget": (["Name", "Min Available", "Max Unavailable", "Allowed Disruptions", "Age"], [], pdb_row),
}
_EVENT_WIDE = ["Last Seen", "Type", "Reason", "Object", "Subobject", "Source", "Message", "First Seen", "Count",
               "Name"]


def columns_and_rows(kind: Kind, objects: list[dict], now: float, wide: bool = False) -> tuple[list[str], list[Row]]:
    """Headers (upper case) and rows for ``objects`` of one kind."""
    if isinstance(kind, CustomResourceKind):
        return custom.headers(kind, wide), [custom.row(kind, obj, now, wide) for obj in objects]
    columns, wide_columns, row_function = PRINTERS.get(kind.kind, (["Name", "Age"], [], default_row))
    if kind.kind == "Event" and wide:
        headers = _EVENT_WIDE
    else:
        headers = columns + (wide_columns if wide else [])
    return [header.upper() for header in headers], [row_function(obj, now, wide) for obj in objects]


def resource_prefix(kind: Kind) -> str:
    """``pod``, ``deployment.apps``: how kubectl names a kind before ``/name``."""
    return kind.kind.lower() + (f".{kind.group}" if kind.group else "")


def render_table(kind: Kind, objects: list[dict], now: float, *, wide: bool = False, namespace_column: bool = False,
                 show_labels: bool = False, with_kind: bool = False, no_headers: bool = False,
                 label_columns: list[str] | None = None) -> str:
    """One aligned table, as the human-readable printer writes it (ends with a newline).

    ``label_columns`` (``-L key``) adds a column per label key, headed by the key's last path segment in
    upper case; ``show_labels`` adds LABELS after them.
    """
    headers, rows = columns_and_rows(kind, objects, now, wide)
    name_index = headers.index("NAME") if "NAME" in headers else None
    keys = list(label_columns or [])
    lines: list[list[str]] = []
    if not no_headers:
        lines.append((["NAMESPACE"] if namespace_column else []) + headers
                     + [key.split("/")[-1].upper() for key in keys] + (["LABELS"] if show_labels else []))
    for obj, row in zip(objects, rows):
        row = list(row)
        if with_kind and name_index is not None:
            row[name_index] = f"{resource_prefix(kind)}/{row[name_index]}"
        if namespace_column:
            row.insert(0, dig(obj, "metadata", "namespace") or "")
        labels = dig(obj, "metadata", "labels") or {}
        row += [labels.get(key, "") for key in keys]
        if show_labels:
            row.append(format_labels(labels))
        lines.append(row)
    return format_tabbed("".join("\t".join(line) + "\n" for line in lines))
