"""busybox ping on a flannel cluster: ICMP echo through the packet model. A pod answers (ttl 64 on the same
node, 62 across the overlay); a Service's ClusterIP never does in iptables mode (only TCP, UDP and SCTP are
DNATed), so ping reports 100% packet loss and exits 1."""

from __future__ import annotations

from datetime import datetime

import pytest

import engine


def sleeper(name: str, node: str, command: list[str] | None = None) -> dict:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
            "spec": {"nodeName": node, "restartPolicy": "Never",
                     "containers": [{"name": "c", "image": "busybox", "command": command or ["sleep", "3600"]}]}}


@pytest.fixture(scope="module")
def cluster() -> engine.Cluster:
    cluster = engine.Cluster(nodes=2, seed=0, network="flannel")
    cluster.apply([sleeper("a", "node-1"), sleeper("b", "node-1"), sleeper("x", "node-2")])
    cluster.run(15)
    return cluster


def ip(cluster: engine.Cluster, pod: str) -> str:
    return cluster.get("pod", pod)["status"]["podIP"]


def test_a_pod_answers_with_the_ttl_of_the_routers_in_between(cluster):
    near = cluster.kubectl(f"exec a -- ping -c 3 {ip(cluster, 'b')}")
    lines = near.splitlines()
    assert lines[0] == f"PING {ip(cluster, 'b')} ({ip(cluster, 'b')}): 56 data bytes"
    assert [line.split(": ", 1)[1].split(" time=")[0] for line in lines[1:4]] == \
        ["seq=0 ttl=64", "seq=1 ttl=64", "seq=2 ttl=64"]
    assert "3 packets transmitted, 3 packets received, 0% packet loss" in near
    assert "round-trip min/avg/max = " in near
    far = cluster.kubectl(f"exec a -- ping -c 2 {ip(cluster, 'x')}")
    assert f"64 bytes from {ip(cluster, 'x')}: seq=0 ttl=62 time=" in far


def test_a_cluster_ip_never_answers_a_ping(cluster):
    out = cluster.kubectl("exec a -- ping -c 2 kube-dns.kube-system")
    assert out.startswith("PING kube-dns.kube-system (10.96.0.10): 56 data bytes\n")
    assert "2 packets transmitted, 0 packets received, 100% packet loss" in out
    assert "bytes from" not in out and "command terminated with exit code 1" in out
    assert "ping: bad address 'nope'" in cluster.kubectl("exec a -- ping -c 1 nope")


def test_ping_as_a_pods_command_takes_a_second_a_request(cluster):
    cluster.apply(sleeper("pinger", "node-2", ["ping", "-c", "3", ip(cluster, "a")]))
    cluster.run(8)
    pod = cluster.get("pod", "pinger")
    state = pod["status"]["containerStatuses"][0]["state"]["terminated"]
    assert state["exitCode"] == 0
    logs = cluster.kubectl("logs pinger")
    assert logs.count(" ttl=62 ") == 3 and "3 packets transmitted, 3 packets received" in logs
    started, finished = (datetime.fromisoformat(state[k].replace("Z", "+00:00")) for k in ("startedAt", "finishedAt"))
    assert (finished - started).total_seconds() == 2                # requests at 0, 1 and 2 s
