"""Where the HPA reads pod usage from: the resource metrics API (``metrics.k8s.io/v1beta1``), as an interface.

Upstream the HPA's ``metricsClient`` asks the API server's aggregated
``metrics.k8s.io`` group, served by metrics-server, for the ``PodMetrics``
of the pods a selector matches. Here that is ``ResourceMetricsSource``:
``pod_metrics(namespace, selector)`` returns PodMetrics objects in the real
shape::

    {"apiVersion": "metrics.k8s.io/v1beta1", "kind": "PodMetrics",
     "metadata": {"name": "web-1", "namespace": "default"},
     "timestamp": "...", "window": "15s",
     "containers": [{"name": "nginx", "usage": {"cpu": "250m", "memory": "64Mi"}}]}

``RESTMetricsSource`` is the real one: it lists
``pods.metrics.k8s.io`` through the API server (the aggregation layer
proxies to metrics-server, ``engine.addons.metrics_server``); the HPA uses it
unless the controller manager is given another. ``FixedResourceMetrics`` is a
source whose usage tests and notebooks set by hand. ``pod_usage`` turns PodMetrics into what the replica calculator
needs: one number per pod (milli-units), its timestamp and window.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from engine.api import errors
from engine.api.meta import parse_timestamp, timestamp
from engine.api.quantity import parse_quantity
from engine.api.selectors import LabelSelector


class ResourceMetricsSource(Protocol):
    """The resource metrics API: PodMetrics of a namespace's pods matching a selector."""

    def pod_metrics(self, namespace: str, selector: LabelSelector) -> list[dict]: ...


@dataclass
class PodMetric:
    """metricsclient.PodMetric: a pod's usage of one resource (milli-units), when and over what window."""

    value: int
    timestamp: float
    window: float


def pod_usage(pod_metrics: list[dict], resource: str, container: str | None = None) -> dict[str, PodMetric]:
    """GetResourceMetric: the usage of ``resource`` per pod name, summed over its (or one named) container(s)."""
    found: dict[str, PodMetric] = {}
    for metrics in pod_metrics:
        total, missing = 0, False
        for entry in metrics.get("containers") or ():
            if container is not None and entry.get("name") != container:
                continue
            usage = (entry.get("usage") or {}).get(resource)
            if usage is None:
                missing = True
                break
            total += parse_quantity(usage).milli_value()
        if missing or not metrics.get("containers"):
            continue
        window = str(metrics.get("window") or "0s").rstrip("s")
        found[metrics["metadata"]["name"]] = PodMetric(total, parse_timestamp(metrics["timestamp"]),
                                                       float(window or 0))
    return found


class RESTMetricsSource:
    """resourceMetricsClient: ``GET /apis/metrics.k8s.io/v1beta1/namespaces/NS/pods?labelSelector=...``."""

    def __init__(self, client) -> None:
        self.client = client

    def pod_metrics(self, namespace: str, selector: LabelSelector) -> list[dict]:
        from engine.controllers.podautoscaler_replicas import MetricsError   # it imports PodMetric from here
        try:
            return self.client.list("pods.metrics.k8s.io", namespace, label_selector=str(selector) or None)["items"]
        except errors.NotFound:
            raise MetricsError("unable to fetch metrics from resource metrics API: the server could not find the "
                               "requested resource (get pods.metrics.k8s.io)") from None
        except errors.ApiError as error:
            raise MetricsError(f"unable to fetch metrics from resource metrics API: {error.message} "
                               f"(get pods.metrics.k8s.io)") from None


class FixedResourceMetrics:
    """A ResourceMetricsSource whose numbers are set by hand (the test source until metrics-server exists)."""

    def __init__(self, clock, window: float = 15.0) -> None:
        self.clock = clock                       # a callable returning the virtual time
        self.window = window
        self.usage: dict[tuple[str, str], dict[str, dict[str, str]]] = {}   # (ns, pod) -> container -> usage
        self.labels: dict[tuple[str, str], dict[str, str]] = {}

    def set_usage(self, namespace: str, pod: str, labels: dict[str, str], usage: dict[str, dict[str, str]]) -> None:
        """Report ``usage`` ({container: {"cpu": "250m"}}) for a pod with these labels."""
        self.usage[(namespace, pod)] = usage
        self.labels[(namespace, pod)] = dict(labels)

    def forget(self, namespace: str, pod: str) -> None:
        self.usage.pop((namespace, pod), None)
        self.labels.pop((namespace, pod), None)

    def pod_metrics(self, namespace: str, selector: LabelSelector) -> list[dict]:
        now = self.clock()
        result = []
        for (pod_namespace, name), containers in sorted(self.usage.items()):
            if pod_namespace != namespace or not selector.matches(self.labels[(pod_namespace, name)]):
                continue
            result.append({"apiVersion": "metrics.k8s.io/v1beta1", "kind": "PodMetrics",
                           "metadata": {"name": name, "namespace": namespace, "labels": self.labels[(namespace, name)]},
                           "timestamp": timestamp(now), "window": f"{int(self.window)}s",
                           "containers": [{"name": c, "usage": dict(u)} for c, u in containers.items()]})
        return result
