"""The EndpointSlice controller: its pure reconciler, and on a node-less cluster where the test writes pod statuses."""

import pytest

import engine
from engine.api.meta import timestamp
from engine.controllers.endpointslice import (CONTROLLER_NAME, MANAGED_BY_LABEL, SERVICE_NAME_LABEL, desired_state,
                                              pod_to_endpoint, reconcile)


def service(name="web", uid="svc-uid", **spec):
    spec.setdefault("selector", {"app": name})
    spec.setdefault("ports", [{"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"}])
    return {"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": name, "namespace": "default", "uid": uid, "labels": {"tier": "front"}},
            "spec": spec}


def pod(name, ip="10.244.1.5", ready=True, node="node-1", container_port=8080, deleting=False, **spec):
    meta = {"name": name, "namespace": "default", "uid": f"uid-{name}", "labels": {"app": "web"}}
    if deleting:
        meta["deletionTimestamp"] = "2025-01-01T00:00:10Z"
    return {"metadata": meta,
            "spec": {"nodeName": node, "containers": [{"name": "c", "ports": [
                {"name": "http", "containerPort": container_port, "protocol": "TCP"}]}], **spec},
            "status": {"phase": "Running", "podIP": ip, "podIPs": [{"ip": ip}],
                       "conditions": [{"type": "Ready", "status": "True" if ready else "False"}]}}


ZONE = {"node-1": {"metadata": {"name": "node-1", "labels": {"topology.kubernetes.io/zone": "zone-a"}}}}


@pytest.mark.parametrize("ready,deleting,publish,expected", [
    (True, False, False, {"ready": True, "serving": True, "terminating": False}),
    (False, False, False, {"ready": False, "serving": False, "terminating": False}),
    (True, True, False, {"ready": False, "serving": True, "terminating": True}),
    (False, False, True, {"ready": True, "serving": False, "terminating": False}),
], ids=["a ready pod is ready and serving", "an unready pod is neither",
        "a terminating ready pod still serves but is not ready",
        "publishNotReadyAddresses makes every endpoint ready"])
def test_endpoint_conditions(ready, deleting, publish, expected):
    endpoint = pod_to_endpoint(pod("a", ready=ready, deleting=deleting), service(publishNotReadyAddresses=publish),
                               ZONE["node-1"])
    assert endpoint["conditions"] == expected
    assert endpoint["addresses"] == ["10.244.1.5"] and endpoint["nodeName"] == "node-1"
    assert endpoint["zone"] == "zone-a"
    assert endpoint["targetRef"] == {"kind": "Pod", "namespace": "default", "name": "a", "uid": "uid-a"}


def test_named_target_ports_resolve_per_pod_and_group_slices():
    pods = [pod("a", "10.0.0.1", container_port=8080), pod("b", "10.0.0.2", container_port=9090)]
    groups = desired_state(service(), pods, ZONE)
    assert sorted(g.ports[0]["port"] for g in groups.values()) == [8080, 9090]
    plan = reconcile(service(), [], groups)
    assert len(plan.create) == 2 and not plan.update and not plan.delete
    assert {s["ports"][0]["port"]: [e["targetRef"]["name"] for e in s["endpoints"]] for s in plan.create} == {
        8080: ["a"], 9090: ["b"]}


def test_pods_without_ip_or_terminal_are_left_out():
    no_ip = pod("a")
    no_ip["status"].update(podIP=None, podIPs=[])
    done = pod("b")
    done["status"]["phase"] = "Succeeded"
    assert desired_state(service(), [no_ip, done], ZONE) == {}
    plan = reconcile(service(), [], {})
    placeholder = plan.create[0]
    assert placeholder["endpoints"] is None and placeholder["ports"] is None


def test_slices_hold_at_most_max_endpoints_and_new_pods_fill_existing_slices():
    pods = [pod(f"p{i:03}", f"10.0.{i // 200}.{i % 200 + 1}") for i in range(250)]
    plan = reconcile(service(), [], desired_state(service(), pods, ZONE))
    assert [len(s["endpoints"]) for s in plan.create] == [100, 100, 50]
    existing = []
    for index, slice_ in enumerate(plan.create):
        slice_["metadata"]["name"] = f"web-{index}"
        existing.append(slice_)
    more = pods + [pod("zzz", "10.9.9.9")]
    plan = reconcile(service(), existing, desired_state(service(), more, ZONE))
    assert not plan.create and not plan.delete
    assert [(s["metadata"]["name"], len(s["endpoints"])) for s in plan.update] == [("web-2", 51)]
    fewer = [p for p in pods if p["metadata"]["name"] != "p000"]
    plan = reconcile(service(), existing, desired_state(service(), fewer, ZONE))
    assert [(s["metadata"]["name"], len(s["endpoints"])) for s in plan.update] == [("web-0", 99)]


def test_slices_of_another_owner_are_deleted_and_reused():
    stale = {"metadata": {"name": "web-old", "labels": {}, "ownerReferences": [{"uid": "someone-else"}]},
             "addressType": "IPv4", "endpoints": [], "ports": []}
    plan = reconcile(service(), [stale], desired_state(service(), [pod("a")], ZONE))
    assert not plan.create and not plan.delete
    assert plan.update[0]["metadata"]["name"] == "web-old"
    assert plan.update[0]["metadata"]["ownerReferences"][0]["uid"] == "svc-uid"


# -- on a cluster ------------------------------------------------------------------------------------

@pytest.fixture
def cluster():
    return engine.Cluster(nodes=0, seed=0)


def run_pod(cluster, name, ip, ready=True):
    cluster.apply({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "labels": {"app": "web"}},
                   "spec": {"nodeName": "node-1", "containers": [{"name": "nginx", "image": "nginx", "ports": [
                       {"name": "http", "containerPort": 8080}]}]}})
    obj = cluster.get("pod", name)
    now = timestamp(cluster.now)
    obj["status"] = {"phase": "Running", "podIP": ip, "podIPs": [{"ip": ip}], "startTime": now,
                     "conditions": [{"type": "Ready", "status": "True" if ready else "False",
                                     "lastProbeTime": None, "lastTransitionTime": now}]}
    cluster.admin.update_status(obj)


def test_slices_follow_pods_on_a_cluster(cluster):
    cluster.apply({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
                   "spec": {"selector": {"app": "web"}, "ports": [{"name": "http", "port": 80, "targetPort": "http"}]}})
    cluster.run(1)
    [placeholder] = cluster.list("endpointslices", selector="kubernetes.io/service-name=web")
    assert placeholder["metadata"]["name"].startswith("web-") and placeholder["endpoints"] is None
    run_pod(cluster, "web-1", "10.244.1.2")
    run_pod(cluster, "web-2", "10.244.1.3", ready=False)
    cluster.run(1)
    [slice_] = cluster.list("endpointslices", selector="kubernetes.io/service-name=web")
    labels = slice_["metadata"]["labels"]
    assert labels[SERVICE_NAME_LABEL] == "web" and labels[MANAGED_BY_LABEL] == CONTROLLER_NAME
    assert slice_["ports"] == [{"name": "http", "port": 8080, "protocol": "TCP"}]
    assert [(e["addresses"], e["conditions"]["ready"]) for e in slice_["endpoints"]] == [
        (["10.244.1.2"], True), (["10.244.1.3"], False)]
    cluster.delete("pod", "web-1", grace_period_seconds=0)
    cluster.run(1)
    [slice_] = cluster.list("endpointslices", selector="kubernetes.io/service-name=web")
    assert [e["targetRef"]["name"] for e in slice_["endpoints"]] == ["web-2"]
