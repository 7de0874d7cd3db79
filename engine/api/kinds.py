"""The registry of kinds: one table that validation, storage, discovery and kubectl share.

Each entry says what the real API server's discovery says of a resource: its
group and version, Kind, plural and singular names, whether it lives in a
namespace, its short names (``po``, ``deploy``) and its subresources. The
storage prefix is the one the real kube-apiserver uses in etcd (nodes live
under ``/registry/minions``, services under ``/registry/services/specs``).

``lookup("deploy")``, ``lookup("Deployment")`` and ``lookup("deployments.apps")``
all find the same entry, the way ``kubectl get`` resolves a resource name.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from functools import cached_property


@dataclass(frozen=True)
class Kind:
    """One API resource as discovery describes it."""

    group: str
    version: str
    kind: str
    plural: str
    namespaced: bool
    short_names: tuple[str, ...] = ()
    subresources: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    verbs: tuple[str, ...] = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")
    storage_prefix: str = ""
    has_spec: bool = True

    def __hash__(self) -> int:
        """The dataclass's hash of every field, computed once: a Kind keys the API server's per-kind tables,
        looked up several times per request."""
        known = self.__dict__.get("_hash")
        if known is None:
            known = self.__dict__["_hash"] = hash(tuple(getattr(self, item.name) for item in fields(self)
                                                          if (item.compare if item.hash is None else item.hash)))
        return known

    @property
    def singular(self) -> str:
        return self.kind.lower()

    @cached_property
    def api_version(self) -> str:
        """The ``apiVersion`` field of objects of this kind: ``v1`` or ``apps/v1``."""
        return f"{self.group}/{self.version}" if self.group else self.version

    @cached_property
    def list_kind(self) -> str:
        return f"{self.kind}List"

    @cached_property
    def group_resource(self) -> str:
        """``pods`` or ``deployments.apps``: how errors and RBAC name the resource."""
        return f"{self.plural}.{self.group}" if self.group else self.plural

    @cached_property
    def prefix(self) -> str:
        """The etcd key prefix under which the API server stores this resource."""
        return f"/registry/{self.storage_prefix or self.plural}/"

    def key(self, namespace: str | None, name: str) -> str:
        """The etcd key of one object, e.g. ``/registry/pods/default/web``."""
        if self.namespaced:
            return f"{self.prefix}{namespace}/{name}"
        return f"{self.prefix}{name}"

    def namespace_prefix(self, namespace: str | None) -> str:
        """The key prefix of one namespace (or of all objects when ``namespace`` is empty)."""
        if self.namespaced and namespace:
            return f"{self.prefix}{namespace}/"
        return self.prefix


_ALL = ("all",)

KINDS: tuple[Kind, ...] = (
    # core/v1
    Kind("", "v1", "Pod", "pods", True, ("po",), ("status", "binding", "eviction", "log", "exec", "proxy", "ephemeralcontainers"), _ALL),
    Kind("", "v1", "Node", "nodes", False, ("no",), ("status", "proxy"), storage_prefix="minions"),
    Kind("", "v1", "Namespace", "namespaces", False, ("ns",), ("status", "finalize")),
    Kind("", "v1", "Service", "services", True, ("svc",), ("status", "proxy"), _ALL, storage_prefix="services/specs"),
    Kind("", "v1", "Endpoints", "endpoints", True, ("ep",), storage_prefix="services/endpoints"),
    Kind("", "v1", "ConfigMap", "configmaps", True, ("cm",), has_spec=False),
    Kind("", "v1", "Secret", "secrets", True, (), has_spec=False),
    Kind("", "v1", "ServiceAccount", "serviceaccounts", True, ("sa",), ("token",), has_spec=False),
    Kind("", "v1", "Event", "events", True, ("ev",), has_spec=False),
    Kind("", "v1", "ReplicationController", "replicationcontrollers", True, ("rc",), ("status", "scale"), _ALL,
         storage_prefix="controllers"),
    Kind("", "v1", "PersistentVolume", "persistentvolumes", False, ("pv",), ("status",)),
    Kind("", "v1", "PersistentVolumeClaim", "persistentvolumeclaims", True, ("pvc",), ("status",)),
    Kind("", "v1", "LimitRange", "limitranges", True, ("limits",)),
    Kind("", "v1", "ResourceQuota", "resourcequotas", True, ("quota",), ("status",)),
    # apps/v1
    Kind("apps", "v1", "Deployment", "deployments", True, ("deploy",), ("status", "scale"), _ALL),
    Kind("apps", "v1", "ReplicaSet", "replicasets", True, ("rs",), ("status", "scale"), _ALL),
    Kind("apps", "v1", "StatefulSet", "statefulsets", True, ("sts",), ("status", "scale"), _ALL),
    Kind("apps", "v1", "DaemonSet", "daemonsets", True, ("ds",), ("status",), _ALL),
    Kind("apps", "v1", "ControllerRevision", "controllerrevisions", True, (), has_spec=False),
    # batch/v1
    Kind("batch", "v1", "Job", "jobs", True, (), ("status",), _ALL),
    Kind("batch", "v1", "CronJob", "cronjobs", True, ("cj",), ("status",), _ALL),
    # coordination.k8s.io/v1
    Kind("coordination.k8s.io", "v1", "Lease", "leases", True),
    # discovery.k8s.io/v1
    Kind("discovery.k8s.io", "v1", "EndpointSlice", "endpointslices", True, has_spec=False),
    # rbac.authorization.k8s.io/v1
    Kind("rbac.authorization.k8s.io", "v1", "Role", "roles", True, has_spec=False),
    Kind("rbac.authorization.k8s.io", "v1", "ClusterRole", "clusterroles", False, has_spec=False),
    Kind("rbac.authorization.k8s.io", "v1", "RoleBinding", "rolebindings", True, has_spec=False),
    Kind("rbac.authorization.k8s.io", "v1", "ClusterRoleBinding", "clusterrolebindings", False, has_spec=False),
    # autoscaling/v2
    Kind("autoscaling", "v2", "HorizontalPodAutoscaler", "horizontalpodautoscalers", True, ("hpa",), ("status",), _ALL),
    # networking.k8s.io/v1
    Kind("networking.k8s.io", "v1", "NetworkPolicy", "networkpolicies", True, ("netpol",)),
    Kind("networking.k8s.io", "v1", "Ingress", "ingresses", True, ("ing",), ("status",), storage_prefix="ingress"),
    Kind("networking.k8s.io", "v1", "IngressClass", "ingressclasses", False),
    # policy/v1
    Kind("policy", "v1", "PodDisruptionBudget", "poddisruptionbudgets", True, ("pdb",), ("status",)),
    # scheduling.k8s.io/v1
    Kind("scheduling.k8s.io", "v1", "PriorityClass", "priorityclasses", False, ("pc",), has_spec=False),
    # apiextensions.k8s.io/v1
    Kind("apiextensions.k8s.io", "v1", "CustomResourceDefinition", "customresourcedefinitions", False,
         ("crd", "crds"), ("status",), ("api-extensions",),
         storage_prefix="apiextensions.k8s.io/customresourcedefinitions"),
    # apiregistration.k8s.io/v1
    Kind("apiregistration.k8s.io", "v1", "APIService", "apiservices", False, (), ("status",), ("api-extensions",)),
    # storage.k8s.io/v1
    Kind("storage.k8s.io", "v1", "StorageClass", "storageclasses", False, ("sc",), has_spec=False),
    Kind("storage.k8s.io", "v1", "VolumeAttachment", "volumeattachments", False, (), ("status",)),
)


@dataclass
class KindRegistry:
    """Looks kinds up by any name kubectl accepts; later work may register more kinds."""

    kinds: list[Kind] = field(default_factory=lambda: list(KINDS))

    def __post_init__(self) -> None:
        self._index: dict[str, Kind] = {}
        for kind in self.kinds:
            self._add_names(kind)

    def _add_names(self, kind: Kind) -> None:
        names = [kind.kind, kind.plural, kind.singular, *kind.short_names,
                 f"{kind.plural}.{kind.group}" if kind.group else kind.plural,
                 f"{kind.singular}.{kind.group}" if kind.group else kind.singular,
                 f"{kind.kind}.{kind.group}" if kind.group else kind.kind]
        for name in names:
            self._index.setdefault(name.lower(), kind)

    def register(self, kind: Kind) -> None:
        """Add a kind (as a CustomResourceDefinition would)."""
        self.kinds.append(kind)
        self._add_names(kind)

    def unregister(self, kind: Kind) -> None:
        """Remove a kind (its CustomResourceDefinition is gone) and every name that found it."""
        self.kinds.remove(kind)
        self._index = {name: found for name, found in self._index.items() if found != kind}
        for other in self.kinds:
            self._add_names(other)

    def lookup(self, name: str) -> Kind:
        """Find a kind by Kind, plural, singular, short name, or ``plural.group``."""
        found = self._index.get(name.lower())
        if found is None:
            from engine.api.errors import NotFound
            raise NotFound(f'the server doesn\'t have a resource type "{name}"')
        return found

    def find(self, name: str) -> Kind | None:
        """Like ``lookup`` but returns None for an unknown name."""
        return self._index.get(name.lower())

    def for_object(self, obj: dict) -> Kind:
        """The kind of a manifest, from its ``apiVersion`` and ``kind`` fields."""
        from engine.api.errors import BadRequest
        api_version = obj.get("apiVersion", "")
        kind_name = obj.get("kind", "")
        if not kind_name:
            raise BadRequest("Object 'Kind' is missing in the manifest")
        for kind in self.kinds:
            if kind.kind == kind_name and (not api_version or kind.api_version == api_version):
                return kind
        raise BadRequest(f'no matches for kind "{kind_name}" in version "{api_version}"')

    def by_resource(self, group: str, resource: str) -> Kind | None:
        """The kind served at ``/apis/<group>/<version>/<resource>``."""
        for kind in self.kinds:
            if kind.group == group and kind.plural == resource:
                return kind
        return None

    def __iter__(self):
        return iter(self.kinds)


REGISTRY = KindRegistry()
lookup = REGISTRY.lookup
