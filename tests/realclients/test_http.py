"""The HTTP front at the wire: documents, status codes and bad input, with the standard library's client.

Every failure is a ``Status`` JSON body with the real code, and the server
keeps serving after each one.
"""

from __future__ import annotations

import http.client
import json
import ssl
from typing import Any

import pytest

from engine.apiserver.http.serve import ServeHandle
from engine.cluster import Cluster

TABLE = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json"
AGGREGATED = ("application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,"
              "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json")


class Response:
    def __init__(self, raw: http.client.HTTPResponse) -> None:
        self.status = raw.status
        self.headers = raw.headers
        self.body = raw.read()

    def json(self) -> Any:
        return json.loads(self.body)


def call(handle: ServeHandle, method: str, path: str, body: bytes | str | None = None, *,
         headers: dict[str, str] | None = None, token: str | None = "admin") -> Response:
    if handle.tls is not None:
        context = ssl.create_default_context(cafile=str(handle.tls.ca_cert))
        connection: http.client.HTTPConnection = http.client.HTTPSConnection("127.0.0.1", handle.port, timeout=30,
                                                                             context=context)
    else:
        connection = http.client.HTTPConnection("127.0.0.1", handle.port, timeout=30)
    sent = dict(headers or {})
    if token == "admin":
        token = handle.token
    if token:
        sent["Authorization"] = f"Bearer {token}"
    try:
        connection.request(method, path, body=body.encode() if isinstance(body, str) else body, headers=sent)
        return Response(connection.getresponse())
    finally:
        connection.close()


def still_serving(handle: ServeHandle) -> bool:
    return call(handle, "GET", "/version").json()["gitVersion"] == "v1.31.0"


CONFIGMAP = json.dumps({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "http-cm"}})
PODS = "/api/v1/namespaces/default/pods"
PROTOBUF = "application/vnd.kubernetes.protobuf"


@pytest.mark.parametrize("method, path, body, headers, code, reason, message", [
    pytest.param("POST", "/api/v1/namespaces/default/configmaps", '{"apiVersion": "v1", "kind": ', 
                 {"Content-Type": "application/json"}, 400, "BadRequest", "couldn't get version/kind; json parse error",
                 id="malformed JSON is a 400"),
    pytest.param("POST", "/api/v1/namespaces/default/configmaps", CONFIGMAP, {"Content-Type": "text/plain"},
                 415, "UnsupportedMediaType", "the body of the request was in an unknown format",
                 id="a body of an unknown type is a 415"),
    pytest.param("POST", "/api/v1/namespaces/default/configmaps", b"k8s\x00\x0a\x00", {"Content-Type": PROTOBUF},
                 415, "UnsupportedMediaType", "the body of the request was in an unknown format - accepted media "
                 "types include: application/json, application/yaml", id="a kind not read as protobuf is a 415"),
    pytest.param("POST", "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings", CONFIGMAP,
                 {"Content-Type": PROTOBUF}, 400, "BadRequest", "the object provided is unrecognized (must be of type "
                 "ClusterRoleBinding): provided data does not appear to be a protobuf message",
                 id="a protobuf body without the k8s magic is a 400"),
    pytest.param("POST", "/api/v1/namespaces/default/configmaps?fieldValidation=Strict",
                 CONFIGMAP.replace('"metadata"', '"dat": {}, "metadata"'), {"Content-Type": "application/json"},
                 400, "BadRequest", 'ConfigMap in version "v1" cannot be handled as a ConfigMap: strict decoding '
                 'error: unknown field "dat"', id="an unknown field under Strict field validation is a 400"),
    pytest.param("PATCH", "/api/v1/namespaces/default/configmaps/x", "{}", {"Content-Type": "application/json"},
                 415, "UnsupportedMediaType", "the body of the request was in an unknown format",
                 id="a PATCH must name its patch type"),
    pytest.param("POST", "/api/v1/namespaces/default/configmaps", "x" * (3 * 1024 * 1024 + 1),
                 {"Content-Type": "application/json"}, 413, "RequestEntityTooLarge",
                 "Request entity too large: limit is 3145728", id="a body over 3 MiB is a 413"),
    pytest.param("GET", "/api/v1/namespaces/default/widgets", None, {}, 404, "NotFound",
                 "the server could not find the requested resource", id="an unknown resource is a 404"),
    pytest.param("GET", "/nowhere", None, {}, 404, "NotFound", "the server could not find the requested resource",
                 id="an unknown path is a 404"),
    pytest.param("PUT", "/api/v1/namespaces/default/configmaps", CONFIGMAP, {"Content-Type": "application/json"},
                 405, "MethodNotAllowed", "the server does not allow this method on the requested resource",
                 id="PUT on a collection is a 405"),
    pytest.param("GET", "/api/v1/namespaces/default/configmaps/absent", None, {}, 404, "NotFound",
                 'configmaps "absent" not found', id="a missing object is the API server's 404"),
    pytest.param("GET", "/api/v1/namespaces/default/pods?limit=ten", None, {}, 400, "BadRequest",
                 'invalid value for "limit"', id="a query parameter that is not a number is a 400"),
])
def test_bad_requests_get_a_status_with_the_real_code(served: ServeHandle, method: str, path: str,
                                                     body: str | bytes | None,
                                                     headers: dict, code: int, reason: str, message: str) -> None:
    response = call(served, method, path, body, headers=headers)
    assert response.status == code
    status = response.json()
    assert (status["kind"], status["status"], status["code"], status["reason"]) == ("Status", "Failure", code, reason)
    assert status["message"].startswith(message)
    assert still_serving(served)


def test_an_unknown_field_is_dropped_with_a_warning_by_default(served: ServeHandle, cluster: Cluster) -> None:
    body = json.dumps({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "http-warned"},
                       "data": {"a": "1"}, "dat": {"b": "2"}})
    response = call(served, "POST", "/api/v1/namespaces/default/configmaps", body,
                    headers={"Content-Type": "application/json"})
    assert response.status == 201
    assert response.headers.get_all("Warning") == ['299 - "unknown field \\"dat\\""']
    assert "dat" not in response.json()
    assert served.call(cluster.admin.get, "configmaps", "http-warned", "default")["data"] == {"a": "1"}


def test_a_wrong_token_is_401_over_http_and_https(served: ServeHandle, served_tls: ServeHandle) -> None:
    for handle in (served, served_tls):
        response = call(handle, "GET", PODS, token="not-a-token")
        assert response.status == 401
        assert response.json()["message"] == "Unauthorized"
        assert still_serving(handle)


def test_without_credentials_https_requests_are_the_anonymous_user(served_tls: ServeHandle) -> None:
    response = call(served_tls, "GET", PODS, token=None)
    assert response.status == 403
    assert still_serving(served_tls)
    assert response.json()["message"] == ('pods is forbidden: User "system:anonymous" cannot list resource "pods" in '
                                          'API group "" in the namespace "default"')
    # system:public-info-viewer lets anyone read /version and the health checks.
    assert call(served_tls, "GET", "/version", token=None).status == 200
    assert call(served_tls, "GET", "/healthz", token=None).body == b"ok"
    assert call(served_tls, "GET", "/api", token=None).status == 403


def test_legacy_discovery_lists_subresources_with_their_kinds(served: ServeHandle) -> None:
    resources = {r["name"]: r for r in call(served, "GET", "/apis/apps/v1").json()["resources"]}
    assert resources["deployments"]["shortNames"] == ["deploy"]
    assert resources["deployments"]["categories"] == ["all"]
    assert resources["deployments"]["singularName"] == "deployment"
    assert (resources["deployments/scale"]["group"], resources["deployments/scale"]["kind"]) == ("autoscaling", "Scale")
    groups = call(served, "GET", "/apis").json()
    assert groups["kind"] == "APIGroupList"
    assert "apps" in [group["name"] for group in groups["groups"]]


def test_aggregated_discovery_is_sent_when_asked_for(served: ServeHandle) -> None:
    response = call(served, "GET", "/apis", headers={"Accept": AGGREGATED})
    assert response.headers["Content-Type"] == "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
    document = response.json()
    assert document["kind"] == "APIGroupDiscoveryList"
    apps = next(item for item in document["items"] if item["metadata"]["name"] == "apps")
    deployments = next(r for r in apps["versions"][0]["resources"] if r["resource"] == "deployments")
    assert deployments["scope"] == "Namespaced"
    assert {"subresource": "scale", "responseKind": {"group": "autoscaling", "version": "v1", "kind": "Scale"},
            "verbs": ["get", "patch", "update"]} in deployments["subresources"]


def test_a_table_has_the_pod_printer_columns_with_wide_ones_at_priority_1(served: ServeHandle,
                                                                         cluster: Cluster) -> None:
    cluster.apply({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "table-pod"},     # no node fits: Pending
                   "spec": {"nodeSelector": {"disk": "none"}, "containers": [{"name": "c", "image": "busybox"}]}})
    table = call(served, "GET", PODS, headers={"Accept": TABLE}).json()
    assert (table["kind"], table["apiVersion"]) == ("Table", "meta.k8s.io/v1")
    assert [(c["name"], c["priority"]) for c in table["columnDefinitions"]] == [
        ("Name", 0), ("Ready", 0), ("Status", 0), ("Restarts", 0), ("Age", 0), ("IP", 1), ("Node", 1),
        ("Nominated Node", 1), ("Readiness Gates", 1)]
    row = next(row for row in table["rows"] if row["cells"][0] == "table-pod")
    assert row["cells"][1:4] == ["0/1", "Pending", "0"]
    assert row["object"]["kind"] == "PartialObjectMetadata"
    full = call(served, "GET", PODS + "/table-pod?includeObject=Object", headers={"Accept": TABLE}).json()
    assert full["rows"][0]["object"]["kind"] == "Pod"


def test_pod_logs_go_through_the_connect_handler_registry(served: ServeHandle, cluster: Cluster) -> None:
    cluster.apply({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "log-pod"},
                   "spec": {"containers": [{"name": "c", "image": "busybox"}]}})
    kubelets = served.call(cluster.apiserver.connect_handlers.pop, ("pods", "log"))
    seen: list[dict] = []

    def logs(request: Any, pod: dict) -> str:
        seen.append(dict(request.params))
        return f"hello from {pod['metadata']['name']}\n"
    try:
        missing = call(served, "GET", PODS + "/log-pod/log")
        assert missing.status == 404                  # nothing serves the subresource
        served.call(cluster.apiserver.register_connect, "pods", "log", logs)
        response = call(served, "GET", PODS + "/log-pod/log?container=c&tailLines=10&previous=false")
    finally:
        served.call(cluster.apiserver.register_connect, "pods", "log", kubelets)
    assert (response.status, response.body) == (200, b"hello from log-pod\n")
    assert seen == [{"container": "c", "tailLines": 10, "previous": False}]


def test_a_watch_is_chunked_json_lines_ending_at_timeout_seconds(served: ServeHandle) -> None:
    response = call(served, "GET", "/api/v1/namespaces?watch=1&timeoutSeconds=1&fieldSelector=metadata.name%3Ddefault")
    assert response.status == 200
    assert response.headers["Transfer-Encoding"] == "chunked"
    events = [json.loads(line) for line in response.body.splitlines()]
    assert [(e["type"], e["object"]["metadata"]["name"]) for e in events] == [("ADDED", "default")]


def test_yaml_bodies_and_dry_run_are_accepted(served: ServeHandle, cluster: Cluster) -> None:
    manifest = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: yaml-cm\ndata:\n  a: b\n"
    dry = call(served, "POST", "/api/v1/namespaces/default/configmaps?dryRun=All&fieldValidation=Strict", manifest,
               headers={"Content-Type": "application/yaml"})
    assert dry.status == 201 and dry.json()["data"] == {"a": "b"}
    assert call(served, "GET", "/api/v1/namespaces/default/configmaps/yaml-cm").status == 404
    created = call(served, "POST", "/api/v1/namespaces/default/configmaps", manifest,
                   headers={"Content-Type": "application/yaml"})
    assert created.status == 201
    assert cluster.get("cm", "yaml-cm")["data"] == {"a": "b"}


def test_the_openapi_v3_index_points_at_each_group_version(served: ServeHandle) -> None:
    index = call(served, "GET", "/openapi/v3").json()["paths"]
    url = index["apis/apps/v1"]["serverRelativeURL"]
    assert url.startswith("/openapi/v3/apis/apps/v1?hash=")
    document = call(served, "GET", url).json()
    deployment = document["components"]["schemas"]["io.k8s.api.apps.v1.Deployment"]
    assert deployment["x-kubernetes-group-version-kind"] == [{"group": "apps", "kind": "Deployment", "version": "v1"}]
    swagger = call(served, "GET", "/openapi/v2", headers={"Accept": "application/json"}).json()
    assert "io.k8s.api.apps.v1.Deployment" in swagger["definitions"]


@pytest.mark.parametrize("path, body, code, answer", [
    pytest.param("/api/v1/namespaces/default/configmaps/del-cm", None, 200, "Status",
                 id="an object deleted at once is answered with a success Status naming it"),
    pytest.param("/api/v1/namespaces/default/pods/del-pod", None, 200, "Pod",
                 id="a pod's storage returns the deleted pod itself"),
    pytest.param("/api/v1/namespaces/default/configmaps/del-fg", '{"propagationPolicy": "Foreground"}', 200,
                 "ConfigMap", id="an object waiting for finalizers comes back as it now is"),
])
def test_delete_answers_as_the_real_handler(served: ServeHandle, cluster: Cluster, path: str, body: str | None,
                                            code: int, answer: str) -> None:
    name = path.rsplit("/", 1)[1]
    if "/pods/" in path:
        cluster.apply({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
                       "spec": {"containers": [{"name": "c", "image": "busybox"}]}})
    else:
        cluster.apply({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}})
    response = call(served, "DELETE", path, body, headers={"Content-Type": "application/json"})
    assert response.status == code
    result = response.json()
    assert result["kind"] == answer
    if answer == "Status":
        assert result["status"] == "Success"
        assert (result["details"]["name"], result["details"]["kind"]) == (name, "configmaps")
