"""A pod reaching itself through its own Service (hairpin), and why kube-proxy masquerades that traffic.

When the Service's DNAT picks the client's own pod, the request goes out of the pod and straight back
in. Without ``-s <pod IP> -j KUBE-MARK-MASQ`` in the endpoint's chain the pod answers itself over its
loopback, away from the node's conntrack: the answer comes from the pod's ``IP:port``, not from the
VIP the client dialled, and the client's socket never takes it (a timeout). With it, the request
arrives from the bridge's address, the answer goes back through the node, and the VIP is restored.
"""

from __future__ import annotations

import engine
from engine.proxy.iptables.rules import endpoint_chain

ONE = """
apiVersion: v1
kind: Pod
metadata: {name: solo, labels: {app: solo}}
spec:
  nodeName: node-1
  containers:
  - name: web
    image: registry.k8s.io/e2e-test-images/agnhost:2.39
    args: ["netexec", "--http-port=8080"]
    ports: [{containerPort: 8080, name: http}]
---
apiVersion: v1
kind: Service
metadata: {name: solo}
spec:
  selector: {app: solo}
  ports: [{name: http, port: 80, targetPort: http}]
"""


def _cluster() -> engine.Cluster:
    cluster = engine.Cluster(nodes=1, seed=5, network="flannel")
    cluster.apply(ONE)
    cluster.run(15)
    return cluster


def test_a_pod_reaches_itself_through_its_service_and_sees_the_vip_answer() -> None:
    cluster = _cluster()
    vip = cluster.get("service", "solo")["spec"]["clusterIP"]
    result = cluster.curl("solo", f"http://{vip}/hostname")
    assert result.ok and result.body.strip() == "solo"
    assert any(hop.what == "MASQUERADE" for hop in result.hops)
    assert result.hops[-1].what == "received" and result.hops[-1].headers.startswith(f"{vip}:80 >")


def test_without_the_hairpin_masquerade_the_answer_misses_the_clients_socket() -> None:
    cluster = _cluster()
    vip = cluster.get("service", "solo")["spec"]["clusterIP"]
    ip = cluster.get("pod", "solo")["status"]["podIP"]
    chain = endpoint_chain("default/solo:http", "tcp", f"{ip}:8080")
    cluster.fabric.hosts["node-1"].iptables.restore(
        f'*nat\n-D {chain} -m comment --comment default/solo:http -s {ip} -j KUBE-MARK-MASQ\nCOMMIT\n', noflush=True)
    result = cluster.curl("solo", f"http://{vip}/hostname", connect_timeout=2)
    assert not result.ok and result.exit_code == 28
    assert [hop.what for hop in result.hops][-1] == "no socket"
    assert cluster.curl("solo", f"http://{ip}:8080/hostname").ok        # the pod's own address still works
