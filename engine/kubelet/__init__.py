"""kubelet: the node agent.

``KUBELET`` is the component's registry line (one per node); labs run a cluster
with their own functions plugged in through its options, e.g.
``dataclasses.replace(KUBELET, options={"restart_backoff": my_delay})``. The parts:
``kubelet`` (the component: pod sources, sync loop, housekeeping), ``pod_workers``,
``kuberuntime`` (computePodActions, SyncPod, KillPod), ``backoff``, ``pleg``,
``status`` and ``status_manager``, ``admission``, ``node_status`` and ``server``
(the kubelet's API on port 10250: logs and exec).
"""

from engine.components import ComponentSpec

KUBELET = ComponentSpec("kubelet", "node", "engine.kubelet.kubelet:Kubelet", user="system:node:{node}",
                        groups=("system:nodes",))

__all__ = ["KUBELET"]
