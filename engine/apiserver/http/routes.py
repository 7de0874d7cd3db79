"""URL -> request: how kube-apiserver's HTTP paths and query parameters name an API request.

The real server's ``RequestInfoFactory`` (k8s.io/apiserver/pkg/endpoints/request)
reads every path the same way, and this module does too:

    /api/v1/namespaces/{ns}/{resource}/{name}/{subresource}
    /apis/{group}/{version}/namespaces/{ns}/{resource}/{name}/{subresource}
    /api/v1/{resource}/{name}                      cluster-scoped, or all namespaces
    /api/v1/watch/...                              the deprecated watch prefix

``parse(method, path, query)`` returns a ``Route``: either a resource request
(verb, resource, namespace, name, subresource and the query parameters the
API server understands, already converted to the types it expects) or a
non-resource path (``/version``, ``/api``, ``/openapi/v3/...``). The verb comes
from the HTTP method, as ``RequestInfoFactory`` derives it: GET on a
collection is ``list`` (``watch`` with ``?watch=true``), DELETE on a collection
is ``deletecollection``. A method the path does not serve is a 405 and a path
nobody serves a 404, with the real messages. Nothing here touches engine
state: parsing runs on the HTTP thread.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, unquote

from engine.api import errors
from engine.api.conversion import ServedVersion, served_version
from engine.api.kinds import Kind, KindRegistry
from engine.apiserver import proxy

NOT_FOUND = "the server could not find the requested resource"
METHOD_NOT_ALLOWED = "the server does not allow this method on the requested resource"

_TRUE = ("true", "1", "t", "yes", "y")
_INT_PARAMS = ("limit", "gracePeriodSeconds", "timeoutSeconds", "tailLines", "limitBytes", "sinceSeconds")
_BOOL_PARAMS = ("watch", "allowWatchBookmarks", "follow", "previous", "timestamps", "sendInitialEvents")
_KEPT_PARAMS = ("labelSelector", "fieldSelector", "continue", "resourceVersion", "resourceVersionMatch",
                "propagationPolicy", "dryRun", "fieldManager", "fieldValidation", "includeObject", "container",
                "force", "pretty", "orphanDependents")
_METHOD_VERBS = {
    ("GET", True): "list", ("POST", True): "create", ("DELETE", True): "deletecollection",
    ("GET", False): "get", ("PUT", False): "update", ("PATCH", False): "patch", ("DELETE", False): "delete",
}


@dataclass
class Route:
    """What one HTTP request asks for."""

    method: str
    path: str
    params: dict[str, Any] = field(default_factory=dict)
    resource_request: bool = False
    verb: str = ""
    kind: Kind | None = None
    namespace: str | None = None
    name: str | None = None
    subresource: str | None = None
    served: ServedVersion | None = None
    """Set when the path names a version other than the kind's storage version (``autoscaling/v1`` HPAs)."""

    @property
    def group(self) -> str:
        return self.kind.group if self.kind else ""


def parse_params(query: str) -> dict[str, Any]:
    """The query parameters the API server reads, as the types it expects (ints, booleans, strings)."""
    raw = parse_qs(query, keep_blank_values=True)
    params: dict[str, Any] = {}
    for key, values in raw.items():
        value = values[-1]
        if key in _BOOL_PARAMS:
            params[key] = value.lower() in _TRUE
        elif key in _INT_PARAMS:
            try:
                params[key] = int(value)
            except ValueError:
                raise errors.bad_request(f'invalid value for "{key}": strconv.ParseInt: parsing "{value}": '
                                         f"invalid syntax") from None
        elif key == "dryRun":
            params[key] = [v for v in values if v]
        elif key in _KEPT_PARAMS:
            params[key] = value
    return params


def parse(method: str, path: str, query: str, registry: KindRegistry) -> Route:
    """Read a request's method, path and query; 404 / 405 ``ApiError`` for what nobody serves."""
    parts = [part for part in path.split("/") if part]
    route = Route(method=method, path="/" + "/".join(parts))
    if parts[:1] in (["api"], ["apis"]) and len(parts) > (2 if parts[0] == "api" else 3):
        start = 2 if parts[0] == "api" else 3
        proxied = _proxy(route, "" if parts[0] == "api" else parts[1], parts[start - 1], parts[start:], path,
                         query, registry)
        if proxied is not None:
            return proxied
    params = route.params = parse_params(query)
    if not parts or parts[0] not in ("api", "apis"):
        return _non_resource(route)
    if parts[0] == "api":
        if len(parts) <= 2:
            return _non_resource(route)
        group, version, rest = "", parts[1], parts[2:]
    else:
        if len(parts) <= 3:
            return _non_resource(route)
        group, version, rest = parts[1], parts[2], parts[3:]
    if rest[0] == "watch":
        params["watch"] = True
        rest = rest[1:]
    return _resource(route, group, version, rest, registry)


def _proxy(route: Route, group: str, version: str, rest: list[str], path: str, query: str,
           registry: KindRegistry) -> Route | None:
    """``.../{resource}/{name}/proxy[/{path}]``: the connect request ``engine.apiserver.proxy`` serves.

    Everything after ``/proxy`` (``params["path"]``, trailing slash kept) and the raw query go to the backend;
    the verb comes from the method (RequestInfoFactory's, for connect requests).
    """
    namespace = None
    if len(rest) >= 3 and rest[0] == "namespaces":
        namespace, rest = rest[1], rest[2:]
    if len(rest) < 3 or rest[2] != "proxy":
        return None
    kind = registry.by_resource(group, rest[0])
    if kind is None or kind.version != version or "proxy" not in kind.subresources or \
            (kind.namespaced and namespace is None):
        return None
    verb = proxy.VERBS.get(route.method)
    if verb is None:
        raise errors.MethodNotAllowed(METHOD_NOT_ALLOWED)
    name = unquote(rest[1])
    marker = f"/{rest[1]}/proxy"
    at = path.find(marker + "/")
    remainder = path[at + len(marker):] if at >= 0 else ("/" + "/".join(rest[3:]) if len(rest) > 3 else "")
    route.resource_request = True
    route.verb, route.kind, route.namespace, route.name, route.subresource = verb, kind, namespace, name, "proxy"
    route.params = {"path": remainder, "query": query, "method": route.method, "requestPath": path}
    return route


def _non_resource(route: Route) -> Route:
    if route.method not in ("GET", "HEAD"):
        raise errors.MethodNotAllowed(METHOD_NOT_ALLOWED)
    return route


def _resource(route: Route, group: str, version: str, rest: list[str], registry: KindRegistry) -> Route:
    namespace: str | None = None
    if len(rest) >= 3 and rest[0] == "namespaces":
        inner = registry.by_resource(group, rest[2])
        # /namespaces/{name}/status is the namespace's own subresource, not a resource inside it.
        if inner is not None and inner.namespaced:
            namespace, rest = rest[1], rest[2:]
    if not rest or len(rest) > 3:
        raise errors.NotFound(NOT_FOUND)
    kind = registry.by_resource(group, rest[0])
    served = served_version(group, version, rest[0]) if kind is not None and kind.version != version else None
    if kind is None or (kind.version != version and (served is None or served.storage_version != kind.version)):
        raise errors.NotFound(NOT_FOUND)
    route.served = served
    name = rest[1] if len(rest) >= 2 else None
    subresource = rest[2] if len(rest) == 3 else None
    if subresource is not None and subresource not in kind.subresources:
        raise errors.NotFound(NOT_FOUND)
    if namespace is None and kind.namespaced and name is not None and kind.plural != "namespaces":
        raise errors.NotFound(NOT_FOUND)
    collection = name is None
    verb = _METHOD_VERBS.get((route.method, collection))
    if route.method == "POST" and subresource:
        verb = "create"
    if verb is None:
        raise errors.MethodNotAllowed(METHOD_NOT_ALLOWED)
    if route.params.get("watch") and route.method == "GET":
        verb = "watch"
    route.resource_request = True
    route.verb, route.kind, route.namespace, route.name, route.subresource = verb, kind, namespace, name, subresource
    return route
