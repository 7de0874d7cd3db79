"""ServiceAccount admission: every pod runs as a ServiceAccount, with its token mounted.

A pod that names no ServiceAccount gets ``default``; a pod whose
ServiceAccount does not exist is refused (the real race: pods created in a
new namespace before the ServiceAccount controller has made ``default`` are
rejected and their controller retries). Unless automounting is turned off
on the pod or the ServiceAccount, the pod gets the projected
``kube-api-access-*`` volume (token, cluster CA, namespace) mounted in every
container at ``/var/run/secrets/kubernetes.io/serviceaccount``.
"""

from __future__ import annotations

from engine.api import errors
from engine.api.meta import random_suffix
from engine.apiserver.admission import AdmissionContext, Attributes, Plugin

MOUNT_PATH = "/var/run/secrets/kubernetes.io/serviceaccount"
MIRROR_POD_ANNOTATION = "kubernetes.io/config.mirror"
TOKEN_EXPIRATION_SECONDS = 3607


def api_access_volume(name: str) -> dict:
    """The projected volume the real plugin adds (token, kube-root-ca.crt, namespace)."""
    return {"name": name, "projected": {"defaultMode": 420, "sources": [
        {"serviceAccountToken": {"expirationSeconds": TOKEN_EXPIRATION_SECONDS, "path": "token"}},
        {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
        {"downwardAPI": {"items": [{"path": "namespace",
                                    "fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"}}]}},
    ]}}


class ServiceAccount(Plugin):
    name = "ServiceAccount"
    admits = frozenset({"Pod"})

    def admit(self, attrs: Attributes, context: AdmissionContext) -> None:
        if attrs.kind.kind != "Pod" or attrs.operation != "CREATE" or attrs.subresource:
            return
        pod = attrs.object
        if MIRROR_POD_ANNOTATION in (pod.get("metadata", {}).get("annotations") or {}):
            return
        spec = pod.setdefault("spec", {})
        account_name = spec.get("serviceAccountName") or spec.get("serviceAccount") or "default"
        spec["serviceAccountName"] = account_name
        spec["serviceAccount"] = account_name  # the deprecated alias, kept equal as v1 conversion does
        account = context.cached("serviceaccounts", attrs.namespace, account_name)
        if account is None:
            raise errors.forbidden("pods", attrs.name,
                                   f"error looking up service account {attrs.namespace}/{account_name}: "
                                   f'serviceaccount "{account_name}" not found')
        automount = spec.get("automountServiceAccountToken")
        if automount is None:
            automount = account.get("automountServiceAccountToken", True)
        if not automount:
            return
        volumes = spec.setdefault("volumes", [])
        if any(volume.get("name", "").startswith("kube-api-access-") for volume in volumes):
            return
        volume_name = f"kube-api-access-{random_suffix(context.random)}"
        volumes.append(api_access_volume(volume_name))
        for container in [*spec.get("initContainers", []), *spec.get("containers", [])]:
            mounts = container.setdefault("volumeMounts", [])
            if not any(mount.get("mountPath") == MOUNT_PATH for mount in mounts):
                mounts.append({"name": volume_name, "readOnly": True, "mountPath": MOUNT_PATH})
