"""fluent-bit's ``es`` output: a chunk's records as one Elasticsearch ``_bulk`` request.

``bulk_body(records, ...)`` formats the NDJSON body as ``out_es`` does with ``Logstash_Format On``: for each
record an action line ``{"create":{"_index":"logstash-YYYY.MM.DD"}}`` (the day of the record's own time:
``Logstash_Prefix`` and ``Logstash_DateFormat %Y.%m.%d``; ``Suppress_Type_Name On``, as Elasticsearch 8 needs)
and the record with ``@timestamp`` (``Time_Key``, ``2025-01-01T00:00:05.000Z``) first; ``Replace_Dots On``
turns dots in keys into underscores (a label ``app.kubernetes.io/name`` would otherwise become an object).

``EsOutput.flush(records)`` resolves ``Host`` (the pod's DNS: ``elasticsearch`` is the Service in the agent's
namespace), connects to ``Port`` through the pod's network (``dial``) and POSTs ``/_bulk``. The connection is
kept alive (``net.keepalive on``) and used again for the next flush, unless it has been idle for
``net.keepalive_idle_timeout`` (30 s) or the server at its far end is gone (its next write would meet a RST),
in which case the next flush resolves and connects again. It answers for
the chunk as fluent-bit's engine expects: ``OK`` when Elasticsearch took every record; ``RETRY`` when the name
does not resolve, the connection is refused or times out (the store is down), the status is not 200, or the
response says ``errors: true`` (the whole chunk is sent again, as out_es does); never ``ERROR``. What it never
does: buffer or wait (the engine's buffer and scheduler do).
"""

from __future__ import annotations

import datetime as _dt
import json
import logging
from typing import Any, Callable

from engine.addons.logging.buffer import OK, RETRY
from engine.addons.logging.mapping import format_millis, virtual_to_millis
from engine.sim.hostnet import ConnectionRefused

log = logging.getLogger(__name__)

UNIX = _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc)


def index_name(when: float, prefix: str = "logstash", date_format: str = "%Y.%m.%d") -> str:
    """``logstash-2025.01.01``: the daily index of a record's virtual time."""
    moment = UNIX + _dt.timedelta(milliseconds=virtual_to_millis(when))
    return f"{prefix}-{moment.strftime(date_format)}"


def _replace_dots(value: Any) -> Any:
    if isinstance(value, dict):
        return {key.replace(".", "_"): _replace_dots(item) for key, item in value.items()}
    return value


def bulk_body(records: list[tuple[float, dict]], *, prefix: str = "logstash", date_format: str = "%Y.%m.%d",
              time_key: str = "@timestamp", replace_dots: bool = True) -> str:
    """The ``_bulk`` NDJSON for these records."""
    lines = []
    for when, record in records:
        body = {time_key: format_millis(virtual_to_millis(when)), **record}
        if replace_dots:
            body = _replace_dots(body)
            body = {time_key: body.pop(time_key.replace(".", "_"), body.get(time_key)), **body}
        lines.append(json.dumps({"create": {"_index": index_name(when, prefix, date_format)}}))
        lines.append(json.dumps(body, separators=(",", ":")))
    return "\n".join(lines) + "\n"


class EsOutput:
    """``[OUTPUT] Name es``: ``flush(records) -> OK | RETRY``, and why the last flush failed."""

    def __init__(self, host: str, port: int, *, resolve: Callable[[str], list[str]] | None,
                 dial: Callable[[str, int], Any], now: Callable[[], float],
                 options: dict[str, str] | None = None) -> None:
        options = options or {}
        self.now = now
        self.idle_timeout = float(str(options.get("net.keepalive_idle_timeout", "30")).rstrip("s"))
        self._connection: Any = None
        self._last_used = 0.0
        self.host = host
        self.port = port
        self.resolve = resolve
        self.dial = dial
        self.prefix = options.get("logstash_prefix", "logstash")
        self.date_format = options.get("logstash_dateformat", "%Y.%m.%d")
        self.time_key = options.get("time_key", "@timestamp")
        self.replace_dots = options.get("replace_dots", "off").lower() in ("on", "true")
        self.last_error = ""
        self.requests = 0

    def _address(self) -> str | None:
        if self.resolve is None:
            return self.host
        addresses = self.resolve(self.host)
        return addresses[0] if addresses else None

    def _connect(self) -> Any:
        """The kept-alive connection, or a new one (None, with ``last_error`` set, when none can be made)."""
        server = self._connection
        alive = server is not None and getattr(server.ctx, "alive", False) and self.port in server.ctx.ports
        if alive and self.now() - self._last_used <= self.idle_timeout:
            return server
        self._connection = None
        address = self._address()
        if address is None:
            self.last_error = f"getaddrinfo(host='{self.host}', err=4): Domain name not found"
            return None
        try:
            self._connection = self.dial(address, self.port)
        except (ConnectionRefused, OSError):
            self.last_error = f"no upstream connections available to {self.host}:{self.port}"
        return self._connection

    def flush(self, records: list[tuple[float, dict]]) -> str:
        server = self._connect()
        if server is None:
            return RETRY
        self._last_used = self.now()
        handle = getattr(server, "handle_http", None)
        self.requests += 1
        body = bulk_body(records, prefix=self.prefix, date_format=self.date_format, time_key=self.time_key,
                         replace_dots=self.replace_dots)
        answer = handle({"method": "POST", "path": "/_bulk", "body": body,
                         "headers": {"Content-Type": "application/x-ndjson", "Host": f"{self.host}:{self.port}"}}) \
            if handle is not None else None
        if answer is None:
            self.last_error = f"no upstream connections available to {self.host}:{self.port}"
            return RETRY
        status = int(answer.get("status", 0))
        if status != 200:
            self.last_error = f"HTTP status={status} URI=/_bulk, response:\n{answer.get('body', '')}"
            return RETRY
        response = json.loads(answer.get("body") or "{}")
        if response.get("errors"):
            first = next((item for entry in response.get("items", []) for item in entry.values() if "error" in item),
                         {})
            self.last_error = f"error: Output\n{json.dumps(first.get('error'))}"
            return RETRY
        self.last_error = ""
        return OK
