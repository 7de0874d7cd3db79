"""``Cluster.fail_node`` is the power going off, ``restore_node`` the machine booting again.

A powered-off machine's pods go dark: a connection to a pod IP or to the node's own address gets no answer at all
(curl times out; no RST), its containers' processes are gone. The node controller does what it always does
(NotReady after the grace period, the unreachable taints, eviction after tolerationSeconds), and the replacement
pod elsewhere answers, also through the Service. Powered back on, the kernel is fresh (no rules, no add-on devices,
until flannel, the bridge plugin and kube-proxy program them again) and containerd starts with nothing running: the
evicted pod's old container is cleaned up, and the kubelet runs what it is told (its static pod, afresh).
"""

from __future__ import annotations

import pytest
import yaml

import engine
from engine.runtime import cri

WEB = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"}, "spec": {
    "replicas": 1, "selector": {"matchLabels": {"app": "web"}},
    "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "web", "image": "nginx"}]}}}}
SERVICE = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
           "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]}}
STATIC = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "static-web", "namespace": "default"},
          "spec": {"containers": [{"name": "web", "image": "nginx"}]}}


@pytest.fixture(scope="module")
def story() -> dict:
    """One cluster through the whole outage: what was seen at each step."""
    c = engine.Cluster(nodes=2, seed=3, network="flannel")
    c.apply(WEB)
    c.apply(SERVICE)
    c.run(15)
    pod = c.list("pods", selector="app=web")[0]
    victim = pod["spec"]["nodeName"]
    other = "node-1" if victim == "node-2" else "node-2"
    c.machines[victim].host_fs["/etc/kubernetes/manifests/static-web.yaml"] = yaml.safe_dump(STATIC)
    c.run(25)
    seen: dict = {"victim": victim, "other": other, "pod": pod, "cluster": c,
                  "before": c.curl(other, f"http://{pod['status']['podIP']}/"),
                  "static_before": c.get("pod", f"static-web-{victim}")["status"]["podIP"]}
    runtime = c.runtimes[victim]
    seen["ids_before"] = {x.id for x in runtime.list_containers() if x.state == cri.CONTAINER_RUNNING}
    c.fail_node(victim)
    seen["to_pod"] = c.curl(other, f"http://{pod['status']['podIP']}/", connect_timeout=2)
    seen["to_node"] = c.curl(other, f"http://{c.machines[victim].address}:10250/healthz", connect_timeout=2)
    seen["processes_after_fail"] = [runtime.program(i) for i in seen["ids_before"]]
    c.run(60)
    seen["node_after_grace"] = c.get("node", victim)
    c.run(320)
    seen["pods_after_eviction"] = c.list("pods", selector="app=web")
    c.restore_node(victim)
    stack = c.machines[victim].network_stack
    seen["stack_at_boot"] = (sorted(stack.interfaces), stack.iptables.save(), dict(stack.pods))
    c.run(60)
    c.apply({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "after"},
             "spec": {"nodeName": victim, "containers": [{"name": "web", "image": "nginx"}]}})
    c.run(15)
    return seen


def test_a_pod_and_the_node_of_a_powered_off_machine_time_out(story: dict) -> None:
    assert story["before"].status == 200
    to_pod = story["to_pod"]
    assert (to_pod.exit_code, to_pod.status) == (28, None)
    assert to_pod.error == "curl: (28) Connection timed out after 2001 milliseconds"
    last = to_pod.hops[-1]
    assert (last.where, last.what, last.rule) == (story["victim"], "lost", "the machine is powered off")
    assert story["to_node"].exit_code == 28                  # no RST from the node's address either
    assert story["processes_after_fail"] and all(p is None for p in story["processes_after_fail"])


def test_the_node_controller_marks_it_unreachable_and_evicts_as_before(story: dict) -> None:
    node = story["node_after_grace"]
    ready = next(cond for cond in node["status"]["conditions"] if cond["type"] == "Ready")
    assert ready["status"] == "Unknown" and ready["reason"] == "NodeStatusUnknown"
    assert {t["key"] for t in node["spec"].get("taints") or ()} >= {"node.kubernetes.io/unreachable"}
    live = [p for p in story["pods_after_eviction"] if not p["metadata"].get("deletionTimestamp")]
    assert [p["spec"]["nodeName"] for p in live] == [story["other"]]


def test_the_replacement_answers_directly_and_through_the_service(story: dict) -> None:
    c, other = story["cluster"], story["other"]
    replacement = [p for p in c.list("pods", selector="app=web") if p["spec"].get("nodeName") == other][0]
    assert c.curl(other, f"http://{replacement['status']['podIP']}/").status == 200
    cluster_ip = c.get("svc", "web")["spec"]["clusterIP"]
    assert [c.curl(other, f"http://{cluster_ip}/").status for _ in range(4)] == [200] * 4


def test_powered_back_on_its_old_containers_are_gone_and_it_runs_what_it_is_told(story: dict) -> None:
    c, victim = story["cluster"], story["victim"]
    runtime = c.runtimes[victim]
    running = {x.id: x for x in runtime.list_containers() if x.state == cri.CONTAINER_RUNNING}
    assert running and not set(running) & story["ids_before"]       # nothing from before the outage runs
    static_uid = c.get("pod", f"static-web-{victim}")["metadata"]["annotations"]["kubernetes.io/config.mirror"]
    static_running = [x for x in running.values() if x.labels.get("io.kubernetes.pod.uid") == static_uid]
    assert [x.metadata.name for x in static_running] == ["web"]      # the static pod's container, started afresh
    old_web = story["pod"]["metadata"]["name"]
    assert all(s.metadata.name != old_web for s in runtime.list_pod_sandbox())   # the evicted pod cleaned up
    ready = next(cond for cond in c.get("node", victim)["status"]["conditions"] if cond["type"] == "Ready")
    assert ready["status"] == "True"
    static = c.get("pod", f"static-web-{victim}")
    assert static["status"]["phase"] == "Running"
    assert c.curl(story["other"], f"http://{static['status']['podIP']}/").status == 200


def test_it_boots_with_a_fresh_kernel_and_the_add_ons_program_it_again(story: dict) -> None:
    c, victim, other = story["cluster"], story["victim"], story["other"]
    interfaces, rules, pods = story["stack_at_boot"]
    assert (interfaces, rules.strip(), pods) == (["eth0", "lo"], "", {})    # no cni0, flannel.1, veth, rule, netns
    stack = c.machines[victim].network_stack
    assert {"flannel.1", "cni0"} <= set(stack.interfaces)                     # flannel and the bridge plugin again
    assert ":KUBE-SERVICES - [0:0]" in stack.iptables.save(("nat",))         # kube-proxy's first sync again
    runtime = c.runtimes[victim]
    ready = {s.id for s in runtime.list_pod_sandbox() if s.state == cri.SANDBOX_READY}
    inits = [x for x in runtime.list_containers() if x.metadata.name in ("install-cni-plugin", "install-cni")]
    assert sorted(x.metadata.name for x in inits) == ["install-cni", "install-cni-plugin"]   # both ran again,
    assert all(x.pod_sandbox_id in ready for x in inits)                                    # in the new sandbox
    after = c.get("pod", "after")
    assert c.curl(other, f"http://{after['status']['podIP']}/").status == 200
    assert c.curl("after", "http://web/").status == 200                      # DNS and the Service from the node


def test_a_calico_node_gets_its_block_route_again_after_a_reboot() -> None:
    c = engine.Cluster(nodes=1, seed=0, network="calico")
    c.run(30)
    stack = c.machines["node-1"].network_stack
    block = c.get("node", "node-1")["spec"]["podCIDR"]
    c.fail_node("node-1")
    c.restore_node("node-1")
    c.run(30)
    assert [r.type for r in stack.routes.routes if r.dest == block] == ["blackhole"]
    c.apply({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "after"},
             "spec": {"nodeName": "node-1", "containers": [{"name": "web", "image": "nginx"}]}})
    c.run(15)
    assert c.curl("control-plane", f"http://{c.get('pod', 'after')['status']['podIP']}/").status == 200
