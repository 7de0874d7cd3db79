"""findByClaim / FindMatchingVolume: which volume the PV controller gives a claim."""

from __future__ import annotations

import pytest

from engine.controllers.persistentvolume_index import claim_class, find_best_match_for_claim, is_volume_bound_to_claim


def volume(name: str, size: str, modes: tuple[str, ...] = ("ReadWriteOnce",), *, phase: str = "Available",
           storage_class: str = "", labels: dict | None = None, claim_ref: dict | None = None,
           mode: str = "Filesystem", deleting: bool = False) -> dict:
    metadata: dict = {"name": name, "labels": labels or {}}
    if deleting:
        metadata["deletionTimestamp"] = "2025-01-01T00:00:00Z"
    spec: dict = {"capacity": {"storage": size}, "accessModes": list(modes), "storageClassName": storage_class,
                  "volumeMode": mode}
    if claim_ref:
        spec["claimRef"] = claim_ref
    return {"metadata": metadata, "spec": spec, "status": {"phase": phase}}


def claim(size: str = "1Gi", modes: tuple[str, ...] = ("ReadWriteOnce",), *, storage_class: str = "",
          selector: dict | None = None, mode: str = "Filesystem") -> dict:
    spec: dict = {"accessModes": list(modes), "resources": {"requests": {"storage": size}},
                  "storageClassName": storage_class, "volumeMode": mode}
    if selector:
        spec["selector"] = selector
    return {"metadata": {"name": "data", "namespace": "default", "uid": "u-1"}, "spec": spec}


MINE = {"namespace": "default", "name": "data", "uid": "u-1"}


@pytest.mark.parametrize("volumes, wanted, delay, expected", [
    ([volume("a", "10Gi"), volume("b", "2Gi"), volume("c", "5Gi")], claim("2Gi"), False, "b"),
    ([volume("a", "1Gi")], claim("2Gi"), False, None),
    ([volume("rwo-rox", "1Gi", ("ReadWriteOnce", "ReadOnlyMany")), volume("rwo", "5Gi")], claim(), False, "rwo"),
    ([volume("rwo-rox", "1Gi", ("ReadWriteOnce", "ReadOnlyMany"))], claim(), False, "rwo-rox"),
    ([volume("rwx", "1Gi", ("ReadWriteMany",))], claim(), False, None),
    ([volume("small", "1Gi"), volume("mine", "100Gi", claim_ref=MINE, phase="Bound")], claim(), False, "mine"),
    ([volume("reserved", "1Gi", claim_ref={"namespace": "default", "name": "other"})], claim(), False, None),
    ([volume("old", "1Gi", claim_ref={**MINE, "uid": "u-0"})], claim(), False, None),
    ([volume("released", "1Gi", phase="Released"), volume("pending", "1Gi", phase="Pending")], claim(), False, None),
    ([volume("plain", "1Gi"), volume("fast", "1Gi", storage_class="fast")], claim(storage_class="fast"), False,
     "fast"),
    ([volume("fast", "1Gi", storage_class="fast")], claim(), False, None),
    ([volume("a", "1Gi", labels={"tier": "bronze"}), volume("b", "9Gi", labels={"tier": "gold"})],
     claim(selector={"matchLabels": {"tier": "gold"}}), False, "b"),
    ([volume("block", "1Gi", mode="Block"), volume("fs", "2Gi")], claim(), False, "fs"),
    ([volume("going", "1Gi", deleting=True)], claim(), False, None),
    ([volume("free", "1Gi")], claim(), True, None),
    ([volume("free", "1Gi"), volume("provisioned", "1Gi", claim_ref=MINE)], claim(), True, "provisioned"),
], ids=[
    "the smallest volume that is big enough",
    "no volume is big enough",
    "volumes with exactly the claim's access modes are searched before those with more",
    "a volume with more access modes than asked serves when no exact one does",
    "a volume without every requested mode never matches",
    "a volume pre-bound to the claim wins whatever its size",
    "a volume reserved for another claim is skipped",
    "a volume bound to an older claim of the same name is skipped",
    "only Available volumes are chosen",
    "the claim's class must be the volume's",
    "a claim without a class never gets a volume with one",
    "the selector filters by the volume's labels",
    "volumeMode must agree",
    "a volume being deleted is skipped",
    "WaitForFirstConsumer: the controller leaves free volumes to the scheduler",
    "WaitForFirstConsumer: a volume pre-bound by a provisioner is still bound",
])
def test_find_best_match_for_claim(volumes, wanted, delay, expected):
    found = find_best_match_for_claim(wanted, volumes, delay)
    assert (found["metadata"]["name"] if found else None) == expected


def test_the_beta_annotation_names_the_class_before_the_field_and_a_uid_less_ref_is_a_reservation():
    beta = claim(storage_class="ignored")
    beta["metadata"]["annotations"] = {"volume.beta.kubernetes.io/storage-class": "old"}
    assert claim_class(beta) == "old" and claim_class(claim()) == ""
    assert is_volume_bound_to_claim(volume("v", "1Gi", claim_ref={"namespace": "default", "name": "data"}), claim())
