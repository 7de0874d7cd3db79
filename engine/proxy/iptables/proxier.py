"""The iptables Proxier (``pkg/proxy/iptables/proxier.go``): keeps a node's netfilter in step with Services.

Event handlers (``on_service_*``, ``on_endpoint_slice_*``, ``on_node_*``)
only feed the change trackers and ask the ``BoundedFrequencyRunner`` for a
sync; nothing is programmed before both the Services and the EndpointSlices
informers have synced (``isInitialized``). ``sync_proxy_rules`` applies the
pending changes, ensures the jump rules from the built-in chains (a full
sync: ``iptables -N`` and ``iptables -C || -I`` each), builds the restore
input (``rules.build_restore_input``) and hands it to one
``iptables-restore --noflush``. A failed restore is retried after
``--iptables-sync-period``. Like upstream's ``iptables.Monitor``, every sync
period it checks its canary chains (``KUBE-PROXY-CANARY`` in mangle, nat,
filter): if someone flushed the tables the canary is gone and the proxier
re-creates everything. After each successful sync it tells its health servers
(``service_health``, ``healthz``: ``engine.proxy.healthcheck``, when the
component gives them) which Services need a health check node port and how
many ready endpoints each has on this node. It writes nothing else on the node. The rule writer is
a seam (``build``, from the component's ``options["build_restore_input"]``) so a
lab can run the learner's rules on every node of a live cluster.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Callable

from engine import flags
from engine.network.netfilter import RestoreError
from engine.proxy.changetracker import EndpointsChangeTracker, EndpointsMap, ServiceChangeTracker, ServicePortMap
from engine.proxy.healthcheck import health_check_node_ports, local_ready_endpoints
from engine.proxy.iptables.rules import JUMP_CHAINS, KUBE_PROXY_CANARY, RulesConfig, build_restore_input
from engine.proxy.runner import BoundedFrequencyRunner

if TYPE_CHECKING:
    from engine.network.netfilter import Netfilter
    from engine.proxy.healthcheck import ProxierHealthServer, ServiceHealthServer
    from engine.sim.loop import Loop

log = logging.getLogger(__name__)
CANARY_TABLES = ("mangle", "nat", "filter")


class Proxier:
    """One node's iptables-mode kube-proxy core (the IPv4 single-stack proxier)."""

    mode = "iptables"

    def __init__(self, netfilter: "Netfilter", loop: "Loop", config: RulesConfig, *,
                 min_sync_period: float = flags.iptables_min_sync_period,
                 sync_period: float = flags.iptables_sync_period,
                 build: Callable[..., str] = build_restore_input) -> None:
        self.iptables = netfilter
        self.build = build
        """The rule writer (``rules.build_restore_input``); a lab plugs the learner's in here."""
        self.loop = loop
        self.config = config
        self.sync_period = sync_period
        self.service_changes = ServiceChangeTracker()
        self.endpoints_changes = EndpointsChangeTracker(config.node_name)
        self.svc_port_map: ServicePortMap = {}
        self.endpoints_map: EndpointsMap = {}
        self.services_synced = False
        self.endpoint_slices_synced = False
        self.need_full_sync = True
        self.syncs = 0
        self.last_restore = ""
        """The restore input of the last successful sync (what kube-proxy logs at -v=9)."""
        self.sync_runner = BoundedFrequencyRunner("sync-runner", self.sync_proxy_rules, loop, min_sync_period,
                                                  flags.proxy_full_sync_period, burst=2)
        self._monitor = None
        self.service_health: "ServiceHealthServer | None" = None
        self.healthz: "ProxierHealthServer | None" = None

    # -- lifecycle -------------------------------------------------------------------
    def start(self) -> None:
        self.sync_runner.start()
        self._ensure_canaries()
        self._monitor = self.loop.call_later(self.sync_period, self._check_canaries, label="kube-proxy monitor")

    def stop(self) -> None:
        self.sync_runner.stop()
        if self._monitor is not None:
            self._monitor.cancel()
            self._monitor = None

    def is_initialized(self) -> bool:
        return self.services_synced and self.endpoint_slices_synced

    def sync(self) -> None:
        """Ask for a sync (rate-limited), once the informers have synced."""
        if self.healthz is not None:
            self.healthz.queued_update()
        if self.is_initialized():
            self.sync_runner.run()

    # -- informer handlers (pkg/proxy/config) ------------------------------------------
    def on_service_add(self, service: dict) -> None:
        self.on_service_update(None, service)

    def on_service_update(self, old: dict | None, service: dict | None) -> None:
        if self.service_changes.update(old, service):
            self.sync()

    def on_service_delete(self, service: dict) -> None:
        self.on_service_update(service, None)

    def on_services_synced(self) -> None:
        self.services_synced = True
        self.sync()

    def on_endpoint_slice_add(self, slice_: dict) -> None:
        if self.endpoints_changes.update(slice_):
            self.sync()

    def on_endpoint_slice_update(self, old: dict, slice_: dict) -> None:
        self.on_endpoint_slice_add(slice_)

    def on_endpoint_slice_delete(self, slice_: dict) -> None:
        if self.endpoints_changes.update(slice_, removed=True):
            self.sync()

    def on_endpoint_slices_synced(self) -> None:
        self.endpoint_slices_synced = True
        self.sync()

    def on_node_change(self, node: dict | None) -> None:
        """A change of this node's labels forces a full sync (topology); other nodes are ignored."""
        self.need_full_sync = True
        self.sync()

    # -- syncProxyRules --------------------------------------------------------------
    def sync_proxy_rules(self) -> None:
        if not self.is_initialized():
            log.debug("Not syncing iptables until Services and Endpoints have been received from master")
            return
        self.service_changes.apply(self.svc_port_map)
        self.endpoints_changes.apply(self.endpoints_map)
        if self.need_full_sync:
            self._ensure_jump_rules()
        existing = set(self.iptables.table("nat").chains)
        text = self.build(self.svc_port_map, self.endpoints_map, self.config, existing)
        try:
            self.iptables.restore(text, noflush=True)
        except RestoreError as exc:
            log.error("Failed to execute iptables-restore: %s", exc)
            self.need_full_sync = True
            self.sync_runner.retry_after(self.sync_period)
            return
        self.need_full_sync = False
        self.last_restore = text
        self.syncs += 1
        self.update_health()

    def update_health(self) -> None:
        """serviceHealthServer.SyncServices / SyncEndpoints and healthzServer.Updated, after a sync."""
        if self.service_health is not None:
            self.service_health.sync_services(health_check_node_ports(self.svc_port_map))
            self.service_health.sync_endpoints(local_ready_endpoints(self.endpoints_map))
        if self.healthz is not None:
            self.healthz.updated()

    def _ensure_jump_rules(self) -> None:
        for table, destination, source, comment, extra in JUMP_CHAINS:
            self.iptables.ensure_chain(table, destination)
            args = list(extra) + (["-m", "comment", "--comment", comment] if comment else []) + ["-j", destination]
            self.iptables.ensure_rule("prepend", table, source, args)

    # -- iptables.Monitor ----------------------------------------------------------------
    def _ensure_canaries(self) -> None:
        for table in CANARY_TABLES:
            self.iptables.ensure_chain(table, KUBE_PROXY_CANARY)

    def _check_canaries(self) -> None:
        self._monitor = self.loop.call_later(self.sync_period, self._check_canaries, label="kube-proxy monitor")
        if all(self.iptables.chain(t, KUBE_PROXY_CANARY) is not None for t in CANARY_TABLES):
            return
        log.info("iptables canary deleted: the tables were flushed, resyncing")
        self._ensure_canaries()
        self.need_full_sync = True
        self.sync()
