"""metrics-server itself (``pkg/server``): scrape every ``--metric-resolution``, answer the resource metrics API.

``MetricsServer(context)`` is a component (``ComponentContext``): every resolution (``--metric-resolution``,
15 s here as in the add-on's manifest; 60 s is the binary's default) on the virtual clock it lists the Nodes
through its client, scrapes their kubelets (``scraper``) and stores the batch (``storage``). It answers the
``metrics.k8s.io/v1beta1`` API the aggregation layer forwards to it: ``handle(verb, resource, namespace, name,
label_selector)`` for ``nodes`` (NodeMetrics) and ``pods`` (PodMetrics), filtering by the API server's Nodes and
Pods the way its informers do (label selectors, namespaces); a named object without metrics is a 404
``NotFound`` as the real API says (``nodemetrics.metrics.k8s.io "x" not found``). CPU is printed in nanocores
(``"123456n"``), memory in KiB (``"2048Ki"``). ``options["cpu_rate"]``, when given, replaces the storage's rate
function (``storage.cpu_rate``: lab 12 plugs a learner's in). What it never does: write to the API server.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from engine.api.meta import timestamp
from engine.addons.metrics_server.scraper import DEFAULT_ADDRESS_TYPES, Scraper
from engine.addons.metrics_server.storage import MetricsStorage, Usage
from engine.api import errors
from engine.components import ComponentContext

log = logging.getLogger(__name__)

GROUP_VERSION = "metrics.k8s.io/v1beta1"
DEFAULT_RESOLUTION = 60.0
"""``--metric-resolution``'s default (the add-on's manifest sets 15s)."""


_UNITS = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}


def parse_duration(text: str) -> float:
    """A Go duration as metrics-server's flags take it (``15s``, ``1m``, ``1m30s``, ``500ms``)."""
    found = re.findall(r"(\d+(?:\.\d+)?)(ms|h|m|s)", text)
    if not found or "".join(number + unit for number, unit in found) != text:
        raise ValueError(f'invalid duration "{text}"')
    return sum(float(number) * _UNITS[unit] for number, unit in found)


def _cpu(usage: Usage) -> str:
    return f"{usage.cpu_nanocores}n"


def _memory(usage: Usage) -> str:
    return f"{usage.memory_bytes // 1024}Ki"


def _window(usage: Usage) -> str:
    seconds = usage.window
    return f"{int(seconds)}s" if seconds == int(seconds) else f"{seconds:.3f}s"


class MetricsServer:
    """The component: a scrape loop and the resource metrics API over its storage."""

    def __init__(self, context: ComponentContext) -> None:
        self.context = context
        self.client = context.client
        self.loop = context.loop
        options = context.options
        self.resolution = parse_duration(str(options.get("metric-resolution") or "60s"))
        preferred = options.get("kubelet-preferred-address-types")
        types = tuple(t for t in str(preferred).split(",") if t) if preferred else DEFAULT_ADDRESS_TYPES
        dial = options.get("dial") or options.get("hostnet").dial
        self.scraper = Scraper(dial, types)
        self.storage = MetricsStorage(options["cpu_rate"]) if options.get("cpu_rate") else MetricsStorage()
        self._timer: Any = None
        self.scrapes = 0

    def start(self) -> None:
        self._timer = self.loop.call_later(self.resolution, self._tick, label="metrics-server scrape")

    def stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _tick(self) -> None:
        self.scrape()
        self._timer = self.loop.call_later(self.resolution, self._tick, label="metrics-server scrape")

    def scrape(self) -> None:
        """One cycle: list the Nodes, read each kubelet, store what answered."""
        try:
            nodes = self.client.list("nodes")["items"]
        except errors.ApiError as error:
            log.info("metrics-server: cannot list nodes: %s", error)
            return
        self.storage.store(self.scraper.scrape(nodes))
        self.scrapes += 1

    # -- the metrics.k8s.io API -------------------------------------------------------
    def handle(self, verb: str, resource: str, namespace: str | None = None, name: str | None = None,
               label_selector: str | None = None) -> dict:
        """``get`` / ``list`` of ``nodes`` or ``pods`` in metrics.k8s.io/v1beta1."""
        if resource not in ("nodes", "pods") or verb not in ("get", "list"):
            raise errors.NotFound("the server could not find the requested resource")
        if resource == "nodes":
            objects = self.client.list("nodes", label_selector=label_selector)["items"]
        else:
            objects = self.client.list("pods", namespace, label_selector=label_selector)["items"]
        if name is not None:
            objects = [obj for obj in objects if obj["metadata"]["name"] == name]
        render = self._node if resource == "nodes" else self._pod
        items = [item for item in (render(obj) for obj in objects) if item is not None]
        kind = "NodeMetrics" if resource == "nodes" else "PodMetrics"
        if verb == "get":
            if not items:
                raise errors.not_found(kind.lower(), str(name), "metrics.k8s.io")
            return items[0]
        return {"kind": f"{kind}List", "apiVersion": GROUP_VERSION, "metadata": {}, "items": items}

    def _node(self, node: dict) -> dict | None:
        usage = self.storage.node_usage(node["metadata"]["name"])
        if usage is None:
            return None
        return {"kind": "NodeMetrics", "apiVersion": GROUP_VERSION,
                "metadata": {"name": node["metadata"]["name"], "labels": dict(node["metadata"].get("labels") or {}),
                             "creationTimestamp": timestamp(self.loop.now)},
                "timestamp": timestamp(usage.timestamp), "window": _window(usage),
                "usage": {"cpu": _cpu(usage), "memory": _memory(usage)}}

    def _pod(self, pod: dict) -> dict | None:
        meta = pod["metadata"]
        containers = self.storage.pod_usage(meta.get("namespace", ""), meta["name"])
        if not containers:
            return None
        first = next(iter(containers.values()))
        return {"kind": "PodMetrics", "apiVersion": GROUP_VERSION,
                "metadata": {"name": meta["name"], "namespace": meta.get("namespace", ""),
                             "labels": dict(meta.get("labels") or {}), "creationTimestamp": timestamp(self.loop.now)},
                "timestamp": timestamp(first.timestamp), "window": _window(first),
                "containers": [{"name": name, "usage": {"cpu": _cpu(usage), "memory": _memory(usage)}}
                               for name, usage in containers.items()]}
