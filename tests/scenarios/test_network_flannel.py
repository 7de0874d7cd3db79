"""A flannel cluster: pod IPs from each node's podCIDR, pod to pod across nodes through VXLAN, real errors."""

from dataclasses import dataclass, field

import pytest

import engine
from engine.network.flannel import FlannelAgent
from network_setup import bare_network_cluster, network_cluster, pod, pod_ip, start_agent


@pytest.fixture(scope="module")
def cluster() -> engine.Cluster:
    c = network_cluster(FlannelAgent)
    c.apply(pod("web", "node-2", labels={"app": "web"}))
    c.apply(pod("client", "node-1", image="busybox", command=["sleep", "3600"]))
    c.apply(pod("neighbour", "node-1", image="nginx"))
    c.run(20)
    return c


def test_every_node_gets_a_pod_cidr_and_pods_get_ips_from_it(cluster: engine.Cluster) -> None:
    cidrs = {n: cluster.get("nodes", n, None)["spec"]["podCIDR"] for n in cluster.node_names}
    assert cidrs == {"control-plane": "10.244.0.0/24", "node-1": "10.244.1.0/24", "node-2": "10.244.2.0/24"}
    assert pod_ip(cluster, "web").startswith("10.244.2.")
    assert pod_ip(cluster, "client").startswith("10.244.1.")
    env = cluster.runtimes["node-1"].host_fs["/run/flannel/subnet.env"]
    assert "FLANNEL_SUBNET=10.244.1.1/24" in env and "FLANNEL_MTU=1450" in env


def test_a_pod_reaches_a_pod_on_another_node_through_the_vxlan_overlay(cluster: engine.Cluster) -> None:
    result = cluster.curl("client", f"http://{pod_ip(cluster, 'web')}/")
    assert result.status == 200 and "Welcome to nginx!" in result.body
    what = [(hop.where, hop.what) for hop in result.hops]
    assert ("node-1", "encapsulate") in what and ("node-2", "decapsulate") in what
    encapsulated = next(hop for hop in result.hops if hop.what == "encapsulate")
    assert encapsulated.headers.startswith("172.18.0.3:") and "> 172.18.0.4:8472 UDP VXLAN vni 1" in encapsulated.headers
    assert "10.244.2.0/24 via 10.244.2.0 dev flannel.1 onlink" in [hop.rule for hop in result.hops]
    assert result.hops[-1].what == "received" and result.hops[-1].where == "default/client"


def test_pods_on_one_node_talk_over_the_bridge_without_encapsulation(cluster: engine.Cluster) -> None:
    result = cluster.curl("default/client", f"http://{pod_ip(cluster, 'neighbour')}/")
    assert result.status == 200
    assert "encapsulate" not in [hop.what for hop in result.hops]
    assert "bridge" in [hop.what for hop in result.hops]


def test_nothing_listening_is_connection_refused(cluster: engine.Cluster) -> None:
    ip = pod_ip(cluster, "web")
    result = cluster.curl("client", f"http://{ip}:8080/")
    assert result.error == f"curl: (7) Failed to connect to {ip} port 8080 after 0 ms: Couldn't connect to server"
    assert result.exit_code == 7 and "refused" in [hop.what for hop in result.hops]


def test_an_address_nobody_has_times_out(cluster: engine.Cluster) -> None:
    result = cluster.curl("client", "http://10.244.9.9/", connect_timeout=5)
    assert result.error == "curl: (28) Connection timed out after 5001 milliseconds"


def test_a_node_reaches_a_pod_and_cannot_resolve_cluster_names(cluster: engine.Cluster) -> None:
    assert cluster.curl("node-1", f"http://{pod_ip(cluster, 'web')}/").status == 200
    result = cluster.curl("node-1", "http://web.default.svc.cluster.local/")
    assert result.error == "curl: (6) Could not resolve host: web.default.svc.cluster.local"


def test_wget_in_a_container_goes_through_the_model(cluster: engine.Cluster) -> None:
    runtime = cluster.runtimes["node-1"]
    container = next(c for c in runtime.list_containers() if c.metadata.name == "main" and
                     c.labels.get("io.kubernetes.pod.name") == "client")
    answer = runtime.exec_sync(container.id, ["wget", "-qO-", f"http://{pod_ip(cluster, 'web')}/"])
    assert answer.exit_code == 0 and "Welcome to nginx!" in answer.stdout
    refused = runtime.exec_sync(container.id, ["wget", "-qO-", f"http://{pod_ip(cluster, 'web')}:81/"])
    assert refused.exit_code == 1 and "Connection refused" in refused.stderr


@dataclass
class Verdict:
    action: str = "ACCEPT"
    dnat: tuple | None = None
    masquerade: bool = False
    snat: str | None = None
    trace: list = field(default_factory=list)


class ServiceRules:
    """A stand-in for kube-proxy's Netfilter with the contract's traverse(): one VIP DNATed and masqueraded."""

    def __init__(self, vip: str, backend: str) -> None:
        self.vip, self.backend = vip, backend

    def traverse(self, table: str, chain: str, packet) -> Verdict:
        if table == "nat" and chain in ("PREROUTING", "OUTPUT") and (packet.dst, packet.dport) == (self.vip, 80):
            packet.mark |= 0x4000
            return Verdict(dnat=(self.backend, 80), trace=["-A KUBE-SEP-TEST -p tcp -j DNAT"])
        if table == "nat" and chain == "POSTROUTING" and packet.mark & 0x4000:
            return Verdict(masquerade=True, trace=["-A KUBE-POSTROUTING -j MASQUERADE"])
        return Verdict()


def test_conntrack_undoes_dnat_and_masquerade_on_the_answer(cluster: engine.Cluster) -> None:
    host = cluster.fabric.hosts["node-1"]
    real, host.iptables = host.iptables, ServiceRules("10.96.0.50", pod_ip(cluster, "web"))
    try:
        result = cluster.curl("client", "http://10.96.0.50/")
    finally:
        host.iptables = real
    assert result.status == 200
    what = [hop.what for hop in result.hops]
    assert what.index("DNAT") < what.index("MASQUERADE") < what.index("encapsulate")
    delivered = next(hop for hop in result.hops if hop.what == "deliver")
    assert delivered.headers.startswith("10.244.1.0:")        # masqueraded to flannel.1's address
    received = result.hops[-1]
    assert received.headers.startswith("10.96.0.50:80 > 10.244.1.")   # the client sees the VIP answer


def test_the_path_view_nests_pods_in_their_nodes(cluster: engine.Cluster) -> None:
    from engine.viz.packet_path import packet_path
    source = packet_path(cluster.curl("client", f"http://{pod_ip(cluster, 'web')}/"), cluster).source
    assert 'label="node-1 · 172.18.0.3"' in source and 'label="pod default/client"' in source
    assert 'label="pod default/web"' in source and "encapsulate" in source


def test_a_pod_waits_for_the_network_add_on_with_network_not_ready() -> None:
    c = bare_network_cluster(nodes=1)
    c.apply(pod("early", "node-1"))
    c.run(5)
    assert c.get("pods", "early")["status"].get("podIP") is None
    # the kubelet starts no sandbox while the runtime reports NetworkReady=false (kubelet.go's SyncPod)
    event = next(e for e in c.list("events") if e["reason"] == "NetworkNotReady")
    assert event["type"] == "Warning" and event["message"] == (
        "network is not ready: container runtime network not ready: NetworkReady=false "
        "reason:NetworkPluginNotReady message:Network plugin returns error: cni plugin not initialized")
    start_agent(c, FlannelAgent)
    c.run(15)
    assert c.get("pods", "early")["status"]["podIP"].startswith("10.244.1.")


def test_a_programs_dial_goes_through_its_pods_namespace(cluster: engine.Cluster) -> None:
    from engine.sim.hostnet import ConnectionRefused
    runtime = cluster.runtimes["node-1"]
    container = next(c for c in runtime.list_containers() if c.labels.get("io.kubernetes.pod.name") == "client")
    ctx = runtime.program(container.id).ctx
    assert type(ctx.dial(pod_ip(cluster, "web"), 80)).__name__ == "Nginx"
    with pytest.raises(ConnectionRefused):
        ctx.dial(pod_ip(cluster, "web"), 81)
