"""The ``proxy`` subresource of Services and Pods: kube-apiserver as a reverse proxy into the pod network.

    /api/v1/namespaces/{ns}/services/{[scheme:]name[:port]}/proxy/{path}     (registry/core/service/proxy.go)
    /api/v1/namespaces/{ns}/pods/{[scheme:]name[:port]}/proxy/{path}         (registry/core/pod/rest/subresources.go)

This is how ``kubectl proxy`` users reach a cluster-internal web UI such as the Dashboard
(``.../services/https:kubernetes-dashboard:/proxy/``). The request is authenticated and authorized as usual
(RBAC verb from the HTTP method, GET/HEAD ``get``, POST ``create``, PUT ``update``, PATCH ``patch``, DELETE
``delete``, on ``services/proxy`` or ``pods/proxy``, the name being the whole ``scheme:name:port`` text),
then ``proxy(request)`` finds where to send it, as the registries' ``ResourceLocation`` do:

- a Service: ``scheme:name:port`` split by ``SplitSchemeNamePort`` (a bad one is 400 ``invalid service request``);
  a port *number* becomes the Service port's name (none: 503 ``no service port N found for service "x"``); then
  the Service's **Endpoints** object (404 when missing): a random subset with addresses and a port of that name
  (the empty name matches an unnamed port), a random address in it whose ``targetRef`` pod still exists with
  that IP; no such address is 503 ``no endpoints available for service "x"``. The request goes to the pod's
  IP and port directly, not through the Service's ClusterIP (kube-proxy plays no part);
- a Pod: the pod's IP (not a global unicast address, as before the pod has one: 400 ``address not allowed``)
  and the given port, or the first declared container port, or none (the scheme's default).

The backend sees the rest of the path (``path.Join`` cleaned, the trailing slash kept) and the raw query. An
empty path (``.../proxy`` with nothing after it) on GET or HEAD is answered with a 301 to the same path plus
``/``. Request headers go on, minus hop-by-hop ones, with ``X-Forwarded-Uri``, ``-Host`` and ``-Proto`` added
(the ``Authorization`` header was already removed by authentication). The answer passes through with its
status, body and headers (hop-by-hop and ``Access-Control-*`` removed); a ``text/html`` body has its
same-host absolute URLs rewritten to go through the proxy again (``<script src="/app.js">`` becomes
``src="/api/v1/namespaces/ns/services/name/proxy/app.js"``), and so has a redirect's ``Location``
(apimachinery's proxy ``Transport``). A connection that fails is 503 ``error trying to reach service: dial tcp
10.244.1.2:8443: connect: connection refused``.

``register(server, transport)`` installs the handlers; ``transport(method, url, headers, body)`` carries the
request from the control-plane node (where kube-apiserver runs, in the host network namespace) and returns a
``ProxyResponse``, or the dial error's text. What it never does: cache, or follow redirects.
"""

from __future__ import annotations

import html
import ipaddress
import posixpath
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import TYPE_CHECKING, Callable
from urllib.parse import urlsplit, urlunsplit

from engine.api import errors

if TYPE_CHECKING:
    from engine.apiserver.server import APIServer, Request

PROXY_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")
VERBS = {"GET": "get", "HEAD": "get", "POST": "create", "PUT": "update", "PATCH": "patch", "DELETE": "delete"}
"""RequestInfoFactory's verb for a connect request, by HTTP method."""
VALID_SCHEMES = ("http", "https", "")
HOP_BY_HOP = ("connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer",
              "transfer-encoding", "upgrade", "content-length", "host")
STRIPPED_REQUEST_HEADERS = ("authorization", "impersonate-user", "impersonate-group")
URL_ATTRIBUTES = {
    "a": ("href",), "applet": ("codebase",), "area": ("href",), "audio": ("src",), "base": ("href",),
    "blockquote": ("cite",), "body": ("background",), "button": ("formaction",), "command": ("icon",),
    "del": ("cite",), "embed": ("src",), "form": ("action",), "frame": ("longdesc", "src"), "head": ("profile",),
    "html": ("manifest",), "iframe": ("longdesc", "src"), "img": ("longdesc", "src", "usemap"),
    "input": ("src", "usemap", "formaction"), "ins": ("cite",), "link": ("href",),
    "object": ("classid", "codebase", "data", "usemap"), "q": ("cite",), "script": ("src",), "source": ("src",),
    "video": ("poster", "src"),
}
"""apimachinery proxy's ``atomsToAttrs``: the attributes of each tag that hold a URL."""


@dataclass
class ProxyResponse:
    """The backend's answer as the API server passes it on."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: str = ""

    @property
    def content_type(self) -> str:
        return header(self.headers, "Content-Type") or ""


Transport = Callable[[str, str, dict[str, str], "str | None"], "ProxyResponse | str"]


def header(headers: dict[str, str], name: str) -> str | None:
    """A header's value, whatever the case of its name."""
    lowered = name.lower()
    return next((value for key, value in headers.items() if key.lower() == lowered), None)


def split_scheme_name_port(text: str) -> tuple[str, str, str] | None:
    """apimachinery's ``SplitSchemeNamePort``: ``name``, ``name:port`` or ``scheme:name:port``; None if invalid."""
    parts = text.split(":")
    if len(parts) == 1:
        scheme, name, port = "", parts[0], ""
    elif len(parts) == 2:
        scheme, (name, port) = "", parts
    elif len(parts) == 3:
        scheme, name, port = parts
    else:
        return None
    if not name or scheme not in VALID_SCHEMES:
        return None
    return scheme, name, port


def service_unavailable(message: str) -> errors.ApiError:
    return errors.ApiError(message, reason="ServiceUnavailable", code=503)


class ServiceProxy:
    """``services/proxy``: ResourceLocation over the Service's Endpoints, then the proxied request."""

    def __init__(self, server: "APIServer", transport: Transport) -> None:
        self.server = server
        self.transport = transport

    def __call__(self, request: "Request") -> ProxyResponse:
        split = split_scheme_name_port(request.name or "")
        if split is None:
            raise errors.bad_request(f'invalid service request "{request.name}"')
        scheme, name, port = split
        namespace = request.namespace or ""
        if port.isdigit():
            service = self.server.cached("services", namespace, name)
            if service is None:
                raise errors.not_found("services", name)
            named = [p for p in (service.get("spec") or {}).get("ports") or [] if int(p.get("port") or 0) == int(port)]
            if not named:
                raise service_unavailable(f'no service port {port} found for service "{name}"')
            port = named[0].get("name") or ""
        endpoints = self.server.cached("endpoints", namespace, name)
        if endpoints is None:
            raise errors.not_found("endpoints", name)
        subsets = list(endpoints.get("subsets") or [])
        if not subsets:
            raise service_unavailable(f'no endpoints available for service "{name}"')
        random = self.server.random
        first = random.randrange(len(subsets))
        for index in range(len(subsets)):
            subset = subsets[(first + index) % len(subsets)]
            addresses = list(subset.get("addresses") or [])
            if not addresses:
                continue
            for subset_port in subset.get("ports") or []:
                if (subset_port.get("name") or "") != port:
                    continue
                start = random.randrange(len(addresses))
                for attempt in range(len(addresses)):
                    address = addresses[(start + attempt) % len(addresses)]
                    if self._valid(namespace, address):
                        location = f"{scheme or 'http'}://{address['ip']}:{int(subset_port['port'])}"
                        return forward(self.transport, location, request)
        raise service_unavailable(f'no endpoints available for service "{request.name}"')

    def _valid(self, namespace: str, address: dict) -> bool:
        """isValidAddress: the address names a pod that still exists and still has that IP."""
        target = address.get("targetRef") or {}
        if target.get("kind") != "Pod":
            return False
        pod = self.server.cached("pods", target.get("namespace") or namespace, target.get("name") or "")
        if pod is None:
            return False
        status = pod.get("status") or {}
        ips = {entry.get("ip") for entry in status.get("podIPs") or []} | {status.get("podIP")}
        return address.get("ip") in ips


class PodProxy:
    """``pods/proxy``: the pod's IP and the given (or first declared) port."""

    def __init__(self, server: "APIServer", transport: Transport) -> None:
        self.server = server
        self.transport = transport

    def __call__(self, request: "Request") -> ProxyResponse:
        split = split_scheme_name_port(request.name or "")
        if split is None:
            raise errors.bad_request(f'invalid pod request "{request.name}"')
        scheme, name, port = split
        pod = self.server.cached("pods", request.namespace, name)
        if pod is None:
            raise errors.not_found("pods", name)
        if not port:
            declared = [p for c in (pod.get("spec") or {}).get("containers") or [] for p in c.get("ports") or []]
            port = str(declared[0]["containerPort"]) if declared else ""
        ip = (pod.get("status") or {}).get("podIP") or ""
        if not _global_unicast(ip):
            raise errors.bad_request("address not allowed")
        default_port = "443" if scheme == "https" else "80"
        return forward(self.transport, f"{scheme or 'http'}://{ip}:{port or default_port}", request)


def _global_unicast(ip: str) -> bool:
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return False
    return not (address.is_loopback or address.is_link_local or address.is_multicast or address.is_unspecified
                or address == ipaddress.ip_address("255.255.255.255"))


def forward(transport: Transport, location: str, request: "Request") -> ProxyResponse:
    """Send the request on to ``location`` (scheme://ip:port) and pass the answer back, as the proxy handler does."""
    params = request.params or {}
    method = str(params.get("method") or "GET")
    asked = str(params.get("path") or "")
    incoming = str(params.get("requestPath") or "")
    query = str(params.get("query") or "")
    if not asked and method in ("GET", "HEAD"):
        return ProxyResponse(301, {"Location": incoming + "/" + (f"?{query}" if query else "")})
    target = "/" + posixpath.normpath(asked or "/").lstrip("/")
    if asked.endswith("/") and not target.endswith("/"):
        target += "/"
    prefix = incoming[: len(incoming) - len(asked)] if incoming.endswith(asked) else incoming
    outgoing = {key: value for key, value in (params.get("headers") or {}).items()
                if key.lower() not in HOP_BY_HOP + STRIPPED_REQUEST_HEADERS}
    outgoing["X-Forwarded-Uri"] = prefix + target
    url = location + target + (f"?{query}" if query else "")
    body = request.body if isinstance(request.body, str) and request.body else None
    answer = transport(method, url, outgoing, body)
    if isinstance(answer, str):
        raise service_unavailable(f"error trying to reach service: {answer}")
    headers = {key: value for key, value in answer.headers.items()
               if key.lower() not in HOP_BY_HOP and not key.lower().startswith("access-control-")}
    backend_host = urlsplit(location).netloc
    request_host = header(params.get("headers") or {}, "Host") or ""
    location_header = header(headers, "Location")
    if location_header:
        for key in [key for key in headers if key.lower() == "location"]:
            headers[key] = rewrite_url(location_header, prefix, backend_host, request_host)
        return ProxyResponse(answer.status, headers, answer.body)
    content_type = (header(headers, "Content-Type") or "").split(";")[0].strip()
    body_text = answer.body
    if content_type == "text/html" and not header(headers, "Content-Encoding"):
        body_text = rewrite_html(body_text, lambda value: rewrite_url(value, prefix, backend_host, request_host))
    return ProxyResponse(answer.status, headers, body_text)


def rewrite_url(target: str, prefix: str, backend_host: str, request_host: str) -> str:
    """The proxy Transport's ``rewriteURL``: a same-host absolute path gets the proxy's path in front."""
    parts = urlsplit(target)
    different_host = bool(parts.netloc) and parts.netloc not in (backend_host, request_host)
    if different_host or not parts.path.startswith("/"):
        return target
    if parts.path.startswith(prefix):
        return urlunsplit(("", "", parts.path, parts.query, parts.fragment))
    path = posixpath.join(prefix, parts.path.lstrip("/")) if prefix else parts.path
    path = posixpath.normpath(path)
    if parts.path.endswith("/") and not path.endswith("/"):
        path += "/"
    return urlunsplit(("", "", path, parts.query, parts.fragment))


class _TagFinder(HTMLParser):
    """Finds each start tag with a URL attribute: its line, column, text and attributes."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.tags: list[tuple[int, int, str, str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._found(tag, attrs, False)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._found(tag, attrs, True)

    def _found(self, tag: str, attrs: list[tuple[str, str | None]], closed: bool) -> None:
        if tag in URL_ATTRIBUTES:
            line, column = self.getpos()
            self.tags.append((line, column, self.get_starttag_text() or "", "/>" if closed else ">", attrs))


def rewrite_html(text: str, rewrite: Callable[[str], str]) -> str:
    """``rewriteHTML``: each URL attribute of the tags in ``URL_ATTRIBUTES`` through ``rewrite``; the rest as is."""
    finder = _TagFinder()
    finder.feed(text)
    finder.close()
    starts = [0]
    for line in text.splitlines(keepends=True):
        starts.append(starts[-1] + len(line))
    out, done = [], 0
    for line, column, raw, end, attrs in finder.tags:
        offset = starts[line - 1] + column
        if offset < done or text[offset:offset + len(raw)] != raw:
            continue
        tag = raw[1:].split(None, 1)[0].rstrip("/>").lower()
        names = URL_ATTRIBUTES.get(tag, ())
        changed = [(key, rewrite(value) if key in names and value is not None else value) for key, value in attrs]
        if changed == attrs:
            continue
        rendered = "".join(f" {key}" if value is None else f' {key}="{html.escape(value, quote=True)}"'
                           for key, value in changed)
        out.append(text[done:offset])
        out.append(f"<{tag}{rendered}{end}")
        done = offset + len(raw)
    out.append(text[done:])
    return "".join(out)


def proxy_request(resource: str, namespace: str, name: str, path: str = "/", *, method: str = "GET",
                  query: str = "", headers: dict[str, str] | None = None, body: str | None = None,
                  token: str | None = None) -> "Request":
    """The ``Request`` the HTTP front makes for ``{method} /api/v1/namespaces/{namespace}/{resource}/{name}/proxy{path}``
    (for in-process callers: ``apiserver.handle(proxy_request(...))`` answers a ``ProxyResponse``)."""
    from engine.apiserver.server import Request
    if method not in VERBS:
        raise errors.MethodNotAllowed("the server does not allow this method on the requested resource")
    incoming = f"/api/v1/namespaces/{namespace}/{resource}/{name}/proxy{path}"
    params = {"path": path, "method": method, "requestPath": incoming, "query": query, "headers": dict(headers or {})}
    return Request(VERBS[method], resource, namespace, name, "proxy", body, params, token)


DIAL_ERRORS = {"refused": "connect: connection refused", "timeout": "i/o timeout",
               "unreachable": "connect: no route to host"}


def dial_error(url: str, outcome: str) -> str:
    """Go's error for a failed request to ``url``: ``dial tcp 10.244.1.2:8443: connect: connection refused``
    (``outcome``: refused, timeout, unreachable), or ``EOF`` when the connection closed without an answer."""
    if outcome == "empty":
        return "EOF"
    return f"dial tcp {urlsplit(url).netloc}: {DIAL_ERRORS[outcome]}"


def register(server: "APIServer", transport: Transport) -> None:
    """Install ``services/proxy`` and ``pods/proxy`` on ``server`` (requests travel through ``transport``)."""
    server.register_proxy("services", ServiceProxy(server, transport))
    server.register_proxy("pods", PodProxy(server, transport))
