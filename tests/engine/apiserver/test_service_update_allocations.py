"""kube-apiserver's Service allocations on update: node ports for new ports, given back when dropped or unneeded."""

import pytest

import engine


def service(ports: list[int], service_type: str = "LoadBalancer") -> dict:
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
            "spec": {"type": service_type, "selector": {"app": "web"},
                     "ports": [{"name": f"p{port}", "port": port, "targetPort": 80} for port in ports]}}


@pytest.fixture
def cluster():
    return engine.Cluster(nodes=0, seed=0, components=[])


def node_ports(obj: dict) -> list:
    return [port.get("nodePort") for port in obj["spec"]["ports"]]


def test_a_port_added_by_an_update_gets_a_node_port_and_a_removed_one_is_given_back(cluster):
    created = cluster.admin.create(service([80]))
    kept = node_ports(created)[0]
    grown = cluster.apply(service([80, 443]))
    assert node_ports(grown)[0] == kept and 30000 <= node_ports(grown)[1] <= 32767
    dropped = node_ports(grown)[1]
    assert dropped in cluster.apiserver.services.node_ports.used
    current = cluster.get("svc", "web")
    current["spec"]["ports"] = current["spec"]["ports"][:1]
    shrunk = cluster.admin.update(current)
    assert node_ports(shrunk) == [kept]
    assert dropped not in cluster.apiserver.services.node_ports.used


def test_a_node_port_another_service_holds_is_refused_on_update_naming_the_field(cluster):
    other = cluster.admin.create({**service([80]), "metadata": {"name": "other"}})
    cluster.admin.create(service([80]))
    wanted = service([80, 443])
    wanted["spec"]["ports"][1]["nodePort"] = node_ports(other)[0]
    with pytest.raises(engine.Invalid) as caught:
        cluster.apply(wanted)
    assert "spec.ports[1].nodePort" in str(caught.value)


def test_changing_the_type_to_cluster_ip_drops_what_only_external_services_have(cluster):
    created = cluster.apply(service([80]))
    assert created["spec"]["externalTrafficPolicy"] == "Cluster"
    changed = cluster.apply(service([80], "ClusterIP"))
    assert node_ports(changed) == [None]
    assert "allocateLoadBalancerNodePorts" not in changed["spec"] and "externalTrafficPolicy" not in changed["spec"]
    assert node_ports(created)[0] not in cluster.apiserver.services.node_ports.used
