"""kube-apiserver's healthCheckNodePort: allocated from the node port range for LoadBalancer + Local,
kept, validated, immutable, released when the Service stops needing it or is deleted."""

import pytest

import engine
from engine.api.frozen import thaw


def service(name: str = "web", policy: str = "Local", kind: str = "LoadBalancer", **spec) -> dict:
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name},
            "spec": {"type": kind, "externalTrafficPolicy": policy, "selector": {"app": name},
                     "ports": [{"port": 80}], **spec}}


@pytest.fixture
def admin():
    return engine.Cluster(nodes=1, seed=0).admin


def test_load_balancer_with_local_policy_gets_a_health_check_node_port_of_its_own(admin):
    created = admin.create(service())
    port = created["spec"]["healthCheckNodePort"]
    assert 30000 <= port <= 32767 and port != created["spec"]["ports"][0]["nodePort"]
    assert "healthCheckNodePort" not in admin.create(service("cluster", policy="Cluster"))["spec"]
    assert "healthCheckNodePort" not in admin.create(service("np", kind="NodePort"))["spec"]


def test_a_requested_port_is_kept_and_a_taken_one_is_a_500(admin):
    assert admin.create(service(healthCheckNodePort=31999))["spec"]["healthCheckNodePort"] == 31999
    with pytest.raises(engine.ApiError) as caught:
        admin.create(service("other", healthCheckNodePort=31999))
    assert caught.value.code == 500
    assert caught.value.status["message"] == ("Internal error occurred: failed to allocate requested HealthCheck "
                                              "NodePort 31999: provided port is already allocated")
    with pytest.raises(engine.ApiError) as caught:
        admin.create(service("far", healthCheckNodePort=40000))
    assert "provided port is not in the valid range. The range of valid ports is 30000-32767" in \
        caught.value.status["message"]
    with pytest.raises(engine.ApiError):              # the Service's nodePort cannot take it either
        admin.create(service("np", kind="NodePort", policy="Cluster", ports=[{"port": 80, "nodePort": 31999}]))


def test_validation_messages_are_upstreams(admin):
    with pytest.raises(engine.Invalid) as caught:
        admin.create(service("c", policy="Cluster", healthCheckNodePort=30500))
    assert "spec.healthCheckNodePort: Invalid value: 30500: may only be set when `type` is 'LoadBalancer' and " \
           "`externalTrafficPolicy` is 'Local'" in caught.value.status["message"]
    created = admin.create(service())
    changed = thaw(created)
    changed["spec"]["healthCheckNodePort"] = created["spec"]["healthCheckNodePort"] + 1
    with pytest.raises(engine.Invalid) as caught:
        admin.update(changed)
    assert "spec.healthCheckNodePort: Forbidden: field is immutable" in caught.value.status["message"]


def test_updates_keep_give_and_release_the_port(admin):
    created = admin.create(service())
    port = created["spec"]["healthCheckNodePort"]
    again = service()
    again["metadata"]["labels"] = {"tier": "web"}
    assert admin.update(again)["spec"]["healthCheckNodePort"] == port           # left out: kept
    to_cluster = thaw(admin.get("services", "web", "default"))
    to_cluster["spec"]["externalTrafficPolicy"] = "Cluster"
    assert "healthCheckNodePort" not in admin.update(to_cluster)["spec"]         # no longer needed: cleared
    assert admin.create(service("reuse", healthCheckNodePort=port))["spec"]["healthCheckNodePort"] == port
    back = thaw(admin.get("services", "web", "default"))
    back["spec"]["externalTrafficPolicy"] = "Local"
    new_port = admin.update(back)["spec"]["healthCheckNodePort"]
    assert new_port and new_port != port                                        # needed again: a new one
    admin.delete("services", "web", "default")
    assert admin.create(service("last", healthCheckNodePort=new_port))["spec"]["healthCheckNodePort"] == new_port
