"""describe for storage: PersistentVolumeClaims, PersistentVolumes and StorageClasses.

Interface: ``describe_pvc``, ``describe_pv``, ``describe_storageclass``, each
``(obj, client, now) -> str``, as ``describePersistentVolumeClaim``,
``describePersistentVolume`` and ``describeStorageClass`` write them (a
claim lists the pods that use it under ``Used By``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine.kubectl.describe.pods import describe_volume_source
from engine.kubectl.describe.writer import (Writer, describe_events, dig, find_events, go_list, print_annotations,
                                            print_labels)
from engine.kubectl.duration import age
from engine.kubectl.printers import format_labels

if TYPE_CHECKING:
    from engine.client.client import Client

_SHORT_MODES = {"ReadWriteOnce": "RWO", "ReadOnlyMany": "ROX", "ReadWriteMany": "RWX", "ReadWriteOncePod": "RWOP"}


def _modes(modes: list[str] | None) -> str:
    return ",".join(_SHORT_MODES.get(mode, mode) for mode in modes or [])


def _status(obj: dict, now: float) -> str:
    deleted = dig(obj, "metadata", "deletionTimestamp")
    if deleted:
        return f"Terminating (lasts {age(now, deleted)})"
    return dig(obj, "status", "phase") or ""


def _bool_ptr(value: object) -> str:
    return "<unset>" if value is None else ("True" if value else "False")


def describe_pvc(claim: dict, client: "Client", now: float) -> str:
    w = Writer()
    metadata, spec, status = claim["metadata"], claim.get("spec") or {}, claim.get("status") or {}
    w.write(0, f"Name:\t{metadata['name']}\n")
    w.write(0, f"Namespace:\t{metadata.get('namespace', '')}\n")
    storage_class = spec.get("storageClassName") or (metadata.get("annotations") or {}).get(
        "volume.beta.kubernetes.io/storage-class", "")
    w.write(0, f"StorageClass:\t{storage_class}\n")
    w.write(0, f"Status:\t{_status(claim, now)}\n")
    w.write(0, f"Volume:\t{spec.get('volumeName', '')}\n")
    print_labels(w, "Labels", metadata.get("labels"))
    print_annotations(w, "Annotations", metadata.get("annotations"))
    w.write(0, f"Finalizers:\t{go_list(metadata.get('finalizers'))}\n")
    capacity = (status.get("capacity") or {}).get("storage", "") if spec.get("volumeName") else ""
    w.write(0, f"Capacity:\t{capacity}\n")
    w.write(0, f"Access Modes:\t{_modes(status.get('accessModes')) if spec.get('volumeName') else ''}\n")
    if spec.get("volumeMode"):
        w.write(0, f"VolumeMode:\t{spec['volumeMode']}\n")
    users = [pod["metadata"]["name"] for pod in client.list("pods", metadata.get("namespace"))["items"]
             if any(dig(volume, "persistentVolumeClaim", "claimName") == metadata["name"]
                    for volume in dig(pod, "spec", "volumes") or [])]
    w.write(0, "Used By:\t")
    if not users:
        w.line("<none>")
    for index, name in enumerate(users):
        w.write(0, ("\t" if index else "") + f"{name}\n")
    describe_events(w, find_events(client, claim), now)
    return w.text()


def describe_pv(volume: dict, client: "Client", now: float) -> str:
    w = Writer()
    metadata, spec, status = volume["metadata"], volume.get("spec") or {}, volume.get("status") or {}
    w.write(0, f"Name:\t{metadata['name']}\n")
    print_labels(w, "Labels", metadata.get("labels"))
    print_annotations(w, "Annotations", metadata.get("annotations"))
    w.write(0, f"Finalizers:\t{go_list(metadata.get('finalizers'))}\n")
    w.write(0, f"StorageClass:\t{spec.get('storageClassName', '')}\n")
    w.write(0, f"Status:\t{_status(volume, now)}\n")
    claim = spec.get("claimRef")
    w.write(0, f"Claim:\t{claim.get('namespace', '')}/{claim.get('name', '')}\n" if claim else "Claim:\t\n")
    w.write(0, f"Reclaim Policy:\t{spec.get('persistentVolumeReclaimPolicy', '')}\n")
    w.write(0, f"Access Modes:\t{_modes(spec.get('accessModes'))}\n")
    if spec.get("volumeMode"):
        w.write(0, f"VolumeMode:\t{spec['volumeMode']}\n")
    w.write(0, f"Capacity:\t{(spec.get('capacity') or {}).get('storage', '')}\n")
    w.write(0, "Node Affinity:\t<none>\n" if not spec.get("nodeAffinity") else "Node Affinity:\t\n")
    w.write(0, f"Message:\t{status.get('message', '')}\n")
    w.write(0, "Source:\n")
    describe_volume_source(w, spec)
    describe_events(w, find_events(client, volume), now)
    return w.text()


def describe_storageclass(storage_class: dict, client: "Client", now: float) -> str:
    w = Writer()
    metadata = storage_class["metadata"]
    annotations = metadata.get("annotations") or {}
    default = "true" in (annotations.get("storageclass.kubernetes.io/is-default-class"),
                         annotations.get("storageclass.beta.kubernetes.io/is-default-class"))
    w.write(0, f"Name:\t{metadata['name']}\n")
    w.write(0, f"IsDefaultClass:\t{'Yes' if default else 'No'}\n")
    w.write(0, f"Annotations:\t{format_labels(annotations)}\n")
    w.write(0, f"Provisioner:\t{storage_class.get('provisioner', '')}\n")
    w.write(0, f"Parameters:\t{format_labels(storage_class.get('parameters'))}\n")
    w.write(0, f"AllowVolumeExpansion:\t{_bool_ptr(storage_class.get('allowVolumeExpansion'))}\n")
    options = storage_class.get("mountOptions") or []
    if not options:
        w.write(0, "MountOptions:\t<none>\n")
    else:
        w.write(0, "MountOptions:\n")
        for option in options:
            w.write(1, f"{option}\n")
    w.write(0, f"ReclaimPolicy:\t{storage_class.get('reclaimPolicy', '')}\n")
    w.write(0, f"VolumeBindingMode:\t{storage_class.get('volumeBindingMode', '')}\n")
    describe_events(w, find_events(client, storage_class), now)
    return w.text()
