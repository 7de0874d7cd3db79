"""The CoreDNS add-on exactly as ``kubeadm init`` installs it (cmd/kubeadm/app/phases/addons/dns).

``manifests(config)`` returns, in kubeadm's order: the
``coredns`` ConfigMap (the default Corefile, ``COREFILE``), the
``system:coredns`` ClusterRole (list/watch endpoints, services, pods,
namespaces; get nodes; list/watch endpointslices) and its binding to the
``coredns`` ServiceAccount, the ServiceAccount, the ``coredns`` Deployment
(2 replicas, maxUnavailable 1, the ``k8s-app: kube-dns`` label,
priorityClassName system-cluster-critical, the control-plane and
CriticalAddonsOnly tolerations, a preferred podAntiAffinity on
``kubernetes.io/hostname``, requests 100m / 70Mi and limit 170Mi, ports
dns 53/UDP, dns-tcp 53/TCP, metrics 9153/TCP, liveness ``/health`` on 8080
(60 s initial delay, 5 s timeout, 5 failures), readiness ``/ready`` on 8181,
dnsPolicy Default, the Corefile mounted read-only at /etc/coredns) and the
``kube-dns`` Service at the cluster DNS address. What it never does: apply
them (engine/kubeadm does, through the API server).
"""

from __future__ import annotations

from typing import Any

IMAGE = "registry.k8s.io/coredns/coredns:v1.11.1"
CLUSTER_DNS = "10.96.0.10"
CLUSTER_DOMAIN = "cluster.local"
NAMESPACE = "kube-system"
LABELS = {"k8s-app": "kube-dns"}

COREFILE = """.:53 {{
    errors
    health {{
       lameduck 5s
    }}
    ready
    kubernetes {domain} in-addr.arpa ip6.arpa {{
       pods insecure
       fallthrough in-addr.arpa ip6.arpa
       ttl 30
    }}
    prometheus :9153
    forward . /etc/resolv.conf {{
       max_concurrent 1000
    }}
    cache 30
    loop
    reload
    loadbalance
}}
"""


def default_corefile(cluster_domain: str = CLUSTER_DOMAIN) -> str:
    """kubeadm's default Corefile for ``cluster_domain``."""
    return COREFILE.format(domain=cluster_domain)


def manifests(config: Any = None, *, replicas: int = 2, image: str = IMAGE) -> list[dict[str, Any]]:
    """The objects kubeadm's CoreDNS addon phase creates, in its order.

    ``config``: kubeadm's configuration (its ``dns_ip`` and ``dns_domain``), or None for kubeadm's defaults
    (``10.96.0.10``, ``cluster.local``).
    """
    cluster_dns = getattr(config, "dns_ip", CLUSTER_DNS)
    cluster_domain = getattr(config, "dns_domain", CLUSTER_DOMAIN)
    return [_config_map(cluster_domain), _cluster_role(), _cluster_role_binding(), _service_account(),
            _deployment(replicas, image), _service(cluster_dns)]


def _config_map(cluster_domain: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "coredns", "namespace": NAMESPACE},
            "data": {"Corefile": default_corefile(cluster_domain)}}


def _cluster_role() -> dict[str, Any]:
    return {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
            "metadata": {"name": "system:coredns"},
            "rules": [{"apiGroups": [""], "resources": ["endpoints", "services", "pods", "namespaces"],
                       "verbs": ["list", "watch"]},
                      {"apiGroups": [""], "resources": ["nodes"], "verbs": ["get"]},
                      {"apiGroups": ["discovery.k8s.io"], "resources": ["endpointslices"],
                       "verbs": ["list", "watch"]}]}


def _cluster_role_binding() -> dict[str, Any]:
    return {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
            "metadata": {"name": "system:coredns"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "system:coredns"},
            "subjects": [{"kind": "ServiceAccount", "name": "coredns", "namespace": NAMESPACE}]}


def _service_account() -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "coredns", "namespace": NAMESPACE}}


def _deployment(replicas: int, image: str) -> dict[str, Any]:
    container = {
        "name": "coredns", "image": image, "imagePullPolicy": "IfNotPresent",
        "resources": {"limits": {"memory": "170Mi"}, "requests": {"cpu": "100m", "memory": "70Mi"}},
        "args": ["-conf", "/etc/coredns/Corefile"],
        "volumeMounts": [{"name": "config-volume", "mountPath": "/etc/coredns", "readOnly": True}],
        "ports": [{"containerPort": 53, "name": "dns", "protocol": "UDP"},
                  {"containerPort": 53, "name": "dns-tcp", "protocol": "TCP"},
                  {"containerPort": 9153, "name": "metrics", "protocol": "TCP"}],
        "securityContext": {"allowPrivilegeEscalation": False,
                            "capabilities": {"add": ["NET_BIND_SERVICE"], "drop": ["ALL"]},
                            "readOnlyRootFilesystem": True},
        "livenessProbe": {"httpGet": {"path": "/health", "port": 8080, "scheme": "HTTP"},
                          "initialDelaySeconds": 60, "timeoutSeconds": 5, "successThreshold": 1,
                          "failureThreshold": 5},
        "readinessProbe": {"httpGet": {"path": "/ready", "port": 8181, "scheme": "HTTP"}},
    }
    return {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "coredns", "namespace": NAMESPACE, "labels": dict(LABELS)},
        "spec": {
            "replicas": replicas,
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1}},
            "selector": {"matchLabels": dict(LABELS)},
            "template": {
                "metadata": {"labels": dict(LABELS)},
                "spec": {
                    "priorityClassName": "system-cluster-critical",
                    "serviceAccountName": "coredns",
                    "affinity": {"podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [{
                        "weight": 100,
                        "podAffinityTerm": {
                            "labelSelector": {"matchExpressions": [
                                {"key": "k8s-app", "operator": "In", "values": ["kube-dns"]}]},
                            "topologyKey": "kubernetes.io/hostname"}}]}},
                    "tolerations": [{"key": "CriticalAddonsOnly", "operator": "Exists"},
                                    {"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}],
                    "nodeSelector": {"kubernetes.io/os": "linux"},
                    "containers": [container],
                    "dnsPolicy": "Default",
                    "volumes": [{"name": "config-volume", "configMap": {
                        "name": "coredns", "items": [{"key": "Corefile", "path": "Corefile"}]}}],
                },
            },
        },
    }


def _service(cluster_dns: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": "kube-dns", "namespace": NAMESPACE,
                     "labels": {"k8s-app": "kube-dns", "kubernetes.io/cluster-service": "true",
                                "kubernetes.io/name": "CoreDNS"},
                     "annotations": {"prometheus.io/port": "9153", "prometheus.io/scrape": "true"}},
        "spec": {"clusterIP": cluster_dns, "selector": dict(LABELS),
                 "ports": [{"name": "dns", "port": 53, "protocol": "UDP", "targetPort": 53},
                           {"name": "dns-tcp", "port": 53, "protocol": "TCP", "targetPort": 53},
                           {"name": "metrics", "port": 9153, "protocol": "TCP", "targetPort": 9153}]},
    }
