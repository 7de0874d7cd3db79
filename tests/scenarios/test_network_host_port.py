"""hostPort on a flannel cluster: the kubelet's port mappings reach the portmap CNI plugin, which DNATs
<nodeIP>:8080 to the pod, from another node, from the node itself and (masqueraded) from a pod on the same node;
its rules are in iptables-save, and deleting the pod removes them."""

from __future__ import annotations

import pytest

import engine

WEB = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web"},
       "spec": {"nodeName": "node-1", "containers": [{"name": "web", "image": "nginx",
                                                      "ports": [{"containerPort": 80, "hostPort": 8080}]}]}}
CLIENT = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "client"},
          "spec": {"nodeName": "node-1", "containers": [{"name": "c", "image": "busybox",
                                                         "command": ["sleep", "3600"]}]}}


@pytest.fixture(scope="module")
def cluster() -> engine.Cluster:
    cluster = engine.Cluster(nodes=2, seed=0, network="flannel")
    cluster.apply([WEB, CLIENT])
    cluster.run(20)
    return cluster


def cni_rules(cluster: engine.Cluster, node: str) -> list[str]:
    return [line for line in cluster.fabric.hosts[node].iptables.save(("nat",)).splitlines() if "CNI-" in line]


def test_the_host_port_answers_from_another_node_and_from_the_node_itself(cluster):
    node_ip = cluster.fabric.hosts["node-1"].address
    pod_ip = cluster.get("pod", "web")["status"]["podIP"]
    for source in ("node-2", "node-1"):
        answer = cluster.curl(source, f"http://{node_ip}:8080/")
        assert answer.status == 200 and "Welcome to nginx" in answer.body
        dnat = [h for h in answer.hops if h.what == "DNAT"]
        assert dnat and dnat[0].where == "node-1" and dnat[0].rule == f"--to-destination {pod_ip}:80"
    hairpin = cluster.curl("client", f"http://{node_ip}:8080/")
    assert hairpin.status == 200
    assert any(h.what == "MASQUERADE" and h.where == "node-1" for h in hairpin.hops), "hairpin is masqueraded"
    assert cluster.curl("node-2", f"http://{cluster.fabric.hosts['node-2'].address}:8080/").exit_code == 7


def test_the_rules_are_the_portmap_plugins(cluster):
    pod_ip = cluster.get("pod", "web")["status"]["podIP"]
    rules = cni_rules(cluster, "node-1")
    [chain] = [line.split()[0][1:] for line in rules if line.startswith(":CNI-DN-")]
    assert len(chain) == 28
    assert "-A PREROUTING -m addrtype --dst-type LOCAL -j CNI-HOSTPORT-DNAT" in rules
    assert "-A OUTPUT -m addrtype --dst-type LOCAL -j CNI-HOSTPORT-DNAT" in rules
    assert any(line.startswith("-A CNI-HOSTPORT-DNAT -p tcp -m comment --comment \"dnat name: \\\"cbr0\\\" id: ")
               and line.endswith(f"-m multiport --dports 8080 -j {chain}") for line in rules)
    assert f"-A {chain} -s 10.244.1.0/24 -p tcp -m tcp --dport 8080 -j CNI-HOSTPORT-SETMARK" in rules
    assert f"-A {chain} -p tcp -m tcp --dport 8080 -j DNAT --to-destination {pod_ip}:80" in rules
    assert "-A CNI-HOSTPORT-MASQ -m mark --mark 0x2000/0x2000 -j MASQUERADE" in rules
    assert cni_rules(cluster, "node-2") == []


def test_deleting_the_pod_removes_its_rules(cluster):
    cluster.delete("pod", "web")
    cluster.run(40)
    rules = cni_rules(cluster, "node-1")
    assert not any("CNI-DN-" in line for line in rules)
    assert "-A CNI-HOSTPORT-MASQ -m mark --mark 0x2000/0x2000 -j MASQUERADE" in rules     # shared chains stay
    answer = cluster.curl("node-2", f"http://{cluster.fabric.hosts['node-1'].address}:8080/")
    assert answer.exit_code == 7
