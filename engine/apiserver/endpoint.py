"""kube-apiserver's secure port on the host network: what a process reaches when it dials ``172.18.0.2:6443``.

kubeadm starts kube-apiserver as a static pod in the control-plane node's
network namespace (``hostNetwork: true``), listening on
``--secure-port=6443`` at ``--advertise-address``, the node's InternalIP.
Every client outside the API server's own process reaches it there, either
directly (kubeadm's kubeconfigs and kube-proxy's ``kubeconfig.conf`` say
``server: https://172.18.0.2:6443``) or through the ``kubernetes`` Service's
VIP ``10.96.0.1:443``, which kube-proxy DNATs to that address.

``APIServerEndpoint`` is the listener ``Cluster`` registers on the host
network at that address. A program that has dialled it opens a connection
with its credentials: ``endpoint.client(token)`` returns an
``engine.client.Client`` whose every request carries that bearer token
through the full pipeline (authentication, RBAC, admission, ...): the
endpoint itself grants nothing. What it never does: authenticate at dial
time (TLS and the bearer token are checked per request, as in Kubernetes).

``reconcile_kubernetes_endpoints`` is the API server's own endpoint
reconciler: the ``kubernetes`` Service's Endpoints and EndpointSlice list the
running API servers' addresses and secure port (kubeadm's kube-apiserver
process writes them as it starts and empties them as it stops).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine.api.errors import NotFound
from engine.client.client import Client

if TYPE_CHECKING:
    from engine.apiserver.server import APIServer

SECURE_PORT = 6443
"""kube-apiserver's --secure-port, kubeadm's default."""


class APIServerEndpoint:
    """The API server as a listening socket: connections open clients, requests are authenticated per call."""

    def __init__(self, apiserver: "APIServer", address: str, port: int = SECURE_PORT) -> None:
        self.apiserver = apiserver
        self.address = address
        self.port = port

    @property
    def url(self) -> str:
        return f"https://{self.address}:{self.port}"

    def client(self, token: str | None, *, name: str = "") -> Client:
        """A connection authenticating every request with the bearer ``token`` (None: anonymous)."""
        return Client(self.apiserver, token, name=name)

    def __repr__(self) -> str:
        return f"APIServerEndpoint({self.url})"


def kubernetes_endpoints(addresses: list[str], port: int = SECURE_PORT) -> list[dict]:
    """The ``default/kubernetes`` Endpoints and EndpointSlice listing the API servers (empty: none is up).

    kube-apiserver keeps them itself (the bootstrap controller's endpoint reconciler): the ``kubernetes``
    Service has no selector, so no controller would; kube-proxy turns them into the rules that send
    ``10.96.0.1:443`` to ``172.18.0.2:6443``.
    """
    ports = [{"name": "https", "port": port, "protocol": "TCP"}]
    endpoints = {"apiVersion": "v1", "kind": "Endpoints",
                 "metadata": {"name": "kubernetes", "namespace": "default",
                              "labels": {"endpointslice.kubernetes.io/skip-mirror": "true"}},
                 "subsets": [{"addresses": [{"ip": ip} for ip in addresses], "ports": ports}] if addresses else []}
    slice_ = {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice", "addressType": "IPv4",
              "metadata": {"name": "kubernetes", "namespace": "default",
                           "labels": {"kubernetes.io/service-name": "kubernetes"}},
              "endpoints": [{"addresses": [ip], "conditions": {"ready": True}} for ip in addresses],
              "ports": ports}
    return [endpoints, slice_]


def reconcile_kubernetes_endpoints(client: Client, addresses: list[str], port: int = SECURE_PORT) -> None:
    """Write ``kubernetes_endpoints`` through ``client`` (the API server's loopback client), creating or replacing."""
    for obj in kubernetes_endpoints(addresses, port):
        resource = client.kind(obj["kind"]).plural
        try:
            live = client.get(resource, "kubernetes", "default")
        except NotFound:
            client.create(obj)
            continue
        obj["metadata"]["resourceVersion"] = live["metadata"]["resourceVersion"]
        client.update(obj)
