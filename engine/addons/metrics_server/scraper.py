"""metrics-server's scraper (``pkg/scraper``): read every node's kubelet once per resolution into a MetricsBatch.

For each Node, the kubelet's address is the first of the node's ``status.addresses`` whose type is in
``--kubelet-preferred-address-types`` (in that order), and its port the node's
``daemonEndpoints.kubeletEndpoint.Port`` (``--kubelet-port``, 10250, when unset). The scraper dials it and reads
the Summary API (``GET /stats/summary``); ``decode`` turns it into points: the node's cumulative CPU and working
set, and each running container's. A node whose kubelet refuses the connection or answers with an error is
logged (``Failed to scrape node``) and left out of the batch, so its metrics drop out of the storage.
What it never does: write to the API server, or keep anything between scrapes.
"""

from __future__ import annotations

import logging
from typing import Any, Callable

from engine.api.meta import parse_timestamp
from engine.addons.metrics_server.storage import MetricsBatch, MetricsPoint
from engine.kubelet.server import KubeletError
from engine.sim.hostnet import ConnectionRefused

log = logging.getLogger(__name__)

DEFAULT_KUBELET_PORT = 10250
DEFAULT_ADDRESS_TYPES = ("Hostname", "InternalDNS", "InternalIP", "ExternalDNS", "ExternalIP")
"""``--kubelet-preferred-address-types``' default."""


def node_address(node: dict, preferred: tuple[str, ...] = DEFAULT_ADDRESS_TYPES) -> str | None:
    """The first of the node's addresses whose type comes first in ``preferred``."""
    addresses = (node.get("status") or {}).get("addresses") or []
    for address_type in preferred:
        for address in addresses:
            if address.get("type") == address_type and address.get("address"):
                return address["address"]
    return None


def kubelet_port(node: dict) -> int:
    endpoint = ((node.get("status") or {}).get("daemonEndpoints") or {}).get("kubeletEndpoint") or {}
    return int(endpoint.get("Port") or DEFAULT_KUBELET_PORT)


def _point(stats: dict, start_time: str | None) -> MetricsPoint | None:
    cpu, memory = stats.get("cpu") or {}, stats.get("memory") or {}
    if "usageCoreNanoSeconds" not in cpu or "workingSetBytes" not in memory or not cpu.get("time"):
        return None
    return MetricsPoint(parse_timestamp(start_time) if start_time else 0.0, parse_timestamp(cpu["time"]),
                        int(cpu["usageCoreNanoSeconds"]), int(memory["workingSetBytes"]))


def decode(summary: dict, batch: MetricsBatch) -> None:
    """Add one kubelet's Summary to ``batch`` (points lacking CPU or memory are skipped, as metrics-server does)."""
    node = summary.get("node") or {}
    point = _point(node, node.get("startTime"))
    if point is not None and node.get("nodeName"):
        batch.nodes[node["nodeName"]] = point
    for pod in summary.get("pods") or []:
        ref = pod.get("podRef") or {}
        containers = {}
        for container in pod.get("containers") or []:
            container_point = _point(container, container.get("startTime"))
            if container_point is not None:
                containers[container["name"]] = container_point
        if containers:
            batch.pods[(ref.get("namespace", ""), ref.get("name", ""))] = containers


class Scraper:
    """Scrapes the kubelets of the given nodes through ``dial(address, port)``."""

    def __init__(self, dial: Callable[[str, int], Any], preferred: tuple[str, ...] = DEFAULT_ADDRESS_TYPES) -> None:
        self.dial = dial
        self.preferred = preferred

    def scrape(self, nodes: list[dict]) -> MetricsBatch:
        batch = MetricsBatch()
        for node in nodes:
            name = node["metadata"]["name"]
            address = node_address(node, self.preferred)
            if address is None:
                log.warning('Failed to scrape node "%s": no address of the preferred types %s', name,
                            ",".join(self.preferred))
                continue
            port = kubelet_port(node)
            try:
                summary = self.dial(address, port).get("/stats/summary")
            except (ConnectionRefused, KubeletError) as error:
                log.info('"Failed to scrape node" err="Get \\"https://%s:%d/stats/summary\\": %s" node="%s"',
                         address, port, error, name)
                continue
            decode(summary, batch)
        return batch
