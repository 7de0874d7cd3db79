"""Discovery: how a client learns which resources this API server serves.

Clients never hard-code URLs: ``kubectl`` reads discovery first and maps
``deploy`` to ``/apis/apps/v1/namespaces/{ns}/deployments`` from it. Two forms
are served, built from the same kind registry:

- the legacy documents: ``/api`` (APIVersions), ``/apis`` (APIGroupList) and
  one ``APIResourceList`` per group version (``/api/v1``, ``/apis/apps/v1``),
  with verbs, short names, categories, scope, kind, singular name and one
  entry per subresource (``deployments/scale`` answers an ``autoscaling/v1``
  Scale);
- the aggregated discovery of Kubernetes 1.30+ (``apidiscovery.k8s.io/v2``
  ``APIGroupDiscoveryList``): the same facts for every group in a single
  response to ``/api`` or ``/apis``, sent when the client's Accept header asks
  for it (kubectl 1.32 does) and with that exact Content-Type, so kubectl
  needs two requests instead of one per group version.

``/version`` reports a v1.31.0 server. Everything here is a pure function of
the registry.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any, Iterable

from engine.api.conversion import served_versions
from engine.api.kinds import Kind, KindRegistry

AGGREGATED_V2 = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
AGGREGATED_V2BETA1 = "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList"

VERSION_INFO: dict[str, str] = {
    "major": "1", "minor": "31", "gitVersion": "v1.31.0", "gitCommit": "9edcffcde5595e8a5b1a35f88c421764e575afce",
    "gitTreeState": "clean", "buildDate": "2024-08-13T07:28:49Z", "goVersion": "go1.22.5", "compiler": "gc",
    "platform": "linux/amd64",
}

# kube-apiserver's group priority (pkg/controlplane/apiserver: the versionPriority table) decides the order.
GROUP_ORDER = ("", "apiregistration.k8s.io", "apps", "events.k8s.io", "authentication.k8s.io",
               "authorization.k8s.io", "autoscaling", "batch", "certificates.k8s.io", "networking.k8s.io",
               "policy", "rbac.authorization.k8s.io", "storage.k8s.io", "admissionregistration.k8s.io",
               "apiextensions.k8s.io", "scheduling.k8s.io", "coordination.k8s.io", "node.k8s.io",
               "discovery.k8s.io", "flowcontrol.apiserver.k8s.io")

# What each subresource answers and accepts, as the real registry's REST storages declare.
_SUBRESOURCES: dict[str, tuple[tuple[str, str, str] | None, tuple[str, ...]]] = {
    "status": (None, ("get", "patch", "update")),
    "scale": (("autoscaling", "v1", "Scale"), ("get", "patch", "update")),
    "binding": (("", "v1", "Binding"), ("create",)),
    "eviction": (("policy", "v1", "Eviction"), ("create",)),
    "log": (None, ("get",)),
    "exec": (None, ("create", "get")),
    "ephemeralcontainers": (None, ("get", "patch", "update")),
    "proxy": (None, ("create", "delete", "get", "patch", "update")),
    "finalize": (None, ("update",)),
    "token": (("authentication.k8s.io", "v1", "TokenRequest"), ("create",)),
}

# Review resources that exist only as a POST and never in storage (served by ``reviews``).
REVIEW_KINDS: tuple[Kind, ...] = (
    Kind("authentication.k8s.io", "v1", "SelfSubjectReview", "selfsubjectreviews", False, verbs=("create",)),
    Kind("authorization.k8s.io", "v1", "SelfSubjectAccessReview", "selfsubjectaccessreviews", False,
         verbs=("create",)),
    Kind("authorization.k8s.io", "v1", "SelfSubjectRulesReview", "selfsubjectrulesreviews", False,
         verbs=("create",)),
)


def _all_kinds(registry: KindRegistry) -> list[Kind]:
    """Every served kind: the registry's (storage versions), their other served versions, the reviews."""
    return [*registry, *(served.kind for served in served_versions()), *REVIEW_KINDS]


def _group_rank(group: str) -> tuple[int, str]:
    return (GROUP_ORDER.index(group), "") if group in GROUP_ORDER else (len(GROUP_ORDER), group)


def group_versions(registry: KindRegistry) -> list[tuple[str, list[str]]]:
    """Every (group, [versions]) served, in the real server's priority order (core first)."""
    found: dict[str, list[str]] = {}
    for kind in _all_kinds(registry):
        versions = found.setdefault(kind.group, [])
        if kind.version not in versions:
            versions.append(kind.version)
    return sorted(found.items(), key=lambda item: _group_rank(item[0]))


def kinds_of(registry: KindRegistry, group: str, version: str) -> list[Kind]:
    return [kind for kind in _all_kinds(registry) if kind.group == group and kind.version == version]


def review_kind(group: str, resource: str) -> Kind | None:
    for kind in REVIEW_KINDS:
        if kind.group == group and kind.plural == resource:
            return kind
    return None


# -- legacy discovery -----------------------------------------------------------
def api_versions(server_address: str) -> dict[str, Any]:
    """``GET /api``."""
    return {"kind": "APIVersions", "versions": ["v1"],
            "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}]}


def _group_entry(group: str, versions: list[str]) -> dict[str, Any]:
    entries = [{"groupVersion": f"{group}/{version}", "version": version} for version in versions]
    return {"name": group, "versions": entries, "preferredVersion": entries[0]}


def api_group_list(registry: KindRegistry) -> dict[str, Any]:
    """``GET /apis``: every named group (the core group lives at ``/api``)."""
    groups = [_group_entry(group, versions) for group, versions in group_versions(registry) if group]
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}


def api_group(registry: KindRegistry, group: str) -> dict[str, Any] | None:
    """``GET /apis/{group}``."""
    for name, versions in group_versions(registry):
        if name == group and group:
            return {"kind": "APIGroup", "apiVersion": "v1", **_group_entry(group, versions)}
    return None


def _storage_version_hash(kind: Kind) -> str:
    """The hash of the version the kind is stored in (the same for every version it is served in)."""
    stored = next((s.storage_version for s in served_versions() if s.kind == kind), kind.version)
    digest = hashlib.sha256(f"{kind.group}/{stored}/{kind.kind}".encode()).digest()
    return base64.b64encode(digest[:8]).decode()


def _subresource_kind(kind: Kind, subresource: str) -> tuple[tuple[str, str, str], tuple[str, ...]]:
    response, verbs = _SUBRESOURCES.get(subresource, (None, ("get",)))
    return response or (kind.group, kind.version, kind.kind), verbs


def api_resource_list(registry: KindRegistry, group: str, version: str) -> dict[str, Any] | None:
    """``GET /api/v1`` or ``GET /apis/{group}/{version}``: one APIResourceList."""
    kinds = kinds_of(registry, group, version)
    if not kinds:
        return None
    resources: list[dict[str, Any]] = []
    for kind in sorted(kinds, key=lambda k: k.plural):
        entry: dict[str, Any] = {"name": kind.plural, "singularName": kind.singular, "namespaced": kind.namespaced,
                                 "kind": kind.kind, "verbs": list(kind.verbs)}
        if kind.short_names:
            entry["shortNames"] = list(kind.short_names)
        if kind.categories:
            entry["categories"] = list(kind.categories)
        if kind not in REVIEW_KINDS:
            entry["storageVersionHash"] = _storage_version_hash(kind)
        resources.append(entry)
        for subresource in sorted(kind.subresources):
            (sub_group, sub_version, sub_kind), verbs = _subresource_kind(kind, subresource)
            sub: dict[str, Any] = {"name": f"{kind.plural}/{subresource}", "singularName": "",
                                   "namespaced": kind.namespaced, "kind": sub_kind, "verbs": list(verbs)}
            if (sub_group, sub_version) != (kind.group, kind.version):
                sub["group"], sub["version"] = sub_group, sub_version
            resources.append(sub)
    group_version = f"{group}/{version}" if group else version
    return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": group_version, "resources": resources}


# -- aggregated discovery ---------------------------------------------------------
def wants_aggregated(accept: str) -> str | None:
    """The aggregated media type the Accept header prefers, or None for the legacy form."""
    for part in accept.split(","):
        media = part.replace(" ", "")
        if "as=APIGroupDiscoveryList" in media and "g=apidiscovery.k8s.io" in media:
            if "v=v2beta1" in media:
                return AGGREGATED_V2BETA1
            if "v=v2" in media:
                return AGGREGATED_V2
        elif media.split(";")[0] in ("application/json", "*/*"):
            return None
    return None


def _aggregated_resource(kind: Kind) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "resource": kind.plural, "responseKind": {"group": kind.group, "version": kind.version, "kind": kind.kind},
        "scope": "Namespaced" if kind.namespaced else "Cluster", "singularResource": kind.singular,
        "verbs": list(kind.verbs)}
    if kind.short_names:
        entry["shortNames"] = list(kind.short_names)
    if kind.categories:
        entry["categories"] = list(kind.categories)
    subresources = []
    for subresource in sorted(kind.subresources):
        (sub_group, sub_version, sub_kind), verbs = _subresource_kind(kind, subresource)
        subresources.append({"subresource": subresource,
                             "responseKind": {"group": sub_group, "version": sub_version, "kind": sub_kind},
                             "verbs": list(verbs)})
    if subresources:
        entry["subresources"] = subresources
    return entry


def aggregated(registry: KindRegistry, core: bool, media_type: str = AGGREGATED_V2) -> dict[str, Any]:
    """``GET /api`` (``core=True``) or ``GET /apis`` as an APIGroupDiscoveryList."""
    items = []
    for group, versions in group_versions(registry):
        if (group == "") != core:
            continue
        version_entries = []
        for version in versions:
            kinds = sorted(kinds_of(registry, group, version), key=lambda k: k.plural)
            version_entries.append({"version": version, "resources": [_aggregated_resource(k) for k in kinds],
                                    "freshness": "Current"})
        metadata = {"name": group, "creationTimestamp": None}
        items.append({"metadata": metadata, "versions": version_entries})
    api_version = "apidiscovery.k8s.io/v2beta1" if media_type == AGGREGATED_V2BETA1 else "apidiscovery.k8s.io/v2"
    return {"kind": "APIGroupDiscoveryList", "apiVersion": api_version, "metadata": {}, "items": items}


def served_group_versions(registry: KindRegistry) -> Iterable[tuple[str, str]]:
    for group, versions in group_versions(registry):
        for version in versions:
            yield group, version
