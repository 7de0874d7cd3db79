"""The life of a request: twelve steps read from a real flannel cluster, and where a broken app stops."""

from __future__ import annotations

import pytest

import engine
from engine.viz.request_life import COLORS, DONE, FAILED, NOT_REACHED, life_of_a_request, request_life, stages_text

WEB = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: NAME}
spec:
  replicas: 2
  selector: {matchLabels: {app: NAME}}
  template:
    metadata: {labels: {app: NAME}}
    spec:
      containers:
      - name: nginx
        image: IMAGE
        ports: [{containerPort: 80}]
        readinessProbe: {httpGet: {path: /, port: 80}, periodSeconds: 2}
---
apiVersion: v1
kind: Service
metadata: {name: NAME}
spec:
  selector: {app: SELECTOR}
  ports: [{port: 80, targetPort: 80}]
"""


def app(name: str, image: str = "nginx:1.27", selector: str | None = None) -> str:
    return WEB.replace("SELECTOR", selector or name).replace("NAME", name).replace("IMAGE", image)


@pytest.fixture(scope="module")
def c() -> engine.Cluster:
    cluster = engine.Cluster(nodes=2, seed=0, network="flannel")
    cluster.apply({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "client"},
                   "spec": {"containers": [{"name": "sh", "image": "busybox:1.36", "command": ["sleep", "3600"]}]}})
    cluster.run(30)
    return cluster


def life(c: engine.Cluster, name: str, manifest: str, seconds: float = 15) -> list:
    since = c.now
    try:
        c.apply(manifest)
    except engine.ApiError:
        pass
    c.run(seconds)
    return life_of_a_request(c, deployment=name, service=name, since=since,
                             curl=c.curl("client", f"http://{name}/", connect_timeout=2))


def states(stages: list) -> list[str]:
    return [stage.state for stage in stages]


def test_a_working_app_goes_through_all_twelve_steps_in_time_order(c) -> None:
    stages = life(c, "web", app("web"))
    assert states(stages) == [DONE] * 12, stages_text(stages)
    times = [stage.time for stage in stages if stage.time is not None]
    assert times == sorted(times) and len(times) >= 7
    by_number = {stage.number: stage for stage in stages}
    assert by_number[1].detail.startswith("create deployments/web as kubernetes-admin: 201")
    assert by_number[5].source == "kube-scheduler" and "-> node-" in by_number[5].detail
    ip = c.get("service", "web")["spec"]["clusterIP"]
    assert by_number[10].detail == f"web -> NOERROR {ip}"
    assert by_number[12].detail.endswith("Nginx listening on :80, HTTP 200")


def test_an_invalid_manifest_stops_at_the_api_server(c) -> None:
    stages = life(c, "bad", app("bad").replace("replicas: 2", 'replicas: "two"'), seconds=2)
    assert states(stages) == [FAILED] + [NOT_REACHED] * 11
    assert "422 invalid" in stages[0].detail


def test_a_missing_image_stops_at_the_kubelet_with_the_pull_error(c) -> None:
    stages = life(c, "typo", app("typo", image="nginx:1.277"))
    assert states(stages) == [DONE] * 5 + [FAILED] + [NOT_REACHED] * 6
    assert 'Failed to pull image "nginx:1.277"' in stages[5].detail and "not found" in stages[5].detail


def test_a_selector_that_matches_nothing_stops_at_the_endpoints(c) -> None:
    stages = life(c, "lonely", app("lonely", selector="nobody"))
    assert states(stages) == [DONE] * 7 + [FAILED] + [NOT_REACHED] * 4
    assert "selector" in stages[7].detail


def test_the_picture_colours_each_step_by_its_state(c) -> None:
    source = request_life(life(c, "typo2", app("typo2", image="nginx:1.277"))).source
    assert source.count(f'fontcolor="{COLORS[DONE]}"') == 5
    assert source.count(f'fontcolor="{COLORS[FAILED]}"') == 1
    assert source.count(f'fontcolor="{COLORS[NOT_REACHED]}" penwidth=1.2 style=dashed') == 6
    assert "6. sandbox, pod IP, image, container" in source
