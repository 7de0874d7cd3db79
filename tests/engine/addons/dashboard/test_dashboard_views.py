"""The Dashboard backend: its views of a running cluster, its JSON API's routes, and RBAC's part in both.

One cluster for the module (no pod network: the views only need a client): a Deployment of two nginx pods, a
Job, a Service; read as the admin, as a user with no rights, and as the dashboard's own ServiceAccount
(bound by the add-on's manifests to its read-only ClusterRole).
"""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

import engine
from engine.addons import dashboard
from engine.addons.dashboard import views
from engine.addons.dashboard.backend import Dashboard
from engine.api import errors

SERVICE_ACCOUNT = "system:serviceaccount:kubernetes-dashboard:kubernetes-dashboard"
WEB = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: nginx:1.27}]}
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec: {selector: {app: web}, ports: [{port: 80, targetPort: 80}]}
---
apiVersion: batch/v1
kind: Job
metadata: {name: pi}
spec:
  template:
    spec:
      restartPolicy: Never
      containers: [{name: pi, image: busybox, command: [sh, -c, "echo 3.14"]}]
"""


@pytest.fixture(scope="module")
def cluster():
    c = engine.Cluster(nodes=2, seed=0)
    c.apply([obj for obj in dashboard.manifests() if obj["kind"] != "Deployment"])
    c.apply(WEB)
    c.run(30)
    return c


@pytest.fixture(scope="module")
def account(cluster):
    return cluster.client(SERVICE_ACCOUNT, ("system:serviceaccounts", "system:serviceaccounts:kubernetes-dashboard"))


def names(items):
    return [item["objectMeta"]["name"] for item in items]


def test_workloads_count_each_workloads_pods_by_phase(cluster):
    answer = views.workloads(cluster.admin, "default")
    [web] = answer["deploymentList"]["deployments"]
    assert web["typeMeta"] == {"kind": "deployment"} and web["containerImages"] == ["nginx:1.27"]
    assert web["pods"] == {"current": 2, "desired": 2, "running": 2, "pending": 0, "failed": 0, "succeeded": 0,
                           "warnings": []}
    [replica_set] = answer["replicaSetList"]["replicaSets"]
    assert replica_set["objectMeta"]["name"].startswith("web-") and replica_set["pods"]["running"] == 2
    [job] = answer["jobList"]["jobs"]
    assert job["pods"]["succeeded"] == 1 and job["pods"]["desired"] == 1
    assert answer["statefulSetList"] == {"listMeta": {"totalItems": 0}, "statefulSets": [], "errors": []}


def test_pods_show_kubectls_status_and_the_phase_counts(cluster):
    answer = views.pods(cluster.admin, "default")
    by_name = {item["objectMeta"]["name"]: item for item in answer["pods"]}
    web = [item for name, item in by_name.items() if name.startswith("web-")]
    assert [(item["status"], item["ready"]) for item in web] == [("Running", "1/1")] * 2
    assert all(item["nodeName"].startswith("node-") and item["podIP"] for item in web)
    assert [item["status"] for name, item in by_name.items() if name.startswith("pi-")] == ["Completed"]
    assert answer["status"] == {"running": 2, "pending": 0, "failed": 0, "succeeded": 1}
    assert answer["listMeta"] == {"totalItems": 3} and web[0]["age"].endswith("s")


def test_every_namespace_nodes_and_services(cluster):
    everywhere = {(item["objectMeta"]["namespace"], item["objectMeta"]["name"])
                  for item in views.services(cluster.admin, None)["services"]}
    assert {("default", "kubernetes"), ("default", "web"), ("kubernetes-dashboard", "kubernetes-dashboard")} <= everywhere
    nodes = views.nodes(cluster.admin)["nodes"]
    assert names(nodes) == ["control-plane", "node-1", "node-2"]
    assert nodes[0]["roles"] == "control-plane" and {node["ready"] for node in nodes} == {"True"}
    [web] = [s for s in views.services(cluster.admin, "default")["services"] if s["objectMeta"]["name"] == "web"]
    assert web["internalEndpoint"] == {"host": "web.default", "ports": [{"port": 80, "protocol": "TCP",
                                                                          "nodePort": 0}]}
    assert web["type"] == "ClusterIP" and web["clusterIP"] == cluster.get("svc", "web")["spec"]["clusterIP"] and web["selector"] == {"app": "web"}


def test_events_are_newest_first_with_their_object(cluster):
    events = views.events(cluster.admin, "default")["events"]
    assert [e["lastSeen"] for e in events] == sorted((e["lastSeen"] for e in events), reverse=True)
    scaled = [e for e in events if e["reason"] == "ScalingReplicaSet"]
    assert scaled and scaled[0]["objectKind"] == "Deployment" and scaled[0]["objectName"] == "web"
    assert scaled[0]["sourceComponent"] == "deployment-controller"


def test_logs_and_raw_objects(cluster):
    pod = next(p for p in cluster.list("pods") if p["metadata"]["name"].startswith("web-"))
    answer = views.logs(cluster.admin, "default", pod["metadata"]["name"])
    assert answer["info"]["containerName"] == "web" and not answer["info"]["truncated"]
    assert any("Configuration complete" in line["content"] for line in answer["logs"])
    assert answer["logs"][0]["timestamp"].startswith("2025-01-01T")
    assert views.raw(cluster.admin, "deployment", "default", "web") == cluster.get("deployment", "web")
    assert views.raw(cluster.admin, "node", None, "node-1")["kind"] == "Node"
    with pytest.raises(errors.NotFound):
        views.raw(cluster.admin, "pod", "default", "gone")


def test_a_list_the_client_may_not_read_is_empty_with_the_403_in_errors(cluster):
    answer = views.pods(cluster.client("jane"), "default")
    assert answer["pods"] == [] and answer["errors"][0]["ErrStatus"]["code"] == 403
    assert answer["errors"][0]["ErrStatus"]["message"].startswith('pods is forbidden: User "jane" cannot list')
    with pytest.raises(errors.Forbidden):
        views.logs(cluster.client("jane"), "default", "web")


def test_the_service_account_reads_everything_shown_but_secrets_other_than_its_own(cluster, account):
    assert len(views.pods(account, None)["pods"]) >= 3 and views.nodes(account)["errors"] == []
    assert all(not value["errors"] for value in views.workloads(account, None).values())
    with pytest.raises(errors.Forbidden):
        views.raw(account, "secret", "default", "db-password")
    assert views.raw(account, "secret", "kubernetes-dashboard", "kubernetes-dashboard-csrf")["kind"] == "Secret"


@pytest.fixture(scope="module")
def backend(cluster, account):
    lines: list[str] = []
    component = Dashboard(SimpleNamespace(client=account, loop=cluster.loop,
                                          options={"namespace": "kubernetes-dashboard", "log": lines.append}))
    component.start()
    component.lines = lines
    return component


def get(backend, path):
    answer = backend.handle({"method": "GET", "path": path, "client": "10.244.0.0"})
    return answer["status"], answer["headers"]["Content-Type"], answer["body"]


def test_the_backend_serves_the_page_and_its_json_api(backend):
    status, content_type, body = get(backend, "/")
    assert (status, content_type) == (200, "text/html; charset=utf-8") and '<script src="/app.js">' in body
    assert get(backend, "/app.js")[:2] == (200, "application/javascript")
    status, content_type, body = get(backend, "/api/v1/pod/default")
    assert (status, content_type) == (200, "application/json") and len(json.loads(body)["pods"]) == 3
    assert json.loads(get(backend, "/api/v1/pod/_all")[2]) == json.loads(get(backend, "/api/v1/pod")[2]) == \
        views.pods(backend.client, None)
    assert names(json.loads(get(backend, "/api/v1/node")[2])["nodes"])[0] == "control-plane"
    assert json.loads(get(backend, "/api/v1/pod/default/pi-x/container")[2])["kind"] == "Status"
    assert get(backend, "/api/v1/nope")[0] == 404 and get(backend, "/elsewhere")[0] == 404
    assert backend.handle({"method": "POST", "path": "/api/v1/pod/default"})["status"] == 405


def test_the_backend_answers_api_errors_with_their_status(backend):
    status, _, body = get(backend, "/api/v1/_raw/secret/namespace/default/name/db-password")
    assert status == 403 and json.loads(body)["reason"] == "Forbidden"
    status, _, body = get(backend, "/api/v1/_raw/deployment/namespace/default/name/gone")
    assert status == 404 and json.loads(body)["message"] == 'deployments.apps "gone" not found'


def test_settings_come_from_the_settings_config_map_and_requests_are_logged(cluster, backend):
    assert json.loads(get(backend, "/api/v1/settings/global")[2])["resourceAutoRefreshTimeInterval"] == 5
    cluster.apply({"apiVersion": "v1", "kind": "ConfigMap",
                   "metadata": {"name": "kubernetes-dashboard-settings", "namespace": "kubernetes-dashboard"},
                   "data": {"_global": '{"resourceAutoRefreshTimeInterval": 1}'}})
    settings = json.loads(get(backend, "/api/v1/settings/global")[2])
    assert settings["resourceAutoRefreshTimeInterval"] == 1 and settings["logsAutoRefreshTimeInterval"] == 5
    assert backend.lines[0].endswith(" Starting overwatch")
    assert any(line.endswith("Incoming HTTP/1.1 GET /api/v1/settings/global request from 10.244.0.0: ")
               for line in backend.lines)
    assert backend.lines[-1].endswith("Outcoming response to 10.244.0.0 with 200 status code")
