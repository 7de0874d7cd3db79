"""Watch streams over HTTP: one JSON line per event, in chunked transfer encoding.

``?watch=true`` turns a GET into a long-lived response. The API server's watch
handler runs on the loop thread; here it only encodes each event (as a Table
row when the client asked for Tables, as ``kubectl get -w`` does) and puts the
line on a thread-safe queue. The connection's own thread drains the queue into
HTTP chunks. The stream ends, with the terminating zero-length chunk:

- after an ``ERROR`` event (a 410 Expired ``Status`` for a too-old
  resourceVersion), as the real server closes it;
- at ``timeoutSeconds`` (wall seconds), or after ``DEFAULT_WATCH_TIMEOUT``;
- when the client goes away or the front stops.

Either way the watcher is stopped on the loop, so the watch cache forgets it.

``follow`` streams ``pods/log?follow=true`` the same way: the kubelet's
``LogStream`` is read on the loop every ``FOLLOW_POLL`` wall seconds and each
new piece of text goes out as a chunk, until the container stops.
"""

from __future__ import annotations

import json
import logging
import queue
import time
from typing import TYPE_CHECKING, Any, Callable

from engine.api.kinds import Kind
from engine.apiserver.http import table
from engine.apiserver.server import Request

if TYPE_CHECKING:
    from http.server import BaseHTTPRequestHandler

    from engine.apiserver.http.server import HTTPFront

logger = logging.getLogger(__name__)

DEFAULT_WATCH_TIMEOUT = 1800.0
"""Wall seconds a watch lasts without ``timeoutSeconds`` (the real server's ``--min-request-timeout``)."""
FOLLOW_POLL = 0.1
"""How often (wall seconds) a followed log is read for new lines."""
QUEUE_POLL = 0.5
"""How often (wall seconds) an idle stream checks its deadline and whether the front is stopping."""


def stream(handler: "BaseHTTPRequestHandler", front: "HTTPFront", request: Request, kind: Kind, *,
           as_table: bool, include_object: str | None, timeout: Any,
           convert: Callable[[Any], Any] | None = None) -> None:
    """Serve one watch request on ``handler``'s connection until it ends (``convert``: to the version asked)."""
    events: queue.Queue[tuple[bytes, bool]] = queue.Queue()
    apiserver = front.apiserver

    def on_event(event: dict) -> None:  # runs on the loop thread
        obj = event["object"]
        if as_table and event["type"] in ("ADDED", "MODIFIED", "DELETED"):
            obj = table.table(kind, [obj], apiserver.loop.now, include_object=include_object,
                              metadata={"resourceVersion": obj["metadata"].get("resourceVersion", "")})
        elif convert is not None:
            obj = convert(obj)
        line = json.dumps({"type": event["type"], "object": obj}, separators=(",", ":")).encode() + b"\n"
        events.put((line, event["type"] == "ERROR"))

    watcher = front.call(apiserver.watch, request, on_event)
    front.stream_started()
    deadline = time.monotonic() + (float(timeout) if timeout else DEFAULT_WATCH_TIMEOUT)
    handler.send_response(200)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Transfer-Encoding", "chunked")
    handler.send_header("Cache-Control", "no-cache, private")
    handler.end_headers()
    handler.close_connection = True
    try:
        handler.wfile.flush()
        while not front.stopping:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            try:
                line, final = events.get(timeout=min(QUEUE_POLL, remaining))
            except queue.Empty:
                continue
            _chunk(handler, line)
            if final:
                break
        _chunk(handler, b"")
    except OSError:                       # the client went away (broken pipe, reset, TLS error)
        pass
    finally:
        try:
            front.call(watcher.stop)
        except Exception:                 # the loop may already be stopped with the cluster
            logger.debug("could not stop a watcher", exc_info=True)
        front.stream_ended()


def _chunk(handler: "BaseHTTPRequestHandler", data: bytes) -> None:
    handler.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
    handler.wfile.flush()


def follow(handler: "BaseHTTPRequestHandler", front: "HTTPFront", stream: Any) -> None:
    """Serve a followed container log: what is there, then each new piece, until the container stops."""
    front.stream_started()
    handler.send_response(200)
    handler.send_header("Content-Type", "text/plain")
    handler.send_header("Transfer-Encoding", "chunked")
    handler.send_header("Cache-Control", "no-cache, private")
    handler.end_headers()
    handler.close_connection = True
    deadline = time.monotonic() + DEFAULT_WATCH_TIMEOUT
    try:
        while not front.stopping and time.monotonic() < deadline:
            text, done = front.call(lambda: (stream.read(), stream.done))
            if text:
                _chunk(handler, text.encode())
            if done:
                break
            time.sleep(FOLLOW_POLL)
        _chunk(handler, b"")
    except OSError:                       # the client went away
        pass
    finally:
        front.stream_ended()
