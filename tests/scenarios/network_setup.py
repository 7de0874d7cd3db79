"""Network add-on agents started as bare components, for scenarios that test one agent at a time.

``engine.Cluster(network=..., proxy_mode=...)`` is the kubeadm way (the agents as DaemonSet pods, CoreDNS as a
Deployment; tests/scenarios/test_network_addons.py and the chapters use it). The scenarios here want less: one
agent (flanneld, calico-node, kube-proxy) on each node's network stack and nothing else, so that a failure points at
that agent. ``network_cluster`` does kubeadm's part by hand: kube-controller-manager with
``--allocate-node-cidrs``, ``engine.network.attach`` for the nodes' stacks and CNI, then each agent as a component
on every node (``start_agent``; kube-proxy with kubeadm's config file and the ``system:kube-proxy`` identity,
``start_kube_proxy``, its health servers bound on the node's address). ``cluster.agents`` lists what was started.
"""

from __future__ import annotations

import dataclasses
import types
from typing import Any

import engine
from engine.components import COMPONENTS, ComponentContext
from engine.network import attach

CLUSTER_CIDR = "10.244.0.0/16"


def bare_network_cluster(nodes: int = 2, seed: int = 0, **cluster_options: Any) -> engine.Cluster:
    """A cluster whose nodes have network stacks and pod CIDRs but no network agent yet (NetworkReady=false)."""
    kcm = dataclasses.replace(COMPONENTS[0], options={"allocate-node-cidrs": True})
    cluster = engine.Cluster(nodes=nodes, seed=seed, components=[kcm, *COMPONENTS[1:]],
                             **cluster_options)
    attach(cluster)
    cluster.agents = []
    return cluster


def network_cluster(agent: type, nodes: int = 2, seed: int = 0, proxy_mode: str | None = None,
                    cloud: str | None = None, **options: Any) -> engine.Cluster:
    """A cluster whose nodes run ``agent`` (FlannelAgent, CalicoNode), and kube-proxy in ``proxy_mode`` if given."""
    cluster = bare_network_cluster(nodes, seed, cloud=cloud)
    start_agent(cluster, agent, **options)
    if proxy_mode is not None:
        start_kube_proxy(cluster, proxy_mode)
    cluster.run(2)
    return cluster


def _machine(cluster: engine.Cluster, node: str) -> types.SimpleNamespace:
    host = cluster.fabric.hosts[node]
    return types.SimpleNamespace(name=node, address=host.address, runtime=cluster.runtimes[node], network_stack=host)


def start_agent(cluster: engine.Cluster, agent: type, **options: Any) -> None:
    """``agent`` started on every node as the admin (in place of its DaemonSet pods)."""
    for node in cluster.node_names:
        running = agent(ComponentContext(agent.name, cluster.admin, cluster.loop, node,
                                         {"machine": _machine(cluster, node), **options}))
        running.start()
        cluster.agents.append(running)


def start_kube_proxy(cluster: engine.Cluster, mode: str = "iptables") -> None:
    """kube-proxy on every node: kubeadm's config file in ``mode``, the ``system:kube-proxy`` identity."""
    from engine.proxy.config import render
    from engine.proxy.server import KubeProxy
    for node in cluster.node_names:
        address = cluster.fabric.hosts[node].address
        options = {"machine": _machine(cluster, node), "config": "/var/lib/kube-proxy/config.conf",
                   "fs": {"/var/lib/kube-proxy/config.conf": render(mode, CLUSTER_CIDR)},
                   "listen": lambda port, handler, at=address: cluster.hostnet.listen(at, port, handler),
                   "close": lambda port, at=address: cluster.hostnet.close(at, port)}
        proxy = KubeProxy(ComponentContext("kube-proxy", cluster.client("system:kube-proxy"), cluster.loop, node,
                                           options))
        proxy.start()
        cluster.agents.append(proxy)


def pod(name: str, node: str, image: str = "nginx", labels: dict | None = None, namespace: str = "default",
        command: list[str] | None = None) -> dict:
    container: dict[str, Any] = {"name": "main", "image": image}
    if command:
        container["command"] = command
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": namespace, "labels": labels or {}},
            "spec": {"nodeName": node, "containers": [container]}}


def pod_ip(cluster: engine.Cluster, name: str, namespace: str = "default") -> str:
    return cluster.get("pods", name, namespace)["status"]["podIP"]
