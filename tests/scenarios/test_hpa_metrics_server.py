"""The docs' HorizontalPodAutoscaler walkthrough, as written: php-apache, ``kubectl autoscale``, a load generator.

The php-apache Deployment and Service (``registry.k8s.io/hpa-example``: every request burns CPU), metrics-server
installed, ``kubectl autoscale deployment php-apache --cpu-percent=50 --min=1 --max=10`` (an autoscaling/v1 HPA,
stored as v2), then the load generator (``kubectl run load-generator --image=busybox:1.28 --restart=Never -- /bin/sh
-c "while sleep 0.01; do wget -q -O- http://php-apache; done"``, without ``-i --tty --rm``): the HPA reads the
pods' PodMetrics through the API server, which proxies to the metrics-server pod, and scales up; when the load
generator is deleted it scales back to 1, but only after the 300 s downscale stabilization window.
"""

from __future__ import annotations

import pytest

import engine
from engine.addons import metrics_server
from engine.components import COMPONENTS
from engine.kubelet import KUBELET
from engine.scheduler import SCHEDULER

PHP_APACHE = """
apiVersion: apps/v1
kind: Deployment
metadata:
  name: php-apache
spec:
  selector:
    matchLabels:
      run: php-apache
  template:
    metadata:
      labels:
        run: php-apache
    spec:
      containers:
      - name: php-apache
        image: registry.k8s.io/hpa-example
        ports:
        - containerPort: 80
        resources:
          limits:
            cpu: 500m
          requests:
            cpu: 200m
---
apiVersion: v1
kind: Service
metadata:
  name: php-apache
  labels:
    run: php-apache
spec:
  ports:
  - port: 80
  selector:
    run: php-apache
"""

LOAD = ('run load-generator --image=busybox:1.28 --restart=Never -- /bin/sh -c '
        '"while sleep 0.01; do wget -q -O- http://php-apache; done"')


@pytest.fixture(scope="module")
def cluster():
    c = engine.Cluster(nodes=1, seed=0, components=[*COMPONENTS, SCHEDULER, KUBELET], network="flannel")
    metrics_server.install(c)
    c.apply(PHP_APACHE)
    c.run(30)
    return c


def replicas(cluster) -> int:
    return cluster.get("deployments", "php-apache")["spec"]["replicas"]


def rescales(cluster) -> list[str]:
    return [e["message"] for e in cluster.list("events") if e["involvedObject"]["name"] == "php-apache"
            and e["involvedObject"]["kind"] == "HorizontalPodAutoscaler" and e["reason"] == "SuccessfulRescale"]


def test_php_apache_answers_ok_and_logs_the_request(cluster):
    pod = cluster.list("pods", selector="run=php-apache")[0]["metadata"]["name"]
    assert cluster.kubectl(f"exec {pod} -- wget -q -O- http://php-apache") == "OK!\n"
    assert '"GET / HTTP/1.1" 200 3' in cluster.kubectl(f"logs {pod}")


def test_kubectl_autoscale_creates_the_walkthroughs_hpa(cluster):
    assert cluster.kubectl("autoscale deployment php-apache --cpu-percent=50 --min=1 --max=10") == \
        "horizontalpodautoscaler.autoscaling/php-apache autoscaled\n"
    spec = cluster.get("hpa", "php-apache")["spec"]
    assert spec == {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "php-apache"},
                    "minReplicas": 1, "maxReplicas": 10,
                    "metrics": [{"type": "Resource", "resource": {
                        "name": "cpu", "target": {"type": "Utilization", "averageUtilization": 50}}}]}
    cluster.run(60)
    assert "cpu: 0%/50%" in cluster.kubectl("get hpa")


def test_the_load_generator_scales_php_apache_up(cluster):
    assert cluster.kubectl(LOAD) == "pod/load-generator created\n"
    cluster.run(120)
    hpa = cluster.get("hpa", "php-apache")
    assert replicas(cluster) >= 4
    assert hpa["status"]["desiredReplicas"] == replicas(cluster)
    assert 35 <= hpa["status"]["currentMetrics"][0]["resource"]["current"]["averageUtilization"] <= 65
    assert rescales(cluster)[0].endswith("reason: cpu resource utilization (percentage of request) above target")
    assert cluster.get("pod", "load-generator")["status"]["phase"] == "Running"


def test_without_load_it_scales_down_to_one_after_the_stabilization_window(cluster):
    up = replicas(cluster)
    assert cluster.kubectl("delete pod load-generator") == 'pod "load-generator" deleted\n'
    cluster.run(240)
    assert replicas(cluster) == up                     # still inside the 5-minute stabilization window
    cluster.run(180)
    assert replicas(cluster) == 1
    assert rescales(cluster)[-1].endswith("reason: All metrics below target")
