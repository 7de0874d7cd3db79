"""calico-node: calico's per-node agent, routing without encapsulation and enforcing NetworkPolicy.

calico runs as the DaemonSet ``calico-node`` in ``kube-system``, one pod per
node on the host network, holding three programs this agent plays:

- **install-cni** (an init container) writes ``/etc/cni/net.d/10-calico.conflist``
  (network ``k8s-pod-network``, plugins ``calico`` + ``portmap``). The real
  conflist says ``"ipam": {"type": "host-local", "subnet": "usePodCidr"}`` and
  the calico plugin asks the API server for the node's podCIDR; here the
  node's podCIDR is written into the ranges directly once it is known.
- **BIRD** peers with every other node over BGP and learns the routes to
  their pod CIDRs. Here the routes are learned from the Node objects (their
  ``spec.podCIDR`` and ``InternalIP``), which is what the peers would
  announce: ``10.244.2.0/24 via 172.18.0.4 dev eth0 proto bird``, plus
  ``blackhole 10.244.1.0/24 proto bird`` for the node's own block. No
  overlay: a packet crosses the nodes' network with its pod addresses.
- **Felix** turns NetworkPolicies into the filter on each workload's
  interface (``cali-tw-<iface>`` for traffic *to* the pod, ``cali-fw-<iface>``
  *from* it; in the real Felix, iptables chains in FORWARD). It watches
  Pods, Namespaces and NetworkPolicies through informers and decides with
  ``engine.network.policy.decide``; packets of an established connection
  pass (``--ctstate RELATED,ESTABLISHED -j ACCEPT``), a denied first packet
  is dropped silently (``Drop if no policies passed packet``), so the client
  times out.

It also annotates its Node with ``projectcalico.org/IPv4Address``. It
writes nothing else through the API server.

**canal** is calico's policy on flannel's network: ``Canal`` runs this agent
with ``CALICO_NETWORKING_BACKEND=none`` (no BIRD routes; install-cni writes
``10-canal.conflist``, so pods still get ``cali*`` interfaces and Felix's
filter) beside a flanneld that carries the packets between nodes in VXLAN.
"""

from __future__ import annotations

import ipaddress
import json
import logging
from dataclasses import replace

from engine.components import ComponentContext
from engine.network.host import Host
from engine.network.packet import Packet
from engine.network.policy import decide
from engine.network.routing import Route

log = logging.getLogger(__name__)

CNI_CONF_PATH = "/etc/cni/net.d/10-calico.conflist"
CANAL_CNI_CONF_PATH = "/etc/cni/net.d/10-canal.conflist"
NETWORK_NAME = "k8s-pod-network"


def cni_conflist(node_name: str, pod_cidr: str) -> dict:
    """What install-cni writes (with the node's podCIDR in place of ``usePodCidr``)."""
    return {"name": NETWORK_NAME, "cniVersion": "0.3.1", "plugins": [
        {"type": "calico", "log_level": "info", "log_file_path": "/var/log/calico/cni/cni.log",
         "datastore_type": "kubernetes", "nodename": node_name, "mtu": 0,
         "ipam": {"type": "host-local", "ranges": [[{"subnet": pod_cidr}]]},
         "policy": {"type": "k8s"}, "kubernetes": {"kubeconfig": "/etc/cni/net.d/calico-kubeconfig"}},
        {"type": "portmap", "snat": True, "capabilities": {"portMappings": True}}]}


def internal_ip(node: dict) -> str | None:
    for address in (node.get("status") or {}).get("addresses") or ():
        if address.get("type") == "InternalIP":
            return address.get("address")
    return None


class CalicoNode:
    """calico-node on one node; ``context.options["machine"]`` is the node (its stack and its files)."""

    name = "calico-node"

    def __init__(self, context: ComponentContext) -> None:
        self.context = context
        self.client = context.client
        self.node_name = context.node_name or ""
        machine = context.options["machine"]
        self.host: Host = machine.network_stack
        self.node_fs: dict[str, str] = machine.runtime.host_fs
        informers = context.informers
        self.nodes = informers.informer("nodes")
        self.pods = informers.informer("pods")
        self.namespaces = informers.informer("namespaces")
        self.policies = informers.informer("networkpolicies")
        self.nodes.add_event_handler(on_add=self._routes, on_update=lambda old, new: self._routes(new),
                                     on_delete=self._routes)
        self.learned: dict[str, str] = {}
        """Pod CIDR -> the node address BIRD routes it to."""
        self.backend = context.options.get("backend", "bird")
        """``CALICO_NETWORKING_BACKEND``: ``bird`` routes between nodes; ``none`` (canal) leaves that to flannel."""
        self.cni_conf_path = CNI_CONF_PATH if self.backend == "bird" else CANAL_CNI_CONF_PATH
        self.decide = decide
        """Felix's policy decision (``engine.network.policy.decide``); a lab plugs the learner's in here."""
        self.running = False

    def start(self) -> None:
        self.running = True
        self.host.policy = self.filter
        self.context.informers.start()

    def stop(self) -> None:
        self.running = False
        if self.host.policy == self.filter:
            self.host.policy = None
        self.context.informers.stop()

    # -- install-cni and BIRD ---------------------------------------------------------
    def _routes(self, _node: dict) -> None:
        if not self.running:
            return
        wanted: dict[str, str] = {}
        for node in self.nodes.indexer.list():
            name, cidr, address = node["metadata"]["name"], (node.get("spec") or {}).get("podCIDR"), internal_ip(node)
            if not cidr:
                continue
            if name == self.node_name:
                self._own_block(node, cidr)
            elif address and self.backend == "bird":
                wanted[cidr] = address
        for cidr in sorted(set(self.learned) - set(wanted)):
            self.host.routes.delete(cidr)
            del self.learned[cidr]
        for cidr, address in sorted(wanted.items()):
            if self.learned.get(cidr) != address:
                self.host.routes.add(Route(cidr, "eth0", via=address, proto="bird"))
                self.learned[cidr] = address

    def _own_block(self, node: dict, cidr: str) -> None:
        if self.cni_conf_path not in self.node_fs:
            self.node_fs[self.cni_conf_path] = json.dumps(cni_conflist(self.node_name, cidr), indent=2)
        block = str(ipaddress.IPv4Network(cidr))
        if self.backend == "bird" and not any(r.dest == block and r.type == "blackhole" for r in self.host.routes.routes):
            self.host.routes.add(Route(block, "", proto="bird", type="blackhole"))     # again after a reboot
        wanted = f"{self.host.address}/16"
        if (node["metadata"].get("annotations") or {}).get("projectcalico.org/IPv4Address") != wanted:
            self.client.patch("nodes", self.node_name,
                              {"metadata": {"annotations": {"projectcalico.org/IPv4Address": wanted}}})

    # -- Felix ----------------------------------------------------------------------------
    def filter(self, packet: Packet, in_iface: str, out_iface: str, established: bool) -> tuple[bool, str]:
        """The workload filter: egress of a pod leaving by its cali* device, ingress of one reached by it."""
        if not (in_iface.startswith("cali") or out_iface.startswith("cali")):
            return True, ""
        if established:
            return True, "cali-FORWARD: -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT"
        passed = []
        if in_iface.startswith("cali"):
            allowed, rule = self._check("Egress", f"cali-fw-{in_iface}", packet.src, packet.dst, packet)
            if not allowed:
                return False, rule
            passed.append(rule)
        if out_iface.startswith("cali"):
            allowed, rule = self._check("Ingress", f"cali-tw-{out_iface}", packet.dst, packet.src, packet)
            if not allowed:
                return False, rule
            passed.append(rule)
        return True, "; ".join(passed)

    def _check(self, direction: str, chain: str, pod_ip: str, peer_ip: str, packet: Packet) -> tuple[bool, str]:
        pod = self._pod_at(pod_ip)
        if pod is None:
            return True, f"{chain}: no workload endpoint"
        decision = self.decide(self.policies.indexer.list(), self._namespaces(), direction, pod, peer_ip,
                          self._pod_at(peer_ip), packet.dport, packet.proto)
        if decision.allowed:
            return True, f"{chain}: {decision.reason}"
        return False, f"{chain}: Drop if no policies passed packet ({decision.reason})"

    def _pod_at(self, ip: str) -> dict | None:
        for pod in self.pods.indexer.list():
            spec, status = pod.get("spec") or {}, pod.get("status") or {}
            if status.get("podIP") == ip and not spec.get("hostNetwork") and \
                    status.get("phase") not in ("Succeeded", "Failed"):
                return pod
        return None

    def _namespaces(self) -> dict[str, dict]:
        return {ns["metadata"]["name"]: ns for ns in self.namespaces.indexer.list()}


class CalicoPolicyOnly(CalicoNode):
    """calico-node with ``CALICO_NETWORKING_BACKEND=none``: Felix's policy without BIRD (canal's calico half)."""

    def __init__(self, context: ComponentContext) -> None:
        super().__init__(replace(context, options={**context.options, "backend": "none"}))


class Canal:
    """The canal DaemonSet's pod: calico-node (policy only) and kube-flannel (the overlay) on one node."""

    name = "canal"

    def __init__(self, context: ComponentContext) -> None:
        from engine.network.flannel import FlannelAgent
        self.calico = CalicoPolicyOnly(context)
        self.flannel = FlannelAgent(replace(context, options={**context.options, "install_cni": False}))
        self.running = False

    def start(self) -> None:
        self.running = True
        self.calico.start()
        self.flannel.start()

    def stop(self) -> None:
        self.running = False
        self.flannel.stop()
        self.calico.stop()
