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

The load balancer meets the cluster network through an interface of its own
in the VPC subnet (its ``private_ip``, 172.18.255.x), added to the fabric as
a ``Host`` named ``elb-<name>`` the first time traffic flows; it reaches its
chosen target by a host route ``<ingress IP>/32 via <node address>``. The
client's own address stays outside the model: the load balancer connects
from its VPC address, as a proxying load balancer does, so replies return to
it. Needs a network add-on (``Cluster(network=...)``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from engine.cluster import Cluster
    from engine.network.curl import CurlResult
    from engine.network.host import Host


def curl_from_internet(cluster: "Cluster", url: str) -> "CurlResult":
    """``curl URL`` from outside the cloud to a load balancer's address; the result has every hop."""
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
    host = _interface(fabric, lb.name, lb.private_ip)
    _route_to(host, address, target[0])
    return curl(fabric, host, url, files={}, random=cluster.loop.random)


def _interface(fabric, name: str, private_ip: str) -> "Host":
    from engine.network.host import Host
    host_name = f"elb-{name}"
    host = fabric.hosts.get(host_name)
    if host is None:
        host = fabric.add_host(Host(host_name, private_ip))
    return host


def _route_to(host: "Host", address: str, node_address: str) -> None:
    from engine.network.routing import Route
    destination = f"{address}/32"
    host.routes.routes = [r for r in host.routes.routes if r.dest != destination]
    host.routes.add(Route(destination, "eth0", via=node_address, proto="static"))
