"""KubeProxyConfiguration and kubeadm's kube-proxy manifests."""

from __future__ import annotations

import pytest
import yaml

from engine.proxy import IMAGE, manifests
from engine.proxy.config import parse, parse_duration, render


def test_kubeadms_zero_valued_file_means_the_defaults() -> None:
    config = parse(render("", "10.244.0.0/16"))
    assert (config.mode, config.cluster_cidr) == ("iptables", "10.244.0.0/16")
    assert (config.iptables_min_sync_period, config.iptables_sync_period) == (1.0, 30.0)
    assert (config.masquerade_bit, config.localhost_node_ports, config.ipvs_scheduler) == (14, True, "rr")


def test_explicit_values_win() -> None:
    config = parse(yaml.safe_dump({"kind": "KubeProxyConfiguration", "mode": "ipvs",
                                   "iptables": {"minSyncPeriod": "5s", "syncPeriod": "1m0s", "masqueradeAll": True}}))
    assert (config.mode, config.iptables_min_sync_period, config.iptables_sync_period, config.masquerade_all) == \
        ("ipvs", 5.0, 60.0, True)


@pytest.mark.parametrize("text, seconds", [("1s", 1.0), ("1m0s", 60.0), ("500ms", 0.5), ("0s", 0.0), ("", 0.0)])
def test_go_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


def test_an_unknown_mode_is_refused() -> None:
    with pytest.raises(ValueError, match="Invalid value"):
        parse("kind: KubeProxyConfiguration\nmode: userspace\n")


def test_the_daemonset_runs_on_every_node_in_the_host_network() -> None:
    objects = {o["kind"]: o for o in manifests({"mode": "ipvs", "clusterCIDR": "10.244.0.0/16"})}
    assert list(objects) == ["ServiceAccount", "ClusterRoleBinding", "Role", "RoleBinding", "ConfigMap", "DaemonSet"]
    pod = objects["DaemonSet"]["spec"]["template"]["spec"]
    container = pod["containers"][0]
    assert container["image"] == IMAGE == "registry.k8s.io/kube-proxy:v1.31.0"
    assert container["command"] == ["/usr/local/bin/kube-proxy", "--config=/var/lib/kube-proxy/config.conf",
                                    "--hostname-override=$(NODE_NAME)"]
    assert container["securityContext"] == {"privileged": True}
    assert container["env"][0]["valueFrom"]["fieldRef"]["fieldPath"] == "spec.nodeName"
    assert pod["hostNetwork"] is True and pod["tolerations"] == [{"operator": "Exists"}]
    assert pod["priorityClassName"] == "system-node-critical"
    assert objects["ClusterRoleBinding"]["roleRef"]["name"] == "system:node-proxier"
    config = parse(objects["ConfigMap"]["data"]["config.conf"])
    assert (config.mode, config.cluster_cidr) == ("ipvs", "10.244.0.0/16")
    kubeconfig = yaml.safe_load(objects["ConfigMap"]["data"]["kubeconfig.conf"])
    assert kubeconfig["clusters"][0]["cluster"]["server"] == "https://172.18.0.2:6443"
