"""Adoption and release by ownerReference (pkg/controller/controller_ref_manager.go).

A controller owns the objects whose controller ownerReference carries its
uid. ``ControllerRefManager.claim`` decides, for each candidate object (pods
for a ReplicaSet, ReplicaSets for a Deployment):

- owned by another controller: ignored;
- owned by us and matching the selector: claimed;
- owned by us but no longer matching: released (our ownerReference removed
  with a strategic-merge ``$patch: delete``), unless we are being deleted;
- an orphan matching the selector, not itself being deleted, in our
  namespace: adopted (our controller ownerReference added), unless we are
  being deleted. Before the first adoption the owner is read fresh from the
  API server (``RecheckDeletionTimestamp``): a cached owner may already be
  gone or being deleted, and adopting for it would orphan the object again.

The decision for one object is the pure ``claim_decision``; the manager
only carries it out. An object that disappears while being adopted or
released (NotFound) is simply not claimed.
"""

from __future__ import annotations

from typing import Callable

from engine.api import errors
from engine.api.selectors import LabelSelector
from engine.client.client import STRATEGIC_MERGE_PATCH, Client

IGNORE, CLAIM, RELEASE, ADOPT = "ignore", "claim", "release", "adopt"


def controller_of(obj: dict) -> dict | None:
    """metav1.GetControllerOf: the ownerReference with ``controller: true``, if any."""
    for ref in obj["metadata"].get("ownerReferences") or []:
        if ref.get("controller"):
            return ref
    return None


def claim_decision(owner: dict, obj: dict, matches: bool) -> str:
    """What ClaimObject does with ``obj`` for ``owner``: IGNORE, CLAIM, RELEASE or ADOPT."""
    owner_meta, meta = owner["metadata"], obj["metadata"]
    ref = controller_of(obj)
    if ref is not None:
        if ref.get("uid") != owner_meta.get("uid"):
            return IGNORE
        if matches:
            return CLAIM
        return IGNORE if owner_meta.get("deletionTimestamp") else RELEASE
    if owner_meta.get("deletionTimestamp") or not matches or meta.get("deletionTimestamp"):
        return IGNORE
    if owner_meta.get("namespace") and owner_meta.get("namespace") != meta.get("namespace"):
        return IGNORE
    return ADOPT


def adopt_patch(owner: dict, obj: dict) -> dict:
    ref = {"apiVersion": owner["apiVersion"], "kind": owner["kind"], "name": owner["metadata"]["name"],
           "uid": owner["metadata"]["uid"], "controller": True, "blockOwnerDeletion": True}
    return {"metadata": {"ownerReferences": [ref], "uid": obj["metadata"]["uid"]}}


def release_patch(owner: dict, obj: dict) -> dict:
    return {"metadata": {"ownerReferences": [{"$patch": "delete", "uid": owner["metadata"]["uid"]}],
                         "uid": obj["metadata"]["uid"]}}


class ControllerRefManager:
    """Claims objects of one ``resource`` for ``owner`` (PodControllerRefManager, ReplicaSetControllerRefManager)."""

    def __init__(self, client: Client, owner: dict, selector: LabelSelector, resource: str,
                 owner_resource: str) -> None:
        self.client = client
        self.owner = owner
        self.selector = selector
        self.resource = resource
        self.owner_resource = owner_resource
        self._adoption_checked = False

    def _can_adopt(self) -> None:
        """RecheckDeletionTimestamp, once: the owner read fresh must be the same and not being deleted."""
        if self._adoption_checked:
            return
        meta = self.owner["metadata"]
        fresh = self.client.get(self.owner_resource, meta["name"], meta.get("namespace"))
        if fresh["metadata"].get("uid") != meta.get("uid"):
            raise errors.ApiError(f"original {meta.get('namespace')}/{meta['name']} is gone: got uid "
                                  f"{fresh['metadata'].get('uid')}, wanted {meta.get('uid')}")
        if fresh["metadata"].get("deletionTimestamp"):
            raise errors.ApiError(f"{meta.get('namespace')}/{meta['name']} has just been deleted at "
                                  f"{fresh['metadata']['deletionTimestamp']}")
        self._adoption_checked = True

    def _patch(self, obj: dict, patch: dict) -> None:
        self.client.patch(self.resource, obj["metadata"]["name"], patch, obj["metadata"].get("namespace"),
                          patch_type=STRATEGIC_MERGE_PATCH)

    def claim(self, objects: list[dict], filter_: Callable[[dict], bool] | None = None) -> list[dict]:
        """The objects this owner controls after adopting orphans and releasing strays.

        Errors other than NotFound are collected and the first is raised after every object was tried.
        """
        claimed: list[dict] = []
        first_error: Exception | None = None
        for obj in objects:
            matches = self.selector.matches(obj["metadata"].get("labels")) and (filter_ is None or filter_(obj))
            decision = claim_decision(self.owner, obj, matches)
            try:
                if decision == CLAIM:
                    claimed.append(obj)
                elif decision == RELEASE:
                    self._patch(obj, release_patch(self.owner, obj))
                elif decision == ADOPT:
                    self._can_adopt()
                    self._patch(obj, adopt_patch(self.owner, obj))
                    claimed.append(obj)
            except errors.NotFound:
                continue
            except errors.ApiError as error:
                first_error = first_error or error
        if first_error is not None:
            raise first_error
        return claimed
