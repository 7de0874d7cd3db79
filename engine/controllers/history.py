"""ControllerRevisions (``pkg/controller/history``): the template history of DaemonSets and StatefulSets.

A ControllerRevision is an immutable snapshot of a controller's pod
template (``data``: the patch that would restore it) with a ``revision``
number that only grows. The DaemonSet and StatefulSet controllers keep one
per distinct template: the current one is found by comparing ``data``,
created (``<owner>-<hash>``, labelled ``controller-revision-hash``) when the
template is new, renumbered when an old template comes back (a rollback),
and the oldest unused ones are deleted beyond ``revisionHistoryLimit``.

What is pure here (``revision_data``, ``equal_revision``, ``next_revision``)
is a function of plain objects; ``History`` writes revisions through the
client, owned by the controller that asked.
"""

from __future__ import annotations

import copy
from typing import Any

from engine.api import errors
from engine.api.meta import owner_reference
from engine.client.client import Client
from engine.controllers.controller_utils import compute_hash

CONTROLLER_REVISION_HASH_LABEL = "controller-revision-hash"


def revision_data(owner: dict) -> dict:
    """getPatch: ``{"spec": {"template": <template>, "$patch": "replace"}}`` (what a rollback would apply)."""
    template = copy.deepcopy(owner["spec"]["template"])
    template["$patch"] = "replace"
    return {"spec": {"template": template}}


def template_hash(owner: dict) -> str:
    """controller.ComputeHash of the template and the collisionCount."""
    return compute_hash(owner["spec"]["template"], (owner.get("status") or {}).get("collisionCount"))


def revision_name(owner_name: str, hash_: str) -> str:
    """ControllerRevisionName: ``<owner>-<hash>``, the owner's name cut to 223 characters."""
    return f"{owner_name[:223]}-{hash_}"


def equal_revision(a: dict, b: dict) -> bool:
    """EqualRevision: the same data (the hash label, when both have one, must agree too)."""
    hash_a = (a["metadata"].get("labels") or {}).get(CONTROLLER_REVISION_HASH_LABEL)
    hash_b = (b["metadata"].get("labels") or {}).get(CONTROLLER_REVISION_HASH_LABEL)
    if hash_a and hash_b and hash_a != hash_b:
        return False
    return a.get("data") == b.get("data")


def next_revision(revisions: list[dict]) -> int:
    """nextRevision: one more than the highest revision (1 for none)."""
    return max((int(r.get("revision") or 0) for r in revisions), default=0) + 1


def sort_revisions(revisions: list[dict]) -> list[dict]:
    """byRevision: by revision number, then creation time, then name."""
    return sorted(revisions, key=lambda r: (int(r.get("revision") or 0), r["metadata"].get("creationTimestamp")
                                            or "", r["metadata"]["name"]))


def new_revision(owner: dict, revision: int, hash_: str) -> dict:
    """NewControllerRevision for ``owner``'s current template."""
    labels = dict((owner["spec"]["template"].get("metadata") or {}).get("labels") or {})
    labels[CONTROLLER_REVISION_HASH_LABEL] = hash_
    return {"apiVersion": "apps/v1", "kind": "ControllerRevision",
            "metadata": {"name": revision_name(owner["metadata"]["name"], hash_),
                         "namespace": owner["metadata"]["namespace"], "labels": labels,
                         "ownerReferences": [owner_reference(owner)]},
            "data": revision_data(owner), "revision": revision}


class History:
    """realHistory: create, renumber and delete the ControllerRevisions of one kind of owner."""

    def __init__(self, client: Client) -> None:
        self.client = client

    def create(self, owner: dict, revision: dict) -> dict:
        """CreateControllerRevision: an existing revision of that name with the same data is reused."""
        try:
            return self.client.create(revision)
        except errors.AlreadyExists:
            existing = self.client.get("controllerrevisions", revision["metadata"]["name"],
                                       revision["metadata"]["namespace"])
            if equal_revision(existing, revision):
                return existing
            raise

    def update_revision(self, revision: dict, number: int) -> dict:
        if int(revision.get("revision") or 0) == number:
            return revision
        fresh: dict[str, Any] = copy.deepcopy(revision)
        fresh["revision"] = number
        return self.client.update(fresh)

    def delete(self, revision: dict) -> None:
        try:
            self.client.delete("controllerrevisions", revision["metadata"]["name"], revision["metadata"]["namespace"])
        except errors.NotFound:
            pass
