"""A StatefulSet pod's identity, storage and revision, as pure functions."""

import pytest

from engine.controllers import statefulset_utils as utils


def sts(partition=None, strategy="RollingUpdate", current=0):
    spec = {"selector": {"matchLabels": {"app": "nginx"}}, "serviceName": "nginx", "replicas": 3,
            "template": {"metadata": {"labels": {"app": "nginx"}},
                         "spec": {"containers": [{"name": "nginx", "image": "nginx:1.27"}]}},
            "volumeClaimTemplates": [{"metadata": {"name": "www"}, "spec": {
                "accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}],
            "updateStrategy": {"type": strategy}}
    if partition is not None:
        spec["updateStrategy"]["rollingUpdate"] = {"partition": partition}
    return {"apiVersion": "apps/v1", "kind": "StatefulSet",
            "metadata": {"name": "web", "namespace": "default", "uid": "u-1"}, "spec": spec,
            "status": {"currentReplicas": current}}


OLD = {"metadata": {"labels": {"app": "nginx"}}, "spec": {"containers": [{"name": "nginx", "image": "nginx:1.25"}]}}


def test_a_pod_gets_its_stable_identity_and_its_claim():
    pod = utils.new_pod(sts(), sts()["spec"]["template"], 2, "web-abc")
    meta = pod["metadata"]
    assert meta["name"] == "web-2" and "generateName" not in meta
    assert meta["labels"] == {"app": "nginx", "statefulset.kubernetes.io/pod-name": "web-2",
                              "apps.kubernetes.io/pod-index": "2", "controller-revision-hash": "web-abc"}
    assert (pod["spec"]["hostname"], pod["spec"]["subdomain"]) == ("web-2", "nginx")
    assert pod["spec"]["volumes"] == [{"name": "www", "persistentVolumeClaim": {"claimName": "www-web-2"}}]
    assert meta["ownerReferences"][0]["kind"] == "StatefulSet" and meta["ownerReferences"][0]["controller"]


def test_claims_are_named_per_ordinal_and_carry_the_selector_labels():
    ((template, claim),) = utils.claims_for(sts(), 0)
    assert template == "www" and claim["metadata"]["name"] == "www-web-0"
    assert claim["metadata"]["labels"] == {"app": "nginx"} and claim["kind"] == "PersistentVolumeClaim"


@pytest.mark.parametrize("name, parent, ordinal", [
    ("web-0", "web", 0), ("web-12", "web", 12), ("my-web-3", "my-web", 3), ("web", "", -1), ("web-x", "", -1),
], ids=["ordinal 0", "two digits", "a dash in the set's name", "no ordinal", "not a number"])
def test_parent_and_ordinal(name, parent, ordinal):
    assert utils.parent_and_ordinal({"metadata": {"name": name}}) == (parent, ordinal)


@pytest.mark.parametrize("set_, ordinal, image", [
    (sts(partition=2), 1, "nginx:1.25"), (sts(partition=2), 2, "nginx:1.27"), (sts(partition=0), 0, "nginx:1.27"),
    (sts(strategy="OnDelete"), 0, "nginx:1.27"),
], ids=["below the partition: the current revision", "at the partition: the update revision",
        "partition 0: everything updates", "OnDelete: a recreated pod takes the update revision"])
def test_a_recreated_pod_takes_the_revision_its_ordinal_calls_for(set_, ordinal, image):
    pod = utils.new_versioned_pod(set_, OLD, "web-old", "web-new", ordinal)
    assert pod["spec"]["containers"][0]["image"] == image
    assert utils.pod_revision(pod) == ("web-old" if image == "nginx:1.25" else "web-new")
