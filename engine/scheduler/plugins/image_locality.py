"""ImageLocality: prefer nodes that already have the pod's images (``node.status.images``).

Each image present on the node adds its size scaled by the share of nodes that
have it (spread images count less); the sum is clamped between 23 MiB and
1000 MiB per container and mapped linearly to 0..100.
"""

from __future__ import annotations

from typing import Any

from engine.scheduler.framework import MAX_NODE_SCORE
from engine.scheduler.nodeinfo import NodeInfo

NAME = "ImageLocality"
MB = 1024 * 1024
MIN_THRESHOLD = 23 * MB
MAX_CONTAINER_THRESHOLD = 1000 * MB


def normalized_image_name(name: str) -> str:
    """An image with neither tag nor digest means ``:latest``."""
    if name.rfind(":") <= name.rfind("/") and "@" not in name:
        return name + ":latest"
    return name


def node_images(node: dict) -> dict[str, int]:
    images: dict[str, int] = {}
    for image in (node.get("status") or {}).get("images") or []:
        for name in image.get("names") or []:
            images[normalized_image_name(name)] = int(image.get("sizeBytes") or 0)
    return images


def calculate_priority(sum_scores: int, num_containers: int) -> int:
    max_threshold = MAX_CONTAINER_THRESHOLD * num_containers
    sum_scores = min(max(sum_scores, MIN_THRESHOLD), max_threshold)
    return MAX_NODE_SCORE * (sum_scores - MIN_THRESHOLD) // (max_threshold - MIN_THRESHOLD)


class ImageLocality:
    name = NAME
    node_local = True             # per node, given the cluster's image spread (memo checks the nodes generation)

    def __init__(self, handle: Any = None) -> None:
        self.handle = handle

    def pre_score(self, state: dict, pod: dict, nodes: list) -> None:
        spec = pod.get("spec") or {}
        containers = list(spec.get("initContainers") or []) + list(spec.get("containers") or [])
        images = [normalized_image_name(c.get("image", "")) for c in containers]
        snapshot = self.handle.snapshot if self.handle is not None else None
        all_nodes = snapshot.node_infos if snapshot is not None else nodes
        counted = getattr(snapshot, "image_nodes", None)
        spread: dict[str, int] = {}
        for image in set(images):
            if counted is not None:
                spread[image] = counted.get(image, 0)
            else:
                spread[image] = sum(1 for info in all_nodes if image in info.images)
        state[NAME] = (images, spread, max(len(all_nodes), 1))
        return None

    def score(self, state: dict, pod: dict, node_info: NodeInfo) -> int:
        images, spread, total_nodes = state[NAME]
        if not images:
            return 0
        present = node_info.images
        total = 0
        for image in images:
            size = present.get(image)
            if size is not None:
                total += int(size * spread.get(image, 0) / total_nodes)
        return calculate_priority(total, len(images))


def new(args: dict[str, Any] | None = None, handle: Any = None) -> ImageLocality:
    return ImageLocality(handle)
