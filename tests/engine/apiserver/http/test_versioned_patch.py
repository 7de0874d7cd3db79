"""A PATCH at autoscaling/v1 is applied to the v1 shape of the stored autoscaling/v2 HPA (the HTTP front's loop side).

``execute.execute`` is what the HTTP front runs on the loop for a decoded request; here it is called directly with
the route's served version, as ``/apis/autoscaling/v1/...`` sets it.
"""

from __future__ import annotations

import pytest

import engine
from engine.api import conversion
from engine.apiserver.http import execute
from engine.apiserver.http.versioned_patch import merge_patch_between
from engine.apiserver.server import Request

V1 = conversion.served_version("autoscaling", "v1", "horizontalpodautoscalers")
HPA_V1 = {"apiVersion": "autoscaling/v1", "kind": "HorizontalPodAutoscaler",
          "metadata": {"name": "php-apache", "namespace": "default"},
          "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "php-apache"},
                   "minReplicas": 1, "maxReplicas": 10, "targetCPUUtilizationPercentage": 50}}


@pytest.fixture(scope="module")
def cluster() -> engine.Cluster:
    c = engine.Cluster(nodes=1, seed=0)
    c.apply(HPA_V1)
    return c


def patch_v1(cluster: engine.Cluster, body, patch_type: str, *, token: str | None = None, name: str = "php-apache",
             subresource: str | None = None, params: dict | None = None) -> tuple[int, dict]:
    request = Request("patch", "horizontalpodautoscalers", "default", name, subresource, body, dict(params or {}),
                      token or cluster.admin.token, "autoscaling", patch_type)
    code, result = execute.execute(cluster.apiserver, request, False, None, V1)
    return code, conversion.from_storage(V1, result)


def test_a_merge_patch_of_v1_fields_changes_the_stored_v2_object(cluster: engine.Cluster) -> None:
    before = cluster.get("hpa", "php-apache")
    code, answer = patch_v1(cluster, {"spec": {"maxReplicas": 7, "targetCPUUtilizationPercentage": 60}},
                            "application/merge-patch+json")
    last = list(cluster.apiserver.audit)[-1]
    assert (last.verb, last.resource, last.code) == ("patch", "horizontalpodautoscalers", 200)
    assert code == 200 and answer["apiVersion"] == "autoscaling/v1"
    assert (answer["spec"]["maxReplicas"], answer["spec"]["targetCPUUtilizationPercentage"]) == (7, 60)
    stored = cluster.get("hpa", "php-apache")
    assert stored["apiVersion"] == "autoscaling/v2" and stored["spec"]["maxReplicas"] == 7
    assert stored["spec"]["metrics"] == [{"type": "Resource", "resource": {
        "name": "cpu", "target": {"type": "Utilization", "averageUtilization": 60}}}]
    assert int(stored["metadata"]["resourceVersion"]) > int(before["metadata"]["resourceVersion"])
    assert stored["metadata"]["generation"] == before["metadata"]["generation"] + 1


def test_strategic_merge_and_json_patch_apply_at_v1_too(cluster: engine.Cluster) -> None:
    patch_v1(cluster, {"spec": {"minReplicas": 2}}, "application/strategic-merge-patch+json")
    assert cluster.get("hpa", "php-apache")["spec"]["minReplicas"] == 2
    patch_v1(cluster, [{"op": "test", "path": "/spec/minReplicas", "value": 2},
                       {"op": "replace", "path": "/spec/targetCPUUtilizationPercentage", "value": 70}],
             "application/json-patch+json")
    target = cluster.get("hpa", "php-apache")["spec"]["metrics"][0]["resource"]["target"]
    assert target["averageUtilization"] == 70


def test_removing_the_v1_cpu_target_falls_back_to_v1s_default(cluster: engine.Cluster) -> None:
    patch_v1(cluster, {"spec": {"targetCPUUtilizationPercentage": None}}, "application/merge-patch+json")
    target = cluster.get("hpa", "php-apache")["spec"]["metrics"][0]["resource"]["target"]
    assert target["averageUtilization"] == conversion.DEFAULT_CPU_UTILIZATION
    patch_v1(cluster, {"spec": {"targetCPUUtilizationPercentage": 50}}, "application/merge-patch+json")


def test_v2_only_fields_survive_a_v1_patch(cluster: engine.Cluster) -> None:
    behavior = {"scaleDown": {"stabilizationWindowSeconds": 60}}
    cluster.admin.patch("hpa", "php-apache", {"spec": {"behavior": behavior}}, "default")
    stabilization = cluster.get("hpa", "php-apache")["spec"]["behavior"]["scaleDown"]["stabilizationWindowSeconds"]
    patch_v1(cluster, {"spec": {"maxReplicas": 9}}, "application/merge-patch+json")
    stored = cluster.get("hpa", "php-apache")
    assert stored["spec"]["maxReplicas"] == 9
    assert stored["spec"]["behavior"]["scaleDown"]["stabilizationWindowSeconds"] == stabilization
    assert conversion.BEHAVIOR_ANNOTATION not in (stored["metadata"].get("annotations") or {})


def test_the_real_errors(cluster: engine.Cluster) -> None:
    with pytest.raises(engine.NotFound) as missing:
        patch_v1(cluster, {"spec": {"maxReplicas": 3}}, "application/merge-patch+json", name="absent")
    assert missing.value.status["message"] == 'horizontalpodautoscalers.autoscaling "absent" not found'
    with pytest.raises(engine.ApiError) as failed:
        patch_v1(cluster, [{"op": "test", "path": "/spec/maxReplicas", "value": 1000}], "application/json-patch+json")
    assert failed.value.code == 422
    with pytest.raises(engine.ApiError) as bad:
        patch_v1(cluster, ["not", "a", "merge", "patch"], "application/merge-patch+json")
    assert bad.value.code == 400
    stale = {"metadata": {"resourceVersion": "1"}, "spec": {"maxReplicas": 3}}
    with pytest.raises(engine.ApiError) as conflict:
        patch_v1(cluster, stale, "application/merge-patch+json")
    assert conflict.value.code == 409 and conflict.value.status["reason"] == "Conflict"
    with pytest.raises(engine.ApiError) as invalid:
        patch_v1(cluster, {"spec": {"maxReplicas": 0}}, "application/merge-patch+json")
    assert invalid.value.code == 422 and "spec.maxReplicas" in invalid.value.status["message"]
    assert cluster.get("hpa", "php-apache")["spec"]["maxReplicas"] != 3


def test_a_user_who_may_not_patch_is_refused_before_the_object_is_read(cluster: engine.Cluster) -> None:
    token = cluster.token_for("jane")
    with pytest.raises(engine.ApiError) as refused:
        patch_v1(cluster, [{"op": "test", "path": "/nope", "value": 1}], "application/json-patch+json", token=token)
    assert refused.value.code == 403
    assert refused.value.status["message"].startswith(
        'horizontalpodautoscalers.autoscaling "php-apache" is forbidden: User "jane" cannot patch resource')


def test_server_side_apply_at_v1_creates_then_merges(cluster: engine.Cluster) -> None:
    manifest = {**HPA_V1, "metadata": {"name": "applied", "namespace": "default"}}
    code, created = patch_v1(cluster, manifest, execute.APPLY_PATCH, name="applied")
    assert code == 201 and created["spec"]["targetCPUUtilizationPercentage"] == 50
    changed = {**manifest, "spec": {**manifest["spec"], "maxReplicas": 4}}
    code, patched = patch_v1(cluster, changed, execute.APPLY_PATCH, name="applied")
    assert code == 200 and cluster.get("hpa", "applied")["spec"]["maxReplicas"] == 4


def test_the_status_subresource_patches_at_v1(cluster: engine.Cluster) -> None:
    patch_v1(cluster, {"status": {"currentReplicas": 3, "desiredReplicas": 4, "currentCPUUtilizationPercentage": 88}},
             "application/merge-patch+json", subresource="status")
    status = cluster.get("hpa", "php-apache")["status"]
    assert (status["currentReplicas"], status["desiredReplicas"]) == (3, 4)
    assert status["currentMetrics"][0]["resource"]["current"]["averageUtilization"] == 88


def test_merge_patch_between_two_documents() -> None:
    original = {"a": 1, "b": {"c": 2, "d": [1]}, "e": 3}
    modified = {"a": 1, "b": {"c": 5, "d": [1, 2]}, "f": 4}
    assert merge_patch_between(original, modified) == {"b": {"c": 5, "d": [1, 2]}, "e": None, "f": 4}


def test_fields_v1_does_not_have_are_warned_about_or_refused_under_strict(cluster: engine.Cluster) -> None:
    request = Request("patch", "horizontalpodautoscalers", "default", "php-apache", None,
                      {"spec": {"maxReplicas": 8, "targetMemory": 50}}, {}, cluster.admin.token, "autoscaling",
                      "application/merge-patch+json")
    execute.execute(cluster.apiserver, request, False, None, V1)
    assert request.warnings == ['unknown field "spec.targetMemory"']
    assert cluster.get("hpa", "php-apache")["spec"]["maxReplicas"] == 8
    with pytest.raises(engine.ApiError) as strict:
        patch_v1(cluster, {"spec": {"targetMemory": 50}}, "application/merge-patch+json",
                 params={"fieldValidation": "Strict"})
    assert strict.value.code == 400
    assert strict.value.status["message"] == 'strict decoding error: unknown field "spec.targetMemory"'
