"""kubeadm's API helpers (``cmd/kubeadm/app/util/apiclient``): create an object, or update it when it exists.

kubeadm does not ``kubectl apply``: each phase creates its objects and, when
one exists already (a phase run again), replaces it (``CreateOrUpdate*``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine.api.errors import AlreadyExists

if TYPE_CHECKING:
    from engine.client.client import Client


def create_or_update(client: "Client", obj: dict) -> dict:
    """Create ``obj``; if it already exists, update it to ``obj`` (keeping the live resourceVersion)."""
    try:
        return client.create(obj)
    except AlreadyExists:
        meta = obj.get("metadata") or {}
        kind = client.server.registry.for_object(obj)
        live = client.get(kind.plural, meta["name"], meta.get("namespace"))
        updated = {**obj, "metadata": {**meta, "resourceVersion": live["metadata"]["resourceVersion"]}}
        return client.update(updated)
