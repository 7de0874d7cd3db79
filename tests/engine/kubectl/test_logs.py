"""kubectl logs: a pod, a workload's first pod in ByLogging order, a selector's pods, and their notices."""

from __future__ import annotations

import pytest

import engine
from kubectl_fixtures import add_pod, running_status
from engine.kubectl.logs import by_logging, log_state_error

def waiting_status(reason: str) -> dict:
    return {"phase": "Pending", "containerStatuses": [
        {"name": "app", "ready": False, "restartCount": 0, "image": "nginx", "imageID": "",
         "state": {"waiting": {"reason": reason}}}]}


@pytest.mark.parametrize("status, previous, message", [
    pytest.param(None, False, 'container "app" in pod "web" is waiting to start: ContainerCreating',
                 id="no container status yet reads as ContainerCreating"),
    pytest.param(waiting_status("ContainerCreating"), False,
                 'container "app" in pod "web" is waiting to start: ContainerCreating',
                 id="a waiting container names its reason"),
    pytest.param(waiting_status("ErrImagePull"), False,
                 'container "app" in pod "web" is waiting to start: image can\'t be pulled',
                 id="a failed pull says the image cannot be pulled"),
    pytest.param(waiting_status("ImagePullBackOff"), False,
                 'container "app" in pod "web" is waiting to start: trying and failing to pull image',
                 id="a pull in back-off says it keeps failing"),
    pytest.param(running_status("10.244.1.2"), False, None, id="a running container has logs"),
    pytest.param(running_status("10.244.1.2"), True, 'previous terminated container "app" in pod "web" not found',
                 id="previous logs need an earlier terminated container"),
    pytest.param(running_status("10.244.1.2", restarts=1, finished="2025-01-01T00:00:01Z"), True, None,
                 id="previous logs exist after a restart"),
])
def test_log_state_error(status: dict | None, previous: bool, message: str | None) -> None:
    pod = {"metadata": {"name": "web"}, "status": status or {}}
    assert log_state_error(pod, "app", previous) == message


def test_logs_without_a_log_server_explain_the_container_state(cluster: engine.Cluster) -> None:
    cluster.apiserver.connect_handlers.pop(("pods", "log"))     # no API server route to the kubelets
    add_pod(cluster, "web", node="node-1", status=waiting_status("ContainerCreating"))
    assert cluster.kubectl("logs web") == (
        'Error from server (BadRequest): container "app" in pod "web" is waiting to start: ContainerCreating\n')
    assert cluster.kubectl("logs web -c nope") == (
        "error: container nope is not valid for pod web\n")
    assert cluster.kubectl("logs nope") == (
        'error: error from server (NotFound): pods "nope" not found in namespace "default"\n')


def test_logs_of_an_unscheduled_pod_are_empty(cluster: engine.Cluster) -> None:
    add_pod(cluster, "web")
    assert cluster.kubectl("logs web") == ""


def test_logs_go_through_the_pods_log_subresource(cluster: engine.Cluster) -> None:
    seen = []

    def serve(request, pod):  # a kubelet's log endpoint, as the API server proxies to it
        seen.append(dict(request.params))
        return f"hello from {pod['metadata']['name']}\n"

    cluster.apiserver.register_connect("pods", "log", serve)
    add_pod(cluster, "web", node="node-1", status=running_status("10.244.1.2"),
            containers=[{"name": "app", "image": "nginx"}, {"name": "sidecar", "image": "busybox"}])
    assert cluster.kubectl("logs web --tail=5") == (
        'Defaulted container "app" out of: app, sidecar\nhello from web\n')
    assert cluster.kubectl("logs pod/web -c sidecar -p") == "hello from web\n"
    assert seen == [{"container": "app", "tailLines": 5}, {"container": "sidecar", "previous": True}]


def serve_logs(cluster: engine.Cluster, seen: list | None = None) -> None:
    """A kubelet's log endpoint, as the API server proxies to it: two lines naming the pod and container."""
    def serve(request, pod):
        if seen is not None:
            seen.append((pod["metadata"]["name"], dict(request.params)))
        name, container = pod["metadata"]["name"], request.params["container"]
        return f"{name} {container} one\n{name} {container} two\n"
    cluster.apiserver.register_connect("pods", "log", serve)


def ready_status(since: str, *, restarts: int = 0, phase: str = "Running") -> dict:
    status = running_status("10.244.1.2", restarts=restarts)
    status["phase"] = phase
    for condition in status["conditions"]:
        condition["lastTransitionTime"] = since
    return status


def deployment(name: str, labels: dict) -> dict:
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
            "spec": {"selector": {"matchLabels": labels}, "template": {
                "metadata": {"labels": labels}, "spec": {"containers": [{"name": "app", "image": "nginx"}]}}}}


def test_a_deployment_reads_its_best_pod_and_says_so(cluster: engine.Cluster) -> None:
    serve_logs(cluster)
    cluster.admin.create(deployment("web", {"app": "web"}))
    add_pod(cluster, "web-pending", labels={"app": "web"})
    add_pod(cluster, "web-late", node="node-1", labels={"app": "web"},
            status=ready_status("2025-01-01T00:00:09Z"))
    add_pod(cluster, "web-early", node="node-1", labels={"app": "web"},
            status=ready_status("2025-01-01T00:00:05Z"))
    add_pod(cluster, "other", node="node-1", labels={"app": "other"}, status=ready_status("2025-01-01T00:00:01Z"))
    assert cluster.kubectl("logs deploy/web") == (
        "Found 3 pods, using pod/web-early\nweb-early app one\nweb-early app two\n")
    assert cluster.kubectl("logs deployment/web -c app --tail=1") == (
        "Found 3 pods, using pod/web-early\nweb-early app one\nweb-early app two\n")


@pytest.mark.parametrize("body, command", [
    pytest.param({"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "agent"},
                  "spec": {"selector": {"matchLabels": {"app": "db"}}, "template": {
                      "metadata": {"labels": {"app": "db"}}, "spec": {"containers": [{"name": "a", "image": "x"}]}}}},
                 "logs ds/agent", id="daemonset"),
    pytest.param({"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "db"},
                  "spec": {"selector": {"matchExpressions": [{"key": "app", "operator": "In", "values": ["db"]}]},
                           "serviceName": "db", "template": {
                      "metadata": {"labels": {"app": "db"}}, "spec": {"containers": [{"name": "a", "image": "x"}]}}}},
                 "logs sts/db", id="statefulset with matchExpressions"),
    pytest.param({"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": "db-1"},
                  "spec": {"selector": {"matchLabels": {"app": "db"}}, "template": {
                      "metadata": {"labels": {"app": "db"}}, "spec": {"containers": [{"name": "a", "image": "x"}]}}}},
                 "logs rs/db-1", id="replicaset"),
    pytest.param({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "db"},
                  "spec": {"selector": {"app": "db"}, "ports": [{"port": 80}]}}, "logs svc/db", id="service"),
])
def test_workloads_read_their_pods(cluster: engine.Cluster, body: dict, command: str) -> None:
    serve_logs(cluster)
    cluster.admin.create(body)
    add_pod(cluster, "db-0", node="node-1", labels={"app": "db"}, status=ready_status("2025-01-01T00:00:05Z"))
    assert cluster.kubectl(command) == "db-0 app one\ndb-0 app two\n"


def test_a_job_reads_its_pod_in_another_namespace(cluster: engine.Cluster) -> None:
    serve_logs(cluster)
    cluster.admin.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "batch"}})
    cluster.run(1)      # the namespace's default ServiceAccount
    cluster.admin.create({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "pi", "namespace": "batch"},
                          "spec": {"template": {"spec": {"restartPolicy": "Never",
                                                         "containers": [{"name": "pi", "image": "perl"}]}}}})
    job = cluster.admin.get("jobs", "pi", "batch")
    add_pod(cluster, "pi-x", node="node-1", namespace="batch", labels=job["spec"]["template"]["metadata"]["labels"],
            status=ready_status("2025-01-01T00:00:05Z"))
    assert cluster.kubectl("logs job/pi -n batch") == "pi-x app one\npi-x app two\n"


def test_workload_errors(cluster: engine.Cluster) -> None:
    serve_logs(cluster)
    cluster.admin.create(deployment("web", {"app": "web"}))
    cluster.admin.create({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "ext"},
                          "spec": {"ports": [{"port": 80}]}})
    cluster.admin.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg"}})
    assert cluster.kubectl("logs deploy/web") == "error: timed out waiting for the condition\n"
    assert cluster.kubectl("logs deploy/nope") == (
        'error: error from server (NotFound): deployments.apps "nope" not found in namespace "default"\n')
    assert cluster.kubectl("logs svc/ext") == (
        "error: cannot get the logs from *v1.Service: invalid service 'ext': Service is defined without a selector\n")
    assert cluster.kubectl("logs cm/cfg") == (
        "error: cannot get the logs from *v1.ConfigMap: selector for *v1.ConfigMap not implemented\n")
    assert cluster.kubectl("logs web -l app=web") == "error: only a selector (-l) or a POD name is allowed\n"
    assert cluster.kubectl("logs web app -c app") == "error: only one of -c or an inline [CONTAINER] arg is allowed\n"


def test_a_selector_reads_every_pod_with_a_tail_of_ten(cluster: engine.Cluster) -> None:
    seen: list = []
    serve_logs(cluster, seen)
    for name in ("web-a", "web-b"):
        add_pod(cluster, name, node="node-1", labels={"app": "web"}, status=ready_status("2025-01-01T00:00:05Z"),
                containers=[{"name": "app", "image": "nginx"}, {"name": "side", "image": "busybox"}])
    assert cluster.kubectl("logs -l app=web --prefix") == (
        'Defaulted container "app" out of: app, side\nDefaulted container "app" out of: app, side\n'
        "[pod/web-a/app] web-a app one\n[pod/web-a/app] web-a app two\n"
        "[pod/web-b/app] web-b app one\n[pod/web-b/app] web-b app two\n")
    assert seen == [("web-a", {"container": "app", "tailLines": 10}), ("web-b", {"container": "app", "tailLines": 10})]
    assert cluster.kubectl("logs -l app=web --all-containers --tail=-1 --prefix").count("\n") == 8
    assert cluster.kubectl("logs -l app=web --all-containers -f").count("\n") == 8     # 4 streams, 5 allowed
    assert cluster.kubectl("logs -l app=web --all-containers -f --max-log-requests=3") == (
        "error: you are attempting to follow 4 log streams, but maximum allowed concurrency is 3, use "
        "--max-log-requests to increase the limit\n")
    assert cluster.kubectl("logs -l app=none") == "No resources found in default namespace.\n"


def test_by_logging_order() -> None:
    def pod(name: str, *, node: str = "n", phase: str = "Running", ready: str | None = None, restarts: int = 0,
            created: str = "2025-01-01T00:00:00Z") -> dict:
        conditions = [{"type": "Ready", "status": "True", "lastTransitionTime": ready}] if ready else []
        return {"metadata": {"name": name, "creationTimestamp": created}, "spec": {"nodeName": node},
                "status": {"phase": phase, "conditions": conditions,
                           "containerStatuses": [{"name": "c", "restartCount": restarts}]}}
    pods = [pod("unscheduled", node=""), pod("pending", phase="Pending"), pod("unknown", phase="Unknown"),
            pod("young", created="2025-01-01T00:00:09Z"), pod("old"), pod("restarted", restarts=3),
            pod("ready-late", ready="2025-01-01T00:00:09Z"), pod("ready-early", ready="2025-01-01T00:00:02Z")]
    assert [p["metadata"]["name"] for p in sorted(pods, key=by_logging)] == [
        "ready-early", "ready-late", "restarted", "old", "young", "unknown", "pending", "unscheduled"]
