"""``kubectl autoscale``: kubectl 1.32's flags, validation messages, object and output."""

import pytest


@pytest.fixture
def deployed(cluster):
    cluster.kubectl("create deployment php-apache --image=registry.k8s.io/hpa-example")
    return cluster


def test_the_walkthroughs_command_creates_a_cpu_50_percent_hpa(deployed):
    out = deployed.kubectl("autoscale deployment php-apache --cpu-percent=50 --min=1 --max=10")
    assert out == "horizontalpodautoscaler.autoscaling/php-apache autoscaled\n"
    hpa = deployed.get("hpa", "php-apache")
    assert hpa["spec"] == {
        "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "php-apache"},
        "minReplicas": 1, "maxReplicas": 10,
        "metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization",
                                                                                 "averageUtilization": 50}}}]}


def test_without_min_or_cpu_percent_the_server_defaults_apply(deployed):
    assert deployed.kubectl("autoscale deploy/php-apache --max=3 --name=web") == \
        "horizontalpodautoscaler.autoscaling/web autoscaled\n"
    spec = deployed.get("hpa", "web")["spec"]
    assert spec["minReplicas"] == 1
    assert spec["metrics"][0]["resource"]["target"]["averageUtilization"] == 80


@pytest.mark.parametrize("command, message", [
    ("autoscale deployment php-apache", 'error: required flag(s) "max" not set'),
    ("autoscale deployment php-apache --max=0", "error: --max=MAXPODS is required and must be at least 1, max: 0"),
    ("autoscale deployment php-apache --min=3 --max=2",
     "error: --max=MAXPODS must be larger or equal to --min=MINPODS, max: 2, min: 3"),
    ("autoscale deployment nope --max=2", 'Error from server (NotFound): deployments.apps "nope" not found'),
], ids=["--max is required", "--max must be at least 1", "--max may not be below --min",
        "the target is read first"])
def test_usage_errors_read_as_kubectls(deployed, command, message):
    assert deployed.kubectl(command) == message + "\n"


def test_a_kind_without_a_scale_subresource_cannot_be_autoscaled(deployed):
    deployed.kubectl("run web --image=nginx")
    assert deployed.kubectl("autoscale pod web --max=2") == (
        "error: cannot autoscale a Pod: could not find scale subresource for /v1, Resource=pods in discovery "
        "information\n")


def test_client_dry_run_prints_the_v1_object_kubectl_would_send(deployed):
    out = deployed.kubectl("autoscale deployment php-apache --max=4 --cpu-percent=60 --dry-run=client -o yaml")
    assert out.splitlines()[:3] == ["apiVersion: autoscaling/v1", "kind: HorizontalPodAutoscaler", "metadata:"]
    assert "  targetCPUUtilizationPercentage: 60" in out.splitlines()
    assert deployed.kubectl("get hpa") == "No resources found in default namespace.\n"


V1_MANIFEST = """
apiVersion: autoscaling/v1
kind: HorizontalPodAutoscaler
metadata:
  name: php-apache
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: php-apache
  minReplicas: 1
  maxReplicas: 10
  targetCPUUtilizationPercentage: 50
"""


def test_an_autoscaling_v1_manifest_applies_as_the_stored_v2_object(deployed, tmp_path):
    path = tmp_path / "hpa.yaml"
    path.write_text(V1_MANIFEST)
    assert deployed.kubectl(f"apply -f {path}") == "horizontalpodautoscaler.autoscaling/php-apache created\n"
    assert deployed.get("hpa", "php-apache")["spec"]["metrics"][0]["resource"]["target"] == {
        "type": "Utilization", "averageUtilization": 50}
    assert deployed.kubectl(f"apply -f {path}") == "horizontalpodautoscaler.autoscaling/php-apache unchanged\n"
