"""NodePorts: a pod asking for a hostPort fits only where that port is free.

Ports conflict when protocol and port are equal and either host IP is
``0.0.0.0`` or both IPs are the same (HostPortInfo.CheckConflict).
"""

from __future__ import annotations

from typing import Any

from engine.scheduler.framework import SKIP, Status, unschedulable
from engine.scheduler.nodeinfo import NodeInfo, pod_host_ports

NAME = "NodePorts"
ERR_REASON = "node(s) didn't have free ports for the requested pod ports"
WILDCARD = "0.0.0.0"


def conflicts(wanted: list[tuple[str, str, int]], used: dict[tuple[str, str, int], int]) -> bool:
    for ip, protocol, port in wanted:
        for used_ip, used_protocol, used_port in used:
            if used_port == port and used_protocol == protocol and (
                    ip == WILDCARD or used_ip == WILDCARD or ip == used_ip):
                return True
    return False


class NodePorts:
    name = NAME
    node_local = True             # its verdict and score on a node depend on that node and the pod only

    def __init__(self, handle: Any = None) -> None:
        self.memo = getattr(getattr(handle, "snapshot", None), "memo", None)

    def pre_filter(self, state: dict, pod: dict, nodes: list) -> Status | None:
        ports = pod_host_ports(pod, self.memo)
        state[NAME] = ports
        return Status(SKIP) if not ports else None

    def filter(self, state: dict, pod: dict, node_info: NodeInfo) -> Status | None:
        ports = state.get(NAME)
        if ports is None:
            ports = pod_host_ports(pod)
        if ports and node_info.used_ports and conflicts(ports, node_info.used_ports):
            return unschedulable(ERR_REASON)
        return None


def new(args: dict[str, Any] | None = None, handle: Any = None) -> NodePorts:
    return NodePorts(handle)
