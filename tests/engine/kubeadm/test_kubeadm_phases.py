"""kubeadm's phases through the API server: upload-config, bootstrap-token, addon (order and skipping)."""

from __future__ import annotations

import sys
import types

import yaml

import engine
from engine.client.client import Client
from engine.kubeadm import InitConfiguration, addons, init_phases


def test_the_config_has_kubeadms_addresses():
    config = InitConfiguration()
    assert config.control_plane_endpoint == "https://172.18.0.2:6443"
    assert config.api_server_service_ip == "10.96.0.1"
    assert config.dns_ip == "10.96.0.10"


def test_init_uploads_its_configuration_and_cluster_info(monkeypatch):
    monkeypatch.setattr(addons, "ADDONS", [])
    c = engine.Cluster(nodes=1, seed=0)
    output = init_phases(c.admin, c.kubeadm_config())
    stored = yaml.safe_load(c.get("configmap", "kubeadm-config", "kube-system")["data"]["ClusterConfiguration"])
    assert stored["kind"] == "ClusterConfiguration"
    assert stored["networking"] == {"dnsDomain": "cluster.local", "podSubnet": "10.244.0.0/16",
                                    "serviceSubnet": "10.96.0.0/12"}
    kubelet = yaml.safe_load(c.get("configmap", "kubelet-config", "kube-system")["data"]["kubelet"])
    assert kubelet["clusterDNS"] == ["10.96.0.10"] and kubelet["staticPodPath"] == "/etc/kubernetes/manifests"
    info = yaml.safe_load(c.get("configmap", "cluster-info", "kube-public")["data"]["kubeconfig"])
    assert info["clusters"][0]["cluster"]["server"] == "https://172.18.0.2:6443"
    # anyone may read cluster-info, even without credentials; nodes may read kubeadm-config
    anonymous = Client(c.apiserver, None)
    assert anonymous.get("configmaps", "cluster-info", "kube-public")["metadata"]["name"] == "cluster-info"
    assert output[0].startswith('[upload-config] Storing the configuration used in ConfigMap "kubeadm-config"')
    assert init_phases(c.admin, c.kubeadm_config()) == output          # a phase run again updates, never fails


def test_addons_are_applied_in_kubeadms_order_and_missing_packages_are_skipped(monkeypatch):
    applied = []

    def package(name, kind="ConfigMap"):
        module = types.ModuleType(name)
        module.manifests = lambda argument: applied.append((name, argument)) or [
            {"apiVersion": "v1", "kind": kind, "metadata": {"name": name.replace("_", "-"), "namespace": "kube-system"}}]
        return module

    for name in ("fake_dns", "fake_proxy", "fake_cni"):
        monkeypatch.setitem(sys.modules, name, package(name))
    monkeypatch.setattr(addons, "ADDONS", [
        addons.Addon("CoreDNS", "fake_dns", essential=True),
        addons.Addon("kube-proxy", "fake_proxy", essential=True),
        addons.Addon("absent", "engine_no_such_addon_package"),
        addons.Addon("pod network", "fake_cni", argument=lambda config: config.network),
    ])
    c = engine.Cluster(nodes=1, seed=0, network="calico")
    assert [name for name, _ in applied] == ["fake_dns", "fake_proxy", "fake_cni"]
    assert applied[2][1] == "calico" and applied[0][1].proxy_mode == "iptables"
    assert c.get("configmap", "fake-cni", "kube-system")["metadata"]["annotations"]   # kubectl apply's annotation
    assert "annotations" not in c.get("configmap", "fake-dns", "kube-system")["metadata"]   # kubeadm's create


def test_the_control_plane_static_pods_are_kubeadms():
    from engine.kubeadm.controlplane import components, static_pod_manifest

    pods = {c.name: static_pod_manifest(c) for c in components(InitConfiguration())}
    assert sorted(pods) == ["etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler"]
    apiserver = pods["kube-apiserver"]["spec"]["containers"][0]
    assert "--advertise-address=172.18.0.2" in apiserver["command"]
    assert "--service-cluster-ip-range=10.96.0.0/12" in apiserver["command"]
    assert apiserver["livenessProbe"]["httpGet"] == {"host": "172.18.0.2", "path": "/livez", "port": 6443,
                                                     "scheme": "HTTPS"}
    assert apiserver["readinessProbe"]["periodSeconds"] == 1
    kcm = pods["kube-controller-manager"]["spec"]["containers"][0]["command"]
    assert "--allocate-node-cidrs=true" in kcm and "--cluster-cidr=10.244.0.0/16" in kcm
    for pod in pods.values():
        assert pod["spec"]["hostNetwork"] and pod["spec"]["priorityClassName"] == "system-node-critical"
        assert pod["metadata"]["labels"]["tier"] == "control-plane"
