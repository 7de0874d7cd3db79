"""The simulated cloud on its own: instances, routes, load balancers, disks, quotas and injected faults."""

from __future__ import annotations

import pytest

from engine.cloud.provider import (CloudError, CloudNotFound, HealthCheck, InternalError, Listener,
                                   RequestLimitExceeded, RequestTimeout, SimCloud, instance_type_for,
                                   parse_provider_id)
from engine.sim.loop import Loop


@pytest.fixture
def cloud() -> SimCloud:
    return SimCloud(Loop(0))


def machine(cloud: SimCloud, name: str = "node-1", zone: str = "sim-east-1a", ip: str = "172.18.0.3"):
    return cloud.provision_machine(name, ip, zone=zone, instance_type="c1.xlarge")


def test_provider_ids_follow_the_aws_scheme_and_parse_back(cloud):
    instance = machine(cloud)
    assert instance.provider_id == f"sim:///sim-east-1a/{instance.id}"
    assert instance.id.startswith("i-0") and len(instance.id) == 19
    assert parse_provider_id(instance.provider_id) == ("sim-east-1a", instance.id)
    with pytest.raises(ValueError):
        parse_provider_id("aws:///us-east-1a/i-0abc")


def test_the_same_seed_gives_the_same_cloud():
    assert machine(SimCloud(Loop(7))).id == machine(SimCloud(Loop(7))).id != machine(SimCloud(Loop(8))).id


@pytest.mark.parametrize("cpu, memory, expected", [
    ("4", "8Gi", "c1.xlarge"), ("2", "8Gi", "m1.large"), ("3", "6Gi", "custom-3-6144"),
], ids=["a catalogue shape", "another family", "an odd shape becomes a GCE-style custom type"])
def test_instance_types(cpu, memory, expected):
    assert instance_type_for(cpu, memory) == expected


def test_an_instance_boots_stops_and_terminates_through_ec2_states(cloud):
    instance = cloud.run_instances("node-9", "172.18.0.20", zone="sim-east-1b", instance_type="c1.large")
    powered = []
    cloud.on_power.append(lambda name, on: powered.append((name, on)))
    assert cloud.describe_instances([instance.id])[0].state == "pending"
    cloud.loop.run_for(40)
    assert cloud.describe_instances([instance.id])[0].state == "running"
    cloud.stop_instances(instance.id)
    assert cloud.describe_instances([instance.id])[0].state == "stopping"
    cloud.loop.run_for(20)
    assert cloud.describe_instances([instance.id])[0].state == "stopped"
    cloud.terminate_instances(instance.id)
    cloud.loop.run_for(20)
    described = cloud.describe_instances([instance.id])[0]
    assert described.state == "terminated" and described.public_ip is None
    assert powered == [("node-9", True), ("node-9", False)]
    with pytest.raises(CloudNotFound, match="InvalidInstanceID.NotFound"):
        cloud.describe_instances(["i-0000000000000000"])


def test_routes_match_the_longest_prefix_and_turn_blackhole_when_their_instance_goes(cloud):
    one, two = machine(cloud), machine(cloud, "node-2", "sim-east-1b", "172.18.0.4")
    cloud.create_route("10.244.1.0/24", one.id)
    cloud.create_route("10.244.2.0/24", two.id)
    with pytest.raises(CloudError, match="RouteAlreadyExists"):
        cloud.create_route("10.244.1.0/24", two.id)
    assert cloud.route_lookup("10.244.2.9") == "172.18.0.4"
    assert cloud.route_lookup("172.18.0.77") == "172.18.0.77"       # the VPC's local route
    assert cloud.route_lookup("10.245.0.1") is None
    cloud.terminate_instances(two.id)
    cloud.loop.run_for(30)
    states = {r.destination_cidr: r.state for r in cloud.describe_route_table()}
    assert states == {"10.244.1.0/24": "active", "10.244.2.0/24": "blackhole", "172.18.0.0/16": "active"}
    assert cloud.route_lookup("10.244.2.9") is None
    cloud.delete_route("10.244.2.0/24")
    with pytest.raises(CloudNotFound):
        cloud.delete_route("10.244.2.0/24")


def test_a_load_balancer_gets_its_address_at_once_and_forwards_round_robin_to_healthy_targets(cloud):
    one, two = machine(cloud), machine(cloud, "node-2", "sim-east-1b", "172.18.0.4")
    lb = cloud.create_load_balancer("a1", [Listener("TCP", 80, 30080)], [two.id, one.id], HealthCheck())
    assert lb.address == "198.51.100.10" and lb.state == "provisioning" and lb.targets == sorted([one.id, two.id])
    assert cloud.forward(lb.address, 80) is None                    # not active yet
    cloud.loop.run_for(10)
    picks = [cloud.forward(lb.address, 80) for _ in range(4)]
    assert sorted(set(picks)) == [("172.18.0.3", 30080), ("172.18.0.4", 30080)] and picks[0] != picks[1]
    assert cloud.forward(lb.address, 443) is None
    cloud.health_probe = lambda lb, ip, port, path: ip != "172.18.0.3"
    assert cloud.target_health("a1") == {one.id: "unhealthy", two.id: "unhealthy"}   # not checked yet
    assert len({cloud.forward(lb.address, 80) for _ in range(2)}) == 2   # none healthy: fails open
    cloud.loop.run_for(20)                                           # two passing checks 10 s apart
    assert cloud.target_health("a1") == {one.id: "unhealthy", two.id: "healthy"}
    assert {cloud.forward(lb.address, 80) for _ in range(3)} == {("172.18.0.4", 30080)}
    cloud.delete_load_balancer("a1")
    cloud.delete_load_balancer("a1")                                 # deleting twice is fine, as on ELB
    assert cloud.describe_load_balancers() == []


def test_a_disk_attaches_to_one_instance_of_its_zone_at_a_time(cloud):
    one, two = machine(cloud), machine(cloud, "node-2", "sim-east-1a", "172.18.0.4")
    far = machine(cloud, "node-3", "sim-east-1b", "172.18.0.5")
    disk = cloud.create_volume(10, "sim-east-1a", "ssd")
    with pytest.raises(CloudError, match="IncorrectState"):
        cloud.attach_volume(disk.id, one.id, "/dev/xvdba")          # still creating
    cloud.loop.run_for(5)
    with pytest.raises(CloudError, match="ZoneMismatch"):
        cloud.attach_volume(disk.id, far.id, "/dev/xvdba")
    cloud.attach_volume(disk.id, one.id, cloud.free_device(one.id))
    assert cloud.describe_volumes([disk.id])[0].attachment.state == "attaching"
    cloud.loop.run_for(5)
    assert cloud.describe_volumes([disk.id])[0].attachment.state == "attached"
    assert cloud.free_device(one.id) == "/dev/xvdbb"
    with pytest.raises(CloudError, match="VolumeInUse"):
        cloud.attach_volume(disk.id, two.id, "/dev/xvdba")
    with pytest.raises(CloudError, match="VolumeInUse"):
        cloud.delete_volume(disk.id)
    cloud.detach_volume(disk.id)
    cloud.loop.run_for(5)
    assert cloud.describe_volumes([disk.id])[0].state == "available"
    cloud.delete_volume(disk.id)
    assert cloud.describe_volumes() == []


def test_injected_errors_fail_the_next_calls_of_one_operation_and_do_nothing(cloud):
    instance = machine(cloud)
    cloud.inject("CreateRoute", times=2)
    for _ in range(2):
        with pytest.raises(InternalError):
            cloud.create_route("10.244.1.0/24", instance.id)
    cloud.create_route("10.244.1.0/24", instance.id)
    assert [c.outcome for c in cloud.calls_of("CreateRoute")] == ["InternalError", "InternalError", "ok"]
    assert len(cloud.describe_route_table()) == 2


def test_an_injected_timeout_takes_effect_but_the_caller_is_not_told(cloud):
    cloud.inject("CreateVolume", timeout=True)
    with pytest.raises(RequestTimeout):
        cloud.create_volume(1, "sim-east-1a", tags={"CSIVolumeName": "pvc-1"})
    assert [d.tags for d in cloud.describe_volumes()] == [{"CSIVolumeName": "pvc-1"}]


def test_the_mutating_quota_answers_429_with_the_seconds_until_the_next_token():
    cloud = SimCloud(Loop(0), mutate_rate=(1.0, 2))
    instance = machine(cloud)
    cloud.create_route("10.244.1.0/24", instance.id)
    cloud.create_route("10.244.2.0/24", instance.id)
    with pytest.raises(RequestLimitExceeded) as raised:
        cloud.create_route("10.244.3.0/24", instance.id)
    assert raised.value.http_status == 429 and raised.value.retry_after == pytest.approx(1.0)
    cloud.describe_route_table()                                     # describe calls have their own bucket
    cloud.loop.run_for(raised.value.retry_after)
    cloud.create_route("10.244.3.0/24", instance.id)


def test_route_changes_are_announced_with_the_active_routes(cloud):
    one, two = machine(cloud), machine(cloud, "node-2", "sim-east-1b", "172.18.0.4")
    seen = []
    cloud.on_route_change.append(lambda: seen.append(cloud.active_routes()))
    cloud.create_route("10.244.1.0/24", one.id)
    cloud.create_route("10.244.2.0/24", two.id)
    cloud.terminate_instances(two.id)
    cloud.loop.run_for(30)
    assert seen == [{"10.244.1.0/24": "172.18.0.3"},
                    {"10.244.1.0/24": "172.18.0.3", "10.244.2.0/24": "172.18.0.4"},
                    {"10.244.1.0/24": "172.18.0.3"}]


def test_each_load_balancer_has_its_own_address_in_the_vpc_subnet(cloud):
    one = machine(cloud)
    first = cloud.create_load_balancer("a1", [Listener("TCP", 80, 30080)], [one.id], HealthCheck())
    second = cloud.create_load_balancer("a2", [Listener("TCP", 80, 30081)], [one.id], HealthCheck())
    assert (first.private_ip, second.private_ip) == ("172.18.255.10", "172.18.255.11")
    assert second.address == "198.51.100.11"


def test_an_instance_deleted_behind_the_clusters_back_bypasses_faults_and_quota(cloud):
    instance = machine(cloud)
    cloud.inject("*", times=5)
    cloud.inject("instance-terminated", instance="node-1")
    cloud.loop.run_for(30)
    cloud.clear_faults()
    assert cloud.describe_instances([instance.id])[0].state == "terminated"
    assert cloud.calls_of("TerminateInstances") == []
    with pytest.raises(CloudNotFound):
        cloud.inject("instance-terminated", instance="node-404")
