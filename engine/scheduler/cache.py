"""The scheduler's cache (pkg/scheduler/backend/cache): nodes and the pods on them, including assumed pods.

Interface: ``add_node`` / ``update_node`` / ``remove_node``, ``add_pod`` /
``update_pod`` / ``remove_pod`` (from the informers: pods with a nodeName),
``assume_pod`` (the scheduler placed a pod and is binding it), ``forget_pod``
(binding failed), ``node_infos``: every node in the node tree's order, and
``subscribe(sink)``: the names of nodes that change from then on (the fast
path's memos, ``engine.scheduler.memo``).

Promises: an assumed pod counts on its node at once, so the next pod sees it
before the informer does; when the informer reports the bound pod, the
assumption is confirmed (replaced by the real object). ``node_infos`` lists
nodes zone by zone in turn, as the node tree does, so that a partial search
(percentageOfNodesToScore) visits every zone. The cache holds frozen objects
from the informers and never modifies them.
"""

from __future__ import annotations

from engine.scheduler.nodeinfo import NodeInfo

ZONE_LABEL = "topology.kubernetes.io/zone"
REGION_LABEL = "topology.kubernetes.io/region"


def pod_key(pod: dict) -> str:
    metadata = pod["metadata"]
    return f"{metadata.get('namespace') or 'default'}/{metadata['name']}"


def zone_of(node: dict) -> str:
    """utilnode.GetZoneKey: region and zone joined (empty when the node has neither)."""
    labels = node["metadata"].get("labels") or {}
    region, zone = labels.get(REGION_LABEL, ""), labels.get(ZONE_LABEL, "")
    if not region and not zone:
        return ""
    return f"{region}:\x00:{zone}"


class SchedulerCache:
    """Node infos by name, pod placements, and the assumed pods still being bound."""

    def __init__(self) -> None:
        self.nodes: dict[str, NodeInfo] = {}
        self.pod_nodes: dict[str, str] = {}          # pod key -> node name
        self.assumed: set[str] = set()
        self._zones: dict[str, list[str]] = {}       # zone -> node names, in the order they were added
        self._ordered: list[NodeInfo] | None = None
        self._ordered_names: list[str] = []
        self._positions: dict[str, int] = {}
        self.order_generation = 0
        """Grows whenever ``node_infos`` changes order (a node added or removed, or moved to another zone)."""
        self._sinks: list[set[str]] = []                  # the memos' dirty sets (engine.scheduler.memo)
        self._orphans: dict[str, dict[str, dict]] = {}   # pods seen on a node not (yet) known
        self.memo: dict = {}                             # pod requests, computed once per pod version
        self.nodes_generation = 0
        """Grows with every node added, changed or removed (what a per-node memo must also check)."""
        self.image_nodes: dict[str, int] = {}            # image -> how many nodes have it (ImageStates.NumNodes)
        self.affinity_nodes: dict[str, None] = {}        # nodes holding pods with pod (anti-)affinity
        self.label_index: dict[tuple[str, str], dict[str, None]] = {}   # (label, value) -> placed pod keys
        self._pod_labels: dict[str, dict] = {}
        self.node_label_index: dict[tuple[str, str], dict[str, None]] = {}   # (label, value) -> node names

    # -- nodes ---------------------------------------------------------------------
    def add_node(self, node: dict) -> NodeInfo:
        name = node["metadata"]["name"]
        info = self.nodes.get(name)
        if info is not None:
            return self.update_node(node)
        info = self.nodes[name] = NodeInfo(node, memo=self.memo)
        self._index_node(name, None, info.labels)
        self._count_images(info, 1)
        self.nodes_generation += 1
        self._touched(name)
        self._zones.setdefault(zone_of(node), []).append(name)
        self._reorder()
        for key, pod in self._orphans.pop(name, {}).items():
            info.add_pod(key, pod)
        self._note_affinity(info)
        return info

    def update_node(self, node: dict) -> NodeInfo:
        name = node["metadata"]["name"]
        info = self.nodes.get(name)
        if info is None:
            return self.add_node(node)
        old_zone, new_zone = zone_of(info.node), zone_of(node)
        self._count_images(info, -1)
        old_labels = info.labels
        info.set_node(node)
        self._index_node(name, old_labels, info.labels)
        self._count_images(info, 1)
        self.nodes_generation += 1
        self._touched(name)
        if old_zone != new_zone:
            self._zones[old_zone].remove(name)
            if not self._zones[old_zone]:
                del self._zones[old_zone]
            self._zones.setdefault(new_zone, []).append(name)
            self._reorder()
        return info

    def remove_node(self, name: str) -> None:
        info = self.nodes.pop(name, None)
        if info is None:
            return
        self._index_node(name, info.labels, None)
        self._count_images(info, -1)
        self.nodes_generation += 1
        self._touched(name)
        self.affinity_nodes.pop(name, None)
        zone = zone_of(info.node)
        self._zones[zone].remove(name)
        if not self._zones[zone]:
            del self._zones[zone]
        self._reorder()
        if info.pods:
            self._orphans[name] = dict(info.pods)

    # -- who must forget what ---------------------------------------------------------
    def subscribe(self, sink: set[str]) -> None:
        """From now on, add the name of every node that changes to ``sink``."""
        self._sinks.append(sink)

    def unsubscribe(self, sink: set[str]) -> None:
        self._sinks = [s for s in self._sinks if s is not sink]

    def _touched(self, name: str) -> None:
        for sink in self._sinks:
            sink.add(name)

    def _index_node(self, name: str, old: dict | None, new: dict | None) -> None:
        for pair in (old or {}).items():
            names = self.node_label_index.get(pair)
            if names is not None:
                names.pop(name, None)
                if not names:
                    del self.node_label_index[pair]
        for pair in (new or {}).items():
            self.node_label_index.setdefault(pair, {})[name] = None

    def nodes_with_label(self, label: str, value: str) -> dict[str, None]:
        """The names of the nodes whose ``label`` is ``value`` (do not modify)."""
        return self.node_label_index.get((label, value), {})

    def _count_images(self, info: NodeInfo, delta: int) -> None:
        for image in info.images:
            count = self.image_nodes.get(image, 0) + delta
            if count > 0:
                self.image_nodes[image] = count
            else:
                self.image_nodes.pop(image, None)

    def _note_affinity(self, info: NodeInfo) -> None:
        if info.affinity_pods:
            self.affinity_nodes[info.name] = None
        else:
            self.affinity_nodes.pop(info.name, None)

    @property
    def nodes_with_affinity_pods(self) -> list[NodeInfo]:
        """havePodsWithAffinityNodeInfoList: only these nodes can hold anti-affinity that rejects a pod."""
        return [self.nodes[name] for name in self.affinity_nodes if name in self.nodes]

    @property
    def node_infos(self) -> list[NodeInfo]:
        """All nodes, one zone after another in turn (nodeTree.list)."""
        if self._ordered is None:
            zones = [names for names in self._zones.values()]
            ordered: list[NodeInfo] = []
            index = 0
            while len(ordered) < len(self.nodes):
                for names in zones:
                    if index < len(names):
                        ordered.append(self.nodes[names[index]])
                index += 1
            self._ordered = ordered
            self._ordered_names = [info.name for info in ordered]
            self._positions = {name: index for index, name in enumerate(self._ordered_names)}
        return self._ordered

    @property
    def node_names(self) -> list[str]:
        """The names of ``node_infos``, in the same order (a new list whenever the order changes)."""
        self.node_infos
        return self._ordered_names

    @property
    def node_positions(self) -> dict[str, int]:
        """Each node's index in ``node_infos`` (do not modify)."""
        self.node_infos
        return self._positions

    def _reorder(self) -> None:
        self._ordered = None
        self.order_generation += 1

    def get(self, name: str) -> NodeInfo | None:
        return self.nodes.get(name)

    # -- pods -------------------------------------------------------------------------
    MEMO_LIMIT = 1_000_000
    """The memo holds pure results (requests, parsed terms) per pod version; past this many it starts over."""

    def add_pod(self, pod: dict) -> None:
        if len(self.memo) > self.MEMO_LIMIT:
            self.memo.clear()
        key = pod_key(pod)
        node_name = pod["spec"]["nodeName"]
        if key in self.assumed and self._confirm(key, node_name, pod):
            return
        self.assumed.discard(key)
        previous = self.pod_nodes.get(key)
        if previous is not None and previous != node_name:
            self._remove_from(previous, key)
        self.pod_nodes[key] = node_name
        self._index(key, pod["metadata"].get("labels") or {})
        info = self.nodes.get(node_name)
        if info is None:
            self._orphans.setdefault(node_name, {})[key] = pod
        else:
            info.add_pod(key, pod)
            self._note_affinity(info)
            self._touched(node_name)

    update_pod = add_pod

    def _confirm(self, key: str, node_name: str, pod: dict) -> bool:
        """The informer reports an assumed pod bound where it was assumed, with the spec and labels it was
        assumed with: swap in the real object. Nothing the memos read changed (requests, ports and the pod
        count come from specs, InterPodAffinity's counts from labels), so they are not told; False when the
        pod must be re-added instead."""
        info = self.nodes.get(node_name)
        assumed = info.pods.get(key) if info is not None and self.pod_nodes.get(key) == node_name else None
        if assumed is None or assumed["spec"] != pod["spec"] or \
                assumed["metadata"].get("labels") != pod["metadata"].get("labels"):
            return False
        self.assumed.discard(key)
        info.replace_pod(key, pod)
        return True

    def remove_pod(self, pod: dict) -> None:
        key = pod_key(pod)
        self.assumed.discard(key)
        node_name = self.pod_nodes.pop(key, None)
        if node_name is not None:
            self._remove_from(node_name, key)
        self._index(key, None)

    def _index(self, key: str, labels: dict | None) -> None:
        old = self._pod_labels.pop(key, None)
        if old is not None:
            for pair in old.items():
                keys = self.label_index.get(pair)
                if keys is not None:
                    keys.pop(key, None)
                    if not keys:
                        del self.label_index[pair]
        if labels is not None:
            self._pod_labels[key] = labels
            for pair in labels.items():
                self.label_index.setdefault(pair, {})[key] = None

    def placed_pods_with_label(self, label: str, values: list[str]) -> list[tuple[dict, "NodeInfo"]]:
        """(pod, its node) for every placed pod whose ``label`` has one of ``values``, in a stable order."""
        found = []
        for value in values:
            for key in self.label_index.get((label, value), ()):
                info = self.nodes.get(self.pod_nodes.get(key, ""))
                if info is not None and key in info.pods:
                    found.append((info.pods[key], info))
        return found

    def _remove_from(self, node_name: str, key: str) -> None:
        info = self.nodes.get(node_name)
        if info is not None:
            info.remove_pod(key)
            self._note_affinity(info)
            self._touched(node_name)
        else:
            self._orphans.get(node_name, {}).pop(key, None)

    def assume_pod(self, pod: dict, node_name: str) -> dict:
        """Count ``pod`` on ``node_name`` now; returns the assumed copy (with ``spec.nodeName``)."""
        assumed = dict(pod, spec=dict(pod.get("spec") or {}, nodeName=node_name))
        self.add_pod(assumed)
        self.assumed.add(pod_key(pod))
        return assumed

    def forget_pod(self, pod: dict) -> None:
        if pod_key(pod) in self.assumed:
            self.remove_pod(pod)

    def is_assumed(self, pod: dict) -> bool:
        return pod_key(pod) in self.assumed
