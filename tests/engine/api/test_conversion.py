"""autoscaling/v1 HorizontalPodAutoscalers to and from the stored autoscaling/v2 (pkg/apis/autoscaling/v1 conversion)."""

import json

import pytest

from engine.api.conversion import (CONDITIONS_ANNOTATION, CURRENT_METRICS_ANNOTATION, METRICS_ANNOTATION, from_storage,
                                   hpa_v1_to_v2, hpa_v2_to_v1, served_version, to_storage)

REF = {"apiVersion": "apps/v1", "kind": "Deployment", "name": "php-apache"}
CPU_50 = {"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 50}}}
MEMORY = {"type": "Resource", "resource": {"name": "memory", "target": {"type": "AverageValue", "averageValue": "100Mi"}}}


def v1(**spec):
    return {"apiVersion": "autoscaling/v1", "kind": "HorizontalPodAutoscaler", "metadata": {"name": "php-apache"},
            "spec": {"scaleTargetRef": REF, "maxReplicas": 10, **spec}}


@pytest.mark.parametrize("spec, metrics", [
    ({"targetCPUUtilizationPercentage": 50}, [CPU_50]),
    ({}, [{"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization",
                                                                      "averageUtilization": 80}}}]),
], ids=["targetCPUUtilizationPercentage is the cpu Utilization metric",
        "no target and no other metric is the explicit 80% default"])
def test_v1_spec_to_v2_metrics(spec, metrics):
    converted = hpa_v1_to_v2(v1(minReplicas=1, **spec))
    assert converted["apiVersion"] == "autoscaling/v2"
    assert converted["spec"] == {"scaleTargetRef": REF, "minReplicas": 1, "maxReplicas": 10, "metrics": metrics}


def test_other_metrics_current_metrics_and_conditions_ride_in_v1_annotations_and_come_back():
    condition = {"type": "ScalingActive", "status": "True", "reason": "ValidMetricFound", "message": "m",
                 "lastTransitionTime": "2025-01-01T00:00:00Z"}
    stored = {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
              "metadata": {"name": "php-apache", "annotations": {"team": "web"}},
              "spec": {"scaleTargetRef": REF, "minReplicas": 1, "maxReplicas": 10, "metrics": [CPU_50, MEMORY]},
              "status": {"currentReplicas": 2, "desiredReplicas": 3, "conditions": [condition],
                         "currentMetrics": [{"type": "Resource", "resource": {"name": "cpu", "current": {
                             "averageUtilization": 73, "averageValue": "146m"}}}]}}
    old = hpa_v2_to_v1(stored)
    assert old["spec"]["targetCPUUtilizationPercentage"] == 50
    assert old["status"] == {"currentReplicas": 2, "desiredReplicas": 3, "currentCPUUtilizationPercentage": 73}
    annotations = old["metadata"]["annotations"]
    assert json.loads(annotations[METRICS_ANNOTATION]) == [
        {"type": "Resource", "resource": {"name": "memory", "targetAverageValue": "100Mi"}}]
    assert json.loads(annotations[CURRENT_METRICS_ANNOTATION]) == [
        {"type": "Resource", "resource": {"name": "cpu", "currentAverageUtilization": 73,
                                          "currentAverageValue": "146m"}}]
    assert json.loads(annotations[CONDITIONS_ANNOTATION]) == [condition]
    assert hpa_v1_to_v2(old) == stored
    assert "annotations" not in stored["metadata"] or stored["metadata"]["annotations"] == {"team": "web"}


def test_answers_are_converted_object_by_object_and_other_kinds_pass():
    served = served_version("autoscaling", "v1", "horizontalpodautoscalers")
    assert served is not None and served.storage_version == "v2"
    stored = hpa_v1_to_v2(v1(targetCPUUtilizationPercentage=50))
    listed = from_storage(served, {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscalerList",
                                   "metadata": {}, "items": [stored]})
    assert listed["apiVersion"] == "autoscaling/v1"
    assert listed["items"][0]["spec"]["targetCPUUtilizationPercentage"] == 50
    status = {"kind": "Status", "apiVersion": "v1", "code": 404}
    assert from_storage(served, status) is status
    options = {"kind": "DeleteOptions", "apiVersion": "v1"}
    assert to_storage(served, options) is options
    assert served_version("apps", "v1beta1", "deployments") is None
