"""Components that run as pods: a test component in a DaemonSet, and kubeadm's add-on phase installing it.

The test component (``Probe``) is what kube-proxy or a CNI agent is to the
engine: a class started by ``ComponentProgram`` inside a container, with a
client that authenticates as the pod's ServiceAccount. It writes what it saw
into a ConfigMap (allowed by its Role) and tries to create a Secret (not
allowed: 403). This module is also the fake add-on package kubeadm applies
(``manifests`` and ``register_images`` below).
"""

from __future__ import annotations

import ipaddress
import json

import pytest

import engine
from engine.api.errors import ApiError
from engine.components import COMPONENTS
from engine.kubeadm import addons
from engine.kubelet import KUBELET
from engine.runtime import cri
from engine.runtime.programs.component import ComponentProgram
from engine.scheduler import SCHEDULER

IMAGE = "course/probe:1.0"
KUBECONFIG = """\
apiVersion: v1
kind: Config
clusters:
- cluster:
    certificate-authority: /var/run/secrets/kubernetes.io/serviceaccount/ca.crt
    server: https://172.18.0.2:6443
  name: default
contexts:
- context:
    cluster: default
    namespace: default
    user: default
  name: default
current-context: default
users:
- name: default
  user:
    tokenFile: /var/run/secrets/kubernetes.io/serviceaccount/token
"""


class Probe:
    """The test component: reports its node, options and what RBAC let it do."""

    instances: list["Probe"] = []

    def __init__(self, context) -> None:
        self.context = context
        self.running = False
        Probe.instances.append(self)

    def start(self) -> None:
        self.running = True
        client, options = self.context.client, self.context.options
        try:
            client.create({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "stolen",
                                                                             "namespace": "kube-system"}})
            secret = "201"
        except ApiError as error:
            secret = f"{error.code} {error.message}"
        machine = options.get("machine")
        client.create({"apiVersion": "v1", "kind": "ConfigMap",
                       "metadata": {"name": f"probe-{self.context.node_name or 'none'}-{len(Probe.instances)}",
                                    "namespace": "kube-system", "labels": {"app": "probe"}},
                       "data": {"node": str(self.context.node_name), "secret": secret, "mode": options.get("mode", ""),
                                "machine": machine.address if machine is not None else "none"}})

    def stop(self) -> None:
        self.running = False


class ProbeProgram(ComponentProgram):
    name = "probe"
    target = f"{__name__}:Probe"


def register_images(registry) -> None:
    registry.register(IMAGE, ProbeProgram, size=2_000_000, entrypoint=["/usr/local/bin/probe"])


def manifests(config) -> list[dict]:
    """The probe add-on as a DaemonSet with its ServiceAccount, Role and kubeconfig, kube-proxy style."""
    labels = {"k8s-app": "probe"}
    return [
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "probe", "namespace": "kube-system"}},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
         "metadata": {"name": "probe", "namespace": "kube-system"},
         "rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["create", "get"]}]},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
         "metadata": {"name": "probe", "namespace": "kube-system"},
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "probe"},
         "subjects": [{"kind": "ServiceAccount", "name": "probe", "namespace": "kube-system"}]},
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "probe", "namespace": "kube-system"},
         "data": {"kubeconfig.conf": KUBECONFIG.replace("https://172.18.0.2:6443", config.control_plane_endpoint)}},
        {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "probe", "namespace": "kube-system",
                                                                    "labels": labels},
         "spec": {"selector": {"matchLabels": labels}, "template": {
             "metadata": {"labels": labels},
             "spec": {"serviceAccountName": "probe", "hostNetwork": True,
                      "tolerations": [{"operator": "Exists"}],
                      "containers": [{"name": "probe", "image": IMAGE,
                                      "command": ["/usr/local/bin/probe", "--kubeconfig=/var/lib/probe/kubeconfig.conf",
                                                  "--mode", "fast"],
                                      "env": [{"name": "NODE_NAME",
                                               "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}}],
                                      "volumeMounts": [{"name": "probe", "mountPath": "/var/lib/probe"}]}],
                      "volumes": [{"name": "probe", "configMap": {"name": "probe"}}]}}}},
    ]


def cluster(nodes: int = 2, **kwargs) -> engine.Cluster:
    return engine.Cluster(nodes=nodes, seed=0, components=[COMPONENTS[0], SCHEDULER, KUBELET], **kwargs)


@pytest.fixture(autouse=True)
def _forget_probes():
    Probe.instances.clear()
    yield
    Probe.instances.clear()


def probe_pods(c: engine.Cluster) -> list[dict]:
    return c.list("pods", "kube-system", selector="k8s-app=probe")


def reports(c: engine.Cluster) -> dict[str, dict]:
    return {cm["data"]["node"]: cm["data"] for cm in c.list("configmaps", "kube-system", selector="app=probe")}


def test_a_component_in_a_daemonset_pod_runs_as_its_service_account_on_the_node_network():
    c = cluster()
    register_images(c.registry)
    c.apply(manifests(c.kubeadm_config()))
    c.run(30)
    pods = probe_pods(c)
    assert sorted(p["spec"]["nodeName"] for p in pods) == c.node_names
    for pod in pods:
        assert pod["status"]["phase"] == "Running"
        assert pod["status"]["podIP"] == pod["status"]["hostIP"] == c.machines[pod["spec"]["nodeName"]].address
    seen = reports(c)
    assert sorted(seen) == c.node_names
    for node, data in seen.items():
        assert data["mode"] == "fast"                                    # its flags reach the component
        assert data["machine"] == c.machines[node].address               # hostNetwork: the node's machine
        assert data["secret"].startswith('403 secrets is forbidden: User "system:serviceaccount:kube-system:probe" '
                                          'cannot create resource "secrets"')
    assert all(probe.running for probe in Probe.instances)


def test_deleting_the_pod_stops_its_component_and_the_daemonset_starts_a_new_one():
    c = cluster(nodes=1)
    register_images(c.registry)
    c.apply(manifests(c.kubeadm_config()))
    c.run(30)
    victim = next(p for p in probe_pods(c) if p["spec"]["nodeName"] == "node-1")
    [first] = [p for p in Probe.instances if p.context.node_name == "node-1"]
    c.delete("pod", victim["metadata"]["name"], "kube-system")
    c.run(40)
    assert first.running is False                                        # SIGTERM stopped the component
    replacement = next(p for p in probe_pods(c) if p["spec"]["nodeName"] == "node-1")
    assert replacement["metadata"]["uid"] != victim["metadata"]["uid"]
    assert replacement["status"]["phase"] == "Running"
    [second] = [p for p in Probe.instances if p.context.node_name == "node-1" and p is not first]
    assert second.running
    exited = [x for x in c.runtimes["node-1"].list_containers() if x.metadata.name == "probe"
              and c.runtimes["node-1"].container_status(x.id).state == cri.CONTAINER_EXITED]
    assert all(c.runtimes["node-1"].container_status(x.id).exit_code == 0 for x in exited)


def test_a_pod_network_component_without_a_kubeconfig_dials_the_kubernetes_service_and_retries():
    c = cluster(nodes=1)
    register_images(c.registry)
    c.apply(manifests(c.kubeadm_config())[:3])
    c.apply({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "incluster", "namespace": "kube-system"},
             "spec": {"serviceAccountName": "probe", "containers": [{"name": "probe", "image": IMAGE}]}})
    c.run(20)
    logs = c.kubectl("logs incluster -n kube-system")
    # in-cluster config: KUBERNETES_SERVICE_HOST is the kubernetes Service's VIP, which only kube-proxy routes
    assert 'Get "https://10.96.0.1:443/version": dial tcp 10.96.0.1:443: connect: connection refused' in logs
    assert Probe.instances == []
    c.hostnet.listen("10.96.0.1", 443, c.endpoint)       # what kube-proxy's DNAT would make reachable
    c.run(40)
    assert [p.context.node_name for p in Probe.instances] == [None]      # no NODE_NAME in this pod
    assert "Started probe" in c.kubectl("logs incluster -n kube-system")


def test_kubeadm_applies_an_addon_whose_pods_run_in_kube_system(monkeypatch):
    monkeypatch.setattr(addons, "ADDONS", [addons.Addon("probe", __name__)])     # the fake add-on alone
    c = cluster(network="flannel")
    c.run(30)
    assert sorted(p["spec"]["nodeName"] for p in probe_pods(c) if p["status"]["phase"] == "Running") == c.node_names
    listing = c.kubectl("get pods -n kube-system")
    assert listing.splitlines()[0].split() == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    rows = [line.split() for line in listing.splitlines()[1:] if line.startswith("probe-")]
    assert len(rows) == 3 and all(row[1:3] == ["1/1", "Running"] for row in rows)
    assert c.get("configmap", "kubeadm-config", "kube-system")["data"]["ClusterConfiguration"]
    assert c.get("configmap", "cluster-info", "kube-public")["data"]["kubeconfig"]


def test_a_cluster_without_a_network_installs_no_addons(monkeypatch):
    monkeypatch.setattr(addons, "ADDONS", [*addons.ADDONS, addons.Addon("probe", __name__)])
    c = cluster(nodes=1)
    c.run(5)
    assert probe_pods(c) == []
    assert c.list("configmaps", "kube-system", field_selector="metadata.name=kubeadm-config") == []


def test_containers_get_the_service_variables_of_their_namespace_and_hostnetwork_pods_the_node_ip():
    c = cluster(nodes=1)
    c.apply({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "my-web"},
             "spec": {"selector": {"app": "web"}, "ports": [{"name": "http", "port": 80}]}})
    c.apply({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "elsewhere", "namespace": "kube-system"},
             "spec": {"selector": {"app": "x"}, "ports": [{"port": 81}]}})
    c.run(1)
    for name, host in (("plain", False), ("host", True)):
        c.apply({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
                 "spec": {"hostNetwork": host, "restartPolicy": "Never",
                          "containers": [{"name": "c", "image": "busybox", "command": ["sh", "-c", "env"],
                                          "env": [{"name": "POD_IP", "valueFrom": {"fieldRef": {
                                              "fieldPath": "status.podIP"}}}]}]}})
    c.run(20)
    web = c.get("service", "my-web")["spec"]["clusterIP"]
    env = dict(line.split("=", 1) for line in c.kubectl("logs plain").splitlines())
    assert env["KUBERNETES_SERVICE_HOST"] == "10.96.0.1" and env["KUBERNETES_SERVICE_PORT"] == "443"
    assert env["MY_WEB_SERVICE_HOST"] == web and env["MY_WEB_SERVICE_PORT_HTTP"] == "80"
    assert env["MY_WEB_PORT_80_TCP"] == f"tcp://{web}:80"
    assert not any(name.startswith("ELSEWHERE_") for name in env)
    host_env = dict(line.split("=", 1) for line in c.kubectl("logs host").splitlines())
    node_ip = c.machines["node-1"].address
    assert host_env["POD_IP"] == node_ip and host_env["HOSTNAME"] == "node-1"
    assert env["POD_IP"].startswith("10.244.1.")                       # a pod network address, from the CNI
    assert c.get("pod", "host")["status"]["podIP"] == node_ip


def test_a_kubeadm_node_is_not_ready_until_a_network_addon_writes_its_cni_configuration(monkeypatch):
    monkeypatch.setattr(addons, "ADDONS", [addons.Addon("probe", __name__)])
    c = cluster(nodes=1, network="flannel")
    c.apply({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web"},
             "spec": {"nodeName": "node-1", "containers": [{"name": "web", "image": "nginx"}]}})
    c.run(30)
    ready = {c["type"]: c for c in c.get("node", "node-1", None)["status"]["conditions"]}["Ready"]
    assert (ready["status"], ready["reason"]) == ("False", "KubeletNotReady")
    assert ready["message"].startswith("container runtime network not ready: NetworkReady=false")
    assert c.get("pod", "web")["status"]["containerStatuses"][0]["state"]["waiting"]["reason"] == "ContainerCreating"
    reasons = {e["reason"] for e in c.list("events") if e["involvedObject"]["name"] == "web"}
    assert "NetworkNotReady" in reasons
    assert all(p["status"]["phase"] == "Running" for p in probe_pods(c))        # hostNetwork pods run all the same
    node_cidr = c.get("node", "node-1", None)["spec"]["podCIDR"]               # kubeadm: --allocate-node-cidrs
    conflist = {"cniVersion": "0.3.1", "name": "test", "plugins": [
        {"type": "bridge", "bridge": "cni0", "isGateway": True,
         "ipam": {"type": "host-local", "ranges": [[{"subnet": node_cidr}]]}}]}
    c.machines["node-1"].host_fs["/etc/cni/net.d/10-test.conflist"] = json.dumps(conflist)
    c.run(30)
    ready = {c["type"]: c for c in c.get("node", "node-1", None)["status"]["conditions"]}["Ready"]
    assert ready["status"] == "True"
    pod = c.get("pod", "web")
    assert pod["status"]["phase"] == "Running" and pod["status"]["podIP"] == str(
        ipaddress.ip_network(node_cidr).network_address + 2)


def test_with_kube_proxy_running_a_host_network_component_reaches_the_api_server_through_the_kubernetes_vip(
        monkeypatch):
    proxy = next(addon for addon in addons.ADDONS if addon.module == "engine.proxy")
    monkeypatch.setattr(addons, "ADDONS", [proxy, addons.Addon("probe", __name__)])
    c = cluster(nodes=1, network="flannel")
    c.apply({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "incluster", "namespace": "kube-system"},
             "spec": {"serviceAccountName": "probe", "hostNetwork": True, "nodeName": "node-1",
                      "containers": [{"name": "probe", "image": IMAGE}]}})
    c.run(30)
    # KUBERNETES_SERVICE_HOST=10.96.0.1: kube-proxy's rules DNAT it to the API server's 172.18.0.2:6443
    assert "Started probe" in c.kubectl("logs incluster -n kube-system")
    assert [p.context.node_name for p in Probe.instances if p.context.node_name is None] == [None]
