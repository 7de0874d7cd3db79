"""``kubectl get`` tables: the columns the real API server's Table printers produce, per kind.

Interface:

- ``columns_and_rows(kind, objects, now, wide)``: the header names (upper case,
  as kubectl shows them) and one row of cells per object, computed only from
  object fields, exactly as ``pkg/printers/internalversion/printers.go`` does.
- ``pod_status(pod)`` / ``pod_ready(pod)`` / ``pod_restarts(pod, now)``: the
  READY, STATUS and RESTARTS cells of ``printPod``.
- ``node_status(node)`` / ``node_roles(node)``: the STATUS and ROLES cells of ``printNode``.
- ``render_table(...)``: the cells aligned as kubectl's tabwriter aligns them
  (``minwidth 6``, ``padding 3``), with the optional NAMESPACE and LABELS columns
  and ``kind/name`` names when several kinds are printed together.

Kinds without a printer here get the API server's default table: NAME and AGE.
Nothing here reads the cluster: objects and the current virtual time come in.
The modules: ``cells`` (shared helpers), ``pods`` (pods and nodes),
``workloads``, ``network``, ``resources`` (everything else) and ``table``.
"""

from engine.kubectl.printers.cells import NONE, format_labels, selector_string
from engine.kubectl.printers.network import format_endpoints, service_external_ip, service_ports
from engine.kubectl.printers.pods import node_address, node_roles, node_status, pod_ready, pod_restarts, pod_status
from engine.kubectl.printers.resources import event_object
from engine.kubectl.printers.table import _EVENT_WIDE, PRINTERS, columns_and_rows, render_table, resource_prefix
from engine.kubectl.printers.workloads import job_status

# ``_EVENT_WIDE`` (the Event table's full column list) is read by the HTTP front's Table convertor.
__all__ = ["NONE", "PRINTERS", "_EVENT_WIDE", "columns_and_rows", "event_object", "format_endpoints", "format_labels",
           "job_status", "node_address", "node_roles", "node_status", "pod_ready", "pod_restarts", "pod_status",
           "render_table", "resource_prefix", "selector_string", "service_external_ip", "service_ports"]
