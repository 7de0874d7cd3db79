"""Scheduler configuration (KubeSchedulerConfiguration v1): profiles, plugins per point, weights, args.

Interface: ``default_configuration()`` is the v1 default (one profile,
``default-scheduler``, with the default plugins under ``multiPoint`` and their
score weights: TaintToleration 3, NodeAffinity 2, PodTopologySpread 2,
InterPodAffinity 2, NodeResourcesFit 1, NodeResourcesBalancedAllocation 1,
ImageLocality 1). ``build_frameworks(configuration, registry, handle)`` turns a
configuration (a dict in the real shape) into one ``Framework`` per
``schedulerName``.

How points are filled, as in the real scheduler: a ``multiPoint`` plugin serves
every extension point it implements; a point's ``disabled`` list (``"*"``
for all) removes plugins from that point; a point's ``enabled`` list adds
plugins there. A score weight comes from the ``score`` (or ``multiPoint``)
entry, 1 when unset. ``pluginConfig`` gives a plugin its ``args``.
The queue sort is PrioritySort (priority, then time in the queue).
"""

from __future__ import annotations

import copy
from typing import Any

from engine.scheduler.framework import Framework
from engine.scheduler.registry import Registry

DEFAULT_SCHEDULER_NAME = "default-scheduler"
DEFAULT_PERCENTAGE_OF_NODES_TO_SCORE = 0
"""0 means adaptive: 50% minus 1% per 125 nodes, at least 5%, and never fewer than 100 nodes."""

DEFAULT_MULTI_POINT = [
    {"name": "NodeUnschedulable"}, {"name": "NodeName"}, {"name": "TaintToleration", "weight": 3},
    {"name": "NodeAffinity", "weight": 2}, {"name": "NodePorts"}, {"name": "NodeResourcesFit", "weight": 1},
    {"name": "PodTopologySpread", "weight": 2}, {"name": "InterPodAffinity", "weight": 2},
    {"name": "DefaultPreemption"}, {"name": "NodeResourcesBalancedAllocation", "weight": 1},
    {"name": "ImageLocality", "weight": 1}, {"name": "DefaultBinder"},
]

POINTS = {"preFilter": "pre_filter", "filter": "filter", "postFilter": "post_filter", "preScore": "pre_score",
          "score": "score", "reserve": "reserve", "permit": "permit", "preBind": "pre_bind", "bind": "bind"}


def default_configuration() -> dict[str, Any]:
    return {
        "apiVersion": "kubescheduler.config.k8s.io/v1", "kind": "KubeSchedulerConfiguration",
        "percentageOfNodesToScore": DEFAULT_PERCENTAGE_OF_NODES_TO_SCORE,
        "podInitialBackoffSeconds": 1, "podMaxBackoffSeconds": 10,
        "profiles": [{"schedulerName": DEFAULT_SCHEDULER_NAME,
                      "plugins": {"multiPoint": {"enabled": copy.deepcopy(DEFAULT_MULTI_POINT)}}}],
    }


def _names(entries: list[dict] | None) -> list[str]:
    return [entry["name"] for entry in entries or []]


def build_framework(profile: dict, registry: Registry, handle: Any,
                    default_percentage: int | None = None) -> Framework:
    plugins_config = profile.get("plugins") or {}
    multi = plugins_config.get("multiPoint") or {}
    multi_enabled = [e for e in (multi.get("enabled") or []) if e["name"] in registry]
    multi_disabled = set(_names(multi.get("disabled")))
    if "*" in multi_disabled:
        multi_enabled = [e for e in multi_enabled if e not in DEFAULT_MULTI_POINT]
    multi_enabled = [e for e in multi_enabled if e["name"] not in multi_disabled]
    args = {entry["name"]: entry.get("args") or {} for entry in profile.get("pluginConfig") or []}
    weights: dict[str, int] = {}
    for entry in multi_enabled:
        weights[entry["name"]] = entry.get("weight") or 1
    for entry in (plugins_config.get("score") or {}).get("enabled") or []:
        weights[entry["name"]] = entry.get("weight") or 1
    instances: dict[str, Any] = {}

    def instance(name: str) -> Any:
        if name not in instances:
            if name not in registry:
                raise ValueError(f"profile {profile.get('schedulerName')}: plugin {name!r} is not registered")
            instances[name] = registry[name](args.get(name), handle)
        return instances[name]

    points: dict[str, list[str]] = {}
    for point, method in POINTS.items():
        section = plugins_config.get(point) or {}
        disabled = set(_names(section.get("disabled")))
        names = [] if "*" in disabled else [e["name"] for e in multi_enabled
                                             if e["name"] not in disabled and hasattr(instance(e["name"]), method)]
        for name in _names(section.get("enabled")):
            if name not in names:
                instance(name)
                names.append(name)
        points[point] = names
    for name in list(instances):
        if not any(name in names for names in points.values()):
            del instances[name]
    percentage = profile.get("percentageOfNodesToScore")
    return Framework(profile.get("schedulerName") or DEFAULT_SCHEDULER_NAME, instances, points, weights,
                     percentage if percentage is not None else default_percentage)


def build_frameworks(configuration: dict, registry: Registry, handle: Any) -> dict[str, Framework]:
    default_percentage = configuration.get("percentageOfNodesToScore", DEFAULT_PERCENTAGE_OF_NODES_TO_SCORE)
    frameworks = {}
    for profile in configuration.get("profiles") or default_configuration()["profiles"]:
        framework = build_framework(profile, registry, handle, default_percentage)
        frameworks[framework.profile_name] = framework
    return frameworks
