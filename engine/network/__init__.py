"""The cluster network (``engine.network``): every node's kernel stack, CNI, and the add-ons that program them.

    packet.py      Packet, Hop, Trace: what travels and the record of its path
    routing.py     interfaces and routing tables (longest-prefix match)
    conntrack.py   connection tracking: NAT decided once per flow, undone on replies
    host.py        Host: one node's stack (netfilter hooks in order, IPVS, pods' namespaces)
    fabric.py      Fabric: the nodes' network between the hosts, and request/answer exchanges
    curl.py        curl and the programs' http / resolve / dial through the model
    cni.py         the CNI executor containerd runs from /etc/cni/net.d
    cni_plugins.py host-local, bridge, flannel, calico (and portmap's entry)
    portmap.py     the portmap plugin: hostPort DNAT chains from the runtime's port mappings
    flannel.py     flanneld: subnet.env and the VXLAN device's routes, neighbours and FDB
    calico.py      calico-node: routes to other nodes' pod CIDRs, and Felix's NetworkPolicy filter
    policy.py      the NetworkPolicy decision, a pure function
    manifests.py   the add-ons' manifests (DaemonSets, RBAC, ConfigMaps) for kubeadm's addon phase
    programs.py    the add-ons' images: the agents as ComponentPrograms, their install steps
    (netfilter.py and ipvs.py belong to kube-proxy's side: iptables and IPVS tables)

``attach(cluster)`` builds the ``Fabric`` of a booted cluster: one ``Host``
per node (with its iptables and IPVS tables), the
runtime's CNI executor and its programs' network calls. kubeadm's boot calls
it when a network add-on is chosen; without it the runtime keeps its bare
IPAM and nothing carries packets (``Cluster(network=None)``, as before).
"""

from __future__ import annotations

from typing import Any

from engine.network.cni import CNIExecutor
from engine.network.curl import CurlResult, PodNetworking, curl
from engine.network.fabric import Fabric
from engine.network.host import Host
from engine.network.manifests import manifests
from engine.network.packet import Hop, Packet, Trace

__all__ = ["CNIExecutor", "CurlResult", "Fabric", "Hop", "Host", "Packet", "Trace", "attach", "curl", "manifests",
           "register_images"]


def register_images(registry: Any) -> None:
    """Publish the flannel and calico images into ``registry`` (kubeadm's addon phase calls this)."""
    from engine.network.programs import register_images as register
    register(registry)


NODE_DIRECTORIES = ("/etc/cni/", "/etc/cni/net.d/", "/opt/cni/", "/opt/cni/bin/", "/run/flannel/")
NODE_PLUGINS = ("bridge", "host-local", "loopback", "portmap")


def _tables(loop: Any, host: Host) -> tuple[Any, Any]:
    """The node's iptables and IPVS tables (``addrtype LOCAL`` asks the host which addresses are its own)."""
    from engine.network.ipvs import IPVS
    from engine.network.netfilter import Netfilter
    return Netfilter(lambda: loop.now, loop.random, is_local=lambda address: address in host.local_addresses()), \
        IPVS(lambda: loop.now)


def attach(cluster: Any) -> Fabric:
    """Give each node of ``cluster`` a network stack and make containerd run CNI; returns the fabric."""
    fabric = Fabric(cluster.hostnet)
    for index, node in enumerate(cluster.node_names):
        runtime = cluster.runtimes[node]
        host = fabric.add_host(Host(node, f"172.18.0.{index + 2}", runtime))
        host.iptables, host.ipvs = _tables(cluster.loop, host)
        for directory in NODE_DIRECTORIES:
            runtime.host_fs.setdefault(directory, "")
        for plugin in NODE_PLUGINS:      # the containernetworking-plugins the node image ships
            runtime.host_fs.setdefault(f"/opt/cni/bin/{plugin}", f"#!ELF {plugin}\n")
        runtime.cni = CNIExecutor(host, runtime)
        runtime.network = PodNetworking(fabric, host)
        machine = getattr(cluster, "machines", {}).get(node)
        if machine is not None:
            machine.network_stack = host
    _gateway(fabric, cluster.hostnet)
    cluster.fabric = fabric
    return fabric


def _gateway(fabric: Fabric, hostnet: Any) -> None:
    """kind's docker network gateway, 172.18.0.1: Docker's embedded DNS resolver answers there on port 53,
    which is what the nodes' /etc/resolv.conf names and CoreDNS's ``forward . /etc/resolv.conf`` reaches."""
    from engine.dns.upstream import UPSTREAM, UPSTREAM_ADDRESS

    fabric.add_gateway(Host("gateway", UPSTREAM_ADDRESS))
    if hostnet is not None:
        hostnet.listen(UPSTREAM_ADDRESS, 53, UPSTREAM)
