import pytest

from engine.runtime.images import ImageService, Layer, Registry
from engine.sim.loop import Loop

MB = 1_000_000


class Idle:
    """A program that does nothing (the pause container's spirit)."""

    def start(self, ctx) -> None:  # pragma: no cover - only the image's shape matters here
        pass


@pytest.fixture
def loop() -> Loop:
    return Loop(seed=1)


@pytest.fixture
def registry() -> Registry:
    registry = Registry(latency=0.5)
    base = Layer("sha256:" + "d" * 64, 30 * MB)
    registry.register("debian:bookworm", Idle, layers=[base])
    registry.register("nginx:1.27", Idle, base="debian:bookworm", size=20 * MB)
    registry.register("httpd:2.4", Idle, base="debian:bookworm", size=25 * MB)
    registry.register("registry.k8s.io/pause:3.10", Idle, size=300_000)
    return registry


@pytest.fixture
def images(loop: Loop, registry: Registry) -> ImageService:
    return ImageService(loop, registry, bandwidth=10 * MB)


@pytest.fixture
def runtime(loop: Loop, registry: Registry, images: ImageService):
    from engine.runtime.containerd import RuntimeService

    return RuntimeService(loop, registry, images=images)


@pytest.fixture
def pull(loop: Loop, images: ImageService):
    """Pull images onto the node and wait until they are there."""

    def pull_all(*references: str) -> None:
        for reference in references:
            images.pull_image(reference)
        loop.run_for(60)

    return pull_all
