"""metrics-server's objects as its release manifest (``components.yaml`` of v0.7.1) installs them.

``manifests()`` returns, in the release's order: the ServiceAccount ``metrics-server``; the ClusterRoles
``system:aggregated-metrics-reader`` (get/list/watch pods and nodes in metrics.k8s.io, aggregated to
admin/edit/view) and ``system:metrics-server`` (get nodes/metrics; get/list/watch pods and nodes); the RoleBinding
``metrics-server-auth-reader`` (extension-apiserver-authentication-reader in kube-system); the ClusterRoleBindings
``metrics-server:system:auth-delegator`` and ``system:metrics-server``; the Service ``metrics-server`` (443 ->
the ``https`` container port); the Deployment ``metrics-server`` (one replica, ``--secure-port=10250``,
``--kubelet-preferred-address-types=InternalIP`` as kind/kubeadm clusters need, ``--kubelet-insecure-tls``
(kubeadm's kubelets serve self-signed certificates), ``--metric-resolution=15s``, probes on /livez and /readyz,
``system-cluster-critical``); and the APIService ``v1beta1.metrics.k8s.io`` pointing at the Service.
"""

from __future__ import annotations

from typing import Any

IMAGE = "registry.k8s.io/metrics-server/metrics-server:v0.7.1"
NAMESPACE = "kube-system"
NAME = "metrics-server"
LABELS = {"k8s-app": NAME}
SECURE_PORT = 10250
ARGS = ["--cert-dir=/tmp", f"--secure-port={SECURE_PORT}", "--kubelet-preferred-address-types=InternalIP",
        "--kubelet-use-node-status-port", "--metric-resolution=15s", "--kubelet-insecure-tls"]
RBAC = "rbac.authorization.k8s.io"


def _binding(kind: str, name: str, role_kind: str, role: str, namespace: str | None = None) -> dict:
    metadata: dict[str, Any] = {"name": name, "labels": dict(LABELS)}
    if namespace:
        metadata["namespace"] = namespace
    return {"apiVersion": f"{RBAC}/v1", "kind": kind, "metadata": metadata,
            "roleRef": {"apiGroup": RBAC, "kind": role_kind, "name": role},
            "subjects": [{"kind": "ServiceAccount", "name": NAME, "namespace": NAMESPACE}]}


def manifests(config: Any = None, image: str = IMAGE) -> list[dict]:
    """The release manifest's objects (``config`` is kubeadm's, unused: metrics-server needs nothing of it)."""
    return [
        {"apiVersion": "v1", "kind": "ServiceAccount",
         "metadata": {"name": NAME, "namespace": NAMESPACE, "labels": dict(LABELS)}},
        {"apiVersion": f"{RBAC}/v1", "kind": "ClusterRole",
         "metadata": {"name": "system:aggregated-metrics-reader",
                      "labels": {**LABELS, "rbac.authorization.k8s.io/aggregate-to-admin": "true",
                                 "rbac.authorization.k8s.io/aggregate-to-edit": "true",
                                 "rbac.authorization.k8s.io/aggregate-to-view": "true"}},
         "rules": [{"apiGroups": ["metrics.k8s.io"], "resources": ["pods", "nodes"],
                    "verbs": ["get", "list", "watch"]}]},
        {"apiVersion": f"{RBAC}/v1", "kind": "ClusterRole",
         "metadata": {"name": "system:metrics-server", "labels": dict(LABELS)},
         "rules": [{"apiGroups": [""], "resources": ["nodes/metrics"], "verbs": ["get"]},
                   {"apiGroups": [""], "resources": ["pods", "nodes"], "verbs": ["get", "list", "watch"]}]},
        _binding("RoleBinding", "metrics-server-auth-reader", "Role", "extension-apiserver-authentication-reader",
                 NAMESPACE),
        _binding("ClusterRoleBinding", "metrics-server:system:auth-delegator", "ClusterRole",
                 "system:auth-delegator"),
        _binding("ClusterRoleBinding", "system:metrics-server", "ClusterRole", "system:metrics-server"),
        {"apiVersion": "v1", "kind": "Service",
         "metadata": {"name": NAME, "namespace": NAMESPACE, "labels": dict(LABELS)},
         "spec": {"ports": [{"name": "https", "port": 443, "protocol": "TCP", "targetPort": "https"}],
                  "selector": dict(LABELS)}},
        deployment(image),
        apiservice(),
    ]


def deployment(image: str = IMAGE) -> dict:
    probe = {"failureThreshold": 3, "periodSeconds": 10,
             "httpGet": {"path": "/livez", "port": "https", "scheme": "HTTPS"}}
    return {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": NAME, "namespace": NAMESPACE, "labels": dict(LABELS)},
        "spec": {
            "selector": {"matchLabels": dict(LABELS)},
            "strategy": {"rollingUpdate": {"maxUnavailable": 0}},
            "template": {
                "metadata": {"labels": dict(LABELS)},
                "spec": {
                    "containers": [{
                        "name": NAME, "image": image, "imagePullPolicy": "IfNotPresent", "args": list(ARGS),
                        "ports": [{"containerPort": SECURE_PORT, "name": "https", "protocol": "TCP"}],
                        "livenessProbe": probe,
                        "readinessProbe": {**probe, "initialDelaySeconds": 20,
                                           "httpGet": {**probe["httpGet"], "path": "/readyz"}},
                        "resources": {"requests": {"cpu": "100m", "memory": "200Mi"}},
                        "securityContext": {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                                            "runAsNonRoot": True, "runAsUser": 1000,
                                            "capabilities": {"drop": ["ALL"]},
                                            "seccompProfile": {"type": "RuntimeDefault"}},
                        "volumeMounts": [{"mountPath": "/tmp", "name": "tmp-dir"}],
                    }],
                    "nodeSelector": {"kubernetes.io/os": "linux"},
                    "priorityClassName": "system-cluster-critical",
                    "serviceAccountName": NAME,
                    "volumes": [{"name": "tmp-dir", "emptyDir": {}}],
                },
            },
        },
    }


def apiservice() -> dict:
    """The APIService that registers metrics.k8s.io/v1beta1 with the aggregation layer."""
    return {"apiVersion": "apiregistration.k8s.io/v1", "kind": "APIService",
            "metadata": {"name": "v1beta1.metrics.k8s.io", "labels": dict(LABELS)},
            "spec": {"group": "metrics.k8s.io", "groupPriorityMinimum": 100, "insecureSkipTLSVerify": True,
                     "service": {"name": NAME, "namespace": NAMESPACE}, "version": "v1beta1",
                     "versionPriority": 100}}
