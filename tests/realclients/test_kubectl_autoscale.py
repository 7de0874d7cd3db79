"""The real ``kubectl autoscale`` (1.32: an autoscaling/v1 HPA) against the served cluster, which stores it as v2.

Discovery lists autoscaling/v2 (preferred) and autoscaling/v1; kubectl POSTs the v1 object
(``targetCPUUtilizationPercentage``) to ``/apis/autoscaling/v1/...``, the API server converts it, and a read at
either version shows the same HPA in that version's shape.
"""

from __future__ import annotations

import json

import pytest

from engine.cluster import Cluster
from kubectl_tool import Kubectl, needs_kubectl

pytestmark = needs_kubectl


@pytest.fixture(scope="module")
def cluster() -> Cluster:
    c = Cluster(nodes=1, seed=0)
    c.kubectl("create deployment php-apache --image=registry.k8s.io/hpa-example")
    return c


def test_discovery_serves_autoscaling_v2_preferred_and_v1(kubectl: Kubectl) -> None:
    versions = kubectl("api-versions").stdout.split()
    assert "autoscaling/v1" in versions and "autoscaling/v2" in versions
    group = json.loads(kubectl("get", "--raw", "/apis/autoscaling").stdout)
    assert group["preferredVersion"]["version"] == "v2"


def test_kubectl_autoscale_creates_the_hpa_the_walkthrough_shows(kubectl: Kubectl, cluster: Cluster) -> None:
    out = kubectl("autoscale", "deployment", "php-apache", "--cpu-percent=50", "--min=1", "--max=10").stdout
    assert out == "horizontalpodautoscaler.autoscaling/php-apache autoscaled\n"
    assert cluster.get("hpa", "php-apache")["spec"]["metrics"] == [{"type": "Resource", "resource": {
        "name": "cpu", "target": {"type": "Utilization", "averageUtilization": 50}}}]
    old = json.loads(kubectl("get", "--raw", "/apis/autoscaling/v1/namespaces/default/horizontalpodautoscalers/"
                                             "php-apache").stdout)
    assert (old["apiVersion"], old["spec"]["targetCPUUtilizationPercentage"]) == ("autoscaling/v1", 50)
    row = kubectl("get", "hpa", "php-apache", "--no-headers").stdout.split()
    assert row[:6] == ["php-apache", "Deployment/php-apache", "cpu:", "<unknown>/50%", "1", "10"]


def test_the_engines_kubectl_says_what_the_real_one_says(kubectl: Kubectl, cluster: Cluster) -> None:
    for command in ("autoscale deployment php-apache --min=3 --max=2",
                    "autoscale deployment php-apache --max=5 --name=dry --dry-run=client -o yaml"):
        real = kubectl(*command.split(), check=False)
        assert cluster.kubectl(command) == real.stdout + real.stderr
