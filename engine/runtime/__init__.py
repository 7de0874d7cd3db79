"""The container runtime: containerd and runc in miniature, behind the CRI the kubelet calls.

``cri`` holds the messages, ``images`` the registry and the node's image store,
``containerd`` the RuntimeService over sandboxes and containers, ``runc`` the
namespaces and cgroups, and ``programs`` the simulated processes images run.
A cluster owns one ``Registry`` (``register_all`` fills it with the docs'
images; labs add their own with ``registry.register``) and each node one
``RuntimeService`` on the loop, whose ``images`` is that node's ImageService.
"""

from engine.runtime.containerd import RuntimeService
from engine.runtime.cri import CriError, Pending
from engine.runtime.images import ImageService, Layer, Registry
from engine.runtime.programs import ExecResult, ProcessContext, Program
from engine.runtime.programs.catalogue import register_all
from engine.runtime.runc import linux_resources

__all__ = [
    "CriError",
    "ExecResult",
    "ImageService",
    "Layer",
    "Pending",
    "ProcessContext",
    "Program",
    "Registry",
    "RuntimeService",
    "linux_resources",
    "register_all",
]
