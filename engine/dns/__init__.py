"""DNS: CoreDNS (the cluster's DNS add-on), the messages it speaks, and the stub resolver inside pods.

    message      DnsQuery, DnsResponse, ResourceRecord; dig-style output
    corefile     the Corefile parser
    plugin       plugin.cfg order, the Plugin interface, the chain
    plugins/     kubernetes, cache, forward, and errors/log/loadbalance/loop
    coredns      the CoreDNS server (a component: handle_dns, health/ready/metrics HTTP, reload)
    program      the coredns binary: CoreDNS in a pod (a ComponentProgram), and its image
    manifests    kubeadm's CoreDNS objects (ConfigMap, RBAC, ServiceAccount, Deployment, kube-dns Service)
    resolver     glibc's stub resolver: hosts file, search list, ndots, nameservers, every query recorded
    upstream     the resolver outside the cluster that nodes (and CoreDNS's forward) use

``manifests(config)`` is what engine/kubeadm applies and ``register_images(registry)`` publishes the CoreDNS
image (``program``: the binary, a ComponentProgram); the kubelet's side (each
pod's resolv.conf and /etc/hosts) is engine.kubelet.network_dns.
"""

from typing import Any

from engine.dns.manifests import CLUSTER_DNS, CLUSTER_DOMAIN, IMAGE, default_corefile, manifests
from engine.dns.message import DnsQuery, DnsResponse, ResourceRecord


def register_images(registry: Any) -> None:
    """Publish ``registry.k8s.io/coredns/coredns:v1.11.1`` (imported here only when a cluster asks)."""
    from engine.dns.program import register_images as register
    register(registry)


__all__ = ["CLUSTER_DNS", "CLUSTER_DOMAIN", "IMAGE", "DnsQuery", "DnsResponse", "ResourceRecord", "default_corefile",
           "manifests", "register_images"]
