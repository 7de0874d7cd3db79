"""``kubectl exec`` over the HTTP front: the WebSocket channel protocol ``v5.channel.k8s.io``.

kubectl (1.30 and later) opens ``GET /api/v1/namespaces/NS/pods/NAME/exec
?command=...&container=...&stdout=true&stderr=true`` as a WebSocket
(RFC 6455) offering the subprotocol ``v5.channel.k8s.io``; kube-apiserver
answers it through its stream translator. Every message is binary and starts
with its channel: 0 stdin, 1 stdout, 2 stderr, 3 error (one ``Status`` as
JSON when the command ends: ``Success``, or ``Failure`` with reason
``NonZeroExitCode`` and the exit code as a cause, which kubectl turns into its
own exit code), 4 resize, and in v5 255 to close a channel. ``v4.channel.k8s.io``
is the same without the close channel and is served too.

Here, per request:

1. the API server handles ``create pods/exec`` (authentication, RBAC,
   ``ExecLocation``) on the loop; its refusals (403, 404, 400) are ordinary
   HTTP answers before any upgrade, as kubectl reads them
   (``Error from server (Forbidden)``: kubectl falls back to SPDY on an
   upgrade failure, and gets the same answer again);
2. only non-interactive commands are served: ``stdin`` or ``tty`` is a 400;
   a request that is not a WebSocket upgrade (plain, or SPDY/3.1 from an old
   kubectl) is a 400 that says so, before the command runs;
3. the connection switches protocols (101), the command runs on the loop
   (``ExecSession.run``: the kubelet's ``ExecSync``), its stdout and stderr go
   out on their channels, the ``Status`` on channel 3 (a kubelet refusal is an
   ``InternalError`` Status there), and the server closes with 1000, answering
   pings until the client's close comes back.

The command runs whole on virtual time before any byte is sent: there is no
interleaving of output with wall time, and nothing here touches engine state
off the loop.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import socket
import struct
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from engine.api import errors
from engine.apiserver.pod_connect import ExecResult, ExecSession
from engine.apiserver.server import Request

if TYPE_CHECKING:
    from engine.apiserver.http.server import HTTPFront, _Handler
    from engine.apiserver.http.routes import Route

logger = logging.getLogger(__name__)

WEBSOCKET_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
PROTOCOLS = ("v5.channel.k8s.io", "v4.channel.k8s.io")
"""The channel protocols served, in the order kube-apiserver prefers them."""
STDOUT, STDERR, ERROR = 1, 2, 3
OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x1, 0x2, 0x8, 0x9, 0xA
NORMAL_CLOSURE = 1000
CLOSE_WAIT = 5.0
"""Wall seconds the server waits for the client's answer to its close."""
_TRUE = ("true", "1")


def accept_key(key: str) -> str:
    """``Sec-WebSocket-Accept`` for a client's ``Sec-WebSocket-Key`` (RFC 6455 section 4.2.2)."""
    return base64.b64encode(hashlib.sha1((key + WEBSOCKET_GUID).encode()).digest()).decode()


def frame(opcode: int, payload: bytes) -> bytes:
    """One unmasked, final frame, as a server sends it."""
    head = bytes([0x80 | opcode])
    size = len(payload)
    if size < 126:
        head += bytes([size])
    elif size < 1 << 16:
        head += bytes([126]) + struct.pack("!H", size)
    else:
        head += bytes([127]) + struct.pack("!Q", size)
    return head + payload


def read_frame(rfile: Any) -> tuple[int, bytes] | None:
    """The next frame from the client (which masks them): its opcode and payload; None at end of stream."""
    head = rfile.read(2)
    if len(head) < 2:
        return None
    opcode, size = head[0] & 0x0F, head[1] & 0x7F
    if size == 126:
        size = struct.unpack("!H", rfile.read(2))[0]
    elif size == 127:
        size = struct.unpack("!Q", rfile.read(8))[0]
    mask = rfile.read(4) if head[1] & 0x80 else b""
    payload = rfile.read(size)
    if mask:
        payload = bytes(byte ^ mask[i % 4] for i, byte in enumerate(payload))
    return opcode, payload


def negotiate(offered: str) -> str | None:
    """The first protocol kube-apiserver serves among those the client offers."""
    wanted = [p.strip() for p in offered.split(",") if p.strip()]
    return next((p for p in PROTOCOLS if p in wanted), None)


def exec_params(query: str) -> dict[str, Any]:
    """The exec query: ``command`` once per word, ``container``, and the stream flags."""
    raw = parse_qs(query, keep_blank_values=True)
    params: dict[str, Any] = {"command": raw.get("command", [])}
    if raw.get("container"):
        params["container"] = raw["container"][-1]
    for flag in ("stdin", "stdout", "stderr", "tty"):
        params[flag] = (raw.get(flag) or [""])[-1].lower() in _TRUE
    return params


def _run(session: ExecSession) -> ExecResult | errors.ApiError:
    """On the loop: the kubelet runs the command; its refusal is returned, to be written on the error channel."""
    try:
        return session.run()
    except errors.ApiError as error:
        return error


def serve(handler: "_Handler", front: "HTTPFront", route: "Route", query: str, token: str | None) -> None:
    """Serve one ``pods/exec`` request (any method) on this connection."""
    assert route.kind is not None
    params = exec_params(query)
    request = Request("create", route.kind.plural, route.namespace, route.name, "exec", None, params, token,
                      route.kind.group, None)
    session = front.call(front.apiserver.handle, request)
    if params["stdin"] or params["tty"]:
        raise errors.bad_request("this engine runs exec commands whole, without stdin or a terminal: use "
                                 "kubectl exec POD -- COMMAND (no -i, no -t)")
    upgrade = (handler.headers.get("Upgrade") or "").strip().lower()
    if upgrade != "websocket":
        if upgrade.startswith("spdy"):
            raise errors.bad_request("SPDY/3.1 streams are not served by this engine: kubectl 1.30 and later "
                                     "use WebSockets (v5.channel.k8s.io) by default")
        raise errors.bad_request("Upgrade request required")
    protocol = negotiate(handler.headers.get("Sec-WebSocket-Protocol") or "")
    key = handler.headers.get("Sec-WebSocket-Key")
    if protocol is None or not key:
        raise errors.bad_request(f"websocket upgrade needs a Sec-WebSocket-Key and one of the subprotocols "
                                 f"{', '.join(PROTOCOLS)}")
    outcome = front.call(_run, session)
    handler.send_response_only(101, "Switching Protocols")
    handler.send_header("Upgrade", "websocket")
    handler.send_header("Connection", "Upgrade")
    handler.send_header("Sec-WebSocket-Accept", accept_key(key))
    handler.send_header("Sec-WebSocket-Protocol", protocol)
    handler.end_headers()
    handler.close_connection = True
    out = handler.wfile
    if isinstance(outcome, ExecResult):
        if params["stdout"] and outcome.stdout:
            out.write(frame(OP_BINARY, bytes([STDOUT]) + outcome.stdout.encode()))
        if params["stderr"] and outcome.stderr:
            out.write(frame(OP_BINARY, bytes([STDERR]) + outcome.stderr.encode()))
        status = outcome.status
    else:
        status = outcome.status
    out.write(frame(OP_BINARY, bytes([ERROR]) + json.dumps(status, separators=(",", ":")).encode()))
    out.write(frame(OP_CLOSE, struct.pack("!H", NORMAL_CLOSURE)))
    out.flush()
    _await_close(handler)


def _await_close(handler: "_Handler") -> None:
    """Answer pings and drop data until the client's close frame comes back (or it hangs up)."""
    try:
        handler.connection.settimeout(CLOSE_WAIT)
        while True:
            received = read_frame(handler.rfile)
            if received is None or received[0] == OP_CLOSE:
                return
            if received[0] == OP_PING:
                handler.wfile.write(frame(OP_PONG, received[1]))
                handler.wfile.flush()
    except (OSError, socket.timeout, struct.error):
        logger.debug("exec stream: the client did not close cleanly", exc_info=True)
