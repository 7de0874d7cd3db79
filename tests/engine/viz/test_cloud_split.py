"""The kube-controller-manager / cloud-controller-manager split diagram: the lecture picture and a cluster's own."""

from __future__ import annotations

import engine
from engine.viz.cloud_split import controller_split


def test_the_lecture_picture_has_both_worlds_and_only_the_ccm_calls_the_cloud_now():
    source = controller_split().source
    assert "in-tree (until v1.31)" in source and "--cloud-provider=aws" in source
    assert "--cloud-provider=external" in source and "the only caller" in source
    assert '"new/kcm" -> "new/cloud"' not in source and '"new/ccm" -> "new/cloud"' in source


def test_a_cloud_cluster_lists_the_controllers_its_managers_run_and_drawing_changes_nothing():
    cluster = engine.Cluster(nodes=1, seed=0, cloud="sim")
    revision = cluster.store.revision
    source = controller_split(cluster).source
    assert "cloud-node, cloud-node-lifecycle, route" in source and "replicaset" in source
    assert source == controller_split(cluster).source and cluster.store.revision == revision


def test_a_cluster_without_a_cloud_has_no_ccm_to_show():
    source = controller_split(engine.Cluster(nodes=1, seed=0)).source
    assert "not running: this cluster has no cloud" in source and "kubelet (no --cloud-provider)" in source
