"""The HorizontalPodAutoscaler: the replica formula and normalization (pure), and the docs' php-apache walkthrough
on a node-less cluster where the test plays the kubelet and metrics-server (a FixedResourceMetrics source)."""

import dataclasses

import pytest

import engine
from engine.api.meta import timestamp
from engine.components import COMPONENTS
from engine.controllers.horizontal import Normalizer, behavior_rules, convert_desired_replicas_with_rules
from engine.controllers.podautoscaler_metrics import FixedResourceMetrics, PodMetric
from engine.controllers.podautoscaler_replicas import MetricsError, resource_replicas

NOW = 1000.0


def ready_pod(name, cpu="200m", phase="Running", started=NOW - 600):
    return {"metadata": {"name": name},
            "spec": {"containers": [{"name": "c", "resources": {"requests": {"cpu": cpu}}}]},
            "status": {"phase": phase, "startTime": timestamp(started),
                       "conditions": [{"type": "Ready", "status": "True", "lastTransitionTime": timestamp(started)}]}}


def usage(**milli):
    return {name: PodMetric(value, NOW, 15.0) for name, value in milli.items()}


@pytest.mark.parametrize("current,used,expected", [
    (1, {"a": 250}, 3),                     # 125 % of a 50 % target: ceil(2.5 * 1)
    (2, {"a": 100, "b": 120}, 3),           # 55 %: |1 - 55 / 50| is 0.10000000000000009 in float64
    (4, {"a": 20, "b": 20, "c": 20, "d": 20}, 1),
    (2, {"a": 105, "b": 105}, 2),
], ids=["ceil(current * usage / target)", "a 1.1 ratio is just outside the tolerance, as in Go's float64",
        "well below target scales down", "52 % of a 50 % target is within the 0.1 tolerance"])
def test_the_formula(current, used, expected):
    pods = [ready_pod(name) for name in used]
    result = resource_replicas(current, 50, "cpu", pods, usage(**used), NOW)
    assert result.replicas == expected


def test_utilization_is_a_whole_percentage_of_the_requests():
    result = resource_replicas(2, 50, "cpu", [ready_pod("a"), ready_pod("b")], usage(a=301, b=300), NOW)
    assert (result.utilization, result.raw_average, result.replicas) == (150, 300, 6)


def test_missing_metrics_count_as_zero_on_a_scale_up_and_unready_pods_do_not_help():
    pods = [ready_pod("a"), ready_pod("b"), ready_pod("new", phase="Pending")]
    # 100 % of a 50 % target alone would give 6; the pending pod at 0 % makes it 66 %: ceil(1.32 * 3)
    assert resource_replicas(3, 50, "cpu", pods, usage(a=200, b=200), NOW).replicas == 4
    # b has no metric: at 0 % the average is exactly the target, so the count stays
    assert resource_replicas(2, 50, "cpu", pods[:2], usage(a=200), NOW).replicas == 2


def test_no_metrics_is_an_error():
    with pytest.raises(MetricsError, match="did not receive metrics for targeted pods"):
        resource_replicas(1, 50, "cpu", [ready_pod("a", phase="Pending")], usage(a=100), NOW)


@pytest.mark.parametrize("current,desired,expected", [
    (2, 9, (4, "ScaleUpLimit")), (5, 9, (9, "DesiredWithinRange")), (8, 20, (10, "TooManyReplicas")),
    (3, 0, (1, "TooFewReplicas"))], ids=["up to max(2 * current, 4) at once", "within range",
                                         "never above maxReplicas", "never below minReplicas"])
def test_limits_without_behavior(current, desired, expected):
    replicas, reason, _ = convert_desired_replicas_with_rules(current, desired, 1, 10)
    assert (replicas, reason) == expected


def test_downscale_stabilization_keeps_the_highest_recommendation_for_five_minutes():
    normalizer = Normalizer()
    assert normalizer.stabilize("default/web", 8, 0.0) == 8
    assert normalizer.stabilize("default/web", 2, 100.0) == 8
    assert normalizer.stabilize("default/web", 2, 299.0) == 8
    assert normalizer.stabilize("default/web", 3, 301.0) == 3


def test_behavior_policies_limit_the_rate():
    hpa = {"spec": {"behavior": {"scaleDown": {"stabilizationWindowSeconds": 0, "policies": [
        {"type": "Pods", "value": 1, "periodSeconds": 60}]}}}}
    up, down = behavior_rules(hpa)
    assert up["policies"][0] == {"type": "Pods", "value": 4, "periodSeconds": 15}
    normalizer = Normalizer()
    assert normalizer.rate_limit("k", 10, 2, 1, 20, up, down, 0.0)[:2] == (9, "ScaleDownLimit")
    normalizer.record_scale("k", 10, 9, up, down, 0.0)
    assert normalizer.rate_limit("k", 9, 2, 1, 20, up, down, 30.0)[0] == 9      # one pod per minute
    assert normalizer.rate_limit("k", 9, 2, 1, 20, up, down, 61.0)[0] == 8
    assert normalizer.rate_limit("k", 2, 30, 1, 20, up, down, 61.0)[:2] == (6, "ScaleUpLimit")   # 4 pods / 15 s
    disabled = {**up, "selectPolicy": "Disabled"}
    assert normalizer.rate_limit("k", 2, 30, 1, 20, disabled, down, 61.0)[0] == 2


# -- on a cluster --------------------------------------------------------------------------------------

def test_php_apache_scales_up_under_load_and_down_after_the_stabilization_window():
    holder = {}
    metrics = FixedResourceMetrics(lambda: holder["cluster"].now)
    manager = dataclasses.replace(COMPONENTS[0], options={"metrics_source": metrics})
    cluster = holder["cluster"] = engine.Cluster(nodes=0, seed=0, components=[manager, COMPONENTS[1]])
    cluster.apply({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "php-apache"}, "spec": {
        "replicas": 1, "selector": {"matchLabels": {"run": "php-apache"}}, "template": {
            "metadata": {"labels": {"run": "php-apache"}}, "spec": {"containers": [{
                "name": "php-apache", "image": "registry.k8s.io/hpa-example",
                "resources": {"requests": {"cpu": "200m"}, "limits": {"cpu": "500m"}}}]}}}})
    cluster.apply({"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
                   "metadata": {"name": "php-apache"}, "spec": {
                       "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "php-apache"},
                       "minReplicas": 1, "maxReplicas": 10, "metrics": [{"type": "Resource", "resource": {
                           "name": "cpu", "target": {"type": "Utilization", "averageUtilization": 50}}}]}})

    def pods_use(cpu):
        for pod in cluster.list("pods", selector="run=php-apache"):
            if (pod.get("status") or {}).get("phase") != "Running":
                long_ago = timestamp(cluster.now - 600)
                pod["status"] = {"phase": "Running", "podIP": "10.244.0.5", "startTime": long_ago, "conditions": [
                    {"type": "Ready", "status": "True", "lastProbeTime": None, "lastTransitionTime": long_ago}]}
                cluster.admin.update_status(pod)
            metrics.set_usage("default", pod["metadata"]["name"], pod["metadata"]["labels"],
                              {"php-apache": {"cpu": cpu}})

    cluster.run(10)
    pods_use("250m")
    cluster.run(10)
    hpa = cluster.get("hpa", "php-apache")
    assert (hpa["status"]["currentReplicas"], hpa["status"]["desiredReplicas"]) == (1, 3)
    assert hpa["status"]["currentMetrics"] == [{"type": "Resource", "resource": {
        "name": "cpu", "current": {"averageUtilization": 125, "averageValue": "250m"}}}]
    conditions = {c["type"]: (c["status"], c["reason"]) for c in hpa["status"]["conditions"]}
    assert conditions["ScalingActive"] == ("True", "ValidMetricFound")
    assert cluster.get("deployment", "php-apache")["spec"]["replicas"] == 3
    rescales = [e["message"] for e in cluster.list("events") if e["reason"] == "SuccessfulRescale"]
    assert rescales == ["New size: 3; reason: cpu resource utilization (percentage of request) above target"]
    for _ in range(4):
        pods_use("250m")
        cluster.run(15)
    assert cluster.get("deployment", "php-apache")["spec"]["replicas"] == 10
    load_stopped = cluster.now
    while cluster.now - load_stopped < 290:
        pods_use("10m")
        cluster.run(15)
    assert cluster.get("deployment", "php-apache")["spec"]["replicas"] == 10     # the highest recent one holds
    conditions = {c["type"]: c["reason"] for c in cluster.get("hpa", "php-apache")["status"]["conditions"]}
    assert conditions["AbleToScale"] == "ScaleDownStabilized"
    for _ in range(3):
        pods_use("10m")
        cluster.run(15)
    assert cluster.get("deployment", "php-apache")["spec"]["replicas"] == 1
    assert [e["message"] for e in cluster.list("events") if e["reason"] == "SuccessfulRescale"][-1] == \
        "New size: 1; reason: All metrics below target"


@pytest.mark.parametrize("case, expected", [
    ((5, 50, {f"p{i}": 106 for i in range(5)}, {f"p{i}": 200 for i in range(5)}), 5),
    ((3, 50, {f"p{i}": 130 for i in range(3)}, {f"p{i}": 200 for i in range(3)}), 4),
    ((2, 50, {"a": 300}, {"a": 200, "b": 200}, {"b"}), 3),
    ((3, 50, {"a": 20, "b": 20}, {"a": 200, "b": 200, "c": 200}, frozenset(), {"c"}), 3),
], ids=["53 % of a 50 % target is within the tolerance: the count stays",
        "65 % of 3 pods at a 50 % target is 3.9: rounded up to 4",
        "an unready pod counts as 0 on a scale-up: 75 % of 2 pods is 3",
        "a missing pod counts as 100 % of its request on a scale-down: 40 % of 3 pods, so 3 stay (not 1)"])
def test_replicas_for_utilization(case, expected):
    from engine.controllers.podautoscaler_replicas import replicas_for_utilization
    assert replicas_for_utilization(*case) == expected


@pytest.mark.parametrize("args, expected", [
    ((6, 2, [(700.0, 2), (900.0, 6), (1000.0, 5)], 1015.0, 1, 10), 6),
    ((6, 2, [(700.0, 2), (900.0, 6), (1000.0, 5)], 1300.0, 1, 10), 5),
    ((1, 9, [], 50.0, 1, 10), 4),
    ((3, 0, [], 50.0, 2, 10), 2),
], ids=["the highest recommendation of the window holds", "older ones leave the window",
        "the scale-up limit", "minReplicas"])
def test_normalize_desired_replicas(args, expected):
    from engine.controllers.horizontal import normalize_desired_replicas
    assert normalize_desired_replicas(*args) == expected


def test_the_replica_calculator_and_the_normalization_can_be_replaced():
    calls = []

    def always_seven(current, target, usage, requests, unready, missing, tolerance):
        calls.append(("desired", current, target, dict(usage)))
        return 7

    def halve(current, desired, recommendations, now, min_replicas, max_replicas):
        calls.append(("normalize", current, desired, list(recommendations)))
        return max(min_replicas, desired // 2)

    holder = {}
    metrics = FixedResourceMetrics(lambda: holder["cluster"].now)
    manager = dataclasses.replace(COMPONENTS[0], options={"metrics_source": metrics, "desired_replicas": always_seven,
                                                           "normalize": halve})
    cluster = holder["cluster"] = engine.Cluster(nodes=0, seed=0, components=[manager, COMPONENTS[1]])
    cluster.apply({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"}, "spec": {
        "selector": {"matchLabels": {"app": "web"}}, "template": {"metadata": {"labels": {"app": "web"}}, "spec": {
            "containers": [{"name": "nginx", "image": "nginx", "resources": {"requests": {"cpu": "100m"}}}]}}}})
    cluster.kubectl("autoscale deployment web --max=10 --cpu-percent=50")
    cluster.run(5)
    pod = cluster.list("pods", selector="app=web")[0]
    long_ago = timestamp(cluster.now - 600)
    pod["status"] = {"phase": "Running", "startTime": long_ago, "conditions": [
        {"type": "Ready", "status": "True", "lastTransitionTime": long_ago}]}
    cluster.admin.update_status(pod)
    metrics.set_usage("default", pod["metadata"]["name"], pod["metadata"]["labels"], {"nginx": {"cpu": "30m"}})
    cluster.run(20)
    assert calls[:2] == [("desired", 1, 50, {pod["metadata"]["name"]: 30}), ("normalize", 1, 7, [])]
    assert cluster.get("deployment", "web")["spec"]["replicas"] == 3
