"""The HTTP side of ``services/proxy`` and ``pods/proxy``: a request in, the backend's answer out, any content type.

``serve(handler, front, route, raw, token)`` turns the connect request ``routes`` parsed into a ``Request``
(method, the path after ``/proxy``, the raw query, the request headers and the body as text) and has the API
server handle it on the loop (``engine.apiserver.proxy``: authentication, RBAC on ``services/proxy``, the
location, the request through the pod network). The ``ProxyResponse`` is written back as it came: its status,
its headers (``Content-Type`` included: HTML, JavaScript, JSON, text) and its body; a HEAD gets the headers
alone. A failure is the usual ``Status`` JSON (403, 404, 503, ...), which the caller's ``_serve`` writes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from engine.apiserver.proxy import ProxyResponse
from engine.apiserver.server import Request

if TYPE_CHECKING:
    from engine.apiserver.http.routes import Route
    from engine.apiserver.http.server import HTTPFront


def serve(handler: Any, front: "HTTPFront", route: "Route", raw: bytes, token: str | None) -> None:
    """Proxy one request and write the backend's answer on ``handler`` (a BaseHTTPRequestHandler)."""
    kind = route.kind
    assert kind is not None
    params = dict(route.params)
    params["headers"] = {key: value for key, value in handler.headers.items()}
    body = raw.decode("utf-8", errors="replace") if raw else None
    request = Request(route.verb, kind.plural, route.namespace, route.name, "proxy", body, params, token,
                      kind.group)
    answer = front.call(front.apiserver.handle, request)
    if not isinstance(answer, ProxyResponse):
        raise TypeError(f"{kind.plural}/proxy answered {type(answer).__name__}, not a ProxyResponse")
    payload = answer.body.encode("utf-8")
    handler.send_response(answer.status)
    for name, value in answer.headers.items():
        handler.send_header(name, value)
    handler.send_header("Content-Length", str(len(payload)))
    handler.end_headers()
    if handler.command != "HEAD":
        handler.wfile.write(payload)
