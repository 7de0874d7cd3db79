"""Compute: regions, zones, instance types and instances (EC2's instances API, simulated).

An instance is a machine the cloud runs: an id (``i-`` and 17 hex digits,
as EC2's), a name (the ``Name`` tag; here the Kubernetes node name), a zone
of the region, an instance type, a private IP in the VPC subnet, a public
IP, a private DNS name, and a state that moves through EC2's lifecycle::

    pending -> running -> stopping -> stopped -> pending -> running
                       -> shutting-down -> terminated

Its provider ID, the string the cloud-controller-manager writes into
``node.spec.providerID``, is ``sim:///<zone>/<instance-id>``, the scheme
the AWS provider uses (``aws:///us-east-1a/i-0abc...``): an empty host, the
zone, then the id. Chosen because it is the most common scheme in the wild
(every EKS node carries one) and because the zone in it lets a provider find
the instance without searching the whole region. A terminated instance stays
visible to describe calls (as on EC2, for about an hour) in state
``terminated``: "exists" means "not terminated".

Machines the cluster booted on (``provision_machine``) are running before any
API call is made, as an infrastructure tool made them before kubeadm ran.
Power changes are announced to ``on_power`` subscribers (the ``Cluster``
stops a node's components when its instance stops or is terminated).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Callable

from engine.cloud.provider.errors import CloudError, CloudNotFound

REGION = "sim-east-1"
ZONES = ("sim-east-1a", "sim-east-1b", "sim-east-1c")
PROVIDER_ID_SCHEME = "sim"
PUBLIC_IP_PREFIX = "203.0.113."
"""Instances' public addresses come from TEST-NET-3, the documentation range nobody routes."""

INSTANCE_TYPES: dict[str, tuple[int, str]] = {
    "c1.large": (2, "4Gi"),
    "c1.xlarge": (4, "8Gi"),
    "c1.2xlarge": (8, "16Gi"),
    "m1.large": (2, "8Gi"),
    "m1.xlarge": (4, "16Gi"),
    "m1.2xlarge": (8, "32Gi"),
}
"""Name -> (vCPUs, memory), shaped like EC2's c5 / m5 families."""


def instance_type_for(cpu: str, memory: str) -> str:
    """The catalogue type with exactly this shape, else a GCE-style ``custom-<cpus>-<MiB>`` type."""
    for name, shape in INSTANCE_TYPES.items():
        if shape == (int(float(cpu)), memory):
            return name
    from engine.api.quantity import parse_quantity
    return f"custom-{cpu}-{parse_quantity(memory).value() // (1024 * 1024)}"


def provider_id(zone: str, instance_id: str) -> str:
    return f"{PROVIDER_ID_SCHEME}:///{zone}/{instance_id}"


def parse_provider_id(value: str) -> tuple[str, str]:
    """``sim:///zone/i-...`` -> (zone, instance id); raises ValueError for another scheme or shape."""
    prefix = f"{PROVIDER_ID_SCHEME}://"
    if not value.startswith(prefix):
        raise ValueError(f"providerID {value!r} is not a {PROVIDER_ID_SCHEME}:// provider ID")
    parts = value[len(prefix):].strip("/").split("/")
    if len(parts) != 2 or not parts[1].startswith("i-"):
        raise ValueError(f"providerID {value!r} is not of the form {PROVIDER_ID_SCHEME}:///<zone>/<instance-id>")
    return parts[0], parts[1]


@dataclass
class Instance:
    """One machine, as DescribeInstances returns it (a copy: changing it changes nothing in the cloud)."""

    id: str
    name: str
    zone: str
    instance_type: str
    private_ip: str
    public_ip: str | None
    state: str = "pending"
    tags: dict[str, str] = field(default_factory=dict)

    @property
    def provider_id(self) -> str:
        return provider_id(self.zone, self.id)

    @property
    def private_dns(self) -> str:
        """EC2's private DNS name: ``ip-172-18-0-3.sim-east-1.compute.internal``."""
        return f"ip-{self.private_ip.replace('.', '-')}.{REGION}.compute.internal"

    @property
    def region(self) -> str:
        return REGION


class ComputeService:
    """The instances API of the simulated cloud (mixed into ``SimCloud``)."""

    region = REGION
    zones = ZONES

    def _init_compute(self) -> None:
        self._instances: dict[str, Instance] = {}
        self._next_public = 10
        self.on_power: list[Callable[[str, bool], None]] = []
        """``callback(instance_name, powered_on)`` when an instance starts running or stops / terminates."""

    def _new_instance_id(self) -> str:
        return "i-0" + "".join(self.random.choice("0123456789abcdef") for _ in range(16))

    def _allocate_public_ip(self) -> str:
        address = f"{PUBLIC_IP_PREFIX}{self._next_public}"
        self._next_public += 1
        return address

    def provision_machine(self, name: str, private_ip: str, *, zone: str, instance_type: str) -> Instance:
        """A machine that was already running when the cluster was installed (no API call, no quota)."""
        instance = Instance(self._new_instance_id(), name, zone, instance_type, private_ip,
                            self._allocate_public_ip(), "running", {"Name": name})
        self._instances[instance.id] = instance
        return dataclasses.replace(instance)

    # -- the API ---------------------------------------------------------------------------
    def run_instances(self, name: str, private_ip: str, *, zone: str, instance_type: str) -> Instance:
        """RunInstances: a new instance, ``pending`` until it has booted."""
        if zone not in self.zones:
            raise CloudError("InvalidParameterValue", f"Invalid availability zone: [{zone}]")
        if instance_type not in INSTANCE_TYPES and not instance_type.startswith("custom-"):
            raise CloudError("InvalidParameterValue", f"Invalid value '{instance_type}' for InstanceType.")

        def action() -> Instance:
            instance = Instance(self._new_instance_id(), name, zone, instance_type, private_ip,
                                self._allocate_public_ip(), "pending", {"Name": name})
            self._instances[instance.id] = instance
            self.later("RunInstances", self._set_state, instance.id, "pending", "running")
            return dataclasses.replace(instance)
        return self.call("RunInstances", action)

    def describe_instances(self, instance_ids: list[str] | None = None, *,
                           names: list[str] | None = None) -> list[Instance]:
        """DescribeInstances: by ids (an unknown id is InvalidInstanceID.NotFound) or by Name tag."""
        def action() -> list[Instance]:
            if instance_ids is not None:
                missing = [i for i in instance_ids if i not in self._instances]
                if missing:
                    raise CloudNotFound("InvalidInstanceID.NotFound",
                                        f"The instance ID '{missing[0]}' does not exist")
                found = [self._instances[i] for i in instance_ids]
            else:
                found = [i for i in self._instances.values() if names is None or i.name in names]
            return [dataclasses.replace(i, tags=dict(i.tags)) for i in found]
        return self.call("DescribeInstances", action)

    def stop_instances(self, instance_id: str) -> None:
        """StopInstances: running -> stopping -> stopped (the machine powers off)."""
        self.call("StopInstances", lambda: self._transition(instance_id, "running", "stopping", "stopped",
                                                          "StopInstances"))

    def start_instances(self, instance_id: str) -> None:
        """StartInstances: stopped -> pending -> running."""
        self.call("StartInstances", lambda: self._transition(instance_id, "stopped", "pending", "running",
                                                           "StartInstances"))

    def terminate_instances(self, instance_id: str) -> None:
        """TerminateInstances: -> shutting-down -> terminated; its routes turn blackhole, its disks detach."""
        self.call("TerminateInstances", lambda: self._terminate(instance_id))

    def _terminate(self, instance_id: str) -> None:
        instance = self._instance(instance_id)
        if instance.state in ("shutting-down", "terminated"):
            return
        was_on = instance.state == "running"
        instance.state = "shutting-down"
        if was_on:
            self._announce(instance, False)
        self.later("TerminateInstances", self._terminated, instance_id)

    def _terminate_behind_the_back(self, instance: str) -> None:
        found = [i for i in self._instances.values() if instance in (i.id, i.name) and i.state != "terminated"]
        if not found:
            raise CloudNotFound("InvalidInstanceID.NotFound", f"The instance ID '{instance}' does not exist")
        self._terminate(found[0].id)                      # the console's call: not ours, no quota, no fault

    # -- state changes ---------------------------------------------------------------------
    def _instance(self, instance_id: str) -> Instance:
        instance = self._instances.get(instance_id)
        if instance is None:
            raise CloudNotFound("InvalidInstanceID.NotFound", f"The instance ID '{instance_id}' does not exist")
        return instance

    def _transition(self, instance_id: str, from_state: str, via: str, to: str, operation: str) -> None:
        instance = self._instance(instance_id)
        if instance.state != from_state:
            raise CloudError("IncorrectInstanceState",
                             f"The instance '{instance_id}' is not in a state from which it can be "
                             f"{'stopped' if to == 'stopped' else 'started'}.")
        instance.state = via
        if from_state == "running":
            self._announce(instance, False)
        self.later(operation, self._set_state, instance_id, via, to)

    def _set_state(self, instance_id: str, expected: str, state: str) -> None:
        instance = self._instances[instance_id]
        if instance.state != expected:
            return
        instance.state = state
        if state == "running":
            self._announce(instance, True)

    def _terminated(self, instance_id: str) -> None:
        instance = self._instances[instance_id]
        instance.state = "terminated"
        instance.public_ip = None
        self._instance_gone(instance_id)

    def _instance_gone(self, instance_id: str) -> None:
        """What the other services do when an instance is terminated (overridden by SimCloud)."""

    def _announce(self, instance: Instance, powered_on: bool) -> None:
        for callback in list(self.on_power):
            callback(instance.name, powered_on)
