"""Whole clusters on the simulated cloud: real kubelets and scheduler, with the cloud-controller-manager.

The kube-controller-manager / cloud-controller-manager split as a user meets it: nodes that are
useless until the cloud has initialised them, a machine deleted in the cloud's console vanishing
from the cluster, a LoadBalancer Service getting an address from a flaky cloud and giving it back
on delete, and a disk that follows its pod from node to node.
"""

from __future__ import annotations

import engine
from engine.components import COMPONENTS
from engine.kubelet import KUBELET
from engine.scheduler import SCHEDULER

ZONE = "topology.kubernetes.io/zone"


def cloud_cluster(nodes: int = 3) -> engine.Cluster:
    return engine.Cluster(nodes=nodes, seed=0, cloud="sim", components=[COMPONENTS[0], SCHEDULER, KUBELET])


def deployment(name: str, replicas: int, *, node_selector: dict | None = None, volumes: list | None = None) -> dict:
    container = {"name": "web", "image": "nginx", "ports": [{"containerPort": 80}]}
    spec: dict = {"containers": [container]}
    if node_selector:
        spec["nodeSelector"] = node_selector
    if volumes:
        spec["volumes"] = volumes
        container["volumeMounts"] = [{"name": v["name"], "mountPath": "/data"} for v in volumes]
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}}, "spec": spec}}}


def running(cluster: engine.Cluster, app: str) -> list[dict]:
    return [p for p in cluster.list("pods", selector=f"app={app}")
            if p["status"].get("phase") == "Running" and not p["metadata"].get("deletionTimestamp")]


def test_a_new_node_takes_no_pods_until_the_cloud_has_initialised_it():
    cluster = cloud_cluster()
    assert all(n["spec"].get("providerID") and ZONE in n["metadata"]["labels"] for n in cluster.list("nodes"))
    cluster.cloud.inject("DescribeInstances", times=10_000)        # the cloud's API is down while node-3 rejoins
    cluster.admin.delete("nodes", "node-3")
    cluster.restore_node("node-3")
    cluster.apply({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "pinned"},
                   "spec": {"nodeSelector": {"kubernetes.io/hostname": "node-3"},
                            "containers": [{"name": "web", "image": "nginx"}]}})
    cluster.run(3)
    node = cluster.get("node", "node-3", None)
    assert {"key": "node.cloudprovider.kubernetes.io/uninitialized", "value": "true", "effect": "NoSchedule"} \
        in node["spec"]["taints"]
    assert cluster.get("pod", "pinned")["status"]["phase"] == "Pending"
    cluster.cloud.clear_faults()                                     # back up: the next retry initialises it
    cluster.run(60)
    node = cluster.get("node", "node-3", None)
    assert not node["spec"].get("taints") and node["metadata"]["labels"][ZONE] == "sim-east-1c"
    assert node["metadata"]["labels"]["node.kubernetes.io/instance-type"] == "c1.xlarge"
    pod = cluster.get("pod", "pinned")
    assert pod["spec"]["nodeName"] == "node-3" and pod["status"]["phase"] == "Running"


def test_an_instance_deleted_in_the_cloud_takes_its_node_away_and_its_pods_move():
    cluster = cloud_cluster()
    cluster.apply(deployment("web", 3))
    cluster.run(20)
    victim = running(cluster, "web")[0]["spec"]["nodeName"]
    cluster.cloud.inject("instance-terminated", instance=victim)    # someone deletes the machine in the console
    cluster.run(70)
    assert victim not in {n["metadata"]["name"] for n in cluster.list("nodes")}
    cluster.run(60)                                                  # pod GC, then the ReplicaSet replaces them
    pods = running(cluster, "web")
    assert len(pods) == 3 and victim not in {p["spec"]["nodeName"] for p in pods}


def test_a_load_balancer_service_gets_a_cloud_address_through_errors_and_gives_it_back():
    cluster = cloud_cluster()
    cluster.apply(deployment("web", 2))
    cluster.cloud.inject("CreateLoadBalancer", times=2)
    cluster.apply({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
                   "spec": {"type": "LoadBalancer", "selector": {"app": "web"},
                            "ports": [{"port": 80, "targetPort": 80}]}})
    cluster.run(30)
    service = cluster.get("svc", "web")
    [ingress] = service["status"]["loadBalancer"]["ingress"]
    node_port = service["spec"]["ports"][0]["nodePort"]
    [lb] = cluster.cloud.describe_load_balancers()
    assert lb.address == ingress["ip"] and lb.state == "active"
    workers = {i.private_ip for i in cluster.cloud.describe_instances() if i.name != "control-plane"}
    assert {cluster.cloud.forward(ingress["ip"], 80) for _ in range(3)} == {(ip, node_port) for ip in workers}
    reasons = [e["reason"] for e in cluster.list("events") if e["involvedObject"]["name"] == "web"
               and e["involvedObject"]["kind"] == "Service"]
    assert {"SyncLoadBalancerFailed", "EnsuredLoadBalancer"} <= set(reasons)
    cluster.delete("svc", "web")
    cluster.run(5)
    assert "web" not in {s["metadata"]["name"] for s in cluster.list("svc")}
    assert cluster.cloud.describe_load_balancers() == []
    assert cluster.cloud.forward(ingress["ip"], 80) is None


def test_a_dynamically_provisioned_disk_follows_its_pod_to_another_node():
    cluster = cloud_cluster(nodes=4)                                 # node-1 and node-4 share sim-east-1a
    cluster.apply({"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": "disk"},
                   "provisioner": "disk.csi.sim.local",
                   "allowedTopologies": [{"matchLabelExpressions": [{"key": ZONE, "values": ["sim-east-1a"]}]}]})
    cluster.apply({"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "data"},
                   "spec": {"storageClassName": "disk", "accessModes": ["ReadWriteOnce"],
                            "resources": {"requests": {"storage": "5Gi"}}}})
    cluster.run(5)                          # the PV controller hands the claim to the provisioner, then binds it
    assert cluster.get("pvc", "data")["status"]["phase"] == "Bound"
    cluster.apply(deployment("db", 1, node_selector={ZONE: "sim-east-1a"},
                             volumes=[{"name": "data", "persistentVolumeClaim": {"claimName": "data"}}]))
    cluster.run(30)
    [pod] = running(cluster, "db")
    first = pod["spec"]["nodeName"]
    [disk] = cluster.cloud.describe_volumes()
    assert disk.attachment.instance_id == cluster.cloud.describe_instances(names=[first])[0].id
    unique = f"kubernetes.io/csi/disk.csi.sim.local^{disk.id}"
    node = cluster.get("node", first, None)
    assert node["status"]["volumesAttached"][0]["name"] == unique and node["status"]["volumesInUse"] == [unique]

    cluster.kubectl(f"cordon {first}")
    cluster.delete("pod", pod["metadata"]["name"])
    cluster.run(60)
    [moved] = running(cluster, "db")
    second = moved["spec"]["nodeName"]
    assert second != first and cluster.get("node", second, None)["metadata"]["labels"][ZONE] == "sim-east-1a"
    [disk] = cluster.cloud.describe_volumes()
    assert disk.attachment.instance_id == cluster.cloud.describe_instances(names=[second])[0].id
    assert not cluster.get("node", first, None)["status"].get("volumesAttached")
    [attachment] = cluster.list("volumeattachments", None)
    assert attachment["spec"]["nodeName"] == second and attachment["status"]["attached"]

