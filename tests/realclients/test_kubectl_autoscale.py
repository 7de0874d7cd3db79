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


HPA_V1 = """apiVersion: autoscaling/v1
kind: HorizontalPodAutoscaler
metadata:
  name: php-apache-v1
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: php-apache
  minReplicas: 1
  maxReplicas: {max}
  targetCPUUtilizationPercentage: {cpu}
"""


def test_kubectl_apply_of_a_changed_v1_hpa_patches_it_at_v1(kubectl: Kubectl, cluster: Cluster) -> None:
    out = kubectl("apply", "-f", "-", stdin=HPA_V1.format(max=10, cpu=50)).stdout
    assert out == "horizontalpodautoscaler.autoscaling/php-apache-v1 created\n"
    out = kubectl("apply", "-f", "-", stdin=HPA_V1.format(max=6, cpu=65)).stdout
    assert out == "horizontalpodautoscaler.autoscaling/php-apache-v1 configured\n"
    row = kubectl("get", "hpa", "php-apache-v1", "--no-headers").stdout.split()
    assert row[3:6] == ["<unknown>/65%", "1", "6"]
    assert cluster.get("hpa", "php-apache-v1")["spec"]["metrics"][0]["resource"]["target"]["averageUtilization"] == 65
    out = kubectl("apply", "-f", "-", stdin=HPA_V1.format(max=6, cpu=65)).stdout
    assert out == "horizontalpodautoscaler.autoscaling/php-apache-v1 unchanged\n"


def test_kubectl_patch_merge_at_v1(kubectl: Kubectl, cluster: Cluster) -> None:
    kubectl("apply", "-f", "-", stdin=HPA_V1.format(max=10, cpu=50))
    out = kubectl("patch", "horizontalpodautoscalers.v1.autoscaling", "php-apache-v1", "--type", "merge",
                  "-p", '{"spec":{"maxReplicas":4,"targetCPUUtilizationPercentage":40}}').stdout
    assert out == "horizontalpodautoscaler.autoscaling/php-apache-v1 patched\n"
    stored = cluster.get("hpa", "php-apache-v1")
    assert stored["spec"]["maxReplicas"] == 4
    assert stored["spec"]["metrics"][0]["resource"]["target"]["averageUtilization"] == 40
    failing = ("php-apache-v1", "--type", "json", "-p", '[{"op":"test","path":"/spec/maxReplicas","value":99}]')
    failed = kubectl("patch", "horizontalpodautoscalers.v1.autoscaling", *failing, check=False)
    assert failed.returncode == 1
    assert failed.stderr == kubectl("patch", "hpa", *failing, check=False).stderr      # the 422 of a v2 patch


def test_a_v1_manifest_with_a_field_v1_lacks_is_refused_or_warned_about(kubectl: Kubectl, cluster: Cluster) -> None:
    manifest = HPA_V1.format(max=5, cpu=50).replace("name: php-apache-v1\n", "name: php-apache-typo\n") \
        .replace("  minReplicas: 1\n", "  minReplicas: 1\n  minReplica: 2\n")
    strict = kubectl("apply", "-f", "-", stdin=manifest, check=False)      # kubectl's default: --validate=strict
    assert strict.returncode == 1 and strict.stderr == (
        'Error from server (BadRequest): error when creating "STDIN": HorizontalPodAutoscaler in version "v1" cannot '
        'be handled as a HorizontalPodAutoscaler: strict decoding error: unknown field "spec.minReplica"\n')
    warned = kubectl("apply", "--validate=warn", "-f", "-", stdin=manifest)
    assert warned.stdout == "horizontalpodautoscaler.autoscaling/php-apache-typo created\n"
    assert 'Warning: unknown field "spec.minReplica"' in warned.stderr
    spec = cluster.get("hpa", "php-apache-typo")["spec"]
    assert "minReplica" not in spec and spec["minReplicas"] == 1


def test_kubectl_apply_server_side_of_a_v1_hpa_twice(kubectl: Kubectl, cluster: Cluster) -> None:
    manifest = HPA_V1.replace("php-apache-v1", "php-apache-ssa")
    first = kubectl("apply", "--server-side", "-f", "-", stdin=manifest.format(max=10, cpu=50)).stdout
    again = kubectl("apply", "--server-side", "-f", "-", stdin=manifest.format(max=7, cpu=55)).stdout
    assert first == again == "horizontalpodautoscaler.autoscaling/php-apache-ssa serverside-applied\n"
    spec = cluster.get("hpa", "php-apache-ssa")["spec"]
    assert (spec["maxReplicas"], spec["metrics"][0]["resource"]["target"]["averageUtilization"]) == (7, 55)
