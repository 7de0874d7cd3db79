"""The real kubectl with Ingress and IngressClass (networking.k8s.io/v1) on a served cluster.

The engine serves the API objects only: no ingress controller runs, so nothing
routes traffic or fills ``status.loadBalancer`` unless a client writes it (as a
controller would, through the status subresource).
"""

from __future__ import annotations

import pytest

from engine.cluster import Cluster
from kubectl_tool import Kubectl, needs_kubectl

pytestmark = needs_kubectl
NO_PATH_TYPE = """apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: minimal-ingress
spec:
  rules:
  - http:
      paths:
      - path: /testpath
        backend:
          service:
            name: test
            port:
              number: 80
"""
DEFAULT_CLASS = """apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata:
  name: nginx-example
  annotations:
    ingressclass.kubernetes.io/is-default-class: "true"
spec:
  controller: k8s.io/ingress-nginx
"""


@pytest.fixture(scope="module")
def cluster() -> Cluster:
    return Cluster(nodes=1, seed=0)


def test_discovery_lists_ingresses_and_ingress_classes(kubectl: Kubectl) -> None:
    rows = [line.split() for line in kubectl("api-resources", "--api-group=networking.k8s.io").stdout.splitlines()]
    assert ["ingresses", "ing", "networking.k8s.io/v1", "true", "Ingress"] in rows
    assert ["ingressclasses", "networking.k8s.io/v1", "false", "IngressClass"] in rows
    explained = kubectl("explain", "ingress.spec.rules.http.paths").stdout
    assert "pathType\t<string> -required-" in explained and "backend\t<IngressBackend> -required-" in explained


def test_create_ingress_builds_the_rules_and_gets_the_default_class(kubectl: Kubectl, cluster: Cluster) -> None:
    kubectl("apply", "-f", "-", stdin=DEFAULT_CLASS)
    assert kubectl("create", "ingress", "web", "--rule=foo.com/=web:80", "--rule=foo.com/admin*=admin:http,tls=cert",
                   ).stdout.strip() == "ingress.networking.k8s.io/web created"
    spec = cluster.get("ingress", "web")["spec"]
    assert spec["ingressClassName"] == "nginx-example"          # the DefaultIngressClass admission plugin
    assert spec["tls"] == [{"hosts": ["foo.com"], "secretName": "cert"}]
    assert spec["rules"] == [{"host": "foo.com", "http": {"paths": [
        {"path": "/", "pathType": "Exact", "backend": {"service": {"name": "web", "port": {"number": 80}}}},
        {"path": "/admin", "pathType": "Prefix", "backend": {"service": {"name": "admin", "port": {"name": "http"}}}},
    ]}}]


def test_get_ingress_prints_class_hosts_address_and_ports(kubectl: Kubectl) -> None:
    kubectl("create", "ingress", "plain", "--class=other", "--default-backend=web:80")
    kubectl("patch", "ingress", "plain", "--subresource=status", "--type=merge",
            "-p", '{"status": {"loadBalancer": {"ingress": [{"ip": "203.0.113.10"}]}}}')
    lines = kubectl("get", "ingress").stdout.splitlines()
    assert lines[0].split() == ["NAME", "CLASS", "HOSTS", "ADDRESS", "PORTS", "AGE"]
    rows = {line.split()[0]: line.split()[1:-1] for line in lines[1:]}
    assert rows["plain"] == ["other", "*", "203.0.113.10", "80"]
    assert rows["web"] == ["nginx-example", "foo.com", "80,", "443"]     # PORTS is "80, 443" with TLS


def test_a_path_without_path_type_is_refused_with_the_real_message(kubectl: Kubectl) -> None:
    result = kubectl("apply", "-f", "-", stdin=NO_PATH_TYPE, check=False)
    assert result.returncode == 1
    assert 'The Ingress "minimal-ingress" is invalid: spec.rules[0].http.paths[0].pathType: Required value: ' \
           "pathType must be specified" in result.stderr
    fixed = NO_PATH_TYPE.replace("      - path: /testpath\n", "      - path: /testpath\n        pathType: Prefix\n")
    assert kubectl("apply", "-f", "-", stdin=fixed).stdout.strip() == \
        "ingress.networking.k8s.io/minimal-ingress created"


def test_create_ingress_rejects_a_rule_kubectl_cannot_parse(kubectl: Kubectl) -> None:
    result = kubectl("create", "ingress", "bad", "--rule=foo.com=web:80", check=False)
    assert "rule foo.com=web:80 is invalid and should be in format host/path=svcname:svcport[,tls[=secret]]" \
        in result.stderr
    ip_host = kubectl("create", "ingress", "bad", "--rule=10.0.0.1/=web:80", check=False)
    assert 'failed to create ingress: Ingress.networking.k8s.io "bad" is invalid: spec.rules[0].host: Invalid ' \
           'value: "10.0.0.1": must be a DNS name, not an IP address' in ip_host.stderr
