"""The HTTP front of kube-apiserver: the Kubernetes REST API over HTTP/1.1 on loopback.

This is what lets the real ``kubectl`` and the official ``kubernetes`` Python
client talk to an engine cluster. ``HTTPFront`` is a ``ThreadingHTTPServer``
from the standard library (no web framework) listening on 127.0.0.1; each
connection has its own thread, but no thread ever touches engine state: every
request is handed to the simulation loop through the real-time driver
(``driver.call(server.handle, request)``), so the engine core stays
single-threaded and the order of requests is the order the loop ran them in.

Per request, in order:

1. a body larger than 3 MiB is refused with 413 before it is read;
2. the path and query become a ``Request`` (``routes``), or a non-resource
   document: ``/version``, discovery (``discovery``), OpenAPI (``openapi``),
   ``/healthz``; non-resource paths are authenticated and authorized too
   (``system:discovery`` and ``system:public-info-viewer`` grant them);
3. the body is decoded by Content-Type (JSON or YAML; the four PATCH types; protobuf
   for the kinds ``protobuf`` reads), 400 for a malformed body, 415 for a type the
   verb does not take;
4. the API server handles it on the loop (``execute``); the answer is JSON, or
   a Table when the Accept header asks for one (``table``), or text for
   ``pods/log``; watches and ``pods/log?follow=true`` stream instead (``watch``),
   and ``pods/exec`` switches to the WebSocket channel protocol (``remotecommand``); ``services/proxy`` and
   ``pods/proxy`` pass the backend's answer through with its own content type (``proxy``);
5. a failure is the ``Status`` of the ``ApiError``, with its code.

Over plain HTTP a request without credentials is served as ``insecure_token``'s
user when one is given (see ``serve``: kubectl sends no credentials over HTTP).
Nothing here writes to stdout or stderr: the standard library's request log
and error printing go to ``logging``.
"""

from __future__ import annotations

import json
import logging
import socket
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable
from urllib.parse import urlsplit

import yaml

from engine.api import conversion, errors
from engine.api.kinds import Kind
from engine.apiserver.http import discovery, execute, openapi, protobuf, proxy, remotecommand, reviews, routes, \
    table, watch
from engine.apiserver.fieldvalidation import prune_unknown
from engine.apiserver.impersonation import impersonation_token
from engine.apiserver.server import APIServer, Request
from engine.sim.realtime import RealtimeDriver

logger = logging.getLogger(__name__)

MAX_REQUEST_BODY_BYTES = 3 * 1024 * 1024
"""kube-apiserver's limit on a request body (``--max-request-bytes``-like, 3 MiB for resources)."""
DISCARD_LIMIT = 16 * 1024 * 1024
"""Bytes of a too-large body read and dropped before the 413; beyond that the connection is just closed."""
STREAMS_GRACE = 3.0
"""Wall seconds ``stop`` waits for open watch streams to notice and end."""
HANDSHAKE_TIMEOUT = 10.0
"""Wall seconds a TLS client has to finish its handshake."""
JSON = "application/json"
APPLY_PATCH = execute.APPLY_PATCH
PATCH_TYPES = ("application/json-patch+json", "application/merge-patch+json",
               "application/strategic-merge-patch+json", APPLY_PATCH)
BODY_TYPES = ("application/json", "application/yaml")
"""What create and update bodies may be, plus protobuf for the kinds ``protobuf`` reads (the real server also
takes protobuf for every built-in kind, and CBOR; kubectl sends neither for them)."""
REVIEW_PATHS = ("/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
                "/apis/authorization.k8s.io/v1/selfsubjectrulesreviews",
                "/apis/authentication.k8s.io/v1/selfsubjectreviews")
HEALTH_PATHS = ("/healthz", "/livez", "/readyz")


class HTTPFront:
    """The HTTP server of one API server; every request runs on the loop through ``driver``."""

    def __init__(self, apiserver: APIServer, driver: RealtimeDriver, *, host: str = "127.0.0.1", port: int = 0,
                 ssl_context: ssl.SSLContext | None = None,
                 client_cert_user: Callable[[dict], tuple[str, tuple[str, ...]] | None] | None = None,
                 insecure_token: str | None = None) -> None:
        self.apiserver = apiserver
        self.driver = driver
        self.registry = apiserver.registry
        self.scheme = "https" if ssl_context else "http"
        self.client_cert_user = client_cert_user
        self.certificate_tokens: dict[tuple[str, tuple[str, ...]], str] = {}
        self.insecure_token = insecure_token if ssl_context is None else None
        self.impersonation_tokens: dict[tuple[str, tuple[str, ...]], str] = {}
        """Plain HTTP only: the identity of requests without credentials (the old insecure port)."""
        self.httpd = _Server((host, port), _Handler)
        self.httpd.front = self
        self.httpd.ssl_context = ssl_context
        self.host, self.port = self.httpd.server_address[:2]
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._documents: dict[tuple[str, int], dict | None] = {}
        self._streams = 0
        self._streams_done = threading.Condition()
        self._documents_lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.host}:{self.port}"

    def start(self) -> None:
        """Serve in a background thread (idempotent)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.1},
                                            name=f"engine-http-{self.port}", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """Stop accepting, end the open watch streams (their watchers stop on the loop), close the socket."""
        self._stopping.set()
        if self._thread is not None:
            self.httpd.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        with self._streams_done:
            self._streams_done.wait_for(lambda: self._streams == 0, timeout=STREAMS_GRACE)
        self.httpd.server_close()

    def stream_started(self) -> None:
        with self._streams_done:
            self._streams += 1

    def stream_ended(self) -> None:
        with self._streams_done:
            self._streams -= 1
            self._streams_done.notify_all()

    def document(self, path: str, build: Callable[[], dict | None]) -> dict | None:
        """An OpenAPI document, built once per path while the registry keeps its kinds (they are large)."""
        key = (path, len(self.registry.kinds))
        with self._documents_lock:
            if key not in self._documents:
                self._documents[key] = build()
            return self._documents[key]

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    def call(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Run ``fn(*args)`` on the loop thread and return its result (or raise its error)."""
        return self.driver.call(fn, *args)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    front: HTTPFront
    ssl_context: ssl.SSLContext | None = None

    def finish_request(self, request: Any, client_address: Any) -> None:
        """TLS handshakes happen in the connection's own thread, so a silent client never blocks accept()."""
        if self.ssl_context is not None:
            request.settimeout(HANDSHAKE_TIMEOUT)
            try:
                request = self.ssl_context.wrap_socket(request, server_side=True)
            except (ssl.SSLError, OSError):
                logger.debug("TLS handshake with %s failed", client_address, exc_info=True)
                return
            request.settimeout(None)
            try:
                super().finish_request(request, client_address)
            finally:
                self.shutdown_request(request)       # the wrapped socket; the plain one is only a husk now
            return
        super().finish_request(request, client_address)

    def handle_error(self, request: Any, client_address: Any) -> None:
        logger.debug("error while serving %s", client_address, exc_info=True)


def _media_type(header: str | None) -> str:
    return (header or "").split(";")[0].strip().lower()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server
    server_version = "engine-apiserver"

    # -- plumbing ---------------------------------------------------------------
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the standard library's name
        logger.debug("%s - %s", self.address_string(), format % args)

    @property
    def front(self) -> HTTPFront:
        return self.server.front

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def do_PUT(self) -> None:
        self._serve("PUT")

    def do_PATCH(self) -> None:
        self._serve("PATCH")

    def do_DELETE(self) -> None:
        self._serve("DELETE")

    def do_HEAD(self) -> None:
        self._serve("HEAD")

    def do_OPTIONS(self) -> None:
        self._serve("OPTIONS")

    def _send(self, code: int, body: bytes, content_type: str = JSON, *, close: bool = False,
              warnings: list[str] = ()) -> None:
        self.send_response(code)
        for warning in warnings:      # RFC 7234 warn-code 299, as the real API server sends them
            self.send_header("Warning", '299 - "%s"' % warning.replace("\\", "\\\\").replace('"', '\\"'))
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-cache, private")
        if close:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _send_json(self, code: int, obj: Any, content_type: str = JSON, *, close: bool = False,
                   warnings: list[str] = ()) -> None:
        self._send(code, json.dumps(obj, separators=(",", ":")).encode() + b"\n", content_type, close=close,
                   warnings=warnings)

    def _send_error(self, error: errors.ApiError, *, close: bool = False) -> None:
        self._send_json(error.code, error.status, close=close)

    @property
    def _token(self) -> str | None:
        parts = (self.headers.get("Authorization") or "").strip().split(" ", 2)
        return parts[1] if len(parts) >= 2 and parts[0].lower() == "bearer" else None

    def _identity(self) -> Any:
        """The request's credentials: its bearer token, or a client certificate's identity (TLS).

        With ``Impersonate-User`` (``kubectl --as``), the identity it names, if RBAC lets the requester
        impersonate it (``engine.apiserver.impersonation``).
        """
        token = self._token
        if token is None and self.front.client_cert_user is not None:
            getpeercert = getattr(self.connection, "getpeercert", None)
            cert = getpeercert() if getpeercert else None
            if cert:
                identity = self.front.client_cert_user(cert)
                if identity is not None:
                    user, groups = identity
                    return self.front.call(execute.token_for_certificate, self.front.apiserver,
                                           self.front.certificate_tokens, user, groups)
        if token is None and self.front.insecure_token is not None:
            token = self.front.insecure_token
        impersonated = self.headers.get("Impersonate-User")
        if impersonated:
            groups = tuple(self.headers.get_all("Impersonate-Group") or ())
            return self.front.call(impersonation_token, self.front.apiserver, self.front.impersonation_tokens,
                                   token, impersonated, groups)
        return token

    # -- dispatch ---------------------------------------------------------------
    def _serve(self, method: str) -> None:
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            self._send_error(errors.bad_request("invalid Content-Length"), close=True)
            return
        if length > MAX_REQUEST_BODY_BYTES:
            self._discard(length)
            self._send_error(errors.ApiError(f"Request entity too large: limit is {MAX_REQUEST_BODY_BYTES}",
                                             reason="RequestEntityTooLarge", code=413), close=True)
            return
        raw = self.rfile.read(length) if length else b""
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            raw = self._read_chunked()
            if raw is None:
                return
        split = urlsplit(self.path)
        try:
            token = self._identity()
            self._dispatch(method, split.path, split.query, raw, token)
        except errors.ApiError as error:
            self._send_error(error)
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError, socket.timeout):
            self.close_connection = True
        except Exception as error:  # the server keeps serving; the client reads a 500 Status
            logger.exception("internal error serving %s %s", method, self.path)
            self._send_error(errors.ApiError(f"Internal error occurred: {error}"))

    def _discard(self, length: int) -> None:
        """Read (a bounded part of) a refused body, so the client sees the 413 rather than a reset."""
        remaining = min(length, DISCARD_LIMIT)
        while remaining > 0:
            data = self.rfile.read(min(remaining, 65536))
            if not data:
                return
            remaining -= len(data)

    def _read_chunked(self) -> bytes | None:
        body = bytearray()
        while True:
            size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                self.rfile.readline()
                return bytes(body)
            body += self.rfile.read(size)
            self.rfile.readline()
            if len(body) > MAX_REQUEST_BODY_BYTES:
                self._send_error(errors.ApiError(f"Request entity too large: limit is {MAX_REQUEST_BODY_BYTES}",
                                                 reason="RequestEntityTooLarge", code=413), close=True)
                return None

    def _dispatch(self, method: str, path: str, query: str, raw: bytes, token: str | None) -> None:
        if method == "POST" and path.rstrip("/") in REVIEW_PATHS:
            body = self._decode(raw, BODY_TYPES)
            apiserver = self.front.apiserver
            review = path.rstrip("/")
            if review == REVIEW_PATHS[0]:
                result = self.front.call(reviews.self_subject_access_review, apiserver, token, body)
            elif review == REVIEW_PATHS[1]:
                result = self.front.call(reviews.self_subject_rules_review, apiserver, token, body)
            else:
                result = self.front.call(reviews.self_subject_review, apiserver, token)
            self._send_json(201, result)
            return
        route = routes.parse(method, path, query, self.front.registry)
        if route.subresource == "proxy":
            proxy.serve(self, self.front, route, raw, token)
            return
        if not route.resource_request:
            self._non_resource(route, token)
            return
        if route.verb == "watch":
            self._watch(route, token)
            return
        if route.subresource == "exec" and route.kind is not None and route.kind.plural == "pods":
            remotecommand.serve(self, self.front, route, query, token)
            return
        request = self._request(route, raw, token)
        want_table = table.wants_table(self.headers.get("Accept") or "") and route.verb in ("get", "list") \
            and not route.subresource
        code, result = self.front.call(execute.execute, self.front.apiserver, request, want_table,
                                       route.params.get("includeObject"), route.served)
        if isinstance(result, (str, bytes)):
            self._send(code, result.encode() if isinstance(result, str) else result, "text/plain",
                       warnings=request.warnings)
        elif hasattr(result, "read") and hasattr(result, "done"):
            watch.follow(self, self.front, result)
        else:
            if route.served is not None:
                result = conversion.from_storage(route.served, result)
            self._send_json(code, result, warnings=request.warnings)

    # -- bodies -----------------------------------------------------------------
    def _decode(self, raw: bytes, accepted: tuple[str, ...], kind: Kind | None = None) -> Any:
        if not raw:
            return None
        media = _media_type(self.headers.get("Content-Type")) or "application/json"
        if media not in accepted:
            raise errors.ApiError("the body of the request was in an unknown format - accepted media types "
                                  "include: " + ", ".join(accepted), reason="UnsupportedMediaType", code=415)
        if media == protobuf.MEDIA_TYPE and kind is not None:
            return protobuf.decode(raw, kind)
        text = raw.decode("utf-8", errors="replace")
        if media in ("application/yaml", APPLY_PATCH):
            try:
                return yaml.safe_load(text)
            except yaml.YAMLError as error:
                raise errors.bad_request(f"error converting YAML to JSON: {error}") from None
        try:
            return json.loads(text)
        except json.JSONDecodeError as error:
            raise errors.bad_request(f"couldn't get version/kind; json parse error: {error.msg} at offset "
                                     f"{error.pos}") from None

    def _request(self, route: routes.Route, raw: bytes, token: str | None) -> Request:
        body: Any = None
        patch_type: str | None = None
        if route.verb == "patch":
            patch_type = _media_type(self.headers.get("Content-Type"))
            if patch_type not in PATCH_TYPES:
                raise errors.ApiError("the body of the request was in an unknown format - accepted media types "
                                      "include: " + ", ".join(PATCH_TYPES), reason="UnsupportedMediaType", code=415)
            body = self._decode(raw, PATCH_TYPES)
            if body is None:
                raise errors.bad_request("the body of the request was empty")
        elif route.verb in ("create", "update"):
            proto_kind = route.kind if route.kind is not None and not route.subresource \
                and protobuf.accepts(route.kind) else None
            body = self._decode(raw, BODY_TYPES + (protobuf.MEDIA_TYPE,) if proto_kind else BODY_TYPES, proto_kind)
            if body is None:
                raise errors.bad_request("the body of the request was empty")
        elif route.verb in ("delete", "deletecollection") and raw:
            body = self._decode(raw, BODY_TYPES)
        kind = route.kind
        assert kind is not None
        warnings: list[str] = []
        if route.served is not None and body is not None and route.verb != "patch":   # a patch applies at its version
            if route.verb in ("create", "update") and isinstance(body, dict) and not route.subresource:
                warnings = prune_unknown(route.served.kind, route.verb, route.params, body)   # decoded at its version
            body = conversion.to_storage(route.served, body)
        return Request(route.verb, kind.plural, route.namespace, route.name, route.subresource, body,
                       dict(route.params), token, kind.group, patch_type, warnings=warnings)

    # -- non-resource documents -------------------------------------------------------
    def _non_resource(self, route: routes.Route, token: str | None) -> None:
        self.front.call(execute.authorize_path, self.front.apiserver, token, route.path)
        path, registry = route.path, self.front.registry
        accept = self.headers.get("Accept") or ""
        parts = [part for part in path.split("/") if part]
        if path in HEALTH_PATHS:
            self._send(200, b"ok", "text/plain; charset=utf-8")
        elif path == "/version":
            self._send_json(200, discovery.VERSION_INFO)
        elif parts and parts[0] in ("api", "apis") and len(parts) == 1:
            aggregated = discovery.wants_aggregated(accept)
            if aggregated:
                self._send_json(200, discovery.aggregated(registry, parts[0] == "api", aggregated), aggregated)
            elif parts[0] == "api":
                self._send_json(200, discovery.api_versions(f"{self.front.host}:{self.front.port}"))
            else:
                self._send_json(200, discovery.api_group_list(registry))
        elif parts[:1] == ["api"] and len(parts) == 2:
            self._send_document(discovery.api_resource_list(registry, "", parts[1]))
        elif parts[:1] == ["apis"] and len(parts) == 2:
            self._send_document(discovery.api_group(registry, parts[1]))
        elif parts[:1] == ["apis"] and len(parts) == 3:
            self._send_document(discovery.api_resource_list(registry, parts[1], parts[2]))
        elif parts == ["openapi", "v2"]:
            if "json" not in accept and "*/*" not in accept and accept:
                raise errors.ApiError("only application/json is served", reason="NotAcceptable", code=406)
            self._send_document(self.front.document(path, lambda: openapi.v2_document(registry)))
        elif parts == ["openapi", "v3"]:
            self._send_document(self.front.document(path, lambda: openapi.v3_index(registry)))
        elif parts[:2] == ["openapi", "v3"]:
            rest = "/".join(parts[2:])
            self._send_document(self.front.document(path, lambda: openapi.v3_document(registry, rest)))
        else:
            raise errors.NotFound(routes.NOT_FOUND)

    def _send_document(self, document: dict | None) -> None:
        if document is None:
            raise errors.NotFound(routes.NOT_FOUND)
        self._send_json(200, document)

    # -- watch --------------------------------------------------------------------
    def _watch(self, route: routes.Route, token: str | None) -> None:
        request = self._request(route, b"", token)
        assert route.kind is not None
        watch.stream(self, self.front, request, route.kind, as_table=table.wants_table(self.headers.get("Accept") or ""),
                     include_object=route.params.get("includeObject"), timeout=route.params.get("timeoutSeconds"),
                     convert=(lambda obj: conversion.from_storage(route.served, obj)) if route.served else None)
