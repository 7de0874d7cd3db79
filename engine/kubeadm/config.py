"""kubeadm's configuration: what ``kubeadm init --config`` reads, and the documents it stores in the cluster.

``kubeadm init`` takes an ``InitConfiguration`` (this node: its name, the API
server's advertise address and port) and a ``ClusterConfiguration`` (the
whole cluster: version, image repository, ``networking.podSubnet`` /
``serviceSubnet`` / ``dnsDomain``, the control-plane endpoint), plus
component configs such as ``KubeProxyConfiguration`` and
``KubeletConfiguration``. ``InitConfiguration`` here is all of that flattened
into one record, with kubeadm's defaults (and kind's node address,
``172.18.0.2``); the add-on packages read what they need from it
(``engine.proxy.manifests(config)`` its proxy mode and pod subnet,
``engine.dns.manifests(config)`` its DNS domain and DNS IP).

``cluster_configuration`` and ``kubelet_configuration`` render the documents
kubeadm uploads (``kubeadm-config`` and ``kubelet-config`` ConfigMaps) in
their real API versions and field names. What this module never does: talk
to the API server.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from engine import flags

KUBERNETES_VERSION = "v1.31.0"
IMAGE_REPOSITORY = "registry.k8s.io"
DEFAULT_POD_SUBNET = "10.244.0.0/16"
"""``kubeadm init --pod-network-cidr=10.244.0.0/16``: what flannel's manifest expects (and what we give calico)."""
DEFAULT_DNS_DOMAIN = "cluster.local"
CLUSTER_NAME = "kubernetes"
STATIC_POD_PATH = "/etc/kubernetes/manifests"


@dataclass(frozen=True)
class InitConfiguration:
    """kubeadm's InitConfiguration + ClusterConfiguration (+ the proxy mode), flattened."""

    node_name: str = "control-plane"
    advertise_address: str = "172.18.0.2"
    bind_port: int = 6443
    network: str | None = None
    """The CNI add-on to install after init (``flannel``, ``calico``), or None."""
    proxy_mode: str = "iptables"
    pod_subnet: str = DEFAULT_POD_SUBNET
    service_subnet: str = flags.service_cluster_ip_range
    dns_domain: str = DEFAULT_DNS_DOMAIN
    kubernetes_version: str = KUBERNETES_VERSION
    image_repository: str = IMAGE_REPOSITORY
    cluster_name: str = CLUSTER_NAME

    @property
    def control_plane_endpoint(self) -> str:
        """``https://172.18.0.2:6443``: where kubeadm's kubeconfigs (and kube-proxy's) point."""
        return f"https://{self.advertise_address}:{self.bind_port}"

    @property
    def api_server_service_ip(self) -> str:
        """The ``kubernetes`` Service's ClusterIP: the service subnet's first address (``10.96.0.1``)."""
        return str(ipaddress.ip_network(self.service_subnet).network_address + 1)

    @property
    def dns_ip(self) -> str:
        """The ``kube-dns`` Service's ClusterIP: the service subnet's tenth address (``10.96.0.10``), as kubeadm picks it."""
        return str(ipaddress.ip_network(self.service_subnet).network_address + 10)


def cluster_configuration(config: InitConfiguration) -> dict:
    """The ClusterConfiguration document kubeadm stores in the ``kubeadm-config`` ConfigMap."""
    return {
        "apiServer": {},
        "apiVersion": "kubeadm.k8s.io/v1beta4",
        "caCertificateValidityPeriod": "87600h0m0s",
        "certificateValidityPeriod": "8760h0m0s",
        "certificatesDir": "/etc/kubernetes/pki",
        "clusterName": config.cluster_name,
        "controlPlaneEndpoint": f"{config.advertise_address}:{config.bind_port}",
        "controllerManager": {},
        "dns": {},
        "encryptionAlgorithm": "RSA-2048",
        "etcd": {"local": {"dataDir": "/var/lib/etcd"}},
        "imageRepository": config.image_repository,
        "kind": "ClusterConfiguration",
        "kubernetesVersion": config.kubernetes_version,
        "networking": {"dnsDomain": config.dns_domain, "podSubnet": config.pod_subnet,
                       "serviceSubnet": config.service_subnet},
        "proxy": {},
        "scheduler": {},
    }


def kubelet_configuration(config: InitConfiguration) -> dict:
    """The KubeletConfiguration every kubelet of the cluster shares (the ``kubelet-config`` ConfigMap)."""
    return {
        "apiVersion": "kubelet.config.k8s.io/v1beta1",
        "authentication": {"anonymous": {"enabled": False}, "webhook": {"cacheTTL": "0s", "enabled": True},
                           "x509": {"clientCAFile": "/etc/kubernetes/pki/ca.crt"}},
        "authorization": {"mode": "Webhook", "webhook": {"cacheAuthorizedTTL": "0s", "cacheUnauthorizedTTL": "0s"}},
        "cgroupDriver": "systemd",
        "clusterDNS": [config.dns_ip],
        "clusterDomain": config.dns_domain,
        "healthzBindAddress": "127.0.0.1",
        "healthzPort": 10248,
        "kind": "KubeletConfiguration",
        "rotateCertificates": True,
        "staticPodPath": STATIC_POD_PATH,
    }
