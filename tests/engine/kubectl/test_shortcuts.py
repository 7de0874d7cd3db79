"""set image, expose and taint: kubectl's messages and the object each one writes."""

from __future__ import annotations

import pytest

import engine


@pytest.fixture
def web(cluster: engine.Cluster) -> engine.Cluster:
    cluster.kubectl("create deployment web --image=nginx:1.25 --port=80")
    return cluster


def test_set_image_patches_the_named_container(web: engine.Cluster) -> None:
    assert web.kubectl("set image deployment/web nginx=nginx:1.26") == "deployment.apps/web image updated\n"
    assert web.get("deploy", "web")["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.26"
    assert web.kubectl("set image deploy web '*=nginx:1.27'") == "deployment.apps/web image updated\n"
    assert web.get("deploy", "web")["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.27"
    assert web.kubectl("set image deploy web nope=x") == 'error: unable to find container named "nope"\n'


def test_set_image_on_a_pod(cluster: engine.Cluster) -> None:
    cluster.kubectl("run box --image=busybox:1.36")
    assert cluster.kubectl("set image pod/box box=busybox:1.37") == "pod/box image updated\n"
    assert cluster.get("pod", "box")["spec"]["containers"][0]["image"] == "busybox:1.37"


def test_expose_builds_a_service_from_the_workload(web: engine.Cluster) -> None:
    assert web.kubectl("expose deployment web --port=80 --target-port=8080 --type=NodePort") == \
        "service/web exposed\n"
    service = web.get("svc", "web")
    assert service["spec"]["selector"] == {"app": "web"}
    assert service["metadata"]["labels"] == {"app": "web"}
    assert service["spec"]["type"] == "NodePort"
    port = service["spec"]["ports"][0]
    assert (port["port"], port["targetPort"], port["protocol"]) == (80, 8080, "TCP")
    assert web.kubectl("expose deploy web --name=web-internal") == "service/web-internal exposed\n"
    assert web.get("svc", "web-internal")["spec"]["ports"][0]["targetPort"] == 80


def test_taint_adds_and_removes(cluster: engine.Cluster) -> None:
    steps = [
        ("taint nodes node-1 dedicated=gpu:NoSchedule", "node/node-1 tainted\n"),
        ("taint nodes node-1 dedicated=gpu:NoSchedule",
         "error: node node-1 already has dedicated taint(s) with same effect(s) and --overwrite is false\n"),
        ("taint nodes node-1 dedicated=ml:NoSchedule --overwrite", "node/node-1 tainted\n"),
    ]
    for command, expected in steps:
        assert cluster.kubectl(command) == expected, command
    assert cluster.get("node", "node-1", None)["spec"]["taints"] == [
        {"key": "dedicated", "value": "ml", "effect": "NoSchedule"}]
    assert "Taints:             dedicated=ml:NoSchedule\n" in cluster.kubectl("describe node node-1")
    assert cluster.kubectl("taint nodes node-1 dedicated:NoSchedule-") == "node/node-1 untainted\n"
    assert cluster.kubectl("taint nodes node-1 dedicated:NoSchedule-") == \
        'error: taint "dedicated:NoSchedule" not found\n'
    assert cluster.kubectl("taint nodes node-1 bad=spec:Sometimes") == "error: unknown taint spec: bad=spec:Sometimes\n"


def test_drain_cordons_and_refuses_pods_without_a_controller(cluster: engine.Cluster) -> None:
    from kubectl_fixtures import add_pod
    from engine.api.meta import owner_reference
    owner = cluster.apply({"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": "web"},
                           "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "web"}},
                                    "template": {"metadata": {"labels": {"app": "web"}},
                                                 "spec": {"containers": [{"name": "n", "image": "nginx"}]}}}})
    pod = add_pod(cluster, "web-abc", node="node-1", labels={"app": "web"})
    pod["metadata"]["ownerReferences"] = [owner_reference(owner)]
    cluster.admin.update(pod)
    add_pod(cluster, "box", node="node-1")
    assert cluster.kubectl("drain node-1") == (
        "node/node-1 cordoned\n"
        'error: unable to drain node "node-1" due to error: cannot delete Pods that declare no controller (use '
        "--force to override): default/box, continuing command...\n"
        "There are pending nodes to be drained:\n"
        " node-1\n"
        "error: cannot delete Pods that declare no controller (use --force to override): default/box\n")
    assert cluster.kubectl("drain node-1 --force") == (
        "node/node-1 already cordoned\n"
        "Warning: deleting Pods that declare no controller: default/box\n"
        "evicting pod default/box\n"
        "evicting pod default/web-abc\n"
        "pod/box evicted\n"
        "pod/web-abc evicted\n"
        "node/node-1 drained\n")
    assert [p["metadata"].get("deletionTimestamp") is not None for p in cluster.list("pods")] == [True, True]



def test_drain_evicts_through_the_eviction_api_so_budgets_decide(cluster: engine.Cluster) -> None:
    from kubectl_fixtures import add_pod
    from engine.api.meta import owner_reference
    owner = cluster.apply({"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": "web"},
                           "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
                                    "template": {"metadata": {"labels": {"app": "web"}},
                                                 "spec": {"containers": [{"name": "n", "image": "nginx"}]}}}})
    for name in ("web-a", "web-b"):
        pod = add_pod(cluster, name, node="node-1", labels={"app": "web"})
        pod["metadata"]["ownerReferences"] = [owner_reference(owner)]
        pod = cluster.admin.update(pod)
        pod["status"].update(phase="Running", conditions=[{"type": "Ready", "status": "True"}])
        cluster.admin.update_status(pod)
    budget = cluster.apply({"apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
                            "metadata": {"name": "web"},
                            "spec": {"minAvailable": 1, "selector": {"matchLabels": {"app": "web"}}}})
    budget["status"] = {"observedGeneration": budget["metadata"]["generation"], "disruptionsAllowed": 1,
                        "currentHealthy": 2, "desiredHealthy": 1, "expectedPods": 2}
    cluster.admin.update_status(budget)
    refused = ('error when evicting pods/"web-b" -n "default": Cannot evict pod as it would violate the pod\'s '
               'disruption budget.')
    assert cluster.kubectl("drain node-1") == (
        "node/node-1 cordoned\n"
        "evicting pod default/web-a\n"
        "evicting pod default/web-b\n"
        "pod/web-a evicted\n"
        'error when evicting pods/"web-b" -n "default" (will retry after 5s): Cannot evict pod as it would violate '
        "the pod's disruption budget.\n"
        f'error: unable to drain node "node-1" due to error: {refused}, continuing command...\n'
        "There are pending nodes to be drained:\n"
        " node-1\n"
        f"error: {refused}\n")
    assert cluster.get("pod", "web-a")["metadata"].get("deletionTimestamp")
    assert not cluster.get("pod", "web-b")["metadata"].get("deletionTimestamp")

def test_commands_this_kubectl_lacks_say_so(cluster: engine.Cluster) -> None:
    assert cluster.kubectl("attach box") == 'error: "kubectl attach" is not part of this miniature kubectl\n'
