"""kube-proxy's add-on manifests as kubeadm installs them (``cmd/kubeadm/app/phases/addons/proxy``).

``manifests(config)`` returns, in the order kubeadm applies them: the
ServiceAccount ``kube-system/kube-proxy``; the ClusterRoleBinding
``kubeadm:node-proxier`` (ClusterRole ``system:node-proxier`` for that
ServiceAccount); the Role and RoleBinding ``kube-system/kube-proxy`` letting
joining nodes read the ConfigMap; the ConfigMap ``kube-proxy`` with
``config.conf`` (KubeProxyConfiguration: ``mode``, ``clusterCIDR``) and
``kubeconfig.conf`` (the control-plane endpoint, the ServiceAccount token
file); and the DaemonSet ``kube-proxy``: hostNetwork, privileged,
``priorityClassName: system-node-critical``, tolerating every taint
(``operator: Exists``), ``NODE_NAME`` from ``spec.nodeName``, the ConfigMap at
``/var/lib/kube-proxy``. Plain dicts in the real shapes; pure.
"""

from __future__ import annotations

from typing import Any

from engine.proxy.config import render, render_kubeconfig

IMAGE = "registry.k8s.io/kube-proxy:v1.31.0"
NAMESPACE = "kube-system"
LABELS = {"k8s-app": "kube-proxy"}


def manifests(config: dict[str, Any] | None = None) -> list[dict]:
    """The kube-proxy add-on. ``config`` keys: ``mode`` ("" | iptables | ipvs), ``clusterCIDR``,
    ``controlPlaneEndpoint`` (``https://172.18.0.2:6443``), ``image``."""
    config = dict(config or {})
    mode = config.get("mode") or ""
    server = config.get("controlPlaneEndpoint") or "https://172.18.0.2:6443"
    image = config.get("image") or IMAGE
    return [
        {"apiVersion": "v1", "kind": "ServiceAccount",
         "metadata": {"name": "kube-proxy", "namespace": NAMESPACE}},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
         "metadata": {"name": "kubeadm:node-proxier"},
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "system:node-proxier"},
         "subjects": [{"kind": "ServiceAccount", "name": "kube-proxy", "namespace": NAMESPACE}]},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
         "metadata": {"name": "kube-proxy", "namespace": NAMESPACE},
         "rules": [{"apiGroups": [""], "resources": ["configmaps"], "resourceNames": ["kube-proxy"],
                    "verbs": ["get"]}]},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
         "metadata": {"name": "kube-proxy", "namespace": NAMESPACE},
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "kube-proxy"},
         "subjects": [{"kind": "Group", "name": "system:bootstrappers:kubeadm:default-node-token"}]},
        {"apiVersion": "v1", "kind": "ConfigMap",
         "metadata": {"name": "kube-proxy", "namespace": NAMESPACE, "labels": {"app": "kube-proxy"}},
         "data": {"config.conf": render(mode, config.get("clusterCIDR") or ""),
                  "kubeconfig.conf": render_kubeconfig(server)}},
        daemonset(image),
    ]


def daemonset(image: str = IMAGE) -> dict:
    """kubeadm's KubeProxyDaemonSet19."""
    return {
        "apiVersion": "apps/v1", "kind": "DaemonSet",
        "metadata": {"name": "kube-proxy", "namespace": NAMESPACE, "labels": dict(LABELS)},
        "spec": {
            "selector": {"matchLabels": dict(LABELS)},
            "updateStrategy": {"type": "RollingUpdate"},
            "template": {
                "metadata": {"labels": dict(LABELS)},
                "spec": {
                    "priorityClassName": "system-node-critical",
                    "containers": [{
                        "name": "kube-proxy", "image": image, "imagePullPolicy": "IfNotPresent",
                        "command": ["/usr/local/bin/kube-proxy", "--config=/var/lib/kube-proxy/config.conf",
                                    "--hostname-override=$(NODE_NAME)"],
                        "securityContext": {"privileged": True},
                        "volumeMounts": [
                            {"mountPath": "/var/lib/kube-proxy", "name": "kube-proxy"},
                            {"mountPath": "/run/xtables.lock", "name": "xtables-lock", "readOnly": False},
                            {"mountPath": "/lib/modules", "name": "lib-modules", "readOnly": True}],
                        "env": [{"name": "NODE_NAME",
                                 "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}}],
                    }],
                    "hostNetwork": True,
                    "serviceAccountName": "kube-proxy",
                    "volumes": [
                        {"name": "kube-proxy", "configMap": {"name": "kube-proxy"}},
                        {"name": "xtables-lock", "hostPath": {"path": "/run/xtables.lock", "type": "FileOrCreate"}},
                        {"name": "lib-modules", "hostPath": {"path": "/lib/modules"}}],
                    "tolerations": [{"operator": "Exists"}],
                    "nodeSelector": {"kubernetes.io/os": "linux"},
                },
            },
        },
    }
