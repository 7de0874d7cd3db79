"""The ipvs Proxier (``pkg/proxy/ipvs/proxier.go``): Services as IPVS virtual servers, plus a few iptables rules.

Per sync, from the same ServicePortMap / EndpointsMap as the iptables mode:

- every ClusterIP (and load balancer IP, external IP) is bound to the
  ``kube-ipvs0`` dummy interface, so the node accepts packets for it, and
  gets a virtual server ``proto VIP:port`` with the ``rr`` scheduler
  (``persistent <timeoutSeconds>`` for ClientIP affinity) whose real
  servers are the usable endpoints (``CategorizeEndpoints``; only local
  ones for a Local traffic policy when there are any); a NodePort gets a
  virtual server on every node address;
- the ipsets ``KUBE-CLUSTER-IP``, ``KUBE-LOAD-BALANCER``,
  ``KUBE-EXTERNAL-IP``, ``KUBE-NODE-PORT-TCP/UDP`` (and ``-LOCAL-``),
  ``KUBE-LOOP-BACK`` (local endpoints reaching themselves) and
  ``KUBE-IPVS-IPS`` hold what the rules match;
- the constant handful of iptables rules ``writeIptablesRules`` writes
  (masquerade off-cluster traffic to cluster IPs, NodePorts, hairpin, and
  ACCEPT for traffic to a virtual service), with one restore per sync.

Stale virtual servers and unbound addresses are removed. Endpoint changes
apply to the next sync (``--ipvs-min-sync-period``, 0 s by default).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable

from engine import flags
from engine.network.ipvs import IPVS
from engine.network.netfilter import RestoreError
from engine.proxy.changetracker import EndpointsMap, ServicePortMap
from engine.proxy.endpoint import categorize_endpoints
from engine.proxy.iptables.proxier import Proxier as IptablesProxier
from engine.proxy.iptables.rules import RulesConfig

if TYPE_CHECKING:
    from engine.network.netfilter import Netfilter
    from engine.sim.loop import Loop

log = logging.getLogger(__name__)

KUBE_SERVICES, KUBE_POSTROUTING, KUBE_MARK_MASQ = "KUBE-SERVICES", "KUBE-POSTROUTING", "KUBE-MARK-MASQ"
KUBE_NODE_PORT, KUBE_LOAD_BALANCER, KUBE_FORWARD = "KUBE-NODE-PORT", "KUBE-LOAD-BALANCER", "KUBE-FORWARD"
KUBE_PROXY_FIREWALL, KUBE_SOURCE_RANGES_FIREWALL = "KUBE-PROXY-FIREWALL", "KUBE-SOURCE-RANGES-FIREWALL"
KUBE_IPVS_FILTER, KUBE_IPVS_OUT_FILTER = "KUBE-IPVS-FILTER", "KUBE-IPVS-OUT-FILTER"

IPSETS: dict[str, tuple[str, str]] = {       # name -> (type, comment), ipvs/ipset.go
    "KUBE-LOOP-BACK": ("hash:ip,port,ip", "Kubernetes endpoints dst ip:port, source ip for solving hairpin purpose"),
    "KUBE-CLUSTER-IP": ("hash:ip,port", "Kubernetes service cluster ip + port for masquerade purpose"),
    "KUBE-EXTERNAL-IP": ("hash:ip,port", "Kubernetes service external ip + port for masquerade and filter purpose"),
    "KUBE-EXTERNAL-IP-LOCAL": ("hash:ip,port", "Kubernetes service external ip + port with externalTrafficPolicy=local"),
    "KUBE-LOAD-BALANCER": ("hash:ip,port", "Kubernetes service lb portal"),
    "KUBE-LOAD-BALANCER-LOCAL": ("hash:ip,port",
                                 "Kubernetes service load balancer ip + port with externalTrafficPolicy=local"),
    "KUBE-NODE-PORT-TCP": ("bitmap:port", "Kubernetes nodeport TCP port for masquerade purpose"),
    "KUBE-NODE-PORT-LOCAL-TCP": ("bitmap:port", "Kubernetes nodeport TCP port with externalTrafficPolicy=local"),
    "KUBE-NODE-PORT-UDP": ("bitmap:port", "Kubernetes nodeport UDP port for masquerade purpose"),
    "KUBE-NODE-PORT-LOCAL-UDP": ("bitmap:port", "Kubernetes nodeport UDP port with externalTrafficPolicy=local"),
    "KUBE-HEALTH-CHECK-NODE-PORT": ("bitmap:port", "Kubernetes health check node port"),
    "KUBE-IPVS-IPS": ("hash:ip", "Addresses on the ipvs interface"),
}
# ipsetWithIptablesChain: (set, table, from chain, to, match type, protocol)
IPSET_CHAINS = [
    ("KUBE-LOOP-BACK", "nat", KUBE_POSTROUTING, "MASQUERADE", "dst,dst,src", ""),
    ("KUBE-LOAD-BALANCER", "nat", KUBE_SERVICES, KUBE_LOAD_BALANCER, "dst,dst", ""),
    ("KUBE-LOAD-BALANCER-LOCAL", "nat", KUBE_LOAD_BALANCER, "RETURN", "dst,dst", ""),
    ("KUBE-NODE-PORT-LOCAL-TCP", "nat", KUBE_NODE_PORT, "RETURN", "dst", "tcp"),
    ("KUBE-NODE-PORT-TCP", "nat", KUBE_NODE_PORT, KUBE_MARK_MASQ, "dst", "tcp"),
    ("KUBE-NODE-PORT-LOCAL-UDP", "nat", KUBE_NODE_PORT, "RETURN", "dst", "udp"),
    ("KUBE-NODE-PORT-UDP", "nat", KUBE_NODE_PORT, KUBE_MARK_MASQ, "dst", "udp"),
]
NAT_CHAINS = (KUBE_SERVICES, KUBE_POSTROUTING, KUBE_NODE_PORT, KUBE_LOAD_BALANCER, KUBE_MARK_MASQ)
FILTER_CHAINS = (KUBE_FORWARD, KUBE_NODE_PORT, KUBE_PROXY_FIREWALL, KUBE_SOURCE_RANGES_FIREWALL, KUBE_IPVS_FILTER,
                 KUBE_IPVS_OUT_FILTER)
# iptablesJumpChain: (table, from, to, comment)
JUMP_CHAINS = [
    ("nat", "OUTPUT", KUBE_SERVICES, "kubernetes service portals"),
    ("nat", "PREROUTING", KUBE_SERVICES, "kubernetes service portals"),
    ("nat", "POSTROUTING", KUBE_POSTROUTING, "kubernetes postrouting rules"),
    ("filter", "FORWARD", KUBE_FORWARD, "kubernetes forwarding rules"),
    ("filter", "INPUT", KUBE_NODE_PORT, "kubernetes health check rules"),
    ("filter", "INPUT", KUBE_PROXY_FIREWALL, "kube-proxy firewall rules"),
    ("filter", "FORWARD", KUBE_PROXY_FIREWALL, "kube-proxy firewall rules"),
    ("filter", "INPUT", KUBE_IPVS_FILTER, "kubernetes ipvs access filter"),
    ("filter", "OUTPUT", KUBE_IPVS_OUT_FILTER, "kubernetes ipvs access filter"),
]


@dataclass
class DesiredState:
    """What one sync wants: virtual servers with their real servers, ipset entries, bound addresses."""

    servers: dict[tuple[str, str, int], tuple[int | None, list[tuple[str, int, int]]]] = field(default_factory=dict)
    ipsets: dict[str, set[str]] = field(default_factory=lambda: {name: set() for name in IPSETS})
    bound: set[str] = field(default_factory=set)


def desired_state(services: ServicePortMap, endpoints: EndpointsMap, node_ips: list[str]) -> DesiredState:
    """The virtual servers, ipsets and kube-ipvs0 addresses for these Services (pure)."""
    state = DesiredState()
    for name in sorted(services, key=str):
        svc = services[name]
        proto = svc.protocol.lower()
        cat = categorize_endpoints(endpoints.get(name, []), svc)
        persistent = svc.sticky_max_age_seconds if svc.session_affinity_client_ip else None

        def reals(only_local: bool) -> list[tuple[str, int, int]]:
            chosen = cat.local if only_local and cat.local else cat.cluster
            return [(ep.ip, ep.port, 1) for ep in chosen]

        for ep in endpoints.get(name, []):
            if ep.is_local:
                state.ipsets["KUBE-LOOP-BACK"].add(f"{ep.ip},{proto}:{ep.port},{ep.ip}")
        state.ipsets["KUBE-CLUSTER-IP"].add(f"{svc.cluster_ip},{proto}:{svc.port}")
        state.servers[(svc.protocol, svc.cluster_ip, svc.port)] = (persistent, reals(svc.internal_policy_local))
        state.bound.add(svc.cluster_ip)
        local = svc.external_policy_local()
        for ip in svc.external_ips:
            state.ipsets["KUBE-EXTERNAL-IP-LOCAL" if local else "KUBE-EXTERNAL-IP"].add(f"{ip},{proto}:{svc.port}")
            state.servers[(svc.protocol, ip, svc.port)] = (persistent, reals(local))
            state.bound.add(ip)
        for ip in svc.load_balancer_vips:
            state.ipsets["KUBE-LOAD-BALANCER"].add(f"{ip},{proto}:{svc.port}")
            if local:
                state.ipsets["KUBE-LOAD-BALANCER-LOCAL"].add(f"{ip},{proto}:{svc.port}")
            state.servers[(svc.protocol, ip, svc.port)] = (persistent, reals(local))
            state.bound.add(ip)
        if svc.node_port and proto in ("tcp", "udp"):
            state.ipsets[f"KUBE-NODE-PORT-{proto.upper()}"].add(str(svc.node_port))
            if local:
                state.ipsets[f"KUBE-NODE-PORT-LOCAL-{proto.upper()}"].add(str(svc.node_port))
            for ip in node_ips:
                state.servers[(svc.protocol, ip, svc.node_port)] = (persistent, reals(local))
        if svc.health_check_node_port:
            state.ipsets["KUBE-HEALTH-CHECK-NODE-PORT"].add(str(svc.health_check_node_port))
    state.ipsets["KUBE-IPVS-IPS"] = set(state.bound)
    return state


def build_restore_input(ipsets: dict[str, set[str]], config: RulesConfig) -> str:
    """writeIptablesRules: the ipvs mode's iptables rules for these ipsets."""
    mark = config.masquerade_mark
    nat = [f"-A {KUBE_SERVICES} -s 127.0.0.0/8 -j RETURN"]
    filter_ = []
    for name, table, source, target, match, protocol in IPSET_CHAINS:
        if ipsets.get(name):
            rule = (f"-A {source}" + (f" -p {protocol}" if protocol else "")
                    + f' -m comment --comment "{IPSETS[name][1]}" -m set --match-set {name} {match} -j {target}')
            (nat if table == "nat" else filter_).append(rule)
    if ipsets.get("KUBE-CLUSTER-IP"):
        head = f'-A {KUBE_SERVICES} -m comment --comment "{IPSETS["KUBE-CLUSTER-IP"][1]}" -m set --match-set KUBE-CLUSTER-IP'
        if config.masquerade_all:
            nat.append(f"{head} dst,dst -j {KUBE_MARK_MASQ}")
        elif config.cluster_cidr:
            nat.append(f"{head} dst,dst ! -s {config.cluster_cidr} -j {KUBE_MARK_MASQ}")
        else:
            nat.append(f"{head} src,dst -j {KUBE_MARK_MASQ}")
    if ipsets.get("KUBE-EXTERNAL-IP"):
        nat.append(f'-A {KUBE_SERVICES} -m comment --comment "{IPSETS["KUBE-EXTERNAL-IP"][1]}" -m set --match-set '
                   f"KUBE-EXTERNAL-IP dst,dst -j {KUBE_MARK_MASQ}")
    nat.append(f"-A {KUBE_SERVICES} -m addrtype --dst-type LOCAL -j {KUBE_NODE_PORT}")
    nat.append(f"-A {KUBE_LOAD_BALANCER} -j {KUBE_MARK_MASQ}")
    filter_.append(f"-A {KUBE_SOURCE_RANGES_FIREWALL} -j DROP")
    for name in ("KUBE-CLUSTER-IP", "KUBE-LOAD-BALANCER"):
        if ipsets.get(name):
            nat.append(f"-A {KUBE_SERVICES} -m set --match-set {name} dst,dst -j ACCEPT")
    filter_ += [
        f'-A {KUBE_FORWARD} -m comment --comment "kubernetes forwarding rules" -m mark --mark {mark}/{mark} -j ACCEPT',
        f'-A {KUBE_FORWARD} -m comment --comment "kubernetes forwarding conntrack rule" -m conntrack '
        "--ctstate RELATED,ESTABLISHED -j ACCEPT",
        f'-A {KUBE_NODE_PORT} -m comment --comment "{IPSETS["KUBE-HEALTH-CHECK-NODE-PORT"][1]}" -m set '
        "--match-set KUBE-HEALTH-CHECK-NODE-PORT dst -j ACCEPT",
    ]
    for name, match in (("KUBE-LOAD-BALANCER", "dst,dst"), ("KUBE-CLUSTER-IP", "dst,dst"),
                        ("KUBE-EXTERNAL-IP", "dst,dst"), ("KUBE-EXTERNAL-IP-LOCAL", "dst,dst"),
                        ("KUBE-HEALTH-CHECK-NODE-PORT", "dst")):
        filter_.append(f"-A {KUBE_IPVS_FILTER} -m set --match-set {name} {match} -j RETURN")
    filter_.append(f"-A {KUBE_IPVS_FILTER} -m conntrack --ctstate NEW -m set --match-set KUBE-IPVS-IPS dst -j REJECT")
    nat += [
        f"-A {KUBE_POSTROUTING} -m mark ! --mark {mark}/{mark} -j RETURN",
        f"-A {KUBE_POSTROUTING} -j MARK --xor-mark {mark}",
        f'-A {KUBE_POSTROUTING} -m comment --comment "kubernetes service traffic requiring SNAT" '
        "-j MASQUERADE" + (" --random-fully" if config.random_fully else ""),
        f"-A {KUBE_MARK_MASQ} -j MARK --or-mark {mark}",
    ]
    return "\n".join(["*filter", *(f":{c} - [0:0]" for c in FILTER_CHAINS), *filter_, "COMMIT",
                      "*nat", *(f":{c} - [0:0]" for c in NAT_CHAINS), *nat, "COMMIT"]) + "\n"


class Proxier(IptablesProxier):
    """One node's ipvs-mode kube-proxy core: the iptables proxier's plumbing, a different sync."""

    mode = "ipvs"

    def __init__(self, netfilter: "Netfilter", ipvs: IPVS, loop: "Loop", config: RulesConfig, *,
                 node_ips: list[str], scheduler: str = flags.ipvs_scheduler,
                 min_sync_period: float = flags.ipvs_min_sync_period,
                 sync_period: float = flags.ipvs_sync_period,
                 on_bound: Callable[[set[str]], None] | None = None) -> None:
        super().__init__(netfilter, loop, config, min_sync_period=min_sync_period, sync_period=sync_period)
        self.on_bound = on_bound
        """Called with kube-ipvs0's addresses after each sync (the host adds the dummy device's addresses)."""
        self.ipvs = ipvs
        self.node_ips = list(node_ips)
        self.scheduler = scheduler

    def sync_proxy_rules(self) -> None:
        if not self.is_initialized():
            return
        self.service_changes.apply(self.svc_port_map)
        self.endpoints_changes.apply(self.endpoints_map)
        state = desired_state(self.svc_port_map, self.endpoints_map, self.node_ips)
        for name, (type_, comment) in IPSETS.items():
            self.iptables.ipsets.ensure(name, type_, comment)
            self.iptables.ipsets.replace(name, state.ipsets[name])
        for key, (persistent, reals) in state.servers.items():
            server = self.ipvs.ensure_virtual_server(*key, scheduler=self.scheduler, persistent=persistent)
            self.ipvs.set_real_servers(server, reals)
        for key in [k for k in self.ipvs.services if k not in state.servers]:
            self.ipvs.delete_virtual_server(*key)
        self.ipvs.dummy_addresses.clear()
        self.ipvs.dummy_addresses.update(state.bound)
        if self.on_bound is not None:
            self.on_bound(set(state.bound))
        if self.need_full_sync:
            for table, source, destination, comment in JUMP_CHAINS:
                self.iptables.ensure_chain(table, destination)
                self.iptables.ensure_rule("prepend", table, source,
                                          ["-m", "comment", "--comment", comment, "-j", destination])
        text = build_restore_input(state.ipsets, self.config)
        try:
            self.iptables.restore(text, noflush=True)
        except RestoreError as exc:
            log.error("Failed to execute iptables-restore: %s", exc)
            self.need_full_sync = True
            self.sync_runner.retry_after(self.sync_period)
            return
        self.need_full_sync = False
        self.last_restore = text
        self.syncs += 1
        self.update_health()
