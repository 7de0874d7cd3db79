"""A client of etcd's v3 JSON gateway: the calls ``etcdctl`` makes, over plain HTTP on loopback.

etcd serves its gRPC API a second time as JSON (grpc-gateway): ``POST /v3/kv/range`` with a JSON body is
the ``Range`` RPC. Keys and values travel base64-encoded, 64-bit integers as strings, and fields equal to
their default (0, false, empty) are left out of responses. etcd 3.4 answers under ``/v3/`` (and the older
``/v3beta/``). This module speaks that dialect and nothing else:

    EtcdClient(endpoint, timeout)          one keep-alive HTTP connection, for one thread at a time
      .call(path, body) -> dict            one unary RPC; errors raise the matching StoreError
    WatchStream(endpoint, request)         one streaming Watch RPC; ``read()`` yields its responses
    encode_key(str) / decode_kv(dict)      the base64 and string-integer conversions
    status(endpoint) -> MemberStatus       the Maintenance/Status RPC: leader, raft term and index

Errors: the gateway answers a failed RPC with an HTTP error status and ``{"error", "code"}``; the message
(``etcdserver: requested lease not found``, ``mvcc: required revision has been compacted``...) picks the
``StoreError`` subclass. A server that does not answer within ``timeout`` raises ``EtcdUnavailable``.

Why HTTP/1.1 and one request per watch: a Go HTTP/1.1 server reads the whole request body before it
answers, so a watch stream carries exactly one ``create_request``; closing the connection cancels it.
Nothing here starts threads or writes to stderr.
"""

from __future__ import annotations

import base64
import http.client
import json
import socket
from dataclasses import dataclass
from typing import Any, Iterator
from urllib.parse import urlsplit

from engine.store.types import CompactedError, FutureRevisionError, KeyValue, LeaseNotFoundError, StoreError


class EtcdUnavailable(StoreError):
    """The server did not answer in time, or refused the connection (down, or no quorum)."""


def encode_key(key: str) -> str:
    return base64.b64encode(key.encode()).decode()


def encode_value(value: bytes) -> str:
    return base64.b64encode(value).decode()


def decode_key(text: str | None) -> str:
    return base64.b64decode(text or "").decode(errors="surrogateescape")


def decode_kv(data: dict) -> KeyValue:
    """An ``mvccpb.KeyValue`` from its JSON (missing fields are zero)."""
    return KeyValue(decode_key(data.get("key")), base64.b64decode(data.get("value") or ""),
                    int(data.get("create_revision", 0)), int(data.get("mod_revision", 0)),
                    int(data.get("version", 0)), int(data.get("lease", 0)))


def header_revision(response: dict) -> int:
    return int(response.get("header", {}).get("revision", 0))


def _split(endpoint: str) -> tuple[str, int]:
    parts = urlsplit(endpoint if "//" in endpoint else f"http://{endpoint}")
    if parts.scheme not in ("http", "etcd"):
        raise ValueError(f"etcd endpoint {endpoint!r}: only plain http on loopback is supported")
    return parts.hostname or "127.0.0.1", parts.port or 2379


def error_from(message: str) -> StoreError:
    """The ``StoreError`` an etcd error message stands for."""
    if "requested lease not found" in message:
        return LeaseNotFoundError(0)
    if "required revision has been compacted" in message:
        return CompactedError(0, 0)
    if "required revision is a future revision" in message:
        return FutureRevisionError(0, 0)
    if "request timed out" in message or "leader changed" in message or "no leader" in message:
        return EtcdUnavailable(message)
    return StoreError(message)


class EtcdClient:
    """Unary RPCs to one etcd member over one keep-alive connection (reconnects when it drops)."""

    def __init__(self, endpoint: str, *, timeout: float = 10.0) -> None:
        self.endpoint = endpoint
        self.host, self.port = _split(endpoint)
        self.timeout = timeout
        self._connection: http.client.HTTPConnection | None = None

    def call(self, path: str, body: dict[str, Any]) -> dict:
        """POST ``body`` to ``/v3/<path>`` and return the decoded answer."""
        payload = json.dumps(body)
        for attempt in (0, 1):          # a kept-alive connection the server closed is retried once
            connection = self._connection
            if connection is None:
                connection = self._connection = http.client.HTTPConnection(self.host, self.port,
                                                                           timeout=self.timeout)
            try:
                connection.request("POST", f"/v3/{path}", payload, {"Content-Type": "application/json"})
                response = connection.getresponse()
                text = response.read()
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError) as error:
                self.close()
                if attempt:
                    raise EtcdUnavailable(f"{self.endpoint}: {error}") from error
                continue
            except (OSError, http.client.HTTPException) as error:   # refused, or timed out
                self.close()
                raise EtcdUnavailable(f"{self.endpoint}: {error or type(error).__name__}") from error
            data = json.loads(text) if text else {}
            if response.status != 200 or "error" in data:
                raise error_from(str(data.get("error") or data.get("message") or response.status))
            return data
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


class WatchStream:
    """One Watch RPC: ``request`` is a ``WatchCreateRequest``; ``read()`` yields each ``WatchResponse``.

    ``close()`` (from any thread) cancels the watch: the blocked ``read()`` then ends quietly, as it does
    after ``idle_timeout`` seconds without a message (None: wait forever).
    """

    def __init__(self, endpoint: str, request: dict[str, Any], *, timeout: float = 10.0,
                 idle_timeout: float | None = None) -> None:
        host, port = _split(endpoint)
        self._connection = http.client.HTTPConnection(host, port, timeout=timeout)
        self.closed = False
        try:
            self._connection.request("POST", "/v3/watch", json.dumps({"create_request": request}),
                                     {"Content-Type": "application/json"})
            self._response = self._connection.getresponse()
            if self._connection.sock is not None:
                self._connection.sock.settimeout(idle_timeout)   # by default a quiet watch is not a dead one
        except (OSError, http.client.HTTPException) as error:
            self._connection.close()
            raise EtcdUnavailable(f"{endpoint}: {error or type(error).__name__}") from error
        if self._response.status != 200:
            raise error_from(self._response.read().decode(errors="replace"))

    def read(self) -> Iterator[dict]:
        """The stream's responses, in order; ends when the server or ``close()`` ends the stream."""
        while not self.closed:
            try:
                line = self._response.readline()
            except (OSError, ValueError, AttributeError, http.client.HTTPException):
                return                  # closed under us: a cancelled or broken stream
            if not line:
                return
            message = json.loads(line)
            if "error" in message:
                raise error_from(str(message["error"].get("message", message["error"])))
            yield message.get("result", {})

    def close(self) -> None:
        self.closed = True
        sock = self._connection.sock
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self._connection.close()


@dataclass(frozen=True)
class MemberStatus:
    """One member's answer to Maintenance/Status (``etcdctl endpoint status``)."""

    endpoint: str
    member_id: int
    leader: int                  # the member id of the leader this member follows; 0 when it knows none
    raft_term: int
    raft_index: int
    revision: int
    db_size: int
    version: str

    @property
    def is_leader(self) -> bool:
        return self.leader != 0 and self.leader == self.member_id


def status(endpoint: str, *, timeout: float = 2.0) -> MemberStatus:
    """Ask one member for its status; raises ``EtcdUnavailable`` when it does not answer."""
    client = EtcdClient(endpoint, timeout=timeout)
    try:
        data = client.call("maintenance/status", {})
    finally:
        client.close()
    header = data.get("header", {})
    return MemberStatus(endpoint, int(header.get("member_id", 0)), int(data.get("leader", 0)),
                        int(data.get("raftTerm", data.get("raft_term", 0))),
                        int(data.get("raftIndex", data.get("raft_index", 0))), int(header.get("revision", 0)),
                        int(data.get("dbSize", data.get("db_size", 0))), str(data.get("version", "")))
