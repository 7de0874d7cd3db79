"""Images: a remote registry, and containerd's per-node image store with its CRI ImageService.

An image is a list of layers (each a digest and a size in bytes) plus a config
(entrypoint, cmd, env, working dir) and, because containers here run simulated
programs, the factory of the program the image runs. The ``Registry`` is the
remote side (Docker Hub, registry.k8s.io, ...), one per cluster; users and labs
add images with ``registry.register("example.com/my-app:1.0", factory, ...)``.

``ImageService`` is the node side, containerd's content store:
    pull_image(ref)   -> Pending[image id]; resolves the reference (one round
                         trip of ``registry.latency``), then downloads only the
                         layers the node lacks, one after another over the
                         node's link (``bandwidth`` bytes/s, shared by every
                         pull on the node, first come first served); layers
                         already present or already downloading are shared.
    image_status(ref) -> Image or None;   list_images();   remove_image(ref)
Failed pulls raise the CriError containerd returns, word for word.

The pull *policy* (Always / IfNotPresent / Never) and the back-off after a
failed pull are the kubelet's; ``pull_decision`` is the pure rule it applies.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from engine.runtime.cri import CODE_NOT_FOUND, CODE_UNKNOWN, CriError, Image, Pending

if TYPE_CHECKING:
    from engine.sim.loop import Loop

DEFAULT_BANDWIDTH = 25_000_000.0
"""Bytes per second a node downloads layers at (200 Mbit/s)."""
DEFAULT_LATENCY = 0.2
"""Seconds to resolve a reference against the registry (token, manifest)."""

DEFAULT_DOMAIN = "docker.io"
OFFICIAL_REPO_PREFIX = "library/"

# imagePullPolicy values and the kubelet's waiting reasons around pulls.
PULL_ALWAYS = "Always"
PULL_IF_NOT_PRESENT = "IfNotPresent"
PULL_NEVER = "Never"
ERR_IMAGE_PULL = "ErrImagePull"
IMAGE_PULL_BACKOFF = "ImagePullBackOff"
ERR_IMAGE_NEVER_PULL = "ErrImageNeverPull"


def normalize(reference: str) -> str:
    """The fully qualified reference, as docker's ParseNormalizedNamed: ``nginx`` -> ``docker.io/library/nginx:latest``."""
    name, digest = reference, ""
    if "@" in reference:
        name, digest = reference.split("@", 1)
    first, _, rest = name.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost"):
        domain, path = first, rest
    else:
        domain, path = DEFAULT_DOMAIN, name
    if domain == DEFAULT_DOMAIN and "/" not in path:
        path = OFFICIAL_REPO_PREFIX + path
    last = path.rsplit("/", 1)[-1]
    if digest:
        return f"{domain}/{path}@{digest}"
    if ":" not in last:
        path += ":latest"
    return f"{domain}/{path}"


def split_reference(reference: str) -> tuple[str, str]:
    """(repository, tag) of a normalized reference."""
    full = normalize(reference)
    if "@" in full:
        return tuple(full.split("@", 1))  # type: ignore[return-value]
    repository, _, tag = full.rpartition(":")
    return repository, tag


def default_pull_policy(image: str) -> str:
    """The API server's default: Always for ``:latest`` or no tag, IfNotPresent otherwise."""
    if "@" in image:
        return PULL_IF_NOT_PRESENT
    last = image.rsplit("/", 1)[-1]
    if ":" not in last or last.endswith(":latest"):
        return PULL_ALWAYS
    return PULL_IF_NOT_PRESENT


def pull_decision(policy: str, present: bool) -> str:
    """What the kubelet does before starting a container: ``"pull"``, ``"use"`` or ``ErrImageNeverPull``."""
    if policy == PULL_ALWAYS:
        return "pull"
    if present:
        return "use"
    if policy == PULL_NEVER:
        return ERR_IMAGE_NEVER_PULL
    return "pull"


def never_pull_message(image: str) -> str:
    return f'Container image "{image}" is not present with pull policy of Never'


def pull_failed_message(image: str, error: Exception) -> str:
    """The kubelet's ErrImagePull message (the container's waiting message and the Failed event)."""
    return f'Failed to pull image "{image}": {error}'


def back_off_message(image: str) -> str:
    """The kubelet's ImagePullBackOff message."""
    return f'Back-off pulling image "{image}"'


def _sha(*parts: str) -> str:
    return "sha256:" + hashlib.sha256("\x00".join(parts).encode()).hexdigest()


@dataclass(frozen=True)
class Layer:
    digest: str
    size: int


@dataclass
class ImageManifest:
    """One image in the registry: its layers, its config and the program it runs."""

    reference: str
    layers: list[Layer]
    program_factory: Callable[[], Any]
    entrypoint: list[str] = field(default_factory=list)
    cmd: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    working_dir: str = ""
    stop_signal: int = 15

    @property
    def size(self) -> int:
        return sum(layer.size for layer in self.layers)

    @property
    def id(self) -> str:
        return _sha("config", self.reference, *(layer.digest for layer in self.layers))

    @property
    def digest(self) -> str:
        return _sha("manifest", self.id)


class Registry:
    """The remote registries, by fully qualified reference. No network: a dict with latency."""

    def __init__(self, latency: float = DEFAULT_LATENCY) -> None:
        self.latency = latency
        self._images: dict[str, ImageManifest] = {}

    def register(
        self,
        reference: str,
        program_factory: Callable[[], Any],
        *,
        size: int | None = None,
        layers: Sequence[Layer | int] | None = None,
        base: str | None = None,
        entrypoint: Sequence[str] = (),
        cmd: Sequence[str] = (),
        env: dict[str, str] | None = None,
        working_dir: str = "",
        stop_signal: int = 15,
    ) -> ImageManifest:
        """Publish an image. ``base`` shares that image's layers; ``layers`` adds Layers or sizes; ``size`` adds one layer."""
        full = normalize(reference)
        own: list[Layer] = []
        if base is not None:
            own.extend(self.manifest(base).layers)
        for index, item in enumerate(layers or ()):
            own.append(item if isinstance(item, Layer) else Layer(_sha("layer", full, str(index)), int(item)))
        if size is not None:
            own.append(Layer(_sha("layer", full, "top"), int(size)))
        manifest = ImageManifest(
            full, own, program_factory, list(entrypoint), list(cmd), dict(env or {}), working_dir, stop_signal
        )
        self._images[full] = manifest
        return manifest

    def manifest(self, reference: str) -> ImageManifest:
        """The image a reference names; raises the CriError containerd would when it does not exist."""
        full = normalize(reference)
        found = self._images.get(full)
        if found is not None:
            return found
        for manifest in self._images.values():
            if "@" in full and full == f"{split_reference(manifest.reference)[0]}@{manifest.digest}":
                return manifest
        raise self.resolve_error(full)

    def resolve_error(self, full: str) -> CriError:
        repository, _ = split_reference(full)
        known = any(split_reference(ref)[0] == repository for ref in self._images)
        prefix = f'failed to pull and unpack image "{full}": failed to resolve reference "{full}"'
        if repository.startswith(DEFAULT_DOMAIN + "/") and not known:
            return CriError(
                CODE_UNKNOWN,
                f"{prefix}: pull access denied, repository does not exist or may require authorization: "
                "server message: insufficient_scope: authorization failed",
            )
        return CriError(CODE_NOT_FOUND, f"{prefix}: {full}: not found")

    def references(self) -> list[str]:
        return sorted(self._images)


class ImageService:
    """One node's image store (containerd's content store) behind the CRI ImageService calls."""

    def __init__(self, loop: Loop, registry: Registry, bandwidth: float = DEFAULT_BANDWIDTH) -> None:
        self.loop = loop
        self.registry = registry
        self.bandwidth = bandwidth
        self.layers: dict[str, Layer] = {}
        self._images: dict[str, ImageManifest] = {}       # image id -> manifest
        self._tags: dict[str, str] = {}                    # normalized reference -> image id
        self._downloading: dict[str, Pending[None]] = {}   # layer digest -> its download
        self._link_free_at = 0.0
        self.bytes_downloaded = 0

    # -- CRI ImageService ---------------------------------------------------
    def pull_image(self, reference: str) -> Pending[str]:
        """Start a pull; the Pending resolves to the image id once every layer is on the node."""
        answer: Pending[str] = Pending()
        self.loop.call_later(self.registry.latency, self._resolved, reference, answer, label="containerd.resolve")
        return answer

    def image_status(self, reference: str) -> Image | None:
        manifest = self._lookup(reference)
        return None if manifest is None else self._record(manifest)

    def list_images(self) -> list[Image]:
        return [self._record(self._images[image_id]) for image_id in sorted(self._images)]

    def remove_image(self, reference: str) -> None:
        """Untag the image; when no tag is left, drop it and every layer no other image uses. Idempotent."""
        manifest = self._lookup(reference)
        if manifest is None:
            return
        for tag in [t for t, image_id in self._tags.items() if image_id == manifest.id]:
            del self._tags[tag]
        del self._images[manifest.id]
        still_used = {layer.digest for m in self._images.values() for layer in m.layers}
        for layer in manifest.layers:
            if layer.digest not in still_used:
                self.layers.pop(layer.digest, None)

    def image_fs_used_bytes(self) -> int:
        return sum(layer.size for layer in self.layers.values())

    # -- helpers for the runtime ---------------------------------------------
    def manifest_of(self, reference: str) -> ImageManifest | None:
        """The image a container may be created from, if it is on the node."""
        return self._lookup(reference)

    def _lookup(self, reference: str) -> ImageManifest | None:
        if reference in self._images:
            return self._images[reference]
        image_id = self._tags.get(normalize(reference))
        return None if image_id is None else self._images.get(image_id)

    def _record(self, manifest: ImageManifest) -> Image:
        tags = sorted(t for t, image_id in self._tags.items() if image_id == manifest.id and "@" not in t)
        repositories = sorted({split_reference(t)[0] for t in tags})
        return Image(manifest.id, tags, [f"{repo}@{manifest.digest}" for repo in repositories], manifest.size)

    def _resolved(self, reference: str, answer: Pending[str]) -> None:
        try:
            manifest = self.registry.manifest(reference)
        except CriError as error:
            answer.set_error(error)
            return
        waits: list[Pending[None]] = []
        for layer in manifest.layers:
            if layer.digest in self.layers:
                continue
            if layer.digest not in self._downloading:
                self._downloading[layer.digest] = self._download(layer)
            waits.append(self._downloading[layer.digest])
        remaining = [len(waits)]

        def one_done(_: Pending[None]) -> None:
            remaining[0] -= 1
            if remaining[0] == 0:
                self._store(reference, manifest)
                answer.set_result(manifest.id)

        if not waits:
            self._store(reference, manifest)
            answer.set_result(manifest.id)
        for wait in waits:
            wait.add_done_callback(one_done)

    def _download(self, layer: Layer) -> Pending[None]:
        done: Pending[None] = Pending()
        start = max(self.loop.now, self._link_free_at)
        self._link_free_at = start + layer.size / self.bandwidth

        def finished() -> None:
            self.layers[layer.digest] = layer
            self.bytes_downloaded += layer.size
            del self._downloading[layer.digest]
            done.set_result(None)

        self.loop.call_at(self._link_free_at, finished, label="containerd.layer")
        return done

    def _store(self, reference: str, manifest: ImageManifest) -> None:
        self._images[manifest.id] = manifest
        self._tags[normalize(reference)] = manifest.id
        self._tags[manifest.reference] = manifest.id
