"""``kubeadm init`` phases ``upload-config`` and ``bootstrap-token``: what kubeadm leaves in the cluster for later.

upload-config (``phases/uploadconfig``): the configuration this control plane
was made with goes into the cluster, so that ``kubeadm join`` and
``kubeadm upgrade`` on other machines read the same settings:

    kube-system/kubeadm-config   ``ClusterConfiguration``: version, networking, endpoint
    kube-system/kubelet-config   ``kubelet``: the KubeletConfiguration every node's kubelet starts from

each readable by the nodes (and by the bootstrap token's group, so a joining
machine can read them before it is a node) through a Role and RoleBinding
named ``kubeadm:nodes-kubeadm-config`` and ``kubeadm:kubelet-config``.

bootstrap-token (``phases/bootstraptoken``): ``kube-public/cluster-info``, a
kubeconfig with the cluster's CA and the API server's address, readable by
anyone, even unauthenticated (``system:anonymous``, through the Role and
RoleBinding ``kubeadm:bootstrap-signer-clusterinfo``): a joining machine
reads it to find and trust the API server before it has credentials.

These functions only build the objects; ``engine.kubeadm.init`` writes them.
"""

from __future__ import annotations

import base64

import yaml

from engine.controllers.rootcacertpublisher import DEFAULT_CA
from engine.kubeadm.config import InitConfiguration, cluster_configuration, kubelet_configuration

KUBEADM_CONFIG = "kubeadm-config"
KUBELET_CONFIG = "kubelet-config"
CLUSTER_INFO = "cluster-info"
BOOTSTRAP_TOKEN_GROUP = "system:bootstrappers:kubeadm:default-node-token"


def _dump(document: dict) -> str:
    return yaml.safe_dump(document, sort_keys=True, default_flow_style=False)


def _config_map(name: str, namespace: str, data: dict[str, str]) -> dict:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": namespace},
            "data": data}


def _readable_by(role: str, namespace: str, config_map: str, subjects: list[dict]) -> list[dict]:
    """A Role allowing ``get`` on one ConfigMap, and its RoleBinding to ``subjects``."""
    return [
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
         "metadata": {"name": role, "namespace": namespace},
         "rules": [{"apiGroups": [""], "resources": ["configmaps"], "resourceNames": [config_map],
                    "verbs": ["get"]}]},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
         "metadata": {"name": role, "namespace": namespace},
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": role},
         "subjects": subjects},
    ]


def _groups(*names: str) -> list[dict]:
    return [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": name} for name in names]


def upload_config_objects(config: InitConfiguration) -> list[dict]:
    """Phase upload-config: ``kubeadm-config`` and ``kubelet-config`` in kube-system, readable by the nodes."""
    readers = _groups(BOOTSTRAP_TOKEN_GROUP, "system:nodes")
    return [
        _config_map(KUBEADM_CONFIG, "kube-system", {"ClusterConfiguration": _dump(cluster_configuration(config))}),
        *_readable_by("kubeadm:nodes-kubeadm-config", "kube-system", KUBEADM_CONFIG, readers),
        _config_map(KUBELET_CONFIG, "kube-system", {"kubelet": _dump(kubelet_configuration(config))}),
        *_readable_by("kubeadm:kubelet-config", "kube-system", KUBELET_CONFIG, readers),
    ]


def cluster_info_objects(config: InitConfiguration, ca: str = DEFAULT_CA) -> list[dict]:
    """Phase bootstrap-token: ``kube-public/cluster-info`` (CA + server), readable by anonymous users."""
    kubeconfig = {
        "apiVersion": "v1", "kind": "Config", "preferences": {}, "current-context": "", "contexts": None,
        "users": None,
        "clusters": [{"name": "", "cluster": {
            "certificate-authority-data": base64.b64encode(ca.encode()).decode(),
            "server": config.control_plane_endpoint}}],
    }
    anonymous = [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "system:anonymous"}]
    return [
        _config_map(CLUSTER_INFO, "kube-public", {"kubeconfig": _dump(kubeconfig)}),
        *_readable_by("kubeadm:bootstrap-signer-clusterinfo", "kube-public", CLUSTER_INFO, anonymous),
    ]
