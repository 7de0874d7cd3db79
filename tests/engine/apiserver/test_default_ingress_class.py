"""The DefaultIngressClass admission plugin: a classless Ingress gets the newest default IngressClass."""

from __future__ import annotations

import pytest

from engine.apiserver.admission.default_ingress_class import default_ingress_class
from engine.cluster import Cluster

DEFAULT = {"ingressclass.kubernetes.io/is-default-class": "true"}


def ingress_class(name: str, created: str, default: bool = True) -> dict:
    return {"metadata": {"name": name, "creationTimestamp": created, "annotations": DEFAULT if default else {}}}


@pytest.mark.parametrize("classes, expected", [
    ([], None),
    ([ingress_class("nginx", "2025-01-01T00:00:00Z", default=False)], None),
    ([ingress_class("nginx", "2025-01-01T00:00:00Z")], "nginx"),
    ([ingress_class("old", "2025-01-01T00:00:00Z"), ingress_class("new", "2025-01-02T00:00:00Z")], "new"),
    ([ingress_class("b", "2025-01-01T00:00:00Z"), ingress_class("a", "2025-01-01T00:00:00Z")], "a"),
], ids=["no class", "no default class", "the one default", "of two defaults the newest",
        "of two defaults created together the first name"])
def test_the_default_class_is_the_newest_marked_default(classes: list[dict], expected: str | None) -> None:
    assert default_ingress_class(classes) == expected


def _ingress(name: str, **spec: str) -> dict:
    return {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": {"name": name},
            "spec": {"defaultBackend": {"service": {"name": "web", "port": {"number": 80}}}, **spec}}


def test_only_a_created_ingress_without_a_class_gets_the_default() -> None:
    cluster = Cluster(nodes=1, seed=0)
    assert "ingressClassName" not in cluster.apply(_ingress("before"))["spec"]
    cluster.apply({"apiVersion": "networking.k8s.io/v1", "kind": "IngressClass",
                   "metadata": {"name": "nginx", "annotations": DEFAULT}, "spec": {"controller": "k8s.io/ingress-nginx"}})
    assert cluster.apply(_ingress("after"))["spec"]["ingressClassName"] == "nginx"
    assert cluster.apply(_ingress("chosen", ingressClassName="traefik"))["spec"]["ingressClassName"] == "traefik"
    annotated = _ingress("annotated")
    annotated["metadata"]["annotations"] = {"kubernetes.io/ingress.class": "haproxy"}
    assert "ingressClassName" not in cluster.apply(annotated)["spec"]
    changed = _ingress("before")
    changed["spec"]["defaultBackend"]["service"]["port"]["number"] = 8080
    assert "ingressClassName" not in cluster.apply(changed)["spec"]      # an update is never defaulted
