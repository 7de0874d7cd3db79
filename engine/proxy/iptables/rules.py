"""The iptables proxier's rules (``pkg/proxy/iptables/proxier.go``, ``syncProxyRules``), as restore text.

``build_restore_input`` is the body of ``syncProxyRules``: from the
ServicePortMap and EndpointsMap it writes the ``*filter`` and ``*nat``
blocks kube-proxy hands to ``iptables-restore --noflush``, line for line as
upstream writes them (flags in upstream's order, comments quoted, the
probability of the i-th of n endpoints ``1/(n-i)`` printed ``%0.10f``, which
the kernel stores as an integer and iptables-save prints with 11 decimals):

- nat ``KUBE-SERVICES``: per Service port with endpoints, ``"<svc> cluster IP"``
  -> ``KUBE-SVC-<hash>`` (or ``KUBE-SVL-`` for internalTrafficPolicy Local),
  ``"<svc> loadbalancer IP"`` / ``"<svc> external IP"`` -> ``KUBE-EXT-<hash>``
  (or ``KUBE-FW-`` with loadBalancerSourceRanges); last, the jump to
  ``KUBE-NODEPORTS`` for local destinations; ``KUBE-NODEPORTS``: nodePort ->
  ``KUBE-EXT-<hash>``.
- ``KUBE-SVC-``: the off-cluster masquerade rule (``! -s <clusterCIDR>``),
  the ``-m recent --rcheck`` affinity rules, then one rule per endpoint with
  ``-m statistic --mode random --probability``; ``KUBE-SEP-``: the hairpin
  masquerade and the DNAT (with ``-m recent --set`` for affinity).
- ``KUBE-EXT-``: masquerade then the Cluster chain, or for
  externalTrafficPolicy Local the pod / LOCAL short-circuits and ``KUBE-SVL-``.
- filter: REJECT in ``KUBE-SERVICES`` / ``KUBE-EXTERNAL-SERVICES`` for a
  Service without endpoints (DROP when only local endpoints are missing),
  ``KUBE-FORWARD``, ``KUBE-PROXY-FIREWALL``, ``KUBE-FIREWALL``.
- stale ``KUBE-SVC/SVL/EXT/FW/SEP`` chains: a chain line and ``-X``.

Service ports are written in name order (upstream iterates a Go map; any
order gives the same packet behaviour). The hash names are
``servicePortChainName``'s: base32(sha256(name + protocol))[:16].
"""

from __future__ import annotations

import base64
import functools
import hashlib
from dataclasses import dataclass, field

from engine.proxy.changetracker import EndpointsMap, ServicePortMap
from engine.proxy.endpoint import EndpointInfo, categorize_endpoints
from engine.proxy.serviceport import ServicePortInfo

KUBE_SERVICES = "KUBE-SERVICES"
KUBE_EXTERNAL_SERVICES = "KUBE-EXTERNAL-SERVICES"
KUBE_NODEPORTS = "KUBE-NODEPORTS"
KUBE_POSTROUTING = "KUBE-POSTROUTING"
KUBE_MARK_MASQ = "KUBE-MARK-MASQ"
KUBE_FORWARD = "KUBE-FORWARD"
KUBE_PROXY_FIREWALL = "KUBE-PROXY-FIREWALL"
KUBE_PROXY_CANARY = "KUBE-PROXY-CANARY"
KUBELET_FIREWALL = "KUBE-FIREWALL"
SERVICE_CHAIN_PREFIXES = ("KUBE-SVC-", "KUBE-SVL-", "KUBE-EXT-", "KUBE-FW-", "KUBE-SEP-")

# (table, destination chain, source chain, comment, extra args): iptablesJumpChains + the kubelet's.
JUMP_CHAINS: list[tuple[str, str, str, str, list[str]]] = [
    ("filter", KUBE_EXTERNAL_SERVICES, "INPUT", "kubernetes externally-visible service portals",
     ["-m", "conntrack", "--ctstate", "NEW"]),
    ("filter", KUBE_EXTERNAL_SERVICES, "FORWARD", "kubernetes externally-visible service portals",
     ["-m", "conntrack", "--ctstate", "NEW"]),
    ("filter", KUBE_NODEPORTS, "INPUT", "kubernetes health check service ports", []),
    ("filter", KUBE_SERVICES, "FORWARD", "kubernetes service portals", ["-m", "conntrack", "--ctstate", "NEW"]),
    ("filter", KUBE_SERVICES, "OUTPUT", "kubernetes service portals", ["-m", "conntrack", "--ctstate", "NEW"]),
    ("filter", KUBE_FORWARD, "FORWARD", "kubernetes forwarding rules", []),
    ("filter", KUBE_PROXY_FIREWALL, "INPUT", "kubernetes load balancer firewall",
     ["-m", "conntrack", "--ctstate", "NEW"]),
    ("filter", KUBE_PROXY_FIREWALL, "OUTPUT", "kubernetes load balancer firewall",
     ["-m", "conntrack", "--ctstate", "NEW"]),
    ("filter", KUBE_PROXY_FIREWALL, "FORWARD", "kubernetes load balancer firewall",
     ["-m", "conntrack", "--ctstate", "NEW"]),
    ("nat", KUBE_SERVICES, "OUTPUT", "kubernetes service portals", []),
    ("nat", KUBE_SERVICES, "PREROUTING", "kubernetes service portals", []),
    ("nat", KUBE_POSTROUTING, "POSTROUTING", "kubernetes postrouting rules", []),
    ("filter", KUBELET_FIREWALL, "INPUT", "", []),
    ("filter", KUBELET_FIREWALL, "OUTPUT", "", []),
]


@functools.lru_cache(maxsize=16384)
def port_proto_hash(service_port_name: str, protocol: str) -> str:
    """portProtoHash: the first 16 characters of base32(sha256(name + protocol))."""
    digest = hashlib.sha256((service_port_name + protocol).encode()).digest()
    return base64.b32encode(digest).decode()[:16]


def service_chain(name: str, protocol: str, prefix: str = "KUBE-SVC-") -> str:
    """KUBE-SVC- (and, with ``prefix``, KUBE-SVL- / KUBE-EXT- / KUBE-FW-) for a Service port; protocol lower-case."""
    return prefix + port_proto_hash(name, protocol.lower())


@functools.lru_cache(maxsize=65536)
def endpoint_chain(name: str, protocol: str, endpoint: str) -> str:
    """servicePortEndpointChainName: KUBE-SEP- + base32(sha256(name + protocol + "ip:port"))[:16]."""
    digest = hashlib.sha256((name + protocol.lower() + endpoint).encode()).digest()
    return "KUBE-SEP-" + base64.b32encode(digest).decode()[:16]


def probability(n: int) -> str:
    """computeProbability: 1/n with ten decimals, as kube-proxy writes it."""
    return f"{1.0 / n:0.10f}"


@dataclass
class RulesConfig:
    """What syncProxyRules needs beyond the maps: the node and KubeProxyConfiguration's switches."""

    node_name: str = ""
    node_ip: str = ""
    cluster_cidr: str = ""                     # the LocalTrafficDetector (detectLocalMode ClusterCIDR)
    masquerade_all: bool = False
    masquerade_bit: int = 14
    localhost_node_ports: bool = True
    node_port_addresses: list[str] = field(default_factory=list)   # empty: every local address
    random_fully: bool = True                  # iptables >= 1.6.2 has MASQUERADE --random-fully

    @property
    def masquerade_mark(self) -> str:
        """fmt.Sprintf("%#08x", 1<<bit): Go pads the digits, so bit 14 is 0x00004000."""
        return f"0x{1 << self.masquerade_bit:08x}"


def _q(text: str) -> str:
    return f'"{text}"'


def build_restore_input(services: ServicePortMap, endpoints: EndpointsMap, config: RulesConfig,
                        existing_nat_chains: set[str] | frozenset[str] = frozenset()) -> str:
    """The iptables-restore input of one full sync (see the module docstring)."""
    mark = config.masquerade_mark
    filter_chains = [f":{c} - [0:0]" for c in (KUBE_SERVICES, KUBE_EXTERNAL_SERVICES, KUBE_FORWARD,
                                              KUBE_NODEPORTS, KUBE_PROXY_FIREWALL)]
    nat_chains = [f":{c} - [0:0]" for c in (KUBE_SERVICES, KUBE_NODEPORTS, KUBE_POSTROUTING, KUBE_MARK_MASQ)]
    filter_rules: list[str] = []
    nat_rules = [
        f"-A {KUBE_POSTROUTING} -m mark ! --mark {mark}/{mark} -j RETURN",
        f"-A {KUBE_POSTROUTING} -j MARK --xor-mark {mark}",
        f"-A {KUBE_POSTROUTING} -m comment --comment {_q('kubernetes service traffic requiring SNAT')} "
        "-j MASQUERADE" + (" --random-fully" if config.random_fully else ""),
        f"-A {KUBE_MARK_MASQ} -j MARK --or-mark {mark}",
    ]
    if config.localhost_node_ports:
        filter_chains.append(f":{KUBELET_FIREWALL} - [0:0]")
        filter_rules.append(f"-A {KUBELET_FIREWALL} -m comment --comment {_q('block incoming localnet connections')}"
                            " -d 127.0.0.0/8 ! -s 127.0.0.0/8 -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT"
                            " -j DROP")
    active: set[str] = set()
    for name in sorted(services, key=str):
        _service_rules(services[name], endpoints.get(name, []), config, filter_rules, nat_chains, nat_rules, active)
    for chain in sorted(existing_nat_chains - active):
        if chain.startswith(SERVICE_CHAIN_PREFIXES):
            nat_chains.append(f":{chain} - [0:0]")
            nat_rules.append(f"-X {chain}")
    comment = _q("kubernetes service nodeports; NOTE: this must be the last rule in this chain")
    if not config.node_port_addresses:
        local = "-m addrtype --dst-type LOCAL" + ("" if config.localhost_node_ports else " ! -d 127.0.0.0/8")
        nat_rules.append(f"-A {KUBE_SERVICES} -m comment --comment {comment} {local} -j {KUBE_NODEPORTS}")
    else:
        for ip in config.node_port_addresses:
            nat_rules.append(f"-A {KUBE_SERVICES} -m comment --comment {comment} -d {ip} -j {KUBE_NODEPORTS}")
    filter_rules += [
        f"-A {KUBE_FORWARD} -m conntrack --ctstate INVALID -j DROP",
        f"-A {KUBE_FORWARD} -m comment --comment {_q('kubernetes forwarding rules')} -m mark --mark {mark}/{mark}"
        " -j ACCEPT",
        f"-A {KUBE_FORWARD} -m comment --comment {_q('kubernetes forwarding conntrack rule')} -m conntrack"
        " --ctstate RELATED,ESTABLISHED -j ACCEPT",
    ]
    return "\n".join(["*filter", *filter_chains, *filter_rules, "COMMIT", "*nat", *nat_chains, *nat_rules,
                      "COMMIT"]) + "\n"


def _service_rules(svc: ServicePortInfo, all_endpoints: list[EndpointInfo], config: RulesConfig,
                   filter_rules: list[str], nat_chains: list[str], nat_rules: list[str], active: set[str]) -> None:
    """One Service port's rules, in syncProxyRules' order."""
    name = str(svc.name)
    protocol = svc.protocol.lower()
    cluster_chain = service_chain(name, protocol)
    local_chain = service_chain(name, protocol, "KUBE-SVL-")
    external_chain = service_chain(name, protocol, "KUBE-EXT-")
    fw_chain = service_chain(name, protocol, "KUBE-FW-")
    cat = categorize_endpoints(all_endpoints, svc)
    uses_cluster_chain = bool(cat.cluster) and svc.uses_cluster_endpoints()
    uses_local_chain = bool(cat.local) and svc.uses_local_endpoints()
    internal_chain, has_internal = cluster_chain, cat.has_any
    if svc.internal_policy_local:
        internal_chain, has_internal = local_chain, bool(cat.local) and cat.has_any
    external_policy_chain, has_external = cluster_chain, cat.has_any
    if svc.external_policy_local():
        external_policy_chain, has_external = local_chain, bool(cat.local) and cat.has_any
    uses_external_chain = cat.has_any and svc.externally_accessible()
    uses_fw_chain = cat.has_any and bool(svc.load_balancer_vips) and bool(svc.load_balancer_source_ranges)
    lb_chain = fw_chain if uses_fw_chain else external_chain

    internal_target = internal_comment = external_target = external_comment = ""
    if not cat.has_any:
        internal_target = external_target = "REJECT"
        internal_comment = external_comment = _q(f"{name} has no endpoints")
    else:
        if not has_internal:
            internal_target, internal_comment = "DROP", _q(f"{name} has no local endpoints")
        if not has_external:
            external_target, external_comment = "DROP", _q(f"{name} has no local endpoints")

    proto = f"-m {protocol} -p {protocol}"
    cluster_ip_match = f"-m comment --comment {_q(name + ' cluster IP')} {proto} -d {svc.cluster_ip} --dport {svc.port}"
    if has_internal:
        nat_rules.append(f"-A {KUBE_SERVICES} {cluster_ip_match} -j {internal_chain}")
    else:
        filter_rules.append(f"-A {KUBE_SERVICES} -m comment --comment {internal_comment} {proto} -d {svc.cluster_ip}"
                            f" --dport {svc.port} -j {internal_target}")
    for ip in svc.external_ips:
        if cat.has_any:
            nat_rules.append(f"-A {KUBE_SERVICES} -m comment --comment {_q(name + ' external IP')} {proto} -d {ip}"
                             f" --dport {svc.port} -j {external_chain}")
        if not has_external:
            filter_rules.append(f"-A {KUBE_EXTERNAL_SERVICES} -m comment --comment {external_comment} {proto}"
                                f" -d {ip} --dport {svc.port} -j {external_target}")
    for ip in svc.load_balancer_vips:
        if cat.has_any:
            nat_rules.append(f"-A {KUBE_SERVICES} -m comment --comment {_q(name + ' loadbalancer IP')} {proto}"
                             f" -d {ip} --dport {svc.port} -j {lb_chain}")
        if uses_fw_chain:
            filter_rules.append(f"-A {KUBE_PROXY_FIREWALL} -m comment --comment "
                                f"{_q(f'{name} traffic not accepted by {fw_chain}')} {proto} -d {ip}"
                                f" --dport {svc.port} -j DROP")
    if not has_external:
        for ip in svc.load_balancer_vips:
            filter_rules.append(f"-A {KUBE_EXTERNAL_SERVICES} -m comment --comment {external_comment} {proto}"
                                f" -d {ip} --dport {svc.port} -j {external_target}")
    if svc.node_port:
        if cat.has_any:
            nat_rules.append(f"-A {KUBE_NODEPORTS} -m comment --comment {name} {proto} --dport {svc.node_port}"
                             f" -j {external_chain}")
        if not has_external:
            filter_rules.append(f"-A {KUBE_EXTERNAL_SERVICES} -m comment --comment {external_comment}"
                                f" -m addrtype --dst-type LOCAL {proto} --dport {svc.node_port}"
                                f" -j {external_target}")
    if svc.health_check_node_port:
        filter_rules.append(f"-A {KUBE_NODEPORTS} -m comment --comment {_q(name + ' health check node port')}"
                            f" -m tcp -p tcp --dport {svc.health_check_node_port} -j ACCEPT")

    if has_internal:
        if config.masquerade_all:
            nat_rules.append(f"-A {internal_chain} {cluster_ip_match} -j {KUBE_MARK_MASQ}")
        elif config.cluster_cidr:
            nat_rules.append(f"-A {internal_chain} {cluster_ip_match} ! -s {config.cluster_cidr} -j {KUBE_MARK_MASQ}")
    if uses_external_chain:
        nat_chains.append(f":{external_chain} - [0:0]")
        active.add(external_chain)
        if not svc.external_policy_local():
            nat_rules.append(f"-A {external_chain} -m comment --comment "
                             f"{_q(f'masquerade traffic for {name} external destinations')} -j {KUBE_MARK_MASQ}")
        else:
            if config.cluster_cidr:
                nat_rules.append(f"-A {external_chain} -m comment --comment "
                                 f"{_q(f'pod traffic for {name} external destinations')} -s {config.cluster_cidr}"
                                 f" -j {cluster_chain}")
            nat_rules.append(f"-A {external_chain} -m comment --comment "
                             f"{_q(f'masquerade LOCAL traffic for {name} external destinations')}"
                             f" -m addrtype --src-type LOCAL -j {KUBE_MARK_MASQ}")
            nat_rules.append(f"-A {external_chain} -m comment --comment "
                             f"{_q(f'route LOCAL traffic for {name} external destinations')}"
                             f" -m addrtype --src-type LOCAL -j {cluster_chain}")
        if has_external:
            nat_rules.append(f"-A {external_chain} -j {external_policy_chain}")
    if uses_fw_chain:
        nat_chains.append(f":{fw_chain} - [0:0]")
        active.add(fw_chain)
        head = f"-A {fw_chain} -m comment --comment {_q(name + ' loadbalancer IP')}"
        for cidr in svc.load_balancer_source_ranges:
            nat_rules.append(f"{head} -s {cidr} -j {external_chain}")
        nat_rules.append(f"-A {fw_chain} -m comment --comment "
                         f"{_q(f'other traffic to {name} will be dropped by KUBE-PROXY-FIREWALL')}")
    if uses_cluster_chain:
        nat_chains.append(f":{cluster_chain} - [0:0]")
        active.add(cluster_chain)
        _endpoint_rules(nat_rules, name, svc, cluster_chain, cat.cluster)
    if uses_local_chain:
        nat_chains.append(f":{local_chain} - [0:0]")
        active.add(local_chain)
        _endpoint_rules(nat_rules, name, svc, local_chain, cat.local)
    for ep in cat.all_reachable:
        chain = endpoint_chain(name, protocol, str(ep))
        nat_chains.append(f":{chain} - [0:0]")
        active.add(chain)
        nat_rules.append(f"-A {chain} -m comment --comment {name} -s {ep.ip} -j {KUBE_MARK_MASQ}")
        affinity = f" -m recent --name {chain} --set" if svc.session_affinity_client_ip else ""
        nat_rules.append(f"-A {chain} -m comment --comment {name}{affinity} {proto} -j DNAT --to-destination {ep}")


def _endpoint_rules(nat_rules: list[str], name: str, svc: ServicePortInfo, chain: str,
                    endpoints: list[EndpointInfo]) -> None:
    """writeServiceToEndpointRules: affinity checks first, then the probability ladder."""
    protocol = svc.protocol.lower()
    if svc.session_affinity_client_ip:
        for ep in endpoints:
            sep = endpoint_chain(name, protocol, str(ep))
            nat_rules.append(f"-A {chain} -m comment --comment {_q(f'{name} -> {ep}')} -m recent --name {sep}"
                             f" --rcheck --seconds {svc.sticky_max_age_seconds} --reap -j {sep}")
    count = len(endpoints)
    for i, ep in enumerate(endpoints):
        sep = endpoint_chain(name, protocol, str(ep))
        statistic = f" -m statistic --mode random --probability {probability(count - i)}" if i < count - 1 else ""
        nat_rules.append(f"-A {chain} -m comment --comment {_q(f'{name} -> {ep}')}{statistic} -j {sep}")
