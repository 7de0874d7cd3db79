"""The kubelet's DNS configurer (pod resolv.conf by dnsPolicy, dnsConfig, limits) and managed /etc/hosts."""

from engine.kubelet.network_dns import Configurer, EtcHosts, hosts_file, parse_resolv_conf
from engine.runtime.containerd import resolv_conf
from engine.runtime.cri import DNSConfig

NODE_RESOLV_CONF = "# generated\nnameserver 172.18.0.1\nsearch corp.example lab.example.\noptions ndots:0 edns0\n"


class Events:
    def __init__(self) -> None:
        self.seen: list[tuple[str, str, str, str]] = []

    def event(self, obj: dict, type_: str, reason: str, message: str, **_: object) -> None:
        self.seen.append((obj.get("kind", "Pod"), type_, reason, message))


def pod(name: str = "web", namespace: str = "default", **spec) -> dict:
    spec.setdefault("containers", [{"name": "app", "image": "busybox"}])
    return {"kind": "Pod", "metadata": {"name": name, "namespace": namespace, "uid": f"uid-{name}"}, "spec": spec}


def configurer(events: Events | None = None, **options) -> Configurer:
    return Configurer(events, "node-1", {"/etc/resolv.conf": NODE_RESOLV_CONF}, **options)


def text(p: dict, **options) -> str:
    return resolv_conf(configurer(**options).get_pod_dns(p))


def test_cluster_first_is_the_familiar_pod_resolv_conf_plus_the_nodes_search_domains():
    assert text(pod(namespace="prod")) == (
        "search prod.svc.cluster.local svc.cluster.local cluster.local corp.example lab.example\n"
        "nameserver 10.96.0.10\noptions ndots:5\n")


def test_host_network_pods_fall_back_to_the_node_unless_cluster_first_with_host_net():
    node = "search corp.example lab.example\nnameserver 172.18.0.1\noptions ndots:0 edns0\n"
    assert text(pod(hostNetwork=True)) == node
    assert text(pod(dnsPolicy="Default")) == node
    assert text(pod(hostNetwork=True, dnsPolicy="ClusterFirstWithHostNet")).startswith(
        "search default.svc.cluster.local svc.cluster.local cluster.local corp.example")


def test_none_uses_only_dns_config_and_options_merge_by_name():
    spec = {"dnsPolicy": "None", "dnsConfig": {"nameservers": ["1.2.3.4"], "searches": ["ns1.svc.cluster-domain.example",
            "my.dns.search.suffix"], "options": [{"name": "ndots", "value": "2"}, {"name": "edns0"}]}}
    assert text(pod(**spec)) == ("search ns1.svc.cluster-domain.example my.dns.search.suffix\n"
                                 "nameserver 1.2.3.4\noptions ndots:2 edns0\n")
    merged = configurer().get_pod_dns(pod(dnsConfig={"nameservers": ["10.96.0.10", "8.8.8.8"],
                                                     "options": [{"name": "ndots", "value": "1"},
                                                                 {"name": "single-request-reopen"}]}))
    assert merged.servers == ["10.96.0.10", "8.8.8.8"]
    assert merged.options == ["ndots:1", "single-request-reopen"]


def test_limits_cut_nameservers_and_search_domains_with_the_kubelets_events():
    events = Events()
    config = configurer(events).get_pod_dns(pod(dnsPolicy="None", dnsConfig={
        "nameservers": ["1.1.1.1", "2.2.2.2", "3.3.3.3", "4.4.4.4"],
        "searches": [f"d{i}.example" for i in range(40)]}))
    assert config.servers == ["1.1.1.1", "2.2.2.2", "3.3.3.3"] and len(config.searches) == 32
    assert ("Pod", "Warning", "DNSConfigForming", "Nameserver limits were exceeded, some nameservers have been "
            "omitted, the applied nameserver line is: 1.1.1.1 2.2.2.2 3.3.3.3") in events.seen
    search_event = [e for e in events.seen if e[3].startswith("Search Line limits were exceeded")]
    assert search_event and search_event[0][3].endswith("the applied search line is: " + " ".join(config.searches))
    long = configurer().get_pod_dns(pod(dnsPolicy="None", dnsConfig={"searches": ["x" * 200 + f".d{i}" for i in range(12)]}))
    assert len(" ".join(long.searches)) <= 2048 and len(long.searches) == 10


def test_no_cluster_dns_falls_back_to_default_with_events_on_node_and_pod():
    events = Events()
    config = configurer(events, cluster_dns=[]).get_pod_dns(pod())
    assert config.servers == ["172.18.0.1"]
    assert [(kind, reason) for kind, _, reason, _ in events.seen] == [("Node", "MissingClusterDNS"),
                                                                      ("Pod", "MissingClusterDNS")]
    assert events.seen[0][3] == ('kubelet does not have ClusterDNS IP configured and cannot create Pod using '
                                 '"ClusterFirst" policy. Falling back to "Default" policy.')


def test_an_empty_resolv_conf_flag_means_the_local_resolver():
    config = configurer(resolver_config="").get_pod_dns(pod(dnsPolicy="Default"))
    assert (config.servers, config.searches) == (["127.0.0.1"], ["."])


def test_parse_resolv_conf_like_the_kubelet():
    assert parse_resolv_conf(NODE_RESOLV_CONF) == (["172.18.0.1"], ["corp.example", "lab.example"], ["ndots:0", "edns0"])
    assert resolv_conf(DNSConfig()) == ""


def test_hosts_file_with_hostname_subdomain_and_host_aliases():
    p = pod("web-0", hostname="web-0", subdomain="nginx",
            hostAliases=[{"ip": "127.0.0.1", "hostnames": ["foo.local", "bar.local"]}])
    assert hosts_file(p, ["10.244.1.5"], "cluster.local") == (
        "# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"
        "fe00::0\tip6-localnet\nfe00::0\tip6-mcastprefix\nfe00::1\tip6-allnodes\nfe00::2\tip6-allrouters\n"
        "10.244.1.5\tweb-0.nginx.default.svc.cluster.local\tweb-0\n"
        "\n# Entries added by HostAliases.\n127.0.0.1\tfoo.local\tbar.local\n")
    assert hosts_file(pod("nginx"), ["10.200.0.4"], "cluster.local").endswith("fe00::2\tip6-allrouters\n10.200.0.4\tnginx\n")
    assert hosts_file(pod(hostNetwork=True), ["172.18.0.3"], "cluster.local", "127.0.0.1 localhost\n") == \
        "# Kubernetes-managed hosts file (host network).\n127.0.0.1 localhost\n"


def test_etc_hosts_is_written_on_the_node_and_mounted_unless_the_container_mounts_its_own():
    host_fs: dict[str, str] = {}
    etc_hosts = EtcHosts(host_fs)
    p = pod()
    [mount] = etc_hosts.mounts(p, p["spec"]["containers"][0], "10.244.1.5")
    assert (mount.container_path, mount.host_path) == ("/etc/hosts", "/var/lib/kubelet/pods/uid-web/etc-hosts")
    assert host_fs[mount.host_path].endswith("10.244.1.5\tweb\n")
    assert etc_hosts.mounts(p, {"volumeMounts": [{"mountPath": "/etc/hosts", "name": "h"}]}, "10.244.1.5") == []
    assert etc_hosts.mounts(p, p["spec"]["containers"][0], "") == []
