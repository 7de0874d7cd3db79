"""Web servers: programs that listen on a port and answer ``handle_http(request) -> response``.

A request is ``{"method", "path", "port", "headers", "client"}``; a response is
``{"status", "headers", "body"}`` (and ``"elapsed"``, the seconds the server took to
answer, when that is not ~0: the client waits for it); ``None`` means nothing listens on
that port (connection refused). The networking layer (kube-proxy, CNI) will deliver
requests here; until then tests and labs call ``handle_http`` directly.

    nginx        port 80, serves ``/usr/share/nginx/html`` from the container's
                 filesystem (a mounted index.html wins), access log in nginx's
                 combined format, exits 0 on SIGTERM
    httpd        port 80, ``/usr/local/apache2/htdocs``, "It works!"
    hello-app    port 8080, "Hello, world!\\nVersion: 1.0.0\\nHostname: <pod>" (GKE's sample)
    http-echo    port 5678, answers ``-text`` (hashicorp/http-echo)
    agnhost      ``netexec``: port 8080, ``/hostname``, ``/healthz``, ``/echo?msg=``
    liveness     registry.k8s.io/liveness: ``/healthz`` is 200 for 10 s, then 500
"""

from __future__ import annotations

import datetime as _dt
from typing import Any
from urllib.parse import parse_qs, urlsplit

from engine.api.meta import EPOCH
from engine.runtime.programs.base import ProcessContext, Program

SIGQUIT = 3

NGINX_INDEX = """<!DOCTYPE html>
<html>
<head>
<title>Welcome to nginx!</title>
<style>
html { color-scheme: light dark; }
body { width: 35em; margin: 0 auto;
font-family: Tahoma, Verdana, Arial, sans-serif; }
</style>
</head>
<body>
<h1>Welcome to nginx!</h1>
<p>If you see this page, the nginx web server is successfully installed and
working. Further configuration is required.</p>

<p>For online documentation and support please refer to
<a href="http://nginx.org/">nginx.org</a>.<br/>
Commercial support is available at
<a href="http://nginx.com/">nginx.com</a>.</p>

<p><em>Thank you for using nginx.</em></p>
</body>
</html>
"""

NGINX_404 = """<html>
<head><title>404 Not Found</title></head>
<body>
<center><h1>404 Not Found</h1></center>
<hr><center>nginx/1.27.3</center>
</body>
</html>
"""


def response(status: int, body: str, content_type: str = "text/plain; charset=utf-8") -> dict[str, Any]:
    return {"status": status, "headers": {"Content-Type": content_type, "Content-Length": str(len(body))},
            "body": body}


def _clock(now: float) -> _dt.datetime:
    return EPOCH + _dt.timedelta(seconds=int(now))


class WebServer(Program):
    """A server on one port; subclasses implement ``respond``."""

    port = 80
    memory = 5_000_000

    def start(self, ctx: ProcessContext) -> None:
        super().start(ctx)
        self.started = ctx.now
        ctx.set_memory(self.memory)
        ctx.listen(self.port)
        self.banner()

    def banner(self) -> None:
        pass

    def handle_http(self, request: dict[str, Any]) -> dict[str, Any] | None:
        if not self.ctx.alive or int(request.get("port", self.port)) not in self.ctx.ports:
            return None
        answer = self.respond(request)
        self.access_log(request, answer)
        return answer

    def respond(self, request: dict[str, Any]) -> dict[str, Any]:
        raise NotImplementedError

    def access_log(self, request: dict[str, Any], answer: dict[str, Any]) -> None:
        pass


class Nginx(WebServer):
    root = "/usr/share/nginx/html"

    def banner(self) -> None:
        self.ctx.fs.setdefault(f"{self.root}/index.html", NGINX_INDEX)
        for line in (
            "/docker-entrypoint.sh: Configuration complete; ready for start up",
        ):
            self.ctx.stdout(line + "\n")
        stamp = _clock(self.ctx.now).strftime("%Y/%m/%d %H:%M:%S")
        self.ctx.stderr(f"{stamp} [notice] 1#1: nginx/1.27.3\n")
        self.ctx.stderr(f"{stamp} [notice] 1#1: start worker processes\n")

    def respond(self, request: dict[str, Any]) -> dict[str, Any]:
        path = urlsplit(request.get("path", "/")).path
        if path.endswith("/"):
            path += "index.html"
        content = self.ctx.fs.get(self.root + path)
        if content is None:
            return response(404, NGINX_404, "text/html")
        return response(200, content, "text/html")

    def access_log(self, request: dict[str, Any], answer: dict[str, Any]) -> None:
        stamp = _clock(self.ctx.now).strftime("%d/%b/%Y:%H:%M:%S +0000")
        agent = request.get("headers", {}).get("User-Agent", "curl/8.5.0")
        self.ctx.stdout(f'{request.get("client", "10.244.0.1")} - - [{stamp}] "{request.get("method", "GET")} '
                        f'{request.get("path", "/")} HTTP/1.1" {answer["status"]} {len(answer["body"])} "-" '
                        f'"{agent}" "-"\n')

    def on_signal(self, signal: int) -> None:
        """SIGQUIT (the image's STOPSIGNAL) is a graceful shutdown, SIGTERM a fast one; both exit 0."""
        stamp = _clock(self.ctx.now).strftime("%Y/%m/%d %H:%M:%S")
        if signal == SIGQUIT:
            self.ctx.stderr(f"{stamp} [notice] 1#1: signal 3 (SIGQUIT) received, shutting down\n")
        else:
            self.ctx.stderr(f"{stamp} [notice] 1#1: signal {signal} (SIGTERM) received, exiting\n")
        self.ctx.stderr(f"{stamp} [notice] 1#1: exit\n")
        self.ctx.exit(0)


class Httpd(WebServer):
    root = "/usr/local/apache2/htdocs"

    def banner(self) -> None:
        self.ctx.fs.setdefault(f"{self.root}/index.html", "<html><body><h1>It works!</h1></body></html>\n")
        self.ctx.stderr("AH00558: httpd: Could not reliably determine the server's fully qualified domain name\n")

    def respond(self, request: dict[str, Any]) -> dict[str, Any]:
        path = urlsplit(request.get("path", "/")).path
        content = self.ctx.fs.get(self.root + (path + "index.html" if path.endswith("/") else path))
        if content is None:
            return response(404, "<h1>Not Found</h1>\n", "text/html")
        return response(200, content, "text/html")

    def on_signal(self, signal: int) -> None:
        if signal == 28:
            self.ctx.stderr("[mpm_event:notice] AH00492: caught SIGWINCH, shutting down gracefully\n")
        else:
            self.ctx.stderr("[mpm_event:notice] AH00491: caught SIGTERM, shutting down\n")
        self.ctx.exit(0)


class HelloApp(WebServer):
    port = 8080
    version = "1.0.0"

    def banner(self) -> None:
        self.ctx.stdout(f"{_clock(self.ctx.now):%Y/%m/%d %H:%M:%S} Server listening on port {self.port}\n")

    def respond(self, request: dict[str, Any]) -> dict[str, Any]:
        return response(200, f"Hello, world!\nVersion: {self.version}\nHostname: {self.ctx.hostname}\n")


class HelloApp2(HelloApp):
    version = "2.0.0"


class HttpEcho(WebServer):
    port = 5678

    def start(self, ctx: ProcessContext) -> None:
        self.text = next((a.split("=", 1)[1] for a in ctx.argv if a.startswith("-text=")), "hello-world")
        for arg in ctx.argv:
            if arg.startswith("-listen=:"):
                self.port = int(arg.rsplit(":", 1)[1])
        super().start(ctx)

    def respond(self, request: dict[str, Any]) -> dict[str, Any]:
        return response(200, self.text + "\n")


class Agnhost(WebServer):
    port = 8080

    def start(self, ctx: ProcessContext) -> None:
        for arg in ctx.argv:
            if arg.startswith("--http-port="):
                self.port = int(arg.split("=", 1)[1])
        super().start(ctx)

    def respond(self, request: dict[str, Any]) -> dict[str, Any]:
        parts = urlsplit(request.get("path", "/"))
        if parts.path == "/hostname":
            return response(200, self.ctx.hostname)
        if parts.path == "/healthz":
            return response(200, "")
        if parts.path == "/echo":
            return response(200, parse_qs(parts.query).get("msg", [""])[0])
        return response(200, f"NOW: {_clock(self.ctx.now):%Y-%m-%d %H:%M:%S}.000000000 +0000 UTC m=+0.0")


class Liveness(WebServer):
    """registry.k8s.io/liveness: healthy for the first 10 seconds, then 500 forever."""

    port = 8080

    def respond(self, request: dict[str, Any]) -> dict[str, Any]:
        duration = self.ctx.now - self.started
        if urlsplit(request.get("path", "/")).path == "/healthz" and duration > 10:
            return response(500, f"error: {duration:g}")
        return response(200, "ok")
