"""kube-proxy's service health server and proxier health server, fed by the iptables Proxier's syncs."""

from __future__ import annotations

import json

import pytest

from engine.proxy.healthcheck import ProxierHealthServer, ServiceHealthServer, go_time
from engine.proxy.iptables.proxier import Proxier
from engine.proxy.iptables.rules import RulesConfig
from engine.sim.loop import Loop

from proxy_fakes import HostStandIn, endpoint_slice, service

LB = dict(type_="LoadBalancer", externalTrafficPolicy="Local", healthCheckNodePort=32000,
          ports=[{"name": "http", "port": 80, "protocol": "TCP", "targetPort": 8080, "nodePort": 31000}],
          status={"loadBalancer": {"ingress": [{"ip": "198.51.100.10"}]}})


@pytest.fixture
def wired():
    loop = Loop(0)
    host = HostStandIn(loop)
    sockets: dict[int, object] = {}
    proxier = Proxier(host.iptables, loop, RulesConfig(node_name="node-1", node_ip=host.address,
                                                        cluster_cidr="10.244.0.0/16"))
    healthz = ProxierHealthServer(loop, 60.0)
    proxier.healthz = healthz
    proxier.service_health = ServiceHealthServer(sockets.__setitem__, lambda port: sockets.pop(port),
                                                 healthz.is_healthy)
    proxier.start()
    proxier.on_services_synced()
    proxier.on_endpoint_slices_synced()
    loop.run_for(1)
    yield loop, proxier, sockets
    proxier.stop()


def ask(sockets: dict, port: int, path: str = "/") -> dict:
    return sockets[port].handle_http({"method": "GET", "path": path, "port": port})


def test_a_listener_per_health_check_node_port_counting_ready_local_endpoints(wired):
    loop, proxier, sockets = wired
    proxier.on_service_add(service(**LB))
    loop.run_for(2)
    answer = ask(sockets, 32000)
    assert answer["status"] == 503 and json.loads(answer["body"])["localEndpoints"] == 0
    assert answer["body"].startswith('{\n\t"service": {\n\t\t"namespace": "default",\n')
    proxier.on_endpoint_slice_add(endpoint_slice(endpoints=[("10.244.1.5", "node-1", True),
                                                            ("10.244.1.6", "node-1", False),
                                                            ("10.244.2.5", "node-2", True)]))
    loop.run_for(2)
    answer = ask(sockets, 32000, "/healthz")
    assert answer["status"] == 200 and answer["headers"]["X-Load-Balancing-Endpoint-Weight"] == "1"
    assert json.loads(answer["body"]) == {"service": {"namespace": "default", "name": "web"},
                                          "localEndpoints": 1, "serviceProxyHealthy": True}
    proxier.on_service_delete(service(**LB))
    loop.run_for(2)
    assert 32000 not in sockets


def test_healthz_goes_503_when_an_update_waits_too_long_or_the_node_is_going_away():
    loop = Loop(0)
    server = ProxierHealthServer(loop, 60.0)
    assert server.port == 10256
    assert server.handle_http({"path": "/healthz"})["status"] == 200          # starting up: healthy
    server.queued_update()
    loop.run_for(59)
    assert server.handle_http({"path": "/livez"})["status"] == 200
    loop.run_for(2)
    late = server.handle_http({"path": "/healthz"})
    assert late["status"] == 503 and json.loads(late["body"])["lastUpdated"] == "0001-01-01 00:00:00 +0000 UTC"
    server.updated()
    assert server.handle_http({"path": "/healthz"})["status"] == 200
    server.node = {"metadata": {"name": "node-1"}, "spec": {"taints": [
        {"key": "ToBeDeletedByClusterAutoscaler", "value": "1700000000", "effect": "NoSchedule"}]}}
    drained = server.handle_http({"path": "/healthz"})
    assert drained["status"] == 503 and json.loads(drained["body"])["nodeEligible"] is False
    assert server.handle_http({"path": "/livez"})["status"] == 200            # alive all the same
    assert server.handle_http({"path": "/"})["status"] == 404


def test_go_time_prints_like_a_go_time_value():
    assert go_time(61.5, 0.0) == "2025-01-01 00:01:01.5 +0000 UTC m=+61.500000000"
    assert go_time(None) == "0001-01-01 00:00:00 +0000 UTC"
