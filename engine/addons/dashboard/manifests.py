"""The Kubernetes Dashboard's objects as its release manifest (``aio/deploy/recommended.yaml`` of v2.7.0) has them.

``manifests()`` returns, in the release's order: the Namespace ``kubernetes-dashboard``; the ServiceAccount
``kubernetes-dashboard``; the Service ``kubernetes-dashboard`` (443 -> 8443, its port unnamed, so the proxy URL's
port part is empty: ``https:kubernetes-dashboard:``); the Secrets ``kubernetes-dashboard-certs``,
``-csrf`` and ``-key-holder``; the ConfigMap ``kubernetes-dashboard-settings``; the Role ``kubernetes-dashboard``
(its own Secrets and settings, the metrics scraper's proxy) and the ClusterRole ``kubernetes-dashboard``
(metrics.k8s.io), each bound to the ServiceAccount; and the Deployment ``kubernetes-dashboard`` (one replica,
``--auto-generate-certificates --namespace=kubernetes-dashboard``, container port 8443, an HTTPS liveness probe
on ``/``, the control plane tolerated).

What differs from the release, and why:

- no ``dashboard-metrics-scraper`` Deployment and Service (the page shows no metrics graphs);
- the release's dashboard shows a login page and acts with the token the user pastes there; this one has no
  login and acts as its own ServiceAccount, so ``READ_ONLY_RBAC`` adds the ClusterRole
  ``kubernetes-dashboard-read-only`` (get / list / watch of what the page shows, ``pods/log`` included, no
  Secrets) bound to it: what the docs' "sample user" would be given, read-only.
"""

from __future__ import annotations

from typing import Any

IMAGE = "kubernetesui/dashboard:v2.7.0"
NAMESPACE = "kubernetes-dashboard"
NAME = "kubernetes-dashboard"
LABELS = {"k8s-app": NAME}
PORT = 8443
SETTINGS = "kubernetes-dashboard-settings"
RBAC = "rbac.authorization.k8s.io"
READ_ONLY_ROLE = "kubernetes-dashboard-read-only"
READ_ONLY_RULES = [
    {"apiGroups": [""], "resources": ["pods", "pods/log", "nodes", "services", "endpoints", "events", "namespaces",
                                      "configmaps", "persistentvolumeclaims", "persistentvolumes",
                                      "replicationcontrollers", "serviceaccounts"],
     "verbs": ["get", "list", "watch"]},
    {"apiGroups": ["apps"], "resources": ["deployments", "replicasets", "statefulsets", "daemonsets"],
     "verbs": ["get", "list", "watch"]},
    {"apiGroups": ["batch"], "resources": ["jobs", "cronjobs"], "verbs": ["get", "list", "watch"]},
    {"apiGroups": ["events.k8s.io"], "resources": ["events"], "verbs": ["get", "list", "watch"]},
]
"""What the dashboard's ServiceAccount may read in this miniature (see the module docstring)."""


def _meta(name: str, namespaced: bool = True, labels: dict | None = None) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": name, "labels": dict(labels if labels is not None else LABELS)}
    if namespaced:
        metadata["namespace"] = NAMESPACE
    return metadata


def _subjects() -> list[dict]:
    return [{"kind": "ServiceAccount", "name": NAME, "namespace": NAMESPACE}]


def manifests(image: str = IMAGE) -> list[dict]:
    """Every object ``kubectl apply -f recommended.yaml`` would create (as changed above), in order."""
    secret = {"apiVersion": "v1", "kind": "Secret", "type": "Opaque"}
    return [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}},
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": _meta(NAME)},
        {"apiVersion": "v1", "kind": "Service", "metadata": _meta(NAME),
         "spec": {"ports": [{"port": 443, "targetPort": PORT}], "selector": dict(LABELS)}},
        {**secret, "metadata": _meta("kubernetes-dashboard-certs")},
        {**secret, "metadata": _meta("kubernetes-dashboard-csrf"), "data": {"csrf": ""}},
        {**secret, "metadata": _meta("kubernetes-dashboard-key-holder")},
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": _meta(SETTINGS)},
        {"apiVersion": f"{RBAC}/v1", "kind": "Role", "metadata": _meta(NAME), "rules": [
            {"apiGroups": [""], "resources": ["secrets"],
             "resourceNames": ["kubernetes-dashboard-key-holder", "kubernetes-dashboard-certs",
                               "kubernetes-dashboard-csrf"],
             "verbs": ["get", "update", "delete"]},
            {"apiGroups": [""], "resources": ["configmaps"], "resourceNames": [SETTINGS], "verbs": ["get", "update"]},
            {"apiGroups": [""], "resources": ["services"], "resourceNames": ["heapster", "dashboard-metrics-scraper"],
             "verbs": ["proxy"]},
            {"apiGroups": [""], "resources": ["services/proxy"],
             "resourceNames": ["heapster", "http:heapster:", "https:heapster:", "dashboard-metrics-scraper",
                               "http:dashboard-metrics-scraper"],
             "verbs": ["get"]},
        ]},
        {"apiVersion": f"{RBAC}/v1", "kind": "ClusterRole", "metadata": _meta(NAME, namespaced=False), "rules": [
            {"apiGroups": ["metrics.k8s.io"], "resources": ["pods", "nodes"], "verbs": ["get", "list", "watch"]},
        ]},
        {"apiVersion": f"{RBAC}/v1", "kind": "RoleBinding", "metadata": _meta(NAME),
         "roleRef": {"apiGroup": RBAC, "kind": "Role", "name": NAME}, "subjects": _subjects()},
        {"apiVersion": f"{RBAC}/v1", "kind": "ClusterRoleBinding", "metadata": {"name": NAME},
         "roleRef": {"apiGroup": RBAC, "kind": "ClusterRole", "name": NAME}, "subjects": _subjects()},
        {"apiVersion": f"{RBAC}/v1", "kind": "ClusterRole", "metadata": _meta(READ_ONLY_ROLE, namespaced=False),
         "rules": [dict(rule) for rule in READ_ONLY_RULES]},
        {"apiVersion": f"{RBAC}/v1", "kind": "ClusterRoleBinding", "metadata": {"name": READ_ONLY_ROLE},
         "roleRef": {"apiGroup": RBAC, "kind": "ClusterRole", "name": READ_ONLY_ROLE}, "subjects": _subjects()},
        deployment(image),
    ]


def deployment(image: str = IMAGE) -> dict:
    """The ``kubernetes-dashboard`` Deployment of the release manifest."""
    return {
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": _meta(NAME),
        "spec": {
            "replicas": 1, "revisionHistoryLimit": 10,
            "selector": {"matchLabels": dict(LABELS)},
            "template": {
                "metadata": {"labels": dict(LABELS)},
                "spec": {
                    "securityContext": {"seccompProfile": {"type": "RuntimeDefault"}},
                    "containers": [{
                        "name": NAME, "image": image, "imagePullPolicy": "Always",
                        "ports": [{"containerPort": PORT, "protocol": "TCP"}],
                        "args": ["--auto-generate-certificates", f"--namespace={NAMESPACE}"],
                        "volumeMounts": [{"name": "kubernetes-dashboard-certs", "mountPath": "/certs"},
                                         {"mountPath": "/tmp", "name": "tmp-volume"}],
                        "livenessProbe": {"httpGet": {"scheme": "HTTPS", "path": "/", "port": PORT},
                                          "initialDelaySeconds": 30, "timeoutSeconds": 30},
                        "securityContext": {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                                            "runAsUser": 1001, "runAsGroup": 2001},
                    }],
                    "volumes": [{"name": "kubernetes-dashboard-certs",
                                 "secret": {"secretName": "kubernetes-dashboard-certs"}},
                                {"name": "tmp-volume", "emptyDir": {}}],
                    "serviceAccountName": NAME,
                    "nodeSelector": {"kubernetes.io/os": "linux"},
                    "tolerations": [{"key": "node-role.kubernetes.io/master", "effect": "NoSchedule"}],
                },
            },
        },
    }
