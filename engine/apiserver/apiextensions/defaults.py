"""Defaulting for CustomResourceDefinitions and for the custom resources they define.

A CRD is defaulted as ``apiextensions/v1``'s ``SetDefaults_*`` do:
``names.singular`` is the lowercased kind, ``names.listKind`` is the kind plus
``List``, ``conversion.strategy`` is ``None``. A custom resource gets the
``default`` values its CRD's structural schema declares, at any depth
(``schema.apply_defaults``). Objects of every other kind are left alone.
"""

from __future__ import annotations

from engine.api.kinds import Kind
from engine.apiserver.apiextensions import schema
from engine.apiserver.apiextensions.kind import CustomResourceKind


def apply_defaults(kind: Kind, obj: dict) -> None:
    """Fill in a CRD's or a custom resource's defaults, in place."""
    if isinstance(kind, CustomResourceKind):
        schema.apply_defaults(kind.schema, obj)
    elif kind.group == "apiextensions.k8s.io" and kind.kind == "CustomResourceDefinition":
        default_crd(obj)


def default_crd(crd: dict) -> None:
    spec = crd.get("spec")
    if not isinstance(spec, dict):
        return
    names = spec.get("names")
    if isinstance(names, dict) and isinstance(names.get("kind"), str):
        names.setdefault("singular", names["kind"].lower())
        names.setdefault("listKind", f"{names['kind']}List")
    conversion = spec.setdefault("conversion", {})
    if isinstance(conversion, dict):
        conversion.setdefault("strategy", "None")
