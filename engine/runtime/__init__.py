"""The container runtime: containerd and runc in miniature, behind the CRI the kubelet calls.

``cri`` holds the messages, ``images`` the registry and the node's image store,
``containerd`` the RuntimeService over sandboxes and containers, ``runc`` the
namespaces and cgroups, and ``programs`` the simulated processes images run.
"""

from engine.runtime.cri import CriError, Pending
from engine.runtime.images import ImageService, Layer, Registry

__all__ = ["CriError", "ImageService", "Layer", "Pending", "Registry"]
