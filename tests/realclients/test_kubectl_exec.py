"""The real ``kubectl exec`` against the HTTP front: a WebSocket with ``v5.channel.k8s.io``, through the kubelet.

kubectl 1.30 and later open exec as a WebSocket; the output, kubectl's exit code (the command's), and its
error messages are checked as kubectl prints them, over plain HTTP and over TLS for an RBAC-limited user.
"""

from __future__ import annotations

import base64
import json
import os
import pathlib
import socket
import struct

import pytest

from engine.apiserver.http.remotecommand import accept_key, frame, read_frame
from engine.apiserver.http.serve import ServeHandle
from engine.cluster import Cluster
from kubectl_tool import Kubectl

PODS = [
    {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "shell"}, "spec": {"containers": [
        {"name": "sh", "image": "busybox:1.28", "command": ["sh", "-c", "echo ready > /tmp/state; sleep 3600"]}]}},
    {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "two"}, "spec": {"containers": [
        {"name": "a", "image": "busybox:1.28", "command": ["sleep", "3600"]},
        {"name": "b", "image": "nosuch/image:1"}]}},
]


@pytest.fixture(scope="module")
def cluster() -> Cluster:
    """The pods run before the cluster is served, on virtual time."""
    c = Cluster(nodes=1, seed=0)
    c.apply(PODS)
    c.run(20)
    return c


def test_exec_prints_the_commands_output(kubectl: Kubectl) -> None:
    result = kubectl("exec", "shell", "--", "cat", "/etc/hostname")
    assert (result.stdout, result.stderr) == ("shell\n", "")
    assert kubectl("exec", "shell", "-c", "sh", "--", "cat", "/tmp/state").stdout == "ready\n"


def test_kubectl_exits_with_the_commands_exit_code(kubectl: Kubectl) -> None:
    result = kubectl("exec", "shell", "--", "sh", "-c", "echo partial; exit 3", check=False)
    assert result.returncode == 3
    assert (result.stdout, result.stderr) == ("partial\n", "command terminated with exit code 3\n")


def test_several_containers_default_to_the_first(kubectl: Kubectl) -> None:
    result = kubectl("exec", "two", "--", "echo", "hi")
    assert (result.stdout, result.stderr) == ("hi\n", 'Defaulted container "a" out of: a, b\n')


@pytest.mark.parametrize("args, printed", [
    pytest.param(["two", "-c", "b"], 'error: Internal error occurred: unable to upgrade connection: container not '
                                     'found ("b")', id="a container that is not running, through the stream"),
    pytest.param(["shell", "-c", "nope"], "Error from server (BadRequest): container nope is not valid for pod shell",
                 id="an unknown container, before the upgrade"),
    pytest.param(["ghost"], 'Error from server (NotFound): pods "ghost" not found', id="a missing pod"),
])
def test_refusals_print_as_with_a_real_api_server(kubectl: Kubectl, args: list[str], printed: str) -> None:
    result = kubectl("exec", *args, "--", "ls", check=False)
    assert result.returncode == 1
    assert result.stderr.strip() == printed


@pytest.fixture(scope="module")
def viewer(served_tls: ServeHandle, cluster: Cluster) -> pathlib.Path:
    """A user who may read pods but not exec into them."""
    cluster.apply([
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
         "metadata": {"name": "pod-viewer", "namespace": "default"},
         "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list"]}]},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
         "metadata": {"name": "view-pods", "namespace": "default"},
         "subjects": [{"kind": "User", "name": "viewer", "apiGroup": "rbac.authorization.k8s.io"}],
         "roleRef": {"kind": "Role", "name": "pod-viewer", "apiGroup": "rbac.authorization.k8s.io"}},
    ])
    return served_tls.kubeconfig_for("viewer")


def test_exec_needs_create_on_pods_exec(kubectl: Kubectl, viewer: pathlib.Path) -> None:
    result = kubectl("exec", "shell", "--", "true", kubeconfig=viewer, check=False)
    assert result.returncode == 1
    assert result.stderr.strip() == ('Error from server (Forbidden): pods "shell" is forbidden: User "viewer" cannot '
                                     'create resource "pods/exec" in API group "" in the namespace "default"')
    assert kubectl("auth", "can-i", "create", "pods/exec", kubeconfig=viewer, check=False).stdout.strip() == "no"


def _handshake(served: ServeHandle, query: str, protocols: str) -> tuple[socket.socket, bytes, str]:
    host, port = served.url.split("://", 1)[1].split(":")
    sock = socket.create_connection((host, int(port)), timeout=10)
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall((f"GET /api/v1/namespaces/default/pods/shell/exec?{query} HTTP/1.1\r\nHost: {host}\r\n"
                  f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                  f"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: {protocols}\r\n\r\n").encode())
    head = b""
    while b"\r\n\r\n" not in head:
        head += sock.recv(1)
    return sock, head, accept_key(key)


def test_the_channels_carry_stdout_stderr_and_the_exit_status(served: ServeHandle) -> None:
    sock, head, accept = _handshake(served, "command=sh&command=-c&command=echo%20out%3B%20exit%205&stdout=true"
                                            "&stderr=true", "v5.channel.k8s.io, v4.channel.k8s.io")
    assert head.startswith(b"HTTP/1.1 101 ") and b"Sec-WebSocket-Protocol: v5.channel.k8s.io" in head
    assert f"Sec-WebSocket-Accept: {accept}".encode() in head
    reader = sock.makefile("rb")
    messages = []
    while (received := read_frame(reader)) is not None and received[0] != 0x8:
        messages.append((received[1][0], received[1][1:]))
    assert received is not None and struct.unpack("!H", received[1][:2])[0] == 1000
    sock.sendall(_masked_close())
    sock.close()
    assert messages[0] == (1, b"out\n")
    channel, status = messages[-1]
    assert channel == 3 and json.loads(status) == {
        "metadata": {}, "status": "Failure", "reason": "NonZeroExitCode",
        "message": "command terminated with non-zero exit code: error executing command [sh -c echo out; exit 5], "
                   "exit code 5",
        "details": {"causes": [{"reason": "ExitCode", "message": "5"}]}}


def test_a_protocol_not_served_is_refused_before_the_command_runs(served: ServeHandle, kubectl: Kubectl) -> None:
    sock, head, _ = _handshake(served, "command=touch&command=/tmp/ran&stdout=true", "v1.channel.k8s.io")
    sock.close()
    assert head.startswith(b"HTTP/1.1 400 ")
    assert kubectl("exec", "shell", "--", "ls", "/tmp").stdout == "state\n"


def _masked_close() -> bytes:
    unmasked = frame(0x8, struct.pack("!H", 1000))
    return bytes([unmasked[0], unmasked[1] | 0x80]) + b"\0\0\0\0" + unmasked[2:]
