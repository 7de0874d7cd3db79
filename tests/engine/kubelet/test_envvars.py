"""The Service environment variables (pkg/kubelet/envvars)."""

from __future__ import annotations

import pytest

from engine.kubelet.envvars import from_services, service_env


def service(name: str, namespace: str = "default", ip: str = "10.96.0.20", ports=None) -> dict:
    return {"metadata": {"name": name, "namespace": namespace},
            "spec": {"clusterIP": ip, "ports": ports or [{"name": "http", "port": 80, "protocol": "TCP"}]}}


KUBERNETES = service("kubernetes", ip="10.96.0.1", ports=[{"name": "https", "port": 443, "protocol": "TCP"}])


def test_a_service_gives_host_port_named_ports_and_docker_link_variables():
    dns = service("kube-dns", "kube-system", "10.96.0.10", [
        {"name": "dns", "port": 53, "protocol": "UDP"}, {"name": "dns-tcp", "port": 53, "protocol": "TCP"},
        {"name": "metrics", "port": 9153, "protocol": "TCP"}])
    assert from_services([dns]) == [
        ("KUBE_DNS_SERVICE_HOST", "10.96.0.10"), ("KUBE_DNS_SERVICE_PORT", "53"),
        ("KUBE_DNS_SERVICE_PORT_DNS", "53"), ("KUBE_DNS_SERVICE_PORT_DNS_TCP", "53"),
        ("KUBE_DNS_SERVICE_PORT_METRICS", "9153"),
        ("KUBE_DNS_PORT", "udp://10.96.0.10:53"),
        ("KUBE_DNS_PORT_53_UDP", "udp://10.96.0.10:53"), ("KUBE_DNS_PORT_53_UDP_PROTO", "udp"),
        ("KUBE_DNS_PORT_53_UDP_PORT", "53"), ("KUBE_DNS_PORT_53_UDP_ADDR", "10.96.0.10"),
        ("KUBE_DNS_PORT_53_TCP", "tcp://10.96.0.10:53"), ("KUBE_DNS_PORT_53_TCP_PROTO", "tcp"),
        ("KUBE_DNS_PORT_53_TCP_PORT", "53"), ("KUBE_DNS_PORT_53_TCP_ADDR", "10.96.0.10"),
        ("KUBE_DNS_PORT_9153_TCP", "tcp://10.96.0.10:9153"), ("KUBE_DNS_PORT_9153_TCP_PROTO", "tcp"),
        ("KUBE_DNS_PORT_9153_TCP_PORT", "9153"), ("KUBE_DNS_PORT_9153_TCP_ADDR", "10.96.0.10"),
    ]


def test_the_kubernetes_service_gives_what_in_cluster_config_reads():
    env = service_env([KUBERNETES], "kube-system", True)
    assert env["KUBERNETES_SERVICE_HOST"] == "10.96.0.1"
    assert env["KUBERNETES_SERVICE_PORT"] == "443"
    assert env["KUBERNETES_SERVICE_PORT_HTTPS"] == "443"
    assert env["KUBERNETES_PORT"] == "tcp://10.96.0.1:443"
    assert env["KUBERNETES_PORT_443_TCP_ADDR"] == "10.96.0.1"


@pytest.mark.parametrize("namespace, links, expected", [
    ("default", True, {"KUBERNETES", "WEB"}),
    ("default", False, {"KUBERNETES"}),
    ("other", True, {"KUBERNETES", "OTHER_WEB"}),
    ("empty", True, {"KUBERNETES"}),
], ids=["own namespace with service links", "enableServiceLinks false keeps only the master service",
        "another namespace sees its own services, not default's", "a namespace without services"])
def test_which_services_a_pod_sees(namespace, links, expected):
    services = [KUBERNETES, service("web"), service("other-web", "other"),
                service("headless", namespace, "None"), service("pending", namespace, "")]
    env = service_env(services, namespace, links)
    prefixes = {name.split("_SERVICE_HOST")[0] for name in env if name.endswith("_SERVICE_HOST")}
    assert prefixes == expected
