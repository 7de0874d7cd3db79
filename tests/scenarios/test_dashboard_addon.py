"""The Dashboard add-on in a flannel cluster: a pod reached through services/proxy, as `kubectl proxy` users do.

``install`` applies the release manifest as the admin; the dashboard pod starts, reads the cluster as its
ServiceAccount through the ``kubernetes`` Service, and answers on 8443. The API server proxies
``.../services/https:kubernetes-dashboard:/proxy/...`` to the pod's IP from the control-plane node through the
pod network: the page's HTML (its absolute links rewritten), its JavaScript, its JSON API; a user without
``services/proxy`` gets 403; with no ready endpoint, 503. ``python -m engine serve --dashboard`` serves it.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import subprocess
import sys
import threading
import urllib.request
from pathlib import Path
from urllib.error import HTTPError

import pytest

import engine
from engine.addons import dashboard

SERVICE_ACCOUNT = "system:serviceaccount:kubernetes-dashboard:kubernetes-dashboard"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def cluster():
    c = engine.Cluster(nodes=2, seed=0, network="flannel")
    dashboard.install(c)
    c.apply({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "hello"},
             "spec": {"containers": [{"name": "hello", "image": "nginx:1.27"}]}})
    c.run(40)
    return c


def proxied(cluster, path, user=("kubernetes-admin", ("system:masters",))):
    return dashboard.fetch(cluster, path, user=user[0], groups=user[1])


def test_the_dashboard_runs_as_a_pod_reading_as_its_service_account(cluster):
    [pod] = cluster.list("pods", dashboard.NAMESPACE)
    assert pod["status"]["phase"] == "Running" and pod["spec"]["serviceAccountName"] == "kubernetes-dashboard"
    answer = proxied(cluster, "/api/v1/pod/default")
    assert answer.status == 200 and answer.content_type == "application/json"
    assert [p["objectMeta"]["name"] for p in json.loads(answer.body)["pods"]] == ["hello"]
    readers = {entry.user for entry in cluster.apiserver.audit.entries if entry.resource == "pods" and
               entry.verb == "list" and entry.namespace == "default"}
    assert SERVICE_ACCOUNT in readers
    logs = proxied(cluster, f"/api/v1/log/{dashboard.NAMESPACE}/{pod['metadata']['name']}")
    contents = [line["content"] for line in json.loads(logs.body)["logs"]]
    assert contents[0].endswith("Starting overwatch") and any("Serving securely on HTTPS port: 8443" in line
                                                             for line in contents)


def test_the_page_comes_through_the_proxy_with_its_links_rewritten(cluster):
    page = proxied(cluster, "/")
    assert page.status == 200 and page.content_type == "text/html; charset=utf-8"
    assert f'<script src="{dashboard.PROXY_PATH}app.js">' in page.body
    script = proxied(cluster, "/app.js")
    assert script.content_type == "application/javascript" and 'getJSON("api/v1/namespace")' in script.body


def test_a_user_without_services_proxy_is_forbidden(cluster):
    with pytest.raises(engine.ApiError) as caught:
        proxied(cluster, "/", user=("jane", ()))
    assert caught.value.code == 403
    assert caught.value.message == ('services "https:kubernetes-dashboard:" is forbidden: User "jane" cannot get '
                                    'resource "services/proxy" in API group "" in the namespace "kubernetes-dashboard"')


def test_over_http_every_content_type_passes_and_errors_are_status_json(cluster):
    with cluster.serve() as served:
        base = dashboard.url(served.url)
        with urllib.request.urlopen(base) as response:
            assert response.headers["Content-Type"] == "text/html; charset=utf-8"
            assert b"<title>Kubernetes Dashboard</title>" in response.read()
        with urllib.request.urlopen(base + "style.css") as response:
            assert response.headers["Content-Type"] == "text/css; charset=utf-8"
        with urllib.request.urlopen(base + "api/v1/node") as response:
            assert [n["objectMeta"]["name"] for n in json.load(response)["nodes"]][0] == "control-plane"
        connection = http.client.HTTPConnection(served.front.host, served.port, timeout=30)
        connection.request("GET", base[len(served.url):].rstrip("/"))
        redirect = connection.getresponse()
        redirect.read()
        assert (redirect.status, redirect.headers["Location"]) == (301, dashboard.PROXY_PATH)
        connection.close()
        request = urllib.request.Request(base, headers={
            "Authorization": f"Bearer {served.cluster.token_for('jane')}"})
        with pytest.raises(HTTPError) as caught:
            urllib.request.urlopen(request)
        status = json.loads(caught.value.read())
        assert (caught.value.code, status["reason"], status["details"]) == (
            403, "Forbidden", {"name": "https:kubernetes-dashboard:", "kind": "services"})


def test_with_no_ready_endpoint_the_proxy_answers_503(cluster):
    cluster.admin.scale("deployments", "kubernetes-dashboard", dashboard.NAMESPACE, 0)
    cluster.run(40)
    with pytest.raises(engine.ApiError) as caught:
        proxied(cluster, "/")
    assert (caught.value.code, caught.value.reason) == (503, "ServiceUnavailable")
    assert caught.value.message == 'no endpoints available for service "kubernetes-dashboard"'


def test_install_needs_a_pod_network():
    with pytest.raises(ValueError, match="network add-on"):
        dashboard.install(engine.Cluster(nodes=1, seed=0))


def test_engine_serve_dashboard_serves_the_add_on_ready(tmp_path):
    command = [sys.executable, "-m", "engine", "serve", "--dashboard", "--nodes", "1",
               "--kubeconfig", str(tmp_path / "kubeconfig")]
    process = subprocess.Popen(command, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               env={**os.environ, "PYTHONPATH": str(ROOT)})
    watchdog = threading.Timer(120, process.kill)         # a hung boot fails the test instead of blocking it
    watchdog.start()
    try:
        lines = []
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line)
            if line.startswith("Ctrl-C to stop."):
                break
        output = "".join(lines)
        assert f"then open {dashboard.url()}" in output, output
        server = re.search(r"at (http://127\.0\.0\.1:\d+)", output).group(1)
        with urllib.request.urlopen(dashboard.url(server) + "api/v1/pod/kubernetes-dashboard", timeout=30) as response:
            assert json.load(response)["status"]["running"] == 1
    finally:
        process.send_signal(signal.SIGTERM)
        remaining, _ = process.communicate(timeout=30)
        watchdog.cancel()
    assert process.returncode == 0 and remaining.strip().endswith("stopped.")
