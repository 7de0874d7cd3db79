"""The internet side of a cloud load balancer: a request from outside, through the cloud address.

``curl_from_internet(cluster, "http://198.51.100.10/")`` is what a user's
browser does with a LoadBalancer Service's ``status.loadBalancer.ingress``
address: the cloud's load balancer takes the connection, picks a healthy
target node (``SimCloud.forward``) and hands the packet to it still
addressed to the load balancer's IP and port (``ipMode: VIP``, as GCE's
passthrough network load balancers and MetalLB do). On the node,
kube-proxy's rule for that ingress IP (``-d 198.51.100.10/32 ... -j
KUBE-EXT-...`` in KUBE-SERVICES, through ``KUBE-FW-`` with
``loadBalancerSourceRanges``) DNATs it to an endpoint, possibly on another
node; the answer comes back through conntrack. Without kube-proxy's rule the
node has no route for the address and the client times out, as it would.

It is a passthrough load balancer: the packet keeps the client's own address
(``client``, by default 203.0.113.7 of TEST-NET-3, a ``Host`` named
``internet-<address>`` in the fabric), and reaches the chosen target by a
host route ``<ingress IP>/32 via <node address>`` (the load balancer's
choice). So with ``externalTrafficPolicy: Local`` (no SNAT on the node) the
pod sees the client's address; the node answers through its default route,
the VPC's gateway, which routes it back to the client. The load balancer's
own interface in the VPC subnet (its ``private_ip``, 172.18.255.x, a
``Host`` named ``elb-<name>``) is where its health checks come from.

``probe(cluster, lb, address, port, path, rng)`` is the load balancer's health
check through the same network (``SimCloud.health_probe``, set by
``engine.cloud.install``): from the load balancer's interface, an HTTP GET
of ``path`` (kube-proxy's health check node port for a Service with
``externalTrafficPolicy: Local``) that passes on 200, or a TCP connect to
the node port. Without a network in the cluster every probe passes.
Needs a network add-on (``Cluster(network=...)``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from random import Random

    from engine.cluster import Cluster
    from engine.network.curl import CurlResult
    from engine.cloud.provider import LoadBalancer
    from engine.network.host import Host


INTERNET_CLIENT = "203.0.113.7"
"""The default client out on the internet (TEST-NET-3)."""
PROBE_SEED = 10256
"""The health checker's own source ports come from a generator of its own, so probing draws nothing from the
cluster's seeded randomness."""


def curl_from_internet(cluster: "Cluster", url: str, client: str = INTERNET_CLIENT) -> "CurlResult":
    """``curl URL`` from ``client`` outside the cloud to a load balancer's address; the result has every hop."""
    from engine.network.curl import CurlResult, curl
    fabric = getattr(cluster, "fabric", None)
    if fabric is None or cluster.cloud is None:
        raise RuntimeError("needs a cluster on a cloud with a network add-on: "
                           "Cluster(cloud='sim', network='flannel')")
    parts = urlsplit(url if "://" in url else f"http://{url}")
    address, port = parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80)
    lb = next((lb for lb in cluster.cloud.describe_load_balancers() if lb.address == address), None)
    target = cluster.cloud.forward(address, port)
    if lb is None or target is None:
        return CurlResult(url, error=f"curl: (28) Failed to connect to {address} port {port} after 130000 ms: "
                                     "Connection timed out", exit_code=28)
    host = _client_host(fabric, client)
    _route_to(host, address, target[0])
    return curl(fabric, host, url, files={}, random=cluster.loop.random)


def probe(cluster: "Cluster", lb: "LoadBalancer", address: str, port: int, path: str, rng: "Random") -> bool:
    """One health check of ``address:port`` from the load balancer's interface: HTTP 200 on ``path``, or a
    TCP connect when there is no path."""
    from engine.network.curl import curl
    from engine.network.packet import Packet, Trace
    fabric = getattr(cluster, "fabric", None)
    if fabric is None:
        return True
    host = _interface(fabric, lb.name, lb.private_ip)
    if path:
        result = curl(fabric, host, f"http://{address}:{port}{path}", files={}, random=rng,
                      headers={"User-Agent": "ELB-HealthChecker/2.0"})
        return result.status == 200
    packet = Packet(host.address, address, rng.randint(32768, 60999), int(port), "TCP")
    return fabric.exchange(packet, host, Trace(), lambda listener, p: listener).outcome == "answered"


def _interface(fabric, name: str, private_ip: str) -> "Host":
    from engine.network.host import Host
    host_name = f"elb-{name}"
    host = fabric.hosts.get(host_name)
    if host is None:
        host = fabric.add_host(Host(host_name, private_ip))
    return host


def _client_host(fabric, client: str) -> "Host":
    """The client out on the internet, and the VPC gateway's way back to it."""
    from engine.network.host import Host
    from engine.network.routing import Route
    name = f"internet-{client}"
    host = fabric.hosts.get(name)
    if host is None:
        host = fabric.add_host(Host(name, client))
    if fabric.gateway is not None and not any(r.dest == f"{client}/32" for r in fabric.gateway.routes.routes):
        fabric.gateway.routes.add(Route(f"{client}/32", "eth0", via=client, proto="static"))
    return host


def _route_to(host: "Host", address: str, node_address: str) -> None:
    from engine.network.routing import Route
    destination = f"{address}/32"
    host.routes.routes = [r for r in host.routes.routes if r.dest != destination]
    host.routes.add(Route(destination, "eth0", via=node_address, proto="static"))
