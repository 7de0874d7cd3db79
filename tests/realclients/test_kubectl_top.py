"""The real ``kubectl top`` against a served cluster running metrics-server (flannel, the APIService registered).

Discovery lists ``metrics.k8s.io/v1beta1`` (NodeMetrics ``nodes``, PodMetrics ``pods``), and kubectl's
``top nodes`` / ``top pods`` read them through the API server, which proxies to the metrics-server pod.
"""

from __future__ import annotations

import pytest

from engine.addons import metrics_server
from engine.cluster import Cluster
from engine.components import COMPONENTS
from engine.kubelet import KUBELET
from engine.scheduler import SCHEDULER
from kubectl_tool import Kubectl, needs_kubectl

pytestmark = needs_kubectl


@pytest.fixture(scope="module")
def cluster() -> Cluster:
    c = Cluster(nodes=1, seed=0, components=[*COMPONENTS, SCHEDULER, KUBELET], network="flannel")
    metrics_server.register_images(c.registry)
    for obj in metrics_server.manifests():
        c.apply(obj)
    c.apply({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "burner"},
             "spec": {"containers": [{"name": "main", "image": "vish/stress", "args": ["-cpus", "0.25"]}]}})
    c.run(60)
    return c


def test_discovery_lists_the_metrics_api(kubectl: Kubectl) -> None:
    out = kubectl("api-resources", "--api-group=metrics.k8s.io").stdout
    assert "NodeMetrics" in out and "PodMetrics" in out


def test_kubectl_top_nodes(kubectl: Kubectl) -> None:
    lines = kubectl("top", "nodes").stdout.strip().splitlines()
    assert lines[0].split()[:2] == ["NAME", "CPU(cores)"]
    assert {line.split()[0] for line in lines[1:]} == {"control-plane", "node-1"}


def test_kubectl_top_pods(kubectl: Kubectl) -> None:
    lines = kubectl("top", "pods").stdout.strip().splitlines()
    assert lines[0].split() == ["NAME", "CPU(cores)", "MEMORY(bytes)"]
    assert lines[1].split()[:2] == ["burner", "250m"]
