"""flanneld (``--kube-subnet-mgr``, VXLAN backend): one node's agent of the flannel overlay.

flannel runs as the DaemonSet ``kube-flannel-ds`` in ``kube-flannel``, one
pod per node on the host network. Each flanneld:

1. reads ``net-conf.json`` (``{"Network": "10.244.0.0/16", "Backend":
   {"Type": "vxlan"}}``, from the ConfigMap ``kube-flannel-cfg``) and waits
   until its Node has a ``spec.podCIDR`` (the node IPAM controller's);
2. creates the VXLAN device ``flannel.1`` (VNI 1, UDP 8472, MTU 1450: 1500
   minus the 50 bytes of outer headers) holding the subnet's network
   address, e.g. ``10.244.1.0/32``;
3. writes ``/run/flannel/subnet.env`` (``FLANNEL_NETWORK``,
   ``FLANNEL_SUBNET=10.244.1.1/24``, ``FLANNEL_MTU``, ``FLANNEL_IPMASQ``),
   which the ``flannel`` CNI plugin reads at every pod's ADD;
4. publishes its VTEP on its Node as annotations
   (``flannel.alpha.coreos.com/backend-data: {"VNI":1,"VtepMAC":"..."}``,
   ``backend-type: vxlan``, ``public-ip``, ``kube-subnet-manager: true``);
5. for every other Node with a podCIDR and a VTEP: a route
   ``10.244.2.0/24 via 10.244.2.0 dev flannel.1 onlink``, a neighbour entry
   ``10.244.2.0 lladdr <its VtepMAC> dev flannel.1`` and an FDB entry
   ``<its VtepMAC> dst 172.18.0.4 dev flannel.1``; removed when the Node goes.

The ``install-cni`` init container of the real DaemonSet copies
``cni-conf.json`` to ``/etc/cni/net.d/10-flannel.conflist``; the agent
does that copy as it starts (not in canal, where calico's CNI plugin makes the
pods' interfaces and flannel only carries them between nodes). It reads Nodes through an informer and writes
only its own Node's annotations, through the API server.
"""

from __future__ import annotations

import ipaddress
import json
import logging

from engine.components import ComponentContext
from engine.network.host import Host, mac_for
from engine.network.packet import VXLAN_PORT, VXLAN_VNI
from engine.network.routing import Interface, Route

log = logging.getLogger(__name__)

ANNOTATION = "flannel.alpha.coreos.com/"
DEVICE = "flannel.1"
VXLAN_MTU = 1450
DEFAULT_NET_CONF = {"Network": "10.244.0.0/16", "EnableNFTables": False, "Backend": {"Type": "vxlan"}}
NET_CONF_PATH = "/etc/kube-flannel/net-conf.json"
CNI_CONF = {"name": "cbr0", "cniVersion": "0.3.1", "plugins": [
    {"type": "flannel", "delegate": {"hairpinMode": True, "isDefaultGateway": True}},
    {"type": "portmap", "capabilities": {"portMappings": True}}]}
CNI_CONF_PATH = "/etc/cni/net.d/10-flannel.conflist"


def subnet_env(network: str, pod_cidr: str, mtu: int = VXLAN_MTU, ip_masq: bool = True) -> str:
    """The text of /run/flannel/subnet.env for a node whose subnet is ``pod_cidr``."""
    subnet = ipaddress.IPv4Network(pod_cidr)
    return (f"FLANNEL_NETWORK={network}\nFLANNEL_SUBNET={subnet.network_address + 1}/{subnet.prefixlen}\n"
            f"FLANNEL_MTU={mtu}\nFLANNEL_IPMASQ={'true' if ip_masq else 'false'}\n")


class FlannelAgent:
    """flanneld on one node; ``context.options["machine"]`` is the node (its stack and its files)."""

    name = "flanneld"

    def __init__(self, context: ComponentContext) -> None:
        self.context = context
        self.client = context.client
        self.node_name = context.node_name or ""
        machine = context.options["machine"]
        self.host: Host = machine.network_stack
        self.node_fs: dict[str, str] = machine.runtime.host_fs
        files = context.options.get("fs") or {}
        self.net_conf = json.loads(files[NET_CONF_PATH]) if NET_CONF_PATH in files else dict(DEFAULT_NET_CONF)
        self.network = self.net_conf["Network"]
        self.ip_masq = "--ip-masq" in (context.options.get("argv") or ["--ip-masq"])
        self.install_cni = bool(context.options.get("install_cni", True))
        """False in canal, where calico's install-cni writes the node's CNI configuration."""
        self.nodes = context.informers.informer("nodes")
        self.nodes.add_event_handler(on_add=self._changed, on_update=lambda old, new: self._changed(new),
                                     on_delete=self._deleted)
        self.peers: dict[str, str] = {}
        """Node name -> the pod CIDR routed to it through the overlay."""
        self.running = False
        self.vtep_mac = mac_for(self.host.name, DEVICE)

    def start(self) -> None:
        self.running = True
        if self.install_cni:
            self.node_fs[CNI_CONF_PATH] = json.dumps(CNI_CONF, indent=2)
        self.context.informers.start()

    def stop(self) -> None:
        self.running = False
        self.context.informers.stop()

    # -- events ------------------------------------------------------------------------
    def _changed(self, node: dict) -> None:
        """Level-triggered: any Node change re-reads this node and every peer from the cache."""
        if not self.running:
            return
        for cached in sorted(self.nodes.indexer.list(), key=lambda n: n["metadata"]["name"]):
            if cached["metadata"]["name"] == self.node_name:
                self._configure_self(cached)
        for cached in sorted(self.nodes.indexer.list(), key=lambda n: n["metadata"]["name"]):
            if cached["metadata"]["name"] != self.node_name:
                self._configure_peer(cached)

    def _deleted(self, node: dict) -> None:
        self._forget_peer(node["metadata"]["name"])

    def _configure_self(self, node: dict) -> None:
        pod_cidr = (node.get("spec") or {}).get("podCIDR")
        if not pod_cidr:
            return
        subnet = ipaddress.IPv4Network(pod_cidr)
        if DEVICE not in self.host.interfaces:
            self.host.add_interface(Interface(DEVICE, "vxlan", [f"{subnet.network_address}/32"], mac=self.vtep_mac,
                                              mtu=VXLAN_MTU, vxlan={"id": VXLAN_VNI, "local": self.host.address,
                                                                    "dstport": VXLAN_PORT}))
        self.node_fs["/run/flannel/subnet.env"] = subnet_env(self.network, pod_cidr, VXLAN_MTU, self.ip_masq)
        if self.ip_masq:
            self._masquerade(pod_cidr)
        wanted = {ANNOTATION + "backend-data": json.dumps({"VNI": VXLAN_VNI, "VtepMAC": self.vtep_mac},
                                                          separators=(",", ":")),
                  ANNOTATION + "backend-type": "vxlan", ANNOTATION + "kube-subnet-manager": "true",
                  ANNOTATION + "public-ip": self.host.address}
        current = node["metadata"].get("annotations") or {}
        if any(current.get(key) != value for key, value in wanted.items()):
            # real flanneld patches nodes/status; this API server keeps metadata out of status writes
            self.client.patch("nodes", self.node_name, {"metadata": {"annotations": wanted}})
            log.info("flanneld %s: lease acquired: %s", self.node_name, pod_cidr)

    def _masquerade(self, pod_cidr: str) -> None:
        """--ip-masq: flannel's FLANNEL-POSTRTG chain (its trafficmngr's masqRules, in their order).

        Pod-to-pod traffic inside the cluster network keeps its addresses; traffic from a pod to anywhere
        else (the node's resolver, the Internet) leaves SNATed to the node's address, so the answer can find
        its way back; kube-proxy's marked packets are left to kube-proxy's own MASQUERADE.
        """
        iptables = self.host.iptables
        if iptables is None:
            return
        comment = ["-m", "comment", "--comment", "flanneld masq"]
        cluster = self.network
        iptables.ensure_chain("nat", "FLANNEL-POSTRTG")
        iptables.ensure_rule("prepend", "nat", "POSTROUTING", [*comment, "-j", "FLANNEL-POSTRTG"])
        for args in (["-m", "mark", "--mark", "0x4000/0x4000", *comment, "-j", "RETURN"],
                     ["-s", pod_cidr, "-d", cluster, *comment, "-j", "RETURN"],
                     ["-s", cluster, "-d", pod_cidr, *comment, "-j", "RETURN"],
                     ["!", "-s", cluster, "-d", pod_cidr, *comment, "-j", "RETURN"],
                     ["-s", cluster, "!", "-d", "224.0.0.0/4", *comment, "-j", "MASQUERADE", "--random-fully"],
                     ["!", "-s", cluster, "-d", cluster, *comment, "-j", "MASQUERADE", "--random-fully"]):
            iptables.ensure_rule("append", "nat", "FLANNEL-POSTRTG", args)

    def _configure_peer(self, node: dict) -> None:
        name = node["metadata"]["name"]
        annotations = node["metadata"].get("annotations") or {}
        pod_cidr = (node.get("spec") or {}).get("podCIDR")
        data = annotations.get(ANNOTATION + "backend-data")
        public_ip = annotations.get(ANNOTATION + "public-ip")
        device = self.host.interfaces.get(DEVICE)
        if not pod_cidr or not data or not public_ip or device is None:
            return
        mac = json.loads(data)["VtepMAC"]
        gateway = str(ipaddress.IPv4Network(pod_cidr).network_address)
        if self.peers.get(name) not in (None, pod_cidr):
            self._forget_peer(name)
        self.host.neighbors[gateway] = (mac, DEVICE)
        device.fdb[mac] = public_ip
        self.host.routes.add(Route(pod_cidr, DEVICE, via=gateway, onlink=True, proto="boot"))
        self.peers[name] = pod_cidr

    def _forget_peer(self, name: str) -> None:
        pod_cidr = self.peers.pop(name, None)
        if pod_cidr is None:
            return
        gateway = str(ipaddress.IPv4Network(pod_cidr).network_address)
        mac = self.host.neighbors.pop(gateway, ("", ""))[0]
        device = self.host.interfaces.get(DEVICE)
        if device is not None:
            device.fdb.pop(mac, None)
        self.host.routes.delete(pod_cidr)

