"""A machine: one node's computer, the part of a node that is not a Kubernetes component.

A kubeadm cluster is built on machines that exist before Kubernetes does: each
has a hostname, an address on the nodes' L2 segment (``172.18.0.N``, the
``InternalIP`` its kubelet reports, as kind numbers its node containers), a
container runtime (containerd, whose ``host_fs`` is the machine's own
filesystem: ``/etc/kubernetes/manifests``, ``/etc/cni/net.d``,
``/run/flannel/subnet.env``, ...) and a kernel network stack. ``Cluster``
makes one ``Machine`` per node and keeps them in ``Cluster.machines``.

What a machine promises: it outlives the components that run on it (a kubelet
can stop and start again, the runtime and its containers stay), and its
``address`` never changes. ``power_off`` is the power going off (every
process gone, nothing on its address answers); ``power_on`` boots it
(containerd starts with nothing running). ``network_stack`` is None until the network layer
gives the machine a kernel (``engine.network.host.Host``: interfaces, routes,
iptables, ipvs, conntrack); ``hostnet`` is the cluster's host network, where
servers on the machine listen (the kubelet on 10250, the API server on 6443)
and processes dial. A Machine never runs a component itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from engine.runtime.containerd import RuntimeService
    from engine.sim.hostnet import HostNetwork

NODE_SUBNET = "172.18.0.0/16"
"""The nodes' L2 segment (kind's docker network): the first machine is 172.18.0.2 (.1 is the gateway)."""


def machine_address(index: int) -> str:
    """The InternalIP of the ``index``-th machine (0: the control plane, 172.18.0.2)."""
    return f"172.18.0.{index + 2}"


MACHINE_DIRECTORIES = ("/etc/kubernetes/manifests/", "/etc/cni/net.d/", "/opt/cni/bin/", "/run/",
                       "/var/lib/kubelet/")
"""What a machine prepared for kubeadm has before ``kubeadm init``: the kubelet's static pod directory and
state, and the CNI directories the ``kubernetes-cni`` package creates (empty until a network add-on writes its
configuration)."""


@dataclass(eq=False)
class Machine:
    """One node's computer: its name, address, container runtime and network."""

    name: str
    address: str
    runtime: "RuntimeService"
    hostnet: "HostNetwork"
    network_stack: Any = None
    """The machine's kernel network stack (``engine.network.host.Host``), or None before the network layer."""

    def __post_init__(self) -> None:
        for directory in MACHINE_DIRECTORIES:
            self.runtime.host_fs.setdefault(directory, "")

    powered: bool = True
    """False while the machine is off (``Cluster.fail_node``: the power went off)."""

    def power_off(self) -> None:
        """The power goes off: every process on the machine is gone (containerd's containers with it), and
        nothing on its address answers: a dial times out, packets to it and its pods are lost."""
        self.powered = False
        self.runtime.power_off()
        self.hostnet.power_off(self.address)
        if self.network_stack is not None:
            self.network_stack.power_off()

    def power_on(self) -> None:
        """The machine boots: /run (a tmpfs) is empty, its kernel stack comes up fresh (``Host.power_on``: no rules,
        no add-on devices), containerd starts with nothing running (``RuntimeService.boot``); starting the kubelet
        is the caller's (systemd's) part."""
        for path in [path for path in self.runtime.host_fs if path.startswith("/run/") and not path.endswith("/")]:
            del self.runtime.host_fs[path]            # /run is a tmpfs: /run/flannel/subnet.env is written again
        if self.network_stack is not None:
            self.network_stack.power_on()
        self.hostnet.power_on(self.address)
        self.runtime.boot()
        self.powered = True

    @property
    def host_fs(self) -> Any:
        """The machine's filesystem (the runtime's ``host_fs``)."""
        return self.runtime.host_fs
