"""Boots a cluster with a network add-on for the network scenarios, the way kubeadm's addon phase will.

Until kubeadm's ``Cluster(network=...)`` lands, this does its part by hand: kube-controller-manager with
``--allocate-node-cidrs``, ``engine.network.attach`` for the nodes' stacks and CNI, and the add-on's agents
started as components on every node (in place of their DaemonSet pods).
"""

from __future__ import annotations

import dataclasses
import types
from typing import Any

import engine
from engine.components import COMPONENTS, ComponentContext
from engine.kubelet import KUBELET
from engine.network import attach
from engine.scheduler import SCHEDULER


def network_cluster(agent: type, nodes: int = 2, seed: int = 0, proxy_mode: str | None = None,
                    **options: Any) -> engine.Cluster:
    """A cluster whose nodes run ``agent`` (FlannelAgent, CalicoNode), and kube-proxy in ``proxy_mode`` if given."""
    kcm = dataclasses.replace(COMPONENTS[0], options={"allocate-node-cidrs": True})
    cluster = engine.Cluster(nodes=nodes, seed=seed, components=[kcm, *COMPONENTS[1:], SCHEDULER, KUBELET])
    fabric = attach(cluster)
    cluster.agents = []
    for node in cluster.node_names:
        machine = types.SimpleNamespace(name=node, address=fabric.hosts[node].address,
                                        runtime=cluster.runtimes[node], network_stack=fabric.hosts[node])
        programs = [(agent, agent.name, {"machine": machine, **options})]
        if proxy_mode is not None:
            from engine.proxy.server import KubeProxy
            programs.append((KubeProxy, "kube-proxy", {"machine": machine, "proxy-mode": proxy_mode,
                                                       "cluster-cidr": "10.244.0.0/16"}))
        for program, name, program_options in programs:
            context = ComponentContext(name, cluster.admin, cluster.loop, node, program_options)
            running = program(context)
            running.start()
            cluster.agents.append(running)
    cluster.run(2)
    return cluster


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
