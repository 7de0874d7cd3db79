"""``kubectl describe``: the describers of ``kubectl/pkg/describe/describe.go``, field for field.

Interface:

- ``run_describe(invocation)``: ``describe KIND [NAME...]`` / ``KIND/NAME`` / ``-l``;
  several objects are separated by blank lines, names match by prefix when
  no object has the exact name (as kubectl does).
- ``describe_object(kind, obj, client, now) -> str``: one object's text
  (``command``). Pods and nodes (``pods``), workloads and HPAs
  (``workloads``), services, endpoints, namespaces, configuration, quotas,
  limit ranges, service accounts and RBAC (``resources``), storage
  (``storage``) and network policies (``network``) have their own
  describers; every other kind gets the generic one (``generic``).
- ``pod_template_text``, ``rfc1123z``, ``smart_label``: re-exported helpers.

Each describer writes lines as the Go code does (``Label:\\tvalue`` at
two-space levels, see ``writer``); Go's tabwriter aligns them. Events are
found by ``involvedObject`` fields.
"""

from engine.kubectl.describe.command import DESCRIBERS, describe_object, run_describe
from engine.kubectl.describe.generic import smart_label
from engine.kubectl.describe.pods import pod_template_text
from engine.kubectl.describe.writer import rfc1123z

__all__ = ["DESCRIBERS", "describe_object", "pod_template_text", "rfc1123z", "run_describe", "smart_label"]
