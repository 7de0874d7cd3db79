"""The PersistentVolume controller on a whole cluster: binding, release and reclaim, provisioning hand-off."""

from __future__ import annotations

import engine
from engine.components import COMPONENTS
from engine.kubelet import KUBELET
from engine.scheduler import SCHEDULER

# The docs' task "Configure a Pod to Use a PersistentVolume for Storage".
TASK_PV = {"apiVersion": "v1", "kind": "PersistentVolume",
           "metadata": {"name": "task-pv-volume", "labels": {"type": "local"}},
           "spec": {"storageClassName": "manual", "capacity": {"storage": "10Gi"}, "accessModes": ["ReadWriteOnce"],
                    "hostPath": {"path": "/mnt/data"}}}
TASK_PVC = {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "task-pv-claim"},
            "spec": {"storageClassName": "manual", "accessModes": ["ReadWriteOnce"],
                     "resources": {"requests": {"storage": "3Gi"}}}}
TASK_POD = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "task-pv-pod"},
            "spec": {"volumes": [{"name": "task-pv-storage", "persistentVolumeClaim": {"claimName": "task-pv-claim"}}],
                     "containers": [{"name": "task-pv-container", "image": "nginx",
                                     "ports": [{"containerPort": 80, "name": "http-server"}],
                                     "volumeMounts": [{"mountPath": "/usr/share/nginx/html",
                                                       "name": "task-pv-storage"}]}]}}


def pv(name: str, size: str, *, path: str = "", modes: tuple[str, ...] = ("ReadWriteOnce",), policy: str = "Retain",
       storage_class: str = "", **spec) -> dict:
    return {"apiVersion": "v1", "kind": "PersistentVolume", "metadata": {"name": name},
            "spec": {"capacity": {"storage": size}, "accessModes": list(modes), "storageClassName": storage_class,
                     "persistentVolumeReclaimPolicy": policy, "hostPath": {"path": path or f"/mnt/{name}"}, **spec}}


def pvc(name: str, size: str, *, storage_class: str = "", modes: tuple[str, ...] = ("ReadWriteOnce",)) -> dict:
    return {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": name},
            "spec": {"accessModes": list(modes), "storageClassName": storage_class,
                     "resources": {"requests": {"storage": size}}}}


def events(c: engine.Cluster, kind: str, name: str) -> list[tuple[str, str, str]]:
    return [(e["source"].get("component"), e["reason"], e["message"]) for e in c.list("events")
            if e["involvedObject"]["kind"] == kind and e["involvedObject"]["name"] == name]


def annotations(obj: dict) -> dict:
    """The object's annotations without kubectl apply's own."""
    found = dict(obj["metadata"].get("annotations") or {})
    found.pop("kubectl.kubernetes.io/last-applied-configuration", None)
    return found


def phase(c: engine.Cluster, resource: str, name: str) -> str:
    return c.get(resource, name)["status"]["phase"]


def test_the_docs_claim_binds_to_the_docs_volume_and_the_pod_mounts_it():
    c = engine.Cluster(nodes=1, seed=0, components=[COMPONENTS[0], SCHEDULER, KUBELET])
    c.apply(TASK_PV)
    c.apply(TASK_PVC)
    c.apply(TASK_POD)
    c.run(10)
    claim, volume = c.get("pvc", "task-pv-claim"), c.get("pv", "task-pv-volume")
    assert claim["spec"]["volumeName"] == "task-pv-volume"
    assert annotations(claim) == {"pv.kubernetes.io/bind-completed": "yes",
                                               "pv.kubernetes.io/bound-by-controller": "yes"}
    assert claim["status"] == {"phase": "Bound", "accessModes": ["ReadWriteOnce"], "capacity": {"storage": "10Gi"}}
    ref = volume["spec"]["claimRef"]
    assert (ref["kind"], ref["namespace"], ref["name"], ref["uid"]) == (
        "PersistentVolumeClaim", "default", "task-pv-claim", claim["metadata"]["uid"])
    assert annotations(volume) == {"pv.kubernetes.io/bound-by-controller": "yes"}
    assert volume["status"]["phase"] == "Bound" and volume["status"]["lastPhaseTransitionTime"]
    assert c.kubectl("get pv").splitlines()[1].split()[:7] == [
        "task-pv-volume", "10Gi", "RWO", "Retain", "Bound", "default/task-pv-claim", "manual"]
    assert c.kubectl("get pvc").splitlines()[1].split()[:6] == [
        "task-pv-claim", "Bound", "task-pv-volume", "10Gi", "RWO", "manual"]
    assert phase(c, "pod", "task-pv-pod") == "Running"
    # Clean up as the docs do: the pod, the claim; the volume (Retain) is Released and keeps its claimRef.
    c.delete("pod", "task-pv-pod")
    c.run(40)
    c.delete("pvc", "task-pv-claim")
    c.run(2)
    volume = c.get("pv", "task-pv-volume")
    assert volume["status"]["phase"] == "Released" and volume["spec"]["claimRef"]["name"] == "task-pv-claim"
    c.run(30)
    assert phase(c, "pv", "task-pv-volume") == "Released"      # Retain: never reused by itself


def test_a_claim_gets_the_smallest_volume_that_fits_its_size_class_modes_and_selector():
    c = engine.Cluster(nodes=0, seed=0)
    c.apply(pv("big", "10Gi"))
    c.apply(pv("small", "1Gi"))
    c.apply(pv("medium", "5Gi"))
    c.apply(pv("medium-rwx", "5Gi", modes=("ReadWriteOnce", "ReadWriteMany")))
    c.apply(pv("fast", "2Gi", storage_class="fast"))
    labelled = pv("labelled", "20Gi")
    labelled["metadata"]["labels"] = {"tier": "gold"}
    c.apply(labelled)
    c.run(1)
    assert {v["metadata"]["name"]: v["status"]["phase"] for v in c.list("pv")} == dict.fromkeys(
        ["big", "fast", "labelled", "medium", "medium-rwx", "small"], "Available")
    c.apply(pvc("two", "2Gi"))
    c.apply(pvc("shared", "2Gi", modes=("ReadWriteMany",)))
    gold = pvc("gold", "1Gi")
    gold["spec"]["selector"] = {"matchLabels": {"tier": "gold"}}
    c.apply(gold)
    c.run(2)
    assert c.get("pvc", "two")["spec"]["volumeName"] == "medium"        # exact modes first, then the smallest
    assert c.get("pvc", "shared")["spec"]["volumeName"] == "medium-rwx"
    assert c.get("pvc", "gold")["spec"]["volumeName"] == "labelled"
    assert phase(c, "pv", "fast") == "Available"                        # another class is never taken
    c.apply(pvc("huge", "50Gi"))
    c.run(2)
    assert phase(c, "pvc", "huge") == "Pending"
    assert ("persistentvolume-controller", "FailedBinding",
            "no persistent volumes available for this claim and no storage class is set") in events(
        c, "PersistentVolumeClaim", "huge")
    c.apply(pv("later", "64Gi"))
    c.run(16)                                                          # the next periodic resync binds it
    assert c.get("pvc", "huge")["spec"]["volumeName"] == "later"


def test_a_claim_can_name_its_volume_and_a_mismatch_is_reported():
    c = engine.Cluster(nodes=0, seed=0)
    c.apply(pv("mine", "1Gi"))
    c.apply(pv("tiny", "1Mi"))
    wanted = pvc("wants-mine", "1Gi")
    wanted["spec"]["volumeName"] = "mine"
    too_big = pvc("wants-tiny", "1Gi")
    too_big["spec"]["volumeName"] = "tiny"
    c.apply(wanted)
    c.apply(too_big)
    c.run(2)
    claim = c.get("pvc", "wants-mine")
    assert claim["status"]["phase"] == "Bound"
    assert annotations(claim) == {"pv.kubernetes.io/bind-completed": "yes"}   # the user's choice
    assert annotations(c.get("pv", "mine")) == {"pv.kubernetes.io/bound-by-controller": "yes"}   # the volume: ours
    assert phase(c, "pvc", "wants-tiny") == "Pending"
    assert ("persistentvolume-controller", "VolumeMismatch",
            'Cannot bind to requested volume "tiny": requested PV is too small') in events(
        c, "PersistentVolumeClaim", "wants-tiny")


def test_reclaim_policy_delete_removes_a_tmp_host_path_volume_and_fails_elsewhere():
    c = engine.Cluster(nodes=0, seed=0)
    c.apply(pv("scratch", "1Gi", path="/tmp/scratch", policy="Delete"))
    c.apply(pvc("a", "1Gi"))
    c.run(2)
    c.apply(pv("data", "1Gi", path="/mnt/data", policy="Delete"))
    c.apply(pvc("b", "1Gi"))
    c.run(2)
    assert c.get("pvc", "b")["spec"]["volumeName"] == "data"
    c.delete("pvc", "a")
    c.delete("pvc", "b")
    c.run(2)
    assert [v["metadata"]["name"] for v in c.list("pv")] == ["data"]
    volume = c.get("pv", "data")
    message = "host_path deleter only supports /tmp/.+ but received provided /mnt/data"
    assert (volume["status"]["phase"], volume["status"]["message"]) == ("Failed", message)
    assert events(c, "PersistentVolume", "data") == [("persistentvolume-controller", "VolumeFailedDelete", message)]


def test_dynamic_provisioning_is_handed_to_the_classes_external_provisioner():
    c = engine.Cluster(nodes=0, seed=0)
    c.apply({"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": "standard"},
             "provisioner": "example.com/fake", "reclaimPolicy": "Delete"})
    c.apply(pvc("data", "1Gi", storage_class="standard"))
    c.apply(pvc("nowhere", "1Gi", storage_class="missing"))
    c.run(2)
    claim = c.get("pvc", "data")
    assert claim["status"]["phase"] == "Pending"
    assert annotations(claim) == {"volume.beta.kubernetes.io/storage-provisioner": "example.com/fake",
                                               "volume.kubernetes.io/storage-provisioner": "example.com/fake"}
    assert events(c, "PersistentVolumeClaim", "data")[0][1:] == (
        "ExternalProvisioning", "Waiting for a volume to be created either by the external provisioner "
        "'example.com/fake' or manually by the system administrator. If volume creation is delayed, please verify "
        "that the provisioner is running and correctly registered.")
    assert events(c, "PersistentVolumeClaim", "nowhere") == [
        ("persistentvolume-controller", "ProvisioningFailed", 'storageclass.storage.k8s.io "missing" not found')]
    assert [e["count"] for e in c.list("events") if e["involvedObject"]["name"] == "nowhere"] == [1]   # no hot retry
    # What the provisioner does: a volume pre-bound to the claim, annotated with its name.
    made = pv("pvc-1234", "1Gi", storage_class="standard", policy="Delete",
              claimRef={"kind": "PersistentVolumeClaim", "namespace": "default", "name": "data",
                        "uid": claim["metadata"]["uid"]})
    made["metadata"]["annotations"] = {"pv.kubernetes.io/provisioned-by": "example.com/fake"}
    c.apply(made)
    c.run(2)
    claim = c.get("pvc", "data")
    assert (claim["status"]["phase"], claim["spec"]["volumeName"]) == ("Bound", "pvc-1234")
    assert annotations(c.get("pv", "pvc-1234")) == {"pv.kubernetes.io/provisioned-by": "example.com/fake"}
    c.delete("pvc", "data")
    c.run(20)
    assert phase(c, "pv", "pvc-1234") == "Released"                    # the provisioner deletes its own volumes


def test_wait_for_first_consumer_leaves_the_choice_to_the_scheduler():
    c = engine.Cluster(nodes=0, seed=0)
    c.apply({"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": "local"},
             "provisioner": "example.com/local", "volumeBindingMode": "WaitForFirstConsumer"})
    c.apply(pv("local-1", "1Gi", storage_class="local"))
    c.apply(pvc("data", "1Gi", storage_class="local"))
    c.run(2)
    assert phase(c, "pvc", "data") == "Pending" and phase(c, "pv", "local-1") == "Available"
    assert events(c, "PersistentVolumeClaim", "data")[0][1:] == (
        "WaitForFirstConsumer", "waiting for first consumer to be created before binding")
    claim = c.get("pvc", "data")                   # the scheduler's VolumeBinding plugin picks the node...
    claim["metadata"].setdefault("annotations", {})["volume.kubernetes.io/selected-node"] = "node-1"
    c.admin.update(claim)
    c.run(2)
    assert [e[1] for e in events(c, "PersistentVolumeClaim", "data")][-1] == "ExternalProvisioning"


def test_a_bound_claim_whose_volume_is_deleted_is_lost():
    c = engine.Cluster(nodes=0, seed=0)
    c.apply(pv("gone", "1Gi"))
    c.apply(pvc("data", "1Gi"))
    c.run(2)
    c.delete("pv", "gone")
    c.run(2)
    claim = c.get("pvc", "data")
    assert claim["status"] == {"phase": "Lost"}
    assert events(c, "PersistentVolumeClaim", "data") == [
        ("persistentvolume-controller", "ClaimLost", "Bound claim has lost its PersistentVolume. Data on the volume "
                                                     "is lost!")]
