"""The RBAC a cloud provider's manifests install with its cloud-controller-manager and CSI driver.

kube-apiserver's bootstrap policy knows nothing of the CCM: the cloud vendor
ships its roles with its deployment manifests (the sample in
``kubernetes/cloud-provider`` and each vendor's own), and its CSI driver
ships the sidecars' roles (``external-provisioner-runner``,
``external-attacher-runner``). ``manifests()`` returns them, applied by the
``Cluster`` as the administrator when it boots with a cloud:

- ``system:cloud-controller-manager`` for the manager's own identity: leader
  election on its Lease, events, creating its controllers' ServiceAccounts
  and their tokens, and list/watch for its shared informers;
- ``system:controller:cloud-node-controller`` and
  ``system:controller:cloud-node-lifecycle-controller`` for the node
  controllers' ServiceAccounts (the route, service and attach/detach
  controllers use the bootstrap policy's roles of the same names);
- the two CSI sidecar roles, bound to the driver's controller ServiceAccount
  ``disk-csi-controller-sa`` (EBS's is ``ebs-csi-controller-sa``).
"""

from __future__ import annotations

RBAC_API = "rbac.authorization.k8s.io/v1"
CCM_USER = "system:cloud-controller-manager"
CSI_SERVICE_ACCOUNT = "disk-csi-controller-sa"
NAMESPACE = "kube-system"
_EVENTS = {"apiGroups": ["", "events.k8s.io"], "resources": ["events"], "verbs": ["create", "patch", "update"]}


def _rule(verbs: list[str], group: str, resources: list[str], names: list[str] | None = None) -> dict:
    rule = {"apiGroups": [group], "resources": resources, "verbs": verbs}
    if names:
        rule["resourceNames"] = names
    return rule


def _role(name: str, rules: list[dict]) -> dict:
    return {"apiVersion": RBAC_API, "kind": "ClusterRole", "metadata": {"name": name}, "rules": rules}


def _binding(name: str, role: str, subject: dict) -> dict:
    return {"apiVersion": RBAC_API, "kind": "ClusterRoleBinding", "metadata": {"name": name},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
            "subjects": [subject]}


def _account(name: str) -> dict:
    return {"kind": "ServiceAccount", "name": name, "namespace": NAMESPACE}


def manifests() -> list[dict]:
    """ClusterRoles then ClusterRoleBindings, in the order a ``kubectl apply -f`` of the manifests creates them."""
    roles = [
        _role(CCM_USER, [
            _EVENTS,
            _rule(["create"], "coordination.k8s.io", ["leases"]),
            _rule(["get", "update"], "coordination.k8s.io", ["leases"], ["cloud-controller-manager"]),
            _rule(["create", "get"], "", ["serviceaccounts"]),
            _rule(["create"], "", ["serviceaccounts/token"]),
            _rule(["list", "watch"], "*", ["*"]),
        ]),
        _role("system:controller:cloud-node-controller", [
            _rule(["get", "list", "update", "patch", "delete"], "", ["nodes"]),
            _rule(["patch"], "", ["nodes/status"]),
            _EVENTS,
        ]),
        _role("system:controller:cloud-node-lifecycle-controller", [
            _rule(["get", "list", "update", "patch", "delete"], "", ["nodes"]),
            _rule(["patch"], "", ["nodes/status"]),
            _EVENTS,
        ]),
        _role("external-provisioner-runner", [
            _rule(["get", "list", "watch", "create", "delete"], "", ["persistentvolumes"]),
            _rule(["get", "list", "watch", "update"], "", ["persistentvolumeclaims"]),
            _rule(["get", "list", "watch"], "storage.k8s.io", ["storageclasses"]),
            _rule(["list", "watch", "create", "update", "patch"], "", ["events"]),
            _rule(["get", "list", "watch"], "", ["nodes"]),
            _rule(["get", "list", "watch"], "storage.k8s.io", ["volumeattachments"]),
        ]),
        _role("external-attacher-runner", [
            _rule(["get", "list", "watch", "patch"], "", ["persistentvolumes"]),
            _rule(["get", "list", "watch"], "", ["nodes"]),
            _rule(["get", "list", "watch", "update", "patch"], "storage.k8s.io", ["volumeattachments"]),
            _rule(["update", "patch"], "storage.k8s.io", ["volumeattachments/status"]),
        ]),
    ]
    bindings = [
        _binding(CCM_USER, CCM_USER, {"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": CCM_USER}),
        _binding("system:controller:cloud-node-controller", "system:controller:cloud-node-controller",
                 _account("cloud-node-controller")),
        _binding("system:controller:cloud-node-lifecycle-controller",
                 "system:controller:cloud-node-lifecycle-controller", _account("cloud-node-lifecycle-controller")),
        _binding("csi-provisioner-role", "external-provisioner-runner", _account(CSI_SERVICE_ACCOUNT)),
        _binding("csi-attacher-role", "external-attacher-runner", _account(CSI_SERVICE_ACCOUNT)),
    ]
    return roles + bindings
