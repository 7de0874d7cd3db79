"""The discovery client (client-go ``discovery``): which resources the API server serves right now.

``server_preferred_resources(client)`` reads the APIResourceList of every
group version the server serves (the documents ``/api/v1`` and
``/apis/<group>/<version>`` return, built by
``engine.apiserver.http.discovery``) and returns one ``APIResource`` per
resource, subresources left out. ``deletable_resources`` keeps those that can
be listed, watched and deleted (``GetDeletableResources``), which is what the
garbage collector and the namespace controller act on. The answer changes when
a CustomResourceDefinition is established or deleted, so callers ask again
rather than keep a table. Nothing here writes anything.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from engine.apiserver.http import discovery

if TYPE_CHECKING:
    from engine.client.client import Client


@dataclass(frozen=True)
class APIResource:
    """One resource as discovery describes it (``metav1.APIResource`` plus its group and version)."""

    group: str
    version: str
    plural: str
    kind: str
    namespaced: bool
    verbs: tuple[str, ...]

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def resource(self) -> str:
        """``pods`` or ``crontabs.stable.example.com``: the name the client accepts for it."""
        return f"{self.plural}.{self.group}" if self.group else self.plural


def server_preferred_resources(client: "Client") -> list[APIResource]:
    """Every resource the server serves, group by group in the server's order."""
    found: list[APIResource] = []
    registry = client.server.registry
    for group, version in discovery.served_group_versions(registry):
        document = discovery.api_resource_list(registry, group, version) or {"resources": []}
        for entry in document["resources"]:
            if "/" in entry["name"] or any(r.group == group and r.plural == entry["name"] for r in found):
                continue                         # a subresource, or served at the group's preferred version
            found.append(APIResource(group, version, entry["name"], entry["kind"], entry["namespaced"],
                                     tuple(entry["verbs"])))
    return found


def deletable_resources(client: "Client") -> list[APIResource]:
    """``GetDeletableResources``: the resources that support list, watch and delete."""
    return [r for r in server_preferred_resources(client) if {"list", "watch", "delete"} <= set(r.verbs)]
