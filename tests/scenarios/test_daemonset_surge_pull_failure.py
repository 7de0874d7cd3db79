"""A DaemonSet surge update to an image the registry does not have: the old pods keep running, the surge pods
back off pulling, and time keeps moving (a pod worker once spun forever at one virtual time here)."""

from __future__ import annotations

import copy

import engine

FLUENTD = {"apiVersion": "apps/v1", "kind": "DaemonSet",
           "metadata": {"name": "fluentd-elasticsearch", "namespace": "kube-system",
                        "labels": {"k8s-app": "fluentd-logging"}},
           "spec": {"selector": {"matchLabels": {"name": "fluentd-elasticsearch"}},
                    "updateStrategy": {"type": "RollingUpdate",
                                       "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}},
                    "template": {"metadata": {"labels": {"name": "fluentd-elasticsearch"}}, "spec": {
                        "tolerations": [{"key": "node-role.kubernetes.io/control-plane", "operator": "Exists",
                                         "effect": "NoSchedule"}],
                        "containers": [{"name": "fluentd-elasticsearch",
                                        "image": "quay.io/fluentd_elasticsearch/fluentd:v2.5.2",
                                        "resources": {"limits": {"memory": "200Mi"},
                                                      "requests": {"cpu": "100m", "memory": "200Mi"}}}],
                        "terminationGracePeriodSeconds": 30}}}}
"""The DaemonSet docs' example, with the surge strategy of "Perform a Rolling Update on a DaemonSet"."""


def test_a_surge_update_to_a_missing_image_backs_off_and_keeps_the_old_pods():
    c = engine.Cluster(nodes=2, seed=0)
    c.apply(FLUENTD)
    c.run(30)
    assert [p["status"]["phase"] for p in c.list("pods", namespace="kube-system",
                                                 selector="name=fluentd-elasticsearch")] == ["Running"] * 3
    update = copy.deepcopy(FLUENTD)
    update["spec"]["template"]["spec"]["containers"][0]["image"] = "nginx:9.99"
    c.apply(update)
    c.run(160)
    assert c.now >= 190
    pods = c.list("pods", namespace="kube-system", selector="name=fluentd-elasticsearch")
    images = {p["spec"]["containers"][0]["image"]: [] for p in pods}
    for p in pods:
        state = p["status"]["containerStatuses"][0]["state"]
        images[p["spec"]["containers"][0]["image"]].append(next(iter(state.values())).get("reason", "Running"))
    assert images.pop("quay.io/fluentd_elasticsearch/fluentd:v2.5.2") == ["Running"] * 3
    assert images in ({"nginx:9.99": ["ErrImagePull"]}, {"nginx:9.99": ["ImagePullBackOff"]})
