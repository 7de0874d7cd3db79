"""The network add-ons' images: what the containers of the flannel, calico and canal DaemonSets run.

    docker.io/flannel/flannel            flanneld (``/opt/bin/flanneld --ip-masq --kube-subnet-mgr``: the
                                         ``FlannelAgent``), and ``cp`` for its ``install-cni`` init container
    docker.io/flannel/flannel-cni-plugin ``cp -f /flannel /opt/cni/bin/flannel`` (the plugin's binary)
    docker.io/calico/node                calico-node (``CalicoNode``; ``Canal`` when its env says
                                         ``CALICO_NETWORKING_BACKEND=none`` and a flanneld runs beside it)
    docker.io/calico/cni                 ``/opt/cni/bin/install``: puts the calico plugin's binary on the node

Each agent runs as a ``ComponentProgram``: it reaches the API server with
its pod's ServiceAccount token through ``ctx.dial`` (the in-cluster
``KUBERNETES_SERVICE_HOST``, i.e. through kube-proxy's DNAT of 10.96.0.1),
and programs the node's stack from ``options["machine"]`` (the pods are
hostNetwork). The binaries the install steps copy are markers in the node's
``/opt/cni/bin``: the CNI executor runs plugins from ``cni_plugins.PLUGINS``.
"""

from __future__ import annotations

from typing import Any

from engine.network.manifests import (CALICO_CNI_IMAGE, CALICO_NODE_IMAGE, FLANNEL_CNI_PLUGIN_IMAGE,
                                      FLANNEL_IMAGE)
from engine.runtime.programs.base import Program
from engine.runtime.programs.component import ComponentProgram

MB = 1_000_000


def _copy(ctx: Any, argv: list[str]) -> int:
    """``cp [-f] SRC DST``: the file's content, or a binary's marker when the image's file is not modelled."""
    paths = [a for a in argv[1:] if not a.startswith("-")]
    if len(paths) != 2:
        ctx.stderr("cp: missing destination file operand\n")
        return 1
    source, destination = paths
    ctx.fs[destination] = ctx.fs.get(source, f"#!ELF {source}\n")
    return 0


class Copy(Program):
    """An init container that copies a file and exits 0."""

    def start(self, ctx: Any) -> None:
        super().start(ctx)
        ctx.exit(_copy(ctx, list(ctx.argv)))


class InstallCalicoCNI(Program):
    """calico/cni's ``install``: the calico and calico-ipam binaries into the host's /opt/cni/bin."""

    def start(self, ctx: Any) -> None:
        super().start(ctx)
        for binary in ("calico", "calico-ipam"):
            ctx.fs[f"/host/opt/cni/bin/{binary}"] = f"#!ELF {binary}\n"
        ctx.exit(0)


class Flanneld(ComponentProgram):
    name = "flanneld"
    target = "engine.network.flannel:FlannelAgent"

    def start(self, ctx: Any) -> None:
        if ctx.argv and ctx.argv[0] == "cp":       # the install-cni init container of the same image
            Program.start(self, ctx)
            ctx.exit(_copy(ctx, list(ctx.argv)))
            return
        super().start(ctx)


class CalicoNodeProgram(ComponentProgram):
    name = "calico-node"
    target = "engine.network.calico:CalicoNode"

    def start(self, ctx: Any) -> None:
        if ctx.env.get("CALICO_NETWORKING_BACKEND") == "none":
            self.target = "engine.network.calico:CalicoPolicyOnly"
        super().start(ctx)


def register_images(registry: Any) -> None:
    """Publish the add-ons' images (sizes of the real linux/amd64 images, rounded)."""
    registry.register(FLANNEL_IMAGE, Flanneld, size=34 * MB, entrypoint=["/opt/bin/flanneld"])
    registry.register(FLANNEL_CNI_PLUGIN_IMAGE, Copy, size=5 * MB, entrypoint=["cp"])
    registry.register(CALICO_NODE_IMAGE, CalicoNodeProgram, size=145 * MB, entrypoint=["start_runit"])
    registry.register(CALICO_CNI_IMAGE, InstallCalicoCNI, size=95 * MB, entrypoint=["/opt/cni/bin/install"])
