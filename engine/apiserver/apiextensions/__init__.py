"""apiextensions-apiserver: CustomResourceDefinitions, served by the same API server as every built-in kind.

In Kubernetes the apiextensions-apiserver runs inside kube-apiserver: creating
a CustomResourceDefinition (``apiextensions.k8s.io/v1``) makes the server
serve a new resource at ``/apis/<group>/<version>/<plural>`` once the CRD is
``Established``. The parts, one module each:

- ``kind``: a CRD turned into a registry entry (``CustomResourceKind``): its
  names, scope, schema, subresources and printer columns;
- ``schema``: the structural ``openAPIV3Schema`` of a custom resource:
  pruning of unknown fields, defaulting and validation with the real 422
  messages naming the field;
- ``validation``: the checks a CRD itself passes before it is stored;
- ``controller``: the in-server controllers (naming, establishing and the
  ``customresourcecleanup`` finalizer) that turn a stored CRD into a served
  resource, and deleting one into the removal of all its objects.
"""

from engine.apiserver.apiextensions.defaults import apply_defaults
from engine.apiserver.apiextensions.kind import (
    CLEANUP_FINALIZER, CustomResourceKind, kind_from_crd, printer_cells, scale_of, set_path,
)

__all__ = ["CLEANUP_FINALIZER", "CustomResourceKind", "apply_defaults", "kind_from_crd", "printer_cells",
           "scale_of", "set_path"]
