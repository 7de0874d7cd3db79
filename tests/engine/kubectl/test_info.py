"""top, version, api-resources, cluster-info, auth can-i and explain."""

from __future__ import annotations

import pytest

import engine


def test_top_needs_the_metrics_api(cluster: engine.Cluster) -> None:
    assert cluster.kubectl("top nodes") == "error: Metrics API not available\n"
    assert cluster.kubectl("top pods") == "error: Metrics API not available\n"


def test_version_and_cluster_info(cluster: engine.Cluster) -> None:
    assert cluster.kubectl("version") == "Client Version: v1.31.0\nKustomize Version: v5.4.2\nServer Version: v1.31.0\n"
    assert cluster.kubectl("cluster-info") == (
        "Kubernetes control plane is running at https://127.0.0.1:6443\n\n"
        "To further debug and diagnose cluster problems, use 'kubectl cluster-info dump'.\n")


def test_cluster_info_lists_cluster_services(cluster: engine.Cluster) -> None:
    cluster.admin.create({"apiVersion": "v1", "kind": "Service",
                          "metadata": {"name": "kube-dns", "namespace": "kube-system",
                                       "labels": {"kubernetes.io/cluster-service": "true",
                                                  "kubernetes.io/name": "CoreDNS"}},
                          "spec": {"selector": {"k8s-app": "kube-dns"},
                                   "ports": [{"name": "dns", "port": 53, "protocol": "UDP"}]}})
    assert cluster.kubectl("cluster-info").splitlines()[1] == (
        "CoreDNS is running at https://127.0.0.1:6443/api/v1/namespaces/kube-system/services/kube-dns:dns/proxy")


def test_api_resources_table(cluster: engine.Cluster) -> None:
    lines = cluster.kubectl("api-resources").splitlines()
    assert lines[0] == "NAME                        SHORTNAMES   APIVERSION                     NAMESPACED   KIND"
    assert "pods                        po           v1                             true         Pod" in lines
    assert "deployments                 deploy       apps/v1                        true         Deployment" in lines
    assert cluster.kubectl("api-resources --namespaced=false -o name").splitlines()[:2] == ["namespaces", "nodes"]


@pytest.mark.parametrize("command, answer", [
    pytest.param("auth can-i create deployments", "yes", id="the admin may do anything"),
    pytest.param("auth can-i list pods --as=jane", "yes", id="a user bound to a role may use it"),
    pytest.param("auth can-i list pods --as=jane -n kube-system", "no", id="a role binding is namespaced"),
    pytest.param("auth can-i delete pods --as=jane", "no", id="verbs outside the role are denied"),
    pytest.param("auth can-i get pods/log --as=jane", "yes", id="a subresource named in the rule"),
    pytest.param("auth can-i list nodes --as=jane", "no", id="cluster-scoped resources need a cluster role"),
    pytest.param("auth can-i list pods --as=system:serviceaccount:default:robot", "no",
                 id="a service account without bindings may not"),
    pytest.param("auth can-i get nodes --as=kubernetes-admin --as-group=system:masters", "yes",
                 id="the masters group may do anything"),
])
def test_auth_can_i(cluster: engine.Cluster, command: str, answer: str) -> None:
    cluster.admin.create({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
                          "metadata": {"name": "reader", "namespace": "default"},
                          "rules": [{"apiGroups": [""], "resources": ["pods", "pods/log"], "verbs": ["get", "list"]}]})
    cluster.admin.create({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
                          "metadata": {"name": "read", "namespace": "default"},
                          "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "reader"},
                          "subjects": [{"kind": "User", "name": "jane", "apiGroup": "rbac.authorization.k8s.io"}]})
    assert cluster.kubectl(command) == answer + "\n"


def test_explain_a_kind_and_a_field(cluster: engine.Cluster) -> None:
    text = cluster.kubectl("explain pods")
    assert text.startswith("KIND:       Pod\nVERSION:    v1\n\nDESCRIPTION:\n    Pod is a collection of containers")
    assert "  spec\t<PodSpec>\n    Specification of the desired behavior of the Pod." in text
    assert text.endswith("#spec-and-status\n\n\n")
    assert cluster.kubectl("explain deploy.spec.replicas") == """\
GROUP:      apps
KIND:       Deployment
VERSION:    v1

FIELD: replicas <integer>


DESCRIPTION:
    Number of desired pods. This is a pointer to distinguish between explicit
    zero and not specified. Defaults to 1.
    

"""
    containers = cluster.kubectl("explain pod.spec.containers")
    assert "    updated.\n    A single application container that you want to run within a pod.\n    \nFIELDS:\n" \
        in containers
    assert "  name\t<string> -required-\n" in containers
    assert cluster.kubectl("explain pod.spec.bogus") == \
        'KIND:       Pod\nVERSION:    v1\n\nerror: field "bogus" does not exist\n'
    assert cluster.kubectl("explain foo") == 'the server doesn\'t have a resource type "foo"\n'


def test_top_prints_usage_from_the_metrics_api(cluster: engine.Cluster, monkeypatch: pytest.MonkeyPatch) -> None:
    from engine.kubectl import info
    node_metrics = [{"metadata": {"name": "node-1"}, "usage": {"cpu": "1500m", "memory": "2Gi"}}]
    pod_metrics = [{"metadata": {"name": "web", "namespace": "default"},
                    "containers": [{"name": "a", "usage": {"cpu": "5m", "memory": "10Mi"}},
                                   {"name": "b", "usage": {"cpu": "1m", "memory": "2048Ki"}}]}]
    monkeypatch.setattr(info, "_metrics", lambda invocation, resource, namespace:
                        node_metrics if resource == "nodes" else pod_metrics)
    lines = cluster.kubectl("top nodes").splitlines()
    assert lines[0].split() == ["NAME", "CPU(cores)", "CPU(%)", "MEMORY(bytes)", "MEMORY(%)"]
    assert lines[1].split() == ["node-1", "1500m", "37%", "2048Mi", "25%"]
    assert lines[2].split() == ["control-plane", "<unknown>", "<unknown>", "<unknown>", "<unknown>"]
    assert cluster.kubectl("top pods") == "NAME   CPU(cores)   MEMORY(bytes)\nweb    6m           12Mi\n"


def test_as_acts_as_the_impersonated_user_for_every_verb(cluster: engine.Cluster) -> None:
    # kubectl's global --as: the request is served as jane, and RBAC judges jane (the admin may impersonate).
    cluster.admin.create({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
                          "metadata": {"name": "jane-view", "namespace": "default"},
                          "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"},
                          "subjects": [{"kind": "User", "name": "jane", "apiGroup": "rbac.authorization.k8s.io"}]})
    assert cluster.kubectl("create deployment sneaky --image=nginx --as=jane") == (
        'error: failed to create deployment: deployments.apps is forbidden: User "jane" cannot create resource '
        '"deployments" in API group "apps" in the namespace "default"\n')
    assert cluster.kubectl("get pods --as=jane") == "No resources found in default namespace.\n"
    assert "Forbidden" in cluster.kubectl("get pods -n kube-system --as=jane")
    assert cluster.kubectl("create deployment sneaky --image=nginx --as=jane --as-group=system:masters") == \
        "deployment.apps/sneaky created\n"
    writes = [e for e in cluster.apiserver.audit if e.resource == "deployments" and e.verb == "create"]
    # the forbidden create was refused before its body was read: its audit entry names no object
    assert [(e.user, e.code, e.name) for e in writes] == [("jane", 403, None), ("jane", 201, "sneaky")]
