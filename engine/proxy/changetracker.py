"""The change trackers (``pkg/proxy/servicechangetracker.go``, ``endpointschangetracker.go``).

kube-proxy's informer handlers never program anything: they hand each
Service or EndpointSlice change to a tracker, which remembers, per Service,
the state before the first pending change and after the last one. At the
next ``syncProxyRules`` the proxier applies the pending changes to its
``ServicePortMap`` (``ServicePortName`` -> ``ServicePortInfo``) and
``EndpointsMap`` (``ServicePortName`` -> endpoints) and learns which
Services changed. ``update`` returns whether anything is pending (a change
undone before the sync leaves nothing), which is what decides whether the
proxier asks its runner for a sync.
"""

from __future__ import annotations

from engine.proxy.endpoint import SERVICE_NAME_LABEL, EndpointInfo, endpoints_map
from engine.proxy.serviceport import ServicePortInfo, ServicePortName, service_ports

ServicePortMap = dict[ServicePortName, ServicePortInfo]
EndpointsMap = dict[ServicePortName, list[EndpointInfo]]


def _key(obj: dict) -> str:
    return f"{obj['metadata'].get('namespace', 'default')}/{obj['metadata']['name']}"


class ServiceChangeTracker:
    """Pending Service changes: per ``namespace/name``, the ports before and after."""

    def __init__(self) -> None:
        self.items: dict[str, tuple[ServicePortMap, ServicePortMap]] = {}

    def update(self, previous: dict | None, current: dict | None) -> bool:
        obj = current if current is not None else previous
        if obj is None:
            return bool(self.items)
        key = _key(obj)
        before = self.items[key][0] if key in self.items else (service_ports(previous) if previous else {})
        after = service_ports(current) if current else {}
        if before == after:
            self.items.pop(key, None)
        else:
            self.items[key] = (before, after)
        return bool(self.items)

    def apply(self, service_map: ServicePortMap) -> set[str]:
        """Apply and forget the pending changes; the names of the Services that changed."""
        changed = set(self.items)
        for before, after in self.items.values():
            for name in before:
                service_map.pop(name, None)
            service_map.update(after)
        self.items.clear()
        return changed


class EndpointsChangeTracker:
    """EndpointSlices by Service, and which Services' endpoints changed since the last sync."""

    def __init__(self, node_name: str | None) -> None:
        self.node_name = node_name
        self.slices: dict[str, dict[str, dict]] = {}
        self.pending: set[str] = set()

    def update(self, slice_: dict, removed: bool = False) -> bool:
        service = (slice_["metadata"].get("labels") or {}).get(SERVICE_NAME_LABEL)
        if not service:
            return bool(self.pending)
        key = f"{slice_['metadata'].get('namespace', 'default')}/{service}"
        bucket = self.slices.setdefault(key, {})
        if removed:
            bucket.pop(slice_["metadata"]["name"], None)
        else:
            bucket[slice_["metadata"]["name"]] = slice_
        if not bucket:
            del self.slices[key]
        self.pending.add(key)
        return True

    def apply(self, endpoints: EndpointsMap) -> set[str]:
        """Recompute the endpoints of every Service with pending changes; their names."""
        changed = set(self.pending)
        for key in changed:
            for name in [n for n in endpoints if n.service == key]:
                del endpoints[name]
            endpoints.update(endpoints_map(list(self.slices.get(key, {}).values()), self.node_name))
        self.pending.clear()
        return changed
