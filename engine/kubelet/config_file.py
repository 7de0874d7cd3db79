"""The kubelet's file source of static pods (``pkg/kubelet/config/file.go``).

Every file in the static pod directory (kubeadm's ``staticPodPath``,
``/etc/kubernetes/manifests``; ``--pod-manifest-path``) whose name ends in
``.yaml``, ``.yml`` or ``.json`` is one Pod manifest; files starting with a
dot are ignored, as editors' swap files are. The kubelet reads the directory
at start and again every ``fileCheckFrequency`` (20 s): a new file starts a
static pod, a removed file stops it, a changed file replaces it (the static
pod's uid is a hash of its content). A file that does not parse is logged and
skipped; the others still count. A file's text is parsed once (a cache of
text -> manifest, each caller getting its own copy): the check every 20 s
costs no YAML parsing while nothing changed. What it never does: talk to the
API server (the kubelet makes the mirror pods).
"""

from __future__ import annotations

import copy
import functools
import logging

import yaml

log = logging.getLogger(__name__)

MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")


@functools.lru_cache(maxsize=256)
def _parsed(text: str) -> object:
    return yaml.safe_load(text)


def read_manifests(fs: dict[str, str], directory: str) -> list[tuple[str, dict]]:
    """``(path, manifest)`` for every static pod file directly in ``directory``, in name order."""
    prefix = directory.rstrip("/") + "/"
    found = []
    for path in sorted(fs):
        name = path[len(prefix):]
        if not path.startswith(prefix) or not name or "/" in name or name.startswith("."):
            continue
        if not name.endswith(MANIFEST_SUFFIXES):
            continue
        try:
            manifest = copy.deepcopy(_parsed(fs[path]))
        except yaml.YAMLError as error:
            log.warning("could not process manifest file %s: %s", path, error)
            continue
        if not isinstance(manifest, dict) or manifest.get("kind", "Pod") != "Pod":
            log.warning("could not process manifest file %s: not a Pod", path)
            continue
        found.append((path, manifest))
    return found
