"""The add-ons lab (lab 12): a learner's metrics-server rate and HPA decisions, plugged into a running cluster.

Interface:

- ``MetricsPoint`` (metrics-server's sample: ``start_time``, ``timestamp``, ``cumulative_cpu_used`` in ns,
  ``memory_usage``), handed to learners;
- ``autoscaling_cluster(seed, cpu_rate=None, desired_replicas=None, normalize=None)``: one node (flannel),
  metrics-server installed from its release manifest but running ``cpu_rate`` as its storage's rate, the
  controller manager's HPA controller running ``desired_replicas`` (the replica calculator) and
  ``normalize`` (the stabilization and limits), the docs' php-apache Deployment and Service
  (``registry.k8s.io/hpa-example``) and ``kubectl autoscale deployment php-apache --cpu-percent=50 --min=1
  --max=10``. Every call of a plugged function is recorded in ``cluster.decisions``: the learner's answer
  beside the engine's on the same arguments; an exception is recorded and the component goes on as if it
  had no answer (no metric, the current count);
- ``set_load(cluster, generators)``: that many busybox load generators (``while sleep 0.01; do wget -q -O-
  http://$PHP_APACHE_SERVICE_HOST; done``), creating or deleting pods;
- ``replicas(cluster)``: php-apache's ``spec.replicas``.

The checks (``check_cpu_rate``, ``check_desired_replicas``, ``check_normalize``, ``check_in_cluster``) are in
``engine.grading.autoscaling_checks``. Nothing here prints or writes to stderr.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable

from engine.addons.metrics_server.manifests import IMAGE, manifests
from engine.addons.metrics_server.program import IMAGE_SIZE, MetricsServerProgram
from engine.addons.metrics_server.storage import MetricsPoint, cpu_rate as reference_cpu_rate
from engine.api import errors
from engine.components import COMPONENTS, ComponentSpec
from engine.controllers.horizontal import normalize_desired_replicas
from engine.controllers.podautoscaler_replicas import replicas_for_utilization
from engine.grading.feedback import Outcome

REFERENCES: dict[str, Callable[..., Any]] = {"cpu_rate": reference_cpu_rate,
                                             "desired_replicas": replicas_for_utilization,
                                             "normalize": normalize_desired_replicas}

PHP_APACHE = [
    {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "php-apache"}, "spec": {
        "selector": {"matchLabels": {"run": "php-apache"}},
        "template": {"metadata": {"labels": {"run": "php-apache"}}, "spec": {"containers": [{
            "name": "php-apache", "image": "registry.k8s.io/hpa-example", "ports": [{"containerPort": 80}],
            "resources": {"limits": {"cpu": "500m"}, "requests": {"cpu": "200m"}}}]}}}},
    {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "php-apache", "labels": {"run": "php-apache"}},
     "spec": {"ports": [{"port": 80}], "selector": {"run": "php-apache"}}},
]
LOAD_SCRIPT = "while sleep 0.01; do wget -q -O- http://$PHP_APACHE_SERVICE_HOST; done"
"""The walkthrough's load generator, by the Service's address (the kubelet's environment variable): the same
requests without a DNS lookup each."""


class Decisions:
    """Every call a component made to a plugged function: ``(name, args, learner Outcome, engine Outcome)``."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple, Outcome, Outcome]] = []

    def plug(self, name: str, learner: Callable[..., Any], idle: Callable[..., Any]) -> Callable[..., Any]:
        """``learner`` as the component calls it; on an exception, ``idle(*args)`` is what the component gets."""
        reference = REFERENCES[name]

        def decide(*args: Any) -> Any:
            expected = Outcome(value=reference(*args))
            try:
                got = Outcome(value=learner(*args))
            except Exception as error:          # the learner's exception: recorded, and the component goes on
                self.calls.append((name, args, Outcome(error=error), expected))
                return idle(*args)
            self.calls.append((name, args, got, expected))
            return got.value
        return decide

    def errors(self) -> list[tuple[str, tuple, BaseException]]:
        return [(name, args, got.error) for name, args, got, _ in self.calls if got.error is not None]

    def disagreements(self) -> list[tuple[str, tuple, Outcome, Outcome]]:
        return [call for call in self.calls if call[2].error is None and call[2].value != call[3].value]


def _metrics_server_image(cpu_rate: Callable[..., Any]) -> type:
    class LearnerMetricsServerProgram(MetricsServerProgram):
        """metrics-server whose storage computes CPU rates with the learner's function."""

        def component_options(self) -> dict[str, Any]:
            return {**super().component_options(), "cpu_rate": cpu_rate}
    return LearnerMetricsServerProgram


def autoscaling_cluster(seed: int = 0, *, cpu_rate: Callable[..., Any] | None = None,
                        desired_replicas: Callable[..., Any] | None = None,
                        normalize: Callable[..., Any] | None = None) -> Any:
    """The walkthrough's cluster, booted and autoscaled (no load yet), with the learner's functions plugged in."""
    from engine.cluster import Cluster
    from engine.kubelet import KUBELET
    from engine.scheduler import SCHEDULER

    decisions = Decisions()
    options: dict[str, Any] = {}
    if desired_replicas is not None:
        options["desired_replicas"] = decisions.plug("desired_replicas", desired_replicas,
                                                     lambda current, *rest: current)
    if normalize is not None:
        options["normalize"] = decisions.plug("normalize", normalize, lambda current, *rest: current)
    specs: list[ComponentSpec] = []
    for spec in COMPONENTS:
        if spec.name == "kube-controller-manager":
            specs.append(dataclasses.replace(spec, options={**spec.options, **options}))
        elif spec.name not in ("kubelet", SCHEDULER.name):
            specs.append(spec)
    cluster = Cluster(nodes=1, seed=seed, components=[*specs, SCHEDULER, KUBELET], network="flannel")
    program = MetricsServerProgram if cpu_rate is None else \
        _metrics_server_image(decisions.plug("cpu_rate", cpu_rate, lambda prev, last: None))
    cluster.registry.register(IMAGE, program, size=IMAGE_SIZE, entrypoint=["/metrics-server"])
    for obj in manifests():
        cluster.apply(obj)
    for obj in PHP_APACHE:
        cluster.apply(obj)
    cluster.kubectl("autoscale deployment php-apache --cpu-percent=50 --min=1 --max=10")
    cluster.decisions = decisions
    return cluster


def set_load(cluster: Any, generators: int) -> None:
    """Run exactly ``generators`` load-generator pods (load-generator-0, -1, ...)."""
    running = sorted(pod["metadata"]["name"] for pod in cluster.list("pods", selector="app=load-generator")
                     if not pod["metadata"].get("deletionTimestamp"))
    for name in running[generators:]:
        try:
            cluster.delete("pods", name, grace_period_seconds=0)
        except errors.NotFound:
            pass
    for index in range(generators):
        name = f"load-generator-{index}"
        if name not in running:
            cluster.apply({"apiVersion": "v1", "kind": "Pod",
                           "metadata": {"name": name, "labels": {"app": "load-generator"}},
                           "spec": {"restartPolicy": "Never", "terminationGracePeriodSeconds": 0,
                                    "containers": [{"name": "load-generator", "image": "busybox:1.28",
                                                    "command": ["/bin/sh", "-c", LOAD_SCRIPT]}]}})


def replicas(cluster: Any) -> int:
    return int(cluster.get("deployments", "php-apache")["spec"]["replicas"])


__all__ = ["Decisions", "LOAD_SCRIPT", "MetricsPoint", "PHP_APACHE", "REFERENCES", "autoscaling_cluster", "replicas",
           "set_load"]
