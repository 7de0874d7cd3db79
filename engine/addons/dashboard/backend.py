"""The Dashboard's backend (``src/app/backend``): the web page's files and the JSON API the page polls.

``Dashboard`` is the component the ``kubernetesui/dashboard`` binary runs (``program``), built like every
component from a ``ComponentContext``: its client is the pod's ServiceAccount connection to the API server, so
RBAC decides what it can show. ``handle(request)`` answers one HTTP request (a dict with ``method``, ``path``,
``headers``, ``client``) with ``{"status", "headers", "body"}``:

    GET /  /index.html  /app.js  /style.css              the page (``static/``), HTML, JavaScript, CSS
    GET /api/v1/settings/global                          the settings (the ``_global`` JSON of the ConfigMap
                                                         ``kubernetes-dashboard-settings`` over the defaults)
    GET /api/v1/namespace                                ``views.namespaces``
    GET /api/v1/{workloads|pod|service|event}[/{ns}]     ``views.workloads`` ... (no namespace: all of them)
    GET /api/v1/node                                     ``views.nodes``
    GET /api/v1/pod/{ns}/{name}/container                ``views.containers``
    GET /api/v1/log/{ns}/{pod}[/{container}]             ``views.logs``
    GET /api/v1/_raw/{kind}/namespace/{ns}/name/{name}   ``views.raw`` (``/api/v1/_raw/{kind}/name/{name}``
                                                         for a cluster-scoped kind)

An unknown path is 404 ``404 page not found``, a method other than GET or HEAD 405. An ``ApiError`` from the
API server (403 for what the ServiceAccount may not read, 404 for a name that is gone) is answered with its
code and ``Status``. Each API request is logged on stdout as the real backend logs it (``Incoming HTTP/1.1 GET
/api/v1/pod/default request from 10.244.0.0: `` and ``Outcoming response to 10.244.0.0 with 200 status code``).
What it never does: write to the cluster, or keep anything between requests.
"""

from __future__ import annotations

import datetime as _dt
import json
from pathlib import Path
from typing import Any, Callable
from urllib.parse import parse_qs, unquote, urlsplit

from engine.addons.dashboard import views
from engine.addons.dashboard.manifests import NAMESPACE, SETTINGS
from engine.api import errors
from engine.api.meta import EPOCH, timestamp

STATIC = Path(__file__).with_name("static")
FILES = {"/": "index.html", "/index.html": "index.html", "/app.js": "app.js", "/style.css": "style.css"}
CONTENT_TYPES = {".html": "text/html; charset=utf-8", ".js": "application/javascript",
                 ".css": "text/css; charset=utf-8"}
JSON = "application/json"
DEFAULT_SETTINGS = {"clusterName": "", "itemsPerPage": 10, "labelsLimit": 3, "logsAutoRefreshTimeInterval": 5,
                    "resourceAutoRefreshTimeInterval": 5, "disableAccessDeniedNotifications": False,
                    "defaultNamespace": "default", "namespaceFallbackList": ["default"]}
"""The backend's default global settings (``settings/api``), overridden by the ConfigMap's ``_global`` key."""
NOT_FOUND = "404 page not found\n"


def _answer(status: int, body: str, content_type: str = JSON) -> dict[str, Any]:
    return {"status": status, "headers": {"Content-Type": content_type}, "body": body}


def _json(status: int, obj: Any) -> dict[str, Any]:
    return _answer(status, json.dumps(obj), JSON)


class Dashboard:
    """The dashboard backend, reading the cluster through ``context.client``."""

    def __init__(self, context: Any) -> None:
        self.client = context.client
        self.loop = context.loop
        self.namespace = context.options.get("namespace") or NAMESPACE
        self.log: Callable[[str], None] = context.options.get("log") or (lambda _line: None)

    def start(self) -> None:
        from engine.apiserver.http.discovery import VERSION_INFO
        for line in ("Starting overwatch", f"Using namespace: {self.namespace}",
                     "Using in-cluster config to connect to apiserver", "Using secret token for csrf signing",
                     "Initializing csrf token from kubernetes-dashboard-csrf secret",
                     f"Successful initial request to the apiserver, version: {VERSION_INFO['gitVersion']}",
                     "Generating JWE encryption key", "Auto-generating certificates",
                     "Successfully created certificates", "Serving securely on HTTPS port: 8443"):
            self._print(line)

    def stop(self) -> None:
        """Nothing to stop: the backend keeps no watches, caches or timers."""

    def _print(self, line: str) -> None:
        """A line of Go's standard logger: ``2025/01/01 00:00:05 message``."""
        moment = EPOCH + _dt.timedelta(seconds=self.loop.now)
        self.log(f"{moment:%Y/%m/%d %H:%M:%S} {line}")

    # -- HTTP ---------------------------------------------------------------------
    def handle(self, request: dict[str, Any]) -> dict[str, Any]:
        """Answer one HTTP request (see the module docstring)."""
        method = str(request.get("method") or "GET").upper()
        parts = urlsplit(str(request.get("path") or "/"))
        if method not in ("GET", "HEAD"):
            return _answer(405, "405 method not allowed\n", "text/plain; charset=utf-8")
        if parts.path in FILES:
            name = FILES[parts.path]
            return _answer(200, (STATIC / name).read_text(), CONTENT_TYPES[Path(name).suffix])
        if not parts.path.startswith("/api/"):
            return _answer(404, NOT_FOUND, "text/plain; charset=utf-8")
        client = request.get("client", "")
        stamp = timestamp(self.loop.now)
        self._print(f"[{stamp}] Incoming HTTP/1.1 {method} {request.get('path')} request from {client}: ")
        answer = self._api(parts.path, parse_qs(parts.query))
        self._print(f"[{stamp}] Outcoming response to {client} with {answer['status']} status code")
        return answer

    def _api(self, path: str, query: dict[str, list[str]]) -> dict[str, Any]:
        segments = [unquote(part) for part in path.split("/") if part][2:]      # after /api/v1
        try:
            found = self._route(segments, query)
        except errors.ApiError as error:
            return _json(error.code, error.status)
        if found is None:
            return _answer(404, NOT_FOUND, "text/plain; charset=utf-8")
        return _json(200, found)

    def _route(self, segments: list[str], query: dict[str, list[str]]) -> Any:
        if not segments:
            return None
        head, rest = segments[0], segments[1:]
        if head == "settings" and rest == ["global"]:
            return self.settings()
        if head in ("namespace", "node") and not rest:
            return views.VIEWS[head](self.client)
        if head in ("workloads", "pod", "service", "event") and len(rest) <= 1:
            namespace = rest[0] if rest and rest[0] != "_all" else None
            return views.VIEWS[head](self.client, namespace)
        if head == "pod" and len(rest) == 3 and rest[2] == "container":
            return views.containers(self.client, rest[0], rest[1])
        if head == "log" and len(rest) in (2, 3):
            return views.logs(self.client, rest[0], rest[1], rest[2] if len(rest) == 3 else None)
        if head == "_raw" and len(rest) == 5 and rest[1] == "namespace" and rest[3] == "name":
            return views.raw(self.client, rest[0], rest[2], rest[4])
        if head == "_raw" and len(rest) == 3 and rest[1] == "name":
            return views.raw(self.client, rest[0], None, rest[2])
        return None

    def settings(self) -> dict[str, Any]:
        """The global settings: the defaults, then what the settings ConfigMap's ``_global`` says."""
        settings = dict(DEFAULT_SETTINGS)
        try:
            config = self.client.get("configmaps", SETTINGS, self.namespace)
        except errors.ApiError:
            return settings
        text = (config.get("data") or {}).get("_global")
        if text:
            try:
                settings.update(json.loads(text))
            except ValueError:
                pass
        return settings
