"""The portmap CNI plugin's nat rules (ADD, DEL), libcni's portMappings capability and multiport matching."""

import random

from engine.network.cni import CNIExecutor, Invocation
from engine.network.host import Host
from engine.network.netfilter import Netfilter
from engine.network.packet import Packet
from engine.network.portmap import dnat_chain_name, portmap

PREVIOUS = {"cniVersion": "0.3.1", "ips": [{"address": "10.244.1.5/24", "gateway": "10.244.1.1"}]}
MAPPINGS = [{"hostPort": 8080, "containerPort": 80, "protocol": "tcp", "hostIP": ""},
            {"hostPort": 5353, "containerPort": 53, "protocol": "udp", "hostIP": "172.18.0.3"}]


def node() -> Host:
    host = Host("node-1", "172.18.0.3")
    host.iptables = Netfilter(lambda: 0.0, random.Random(0), is_local=lambda a: a == "172.18.0.3")
    return host


def call(host: Host, command: str, container: str, mappings: list, **conf) -> dict:
    invocation = Invocation(command, container, "/var/run/netns/cni-x", "eth0", {}, host, {}, "cbr0")
    return portmap({"name": "cbr0", "type": "portmap", "prevResult": PREVIOUS,
                    "runtimeConfig": {"portMappings": mappings}, **conf}, invocation)


def nat(host: Host) -> list[str]:
    return [line for line in host.iptables.save(("nat",)).splitlines() if line.startswith("-A")]


def test_add_writes_the_plugins_chains_and_dnat_rules():
    host = node()
    assert call(host, "ADD", "abc", MAPPINGS) == PREVIOUS
    chain = dnat_chain_name("cbr0", "abc")
    assert chain.startswith("CNI-DN-") and len(chain) == 28
    rules = nat(host)
    assert rules[:3] == ["-A PREROUTING -m addrtype --dst-type LOCAL -j CNI-HOSTPORT-DNAT",
                         "-A OUTPUT -m addrtype --dst-type LOCAL -j CNI-HOSTPORT-DNAT",
                         '-A POSTROUTING -m comment --comment "CNI portfwd requiring masquerade" -j CNI-HOSTPORT-MASQ']
    assert f"-A {chain} -d 172.18.0.3/32 -p udp -m udp --dport 5353 -j DNAT --to-destination 10.244.1.5:53" in rules
    assert f"-A {chain} -s 127.0.0.1/32 -p tcp -m tcp --dport 8080 -j CNI-HOSTPORT-SETMARK" in rules
    entries = [r for r in rules if r.startswith("-A CNI-HOSTPORT-DNAT")]
    assert [r.split(" -m multiport ")[1] for r in entries] == [f"--dports 8080 -j {chain}", f"--dports 5353 -j {chain}"]
    verdict = host.iptables.traverse("nat", "PREROUTING", Packet("172.18.0.4", "172.18.0.3", 40000, 8080, "TCP"))
    assert verdict.dnat == ("10.244.1.5", 80)
    assert host.iptables.traverse("nat", "PREROUTING",
                                  Packet("172.18.0.4", "172.18.0.3", 40000, 8081, "TCP")).dnat is None


def test_del_removes_only_that_containers_chain_and_snat_false_leaves_out_the_marks():
    host = node()
    call(host, "ADD", "abc", MAPPINGS[:1])
    call(host, "ADD", "def", [{"hostPort": 9090, "containerPort": 90, "protocol": "tcp"}], snat=False)
    other = dnat_chain_name("cbr0", "def")
    assert [r for r in nat(host) if r.startswith(f"-A {other}")] == [
        f"-A {other} -p tcp -m tcp --dport 9090 -j DNAT --to-destination 10.244.1.5:90"]
    call(host, "DEL", "abc", MAPPINGS[:1])
    assert not any(dnat_chain_name("cbr0", "abc") in rule for rule in nat(host))
    assert any(other in rule for rule in nat(host))
    assert host.iptables.chain("nat", dnat_chain_name("cbr0", "abc")) is None


def test_without_mappings_it_only_passes_the_previous_result_on():
    host = node()
    assert call(host, "ADD", "abc", []) == PREVIOUS and nat(host) == []


def test_the_executor_hands_port_mappings_only_to_plugins_with_the_capability():
    runtime = type("Runtime", (), {"host_fs": {}, "cni_port_mappings": lambda self, sandbox: MAPPINGS[:1]})()
    executor = CNIExecutor(node(), runtime)
    asked = executor._runtime_config({"type": "portmap", "capabilities": {"portMappings": True}}, "abc")
    assert asked["runtimeConfig"] == {"portMappings": MAPPINGS[:1]}
    assert "runtimeConfig" not in executor._runtime_config({"type": "flannel"}, "abc")
