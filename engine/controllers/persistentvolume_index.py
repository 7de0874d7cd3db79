"""Which PersistentVolume a claim gets (``pkg/controller/volume/persistentvolume/index.go`` and
``component-helpers/storage/volume``'s ``FindMatchingVolume``).

A claim asks for at least ``resources.requests.storage``, some
``accessModes``, a ``storageClassName`` ("" means no class), a
``volumeMode`` (Filesystem by default) and perhaps a label ``selector``. The
PV controller looks at the volumes by access-mode set: first the volumes
whose modes are exactly the claim's, then those with more modes (fewest
first), and in each group takes:

1. a volume already pre-bound to this claim (its ``claimRef`` names the
   claim, without a uid or with the claim's uid) - a user's choice or an
   external provisioner's fresh volume, chosen whatever its size;
2. otherwise the smallest ``Available`` volume that is big enough, of the
   same class and volumeMode, matching the selector and not being deleted.

With ``volumeBindingMode: WaitForFirstConsumer`` only step 1 applies: the
scheduler chooses the volume once it knows the pod's node.

Also the checks on a volume a claim names itself (``volume_satisfies_claim``),
the claimRef a binding writes, and the pods that use a claim.

Everything here is a pure function of plain claims and volumes.
"""

from __future__ import annotations

from engine.api.quantity import memory_bytes
from engine.api.selectors import SelectorError, from_label_selector

BETA_STORAGE_CLASS_ANNOTATION = "volume.beta.kubernetes.io/storage-class"


def claim_class(claim: dict) -> str:
    """GetPersistentVolumeClaimClass: the beta annotation first, then ``spec.storageClassName``, else ""."""
    annotations = claim["metadata"].get("annotations") or {}
    if BETA_STORAGE_CLASS_ANNOTATION in annotations:
        return annotations[BETA_STORAGE_CLASS_ANNOTATION]
    return (claim.get("spec") or {}).get("storageClassName") or ""


def volume_class(volume: dict) -> str:
    """GetPersistentVolumeClass: the same for a volume."""
    return claim_class(volume)


def requested_bytes(claim: dict) -> int:
    storage = (((claim.get("spec") or {}).get("resources") or {}).get("requests") or {}).get("storage")
    return memory_bytes(storage) if storage is not None else 0


def capacity_bytes(volume: dict) -> int:
    storage = ((volume.get("spec") or {}).get("capacity") or {}).get("storage")
    return memory_bytes(storage) if storage is not None else 0


def is_volume_bound_to_claim(volume: dict, claim: dict) -> bool:
    """IsVolumeBoundToClaim: the claimRef names the claim, and its uid is unset or the claim's."""
    ref = (volume.get("spec") or {}).get("claimRef")
    if not ref:
        return False
    metadata = claim["metadata"]
    if ref.get("name") != metadata.get("name") or ref.get("namespace") != metadata.get("namespace"):
        return False
    return not ref.get("uid") or ref.get("uid") == metadata.get("uid")


def volume_mode_mismatch(claim: dict, volume: dict) -> bool:
    """CheckVolumeModeMismatches: Filesystem unless set, and the two must agree."""
    wanted = (claim.get("spec") or {}).get("volumeMode") or "Filesystem"
    offered = (volume.get("spec") or {}).get("volumeMode") or "Filesystem"
    return wanted != offered


def find_matching_volume(claim: dict, volumes: list[dict], delay_binding: bool) -> dict | None:
    """FindMatchingVolume (the controller's path, no node): pre-bound first, else the smallest match."""
    requested = requested_bytes(claim)
    wanted_class = claim_class(claim)
    selector_spec = (claim.get("spec") or {}).get("selector")
    try:
        selector = from_label_selector(selector_spec) if selector_spec is not None else None
    except SelectorError:
        return None
    smallest: dict | None = None
    for volume in volumes:
        spec = volume.get("spec") or {}
        if spec.get("claimRef") and not is_volume_bound_to_claim(volume, claim):
            continue
        size = capacity_bytes(volume)
        if size < requested or volume_mode_mismatch(claim, volume):
            continue
        if volume["metadata"].get("deletionTimestamp"):
            continue
        if is_volume_bound_to_claim(volume, claim):
            return volume
        if delay_binding:
            continue                      # the scheduler binds these, once it has chosen a node
        if (volume.get("status") or {}).get("phase") != "Available":
            continue
        if selector is not None and not selector.matches(volume["metadata"].get("labels") or {}):
            continue
        if volume_class(volume) != wanted_class:
            continue
        if smallest is None or capacity_bytes(smallest) > size:
            smallest = volume
    return smallest


def _mode_key(volume: dict) -> tuple[str, ...]:
    return tuple(sorted(set((volume.get("spec") or {}).get("accessModes") or ())))


def find_best_match_for_claim(claim: dict, volumes: list[dict], delay_binding: bool) -> dict | None:
    """persistentVolumeOrderedIndex.findByClaim: the volumes by access-mode set, exact set first.

    Each set holding every mode the claim asks for is searched in turn, smaller sets first (ties by
    name, for determinism); within a set, volumes in name order as the indexer lists them.
    """
    wanted = set((claim.get("spec") or {}).get("accessModes") or ())
    groups: dict[tuple[str, ...], list[dict]] = {}
    for volume in sorted(volumes, key=lambda v: v["metadata"]["name"]):
        groups.setdefault(_mode_key(volume), []).append(volume)
    for modes in sorted((m for m in groups if wanted <= set(m)), key=lambda m: (len(m), m)):
        best = find_matching_volume(claim, groups[modes], delay_binding)
        if best is not None:
            return best
    return None


def volume_satisfies_claim(volume: dict, claim: dict) -> str:
    """checkVolumeSatisfyClaim: why a volume the user named cannot serve the claim ("" if it can)."""
    if volume["metadata"].get("deletionTimestamp"):
        return f'the volume is marked for deletion "{volume["metadata"]["name"]}"'
    if capacity_bytes(volume) < requested_bytes(claim):
        return "requested PV is too small"
    if volume_class(volume) != claim_class(claim):
        return "storageClassName does not match"
    if volume_mode_mismatch(claim, volume):
        return "incompatible volumeMode"
    if not set((claim.get("spec") or {}).get("accessModes") or ()) <= set(
            (volume.get("spec") or {}).get("accessModes") or ()):
        return "incompatible accessMode"
    return ""


def claim_ref(claim: dict) -> dict:
    """reference.GetReference: the ObjectReference a volume's claimRef holds."""
    metadata = claim["metadata"]
    return {"kind": "PersistentVolumeClaim", "namespace": metadata.get("namespace"), "name": metadata["name"],
            "uid": metadata.get("uid"), "apiVersion": "v1", "resourceVersion": metadata.get("resourceVersion")}


def pods_using_claim(pods: list[dict], claim: dict) -> list[dict]:
    """The pods whose volumes name the claim (directly, or as the ephemeral ``<pod>-<volume>`` claim)."""
    name = claim["metadata"]["name"]
    found = []
    for pod in pods:
        for volume in (pod.get("spec") or {}).get("volumes") or ():
            direct = (volume.get("persistentVolumeClaim") or {}).get("claimName")
            ephemeral = f"{pod['metadata']['name']}-{volume.get('name')}" if volume.get("ephemeral") else None
            if name in (direct, ephemeral):
                found.append(pod)
                break
    return found
