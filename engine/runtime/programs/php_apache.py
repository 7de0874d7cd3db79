"""``registry.k8s.io/hpa-example``: Apache with mod_php whose ``index.php`` burns CPU on every request.

The HorizontalPodAutoscaler walkthrough's image is ``php:5-apache`` plus this ``index.php``::

    <?php
      $x = 0.0001;
      for ($i = 0; $i <= 1000000; $i++) {
        $x += sqrt($x);
      }
      echo "OK!";
    ?>

``HpaExample`` listens on port 80 and answers ``OK!`` to ``/`` and ``/index.php`` (other paths: Apache's
404 page). Each request costs ``REQUEST_CPU_SECONDS`` of one core (a million iterations of PHP 5.6's
interpreter): while it runs the container wants one more core, and the answer takes that CPU time divided by
the share of a core the request gets (the container's CFS quota split between the requests in flight: under
the walkthrough's ``limits.cpu: 500m`` one request takes twice its CPU time). The response says so
(``"elapsed"``), so a client such as busybox ``wget`` waits that long: a load generator looping on wget
drives a steady CPU load that an HPA can spread over more replicas. Apache writes its start-up notices to
stderr and one access-log line per request to stdout (the image links its logs to the container's
streams), in the combined format; SIGTERM stops it with Apache's notice, exit 0 (SIGWINCH, the image's stop
signal, gracefully).
"""

from __future__ import annotations

import datetime as _dt
from typing import Any
from urllib.parse import urlsplit

from engine.api.meta import EPOCH
from engine.runtime.programs.base import ProcessContext
from engine.runtime.programs.webserver import WebServer, response

REQUEST_CPU_SECONDS = 0.1
"""CPU time of one request: ``index.php``'s million-iteration loop under PHP 5.6."""

SIGWINCH = 28
VERSION_LINE = "Apache/2.4.10 (Debian) PHP/5.6.40 configured -- resuming normal operations"

NOT_FOUND = ("<!DOCTYPE HTML PUBLIC \"-//IETF//DTD HTML 2.0//EN\">\n<html><head>\n<title>404 Not Found</title>\n"
             "</head><body>\n<h1>Not Found</h1>\n<p>The requested URL {path} was not found on this server.</p>\n"
             "<hr>\n<address>Apache/2.4.10 (Debian) Server at {host} Port 80</address>\n</body></html>\n")


def _stamp(now: float, style: str) -> str:
    moment = EPOCH + _dt.timedelta(seconds=now)
    if style == "error":
        return moment.strftime("%a %b %d %H:%M:%S.%f %Y")
    return moment.strftime("%d/%b/%Y:%H:%M:%S +0000")


class HpaExample(WebServer):
    """php-apache: every request to index.php computes for REQUEST_CPU_SECONDS of one core."""

    port = 80
    memory = 12_000_000

    def start(self, ctx: ProcessContext) -> None:
        self.in_flight = 0
        super().start(ctx)

    def _address(self) -> str:
        hosts = self.ctx.fs.get("/etc/hosts", "")
        for line in reversed(hosts.splitlines()):
            fields = line.split()
            if len(fields) > 1 and self.ctx.hostname in fields[1:]:
                return fields[0]
        return "127.0.1.1"

    def banner(self) -> None:
        notice = (f"AH00558: apache2: Could not reliably determine the server's fully qualified domain name, using "
                  f"{self._address()}. Set the 'ServerName' directive globally to suppress this message\n")
        self.ctx.stderr(notice)
        self.ctx.stderr(notice)
        stamp = _stamp(self.ctx.now, "error")
        self.ctx.stderr(f"[{stamp}] [mpm_prefork:notice] [pid 1] AH00163: {VERSION_LINE}\n")
        self.ctx.stderr(f"[{stamp}] [core:notice] [pid 1] AH00094: Command line: 'apache2 -D FOREGROUND'\n")

    def respond(self, request: dict[str, Any]) -> dict[str, Any]:
        path = urlsplit(request.get("path", "/")).path
        if path not in ("/", "/index.php"):
            host = (request.get("headers") or {}).get("Host", self._address())
            return response(404, NOT_FOUND.format(path=path, host=host), "text/html; charset=iso-8859-1")
        answer = response(200, "OK!", "text/html; charset=UTF-8")
        answer["headers"]["X-Powered-By"] = "PHP/5.6.40"
        answer["elapsed"] = self._compute(REQUEST_CPU_SECONDS)
        return answer

    def _compute(self, cpu_seconds: float) -> float:
        """Run one request's loop: one more core wanted until it is done; how long it takes."""
        self.in_flight += 1
        share = min(1.0, self.ctx.cgroup.cpu_limit_cores() / self.in_flight)
        elapsed = cpu_seconds / share
        self.ctx.set_cpu(float(self.in_flight))
        self.ctx.call_later(elapsed, self._done)
        return elapsed

    def _done(self) -> None:
        self.in_flight -= 1
        self.ctx.set_cpu(float(self.in_flight))

    def access_log(self, request: dict[str, Any], answer: dict[str, Any]) -> None:
        agent = (request.get("headers") or {}).get("User-Agent", "-")
        self.ctx.stdout(f'{request.get("client", "10.244.0.1")} - - [{_stamp(self.ctx.now, "access")}] '
                        f'"{request.get("method", "GET")} {request.get("path", "/")} HTTP/1.1" {answer["status"]} '
                        f'{len(answer["body"])} "-" "{agent}"\n')

    def on_signal(self, signal: int) -> None:
        stamp = _stamp(self.ctx.now, "error")
        if signal == SIGWINCH:
            self.ctx.stderr(f"[{stamp}] [mpm_prefork:notice] [pid 1] AH00170: caught SIGWINCH, shutting down "
                            f"gracefully\n")
        else:
            self.ctx.stderr(f"[{stamp}] [mpm_prefork:notice] [pid 1] AH00169: caught SIGTERM, shutting down\n")
        self.ctx.exit(0)
