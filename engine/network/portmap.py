"""The ``portmap`` CNI plugin (containernetworking/plugins ``plugins/meta/portmap``): hostPort in iptables.

A chained plugin: it runs after the main one (``flannel`` / ``calico``) and
reads the pod's address from ``prevResult``. The runtime hands it the pod's
port mappings through the ``portMappings`` capability: containerd turns the
CRI sandbox config's ``PortMapping`` list (the kubelet's, from every
``containerPort`` with a ``hostPort``) into ``runtimeConfig.portMappings``
(``hostPort``, ``containerPort``, ``protocol`` in lower case, ``hostIP``) for
each plugin whose ``capabilities`` ask for it, dropping mappings without a
host port. ADD programs the node's nat table as the real plugin does:

    -A PREROUTING -m addrtype --dst-type LOCAL -j CNI-HOSTPORT-DNAT
    -A OUTPUT -m addrtype --dst-type LOCAL -j CNI-HOSTPORT-DNAT
    -A POSTROUTING -m comment --comment "CNI portfwd requiring masquerade" -j CNI-HOSTPORT-MASQ
    -A CNI-HOSTPORT-DNAT -p tcp -m comment --comment "dnat name: \\"cbr0\\" id: \\"<sandbox>\\"" \\
       -m multiport --dports 8080 -j CNI-DN-<hash>
    -A CNI-DN-<hash> -s 10.244.1.0/24 -p tcp -m tcp --dport 8080 -j CNI-HOSTPORT-SETMARK     (hairpin)
    -A CNI-DN-<hash> -s 127.0.0.1/32 -p tcp -m tcp --dport 8080 -j CNI-HOSTPORT-SETMARK      (localhost)
    -A CNI-DN-<hash> -p tcp -m tcp --dport 8080 -j DNAT --to-destination 10.244.1.5:80
    -A CNI-HOSTPORT-SETMARK -m comment --comment "CNI portfwd masquerade mark" -j MARK --set-xmark 0x2000/0x2000
    -A CNI-HOSTPORT-MASQ -m mark --mark 0x2000/0x2000 -j MASQUERADE

``CNI-DN-`` + the sha512 of network name and container id, cut to 28
characters (``utils.MustFormatChainNameWithPrefix``); the mark bit is
``markMasqBit`` (13); ``snat: false`` leaves out the mark rules;
``hostIP`` adds ``-d``. DEL tears the container's chain down (its jump,
its rules, the chain) and leaves the shared chains. It never touches
another container's rules; without port mappings it only passes the
previous result on.
"""

from __future__ import annotations

import hashlib
import ipaddress
from typing import Any

from engine.network.cni import CNIError, Invocation

TOP_LEVEL_DNAT_CHAIN = "CNI-HOSTPORT-DNAT"
SET_MARK_CHAIN = "CNI-HOSTPORT-SETMARK"
MARK_MASQ_CHAIN = "CNI-HOSTPORT-MASQ"
DEFAULT_MARK_BIT = 13
MAX_CHAIN_LENGTH = 28
MULTIPORT_MAX = 15
"""multiport takes at most 15 ports per rule; longer lists are split."""


def dnat_chain_name(network: str, container_id: str) -> str:
    """``CNI-DN-`` + sha512(network name + container id) in hex, cut to 28 characters."""
    return ("CNI-DN-" + hashlib.sha512(f"{network}{container_id}".encode()).hexdigest())[:MAX_CHAIN_LENGTH]


def portmap(conf: dict, inv: Invocation) -> dict:
    """ADD: the host port DNAT for the container; DEL: its removal. Returns the previous result either way."""
    previous = conf.get("prevResult") or {}
    mappings = (conf.get("runtimeConfig") or {}).get("portMappings") or []
    iptables = inv.host.iptables
    if iptables is None:
        return previous
    chain = dnat_chain_name(conf.get("name", ""), inv.container_id)
    if inv.command == "DEL":
        _teardown(iptables, chain)
        return previous
    if not mappings:
        return previous
    address = next((ip["address"] for ip in previous.get("ips") or ()
                    if ipaddress.ip_interface(ip["address"]).version == 4), None)
    if address is None:
        raise CNIError("portmap: no IPv4 container address in prevResult")
    snat = conf.get("snat", True) is not False
    bit = int(conf.get("markMasqBit", DEFAULT_MARK_BIT))
    if not 0 <= bit <= 31:
        raise CNIError("MasqMarkBit must be between 0 and 31")
    mark = f"{1 << bit:#x}/{1 << bit:#x}"
    _setup(iptables, TOP_LEVEL_DNAT_CHAIN, [], {"PREROUTING": [["-m", "addrtype", "--dst-type", "LOCAL"]],
                                                "OUTPUT": [["-m", "addrtype", "--dst-type", "LOCAL"]]})
    if snat:
        _setup(iptables, SET_MARK_CHAIN, [["-m", "comment", "--comment", "CNI portfwd masquerade mark",
                                           "-j", "MARK", "--set-xmark", mark]], {})
        _setup(iptables, MARK_MASQ_CHAIN, [["-m", "mark", "--mark", mark, "-j", "MASQUERADE"]],
               {"POSTROUTING": [["-m", "comment", "--comment", "CNI portfwd requiring masquerade"]]}, prepend=True)
    _teardown(iptables, chain)             # a chain left from an earlier ADD of the same container
    _setup(iptables, chain, _dnat_rules(mappings, address, snat),
           {TOP_LEVEL_DNAT_CHAIN: _entry_rules(conf.get("name", ""), inv.container_id, mappings)})
    return previous


def _entry_rules(network: str, container_id: str, mappings: list[dict]) -> list[list[str]]:
    comment = f'dnat name: "{network}" id: "{container_id}"'[:256]
    by_protocol: dict[str, list[str]] = {}
    for mapping in mappings:
        by_protocol.setdefault(str(mapping.get("protocol") or "tcp").lower(), []).append(str(mapping["hostPort"]))
    rules = []
    for protocol in sorted(by_protocol):
        ports = by_protocol[protocol]
        for start in range(0, len(ports), MULTIPORT_MAX):
            rules.append(["-m", "comment", "--comment", comment, "-m", "multiport", "-p", protocol,
                          "--destination-ports", ",".join(ports[start:start + MULTIPORT_MAX])])
    return rules


def _dnat_rules(mappings: list[dict], address: str, snat: bool) -> list[list[str]]:
    """Per mapping: mark hairpin traffic, mark localhost traffic, then the DNAT (the marks must come first)."""
    ip = str(ipaddress.ip_interface(address).ip)
    rules = []
    for mapping in mappings:
        base = ["-p", str(mapping.get("protocol") or "tcp").lower(), "--dport", str(mapping["hostPort"])]
        if mapping.get("hostIP"):
            base += ["-d", mapping["hostIP"]]
        if snat:
            rules.append(base + ["-s", address, "-j", SET_MARK_CHAIN])
            rules.append(base + ["-s", "127.0.0.1", "-j", SET_MARK_CHAIN])
        rules.append(base + ["-j", "DNAT", "--to-destination", f"{ip}:{mapping['containerPort']}"])
    return rules


def _setup(iptables: Any, chain: str, rules: list[list[str]], entries: dict[str, list[list[str]]],
           prepend: bool = False) -> None:
    """chain.setup: the chain, its rules (each once), then the jumps to it from its entry chains."""
    iptables.ensure_chain("nat", chain)
    for rule in rules:
        iptables.ensure_rule("append", "nat", chain, rule)
    for entry_chain, entry_rules in entries.items():
        for rule in entry_rules:
            iptables.ensure_rule("prepend" if prepend else "append", "nat", entry_chain, rule + ["-j", chain])


def _teardown(iptables: Any, chain: str) -> None:
    """chain.teardown: flush it, delete every rule jumping to it, delete it."""
    table = iptables.table("nat")
    if chain not in table.chains:
        return
    table.chains[chain].rules = []
    for other in table.chains.values():
        other.rules = [rule for rule in other.rules if rule.target != chain]
    del table.chains[chain]
