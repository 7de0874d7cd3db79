"""kubeadm: how a cluster is put together, phase by phase, and how its add-ons come to run as pods.

``init`` lists the phases of ``kubeadm init`` and runs those that go through
the API server (``init_phases``); ``controlplane`` writes the control plane's
static pod manifests and is the process their containers run;
``uploadconfig`` builds the objects kubeadm
leaves in the cluster (``kubeadm-config``, ``kubelet-config``,
``cluster-info``); ``addons`` applies the add-ons (CoreDNS, kube-proxy, the
CNI manifest, the others) in kubeadm's order from the packages that provide
them; ``config`` is the ``InitConfiguration`` they all read. ``Cluster``
calls ``install_control_plane`` and ``init_phases`` when it is built with a
``network``.
"""

from engine.kubeadm.config import InitConfiguration
from engine.kubeadm.init import init_phases

__all__ = ["InitConfiguration", "init_phases"]
