"""The Corefile parser, and the plugin order CoreDNS imposes on a server block."""

import pytest

from engine.dns import default_corefile
from engine.dns.corefile import CorefileError, parse


def test_kubeadms_default_corefile_parses_into_one_server_block():
    [block] = parse(default_corefile())
    assert block.keys == [".:53"] and block.zones == ["."] and block.port == 53
    assert [d.name for d in block.directives] == ["errors", "health", "ready", "kubernetes", "prometheus", "forward",
                                                  "cache", "loop", "reload", "loadbalance"]
    kubernetes = block.directive("kubernetes")
    assert kubernetes.args == ["cluster.local", "in-addr.arpa", "ip6.arpa"]
    assert kubernetes.option("pods") == ["insecure"] and kubernetes.option("ttl") == ["30"]
    assert kubernetes.option("fallthrough") == ["in-addr.arpa", "ip6.arpa"]
    assert block.directive("health").option("lameduck") == ["5s"]
    assert block.directive("forward").args == [".", "/etc/resolv.conf"]
    assert block.directive("cache").args == ["30"]


def test_comments_quotes_and_several_blocks():
    blocks = parse('# site\nexample.org:1053 {\n  forward . "8.8.8.8"  # google\n}\n.:53 {\n whoami\n}\n')
    assert [b.keys for b in blocks] == [["example.org:1053"], [".:53"]]
    assert blocks[0].zones == ["example.org."] and blocks[0].port == 1053
    assert blocks[0].directives[0].args == [".", "8.8.8.8"]


def test_unbalanced_braces_are_errors_with_the_line():
    with pytest.raises(CorefileError, match="Corefile:4 - Error during parsing"):
        parse(".:53 {\n errors\n}\n}\n")
    with pytest.raises(CorefileError, match="Unexpected EOF"):
        parse(".:53 {\n errors\n")


def test_queries_run_in_plugin_cfg_order_not_file_order(dns):
    [server] = dns.server.servers
    assert [p.name for p in server.plugins] == ["errors", "loadbalance", "cache", "kubernetes", "loop", "forward"]


def test_kubeadms_coredns_objects():
    from types import SimpleNamespace

    from engine.dns import manifests
    objects = manifests(SimpleNamespace(dns_ip="10.100.0.10", dns_domain="corp.local"))
    assert [(o["kind"], o["metadata"]["name"]) for o in objects] == [
        ("ConfigMap", "coredns"), ("ClusterRole", "system:coredns"), ("ClusterRoleBinding", "system:coredns"),
        ("ServiceAccount", "coredns"), ("Deployment", "coredns"), ("Service", "kube-dns")]
    assert "kubernetes corp.local in-addr.arpa ip6.arpa {" in objects[0]["data"]["Corefile"]
    service = objects[5]["spec"]
    assert service["clusterIP"] == "10.100.0.10" and [(p["name"], p["port"], p["protocol"]) for p in service["ports"]] \
        == [("dns", 53, "UDP"), ("dns-tcp", 53, "TCP"), ("metrics", 9153, "TCP")]
    pod = objects[4]["spec"]["template"]["spec"]
    [container] = pod["containers"]
    assert container["args"] == ["-conf", "/etc/coredns/Corefile"]
    assert container["resources"] == {"limits": {"memory": "170Mi"}, "requests": {"cpu": "100m", "memory": "70Mi"}}
    assert container["livenessProbe"]["httpGet"]["port"] == 8080 and container["readinessProbe"]["httpGet"] == {
        "path": "/ready", "port": 8181, "scheme": "HTTP"}
    assert pod["dnsPolicy"] == "Default" and pod["priorityClassName"] == "system-cluster-critical"
    assert objects[4]["spec"]["replicas"] == 2
