import json
from types import SimpleNamespace

import pytest

from engine.network.cni import CNIError, CNIExecutor, Invocation, load_network_config
from engine.network.cni_plugins import calico_iface, flannel, host_local
from engine.network.host import Host


def _invocation(fs: dict, container_id: str = "abc", command: str = "ADD") -> Invocation:
    return Invocation(command, container_id, "/var/run/netns/cni-x", "eth0",
                      {"K8S_POD_NAMESPACE": "default", "K8S_POD_NAME": "web"}, Host("node-1", "172.18.0.3"), fs,
                      "cbr0")


CONF = {"name": "cbr0", "cniVersion": "0.3.1", "ipam": {"type": "host-local", "ranges": [[{"subnet": "10.244.1.0/30"}]]}}


def test_host_local_skips_the_gateway_and_writes_its_files_where_the_real_one_does() -> None:
    fs: dict = {}
    result = host_local(CONF, _invocation(fs, "first"))
    assert result["ips"] == [{"address": "10.244.1.2/30", "gateway": "10.244.1.1"}]
    assert fs["/var/lib/cni/networks/cbr0/10.244.1.2"] == "first\r\neth0"
    assert fs["/var/lib/cni/networks/cbr0/last_reserved_ip.0"] == "10.244.1.2"


def test_host_local_is_exhausted_with_the_real_error_and_frees_on_del() -> None:
    fs: dict = {}
    host_local(CONF, _invocation(fs, "first"))
    with pytest.raises(CNIError, match="no IP addresses available in range set: 10.244.1.1-10.244.1.2"):
        host_local(CONF, _invocation(fs, "second"))
    host_local(CONF, _invocation(fs, "first", "DEL"))
    assert host_local(CONF, _invocation(fs, "second"))["ips"][0]["address"] == "10.244.1.2/30"


def test_host_local_hands_out_the_next_address_after_the_last_reserved() -> None:
    fs: dict = {}
    conf = {**CONF, "ipam": {"type": "host-local", "ranges": [[{"subnet": "10.244.1.0/24"}]]}}
    first = host_local(conf, _invocation(fs, "a"))["ips"][0]["address"]
    host_local(conf, _invocation(fs, "a", "DEL"))
    second = host_local(conf, _invocation(fs, "b"))["ips"][0]["address"]
    assert (first, second) == ("10.244.1.2/24", "10.244.1.3/24")


def test_flannel_without_subnet_env_fails_as_the_real_plugin() -> None:
    with pytest.raises(CNIError, match="loadFlannelSubnetEnv failed: open /run/flannel/subnet.env"):
        flannel({"name": "cbr0", "type": "flannel"}, _invocation({}))


def test_flannel_delegates_to_bridge_with_the_nodes_subnet() -> None:
    fs = {"/run/flannel/subnet.env": "FLANNEL_NETWORK=10.244.0.0/16\nFLANNEL_SUBNET=10.244.1.1/24\n"
                                     "FLANNEL_MTU=1450\nFLANNEL_IPMASQ=true\n"}
    invocation = _invocation(fs)
    result = flannel({"name": "cbr0", "cniVersion": "0.3.1", "type": "flannel",
                      "delegate": {"hairpinMode": True, "isDefaultGateway": True}}, invocation)
    assert result["ips"][0]["address"] == "10.244.1.2/24"
    delegate = json.loads(fs["/var/lib/cni/flannel/abc"])
    assert delegate["type"] == "bridge" and delegate["ipMasq"] is False and delegate["mtu"] == 1450
    host = invocation.host
    assert host.interfaces["cni0"].addresses == ["10.244.1.1/24"]
    netns = host.pods["10.244.1.2"]
    assert str(netns.routes.lookup("8.8.8.8")) == "default via 10.244.1.1 dev eth0"
    assert host.interfaces[netns.host_iface].master == "cni0"


def test_calico_names_its_veth_after_the_pod() -> None:
    assert calico_iface("default", "web") == "cali" + __import__("hashlib").sha1(b"default.web").hexdigest()[:11]
    assert len(calico_iface("default", "web")) == 15


def test_the_executor_reads_the_first_conflist_and_reports_not_initialized_without_one() -> None:
    runtime = SimpleNamespace(host_fs={})
    executor = CNIExecutor(Host("node-1", "172.18.0.3"), runtime)
    assert not executor.ready()
    with pytest.raises(CNIError, match="cni plugin not initialized"):
        executor.add("abc")
    runtime.host_fs["/etc/cni/net.d/99-loopback.conf"] = json.dumps({"name": "lo", "type": "loopback"})
    runtime.host_fs["/etc/cni/net.d/10-flannel.conflist"] = json.dumps({"name": "cbr0", "plugins": []})
    assert load_network_config(runtime.host_fs)["name"] == "cbr0"


def test_a_lab_can_choose_the_pod_address_from_the_reserved_ones_and_the_last() -> None:
    fs: dict = {}
    conf = {**CONF, "ipam": {"type": "host-local", "ranges": [[{"subnet": "10.244.1.0/24"}]]}}
    asked = []

    def choose(subnet: str, reserved: list[str], last: str | None) -> str:
        asked.append((subnet, reserved, last))
        return "10.244.1.9"

    invocation = _invocation(fs, "a")
    invocation.choose_address = choose
    assert host_local(conf, invocation)["ips"][0]["address"] == "10.244.1.9/24"
    assert asked == [("10.244.1.0/24", [], None)]
    again = _invocation(fs, "b")
    again.choose_address = choose
    with pytest.raises(CNIError, match="10.244.1.9 is not a free address"):
        host_local(conf, again)
