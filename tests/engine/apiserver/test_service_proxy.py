"""services/proxy and pods/proxy: ResourceLocation, RBAC, the real errors, and what is passed on either way.

The cluster has no pod network here: the proxy's transport is a fake that records each request and answers
what the test says, so only the API server's part is under test (the pod network's part is in the dashboard
scenario).
"""

from __future__ import annotations

import pytest

import engine
from engine.api import errors
from engine.apiserver import proxy
from engine.apiserver.http import routes
from engine.apiserver.proxy import ProxyResponse, rewrite_html, rewrite_url, split_scheme_name_port
from engine.apiserver.server import Request

BASE = "/api/v1/namespaces/default/services"


class FakeTransport:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str, dict, str | None]] = []
        self.answer: ProxyResponse | str = ProxyResponse(200, {"Content-Type": "text/plain"}, "ok")

    def __call__(self, method, url, headers, body):
        self.calls.append((method, url, headers, body))
        return self.answer


@pytest.fixture
def cluster():
    c = engine.Cluster(nodes=1, seed=0)
    c.transport = FakeTransport()
    proxy.register(c.apiserver, c.transport)
    c.apply({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
             "spec": {"ports": [{"name": "http", "port": 80, "targetPort": 8080}]}})    # no selector: our Endpoints
    for name, ip in (("web-1", "10.244.1.5"), ("web-2", "10.244.1.6")):
        c.apply({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
                 "spec": {"containers": [{"name": "web", "image": "nginx", "ports": [{"containerPort": 8080}]}]}})
        pod = c.get("pod", name)
        pod["status"] = {"phase": "Running", "podIP": ip, "podIPs": [{"ip": ip}]}
        c.admin.update_status(pod)
    c.apply(endpoints([("10.244.1.5", "web-1")]))
    return c


def endpoints(addresses, port_name="http"):
    return {"apiVersion": "v1", "kind": "Endpoints", "metadata": {"name": "web"},
            "subsets": [{"addresses": [{"ip": ip, "targetRef": {"kind": "Pod", "name": pod, "namespace": "default"}}
                                       for ip, pod in addresses],
                         "ports": [{"name": port_name, "port": 8080, "protocol": "TCP"}]}] if addresses else []}


def proxied(cluster, name, path="/", *, verb="get", method="GET", user=None, resource="services", query="",
            headers=None, body=None):
    token = cluster.token_for(*user) if user else cluster.token_for("kubernetes-admin", ("system:masters",))
    incoming = f"/api/v1/namespaces/default/{resource}/{name}/proxy{path}"
    params = {"path": path, "method": method, "requestPath": incoming, "query": query, "headers": headers or {}}
    return cluster.apiserver.handle(Request(verb, resource, "default", name, "proxy", body, params, token))


SPLITS = [("web", ("", "web", "")), ("web:80", ("", "web", "80")), ("https:web:", ("https", "web", "")),
          ("http:web:http", ("http", "web", "http")), ("ftp:web:21", None), (":80", None), ("a:b:c:d", None)]


@pytest.mark.parametrize("text, expected", SPLITS, ids=[f"{text!r} splits as {expected}" for text, expected in SPLITS])
def test_scheme_name_port_splits_like_apimachinery(text, expected):
    assert split_scheme_name_port(text) == expected


def test_a_service_port_number_is_proxied_to_an_endpoint_pod_directly(cluster):
    answer = proxied(cluster, "web:80", "/healthz", query="verbose=1",
                     headers={"Authorization": "Bearer secret", "Accept": "text/plain", "Connection": "keep-alive"})
    assert (answer.status, answer.body) == (200, "ok")
    method, url, headers, _body = cluster.transport.calls[-1]
    assert (method, url) == ("GET", "http://10.244.1.5:8080/healthz?verbose=1")
    assert headers["Accept"] == "text/plain" and "Authorization" not in headers and "Connection" not in headers
    assert headers["X-Forwarded-Uri"] == f"{BASE}/web:80/proxy/healthz"


def test_a_named_port_and_a_scheme_pick_the_endpoint_port_and_url_scheme(cluster):
    proxied(cluster, "https:web:http", "/a//b/../c/")
    assert cluster.transport.calls[-1][1] == "https://10.244.1.5:8080/a/c/"


def test_no_service_port_with_that_number_is_503(cluster):
    with pytest.raises(errors.ApiError) as caught:
        proxied(cluster, "web:81")
    assert caught.value.code == 503 and caught.value.reason == "ServiceUnavailable"
    assert caught.value.message == 'no service port 81 found for service "web"'


def test_an_endpoint_port_of_another_name_has_no_endpoints(cluster):
    with pytest.raises(errors.ApiError) as caught:
        proxied(cluster, "https:web:")
    assert (caught.value.code, caught.value.message) == (503, 'no endpoints available for service "https:web:"')


def test_empty_endpoints_are_503_and_missing_endpoints_404(cluster):
    cluster.apply(endpoints([]))
    with pytest.raises(errors.ApiError) as caught:
        proxied(cluster, "web:http")
    assert (caught.value.code, caught.value.message) == (503, 'no endpoints available for service "web"')
    cluster.delete("endpoints", "web")
    with pytest.raises(errors.NotFound) as missing:
        proxied(cluster, "web:http")
    assert missing.value.message == 'endpoints "web" not found'


def test_an_address_whose_pod_is_gone_or_changed_is_skipped(cluster):
    cluster.apply(endpoints([("10.244.1.9", "web-2"), ("10.244.1.6", "web-2")]))
    for _ in range(4):
        proxied(cluster, "web:http")
    assert {call[1] for call in cluster.transport.calls} == {"http://10.244.1.6:8080/"}
    cluster.delete("pod", "web-2", grace_period_seconds=0)
    cluster.run(1)
    with pytest.raises(errors.ApiError) as caught:
        proxied(cluster, "web:http")
    assert caught.value.code == 503


def test_a_failed_connection_is_503_with_the_dial_error(cluster):
    cluster.transport.answer = proxy.dial_error("http://10.244.1.5:8080/", "refused")
    with pytest.raises(errors.ApiError) as caught:
        proxied(cluster, "web:http")
    assert caught.value.status == {
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "code": 503,
        "reason": "ServiceUnavailable",
        "message": "error trying to reach service: dial tcp 10.244.1.5:8080: connect: connection refused"}


def test_rbac_decides_on_services_proxy_by_verb_and_the_whole_name(cluster):
    jane = ("jane", ())
    with pytest.raises(errors.Forbidden) as caught:
        proxied(cluster, "web:http", user=jane)
    assert caught.value.message == ('services "web:http" is forbidden: User "jane" cannot get resource '
                                    '"services/proxy" in API group "" in the namespace "default"')
    cluster.apply({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": {"name": "proxy"},
                   "rules": [{"apiGroups": [""], "resources": ["services/proxy"], "resourceNames": ["web:http"],
                              "verbs": ["get"]}]})
    cluster.apply({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": {"name": "jane"},
                   "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "proxy"},
                   "subjects": [{"kind": "User", "name": "jane"}]})
    assert proxied(cluster, "web:http", user=jane).status == 200
    with pytest.raises(errors.Forbidden):
        proxied(cluster, "web:http", user=jane, verb="create", method="POST", body="x=1")
    with pytest.raises(errors.Forbidden):
        proxied(cluster, "web:80", user=jane)            # another name, though the same port


def test_a_post_carries_its_body(cluster):
    proxied(cluster, "web:http", "/form", verb="create", method="POST", body="x=1")
    assert cluster.transport.calls[-1][0::3] == ("POST", "x=1")


def test_nothing_after_proxy_redirects_to_the_trailing_slash(cluster):
    answer = proxied(cluster, "web:http", "", query="a=1")
    assert (answer.status, answer.headers) == (301, {"Location": f"{BASE}/web:http/proxy/?a=1"})
    assert cluster.transport.calls == []


def test_html_links_and_redirects_are_rewritten_to_go_through_the_proxy(cluster):
    page = ('<html><head><link rel="stylesheet" href="/style.css"><script src="app.js"></script></head>'
            '<body><a href="/pods/?x=1#top">pods</a> <img src="http://example.com/logo.png">'
            '<a href="http://10.244.1.5:8080/abs">same host</a><p>href="/not-a-tag"</p></body></html>')
    cluster.transport.answer = ProxyResponse(200, {"Content-Type": "text/html; charset=utf-8",
                                                   "Access-Control-Allow-Origin": "*"}, page)
    answer = proxied(cluster, "web:http", "/")
    prefix = f"{BASE}/web:http/proxy"
    assert f'href="{prefix}/style.css"' in answer.body
    assert 'src="app.js"' in answer.body and 'src="http://example.com/logo.png"' in answer.body
    assert f'href="{prefix}/pods/?x=1#top"' in answer.body and f'href="{prefix}/abs"' in answer.body
    assert '<p>href="/not-a-tag"</p>' in answer.body
    assert answer.headers == {"Content-Type": "text/html; charset=utf-8"}
    cluster.transport.answer = ProxyResponse(302, {"Location": "/login"}, "")
    assert proxied(cluster, "web:http", "/").headers["Location"] == f"{prefix}/login"
    cluster.transport.answer = ProxyResponse(200, {"Content-Type": "application/javascript"}, 'x = "/abs";')
    assert proxied(cluster, "web:http", "/app.js").body == 'x = "/abs";'


REWRITES = [("/x", "/api/v1/p/proxy/x"), ("/api/v1/p/proxy/y", "/api/v1/p/proxy/y"), ("rel/x", "rel/x"),
            ("http://other:1/x", "http://other:1/x"), ("//localhost:8001/d/", "/api/v1/p/proxy/d/")]


@pytest.mark.parametrize("target, expected", REWRITES, ids=[f"{t} becomes {e}" for t, e in REWRITES])
def test_rewrite_url_like_the_proxy_transport(target, expected):
    assert rewrite_url(target, "/api/v1/p/proxy", "10.244.1.5:8080", "localhost:8001") == expected


def test_rewrite_html_keeps_everything_but_the_url_attributes():
    text = "<!doctype html>\n<!-- <a href='/c'> -->\n<IMG SRC='/i.png' alt=x>\n<br/>\n<source src=/v.webm />"
    out = rewrite_html(text, lambda url: "/p" + url)
    assert out == "<!doctype html>\n<!-- <a href='/c'> -->\n<img src=\"/p/i.png\" alt=\"x\">\n<br/>\n" \
                  '<source src="/p/v.webm"/>'


def test_pods_proxy_goes_to_the_pod_ip_and_its_first_declared_port(cluster):
    proxied(cluster, "web-1", "/metrics", resource="pods")
    assert cluster.transport.calls[-1][1] == "http://10.244.1.5:8080/metrics"
    proxied(cluster, "https:web-1:9443", "/", resource="pods")
    assert cluster.transport.calls[-1][1] == "https://10.244.1.5:9443/"
    cluster.apply({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "new"},
                   "spec": {"containers": [{"name": "c", "image": "nginx"}]}})
    with pytest.raises(errors.BadRequest) as caught:
        proxied(cluster, "new", resource="pods")
    assert caught.value.message == "address not allowed"


PATHS = [("GET", "/api/v1/namespaces/kd/services/https:kd:/proxy/", "get", "https:kd:", "/"),
         ("GET", "/api/v1/namespaces/kd/services/https:kd:/proxy", "get", "https:kd:", ""),
         ("POST", "/api/v1/namespaces/kd/services/kd/proxy/api/v1/x/", "create", "kd", "/api/v1/x/"),
         ("HEAD", "/api/v1/namespaces/kd/pods/p%3A80/proxy/a//b", "get", "p:80", "/a//b")]


@pytest.mark.parametrize("method, path, verb, name, rest", PATHS, ids=[f"{m} {p}" for m, p, *_ in PATHS])
def test_http_paths_name_the_proxy_subresource(method, path, verb, name, rest):
    route = routes.parse(method, path, "limit=abc&watch=true", engine.api.kinds.REGISTRY)
    assert (route.verb, route.name, route.subresource, route.params["path"]) == (verb, name, "proxy", rest)
    assert route.params["query"] == "limit=abc&watch=true" and route.params["requestPath"] == path
