"""kube-proxy: Service virtual IPs made real on every node, in iptables or ipvs mode.

- ``server``: ``KubeProxy``, the component the kube-proxy DaemonSet's pods run;
- ``config``: KubeProxyConfiguration (the ``config.conf`` of the kube-proxy ConfigMap);
- ``serviceport``, ``endpoint``, ``changetracker``: Services and EndpointSlices as kube-proxy keeps them;
- ``iptables.rules`` / ``iptables.proxier``: the iptables mode's chains and its sync loop;
- ``ipvs.proxier``: the ipvs mode (virtual servers, ipsets, a few rules);
- ``runner``: the BoundedFrequencyRunner behind ``--iptables-min-sync-period``;
- ``manifests``: kubeadm's kube-proxy add-on objects; ``program``: the image's binary.

``dump(cluster, node)`` prints a node's rules as ``iptables-save`` does (and
``ipvsadm -Ln`` for ipvs with ``ipvs=True``), for chapter 08 and debugging.
"""

from __future__ import annotations

from typing import Any

from engine.proxy.manifests import IMAGE, manifests


def register_images(registry: Any) -> None:
    """Publish ``registry.k8s.io/kube-proxy:v1.31.0`` (kubeadm's addon phase calls this)."""
    from engine.proxy.program import register_images as register
    register(registry)


def dump(cluster: Any, node: str, *, table: str | None = None, ipvs: bool = False) -> str:
    """``iptables-save`` (one table with ``table``) or ``ipvsadm -Ln`` on ``node``'s network stack."""
    machine = getattr(cluster, "machines", {}).get(node)
    stack = getattr(machine, "network_stack", None) if machine is not None else None
    if stack is None and getattr(cluster, "fabric", None) is not None:
        stack = cluster.fabric.hosts[node]
    if stack is None:
        raise ValueError(f"node {node} has no network stack: start the cluster with network=...")
    if ipvs:
        return stack.ipvs.dump()
    return stack.iptables.save((table,) if table else None)


__all__ = ["IMAGE", "dump", "manifests", "register_images"]
