"""metrics-server: the resource metrics pipeline's add-on (``metrics.k8s.io``).

    storage     the last two points per node and container; CPU as the rate between them, memory as working set
    scraper     every node's kubelet Summary API (``/stats/summary``) into a batch
    server      the component: a scrape every ``--metric-resolution``; NodeMetrics and PodMetrics
    program     the binary (a ComponentProgram) and its HTTPS port
    manifests   the release manifest's objects (RBAC, Service, Deployment, APIService ``v1beta1.metrics.k8s.io``)

``manifests()`` and ``register_images(registry)`` are what an installer applies and publishes;
``install(cluster)`` does both, as an admin's ``kubectl apply -f components.yaml`` (the pod still has to start
and scrape twice before ``kubectl top`` and the HPA see numbers).
"""

from typing import Any

from engine.addons.metrics_server.manifests import IMAGE, manifests


def register_images(registry: Any) -> None:
    """Publish ``registry.k8s.io/metrics-server/metrics-server:v0.7.1``."""
    from engine.addons.metrics_server.program import register_images as register
    register(registry)


def install(cluster: Any) -> None:
    """Publish the image into the cluster's registry and apply the release manifest's objects."""
    register_images(cluster.registry)
    for obj in manifests():
        cluster.apply(obj)


__all__ = ["IMAGE", "install", "manifests", "register_images"]
