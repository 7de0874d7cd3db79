"""The node lifecycle controller (``pkg/controller/nodelifecycle``): notices dead nodes and taints them.

Every ``--node-monitor-period`` (5 s) it checks each node's health
(``tryUpdateNodeHealth``): a node is alive while its Lease in
``kube-node-lease`` is renewed or its Ready heartbeat changes. A node not
heard from for ``--node-monitor-grace-period`` (40 s; 60 s
``--node-startup-grace-period`` before its first status) gets its Ready,
MemoryPressure, DiskPressure and PIDPressure conditions set to Unknown
("Kubelet stopped posting node status."), a ``NodeNotReady`` event, and its
pods' Ready condition set to False. A node whose Ready is False or Unknown
is queued for the ``node.kubernetes.io/not-ready`` or ``unreachable``
NoExecute taint (the taint eviction controller then evicts its pods); a
Ready node loses them. Tainting goes through one rate-limited queue per
zone: ``--node-eviction-rate`` (0.1 nodes/s) normally, in a zone where at
least ``--unhealthy-zone-threshold`` (55 %) of more than two nodes are not
Ready ``--secondary-node-eviction-rate`` (0.01) if the zone has more than
``--large-cluster-size-threshold`` (50) nodes and none otherwise, and no
tainting at all while every zone is fully disrupted (the control plane is
more likely cut off than all nodes dead); leaving that state restarts the
grace periods. Independently, NoSchedule taints follow the node's
conditions (not-ready, unreachable, memory-, disk-, pid-pressure,
network-unavailable) and ``spec.unschedulable``. It never deletes pods.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from engine import flags
from engine.api import errors
from engine.api.frozen import thaw
from engine.api.meta import parse_timestamp, timestamp
from engine.client.record import EventRecorder
from engine.client.workqueue import TokenBucket, WorkQueue, run_workers
from engine.components import ComponentContext
from engine.controllers.tainteviction import NODE_NAME_INDEX, add_pod_node_index
from engine.sim.loop import Timer

log = logging.getLogger(__name__)

NODE_LEASE_NAMESPACE = "kube-node-lease"
UNREACHABLE = "node.kubernetes.io/unreachable"
NOT_READY = "node.kubernetes.io/not-ready"
UNSCHEDULABLE = "node.kubernetes.io/unschedulable"
EXCLUDE_DISRUPTION_LABEL = "node.kubernetes.io/exclude-disruption"
CONDITION_TAINTS = {    # nodeConditionToTaintKeyStatusMap
    "Ready": {"False": NOT_READY, "Unknown": UNREACHABLE},
    "MemoryPressure": {"True": "node.kubernetes.io/memory-pressure"},
    "DiskPressure": {"True": "node.kubernetes.io/disk-pressure"},
    "NetworkUnavailable": {"True": "node.kubernetes.io/network-unavailable"},
    "PIDPressure": {"True": "node.kubernetes.io/pid-pressure"},
}
CONDITION_TAINT_KEYS = {key for by_status in CONDITION_TAINTS.values() for key in by_status.values()}
EVICTION_RATE_LIMITER_BURST = 1
NODE_EVICTION_PERIOD = 0.1          # scheduler.NodeEvictionPeriod: how often upstream tries the tainting queues

INITIAL, NORMAL, FULL_DISRUPTION, PARTIAL_DISRUPTION = "Initial", "Normal", "FullDisruption", "PartialDisruption"


# -- pure decisions ----------------------------------------------------------------------------

def condition(node: dict, type_: str) -> dict | None:
    return next((c for c in (node.get("status") or {}).get("conditions") or () if c.get("type") == type_), None)


def zone_key(node: dict) -> str:
    """GetZoneKey: region and zone labels, or "" for a node with neither."""
    labels = node["metadata"].get("labels") or {}
    region = labels.get("topology.kubernetes.io/region") or labels.get("failure-domain.beta.kubernetes.io/region", "")
    zone = labels.get("topology.kubernetes.io/zone") or labels.get("failure-domain.beta.kubernetes.io/zone", "")
    return f"{region}:\x00:{zone}" if region or zone else ""


def compute_zone_state(ready_statuses: list[str | None],
                       unhealthy_threshold: float = flags.unhealthy_zone_threshold) -> tuple[int, str]:
    """ComputeZoneState: (not-ready count, Normal / PartialDisruption / FullDisruption)."""
    ready = sum(1 for status in ready_statuses if status == "True")
    not_ready = len(ready_statuses) - ready
    if ready == 0 and not_ready > 0:
        return not_ready, FULL_DISRUPTION
    if not_ready > 2 and not_ready / (not_ready + ready) >= unhealthy_threshold:
        return not_ready, PARTIAL_DISRUPTION
    return not_ready, NORMAL


def zone_eviction_qps(state: str, zone_size: int) -> float:
    """setLimiterInZone: HealthyQPSFunc for Normal and FullDisruption, ReducedQPSFunc for PartialDisruption."""
    if state == PARTIAL_DISRUPTION:
        return flags.secondary_node_eviction_rate if zone_size > flags.large_cluster_size_threshold else 0.0
    return flags.node_eviction_rate


def no_schedule_taints(node: dict) -> list[dict]:
    """The NoSchedule taints the node's conditions and spec.unschedulable call for."""
    taints = []
    for cond in (node.get("status") or {}).get("conditions") or ():
        key = CONDITION_TAINTS.get(cond.get("type"), {}).get(cond.get("status"))
        if key:
            taints.append({"key": key, "effect": "NoSchedule"})
    if (node.get("spec") or {}).get("unschedulable"):
        taints.append({"key": UNSCHEDULABLE, "effect": "NoSchedule"})
    return taints


def _same_taint(a: dict, b: dict) -> bool:
    return a.get("key") == b.get("key") and a.get("effect") == b.get("effect")


def swap_taints(taints: list[dict], add: list[dict], remove: list[dict], now: float) -> list[dict] | None:
    """SwapNodeControllerTaint on a taint list: the new list, or None if nothing changes."""
    kept = [t for t in taints if not any(_same_taint(t, r) for r in remove)]
    missing = [dict(t, timeAdded=timestamp(now)) for t in add if not any(_same_taint(t, k) for k in kept)]
    if not missing and len(kept) == len(taints):
        return None
    return kept + missing


@dataclass
class NodeHealth:
    ready: dict | None          # the Ready condition last seen
    probe_timestamp: float
    ready_transition_timestamp: float
    lease_renew: float | None = None


class ZoneTainter:
    """RateLimitedTimedQueue: nodes waiting for their NoExecute taint, released at the zone's rate."""

    def __init__(self, loop, qps: float) -> None:
        self.loop = loop
        self.queue: list[str] = []
        self.seen: set[str] = set()      # UniqueQueue keeps a processed node until Remove
        self.qps = -1.0
        self.limiter: TokenBucket | None = None
        self.swap_limiter(qps)

    def swap_limiter(self, qps: float) -> None:
        if qps == self.qps:
            return
        self.qps = qps
        self.limiter = TokenBucket(self.loop, qps, EVICTION_RATE_LIMITER_BURST) if qps > 0 else None

    def add(self, name: str) -> bool:
        if name in self.seen:
            return False
        self.seen.add(name)
        self.queue.append(name)
        return True

    def remove(self, name: str) -> None:
        self.seen.discard(name)
        if name in self.queue:
            self.queue.remove(name)

    def next_try(self) -> float | None:
        """Seconds until a token is there for the head of the queue (None: empty or stopped)."""
        if not self.queue or self.limiter is None:
            return None
        self.limiter._advance()
        return max(NODE_EVICTION_PERIOD, (1.0 - self.limiter.tokens) / self.qps)


# -- the controller ----------------------------------------------------------------------------

class NodeLifecycleController:
    """Marks silent nodes Unknown, taints not-ready ones, and keeps condition taints in step."""

    name = "node-lifecycle-controller"
    service_account = "node-controller"

    def __init__(self, context: ComponentContext) -> None:
        self.client = context.client
        self.loop = context.loop
        self.recorder = EventRecorder(context.client, "node-controller")
        self.nodes = context.informers.informer("nodes")
        self.leases = context.informers.informer("leases")
        self.pods = context.informers.informer("pods")
        add_pod_node_index(self.pods)
        self.health: dict[str, NodeHealth] = {}
        self.zone_states: dict[str, str] = {}
        self.tainters: dict[str, ZoneTainter] = {}
        self.no_schedule_queue = WorkQueue(context.loop, name="node_lifecycle_controller")
        self.nodes.add_event_handler(on_add=self.no_schedule_queue.add_key,
                                     on_update=lambda old, new: self.no_schedule_queue.add_key(new))
        self.workers = None
        self.monitor_timer: Timer | None = None
        self.tainting_timer: Timer | None = None

    def start(self) -> None:
        self.workers = run_workers(self.no_schedule_queue, self.sync_no_schedule_taints)
        self.monitor_timer = self.loop.call_later(flags.node_monitor_period, self._monitor, label=self.name)

    def stop(self) -> None:
        if self.workers is not None:
            self.workers.stop()
        for timer in (self.monitor_timer, self.tainting_timer):
            if timer is not None:
                timer.cancel()

    # -- NoSchedule taints from conditions -------------------------------------------------------
    def sync_no_schedule_taints(self, name: str) -> None:
        """doNoScheduleTaintingPass."""
        node = self.nodes.indexer.get_by_key(name)
        if node is None:
            return
        wanted = no_schedule_taints(node)
        current = [t for t in (node.get("spec") or {}).get("taints") or () if t.get("effect") == "NoSchedule"
                   and (t.get("key") == UNSCHEDULABLE or t.get("key") in CONDITION_TAINT_KEYS)]
        add = [t for t in wanted if not any(_same_taint(t, c) for c in current)]
        remove = [c for c in current if not any(_same_taint(t, c) for t in wanted)]
        if add or remove:
            self._swap(name, add, remove)

    def _swap(self, name: str, add: list[dict], remove: list[dict]) -> bool:
        try:
            node = thaw(self.client.get("nodes", name))
            taints = swap_taints((node.get("spec") or {}).get("taints") or [], add, remove, self.loop.now)
            if taints is None:
                return True
            node.setdefault("spec", {})["taints"] = taints
            if not taints:
                del node["spec"]["taints"]
            self.client.update(node)
            return True
        except errors.NotFound:
            return True
        except errors.ApiError as error:
            log.info("node %s: taint update failed: %s", name, error)
            return False

    # -- monitorNodeHealth -----------------------------------------------------------------------
    def _monitor(self) -> None:
        self.monitor_timer = self.loop.call_later(flags.node_monitor_period, self._monitor, label=self.name)
        try:
            self.monitor_node_health()
        finally:
            self._schedule_tainting(NODE_EVICTION_PERIOD)

    def monitor_node_health(self) -> None:
        nodes = sorted(self.nodes.indexer.list(), key=lambda n: n["metadata"]["name"])
        names = {n["metadata"]["name"] for n in nodes}
        for gone in [name for name in self.health if name not in names]:
            del self.health[gone]
            for tainter in self.tainters.values():
                tainter.remove(gone)
        zone_ready: dict[str, list[str | None]] = {}
        for node in nodes:
            zone = zone_key(node)
            if zone not in self.tainters:
                self.tainters[zone] = ZoneTainter(self.loop, flags.node_eviction_rate)
            observed, current = self.try_update_node_health(node)
            if current is None:
                continue
            if EXCLUDE_DISRUPTION_LABEL not in (node["metadata"].get("labels") or {}):
                zone_ready.setdefault(zone, []).append(current.get("status"))
            self.process_taint_based_eviction(node, current.get("status"))
            if current.get("status") != "True" and (observed or {}).get("status") == "True":
                name = node["metadata"]["name"]
                self.recorder.eventf({"kind": "Node", "name": name, "uid": name}, "Normal", "NodeNotReady",
                                     "Node %s status is now: %s", name, "NodeNotReady")
                self.mark_pods_not_ready(name)
        self.handle_disruption(zone_ready, nodes)

    def try_update_node_health(self, node: dict) -> tuple[dict | None, dict | None]:
        """tryUpdateNodeHealth: the Ready condition as observed and as it is now (Unknown once silent)."""
        name = node["metadata"]["name"]
        now = self.loop.now
        ready = condition(node, "Ready")
        saved = self.health.get(name)
        if ready is None:
            created = parse_timestamp(node["metadata"]["creationTimestamp"])
            grace = flags.node_startup_grace_period
            observed = {"type": "Ready", "status": "Unknown", "lastTransitionTime": node["metadata"]["creationTimestamp"]}
            if saved is None:
                saved = NodeHealth(None, created, created)
        else:
            grace = flags.node_monitor_grace_period
            observed = ready
            if saved is None or saved.ready is None:
                saved = NodeHealth(ready, now, now, saved.lease_renew if saved else None)
            elif saved.ready.get("lastHeartbeatTime") != ready.get("lastHeartbeatTime"):
                transition = now if saved.ready.get("lastTransitionTime") != ready.get("lastTransitionTime") \
                    else saved.ready_transition_timestamp
                saved = NodeHealth(ready, now, transition, saved.lease_renew)
        lease = self.leases.indexer.get_by_key(f"{NODE_LEASE_NAMESPACE}/{name}")
        renew = ((lease or {}).get("spec") or {}).get("renewTime")
        if renew and (saved.lease_renew is None or saved.lease_renew < parse_timestamp(renew)):
            saved.lease_renew = parse_timestamp(renew)
            saved.probe_timestamp = now
        self.health[name] = saved
        current = observed
        if now > saved.probe_timestamp + grace:
            updated = self._mark_unknown(node, now)
            if updated is not None:
                current = condition(updated, "Ready")
                self.health[name] = NodeHealth(current, saved.probe_timestamp, now, saved.lease_renew)
        return observed, current

    def _mark_unknown(self, node: dict, now: float) -> dict | None:
        """Ready and the pressure conditions to Unknown, written only if Ready changes."""
        fresh = thaw(node)
        conditions = fresh.setdefault("status", {}).setdefault("conditions", [])
        for type_ in ("Ready", "MemoryPressure", "DiskPressure", "PIDPressure"):
            current = condition(fresh, type_)
            if current is None:
                conditions.append({"type": type_, "status": "Unknown", "lastHeartbeatTime":
                                   node["metadata"]["creationTimestamp"], "lastTransitionTime": timestamp(now),
                                   "reason": "NodeStatusNeverUpdated", "message": "Kubelet never posted node status."})
            elif current.get("status") != "Unknown":
                current.update(status="Unknown", reason="NodeStatusUnknown",
                               message="Kubelet stopped posting node status.", lastTransitionTime=timestamp(now))
        if condition(fresh, "Ready") == condition(node, "Ready"):
            return None
        try:
            return self.client.update_status(fresh)
        except errors.ApiError as error:
            log.info("node %s: status update failed: %s", node["metadata"]["name"], error)
            return None

    def mark_pods_not_ready(self, node_name: str) -> None:
        """MarkPodsNotReady: each pod's Ready condition to False, with a NodeNotReady event."""
        for pod in self.pods.lister.by_index(NODE_NAME_INDEX, node_name):
            fresh = thaw(pod)
            for cond in (fresh.get("status") or {}).get("conditions") or ():
                if cond.get("type") != "Ready" or cond.get("status") == "False":
                    continue
                cond.update(status="False", lastTransitionTime=timestamp(self.loop.now))
                try:
                    self.client.update_status(fresh)
                except errors.ApiError as error:
                    log.info("pod %s: could not mark it not ready: %s", pod["metadata"]["name"], error)
                    break
                self.recorder.event(fresh, "Warning", "NodeNotReady", "Node is not ready")
                break

    # -- NoExecute taints, rate limited per zone -------------------------------------------------
    def process_taint_based_eviction(self, node: dict, ready_status: str | None) -> None:
        name, zone = node["metadata"]["name"], zone_key(node)
        taints = (node.get("spec") or {}).get("taints") or []
        no_execute = [{"key": UNREACHABLE, "effect": "NoExecute"}, {"key": NOT_READY, "effect": "NoExecute"}]
        if ready_status == "False":
            if any(_same_taint(t, no_execute[0]) for t in taints):
                self._swap(name, [no_execute[1]], [no_execute[0]])
            else:
                self.tainters[zone].add(name)
        elif ready_status == "Unknown":
            if any(_same_taint(t, no_execute[1]) for t in taints):
                self._swap(name, [no_execute[0]], [no_execute[1]])
            else:
                self.tainters[zone].add(name)
        elif ready_status == "True":
            self.mark_node_as_reachable(node)

    def mark_node_as_reachable(self, node: dict) -> None:
        name = node["metadata"]["name"]
        taints = (node.get("spec") or {}).get("taints") or []
        gone = [{"key": UNREACHABLE, "effect": "NoExecute"}, {"key": NOT_READY, "effect": "NoExecute"}]
        if any(_same_taint(t, g) for t in taints for g in gone):
            self._swap(name, [], gone)
        self.tainters[zone_key(node)].remove(name)

    def _schedule_tainting(self, delay: float) -> None:
        if self.tainting_timer is not None and not self.tainting_timer.cancelled \
                and self.tainting_timer.when <= self.loop.now + delay:
            return
        if self.tainting_timer is not None:
            self.tainting_timer.cancel()
        self.tainting_timer = self.loop.call_later(delay, self._tainting_pass, label=f"{self.name} tainting")

    def _tainting_pass(self) -> None:
        """doNoExecuteTaintingPass: taint queued nodes while their zone's limiter allows."""
        self.tainting_timer = None
        waits = []
        for zone in sorted(self.tainters):
            tainter = self.tainters[zone]
            while tainter.queue and tainter.limiter is not None and tainter.limiter.try_accept():
                name = tainter.queue.pop(0)
                node = self.nodes.indexer.get_by_key(name)
                ready = (condition(node, "Ready") or {}).get("status") if node else None
                if ready == "False":
                    add, remove = NOT_READY, UNREACHABLE
                elif ready == "Unknown":
                    add, remove = UNREACHABLE, NOT_READY
                else:
                    continue
                if not self._swap(name, [{"key": add, "effect": "NoExecute"}], [{"key": remove,
                                                                                   "effect": "NoExecute"}]):
                    tainter.queue.append(name)
            wait = tainter.next_try()
            if wait is not None:
                waits.append(wait)
        if waits:
            self._schedule_tainting(min(waits))

    # -- handleDisruption ------------------------------------------------------------------------
    def handle_disruption(self, zone_ready: dict[str, list[str | None]], nodes: list[dict]) -> None:
        new_states = {}
        all_are_fully_disrupted = True
        for zone, statuses in zone_ready.items():
            _, state = compute_zone_state(statuses)
            all_are_fully_disrupted = all_are_fully_disrupted and state == FULL_DISRUPTION
            new_states[zone] = state
            self.zone_states.setdefault(zone, INITIAL)
        all_were_fully_disrupted = True
        for zone in list(self.zone_states):
            if zone not in zone_ready:
                del self.zone_states[zone]
                continue
            if self.zone_states[zone] != FULL_DISRUPTION:
                all_were_fully_disrupted = False
        if all_are_fully_disrupted and all_were_fully_disrupted:
            return
        if all_are_fully_disrupted:
            log.info("Controller detected that all Nodes are not-Ready. Entering master disruption mode")
            for node in nodes:
                self.mark_node_as_reachable(node)
            for zone in self.zone_states:
                self.tainters[zone].swap_limiter(0.0)
                self.zone_states[zone] = FULL_DISRUPTION
            return
        if all_were_fully_disrupted:
            log.info("Controller detected that some Nodes are Ready. Exiting master disruption mode")
            for node in nodes:
                health = self.health.get(node["metadata"]["name"])
                if health is not None:
                    health.probe_timestamp = health.ready_transition_timestamp = self.loop.now
            for zone in self.zone_states:
                self.tainters[zone].swap_limiter(zone_eviction_qps(new_states[zone], len(zone_ready[zone])))
                self.zone_states[zone] = new_states[zone]
            return
        for zone, state in self.zone_states.items():
            if state != new_states[zone]:
                self.tainters[zone].swap_limiter(zone_eviction_qps(new_states[zone], len(zone_ready[zone])))
                self.zone_states[zone] = new_states[zone]
