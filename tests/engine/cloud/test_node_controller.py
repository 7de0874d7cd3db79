"""The cloud node controller and the cloud node lifecycle controller against the simulated cloud."""

from __future__ import annotations

import pytest

from engine.cloud.cloudprovider import InstanceMetadata
from engine.cloud.node import UNINITIALIZED_TAINT, UNINITIALIZED_TAINT_KEY, initialized
from engine.cloud.node_lifecycle import SHUTDOWN_TAINT
from engine.components import ComponentContext
from engine.kubelet.node_status import NodeStatusAgent

METADATA = InstanceMetadata("sim:///sim-east-1b/i-0123456789abcdef0", "c1.xlarge",
                            [{"type": "InternalIP", "address": "172.18.0.4"}], "sim-east-1b", "sim-east-1")


def test_a_kubelet_with_an_external_cloud_provider_registers_with_the_uninitialized_taint(cluster):
    context = ComponentContext("kubelet", cluster.admin, cluster.loop, "node-9",
                               {"cloud_provider": "external", "taints": [{"key": "a", "effect": "NoSchedule"}]})
    assert NodeStatusAgent(context).initial_node()["spec"]["taints"] == [
        {"key": "a", "effect": "NoSchedule"}, UNINITIALIZED_TAINT]
    plain = ComponentContext("kubelet", cluster.admin, cluster.loop, "node-9", {})
    assert "taints" not in NodeStatusAgent(plain).initial_node()["spec"]


@pytest.mark.parametrize("taints, expected", [
    ([UNINITIALIZED_TAINT], None),
    ([UNINITIALIZED_TAINT, {"key": "dedicated", "value": "db", "effect": "NoSchedule"}],
     [{"key": "dedicated", "value": "db", "effect": "NoSchedule"}]),
], ids=["the only taint goes, and spec.taints with it", "other taints stay"])
def test_initialized_sets_provider_id_and_labels_and_drops_only_the_uninitialized_taint(taints, expected):
    node = {"metadata": {"name": "node-2", "labels": {"kubernetes.io/hostname": "node-2"}}, "spec": {"taints": taints}}
    result = initialized(node, METADATA)
    assert result["spec"].get("taints") == expected
    assert result["spec"]["providerID"] == METADATA.provider_id
    assert result["metadata"]["labels"] == {
        "kubernetes.io/hostname": "node-2", "node.kubernetes.io/instance-type": "c1.xlarge",
        "beta.kubernetes.io/instance-type": "c1.xlarge", "topology.kubernetes.io/zone": "sim-east-1b",
        "failure-domain.beta.kubernetes.io/zone": "sim-east-1b", "topology.kubernetes.io/region": "sim-east-1",
        "failure-domain.beta.kubernetes.io/region": "sim-east-1"}
    assert node["spec"]["taints"] == taints, "the input is not changed"


def test_a_node_that_registers_again_is_seen_tainted_then_initialised(cluster, events):
    seen = []
    cluster.admin.watch("nodes", lambda event: seen.append(event), field_selector="metadata.name=node-2")
    cluster.admin.delete("nodes", "node-2")
    cluster.restore_node("node-2")           # a restarted kubelet registers its node again, as a new node would
    cluster.run(5)
    added = [e["object"] for e in seen if e["type"] == "ADDED"]
    assert added and UNINITIALIZED_TAINT_KEY in {t["key"] for t in added[-1]["spec"]["taints"]}
    node = cluster.get("node", "node-2", None)
    assert not node["spec"].get("taints")
    instance = cluster.cloud.describe_instances(names=["node-2"])[0]
    assert node["spec"]["providerID"] == instance.provider_id
    assert node["metadata"]["labels"]["topology.kubernetes.io/zone"] == instance.zone == "sim-east-1b"
    assert node["status"]["addresses"] == [
        {"type": "InternalIP", "address": "172.18.0.4"}, {"type": "ExternalIP", "address": instance.public_ip},
        {"type": "InternalDNS", "address": "ip-172-18-0-4.sim-east-1.compute.internal"},
        {"type": "Hostname", "address": "ip-172-18-0-4.sim-east-1.compute.internal"}]
    assert len(events(cluster, "Synced", "node-2")) == 2, "one per Node object (each has its own uid)"


def test_the_kubelet_keeps_the_addresses_the_cloud_set(cluster):
    cluster.run(320)                         # past nodeStatusReportFrequency: the kubelet posts its whole status
    addresses = cluster.get("node", "node-1", None)["status"]["addresses"]
    assert {"type": "ExternalIP", "address": cluster.cloud.describe_instances(names=["node-1"])[0].public_ip} \
        in addresses


def test_a_cloud_error_delays_initialisation_until_a_retry_succeeds(cluster):
    cluster.cloud.inject("DescribeInstances", times=3)
    cluster.admin.delete("nodes", "node-1")
    cluster.restore_node("node-1")
    cluster.run(20)
    node = cluster.get("node", "node-1", None)
    assert not node["spec"].get("taints") and node["spec"]["providerID"]
    assert [c.outcome for c in cluster.cloud.calls_of("DescribeInstances")].count("InternalError") == 3


def test_a_terminated_instance_takes_its_node_away_once_the_node_is_not_ready(cluster, events):
    instance = cluster.cloud.describe_instances(names=["node-1"])[0]
    cluster.cloud.terminate_instances(instance.id)
    cluster.run(30)
    assert "node-1" in {n["metadata"]["name"] for n in cluster.list("nodes")}, "still Ready: left alone"
    cluster.run(30)                          # node-monitor-grace-period: NotReady, then the lifecycle check
    assert "node-1" not in {n["metadata"]["name"] for n in cluster.list("nodes")}
    [event] = events(cluster, "DeletingNode", "node-1")
    assert event["message"] == "Deleting node node-1 because it's not present according to cloud provider"
    assert event["source"]["component"] == "cloud-node-lifecycle-controller"


def test_a_stopped_instance_gets_the_shutdown_taint_and_loses_it_when_running_again(cluster):
    instance = cluster.cloud.describe_instances(names=["node-2"])[0]
    cluster.cloud.stop_instances(instance.id)
    cluster.run(60)
    node = cluster.get("node", "node-2", None)
    assert {"key": SHUTDOWN_TAINT["key"], "effect": "NoSchedule"} in node["spec"]["taints"]
    cluster.cloud.start_instances(instance.id)
    cluster.run(40)
    node = cluster.get("node", "node-2", None)
    assert SHUTDOWN_TAINT["key"] not in {t["key"] for t in node["spec"].get("taints") or ()}


def test_the_lifecycle_controller_leaves_nodes_alone_while_the_cloud_fails(cluster, ccm_controller):
    lifecycle = ccm_controller(cluster, "cloud-node-lifecycle")
    instance = cluster.cloud.describe_instances(names=["node-1"])[0]
    cluster.cloud.terminate_instances(instance.id)
    cluster.fail_node("node-1")
    cluster.run(50)
    cluster.cloud.inject("DescribeInstances", times=1000)
    lifecycle.monitor_nodes()
    assert "node-1" in {n["metadata"]["name"] for n in cluster.list("nodes")}
    cluster.cloud.clear_faults()
    lifecycle.monitor_nodes()
    cluster.run(1)
    assert "node-1" not in {n["metadata"]["name"] for n in cluster.list("nodes")}
