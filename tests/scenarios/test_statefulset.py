"""StatefulSets on whole clusters: ordered start and stop, stable names and storage, partitioned updates.

``volumes`` makes the hostPath PersistentVolumes an administrator would; the PersistentVolume controller
binds each claim of the volumeClaimTemplates to one of them, which is what lets the kubelet mount it.
"""

from __future__ import annotations

import engine
from engine.api.meta import parse_timestamp

HEADLESS = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "nginx", "labels": {"app": "nginx"}},
            "spec": {"ports": [{"port": 80, "name": "web"}], "clusterIP": "None", "selector": {"app": "nginx"}}}


def cluster(nodes: int = 2) -> engine.Cluster:
    return engine.Cluster(nodes=nodes, seed=0)


def web(replicas: int = 3, image: str = "nginx:1.25", *, claims: bool = False, policy: str | None = None,
        partition: int | None = None) -> dict:
    spec: dict = {"selector": {"matchLabels": {"app": "nginx"}}, "serviceName": "nginx", "replicas": replicas,
                  "template": {"metadata": {"labels": {"app": "nginx"}}, "spec": {
                      "terminationGracePeriodSeconds": 10,
                      "containers": [{"name": "nginx", "image": image, "ports": [{"containerPort": 80, "name": "web"}],
                                      **({"volumeMounts": [{"name": "www", "mountPath": "/usr/share/nginx/html"}]}
                                         if claims else {})}]}}}
    if claims:
        spec["volumeClaimTemplates"] = [{"metadata": {"name": "www"}, "spec": {
            "accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}]
    if policy:
        spec["podManagementPolicy"] = policy
    if partition is not None:
        spec["updateStrategy"] = {"type": "RollingUpdate", "rollingUpdate": {"partition": partition}}
    return {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "web"}, "spec": spec}


def volumes(c: engine.Cluster, count: int = 3) -> None:
    """Statically provisioned volumes, one per claim the StatefulSet will make."""
    for index in range(count):
        c.apply({"apiVersion": "v1", "kind": "PersistentVolume", "metadata": {"name": f"pv-{index}"},
                 "spec": {"capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOnce"],
                          "hostPath": {"path": f"/mnt/pv-{index}"}}})


def ready_at(pod: dict) -> float | None:
    for condition in pod["status"].get("conditions") or ():
        if condition["type"] == "Ready" and condition["status"] == "True":
            return parse_timestamp(condition["lastTransitionTime"])
    return None


def live(c: engine.Cluster) -> list[str]:
    return sorted(p["metadata"]["name"] for p in c.list("pods", selector="app=nginx")
                  if not p["metadata"].get("deletionTimestamp"))


def sts_events(c: engine.Cluster) -> list[str]:
    found = [e for e in c.list("events") if e["involvedObject"]["kind"] == "StatefulSet"]
    found.sort(key=lambda e: (e["firstTimestamp"], e["metadata"]["name"]))
    return [e["message"] for e in found]


def test_pods_start_in_order_each_after_the_one_before_is_ready_with_their_own_claims():
    c = cluster()
    c.apply(HEADLESS)
    volumes(c)
    c.apply(web(claims=True))
    seen: list[str] = []
    for _ in range(90):
        c.run(1)
        for name in live(c):
            if name not in seen:
                seen.append(name)
    assert seen == ["web-0", "web-1", "web-2"]
    pods = {p["metadata"]["name"]: p for p in c.list("pods", selector="app=nginx")}
    for before, after in (("web-0", "web-1"), ("web-1", "web-2")):
        assert ready_at(pods[before]) <= parse_timestamp(pods[after]["metadata"]["creationTimestamp"])
    pod = pods["web-1"]
    assert (pod["spec"]["hostname"], pod["spec"]["subdomain"]) == ("web-1", "nginx")
    labels = pod["metadata"]["labels"]
    assert (labels["statefulset.kubernetes.io/pod-name"], labels["apps.kubernetes.io/pod-index"]) == ("web-1", "1")
    assert labels["controller-revision-hash"].startswith("web-")
    assert {"name": "www", "persistentVolumeClaim": {"claimName": "www-web-1"}} in pod["spec"]["volumes"]
    assert sorted(claim["metadata"]["name"] for claim in c.list("pvc")) == ["www-web-0", "www-web-1", "www-web-2"]
    assert all(claim["status"]["phase"] == "Bound" and claim["spec"]["volumeName"].startswith("pv-")
               for claim in c.list("pvc"))                 # bound by the PersistentVolume controller
    assert sts_events(c)[:2] == ["create Claim www-web-0 Pod web-0 in StatefulSet web success",
                                 "create Pod web-0 in StatefulSet web successful"]
    status = c.get("sts", "web")["status"]
    assert (status["replicas"], status["readyReplicas"], status["currentReplicas"], status["updatedReplicas"],
            status["availableReplicas"], status["observedGeneration"]) == (3, 3, 3, 3, 3, 1)
    assert status["currentRevision"] == status["updateRevision"] == labels["controller-revision-hash"]


def test_scaling_down_removes_the_highest_ordinal_first_one_at_a_time_and_keeps_the_claims():
    c = cluster()
    c.apply(HEADLESS)
    volumes(c)
    c.apply(web(claims=True))
    c.run(60)
    assert live(c) == ["web-0", "web-1", "web-2"]
    c.apply(web(replicas=1, claims=True))
    c.run(60)
    assert live(c) == ["web-0"]
    deletions = [m for m in sts_events(c) if m.startswith("delete Pod")]
    assert deletions == ["delete Pod web-2 in StatefulSet web successful",
                         "delete Pod web-1 in StatefulSet web successful"]
    assert len(c.list("pvc")) == 3                   # persistentVolumeClaimRetentionPolicy: Retain


def test_parallel_pod_management_starts_every_pod_at_once():
    c = cluster()
    c.apply(HEADLESS)
    c.apply(web(policy="Parallel"))
    c.run(2)
    assert live(c) == ["web-0", "web-1", "web-2"]


def test_a_partitioned_rolling_update_updates_only_ordinals_from_the_partition_highest_first():
    c = cluster()
    c.apply(HEADLESS)
    c.apply(web(partition=2))
    c.run(40)
    c.apply(web(image="nginx:1.27", partition=2))
    c.run(40)
    images = {p["metadata"]["name"]: p["spec"]["containers"][0]["image"] for p in c.list("pods")}
    assert images == {"web-0": "nginx:1.25", "web-1": "nginx:1.25", "web-2": "nginx:1.27"}
    status = c.get("sts", "web")["status"]
    assert (status["updatedReplicas"], status["currentReplicas"]) == (1, 2)
    assert status["currentRevision"] != status["updateRevision"]
    c.apply(web(image="nginx:1.27", partition=0))
    c.run(60)
    images = {p["metadata"]["name"]: p["spec"]["containers"][0]["image"] for p in c.list("pods")}
    assert images == {"web-0": "nginx:1.27", "web-1": "nginx:1.27", "web-2": "nginx:1.27"}
    deletions = [m.split()[2] for m in sts_events(c) if m.startswith("delete Pod")]
    assert deletions == ["web-2", "web-1", "web-0"]
    status = c.get("sts", "web")["status"]
    assert status["currentRevision"] == status["updateRevision"] and status["currentReplicas"] == 3
