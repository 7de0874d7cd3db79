"""The images the Kubernetes docs' examples use, published into a Registry with realistic sizes.

``register_all(registry)`` adds every image below; layer sizes are the
compressed sizes of the real linux/amd64 images (rounded), and images built
on the same base share its layers, so pulling ``nginx`` after ``httpd`` only
downloads nginx's own layers. Which program each image runs:
    busybox, alpine, ubuntu, debian, centos    -> the small sh (``shell``)
    polinux/stress, vish/stress, redis, course/{memory-hog,cpu-burner,crasher} -> ``misc``
"""

from __future__ import annotations

from engine.runtime.images import Layer, Registry
from engine.runtime.programs import misc
from engine.runtime.programs.shell import ShellProgram

MB = 1_000_000

DEBIAN_BOOKWORM = Layer("sha256:" + "a1" * 32, 29 * MB)
ALPINE = Layer("sha256:" + "a2" * 32, 3_600_000)


def register_all(registry: Registry) -> Registry:
    """Publish the catalogue into ``registry`` and return it."""
    _shells(registry)
    _misc(registry)
    return registry


def _shells(registry: Registry) -> None:
    shell = dict(entrypoint=[], cmd=["sh"])
    for tag in ("latest", "1.36", "1.28", "1.37"):
        registry.register(f"busybox:{tag}", ShellProgram, size=2_200_000, **shell)
    registry.register("registry.k8s.io/busybox", ShellProgram, size=1_100_000, **shell)
    registry.register("registry.k8s.io/busybox:1.27.2", ShellProgram, size=1_100_000, **shell)
    registry.register("gcr.io/google-containers/busybox", ShellProgram, size=1_100_000, **shell)
    for tag in ("latest", "3.19", "3.20", "3.21"):
        registry.register(f"alpine:{tag}", ShellProgram, layers=[ALPINE], **shell)
    for tag in ("latest", "bookworm", "12"):
        registry.register(f"debian:{tag}", ShellProgram, layers=[DEBIAN_BOOKWORM], cmd=["bash"])
    for tag in ("latest", "22.04", "24.04"):
        registry.register(f"ubuntu:{tag}", ShellProgram, size=29_700_000, cmd=["/bin/bash"])
    registry.register("centos:7", ShellProgram, size=76 * MB, cmd=["/bin/bash"])


def _misc(registry: Registry) -> None:
    registry.register("polinux/stress", misc.Stress, size=4_000_000, entrypoint=[], cmd=["stress"])
    registry.register("vish/stress", misc.CpuStress, size=3_200_000, entrypoint=["/stress"], cmd=["-logtostderr"])
    for tag in ("latest", "7", "7.4", "6.2"):
        registry.register(f"redis:{tag}", misc.Redis, layers=[DEBIAN_BOOKWORM], size=16 * MB,
                          cmd=["redis-server"])
    registry.register("course/memory-hog:1.0", misc.MemoryHog, layers=[ALPINE], size=1 * MB)
    registry.register("course/cpu-burner:1.0", misc.CpuBurner, layers=[ALPINE], size=1 * MB)
    registry.register("course/crasher:1.0", misc.Crasher, layers=[ALPINE], size=1 * MB)
