"""The official ``kubernetes`` Python client against an engine cluster served on 127.0.0.1.

The typed APIs (CoreV1Api, AppsV1Api) create, read, list, patch, scale and
delete objects, and ``watch.Watch`` streams events, exactly as they would
against a real cluster; failures arrive as ``ApiException`` with the real
status codes and Status bodies.
"""

from __future__ import annotations

import json
import pathlib
from typing import Iterator

import pytest
from kubernetes import client, config, watch
from kubernetes.client.rest import ApiException

from engine.apiserver.http.serve import ServeHandle
from engine.cluster import Cluster

MANIFESTS = pathlib.Path(__file__).parent / "manifests"


@pytest.fixture(scope="module")
def api_client(served: ServeHandle) -> Iterator[client.ApiClient]:
    api = config.new_client_from_config(config_file=str(served.kubeconfig_path))
    yield api
    api.close()


@pytest.fixture(scope="module")
def core(api_client: client.ApiClient) -> client.CoreV1Api:
    return client.CoreV1Api(api_client)


@pytest.fixture(scope="module")
def apps(api_client: client.ApiClient) -> client.AppsV1Api:
    return client.AppsV1Api(api_client)


def _deployment(name: str, replicas: int = 2) -> dict:
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "labels": {"app": name}},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}},
                                  "spec": {"containers": [{"name": "web", "image": "nginx:1.25"}]}}}}


def test_list_nodes_returns_typed_nodes_that_are_ready(core: client.CoreV1Api, cluster: Cluster) -> None:
    nodes = core.list_node().items
    assert sorted(node.metadata.name for node in nodes) == sorted(cluster.node_names)
    for node in nodes:
        ready = [c for c in node.status.conditions if c.type == "Ready"]
        assert ready and ready[0].status == "True"


def test_configmap_create_read_patch_list_delete(core: client.CoreV1Api, cluster: Cluster) -> None:
    created = core.create_namespaced_config_map("default", client.V1ConfigMap(
        metadata=client.V1ObjectMeta(name="py-settings", labels={"team": "py"}), data={"mode": "fast"}))
    assert created.metadata.uid and created.metadata.resource_version
    assert core.read_namespaced_config_map("py-settings", "default").data == {"mode": "fast"}
    patched = core.patch_namespaced_config_map("py-settings", "default", {"data": {"level": "3"}})
    assert patched.data == {"mode": "fast", "level": "3"}
    assert cluster.get("cm", "py-settings")["data"]["level"] == "3"
    listed = core.list_namespaced_config_map("default", label_selector="team=py")
    assert [item.metadata.name for item in listed.items] == ["py-settings"]
    core.delete_namespaced_config_map("py-settings", "default")
    with pytest.raises(ApiException) as error:
        core.read_namespaced_config_map("py-settings", "default")
    assert error.value.status == 404
    assert json.loads(error.value.body)["message"] == 'configmaps "py-settings" not found'


def test_deployment_create_scale_and_replace(apps: client.AppsV1Api, cluster: Cluster) -> None:
    apps.create_namespaced_deployment("default", _deployment("py-web"))
    scale = apps.read_namespaced_deployment_scale("py-web", "default")
    assert scale.spec.replicas == 2
    apps.patch_namespaced_deployment_scale("py-web", "default", {"spec": {"replicas": 4}})
    assert cluster.get("deploy", "py-web")["spec"]["replicas"] == 4
    for _ in range(5):      # read-modify-write retried on 409, as client-go's RetryOnConflict does:
        current = apps.read_namespaced_deployment("py-web", "default")   # the Deployment controller writes too
        current.spec.template.spec.containers[0].image = "nginx:1.26"
        try:
            replaced = apps.replace_namespaced_deployment("py-web", "default", current)
            break
        except ApiException as error:
            if error.status != 409:
                raise
    assert replaced.spec.template.spec.containers[0].image == "nginx:1.26"
    assert replaced.metadata.generation == 3


def test_a_stale_resource_version_is_a_409_conflict(apps: client.AppsV1Api) -> None:
    apps.create_namespaced_deployment("default", _deployment("py-stale"))
    for _ in range(20):      # the Deployment controller writes it too: retry until our first replace wins
        first = apps.read_namespaced_deployment("py-stale", "default")
        second = apps.read_namespaced_deployment("py-stale", "default")
        first.spec.replicas = 3
        try:
            apps.replace_namespaced_deployment("py-stale", "default", first)
            break
        except ApiException as conflict:
            if conflict.status != 409:
                raise
    second.spec.replicas = 5
    with pytest.raises(ApiException) as error:
        apps.replace_namespaced_deployment("py-stale", "default", second)
    assert error.value.status == 409
    status = json.loads(error.value.body)
    assert status["reason"] == "Conflict"
    assert status["message"] == ('Operation cannot be fulfilled on deployments.apps "py-stale": the object has been '
                                 'modified; please apply your changes to the latest version and try again')


def test_pagination_with_limit_and_continue(core: client.CoreV1Api) -> None:
    for index in range(5):
        core.create_namespaced_config_map("default", client.V1ConfigMap(
            metadata=client.V1ObjectMeta(name=f"page-{index}", labels={"paged": "yes"})))
    first = core.list_namespaced_config_map("default", limit=2)
    assert len(first.items) == 2 and first.metadata._continue
    names = [item.metadata.name for item in first.items]
    token = first.metadata._continue
    while token:
        page = core.list_namespaced_config_map("default", limit=2, _continue=token)
        names += [item.metadata.name for item in page.items]
        token = page.metadata._continue
    assert {f"page-{index}" for index in range(5)} <= set(names)


def test_watch_streams_added_modified_and_deleted(core: client.CoreV1Api) -> None:
    start = core.list_namespaced_config_map("default").metadata.resource_version
    core.create_namespaced_config_map("default", client.V1ConfigMap(metadata=client.V1ObjectMeta(name="py-watched"),
                                                                   data={"v": "1"}))
    core.patch_namespaced_config_map("py-watched", "default", {"data": {"v": "2"}})
    core.delete_namespaced_config_map("py-watched", "default")
    seen = []
    stream = watch.Watch()
    for event in stream.stream(core.list_namespaced_config_map, "default", resource_version=start,
                               field_selector="metadata.name=py-watched", timeout_seconds=30):
        seen.append((event["type"], event["object"].metadata.name, (event["object"].data or {}).get("v")))
        if event["type"] == "DELETED":
            stream.stop()
    assert seen == [("ADDED", "py-watched", "1"), ("MODIFIED", "py-watched", "2"), ("DELETED", "py-watched", "2")]


def test_a_watch_ends_at_its_timeout(core: client.CoreV1Api) -> None:
    events = list(watch.Watch().stream(core.list_namespace, timeout_seconds=1,
                                       field_selector="metadata.name=default"))
    assert [(event["type"], event["object"].metadata.name) for event in events] == [("ADDED", "default")]


def test_a_too_old_resource_version_ends_the_watch_with_410(core: client.CoreV1Api, served: ServeHandle,
                                                            cluster: Cluster) -> None:
    served.call(cluster.apiserver.compact, cluster.apiserver.store.revision)
    with pytest.raises(ApiException) as error:
        for _ in watch.Watch().stream(core.list_namespaced_config_map, "default", resource_version="1",
                                      timeout_seconds=10):
            pass
    assert error.value.status == 410


def test_delete_with_foreground_propagation_in_delete_options(apps: client.AppsV1Api) -> None:
    apps.create_namespaced_deployment("default", _deployment("py-doomed"))
    response = apps.delete_namespaced_deployment("py-doomed", "default", body=client.V1DeleteOptions(
        propagation_policy="Foreground"), _preload_content=False)
    # the answer is the Deployment as it waits for the garbage collector to delete its dependents
    assert json.loads(response.data)["metadata"]["finalizers"] == ["foregroundDeletion"]


def test_an_invalid_object_is_a_422_with_its_causes(core: client.CoreV1Api) -> None:
    with pytest.raises(ApiException) as error:
        core.create_namespaced_service("default", {"apiVersion": "v1", "kind": "Service",
                                                   "metadata": {"name": "py-bad"},
                                                   "spec": {"ports": [{"port": 70000}]}})
    assert error.value.status == 422
    causes = json.loads(error.value.body)["details"]["causes"]
    assert any(cause["field"] == "spec.ports[0].port" for cause in causes)


def test_a_limited_token_is_forbidden_with_the_rbac_message(served: ServeHandle) -> None:
    path = served.kubeconfig_for("nobody")
    api = config.new_client_from_config(config_file=str(path))
    try:
        with pytest.raises(ApiException) as error:
            client.CoreV1Api(api).list_namespaced_secret("default")
    finally:
        api.close()
    assert error.value.status == 403
    assert json.loads(error.value.body)["message"] == ('secrets is forbidden: User "nobody" cannot list resource '
                                                       '"secrets" in API group "" in the namespace "default"')


def test_over_tls_the_client_verifies_the_cluster_ca_and_authenticates_its_token(served_tls: ServeHandle,
                                                                                cluster: Cluster) -> None:
    cluster.apply({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
                   "metadata": {"name": "ops-view"},
                   "subjects": [{"kind": "User", "name": "ops", "apiGroup": "rbac.authorization.k8s.io"}],
                   "roleRef": {"kind": "ClusterRole", "name": "view", "apiGroup": "rbac.authorization.k8s.io"}})
    api = config.new_client_from_config(config_file=str(served_tls.kubeconfig_for("ops")))
    try:
        assert api.configuration.host.startswith("https://127.0.0.1:")
        names = [ns.metadata.name for ns in client.CoreV1Api(api).list_namespace().items]
        assert "kube-system" in names
        with pytest.raises(ApiException) as error:
            client.CoreV1Api(api).delete_namespace("default")
    finally:
        api.close()
    assert error.value.status == 403


def test_an_eviction_a_budget_forbids_is_a_429_with_its_cause(core: client.CoreV1Api, cluster: Cluster) -> None:
    # The pod sits on a node without a kubelet, so its Ready status stays what this test writes;
    # the disruption controller counts it as the one healthy pod the budget needs.
    pod = cluster.apply({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "guarded", "labels": {"app": "guarded"}},
                         "spec": {"nodeName": "retired-node", "containers": [{"name": "web", "image": "nginx"}]}})
    pod["status"] = {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}
    cluster.admin.update_status(pod)
    budget = cluster.apply({"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": {"name": "guarded"},
                            "spec": {"minAvailable": 1, "selector": {"matchLabels": {"app": "guarded"}}}})
    for _ in range(20):                      # the disruption controller writes the budget's status
        status = cluster.get("pdb", "guarded").get("status") or {}
        if status.get("observedGeneration") == budget["metadata"]["generation"] and status.get("currentHealthy") == 1:
            break
        cluster.run(0.5)
    assert (status["currentHealthy"], status["desiredHealthy"], status["disruptionsAllowed"]) == (1, 1, 0)
    eviction = client.V1Eviction(metadata=client.V1ObjectMeta(name="guarded", namespace="default"))
    with pytest.raises(ApiException) as refused:
        core.create_namespaced_pod_eviction("guarded", "default", eviction)
    assert refused.value.status == 429
    status = json.loads(refused.value.body)
    assert status["reason"] == "TooManyRequests"
    assert status["details"]["causes"] == [{"reason": "DisruptionBudget",
                                           "message": "The disruption budget guarded needs 1 healthy pods and has 1 currently"}]
    cluster.delete("pdb", "guarded")
    core.create_namespaced_pod_eviction("guarded", "default", eviction)
    assert cluster.get("pod", "guarded")["metadata"]["deletionTimestamp"]
