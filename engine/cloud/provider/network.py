"""Networking: the VPC's route table and load balancers (EC2 routes and an ELB-style API, simulated).

**Route table.** The VPC has one route table, ``rtb-...``, holding the
``local`` route for the VPC's subnet and one route per destination CIDR
that targets an instance (``CreateRoute --destination-cidr-block
10.244.1.0/24 --instance-id i-0...``). The route controller programs it so
that packets for a node's pod CIDR reach that node without an overlay. A
route whose instance is terminated turns ``blackhole`` (as on EC2) until
someone deletes it. ``route_lookup(ip)`` is the VPC router's longest-prefix
match, the seam the packet model uses: it returns the target instance's
private IP, or None (no route, or a blackhole).

**Load balancers.** A network load balancer has a name (the service
controller's ``a<uid>`` name), an address given at creation (from
TEST-NET-2, 198.51.100.0/24), listeners (protocol, port -> the nodes'
``instance_port``, a Service's nodePort), target instances, and a health
check (protocol, port, path, interval, thresholds). It is ``provisioning``
for a few seconds, then ``active``. ``forward(address, port)`` is the seam
for traffic from outside: it picks a healthy target in round-robin order
and returns (the target's private IP, the listener's instance port), or
None. The status the service controller writes says ``ipMode: VIP``: the
packet reaches that node still addressed to the load balancer's IP and
port, and the node's kube-proxy (its KUBE-EXT / KUBE-FW rules for the
ingress IP) sends it on; ``instance_port`` (the nodePort) is where a
proxying load balancer (AWS NLB instance targets) would send it instead,
and what the TCP health check probes. Without a network to probe through
(``health_probe`` None) a target is healthy while its instance is running.
With one, the load balancer checks its targets itself, as ELB and GCE health
checks do: from the moment it is active, every ``interval_seconds`` it calls
``health_probe(lb, private_ip, port, path)`` (an HTTP GET of ``path`` when
there is one, else a TCP connect; set by ``engine.cloud.internet``) for each
target; a target turns healthy after ``healthy_threshold`` successes in a
row and unhealthy after ``unhealthy_threshold`` failures in a row (a new
target starts unhealthy), and ``forward`` uses only healthy targets, or
fails open to every running target when none is healthy (as AWS NLB and GCE
target pools do).
Terminated instances are deregistered, as ELB does.
"""

from __future__ import annotations

import dataclasses
import ipaddress
from dataclasses import dataclass, field
from typing import Callable

from engine.cloud.provider.errors import CloudError, CloudNotFound

VPC_CIDR = "172.18.0.0/16"
LB_ADDRESS_PREFIX = "198.51.100."
LB_PRIVATE_PREFIX = "172.18.255."
"""Each load balancer's own interface in the VPC subnet (where it connects to its targets from)."""


@dataclass(frozen=True)
class Route:
    destination_cidr: str
    target: str                   # an instance id, or "local"
    state: str = "active"         # "active" | "blackhole"


@dataclass(frozen=True)
class Listener:
    protocol: str                 # "TCP" | "UDP"
    port: int                     # the load balancer's port (the Service port)
    instance_port: int            # where it sends traffic on each target (the Service's nodePort)


@dataclass(frozen=True)
class HealthCheck:
    protocol: str = "TCP"
    port: int = 0                 # 0: each listener's instance port
    path: str = ""
    interval_seconds: int = 10
    healthy_threshold: int = 2
    unhealthy_threshold: int = 6


@dataclass
class LoadBalancer:
    name: str
    address: str
    listeners: list[Listener]
    targets: list[str]            # instance ids, sorted
    health_check: HealthCheck
    state: str = "provisioning"
    tags: dict[str, str] = field(default_factory=dict)
    private_ip: str = ""


class NetworkService:
    """The route table and load balancer API of the simulated cloud (mixed into ``SimCloud``)."""

    def _init_network(self) -> None:
        self.route_table_id = "rtb-0" + "".join(self.random.choice("0123456789abcdef") for _ in range(16))
        self._routes: dict[str, Route] = {VPC_CIDR: Route(VPC_CIDR, "local")}
        self._load_balancers: dict[str, LoadBalancer] = {}
        self._next_lb_address = 10
        self._round_robin: dict[str, int] = {}
        self.on_route_change: list[Callable[[], None]] = []
        """Called after every change to the route table (the packet model's VPC router follows it)."""
        self.health_probe: Callable[[LoadBalancer, str, int, str], bool] | None = None
        """Set by the packet model: does ``private_ip:port`` answer the health check? None: assume yes."""
        self._health: dict[tuple[str, str], tuple[bool, int]] = {}
        """(load balancer, target) -> (healthy, how many probes in a row agreed with the other state)."""

    # -- routes ----------------------------------------------------------------------------
    def describe_route_table(self) -> list[Route]:
        """DescribeRouteTables for the VPC's table: every route, sorted by destination."""
        return self.call("DescribeRouteTables", lambda: sorted(self._routes.values(),
                                                                 key=lambda r: r.destination_cidr))

    def create_route(self, destination_cidr: str, instance_id: str) -> None:
        """CreateRoute: RouteAlreadyExists if the destination has a route (even to the same instance)."""
        def action() -> None:
            cidr = str(ipaddress.ip_network(destination_cidr, strict=False))
            self._instance(instance_id)
            if cidr in self._routes:
                raise CloudError("RouteAlreadyExists",
                                 f"The route identified by {cidr} already exists.")
            self._routes[cidr] = Route(cidr, instance_id)
            self._routes_changed()
        self.call("CreateRoute", action)

    def delete_route(self, destination_cidr: str) -> None:
        def action() -> None:
            route = self._routes.get(destination_cidr)
            if route is None or route.target == "local":
                raise CloudNotFound("InvalidRoute.NotFound",
                                    f"no route with destination-cidr-block {destination_cidr} in the route "
                                    f"table {self.route_table_id}")
            del self._routes[destination_cidr]
            self._routes_changed()
        self.call("DeleteRoute", action)

    def active_routes(self) -> dict[str, str]:
        """Destination CIDR -> the target instance's private IP, for every active instance route."""
        return {cidr: self._instances[route.target].private_ip for cidr, route in sorted(self._routes.items())
                if route.target != "local" and route.state == "active"}

    def _routes_changed(self) -> None:
        for callback in list(self.on_route_change):
            callback()

    def route_lookup(self, ip: str) -> str | None:
        """The VPC router: the private IP of the instance the longest matching route targets, else None."""
        address = ipaddress.ip_address(ip)
        best: Route | None = None
        for route in self._routes.values():
            network = ipaddress.ip_network(route.destination_cidr)
            if address in network and (best is None or network.prefixlen >
                                       ipaddress.ip_network(best.destination_cidr).prefixlen):
                best = route
        if best is None or best.state != "active":
            return None
        return ip if best.target == "local" else self._instances[best.target].private_ip

    # -- load balancers ---------------------------------------------------------------------
    def create_load_balancer(self, name: str, listeners: list[Listener], targets: list[str],
                             health_check: HealthCheck, tags: dict[str, str] | None = None) -> LoadBalancer:
        """CreateLoadBalancer: the address is allocated at once; the LB is active a few seconds later."""
        def action() -> LoadBalancer:
            if name in self._load_balancers:
                raise CloudError("DuplicateLoadBalancerName", f"Load balancer name '{name}' already exists")
            for target in targets:
                self._instance(target)
            lb = LoadBalancer(name, f"{LB_ADDRESS_PREFIX}{self._next_lb_address}", list(listeners),
                              sorted(targets), health_check, "provisioning", dict(tags or {}),
                              f"{LB_PRIVATE_PREFIX}{self._next_lb_address}")
            self._next_lb_address += 1
            self._load_balancers[name] = lb
            self.later("CreateLoadBalancer", self._lb_active, name)
            return _copy(lb)
        return self.call("CreateLoadBalancer", action)

    def describe_load_balancers(self, names: list[str] | None = None) -> list[LoadBalancer]:
        """DescribeLoadBalancers: by name (LoadBalancerNotFound if one is missing) or all of them."""
        def action() -> list[LoadBalancer]:
            if names is None:
                return [_copy(lb) for _, lb in sorted(self._load_balancers.items())]
            for name in names:
                if name not in self._load_balancers:
                    raise CloudNotFound("LoadBalancerNotFound", f"There is no ACTIVE Load Balancer named '{name}'")
            return [_copy(self._load_balancers[name]) for name in names]
        return self.call("DescribeLoadBalancers", action)

    def load_balancers(self) -> list[LoadBalancer]:
        """Every load balancer, as the cloud's console lists them: no API call (no quota, no injected fault)."""
        return [_copy(lb) for _, lb in sorted(self._load_balancers.items())]

    def modify_load_balancer(self, name: str, *, listeners: list[Listener] | None = None,
                             targets: list[str] | None = None, health_check: HealthCheck | None = None) -> None:
        """Replace a load balancer's listeners, targets or health check (one call, like a Terraform apply)."""
        def action() -> None:
            lb = self._load_balancers.get(name)
            if lb is None:
                raise CloudNotFound("LoadBalancerNotFound", f"There is no ACTIVE Load Balancer named '{name}'")
            if listeners is not None:
                lb.listeners = list(listeners)
            if targets is not None:
                for target in targets:
                    self._instance(target)
                lb.targets = sorted(targets)
            if health_check is not None:
                lb.health_check = health_check
        self.call("ModifyLoadBalancer", action)

    def delete_load_balancer(self, name: str) -> None:
        """DeleteLoadBalancer: deleting one that does not exist succeeds, as on ELB."""
        def action() -> None:
            self._load_balancers.pop(name, None)
            for key in [k for k in self._health if k[0] == name]:
                del self._health[key]
        self.call("DeleteLoadBalancer", action)

    def _lb_active(self, name: str) -> None:
        lb = self._load_balancers.get(name)
        if lb is not None:
            lb.state = "active"
            self._probe_round(name, lb)

    def _probe_round(self, name: str, lb: LoadBalancer) -> None:
        """One round of health checks of every target; the next round after the check's interval."""
        if self._load_balancers.get(name) is not lb:
            return
        if self.health_probe is not None:
            check = lb.health_check
            port = check.port or (lb.listeners[0].instance_port if lb.listeners else 0)
            for target in lb.targets:
                instance = self._instances.get(target)
                passed = instance is not None and instance.state == "running" and \
                    self.health_probe(lb, instance.private_ip, port, check.path)
                healthy, streak = self._health.get((name, target), (False, 0))
                streak = 0 if passed == healthy else streak + 1
                if streak >= (check.healthy_threshold if passed else check.unhealthy_threshold):
                    healthy, streak = passed, 0
                self._health[(name, target)] = (healthy, streak)
        self.loop.call_later(lb.health_check.interval_seconds, self._probe_round, name, lb,
                             label=f"cloud health check {name}")

    def target_health(self, name: str) -> dict[str, str]:
        """Instance id -> "healthy" / "unhealthy" as the load balancer's health checks see them."""
        lb = self._load_balancers[name]
        return {target: "healthy" if self._healthy(lb, target) else "unhealthy" for target in lb.targets}

    def _healthy(self, lb: LoadBalancer, target: str) -> bool:
        instance = self._instances.get(target)
        if instance is None or instance.state != "running":
            return False
        if self.health_probe is None:
            return True
        return self._health.get((lb.name, target), (False, 0))[0]

    def forward(self, address: str, port: int, protocol: str = "TCP") -> tuple[str, int] | None:
        """Traffic from outside to ``address:port``: (a healthy target's private IP, instance port), or None."""
        lb = next((lb for lb in self._load_balancers.values() if lb.address == address), None)
        if lb is None or lb.state != "active":
            return None
        listener = next((li for li in lb.listeners if li.port == port and li.protocol == protocol), None)
        if listener is None:
            return None
        healthy = [t for t in lb.targets if self._healthy(lb, t)]
        if not healthy:             # fail open, as NLB and GCE target pools do: every running target
            healthy = [t for t in lb.targets if t in self._instances and self._instances[t].state == "running"]
        if not healthy:
            return None
        index = self._round_robin.get(lb.name, 0)
        self._round_robin[lb.name] = index + 1
        return self._instances[healthy[index % len(healthy)]].private_ip, listener.instance_port

    # -- an instance is gone ------------------------------------------------------------------
    def _network_instance_gone(self, instance_id: str) -> None:
        for cidr, route in list(self._routes.items()):
            if route.target == instance_id:
                self._routes[cidr] = dataclasses.replace(route, state="blackhole")
        self._routes_changed()
        for lb in self._load_balancers.values():
            if instance_id in lb.targets:
                lb.targets = [t for t in lb.targets if t != instance_id]


def _copy(lb: LoadBalancer) -> LoadBalancer:
    return dataclasses.replace(lb, listeners=list(lb.listeners), targets=list(lb.targets), tags=dict(lb.tags))
