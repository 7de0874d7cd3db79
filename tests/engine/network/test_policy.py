import pytest

from engine.network.policy import decide, policy_types


def _pod(name: str, labels: dict, namespace: str = "default", ports: list | None = None) -> dict:
    return {"metadata": {"name": name, "namespace": namespace, "labels": labels},
            "spec": {"containers": [{"name": "c", "ports": ports or []}]}}


def _policy(name: str, spec: dict, namespace: str = "default") -> dict:
    return {"metadata": {"name": name, "namespace": namespace}, "spec": spec}


NAMESPACES = {"default": {"metadata": {"name": "default", "labels": {"kubernetes.io/metadata.name": "default"}}},
              "prod": {"metadata": {"name": "prod", "labels": {"team": "prod"}}},
              "dev": {"metadata": {"name": "dev", "labels": {"team": "dev"}}}}
WEB = _pod("web", {"app": "web"}, ports=[{"name": "http", "containerPort": 8080, "protocol": "TCP"}])
FRONT = _pod("front", {"role": "frontend"})
PROD_FRONT = _pod("front", {"role": "frontend"}, "prod")
DEV_OTHER = _pod("other", {"role": "other"}, "dev")
DENY_ALL = _policy("default-deny-ingress", {"podSelector": {}, "policyTypes": ["Ingress"]})
FROM_FRONTEND = _policy("allow-frontend", {"podSelector": {"matchLabels": {"app": "web"}},
                                           "ingress": [{"from": [{"podSelector": {"matchLabels": {"role": "frontend"}}}]}]})
AND_PEER = _policy("and", {"podSelector": {}, "ingress": [{"from": [
    {"namespaceSelector": {"matchLabels": {"team": "prod"}}, "podSelector": {"matchLabels": {"role": "frontend"}}}]}]})
OR_PEERS = _policy("or", {"podSelector": {}, "ingress": [{"from": [
    {"namespaceSelector": {"matchLabels": {"team": "prod"}}}, {"podSelector": {"matchLabels": {"role": "frontend"}}}]}]})
IP_BLOCK = _policy("ipblock", {"podSelector": {}, "ingress": [{"from": [
    {"ipBlock": {"cidr": "172.17.0.0/16", "except": ["172.17.1.0/24"]}}]}]})
NAMED_PORT = _policy("named", {"podSelector": {}, "ingress": [{"ports": [{"port": "http"}]}]})
PORT_RANGE = _policy("range", {"podSelector": {}, "ingress": [{"ports": [{"protocol": "TCP", "port": 32000,
                                                                          "endPort": 32768}]}]})
EGRESS_DNS_ONLY = _policy("egress-dns", {"podSelector": {}, "policyTypes": ["Egress"],
                                         "egress": [{"ports": [{"protocol": "UDP", "port": 53}]}]})


@pytest.mark.parametrize("policies, direction, pod, peer_ip, peer, port, protocol, allowed", [
    ([], "Ingress", WEB, "10.244.1.2", FRONT, 80, "TCP", True),
    ([DENY_ALL], "Ingress", WEB, "10.244.1.2", FRONT, 80, "TCP", False),
    ([DENY_ALL], "Egress", WEB, "10.244.1.2", FRONT, 80, "TCP", True),
    ([DENY_ALL, FROM_FRONTEND], "Ingress", WEB, "10.244.1.2", FRONT, 80, "TCP", True),
    ([DENY_ALL, FROM_FRONTEND], "Ingress", WEB, "10.244.1.3", DEV_OTHER, 80, "TCP", False),
    ([FROM_FRONTEND], "Ingress", WEB, "10.244.1.4", PROD_FRONT, 80, "TCP", False),
    ([AND_PEER], "Ingress", WEB, "10.244.1.4", PROD_FRONT, 80, "TCP", True),
    ([AND_PEER], "Ingress", WEB, "10.244.1.2", FRONT, 80, "TCP", False),
    ([OR_PEERS], "Ingress", WEB, "10.244.1.2", FRONT, 80, "TCP", True),
    ([OR_PEERS], "Ingress", WEB, "10.244.1.3", DEV_OTHER, 80, "TCP", False),
    ([IP_BLOCK], "Ingress", WEB, "172.17.2.5", None, 80, "TCP", True),
    ([IP_BLOCK], "Ingress", WEB, "172.17.1.5", None, 80, "TCP", False),
    ([NAMED_PORT], "Ingress", WEB, "10.244.1.2", FRONT, 8080, "TCP", True),
    ([NAMED_PORT], "Ingress", WEB, "10.244.1.2", FRONT, 80, "TCP", False),
    ([PORT_RANGE], "Ingress", WEB, "10.244.1.2", FRONT, 32768, "TCP", True),
    ([PORT_RANGE], "Ingress", WEB, "10.244.1.2", FRONT, 32769, "TCP", False),
    ([PORT_RANGE], "Ingress", WEB, "10.244.1.2", FRONT, 32000, "UDP", False),
    ([EGRESS_DNS_ONLY], "Egress", WEB, "10.96.0.10", None, 53, "UDP", True),
    ([EGRESS_DNS_ONLY], "Egress", WEB, "10.244.2.3", FRONT, 80, "TCP", False),
    ([_policy("elsewhere", DENY_ALL["spec"], "prod")], "Ingress", WEB, "10.244.1.2", FRONT, 80, "TCP", True),
], ids=[
    "a pod no policy selects accepts everything",
    "an empty podSelector with Ingress isolates every pod of the namespace: default deny",
    "a policy of type Ingress leaves egress alone",
    "allow rules add to a default deny: the frontend may connect",
    "and everyone else is still denied",
    "a podSelector peer only means pods of the policy's own namespace",
    "namespaceSelector and podSelector in one peer: those pods in those namespaces",
    "the AND peer refuses the right pod in the wrong namespace",
    "two peers are an OR: the frontend in default passes",
    "the OR still refuses a pod matching neither",
    "an ipBlock admits its CIDR",
    "but not the ranges it excepts",
    "a named port is resolved on the receiving pod's containers",
    "a named port does not match another number",
    "endPort makes a range, inclusive",
    "one past endPort is outside",
    "the protocol defaults to TCP, so UDP does not match",
    "an egress policy may allow DNS alone",
    "and then nothing else leaves",
    "a policy in another namespace does not select the pod",
])
def test_decide(policies, direction, pod, peer_ip, peer, port, protocol, allowed) -> None:
    assert decide(policies, NAMESPACES, direction, pod, peer_ip, peer, port, protocol).allowed is allowed


def test_policy_types_default_from_the_sections() -> None:
    assert policy_types(_policy("a", {"podSelector": {}})) == ["Ingress"]
    assert policy_types(_policy("b", {"podSelector": {}, "egress": []})) == ["Ingress", "Egress"]


def test_a_denial_names_the_policies_that_isolate_the_pod() -> None:
    decision = decide([DENY_ALL], NAMESPACES, "Ingress", WEB, "10.244.1.2", FRONT, 80)
    assert "default/default-deny-ingress" in decision.reason and "TCP/80" in decision.reason
