"""kube-proxy itself (``cmd/kube-proxy/app/server.go``): the component that runs in the kube-proxy pod.

``KubeProxy(context)`` is what the ``registry.k8s.io/kube-proxy`` image
starts on every node (a hostNetwork pod of the kube-proxy DaemonSet): it
reads its KubeProxyConfiguration from ``--config`` (the ConfigMap mounted at
``/var/lib/kube-proxy/config.conf`` in ``options["fs"]``; without a file,
the defaults and ``--proxy-mode`` / ``--cluster-cidr``), learns its node name
from ``--hostname-override`` or ``NODE_NAME``, builds the Proxier of its mode
on the node's kernel (``options["machine"].network_stack``: ``.iptables``,
``.ipvs``) and feeds it from three informers through the API server:
Services and EndpointSlices (without those labelled
``service.kubernetes.io/service-proxy-name`` or
``service.kubernetes.io/headless``) and its own Node. It never reads the
store and never touches another node. Its health servers
(``engine.proxy.healthcheck``: ``/healthz`` and ``/livez`` on
``healthzBindAddress``, one listener per ``healthCheckNodePort``) bind through
``options["listen"]`` / ``options["close"]`` (the pod program's sockets in the
node's network namespace); without them kube-proxy serves no health checks.
"""

from __future__ import annotations

import logging
from typing import Any

from engine.components import ComponentContext
from engine.network.ipvs import DUMMY_INTERFACE
from engine.proxy.config import KubeProxyConfiguration, parse
from engine.proxy.healthcheck import ProxierHealthServer, ServiceHealthServer
from engine.proxy.iptables.proxier import Proxier as IptablesProxier
from engine.proxy.iptables.rules import RulesConfig, build_restore_input
from engine.proxy.ipvs.proxier import Proxier as IpvsProxier

log = logging.getLogger(__name__)

LABEL_SELECTOR = "!service.kubernetes.io/service-proxy-name,!service.kubernetes.io/headless"
SYNC_POLL = 0.05            # how often (virtual s) start-up checks whether the informers have listed


class KubeProxyError(RuntimeError):
    """kube-proxy cannot start (no config file, no node, no network stack)."""


def _option(options: dict[str, Any], name: str) -> Any:
    for key in (name, f"--{name}", name.replace("-", "_")):
        if options.get(key) not in (None, ""):
            return options[key]
    return None


def load_configuration(options: dict[str, Any]) -> KubeProxyConfiguration:
    """The config file named by ``--config`` (read from the container's filesystem), then flag overrides."""
    path = _option(options, "config")
    if path:
        files = options.get("fs") or {}
        text = files.get(path) if hasattr(files, "get") else None
        if text is None:
            raise KubeProxyError(f'failed to load kube-proxy config file "{path}": open {path}: '
                                 "no such file or directory")
        config = parse(text)
    else:
        config = KubeProxyConfiguration()
    if _option(options, "proxy-mode"):
        config.mode = _option(options, "proxy-mode")
    if _option(options, "cluster-cidr"):
        config.cluster_cidr = _option(options, "cluster-cidr")
    override = _option(options, "hostname-override")
    if override and "$(" not in override:       # an unexpanded $(NODE_NAME): the node name comes from the env
        config.hostname_override = override
    return config


class KubeProxy:
    """The kube-proxy process: configuration, one Proxier, its informers."""

    def __init__(self, context: ComponentContext) -> None:
        self.name = context.name
        self.context = context
        self.loop = context.loop
        self.running = False
        self.config = load_configuration(context.options)
        self.node_name = self.config.hostname_override or context.node_name
        if not self.node_name:
            raise KubeProxyError("kube-proxy needs its node name (--hostname-override or NODE_NAME)")
        machine = context.options.get("machine")
        stack = getattr(machine, "network_stack", None) if machine is not None else context.options.get("stack")
        if stack is None:
            raise KubeProxyError(f"node {self.node_name} has no network stack to program")
        self.stack = stack
        self.node_ip = getattr(machine, "address", "") or getattr(stack, "address", "")
        rules = RulesConfig(node_name=self.node_name, node_ip=self.node_ip, cluster_cidr=self.config.cluster_cidr,
                            masquerade_all=self.config.masquerade_all, masquerade_bit=self.config.masquerade_bit,
                            localhost_node_ports=self.config.localhost_node_ports,
                            node_port_addresses=self.config.node_port_addresses)
        if self.config.mode == "ipvs":
            self.proxier: IptablesProxier = IpvsProxier(
                stack.iptables, stack.ipvs, self.loop, rules, node_ips=[self.node_ip] if self.node_ip else [],
                scheduler=self.config.ipvs_scheduler, min_sync_period=self.config.ipvs_min_sync_period,
                sync_period=self.config.ipvs_sync_period, on_bound=lambda addresses: _bind_dummy(stack, addresses))
        else:
            self.proxier = IptablesProxier(stack.iptables, self.loop, rules,
                                           min_sync_period=self.config.iptables_min_sync_period,
                                           sync_period=self.config.iptables_sync_period,
                                           build=context.options.get("build_restore_input") or build_restore_input)
        self.healthz: ProxierHealthServer | None = None
        self.service_health: ServiceHealthServer | None = None
        listen, close = context.options.get("listen"), context.options.get("close")
        if listen is not None and close is not None:
            period = self.config.ipvs_sync_period if self.config.mode == "ipvs" else self.config.iptables_sync_period
            self.healthz = ProxierHealthServer(self.loop, 2 * period, self.config.healthz_bind_address)
            self.service_health = ServiceHealthServer(listen, close, self.healthz.is_healthy)
            self.proxier.healthz, self.proxier.service_health = self.healthz, self.service_health
        self._listen, self._close = listen, close
        informers = context.informers
        self.services = informers.informer("services", label_selector=LABEL_SELECTOR)
        self.slices = informers.informer("endpointslices", label_selector=LABEL_SELECTOR)
        self.nodes = informers.informer("nodes", field_selector=f"metadata.name={self.node_name}")
        p = self.proxier
        self.services.add_event_handler(on_add=p.on_service_add, on_update=p.on_service_update,
                                        on_delete=lambda obj: p.on_service_delete(_final(obj)))
        self.slices.add_event_handler(on_add=p.on_endpoint_slice_add, on_update=p.on_endpoint_slice_update,
                                      on_delete=lambda obj: p.on_endpoint_slice_delete(_final(obj)))
        self.nodes.add_event_handler(on_add=self._on_node, on_update=lambda old, new: self._on_node(new),
                                     on_delete=lambda obj: self._on_node(None))
        self._poll = None

    def _on_node(self, node: dict | None) -> None:
        if self.healthz is not None:
            self.healthz.node = node
        self.proxier.on_node_change(node)

    def start(self) -> None:
        log.info("Using %s Proxier on node %s", self.config.mode, self.node_name)
        self.running = True
        if self.healthz is not None and self._listen is not None:
            self._listen(self.healthz.port, self.healthz)
        self.proxier.start()
        self.context.informers.start()
        self._poll = self.loop.call_soon(self._wait_for_sync, label="kube-proxy informer sync")

    def _wait_for_sync(self) -> None:
        self._poll = None
        if not self.running:
            return
        if not (self.services.has_synced and self.slices.has_synced):
            self._poll = self.loop.call_later(SYNC_POLL, self._wait_for_sync, label="kube-proxy informer sync")
            return
        self.proxier.on_services_synced()
        self.proxier.on_endpoint_slices_synced()

    def stop(self) -> None:
        self.running = False
        if self._poll is not None:
            self._poll.cancel()
        self.proxier.stop()
        self.context.informers.stop()
        if self.service_health is not None and self._close is not None:
            self.service_health.close_all()
            self._close(self.healthz.port)


def _bind_dummy(stack: Any, addresses: set[str]) -> None:
    """``ip link add kube-ipvs0 type dummy`` and its addresses, on a Host that has interfaces."""
    if not callable(getattr(stack, "add_interface", None)):
        return
    from engine.network.routing import Interface
    stack.add_interface(Interface(DUMMY_INTERFACE, "dummy", sorted(f"{a}/32" for a in addresses)))


def _final(obj: Any) -> dict:
    """A delete handler's object, unwrapping a DeletedFinalStateUnknown tombstone."""
    return getattr(obj, "obj", obj)
