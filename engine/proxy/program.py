"""The ``registry.k8s.io/kube-proxy`` image's binary: ``/usr/local/bin/kube-proxy`` as a container's process.

``KubeProxyProgram`` is a ``ComponentProgram`` running ``engine.proxy.server:KubeProxy``.
Like the real binary it finds its kubeconfig in its config file
(``--config=/var/lib/kube-proxy/config.conf``, ``clientConnection.kubeconfig``:
kubeadm's ``/var/lib/kube-proxy/kubeconfig.conf``, which points straight at the
control-plane endpoint, so kube-proxy needs no Service VIP to start) unless
``--kubeconfig`` is given. A config file it cannot read, or a pod without the
node's network namespace (``hostNetwork: true`` gives it ``ctx.machine``), is
fatal before it dials: a klog error line and exit 1, so the kubelet restarts it
with CrashLoopBackOff. kube-proxy's health servers listen on the
container's sockets (the node's, as the pod has ``hostNetwork: true``):
``handle_http`` hands a request to the server bound on its port.
``register_images`` publishes the image.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from engine.proxy.config import parse
from engine.proxy.manifests import IMAGE
from engine.proxy.server import KubeProxyError, load_configuration
from engine.runtime.programs.component import ComponentProgram, parse_flags

if TYPE_CHECKING:
    from engine.runtime.images import Registry

IMAGE_SIZE = 30_500_000          # registry.k8s.io/kube-proxy:v1.31.0, linux/amd64, compressed


class KubeProxyProgram(ComponentProgram):
    name = "kube-proxy"
    target = "engine.proxy.server:KubeProxy"

    def start(self, ctx: Any) -> None:
        """Fail the way the binary does before it dials anything: a bad config file, no kernel to program."""
        self.ctx = ctx
        options = parse_flags(list(ctx.argv[1:]))
        try:
            load_configuration({**options, "fs": ctx.fs})
        except (KubeProxyError, ValueError) as error:
            self.log("E", f"\"Error running ProxyServer\" err=\"{error}\"")
            ctx.exit(1)
            return
        if getattr(getattr(ctx, "machine", None), "network_stack", None) is None:
            self.log("E", "\"Error running ProxyServer\" err=\"can't set sysctl net/ipv4/conf/all/route_localnet: "
                          "open /proc/sys/net/ipv4/conf/all/route_localnet: no such file or directory\"")
            ctx.exit(1)
            return
        super().start(ctx)

    def component_options(self) -> dict[str, Any]:
        """The sockets kube-proxy's health servers bind: ``listen(port, handler)`` and ``close(port)``."""
        self._servers: dict[int, Any] = {}
        return {"listen": self._listen, "close": self._close}

    def _listen(self, port: int, handler: Any) -> None:
        if port in self.ctx.ports and self._servers.get(port) is not handler:
            raise OSError(f"listen tcp 0.0.0.0:{port}: bind: address already in use")
        self._servers[port] = handler
        self.ctx.listen(port)

    def _close(self, port: int) -> None:
        self._servers.pop(port, None)
        self.ctx.ports.discard(port)

    def handle_http(self, request: dict[str, Any]) -> dict[str, Any] | None:
        server = getattr(self, "_servers", {}).get(int(request.get("port") or 0))
        return server.handle_http(request) if server is not None else None

    def kubeconfig_path(self) -> str | None:
        """``--kubeconfig``, else the config file's ``clientConnection.kubeconfig``."""
        if self.options.get("kubeconfig"):
            return self.options["kubeconfig"]
        path = self.options.get("config")
        text = self.ctx.fs.get(path) if path else None
        return parse(text).kubeconfig if text else None


def register_images(registry: "Registry") -> None:
    registry.register(IMAGE, KubeProxyProgram, size=IMAGE_SIZE, entrypoint=["/usr/local/bin/kube-proxy"])
