"""The HPA on metrics-server: usage reaches the controller through metrics.k8s.io, scale up, then down after 5 min.

The docs' php-apache walkthrough with the load driven inside the pods: the Deployment's container burns CPU
(``vish/stress``; the request-driven ``hpa-example`` image and a busybox load generator are not modelled), the
HPA (what ``kubectl autoscale --cpu-percent=50 --min=1 --max=10`` creates) reads the pods' PodMetrics from the API server,
which proxies to the metrics-server pod, and scales up; when the load stops (the template's command changes to
a near-idle one) it scales down only after the 300 s downscale stabilization window.
"""

from __future__ import annotations

import pytest

import engine
from engine.addons import metrics_server
from engine.components import COMPONENTS
from engine.kubelet import KUBELET
from engine.scheduler import SCHEDULER


def deployment(cores: str) -> dict:
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "php-apache"}, "spec": {
        "replicas": 1, "selector": {"matchLabels": {"run": "php-apache"}}, "template": {
            "metadata": {"labels": {"run": "php-apache"}}, "spec": {"containers": [{
                "name": "php-apache", "image": "vish/stress", "args": ["-cpus", cores],
                "resources": {"requests": {"cpu": "200m"}, "limits": {"cpu": "500m"}}}]}}}}


@pytest.fixture(scope="module")
def cluster():
    c = engine.Cluster(nodes=1, seed=0, components=[*COMPONENTS, SCHEDULER, KUBELET], network="flannel")
    metrics_server.register_images(c.registry)
    for obj in metrics_server.manifests():
        c.apply(obj)
    c.apply(deployment("0.25"))
    c.apply({"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": {"name": "php-apache"},
             "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "php-apache"},
                      "minReplicas": 1, "maxReplicas": 10,
                      "metrics": [{"type": "Resource", "resource": {
                          "name": "cpu", "target": {"type": "Utilization", "averageUtilization": 50}}}]}})
    return c


def replicas(cluster) -> int:
    return cluster.get("deployments", "php-apache")["spec"]["replicas"]


def test_the_hpa_scales_up_on_metrics_from_metrics_server_and_down_after_the_window(cluster):
    cluster.run(90)
    hpa = cluster.get("horizontalpodautoscalers", "php-apache")
    assert hpa["status"]["currentMetrics"][0]["resource"]["current"]["averageUtilization"] >= 100
    assert replicas(cluster) >= 3
    up = replicas(cluster)
    cluster.apply(deployment("0.01"))                  # the load stops
    cluster.run(120)
    assert replicas(cluster) >= up                     # still inside the 5-minute stabilization window
    cluster.run(300)
    assert replicas(cluster) == 1
    reasons = [e["reason"] for e in cluster.list("events") if e["involvedObject"]["name"] == "php-apache"
               and e["involvedObject"]["kind"] == "HorizontalPodAutoscaler"]
    assert reasons.count("SuccessfulRescale") >= 2
