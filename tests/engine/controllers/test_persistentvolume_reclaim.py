"""Who deletes a released volume, and which provisioner a class names."""

from __future__ import annotations

import pytest

from engine.controllers.persistentvolume_reclaim import Deletion, deletion_of, provisioner_error


def volume(source: dict, provisioned_by: str | None = None) -> dict:
    metadata: dict = {"name": "v"}
    if provisioned_by:
        metadata["annotations"] = {"pv.kubernetes.io/provisioned-by": provisioned_by}
    return {"metadata": metadata, "spec": source}


@pytest.mark.parametrize("obj, expected", [
    (volume({"hostPath": {"path": "/tmp/data"}}), Deletion()),
    (volume({"hostPath": {"path": "/mnt/data"}}),
     Deletion(error="host_path deleter only supports /tmp/.+ but received provided /mnt/data")),
    (volume({"csi": {"driver": "ebs.csi.aws.com", "volumeHandle": "vol-1"}}, "ebs.csi.aws.com"),
     Deletion(external=True)),
    (volume({"nfs": {"server": "nfs", "path": "/exports"}}),
     Deletion(error='error getting deleter volume plugin for volume "v": no deletable volume plugin matched')),
], ids=["hostPath under /tmp is deleted", "hostPath elsewhere fails as the real deleter does",
        "an external provisioner's volume is left to it", "no in-tree deleter for NFS"])
def test_deletion_of(obj, expected):
    assert deletion_of(obj) == expected


def test_provisioner_error():
    assert provisioner_error(None, "fast") == 'storageclass.storage.k8s.io "fast" not found'
    assert provisioner_error({"provisioner": "kubernetes.io/no-provisioner"}, "local") == (
        "no volume plugin matched name: kubernetes.io/no-provisioner")
    assert provisioner_error({"provisioner": "rancher.io/local-path"}, "standard") == ""
