"""The client (client-go's clientset): how every component speaks to the API server.

A component never holds the store or another component: it holds a
``Client`` with its own credentials (a bearer token), and every call goes
through the API server's full pipeline: authentication, RBAC, admission,
validation, storage. Kinds are named as kubectl names them (``"pods"``,
``"Pod"``, ``"deploy"``).

Objects returned by ``get``, ``list``, ``create``, ``update`` and ``patch`` are
the caller's own plain dicts. Watch events carry frozen, shared objects (see
``engine.api.frozen``), delivered on the simulation loop after the API
server's watch delay. Calls must be made on the loop's thread.
"""

from __future__ import annotations

from typing import Any, Callable

from engine.api.kinds import Kind
from engine.apiserver.server import APIServer, Request
from engine.apiserver.watchcache import CacheWatcher
from engine.sim.loop import Loop

MERGE_PATCH = "application/merge-patch+json"
STRATEGIC_MERGE_PATCH = "application/strategic-merge-patch+json"
JSON_PATCH = "application/json-patch+json"


class Client:
    """A clientset for one identity (the bearer ``token``)."""

    def __init__(self, server: APIServer, token: str | None, *, name: str = "") -> None:
        self.server = server
        self.token = token
        self.name = name
        self._kinds: dict[tuple[str, str], Kind] = {}
        self.last_warnings: list[str] = []
        """The warnings the API server sent with the last answer (``unknown field "spec.foo"``)."""

    @property
    def loop(self) -> Loop:
        return self.server.loop

    def kind(self, resource: str) -> Kind:
        """The registry entry for a kind name, plural or short name."""
        return self.server.registry.lookup(resource)

    def _call(self, verb: str, resource: str, **fields: Any) -> Any:
        request = Request(verb, resource, token=self.token, **fields)
        try:
            return self.server.handle(request)
        finally:
            self.last_warnings = request.warnings

    def _resource_of(self, obj: dict) -> str:
        """The resource of a manifest (``registry.for_object``), remembered per apiVersion and kind for as long as
        the registry still serves that very kind under its name."""
        registry = self.server.registry
        key = (obj.get("apiVersion", ""), obj.get("kind", ""))
        if type(key[0]) is not str or type(key[1]) is not str:
            return registry.for_object(obj).plural
        kind = self._kinds.get(key)
        if kind is None or registry.find(f"{kind.plural}.{kind.group}" if kind.group else kind.plural) is not kind:
            kind = self._kinds[key] = registry.for_object(obj)
        return kind.plural

    # -- reads ----------------------------------------------------------------
    def get(self, resource: str, name: str, namespace: str | None = None, *, subresource: str | None = None,
            params: dict[str, Any] | None = None) -> Any:
        """One object, or a subresource (``params``: its options, ``{"container": "c", "tailLines": 10}`` for a
        pod's ``log``, whose answer is text)."""
        return self._call("get", resource, namespace=namespace, name=name, subresource=subresource,
                          params=dict(params or {}))

    def list(self, resource: str, namespace: str | None = None, *, label_selector: str | None = None,
             field_selector: str | None = None, limit: int = 0, continue_: str | None = None,
             shared: bool = False) -> dict:
        """A List object (``items``, ``metadata.resourceVersion``, ``metadata.continue``)."""
        params: dict[str, Any] = {}
        if label_selector:
            params["labelSelector"] = label_selector
        if field_selector:
            params["fieldSelector"] = field_selector
        if limit:
            params["limit"] = limit
        if continue_:
            params["continue"] = continue_
        return self._call("list", resource, namespace=namespace, params=params, shared=shared)

    def watch(self, resource: str, handler: Callable[[dict], None], namespace: str | None = None, *,
              label_selector: str | None = None, field_selector: str | None = None,
              resource_version: str | None = None, allow_bookmarks: bool = True,
              delay: float | None = None, name: str | None = None) -> CacheWatcher:
        """Watch a kind; ``handler({"type": ..., "object": ...})`` runs for each event. ``.stop()`` ends it."""
        params: dict[str, Any] = {"allowWatchBookmarks": allow_bookmarks}
        if label_selector:
            params["labelSelector"] = label_selector
        if field_selector:
            params["fieldSelector"] = field_selector
        if resource_version is not None:
            params["resourceVersion"] = resource_version
        if delay is not None:
            params["delay"] = delay
        return self.server.watch(Request("watch", resource, namespace=namespace, name=name, params=params,
                                         token=self.token), handler)

    # -- writes ---------------------------------------------------------------
    def create(self, obj: dict, namespace: str | None = None, *, dry_run: bool = False,
               field_validation: str | None = None) -> dict:
        """POST an object. ``field_validation``: ``Strict``, ``Warn`` (the server's default) or ``Ignore``."""
        namespace = namespace or (obj.get("metadata") or {}).get("namespace")
        params = _write_params(dry_run, field_validation)
        return self._call("create", self._resource_of(obj), namespace=namespace, body=obj, params=params)

    def update(self, obj: dict, *, subresource: str | None = None, field_validation: str | None = None) -> dict:
        metadata = obj.get("metadata") or {}
        return self._call("update", self._resource_of(obj), namespace=metadata.get("namespace"),
                          name=metadata.get("name"), subresource=subresource, body=obj,
                          params=_write_params(False, field_validation))

    def update_status(self, obj: dict) -> dict:
        """PUT the status subresource: only ``status`` changes, and generation stays."""
        return self.update(obj, subresource="status")

    def patch(self, resource: str, name: str, patch: Any, namespace: str | None = None, *,
              patch_type: str = MERGE_PATCH, subresource: str | None = None,
              field_validation: str | None = None) -> dict:
        return self._call("patch", resource, namespace=namespace, name=name, body=patch, patch_type=patch_type,
                          subresource=subresource, params=_write_params(False, field_validation))

    def delete(self, resource: str, name: str, namespace: str | None = None, *,
               propagation_policy: str | None = None, grace_period_seconds: int | None = None,
               preconditions: dict | None = None) -> dict:
        body: dict[str, Any] = {}
        if propagation_policy:
            body["propagationPolicy"] = propagation_policy
        if grace_period_seconds is not None:
            body["gracePeriodSeconds"] = grace_period_seconds
        if preconditions:
            body["preconditions"] = preconditions
        return self._call("delete", resource, namespace=namespace, name=name, body=body)

    def evict(self, namespace: str, pod_name: str, *, grace_period_seconds: int | None = None,
              dry_run: bool = False) -> dict:
        """POST an Eviction (pods/<name>/eviction): a delete that PodDisruptionBudgets may refuse with 429."""
        body: dict[str, Any] = {"apiVersion": "policy/v1", "kind": "Eviction",
                                "metadata": {"name": pod_name, "namespace": namespace}}
        if grace_period_seconds is not None:
            body["deleteOptions"] = {"gracePeriodSeconds": grace_period_seconds}
        return self._call("create", "pods", namespace=namespace, name=pod_name, subresource="eviction", body=body,
                          params=_write_params(dry_run, None))

    def bind(self, namespace: str, pod_name: str, node_name: str) -> dict:
        """POST a Binding (pods/<name>/binding): how the scheduler assigns a pod to a node."""
        binding = {"apiVersion": "v1", "kind": "Binding", "metadata": {"name": pod_name, "namespace": namespace},
                   "target": {"apiVersion": "v1", "kind": "Node", "name": node_name}}
        return self._call("create", "pods", namespace=namespace, name=pod_name, subresource="binding", body=binding)

    def exec(self, namespace: str, pod_name: str, command: list[str], *, container: str | None = None) -> Any:
        """POST pods/<name>/exec: run ``command`` in a running container; an ``ExecResult`` (stdout, stderr, exit_code)."""
        params: dict[str, Any] = {"command": list(command), "stdout": True, "stderr": True}
        if container:
            params["container"] = container
        session = self._call("create", "pods", namespace=namespace, name=pod_name, subresource="exec", params=params)
        return session.run()

    def create_token(self, namespace: str, service_account: str, expiration_seconds: int = 3600) -> dict:
        """POST a TokenRequest (serviceaccounts/<name>/token); the token is in ``status.token``."""
        request = {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest",
                   "spec": {"expirationSeconds": expiration_seconds}}
        return self._call("create", "serviceaccounts", namespace=namespace, name=service_account,
                          subresource="token", body=request)

    def scale(self, resource: str, name: str, namespace: str | None, replicas: int) -> dict:
        """Set ``spec.replicas`` through the scale subresource (what ``kubectl scale`` does)."""
        scale = self.get(resource, name, namespace, subresource="scale")
        scale["spec"]["replicas"] = replicas
        return self._call("update", resource, namespace=namespace, name=name, subresource="scale", body=scale)


def _write_params(dry_run: bool, field_validation: str | None) -> dict[str, Any]:
    params: dict[str, Any] = {"dryRun": "All"} if dry_run else {}
    if field_validation:
        params["fieldValidation"] = field_validation
    return params
