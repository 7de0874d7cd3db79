"""URL -> request, as kube-apiserver's RequestInfoFactory reads paths (pure: no server needed)."""

from __future__ import annotations

import pytest

from engine.api import errors
from engine.api.kinds import REGISTRY
from engine.apiserver.http import routes


@pytest.mark.parametrize("method, url, verb, resource, namespace, name, subresource", [
    pytest.param("GET", "/api/v1/namespaces/default/pods", "list", "pods", "default", None, None,
                 id="GET on a namespaced collection lists"),
    pytest.param("GET", "/api/v1/pods", "list", "pods", None, None, None, id="without a namespace: all namespaces"),
    pytest.param("GET", "/api/v1/namespaces/default/pods?watch=true", "watch", "pods", "default", None, None,
                 id="watch=true makes it a watch"),
    pytest.param("GET", "/api/v1/watch/namespaces/default/pods", "watch", "pods", "default", None, None,
                 id="so does the deprecated /watch/ prefix"),
    pytest.param("POST", "/apis/apps/v1/namespaces/web/deployments", "create", "deployments", "web", None, None,
                 id="POST on a collection creates"),
    pytest.param("PUT", "/apis/apps/v1/namespaces/web/deployments/d/scale", "update", "deployments", "web", "d",
                 "scale", id="PUT on a subresource updates it"),
    pytest.param("PATCH", "/api/v1/namespaces/default/pods/p/status", "patch", "pods", "default", "p", "status",
                 id="PATCH on status patches it"),
    pytest.param("DELETE", "/api/v1/namespaces/default/configmaps", "deletecollection", "configmaps", "default",
                 None, None, id="DELETE on a collection is deletecollection"),
    pytest.param("POST", "/api/v1/namespaces/default/pods/p/binding", "create", "pods", "default", "p", "binding",
                 id="POST on pods/binding creates a binding"),
    pytest.param("GET", "/api/v1/namespaces/kube-system", "get", "namespaces", None, "kube-system", None,
                 id="a namespace is a cluster-scoped object"),
    pytest.param("PUT", "/api/v1/namespaces/gone/finalize", "update", "namespaces", None, "gone", "finalize",
                 id="and namespaces/finalize its subresource"),
    pytest.param("GET", "/api/v1/nodes/node-1", "get", "nodes", None, "node-1", None, id="a node by name"),
    pytest.param("GET", "/api/v1/namespaces/default/pods/p/log", "get", "pods", "default", "p", "log",
                 id="pod logs are a get of the log subresource"),
])
def test_paths_become_requests(method: str, url: str, verb: str, resource: str, namespace: str | None,
                               name: str | None, subresource: str | None) -> None:
    path, _, query = url.partition("?")
    route = routes.parse(method, path, query, REGISTRY)
    assert route.resource_request
    assert (route.verb, route.kind.plural, route.namespace, route.name, route.subresource) == (
        verb, resource, namespace, name, subresource)


@pytest.mark.parametrize("method, url, error", [
    pytest.param("GET", "/api/v1/namespaces/default/widgets", errors.NotFound, id="an unknown resource"),
    pytest.param("GET", "/apis/apps/v2/namespaces/default/deployments", errors.NotFound, id="a version not served"),
    pytest.param("GET", "/api/v1/namespaces/default/pods/p/exec/x", errors.NotFound, id="too deep a path"),
    pytest.param("GET", "/api/v1/namespaces/default/pods/p/nonsense", errors.NotFound, id="an unknown subresource"),
    pytest.param("PUT", "/api/v1/namespaces/default/pods", errors.MethodNotAllowed, id="PUT on a collection"),
    pytest.param("POST", "/api/v1/namespaces/default/pods/p", errors.MethodNotAllowed, id="POST on an object"),
    pytest.param("POST", "/version", errors.MethodNotAllowed, id="POST on a document"),
])
def test_what_nobody_serves_is_404_or_405(method: str, url: str, error: type) -> None:
    path, _, query = url.partition("?")
    with pytest.raises(error):
        routes.parse(method, path, query, REGISTRY)


def test_query_parameters_arrive_with_the_types_the_api_server_expects() -> None:
    params = routes.parse_params("limit=5&watch=1&allowWatchBookmarks=true&timeoutSeconds=30&labelSelector=app%3Dweb"
                                 "&gracePeriodSeconds=0&dryRun=All&propagationPolicy=Foreground&unknown=x")
    assert params == {"limit": 5, "watch": True, "allowWatchBookmarks": True, "timeoutSeconds": 30,
                      "labelSelector": "app=web", "gracePeriodSeconds": 0, "dryRun": ["All"],
                      "propagationPolicy": "Foreground"}
