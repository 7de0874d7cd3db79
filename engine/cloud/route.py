"""The route controller (``k8s.io/cloud-provider/controllers/route``): a VPC route per node's pod CIDR.

With a routed pod network (calico-style, or a cloud's native routing, no
overlay), a packet for pod ``10.244.2.7`` leaves its node with that address
and the *VPC* must know that ``10.244.2.0/24`` lives on node-2. This
controller keeps the cloud's route table saying so. Every
``--route-reconciliation-period`` (10 s), and soon after any node change:

1. list the cloud's routes (``Routes.ListRoutes``) and the nodes;
2. for each node with a ``spec.podCIDR`` and no route to it for that CIDR,
   create one (``CreateRoute``, name hint = the node's uid), then set the
   node's ``NetworkUnavailable`` condition False / ``RouteCreated``
   ("RouteController created a route"); on failure True / ``NoRouteCreated``
   and a ``FailedToCreateRoute`` Warning event on the node;
3. a node whose route exists but whose condition is not False gets it False;
4. delete every route in ``--cluster-cidr`` that is a blackhole (its
   instance is gone) or whose node no longer has that CIDR (or no longer
   exists). Routes outside the cluster CIDR are not ours and stay.

The condition is written with a strategic merge patch on ``nodes/status``
(conditions merge by type), as ``SetNodeCondition`` does. A cloud error in
one route does not stop the others; the next pass retries.
"""

from __future__ import annotations

import ipaddress
import logging

from engine import flags
from engine.api.meta import timestamp
from engine.client.client import STRATEGIC_MERGE_PATCH
from engine.client.record import WARNING, EventRecorder
from engine.client.workqueue import WorkQueue, run_workers
from engine.cloud.cloudprovider import CloudRoute, InstanceNotFound
from engine.cloud.provider import CloudError
from engine.components import ComponentContext
from engine.sim.loop import Timer

log = logging.getLogger(__name__)

RECONCILE_KEY = "routes"


def plan_routes(nodes: list[dict], routes: list[CloudRoute], cluster_cidr: str
                ) -> tuple[list[tuple[dict, str]], list[dict], list[CloudRoute]]:
    """reconcile's decisions: (node, cidr) routes to create, nodes whose route exists, routes to delete."""
    by_node = {route.target_node: route for route in routes if route.target_node}
    create, existing, node_cidrs = [], [], {}
    for node in nodes:
        cidr = (node.get("spec") or {}).get("podCIDR")
        if not cidr:
            continue
        name = node["metadata"]["name"]
        route = by_node.get(name)
        if route is None or route.destination_cidr != cidr:
            create.append((node, cidr))
        else:
            existing.append(node)
        node_cidrs[name] = cidr
    cluster = ipaddress.ip_network(cluster_cidr)
    delete = [route for route in routes
              if ipaddress.ip_network(route.destination_cidr).subnet_of(cluster)
              and (route.blackhole or node_cidrs.get(route.target_node) != route.destination_cidr)]
    return create, existing, delete


def network_condition(node: dict) -> dict | None:
    return next((c for c in (node.get("status") or {}).get("conditions") or ()
                 if c.get("type") == "NetworkUnavailable"), None)


class RouteController:
    """Keeps the VPC route table in step with the nodes' pod CIDRs."""

    name = "route"
    service_account = "route-controller"

    def __init__(self, context: ComponentContext) -> None:
        self.client = context.client
        self.loop = context.loop
        self.provider = context.options["provider"]
        self.cluster_cidr = context.options.get("cluster_cidr", flags.cloud_cluster_cidr)
        self.nodes = context.informers.informer("nodes")
        self.queue = WorkQueue(context.loop, name="route")
        self.nodes.add_event_handler(on_add=self._changed, on_update=self._updated, on_delete=self._changed)
        self.recorder = EventRecorder(self.client, "route_controller")
        self.workers = None
        self._timer: Timer | None = None

    def _changed(self, _node: dict) -> None:
        self.queue.add(RECONCILE_KEY)

    def _updated(self, old: dict, new: dict) -> None:
        if (old.get("spec") or {}).get("podCIDR") != (new.get("spec") or {}).get("podCIDR"):
            self.queue.add(RECONCILE_KEY)

    def start(self) -> None:
        self.workers = run_workers(self.queue, self.sync)
        self._tick()

    def stop(self) -> None:
        if self.workers is not None:
            self.workers.stop()
        if self._timer is not None:
            self._timer.cancel()

    def _tick(self) -> None:
        self.queue.add(RECONCILE_KEY)
        self._timer = self.loop.call_later(flags.route_reconciliation_period, self._tick, label="route reconcile")

    def sync(self, _key: str) -> None:
        """reconcileNodeRoutes: one pass over routes and nodes (a ListRoutes error is retried with backoff)."""
        if not self.nodes.has_synced:
            return
        routes = self.provider.list_routes()
        nodes = sorted(self.nodes.lister.list(), key=lambda n: n["metadata"]["name"])
        create, existing, delete = plan_routes(nodes, routes, self.cluster_cidr)
        for node, cidr in create:
            name = node["metadata"]["name"]
            try:
                self.provider.create_route(node["metadata"]["uid"], name, cidr)
            except (CloudError, InstanceNotFound) as error:   # recorded on the node; the next pass retries
                self._set_condition(name, created=False)
                message = (f"Could not create route {node['metadata']['uid']} {cidr} for node {name} "
                           f"after 0s: {error}")
                self.recorder.event({"kind": "Node", "name": name, "uid": name}, WARNING, "FailedToCreateRoute",
                                    message)
                continue
            log.info("route: created route for node %s %s with hint %s", name, cidr, node["metadata"]["uid"])
            self._set_condition(name, created=True)
        for node in existing:
            condition = network_condition(node)
            if condition is None or condition.get("status") != "False":
                self._set_condition(node["metadata"]["name"], created=True)
        for route in delete:
            try:
                self.provider.delete_route(route)
                log.info("route: deleted route %s %s", route.name, route.destination_cidr)
            except CloudError as error:
                log.info("route: could not delete route %s %s: %s", route.name, route.destination_cidr, error)

    def _set_condition(self, node_name: str, *, created: bool) -> None:
        now = timestamp(self.loop.now)
        condition = ({"type": "NetworkUnavailable", "status": "False", "reason": "RouteCreated",
                      "message": "RouteController created a route"} if created else
                     {"type": "NetworkUnavailable", "status": "True", "reason": "NoRouteCreated",
                      "message": "RouteController failed to create a route"})
        condition.update(lastTransitionTime=now, lastHeartbeatTime=now)
        self.client.patch("nodes", node_name, {"status": {"conditions": [condition]}},
                          patch_type=STRATEGIC_MERGE_PATCH, subresource="status")
