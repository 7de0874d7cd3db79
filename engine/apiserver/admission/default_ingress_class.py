"""The DefaultIngressClass admission plugin: an Ingress without a class gets the default IngressClass.

Mirrors ``plugin/pkg/admission/network/defaultingressclass``: on CREATE of an
Ingress (not a subresource) that names no ``spec.ingressClassName`` and has no
``kubernetes.io/ingress.class`` annotation, the plugin sets
``spec.ingressClassName`` to the IngressClass annotated
``ingressclass.kubernetes.io/is-default-class: "true"``. With several default
classes it picks the newest (then the first name), as kube-apiserver does
since 1.28; with none it leaves the Ingress alone. It never touches updates,
and never rejects.
"""

from __future__ import annotations

from engine.api import errors
from engine.apiserver.admission import AdmissionContext, Attributes, Plugin

IS_DEFAULT_CLASS = "ingressclass.kubernetes.io/is-default-class"
INGRESS_CLASS_ANNOTATION = "kubernetes.io/ingress.class"


def default_ingress_class(classes: list[dict]) -> str | None:
    """getDefaultClass: the name of the newest class marked default, or None."""
    defaults = [cls for cls in classes
                if ((cls.get("metadata") or {}).get("annotations") or {}).get(IS_DEFAULT_CLASS) == "true"]
    if not defaults:
        return None
    newest = max(defaults, key=lambda cls: cls["metadata"].get("creationTimestamp") or "")
    created = newest["metadata"].get("creationTimestamp") or ""
    return min(cls["metadata"]["name"] for cls in defaults
               if (cls["metadata"].get("creationTimestamp") or "") == created)


class DefaultIngressClass(Plugin):
    name = "DefaultIngressClass"

    def admit(self, attrs: Attributes, context: AdmissionContext) -> None:
        if attrs.operation != "CREATE" or attrs.subresource or attrs.object is None \
                or attrs.kind.group != "networking.k8s.io" or attrs.kind.plural != "ingresses":
            return
        spec = attrs.object.get("spec")
        if not isinstance(spec, dict) or spec.get("ingressClassName") is not None:
            return
        if INGRESS_CLASS_ANNOTATION in ((attrs.object.get("metadata") or {}).get("annotations") or {}):
            return
        try:
            classes = context.cached_list("ingressclasses")
        except errors.NotFound:
            return                                # IngressClass is not a registered kind in this cluster
        name = default_ingress_class(classes)
        if name is not None:
            spec["ingressClassName"] = name
