"""EndpointSlices as kube-proxy reads them, and CategorizeEndpoints by traffic policy."""

from __future__ import annotations

import pytest

from engine.proxy.endpoint import categorize_endpoints, endpoints_map
from engine.proxy.serviceport import service_ports

from proxy_fakes import endpoint_slice, service


def _endpoints(*items: tuple) -> list:
    (name, found), = endpoints_map([endpoint_slice(endpoints=list(items))], "node-1").items()
    return found


def test_missing_conditions_mean_ready_and_endpoints_are_sorted_by_ip_and_port() -> None:
    slice_ = endpoint_slice(endpoints=[("10.244.2.5", "node-2", True), ("10.244.10.5", "node-1", True)])
    del slice_["endpoints"][0]["conditions"]
    (name, found), = endpoints_map([slice_], "node-1").items()
    assert str(name) == "default/web:http"
    assert [str(e) for e in found] == ["10.244.10.5:8080", "10.244.2.5:8080"]
    assert found[1].ready and found[1].serving and not found[1].terminating
    assert found[0].is_local and not found[1].is_local


@pytest.mark.parametrize("spec, items, cluster, local", [
    ({}, [("10.0.0.1", "node-1", True), ("10.0.0.2", "node-2", False)], ["10.0.0.1:8080"], []),
    ({}, [("10.0.0.1", "node-1", False, True, True)], ["10.0.0.1:8080"], []),
    ({"internalTrafficPolicy": "Local"}, [("10.0.0.1", "node-1", True), ("10.0.0.2", "node-2", True)],
     [], ["10.0.0.1:8080"]),
    ({"type_": "NodePort", "externalTrafficPolicy": "Local",
      "ports": [{"name": "http", "port": 80, "protocol": "TCP", "nodePort": 30080}]},
     [("10.0.0.1", "node-1", True), ("10.0.0.2", "node-2", True)], ["10.0.0.1:8080", "10.0.0.2:8080"],
     ["10.0.0.1:8080"]),
], ids=["Cluster policy uses ready endpoints only",
        "with none ready, serving terminating endpoints are used",
        "internalTrafficPolicy Local uses this node's endpoints only",
        "externalTrafficPolicy Local: cluster endpoints for pods, local ones for outside traffic"])
def test_categorize_endpoints(spec: dict, items: list, cluster: list, local: list) -> None:
    svc = next(iter(service_ports(service(**spec)).values()))
    result = categorize_endpoints(_endpoints(*items), svc)
    assert [str(e) for e in result.cluster] == cluster
    assert [str(e) for e in result.local] == local
    assert result.has_any
