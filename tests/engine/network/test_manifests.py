import json

import pytest

import engine
from engine.network.manifests import manifests


@pytest.mark.parametrize("plugin, daemonset, namespace", [("flannel", "kube-flannel-ds", "kube-flannel"),
                                                         ("calico", "calico-node", "kube-system"),
                                                         ("canal", "canal", "kube-system")])
def test_the_manifest_applies_and_its_daemonset_runs_on_the_host_network(plugin, daemonset, namespace) -> None:
    cluster = engine.Cluster(nodes=1)
    cluster.apply(manifests(plugin))
    ds = cluster.get("daemonset", daemonset, namespace)
    template = ds["spec"]["template"]["spec"]
    assert template["hostNetwork"] is True and template["priorityClassName"] == "system-node-critical"
    assert {"operator": "Exists", "effect": "NoSchedule"} in template["tolerations"]


def test_flannels_config_map_holds_the_cni_conflist_and_the_network() -> None:
    config = next(o for o in manifests("flannel") if o["kind"] == "ConfigMap")
    assert json.loads(config["data"]["net-conf.json"])["Network"] == "10.244.0.0/16"
    assert [p["type"] for p in json.loads(config["data"]["cni-conf.json"])["plugins"]] == ["flannel", "portmap"]


def test_no_plugin_no_objects_and_an_unknown_one_is_an_error() -> None:
    assert manifests(None) == []
    with pytest.raises(ValueError, match="unknown network plugin 'weave'"):
        manifests("weave")
