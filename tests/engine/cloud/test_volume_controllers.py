"""The CSI side of disks: the driver, the provisioner, the attach/detach controller and the attacher."""

from __future__ import annotations

import pytest

from engine.api.frozen import thaw
from engine.cloud.provider import CloudError, RequestTimeout, SimCloud
from engine.cloud.volume.attachdetach import attachment_name, unique_volume_name
from engine.cloud.volume.driver import DiskDriver
from engine.cloud.volume.provisioner import PROVISIONED_BY, STORAGE_PROVISIONER, pick_zone, wants_provisioning
from engine.sim.loop import Loop

DRIVER = "disk.csi.sim.local"
CLASS = {"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": "disk"},
         "provisioner": DRIVER, "parameters": {"type": "ssd"},
         "allowedTopologies": [{"matchLabelExpressions": [{"key": "topology.kubernetes.io/zone",
                                                           "values": ["sim-east-1b"]}]}]}


def claim(name: str = "data") -> dict:
    """A claim of the class (the PV controller annotates it for the provisioner)."""
    return {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": name},
            "spec": {"storageClassName": "disk", "accessModes": ["ReadWriteOnce"],
                     "resources": {"requests": {"storage": "1500Mi"}}}}


def pod(name: str, node: str, claim_name: str = "data") -> dict:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
            "spec": {"nodeName": node, "containers": [{"name": "c", "image": "nginx"}],
                     "volumes": [{"name": "d", "persistentVolumeClaim": {"claimName": claim_name}}]}}


def test_the_driver_finds_the_disk_it_made_before_a_timeout():
    cloud = SimCloud(Loop(0))
    driver = DiskDriver(cloud)
    cloud.inject("CreateVolume", timeout=True)
    with pytest.raises(RequestTimeout):
        driver.create_volume("pvc-1", 1, {}, "sim-east-1a")
    volume_id, size = driver.create_volume("pvc-1", 1, {}, "sim-east-1a")
    assert [d.id for d in cloud.describe_volumes()] == [volume_id] and size == 1024 ** 3


def test_the_driver_publishes_only_once_attached_and_refuses_a_second_instance():
    cloud = SimCloud(Loop(0))
    one = cloud.provision_machine("a", "172.18.0.3", zone="sim-east-1a", instance_type="c1.xlarge")
    two = cloud.provision_machine("b", "172.18.0.4", zone="sim-east-1a", instance_type="c1.xlarge")
    driver = DiskDriver(cloud)
    volume_id, _ = driver.create_volume("pvc-1", 1, {}, "sim-east-1a")
    cloud.loop.run_for(5)
    assert driver.controller_publish(volume_id, one.provider_id) is None
    cloud.loop.run_for(5)
    assert driver.controller_publish(volume_id, one.provider_id) == {"devicePath": "/dev/xvdba"}
    with pytest.raises(CloudError, match="VolumeInUse"):
        driver.controller_publish(volume_id, two.provider_id)
    assert driver.controller_unpublish(volume_id, one.provider_id) is False
    cloud.loop.run_for(5)
    assert driver.controller_unpublish(volume_id, one.provider_id) is True


@pytest.mark.parametrize("annotations, volume_name, expected", [
    ({STORAGE_PROVISIONER: DRIVER}, None, True),
    ({"volume.beta.kubernetes.io/storage-provisioner": DRIVER}, None, True),
    ({STORAGE_PROVISIONER: "ebs.csi.aws.com"}, None, False),
    ({}, None, False),
    ({STORAGE_PROVISIONER: DRIVER}, "pv-1", False),
], ids=["annotated for this driver", "the beta annotation counts too", "another driver's claim",
        "not annotated by the PV controller yet", "already bound to a volume"])
def test_wants_provisioning(annotations, volume_name, expected):
    claim = {"metadata": {"name": "c", "annotations": annotations}, "spec": {"volumeName": volume_name}}
    assert wants_provisioning(claim) is expected


def test_pick_zone_prefers_the_class_topology_and_is_stable():
    data = claim()
    data["metadata"]["namespace"] = "default"
    assert pick_zone(data, CLASS, ["sim-east-1a", "sim-east-1c"]) == "sim-east-1b"
    anywhere = {**CLASS, "allowedTopologies": None}
    zone = pick_zone(data, anywhere, ["sim-east-1a", "sim-east-1c"])
    assert zone in ("sim-east-1a", "sim-east-1c") and pick_zone(data, anywhere, ["sim-east-1c", "sim-east-1a"]) == zone
    assert pick_zone(data, anywhere, []) is None


def test_a_claim_of_the_class_gets_a_disk_and_a_pre_bound_pv_that_the_pv_controller_binds(cluster, events):
    cluster.apply(CLASS)
    cluster.apply({**CLASS, "metadata": {"name": "elsewhere"}, "provisioner": "ebs.csi.aws.com"})
    cluster.apply(claim())
    cluster.apply({**claim("other"), "spec": {**claim()["spec"], "storageClassName": "elsewhere"}})
    cluster.run(3)
    [pv] = cluster.list("pv", None)
    data = cluster.get("pvc", "data")
    assert data["status"]["phase"] == "Bound" and data["spec"]["volumeName"] == pv["metadata"]["name"], \
        "the PV controller binds the claim to the pre-bound volume"
    assert cluster.get("pvc", "other")["metadata"]["annotations"][STORAGE_PROVISIONER] == "ebs.csi.aws.com"
    assert pv["metadata"]["name"] == f"pvc-{data['metadata']['uid']}"
    assert pv["metadata"]["annotations"][PROVISIONED_BY] == DRIVER
    assert pv["spec"]["claimRef"]["uid"] == data["metadata"]["uid"] and pv["spec"]["capacity"] == {"storage": "2Gi"}
    assert pv["spec"]["persistentVolumeReclaimPolicy"] == "Delete" and pv["spec"]["storageClassName"] == "disk"
    [disk] = cluster.cloud.describe_volumes()
    assert pv["spec"]["csi"]["volumeHandle"] == disk.id and pv["spec"]["csi"]["driver"] == DRIVER
    assert (disk.zone, disk.size_gib, disk.volume_type) == ("sim-east-1b", 2, "ssd")
    assert pv["spec"]["nodeAffinity"]["required"]["nodeSelectorTerms"][0]["matchExpressions"][0]["values"] == [
        "sim-east-1b"]
    [succeeded] = events(cluster, "ProvisioningSucceeded", "data")
    assert succeeded["message"] == f"Successfully provisioned volume {pv['metadata']['name']}"


def test_a_failed_provisioning_is_reported_and_retried(cluster, events):
    cluster.cloud.inject("CreateVolume", times=2)
    cluster.apply(CLASS)
    cluster.apply(claim())
    cluster.run(5)
    assert len(cluster.list("pv", None)) == 1
    [failed] = events(cluster, "ProvisioningFailed", "data")
    assert failed["count"] == 2 and failed["message"].startswith(
        'failed to provision volume with StorageClass "disk": InternalError')


def test_a_released_volume_loses_its_disk_and_its_object(cluster):
    cluster.apply(CLASS)
    cluster.apply(claim())
    cluster.run(3)
    [pv] = cluster.list("pv", None)
    pv = thaw(pv)
    pv["status"] = {"phase": "Released"}                   # what the PV controller writes once the claim is gone
    cluster.admin.update_status(pv)
    cluster.run(2)
    assert cluster.list("pv", None) == [] and cluster.cloud.describe_volumes() == []


def provisioned(cluster) -> tuple[dict, str]:
    cluster.apply({**CLASS, "allowedTopologies": [{"matchLabelExpressions": [
        {"key": "topology.kubernetes.io/zone", "values": ["sim-east-1a"]}]}]})
    cluster.apply(claim())
    cluster.run(3)                                          # the PV controller binds the claim to the new PV
    [pv] = cluster.list("pv", None)
    assert cluster.get("pvc", "data")["status"]["phase"] == "Bound"
    return pv, unique_volume_name(pv["spec"]["csi"])


def test_a_pod_on_a_node_gets_the_disk_attached_and_listed_in_volumes_attached(events):
    import engine
    cluster = engine.Cluster(nodes=4, seed=0, cloud="sim")
    pv, unique = provisioned(cluster)
    cluster.apply(pod("db", "node-1"))
    cluster.run(10)
    [attachment] = cluster.list("volumeattachments", None)
    assert attachment["metadata"]["name"] == attachment_name(pv["spec"]["csi"]["volumeHandle"], DRIVER, "node-1")
    assert attachment["spec"] == {"attacher": DRIVER, "nodeName": "node-1",
                                  "source": {"persistentVolumeName": pv["metadata"]["name"]}}
    assert attachment["status"] == {"attached": True, "attachmentMetadata": {"devicePath": "/dev/xvdba"}}
    assert attachment["metadata"]["finalizers"] == ["external-attacher/disk-csi-sim-local"]
    node = cluster.get("node", "node-1", None)
    assert node["status"]["volumesAttached"] == [{"name": unique, "devicePath": "/dev/xvdba"}]
    disk = cluster.cloud.describe_volumes()[0]
    assert disk.attachment.instance_id == cluster.cloud.describe_instances(names=["node-1"])[0].id
    assert events(cluster, "SuccessfulAttachVolume", "db")

    cluster.apply(pod("db-2", "node-4"))                    # node-4 is in the same zone
    cluster.run(5)
    [multi] = events(cluster, "FailedAttachVolume", "db-2")
    assert multi["message"] == (f'Multi-Attach error for volume "{pv["metadata"]["name"]}" Volume is already '
                                "exclusively attached to one node and can't be attached to another")
    cluster.delete("pod", "db", grace_period_seconds=0)
    cluster.run(15)
    [attachment] = cluster.list("volumeattachments", None)
    assert attachment["spec"]["nodeName"] == "node-4" and attachment["status"]["attached"]
    assert not cluster.get("node", "node-1", None)["status"].get("volumesAttached")
    assert cluster.cloud.describe_volumes()[0].attachment.instance_id == \
        cluster.cloud.describe_instances(names=["node-4"])[0].id


def test_an_attach_error_is_written_to_the_attachment_and_retried(cluster):
    pv, unique = provisioned(cluster)
    cluster.cloud.inject("AttachVolume", times=2)
    cluster.apply(pod("db", "node-1"))
    cluster.run(1.5)
    [attachment] = cluster.list("volumeattachments", None)
    assert attachment["status"]["attached"] is False
    assert attachment["status"]["attachError"]["message"].startswith("InternalError")
    cluster.run(10)
    [attachment] = cluster.list("volumeattachments", None)
    assert attachment["status"] == {"attached": True, "attachmentMetadata": {"devicePath": "/dev/xvdba"}}
