"""kube-proxy (engine/proxy, engine/network/netfilter.py, ipvs.py): the cost of Services, iptables versus ipvs.

* sync: one full ``syncProxyRules`` for 1,000 Services of 3 endpoints each
  (building the restore input and applying it with iptables-restore; for ipvs,
  the virtual servers, ipsets and its few rules);
* first packets: new connections walked through the nat table to the first
  and to the last Service of KUBE-SERVICES (iptables matches rule by rule, so
  the last Service costs ~1,000 rule checks more) and IPVS's hash lookup.

Each figure is the median of three runs.
"""

from __future__ import annotations

import random
import statistics
import time
from dataclasses import dataclass

from engine.network.ipvs import IPVS
from engine.network.netfilter import Netfilter
from engine.proxy.endpoint import endpoints_map
from engine.proxy.iptables.rules import RulesConfig, build_restore_input
from engine.proxy.ipvs.proxier import build_restore_input as ipvs_restore_input
from engine.proxy.ipvs.proxier import desired_state
from engine.proxy.serviceport import service_ports

SERVICES = 1_000
ENDPOINTS = 3
PACKETS = 500
REPEATS = 3
CONFIG = RulesConfig(node_name="node-1", cluster_cidr="10.244.0.0/16")


@dataclass
class Packet:
    src: str
    dst: str
    sport: int
    dport: int
    proto: str = "TCP"
    mark: int = 0


def _maps() -> tuple[dict, dict]:
    services, slices = {}, []
    for i in range(SERVICES):
        name = f"svc-{i}"
        services.update(service_ports({"metadata": {"name": name, "namespace": "default"},
                                       "spec": {"clusterIP": f"10.96.{i // 250}.{i % 250 + 1}",
                                                "ports": [{"name": "http", "port": 80, "protocol": "TCP"}]}}))
        slices.append({"metadata": {"name": f"{name}-x", "namespace": "default",
                                    "labels": {"kubernetes.io/service-name": name}},
                       "addressType": "IPv4", "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}],
                       "endpoints": [{"addresses": [f"10.244.{j}.{i % 250 + 1}"], "conditions": {"ready": True},
                                      "nodeName": f"node-{j}"} for j in range(ENDPOINTS)]})
    return services, endpoints_map(slices, "node-1")


def _iptables_sync(services: dict, endpoints: dict) -> tuple[float, Netfilter]:
    netfilter = Netfilter(lambda: 0.0, random.Random(0))
    netfilter.restore('*nat\n:KUBE-SERVICES - [0:0]\n-A OUTPUT -m comment --comment "kubernetes service portals" '
                      "-j KUBE-SERVICES\nCOMMIT\n", noflush=True)
    start = time.perf_counter()
    netfilter.restore(build_restore_input(services, endpoints, CONFIG, set(netfilter.table("nat").chains)),
                      noflush=True)
    return time.perf_counter() - start, netfilter


def _ipvs_sync(services: dict, endpoints: dict) -> tuple[float, IPVS]:
    netfilter, ipvs = Netfilter(lambda: 0.0, random.Random(0)), IPVS()
    start = time.perf_counter()
    state = desired_state(services, endpoints, ["172.18.0.3"])
    for key, (persistent, reals) in state.servers.items():
        ipvs.set_real_servers(ipvs.ensure_virtual_server(*key, persistent=persistent), reals)
    for name, entries in state.ipsets.items():
        netfilter.ipsets.ensure(name, "hash:ip" if name == "KUBE-IPVS-IPS" else "hash:ip,port")
        netfilter.ipsets.replace(name, entries)
    netfilter.restore(ipvs_restore_input(state.ipsets, CONFIG), noflush=True)
    return time.perf_counter() - start, ipvs


def _packets_per_second(send) -> float:
    start = time.perf_counter()
    for i in range(PACKETS):
        send(i)
    return PACKETS / (time.perf_counter() - start)


def run() -> list[tuple[str, float, str]]:
    services, endpoints = _maps()
    iptables_runs = [_iptables_sync(services, endpoints) for _ in range(REPEATS)]
    ipvs_runs = [_ipvs_sync(services, endpoints) for _ in range(REPEATS)]
    netfilter, ipvs = iptables_runs[0][1], ipvs_runs[0][1]
    first, last = "10.96.0.1", f"10.96.{(SERVICES - 1) // 250}.{(SERVICES - 1) % 250 + 1}"

    def walk(dst: str):
        return lambda i: netfilter.traverse("nat", "OUTPUT", Packet("10.244.9.9", dst, 1024 + i, 80))

    return [
        (f"iptables sync, {SERVICES:,} Services x {ENDPOINTS} endpoints",
         statistics.median(t for t, _ in iptables_runs), "s"),
        (f"ipvs sync, {SERVICES:,} Services x {ENDPOINTS} endpoints", statistics.median(t for t, _ in ipvs_runs), "s"),
        ("iptables first packets, first Service", statistics.median(_packets_per_second(walk(first))
                                                                    for _ in range(REPEATS)), "packets/s"),
        (f"iptables first packets, Service #{SERVICES:,}", statistics.median(_packets_per_second(walk(last))
                                                                             for _ in range(REPEATS)), "packets/s"),
        (f"ipvs first packets, any of {SERVICES:,} Services", statistics.median(_packets_per_second(
            lambda i: ipvs.schedule("TCP", last, 80, f"10.244.9.{i % 250}")) for _ in range(REPEATS)), "packets/s"),
    ]
