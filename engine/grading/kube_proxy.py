"""Lab 8's plugs: a learner's kube-proxy rules on a node stand-in, and inside a live cluster's kube-proxy.

The learner writes what kube-proxy's iptables mode writes for one Service, from the Service and its
EndpointSlices: the ``nat`` table's lines (chain lines ``:KUBE-SVC-... - [0:0]`` and ``-A`` rules), as a
list of strings, from two functions:

- ``service_rules(service, slices)``: the cluster IP (``KUBE-SERVICES`` -> ``KUBE-SVC-`` -> ``KUBE-SEP-``);
- ``node_port_rules(service, slices)``: the NodePorts (``KUBE-NODEPORTS`` -> ``KUBE-EXT-`` -> ``KUBE-SVC-``).

``restore_input`` is kube-proxy's restore input for a sync with those lines in it: the engine writes
the ``filter`` table and the ``nat`` table's fixed chains and other Services; the learner's chain
lines join the nat table's chain lines, the learner's rules go before the final jump to
``KUBE-NODEPORTS``. ``NodeStandIn`` is one node's netfilter (kube-proxy's jump rules, then
``iptables-restore --noflush`` of that input); ``send`` walks packets through its nat PREROUTING and
counts where they went. ``LearnerRules`` is a proxier's rule writer (``Proxier(build=...)``): the
learner's functions write every Service but those of ``kube-system`` and ``default/kubernetes`` (so a
broken answer cannot take DNS or the API server away), from the Service and EndpointSlice objects in
kube-proxy's own informers; what the learner's code raised is recorded, never raised into kube-proxy.
``kube_proxy_cluster`` builds an image of kube-proxy with that rule writer (``LAB_IMAGE``) and rolls it
out to a flannel cluster's kube-proxy DaemonSet with ``kubectl set image``, as one ships a patched
kube-proxy. Nothing here prints or writes to stderr.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

from engine.api.frozen import thaw
from engine.grading.feedback import describe_exception
from engine.network.netfilter import Netfilter, RestoreError
from engine.network.packet import Packet
from engine.proxy.changetracker import EndpointsMap, ServicePortMap
from engine.proxy.endpoint import SERVICE_NAME_LABEL, endpoints_map
from engine.proxy.iptables.rules import (JUMP_CHAINS, RulesConfig, build_restore_input, endpoint_chain,
                                         service_chain)
from engine.proxy.manifests import IMAGE
from engine.proxy.program import IMAGE_SIZE, KubeProxyProgram
from engine.proxy.serviceport import service_ports

LAB_IMAGE = "course/kube-proxy:lab08"
"""The image of kube-proxy built with the learner's rule writer."""
NODE = "node-1"
NODE_IP = "172.18.0.3"
"""The node stand-in's address (node-1 of a kind cluster)."""
CLUSTER_CIDR = "10.244.0.0/16"
CLIENT_IP = "10.244.1.200"
"""A pod on the stand-in node that is no endpoint: where packets come from."""
OUTSIDE_IP = "172.18.0.4"
"""Another node: where NodePort packets come from."""
MASQ_MARK = 0x4000
CONFIG = RulesConfig(node_name=NODE, node_ip=NODE_IP, cluster_cidr=CLUSTER_CIDR)
NOT_DNATED = "not DNATed"

Rules = Callable[[dict, list], Any]


class LearnerError(Exception):
    """The learner's function raised or returned something that is not lines of text."""


class RulesRejected(Exception):
    """iptables-restore refused the input holding the learner's lines; ``line`` is the line it failed on."""

    def __init__(self, error: RestoreError, text: str) -> None:
        lines = text.splitlines()
        self.line = lines[error.line - 1] if 0 < error.line <= len(lines) else ""
        super().__init__(f"{error}\n   the line: {self.line}" if self.line else str(error))


# -- the learner's lines in kube-proxy's restore input ---------------------------------------------
def learner_lines(function: Rules, service: dict, slices: list[dict]) -> list[str]:
    """What ``function(service, slices)`` writes, as stripped lines (comments and blanks dropped)."""
    try:
        written = function(thaw(service), [thaw(s) for s in slices])
    except Exception as error:                  # the learner's exception is feedback, not a crash
        raise LearnerError(f"{getattr(function, '__name__', 'your function')} raised "
                           f"{describe_exception(error)}") from error
    if written is None:
        return []
    if isinstance(written, str):
        written = written.splitlines()
    if not isinstance(written, (list, tuple)) or not all(isinstance(line, str) for line in written):
        raise LearnerError(f"{getattr(function, '__name__', 'your function')} should return a list of strings "
                           f"(one rule or chain line each), not {type(written).__name__}")
    return [line.strip() for line in written if line.strip() and not line.strip().startswith("#")]


def _declared(lines: Iterable[str]) -> set[str]:
    return {line[1:].split()[0] for line in lines if line.startswith(":") and len(line) > 1}


def _block(text: str, table: str) -> list[str]:
    lines = text.splitlines()
    start = lines.index(f"*{table}")
    end = lines.index("COMMIT", start)
    return lines[start:end + 1]


def restore_input(services: ServicePortMap, endpoints: EndpointsMap, config: RulesConfig,
                  existing: set[str] | frozenset[str], lines: list[str], learner_services: set[Any]) -> str:
    """One sync's restore input: the engine's, with ``learner_services`` written by ``lines`` instead."""
    existing = set(existing) - _declared(lines)
    everything = build_restore_input(services, endpoints, config, existing)
    ours = {name: port for name, port in services.items() if name not in learner_services}
    engine_nat = _block(build_restore_input(ours, {n: e for n, e in endpoints.items() if n in ours}, config,
                                            existing), "nat")
    chain_end = next(i for i, line in enumerate(engine_nat) if i > 0 and not line.startswith(":"))
    last = next((i for i, line in enumerate(engine_nat)
                 if line.startswith("-A KUBE-SERVICES") and line.endswith("-j KUBE-NODEPORTS")), len(engine_nat) - 1)
    chains = [line for line in lines if line.startswith(":")]
    rules = [line for line in lines if not line.startswith(":")]
    nat = engine_nat[:chain_end] + chains + engine_nat[chain_end:last] + rules + engine_nat[last:]
    return "\n".join(_block(everything, "filter") + nat) + "\n"


def _jump_rules(netfilter: Netfilter) -> Netfilter:
    """What kube-proxy ensures before its first restore: its chains hooked into the built-in ones."""
    for table, destination, source, comment, extra in JUMP_CHAINS:
        netfilter.ensure_chain(table, destination)
        args = list(extra) + (["-m", "comment", "--comment", comment] if comment else []) + ["-j", destination]
        netfilter.ensure_rule("prepend", table, source, args)
    return netfilter


# -- a node stand-in --------------------------------------------------------------------------------
class NodeStandIn:
    """One node's netfilter, as kube-proxy leaves it after a sync of one Service written by the learner."""

    def __init__(self, seed: int = 0) -> None:
        self.random = random.Random(seed)
        self.iptables = _jump_rules(Netfilter(lambda: 0.0, self.random, is_local=lambda address: address == NODE_IP))
        self.text = ""

    def load(self, service: dict, slices: list[dict], *functions: Rules) -> str:
        """iptables-restore of the sync's input with the functions' lines for ``service``; the input."""
        lines = [line for function in functions for line in learner_lines(function, service, slices)]
        ports = service_ports(service)
        self.text = restore_input(ports, endpoints_map(slices, NODE), CONFIG, set(self.iptables.table("nat").chains),
                                  lines, set(ports))
        try:
            self.iptables.restore(self.text, noflush=True)
        except RestoreError as error:
            raise RulesRejected(error, self.text) from error
        return self.text

    def walk(self, dst: str, dport: int, src: str = CLIENT_IP, sport: int = 40000) -> tuple[str, bool]:
        """One new connection's first packet through nat PREROUTING: where it is DNATed to, and marked?"""
        packet = Packet(src, dst, sport, dport, "TCP", in_iface="cni0" if src.startswith("10.") else "eth0")
        verdict = self.iptables.traverse("nat", "PREROUTING", packet)
        where = f"{verdict.dnat[0]}:{verdict.dnat[1]}" if verdict.dnat else NOT_DNATED
        return where, bool(int(packet.mark or 0) & MASQ_MARK)

    def spread(self, dst: str, dport: int, count: int, src: str = CLIENT_IP) -> tuple[Counter, int]:
        """``count`` new connections: how many went to each ``ip:port`` (or not DNATed), how many marked."""
        seen: Counter = Counter()
        marked = 0
        for i in range(count):
            where, mark = self.walk(dst, dport, src, 32768 + i % 28000)
            seen[where] += 1
            marked += mark
        return seen, marked


def send(service_rules: Rules, service: dict, slices: list[dict], count: int = 300, *, port: int | None = None,
         node_port_rules: Rules | None = None, node_port: int | None = None, source: str = CLIENT_IP,
         seed: int = 0) -> Counter:
    """Load the learner's rules on a node stand-in and open ``count`` connections to the Service's cluster IP
    (the first port unless ``port``), or to the node's ``node_port``: how many went to each ``ip:port``."""
    node = NodeStandIn(seed)
    node.load(service, slices, *[f for f in (service_rules, node_port_rules) if f is not None])
    if node_port is not None:
        return node.spread(NODE_IP, node_port, count, src=source if source != CLIENT_IP else OUTSIDE_IP)[0]
    spec = service.get("spec") or {}
    return node.spread(spec.get("clusterIP", ""), port or spec["ports"][0]["port"], count, src=source)[0]


# -- the learner's rules in a live kube-proxy --------------------------------------------------------
@dataclass
class Plugged:
    """What the kube-proxies running the learner's functions saw go wrong (the first few)."""

    errors: list[str] = field(default_factory=list)

    def record(self, message: str) -> None:
        if message not in self.errors and len(self.errors) < 3:
            self.errors.append(message)


def owned_by_learner(namespace: str, name: str) -> bool:
    """Every Service but kube-system's and the API server's own is the learner's to write."""
    return namespace != "kube-system" and (namespace, name) != ("default", "kubernetes")


class LearnerRules:
    """A proxier's rule writer: the learner's functions for the learner's Services, the engine's for the rest."""

    def __init__(self, functions: list[Rules], plugged: Plugged) -> None:
        self.functions = functions
        self.plugged = plugged
        self.services: Any = None
        self.slices: Any = None

    def attach(self, services: Any, slices: Any) -> None:
        """kube-proxy's Service and EndpointSlice informers: where the objects the learner reads come from."""
        self.services, self.slices = services, slices

    def __call__(self, services: ServicePortMap, endpoints: EndpointsMap, config: RulesConfig,
                 existing: set[str] | frozenset[str] = frozenset()) -> str:
        learner_services = {name for name in services if owned_by_learner(name.namespace, name.name)}
        lines: list[str] = []
        for key in sorted({name.service for name in learner_services}):
            service = self.services.indexer.get_by_key(key) if self.services is not None else None
            if service is None:
                continue
            namespace, _, name = key.partition("/")
            slices = sorted((s for s in (self.slices.indexer.list() if self.slices is not None else ())
                             if s["metadata"].get("namespace") == namespace
                             and (s["metadata"].get("labels") or {}).get(SERVICE_NAME_LABEL) == name),
                            key=lambda s: s["metadata"]["name"])
            for function in self.functions:
                try:
                    lines += learner_lines(function, service, slices)
                except LearnerError as error:
                    self.plugged.record(f"for Service {key}: {error}")
        text = restore_input(services, endpoints, config, set(existing), lines, learner_services)
        try:                                   # the dry run tells the learner why kube-proxy's restore fails
            _jump_rules(Netfilter(lambda: 0.0, random.Random(0))).restore(text, noflush=True)
        except RestoreError as error:
            self.plugged.record(f"kube-proxy's iptables-restore failed: {RulesRejected(error, text)}")
        return text


def lab_program_factory(functions: list[Rules], plugged: Plugged) -> Callable[[], KubeProxyProgram]:
    """The lab image's binary: kube-proxy whose iptables proxier writes with ``LearnerRules``."""
    class LabKubeProxyProgram(KubeProxyProgram):
        def __init__(self) -> None:
            self.rules = LearnerRules(functions, plugged)

        def component_options(self) -> dict[str, Any]:
            """kube-proxy's own options (the sockets of its health servers) plus the learner's rule writer."""
            return {**super().component_options(), "build_restore_input": self.rules}

        def _connect(self) -> None:
            super()._connect()
            if self.component is not None:
                self.rules.attach(self.component.services, self.component.slices)
    return LabKubeProxyProgram


def _rolled_out(cluster: Any, nodes: int) -> bool:
    pods = cluster.list("pods", namespace="kube-system", selector="k8s-app=kube-proxy")
    fresh = [p for p in pods if p["spec"]["containers"][0]["image"] == LAB_IMAGE
             and not p["metadata"].get("deletionTimestamp")
             and any(c.get("ready") for c in (p.get("status") or {}).get("containerStatuses") or [])]
    return len(fresh) == nodes and len(pods) == nodes


def kube_proxy_cluster(service_rules: Rules, node_port_rules: Rules | None = None, *, seed: int = 0,
                       nodes: int = 2, plugged: Plugged | None = None,
                       cluster_factory: Callable[..., Any] | None = None) -> Any:
    """A flannel cluster (``nodes`` workers) whose kube-proxy DaemonSet runs ``LAB_IMAGE``: your rules."""
    if cluster_factory is None:
        from engine.cluster import Cluster as cluster_factory
    cluster = cluster_factory(nodes=nodes, seed=seed, network="flannel")
    functions = [f for f in (service_rules, node_port_rules) if f is not None]
    cluster.registry.register(LAB_IMAGE, lab_program_factory(functions, plugged or Plugged()), base=IMAGE,
                              size=IMAGE_SIZE // 100, entrypoint=["/usr/local/bin/kube-proxy"])
    cluster.kubectl(f"-n kube-system set image daemonset/kube-proxy kube-proxy={LAB_IMAGE}")
    for _ in range(40):
        cluster.run(1)
        if _rolled_out(cluster, nodes + 1):
            break
    cluster.run(2)                       # the new kube-proxies' first syncs
    return cluster


__all__ = ["CLIENT_IP", "CLUSTER_CIDR", "LAB_IMAGE", "LearnerError", "LearnerRules", "NODE_IP", "NOT_DNATED",
           "NodeStandIn", "OUTSIDE_IP", "Plugged", "RulesRejected", "endpoint_chain", "kube_proxy_cluster",
           "learner_lines", "owned_by_learner", "restore_input", "send", "service_chain"]
