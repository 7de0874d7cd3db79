"""The kube-controller-manager / cloud-controller-manager split, drawn as a ``graphviz.Digraph``.

``controller_split()`` draws the two ways a cluster has talked to its cloud, side by side:

- **in-tree** (every cloud provider compiled into Kubernetes, removed by v1.31): kube-controller-manager
  ran the cloud loops (node, route, service, volume labels) beside its generic ones, and each kubelet,
  started with ``--cloud-provider=aws`` (or gce, azure...), asked the cloud about its own machine;
- **external** (the cloud-controller-manager): kube-controller-manager runs no cloud code; the
  vendor's cloud-controller-manager, built on ``k8s.io/cloud-provider``, runs the cloud loops; kubelets
  start with ``--cloud-provider=external`` and register tainted until the CCM has initialised them.
  Only the CCM calls the cloud's API.

``controller_split(cluster)`` lists, in the external half, the controllers that cluster's two managers
really run (``name`` of each); without a cloud, the CCM box says it is not running. Promises: a function
of the cluster's state only (the same state, the same DOT source); it never changes the cluster.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import graphviz

if TYPE_CHECKING:
    from engine.cluster import Cluster

GENERIC = ("replicaset", "deployment", "statefulset", "daemonset", "job", "cronjob", "endpointslice",
           "node-lifecycle-controller", "garbage-collector-controller", "namespace", "...")
"""What kube-controller-manager runs in both worlds (its cloud-free loops), for the lecture picture."""
IN_TREE_CLOUD = ("node (cloud part)", "route", "service", "persistentvolume-labels")
EXTERNAL_CLOUD = ("cloud-node", "cloud-node-lifecycle", "route", "service")
PER_ROW = 3

CLOUD_FILL, CLOUD_EDGE = "#fff3e0", "#e65100"
PLANE_FILL, PLANE_EDGE = "#e3f2fd", "#1565c0"


def _names(component: Any) -> list[str]:
    return [getattr(controller, "name", type(controller).__name__) for controller in
            getattr(component, "controllers", [])]


def _rows(names: list[str] | tuple[str, ...]) -> str:
    rows = [", ".join(names[index:index + PER_ROW]) for index in range(0, len(names), PER_ROW)]
    return "\\n".join(rows)


def controller_split(cluster: "Cluster | None" = None) -> graphviz.Digraph:
    """Before and after the split: who runs the cloud loops, and who calls the cloud's API."""
    graph = graphviz.Digraph("controller_split")
    graph.attr(rankdir="TB", newrank="true", fontname="Helvetica", nodesep="0.3", ranksep="0.5", size="10,8",
               label="Who talks to the cloud: in-tree cloud providers, then the cloud-controller-manager",
               labelloc="t")
    graph.attr("node", fontname="Helvetica", fontsize="10", shape="box", style="rounded")
    graph.attr("edge", fontname="Helvetica", fontsize="9", color="#78909c", arrowsize="0.7")
    components = getattr(cluster, "components", {}) if cluster is not None else {}
    kcm = components.get(("kube-controller-manager", None))
    ccm = components.get(("cloud-controller-manager", None))

    with graph.subgraph(name="cluster_in_tree") as before:
        before.attr(label="in-tree (until v1.31): cloud code compiled into Kubernetes", style="rounded,dashed",
                    color="#9e9e9e", fontcolor="#616161")
        before.node("old/apiserver", "kube-apiserver")
        before.node("old/kcm", "kube-controller-manager\\n--cloud-provider=aws\\n\\ngeneric loops: "
                    + _rows(GENERIC[:6]) + ", ...\\ncloud loops: " + _rows(IN_TREE_CLOUD)
                    + "\\n(every cloud's SDK linked in)", style="rounded,filled", fillcolor=CLOUD_FILL,
                    color=CLOUD_EDGE)
        before.node("old/kubelet", "kubelet --cloud-provider=aws\\nasks the cloud for its own\\naddresses and zone",
                    style="rounded,filled", fillcolor=CLOUD_FILL, color=CLOUD_EDGE)
        before.node("old/cloud", "cloud API", shape="box3d")
        before.edge("old/kcm", "old/apiserver", label="watch / write")
        before.edge("old/kubelet", "old/apiserver")
        before.edge("old/kcm", "old/cloud", color=CLOUD_EDGE, style="dashed")
        before.edge("old/kubelet", "old/cloud", color=CLOUD_EDGE, style="dashed")

    kcm_names = [n for n in _names(kcm)] or list(GENERIC)
    ccm_names = _names(ccm) or list(EXTERNAL_CLOUD)
    ccm_state = "" if ccm is not None or cluster is None else "\\n(not running: this cluster has no cloud)"
    kubelet = "kubelet --cloud-provider=external\\nregisters with the taint\\n" \
        "node.cloudprovider.kubernetes.io/uninitialized" \
        if cluster is None or getattr(cluster, "cloud", None) is not None else "kubelet (no --cloud-provider)"
    with graph.subgraph(name="cluster_external") as after:
        after.attr(label="external (now): the vendor's cloud-controller-manager" +
                   (f", as this cluster runs them (t = {cluster.now:.0f} s)" if cluster is not None else ""),
                   style="rounded,filled", fillcolor="#fafafa", color=PLANE_EDGE, fontcolor="#0d47a1")
        after.node("new/apiserver", "kube-apiserver")
        after.node("new/kcm", "kube-controller-manager\\nno cloud code at all\\n\\n" + _rows(kcm_names),
                   style="rounded,filled", fillcolor=PLANE_FILL, color=PLANE_EDGE)
        after.node("new/ccm", "cloud-controller-manager\\n(k8s.io/cloud-provider + the vendor's provider)\\n\\n"
                   + _rows(ccm_names) + ccm_state, style="rounded,filled" + (",dashed" if ccm_state else ""),
                   fillcolor=CLOUD_FILL, color=CLOUD_EDGE)
        after.node("new/kubelet", kubelet)
        after.node("new/cloud", "cloud API\\n(instances, routes,\\nload balancers, disks)", shape="box3d")
        after.edge("new/kcm", "new/apiserver", label="watch / write")
        after.edge("new/ccm", "new/apiserver", label="watch / write")
        after.edge("new/kubelet", "new/apiserver")
        after.edge("new/ccm", "new/cloud", label="the only caller", color=CLOUD_EDGE, penwidth="2")
    for level in (("old/kcm", "old/kubelet", "new/kcm", "new/ccm", "new/kubelet"),
                  ("old/apiserver", "old/cloud", "new/apiserver", "new/cloud")):
        with graph.subgraph() as same:          # the two worlds side by side, level with each other
            same.attr(rank="same")
            for node in level:
                same.node(node)
    return graph


__all__ = ["controller_split"]
