"""The clusterrole-aggregation controller: an aggregated ClusterRole's rules follow the roles its selectors select.

Only this controller runs in the manager, on a cluster without nodes: every ClusterRole write after boot is either
the test's (as the admin) or the controller's (as its ServiceAccount).
"""

from __future__ import annotations

import pytest

import engine
from engine.api import freeze
from engine.api.selectors import SelectorError
from engine.components import ComponentSpec
from engine.controllers.clusterroleaggregation import ClusterRoleAggregationController

RBAC = "rbac.authorization.k8s.io"
CONTROLLER_USER = "system:serviceaccount:kube-system:clusterrole-aggregation-controller"
MANAGER = ComponentSpec("kube-controller-manager", "control-plane", "engine.controllers.manager:ControllerManager",
                        user="system:kube-controller-manager", options={"controllers": [
                            "engine.controllers.clusterroleaggregation:ClusterRoleAggregationController"]})

# The RBAC docs' example (Aggregated ClusterRoles): "The control plane automatically fills in the rules".
MONITORING = {"apiVersion": f"{RBAC}/v1", "kind": "ClusterRole", "metadata": {"name": "monitoring"},
              "aggregationRule": {"clusterRoleSelectors": [
                  {"matchLabels": {"rbac.example.com/aggregate-to-monitoring": "true"}}]},
              "rules": []}
ENDPOINTS_RULE = {"apiGroups": [""], "resources": ["services", "endpointslices", "pods"],
                  "verbs": ["get", "list", "watch"]}
MONITORING_ENDPOINTS = {"apiVersion": f"{RBAC}/v1", "kind": "ClusterRole",
                        "metadata": {"name": "monitoring-endpoints",
                                     "labels": {"rbac.example.com/aggregate-to-monitoring": "true"}},
                        "rules": [ENDPOINTS_RULE]}
NODES_RULE = {"apiGroups": [""], "resources": ["nodes"], "verbs": ["get", "list"]}


@pytest.fixture
def cluster() -> engine.Cluster:
    return engine.Cluster(nodes=0, seed=0, components=[MANAGER])


def controller_writes(cluster: engine.Cluster) -> list[tuple[str, str]]:
    return [(entry.verb, entry.name) for entry in cluster.apiserver.audit.entries
            if entry.user == CONTROLLER_USER and entry.verb in ("create", "update", "patch")]


def rules(cluster: engine.Cluster, name: str) -> list[dict]:
    return cluster.get("clusterrole", name, None).get("rules") or []


def test_the_docs_example_fills_in_the_monitoring_role_as_its_service_account(cluster):
    cluster.apply([MONITORING, MONITORING_ENDPOINTS])
    assert rules(cluster, "monitoring") == []
    cluster.run(1)
    assert rules(cluster, "monitoring") == [ENDPOINTS_RULE]
    assert controller_writes(cluster) == [("update", "monitoring")]


def test_the_bootstrap_roles_are_already_converged_so_nothing_is_written(cluster):
    cluster.apply({"apiVersion": f"{RBAC}/v1", "kind": "ClusterRole", "metadata": {"name": "unlabelled"},
                   "rules": [NODES_RULE]})
    cluster.run(5)
    assert controller_writes(cluster) == []


def test_a_second_selected_role_adds_its_rules_after_the_first_in_name_order(cluster):
    cluster.apply([MONITORING, MONITORING_ENDPOINTS])
    cluster.apply({"apiVersion": f"{RBAC}/v1", "kind": "ClusterRole",
                   "metadata": {"name": "monitoring-nodes",
                                "labels": {"rbac.example.com/aggregate-to-monitoring": "true"}},
                   "rules": [NODES_RULE, ENDPOINTS_RULE]})
    cluster.run(1)
    assert rules(cluster, "monitoring") == [ENDPOINTS_RULE, NODES_RULE]


@pytest.mark.parametrize("take_away", [
    lambda cluster: cluster.admin.patch("clusterroles", "monitoring-endpoints",
                                        {"metadata": {"labels": {"rbac.example.com/aggregate-to-monitoring": None}}}),
    lambda cluster: cluster.delete("clusterrole", "monitoring-endpoints", None),
], ids=["a role whose label is removed takes its rules out", "a deleted role takes its rules out"])
def test_rules_leave_with_the_role_that_brought_them(cluster, take_away):
    cluster.apply([MONITORING, MONITORING_ENDPOINTS])
    cluster.run(1)
    take_away(cluster)
    cluster.run(1)
    assert rules(cluster, "monitoring") == []


def test_a_hand_edit_of_an_aggregated_role_is_put_back(cluster):
    cluster.apply([MONITORING, MONITORING_ENDPOINTS])
    cluster.run(1)
    cluster.admin.patch("clusterroles", "monitoring", {"rules": [NODES_RULE]})
    assert rules(cluster, "monitoring") == [NODES_RULE]
    cluster.run(1)
    assert rules(cluster, "monitoring") == [ENDPOINTS_RULE]


def test_a_selector_that_does_not_convert_is_an_error_for_its_role_only(cluster):
    # Validation refuses such a selector, so it is put straight into the cache, as upstream's unit test does.
    manager = cluster.components[("kube-controller-manager", None)]
    controller = next(c for c in manager.controllers if isinstance(c, ClusterRoleAggregationController))
    broken = {"apiVersion": f"{RBAC}/v1", "kind": "ClusterRole", "metadata": {"name": "broken"},
              "aggregationRule": {"clusterRoleSelectors": [{"matchExpressions": [{"key": "a", "operator": "Near"}]}]}}
    controller.cluster_roles.indexer.put("broken", freeze(broken))
    with pytest.raises(SelectorError):
        controller.sync("broken")
    cluster.apply([MONITORING, MONITORING_ENDPOINTS])
    cluster.run(1)
    assert rules(cluster, "monitoring") == [ENDPOINTS_RULE]
    assert isinstance(controller.workers.last_error, SelectorError) and controller.queue.num_requeues("broken") > 0
