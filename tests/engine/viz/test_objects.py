"""Shared readings: pod state, node readiness and roles, and which component an API user is."""

from __future__ import annotations

import pytest

from engine.viz._activity import box_for_user
from engine.viz._objects import node_ready, node_roles, participant, pod_state, sort_nodes


@pytest.mark.parametrize("pod, state", [
    ({}, "Pending"),
    ({"status": {"phase": "Running"}}, "Running"),
    ({"status": {"phase": "Running"}, "metadata": {"deletionTimestamp": "2025-01-01T00:00:00Z"}}, "Terminating"),
    ({"status": {"phase": "Bogus"}}, "Unknown"),
], ids=["a pod with no status is Pending", "the phase is read as it is",
        "a deletion in progress makes a pod Terminating", "an unknown phase reads Unknown"])
def test_pod_state(pod, state):
    assert pod_state(pod) == state


@pytest.mark.parametrize("conditions, ready", [
    ([{"type": "Ready", "status": "True"}], "Ready"),
    ([{"type": "Ready", "status": "False"}], "NotReady"),
    ([{"type": "Ready", "status": "Unknown"}], "Unknown"),
    ([{"type": "MemoryPressure", "status": "False"}], "Unknown"),
], ids=["Ready True is Ready", "Ready False is NotReady", "Ready Unknown is Unknown",
        "no Ready condition at all is Unknown"])
def test_node_ready(conditions, ready):
    assert node_ready({"status": {"conditions": conditions}}) == ready


def test_roles_come_from_node_role_labels_and_control_plane_nodes_sort_first():
    worker = {"metadata": {"name": "a-worker", "labels": {}}}
    plane = {"metadata": {"name": "z-plane", "labels": {"node-role.kubernetes.io/control-plane": ""}}}
    assert node_roles(plane) == ["control-plane"]
    assert [node["metadata"]["name"] for node in sort_nodes([worker, plane])] == ["z-plane", "a-worker"]


@pytest.mark.parametrize("user, name, box", [
    ("system:node:node-2", "kubelet (node-2)", "node-2/kubelet"),
    ("system:kube-controller-manager", "kube-controller-manager", "kube-controller-manager"),
    ("system:kube-scheduler", "kube-scheduler", "kube-scheduler"),
    ("kubernetes-admin", "kubectl (kubernetes-admin)", "kubectl"),
    ("system:serviceaccount:kube-system:replicaset-controller", "replicaset-controller", "kube-controller-manager"),
    ("alice", "alice", "alice"),
], ids=["a node identity is that node's kubelet", "the controller manager by its own identity",
        "the scheduler by its own identity", "the admin is the person at kubectl",
        "a controller's service account belongs to the controller manager", "anyone else keeps their name"])
def test_users_are_named_after_their_components(cluster, user, name, box):
    assert participant(user, cluster) == name
    assert box_for_user(cluster, user) == box
