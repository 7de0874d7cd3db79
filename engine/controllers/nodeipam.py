"""The node IPAM controller (``pkg/controller/nodeipam``, the ``RangeAllocator``): one pod CIDR per node.

With ``--allocate-node-cidrs`` (kubeadm passes it, with ``--cluster-cidr`` set
to its pod subnet), kube-controller-manager cuts the cluster CIDR
(``10.244.0.0/16``) into blocks of ``--node-cidr-mask-size`` bits (/24: 256
blocks of 254 pod addresses) and gives every Node one block, written to
``spec.podCIDR`` and ``spec.podCIDRs``. The CNI plugins on the node hand out
pod IPs from that block (``host-local`` IPAM).

The allocator is ``CIDRSet``: a bitmap over the blocks with a *next
candidate* that moves round-robin, so a freed block is reused only after
the others. Blocks already written on Nodes (a restarted controller) are
occupied first. When no block is left the node gets none and the controller
records the real event: ``Normal CIDRNotAvailable "Node node-9 status is
now: CIDRNotAvailable"`` from ``cidrAllocator``, and retries with back-off.
A deleted Node's block is released. Without ``--allocate-node-cidrs`` the
controller does nothing, as upstream does not start it.

``options["allocate_node_cidr"]`` (a lab's seam) replaces the choice of the next block:
``choose(cluster_cidr, mask_size, taken, last) -> cidr | None``, with ``taken`` the blocks in use
(sorted) and ``last`` the block handed out last (None before the first); the bitmap still records it.
"""

from __future__ import annotations

import ipaddress
import logging
from typing import Callable

from engine import flags
from engine.api import errors
from engine.client.record import NORMAL, EventRecorder
from engine.client.workqueue import WorkQueue, run_workers
from engine.components import ComponentContext

log = logging.getLogger(__name__)

NO_CIDRS_LEFT = "CIDR allocation failed; there are no remaining CIDRs left to allocate in the accepted range"


class CIDRSetExhausted(Exception):
    """``ErrCIDRRangeNoCIDRsRemaining``."""


class CIDRSet:
    """The blocks of one cluster CIDR: ``allocate_next``, ``occupy`` and ``release`` (upstream ``cidrset``)."""

    def __init__(self, cluster_cidr: str, mask_size: int, choose: Callable[..., str | None] | None = None) -> None:
        self.cluster = ipaddress.ip_network(cluster_cidr)
        if mask_size < self.cluster.prefixlen:
            raise ValueError(f"invalid --node-cidr-mask-size {mask_size}: smaller than the cluster CIDR's "
                             f"/{self.cluster.prefixlen}")
        self.mask_size = mask_size
        self.max_cidrs = 1 << (mask_size - self.cluster.prefixlen)
        self.used: set[int] = set()
        self.next_candidate = 0
        self.last: int | None = None
        self.choose = choose

    def _block(self, index: int) -> str:
        size = 1 << (self.cluster.max_prefixlen - self.mask_size)
        return f"{self.cluster.network_address + index * size}/{self.mask_size}"

    def _index(self, cidr: str) -> int | None:
        network = ipaddress.ip_network(cidr, strict=False)
        if network.prefixlen != self.mask_size or not network.subnet_of(self.cluster):   # type: ignore[arg-type]
            return None
        size = 1 << (self.cluster.max_prefixlen - self.mask_size)
        return (int(network.network_address) - int(self.cluster.network_address)) // size

    def allocate_next(self) -> str:
        if self.choose is not None:
            return self._chosen()
        for offset in range(self.max_cidrs):
            candidate = (self.next_candidate + offset) % self.max_cidrs
            if candidate not in self.used:
                self.used.add(candidate)
                self.next_candidate = (candidate + 1) % self.max_cidrs
                self.last = candidate
                return self._block(candidate)
        raise CIDRSetExhausted(NO_CIDRS_LEFT)

    def _chosen(self) -> str:
        taken = [self._block(index) for index in sorted(self.used)]
        last = None if self.last is None else self._block(self.last)
        cidr = self.choose(str(self.cluster), self.mask_size, taken, last) if self.choose else None
        index = None if cidr is None else self._index(str(cidr))
        if index is None or index in self.used:
            raise CIDRSetExhausted(NO_CIDRS_LEFT)
        self.used.add(index)
        self.next_candidate = (index + 1) % self.max_cidrs
        self.last = index
        return self._block(index)

    def occupy(self, cidr: str) -> None:
        index = self._index(cidr)
        if index is not None:
            self.used.add(index)

    def release(self, cidr: str) -> None:
        index = self._index(cidr)
        if index is not None:
            self.used.discard(index)


class NodeIpamController:
    """Gives every Node a ``spec.podCIDR`` from ``--cluster-cidr`` (only with ``--allocate-node-cidrs``)."""

    name = "node-ipam-controller"
    service_account = "node-controller"

    def __init__(self, context: ComponentContext) -> None:
        options = context.options
        self.enabled = bool(options.get("allocate-node-cidrs", flags.allocate_node_cidrs))
        self.client = context.client
        self.cidrs = CIDRSet(options.get("cluster-cidr", flags.cluster_cidr),
                             int(options.get("node-cidr-mask-size", flags.node_cidr_mask_size)),
                             options.get("allocate_node_cidr"))
        self.recorder = EventRecorder(context.client, "cidrAllocator")
        self.queue = WorkQueue(context.loop, name="nodeipam")
        self.nodes = context.informers.informer("nodes")
        self.workers = None
        if self.enabled:
            self.nodes.add_event_handler(on_add=self.queue.add_key,
                                         on_update=lambda old, new: self.queue.add_key(new),
                                         on_delete=self._release)

    def start(self) -> None:
        if self.enabled:
            self.workers = run_workers(self.queue, self.sync)

    def stop(self) -> None:
        if self.workers is not None:
            self.workers.stop()

    def _release(self, node: dict) -> None:
        for cidr in (node.get("spec") or {}).get("podCIDRs") or ():
            self.cidrs.release(cidr)

    def sync(self, key: str) -> None:
        """AllocateOrOccupyCIDR: occupy a node's written block, or allocate one and patch it on the Node."""
        node = self.nodes.indexer.get_by_key(key)
        if node is None or node["metadata"].get("deletionTimestamp"):
            return
        existing = (node.get("spec") or {}).get("podCIDRs") or []
        if existing:
            for cidr in existing:
                self.cidrs.occupy(cidr)
            return
        self._occupy_all()
        try:
            cidr = self.cidrs.allocate_next()
        except CIDRSetExhausted as error:
            name = node["metadata"]["name"]
            self.recorder.event({"kind": "Node", "name": name, "uid": name}, NORMAL, "CIDRNotAvailable",
                                f"Node {name} status is now: CIDRNotAvailable")
            raise RuntimeError(f"failed to allocate cidr from cluster cidr at idx:0: {error}") from None
        try:
            self.client.patch("nodes", node["metadata"]["name"], {"spec": {"podCIDR": cidr, "podCIDRs": [cidr]}})
        except errors.NotFound:
            self.cidrs.release(cidr)
            return
        log.info("nodeipam: set node %s podCIDR to %s", node["metadata"]["name"], cidr)

    def _occupy_all(self) -> None:
        """Blocks already on Nodes are taken before any new allocation (the allocator's start-up pass)."""
        for node in self.nodes.indexer.list():
            for cidr in (node.get("spec") or {}).get("podCIDRs") or ():
                self.cidrs.occupy(cidr)
