"""kube-proxy: Service virtual IPs made real on every node, in iptables or ipvs mode.

- ``server``: ``KubeProxy``, the component the kube-proxy DaemonSet's pods run;
- ``config``: KubeProxyConfiguration (the ``config.conf`` of the kube-proxy ConfigMap);
- ``serviceport``, ``endpoint``, ``changetracker``: Services and EndpointSlices as kube-proxy keeps them;
- ``iptables.rules`` / ``iptables.proxier``: the iptables mode's chains and its sync loop;
- ``ipvs.proxier``: the ipvs mode (virtual servers, ipsets, a few rules);
- ``runner``: the BoundedFrequencyRunner behind ``--iptables-min-sync-period``;
- ``manifests``: kubeadm's kube-proxy add-on objects.

``dump(cluster, node)`` prints a node's rules as ``iptables-save`` does (and
``ipvsadm -Ln`` for ipvs with ``ipvs=True``), for chapter 08 and debugging.
"""

from __future__ import annotations

from typing import Any

from engine.proxy.manifests import IMAGE, manifests


def dump(cluster: Any, node: str, *, table: str | None = None, ipvs: bool = False) -> str:
    """``iptables-save`` (one table with ``table``) or ``ipvsadm -Ln`` on ``node``'s network stack."""
    machine = cluster.machines[node]
    stack = getattr(machine, "network_stack", None)
    if stack is None:
        raise ValueError(f"node {node} has no network stack: start the cluster with network=...")
    if ipvs:
        return stack.ipvs.dump()
    return stack.iptables.save((table,) if table else None)


__all__ = ["IMAGE", "dump", "manifests"]
