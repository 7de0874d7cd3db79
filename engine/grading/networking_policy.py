"""Lab 10's NetworkPolicy plugs and checks: a learner's policy decision enforced by calico's Felix.

The pieces (plain objects in, a bool out; ``namespace_labels`` maps a namespace's name to its labels):

- ``peer_matches(peer, policy_namespace, peer_ip, peer_pod, namespace_labels)``: does one element of a
  rule's ``from`` / ``to`` match the other end of a connection (``engine.network.policy._peer_matches``):
  ``podSelector`` alone (pods of the policy's namespace), ``namespaceSelector`` alone (every pod of the
  matching namespaces), both in one element (an AND), ``ipBlock`` (``cidr`` minus ``except``; it matches
  addresses, pods or not);
- ``connection_allowed(policies, namespace_labels, direction, pod, peer_ip, peer_pod, port, protocol)``:
  ``engine.network.policy.decide``'s answer: a pod no policy of its namespace selects for ``direction``
  (``podSelector`` and ``policyTypes``, defaulted) allows everything; a selected pod allows what some rule
  of some selecting policy allows (its peers and its ports; named ports resolved on the receiving pod).

``policy_cluster(connection_allowed)`` boots a calico cluster whose Felix agents decide with the learner's
function (each call compared with the engine's). ``check_traffic`` creates namespaces, pods on both
nodes and policies, curls every pod from every other one on a served port and on a closed one, and
checks each request's fate against the engine's decision: allowed means an answer (200, or ``Connection
refused`` from a closed port), denied means a silent drop (curl times out). Nothing here prints or writes
to stderr.
"""

from __future__ import annotations

import copy
import json
import random
from typing import Any, Callable

from engine.api.frozen import thaw
from engine.grading.delegation import OwnWork
from engine.grading.feedback import compare, describe_exception, fail
from engine.grading.kubelet import Plugged
from engine.network import policy as engine_policy
from engine.network.policy import Decision, decide

SEE_POLICY = 'course/10_networking.ipynb, section "NetworkPolicy: off, then on"'
PIECES = [engine_policy.decide, engine_policy.selecting, engine_policy._peer_matches, engine_policy._port_matches,
          engine_policy.container_port, engine_policy.policy_types]


def _namespace_objects(namespace_labels: dict[str, dict]) -> dict[str, dict]:
    return {name: {"metadata": {"name": name, "labels": dict(labels or {})}}
            for name, labels in namespace_labels.items()}


def reference_peer_matches(peer: dict, policy_namespace: str, peer_ip: str, peer_pod: dict | None,
                           namespace_labels: dict[str, dict]) -> bool:
    return engine_policy._peer_matches(peer, policy_namespace, peer_ip, peer_pod, _namespace_objects(namespace_labels))


def reference_allowed(policies: list[dict], namespace_labels: dict[str, dict], direction: str, pod: dict,
                      peer_ip: str, peer_pod: dict | None, port: int, protocol: str = "TCP") -> bool:
    return decide(policies, _namespace_objects(namespace_labels), direction, pod, peer_ip, peer_pod, port,
                  protocol).allowed


# -- a random world of namespaces, pods and policies ---------------------------------------------------
NAMESPACES = {"default": {"kubernetes.io/metadata.name": "default"},
              "prod": {"kubernetes.io/metadata.name": "prod", "team": "shop", "env": "prod"},
              "dev": {"kubernetes.io/metadata.name": "dev", "team": "shop", "env": "dev"},
              "other": {"kubernetes.io/metadata.name": "other", "team": "data"}}
APPS = ("web", "db", "client")
ROLES = ("frontend", "backend")
PORTS = [{"name": "http", "containerPort": 80}, {"name": "metrics", "containerPort": 9090},
         {"name": "dns", "containerPort": 53, "protocol": "UDP"}]


def make_pod(name: str, namespace: str, labels: dict, ip: str, ports: list[dict] | None = None) -> dict:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": namespace, "labels": labels},
            "spec": {"containers": [{"name": "main", "image": "nginx", "ports": ports if ports is not None else
                                     [dict(p) for p in PORTS[:2]]}]},
            "status": {"podIP": ip, "phase": "Running"}}


def _random_pods(rng: random.Random) -> list[dict]:
    pods = []
    for index in range(8):
        namespace = rng.choice(list(NAMESPACES))
        labels = {"app": rng.choice(APPS)}
        if rng.random() < 0.6:
            labels["role"] = rng.choice(ROLES)
        ports = [dict(p) for p in PORTS if rng.random() < 0.7]
        if ports and rng.random() < 0.3:
            ports[0] = {**ports[0], "containerPort": 8080}          # the same name, another number
        pods.append(make_pod(f"pod-{index}", namespace, labels, f"10.244.{index % 3 + 1}.{index + 2}", ports))
    return pods


def _selector(rng: random.Random, keys: tuple[str, ...], values: dict[str, tuple[str, ...]]) -> dict:
    roll = rng.random()
    if roll < 0.25:
        return {}
    key = rng.choice(keys)
    if roll < 0.85:
        return {"matchLabels": {key: rng.choice(values[key])}}
    return {"matchExpressions": [{"key": key, "operator": rng.choice(("In", "NotIn", "Exists")),
                                  **({} if roll > 0.95 else {"values": list(values[key][:2])})}]}


def _fix_expressions(selector: dict) -> dict:
    for expression in selector.get("matchExpressions") or ():
        if expression["operator"] == "Exists":
            expression.pop("values", None)
        elif not expression.get("values"):
            expression["values"] = ["web"]
    return selector


POD_VALUES = {"app": APPS, "role": ROLES}
NAMESPACE_VALUES = {"team": ("shop", "data"), "env": ("prod", "dev"), "kubernetes.io/metadata.name": tuple(NAMESPACES)}


def random_peer(rng: random.Random) -> dict:
    roll = rng.random()
    pods = _fix_expressions(_selector(rng, ("app", "role"), POD_VALUES))
    namespaces = _fix_expressions(_selector(rng, ("team", "env", "kubernetes.io/metadata.name"), NAMESPACE_VALUES))
    if roll < 0.3:
        return {"podSelector": pods}
    if roll < 0.5:
        return {"namespaceSelector": namespaces}
    if roll < 0.8:
        return {"namespaceSelector": namespaces or {"matchLabels": {"team": "shop"}},
                "podSelector": pods or {"matchLabels": {"app": "web"}}}
    block: dict[str, Any] = {"cidr": rng.choice(("10.244.0.0/16", "10.244.1.0/24", "10.0.0.0/8", "0.0.0.0/0"))}
    if rng.random() < 0.6:
        block["except"] = [rng.choice(("10.244.2.0/24", "10.244.1.0/25", "10.244.3.4/32", "172.18.0.0/16"))]
    return {"ipBlock": block}


def random_ports(rng: random.Random) -> list[dict] | None:
    roll = rng.random()
    if roll < 0.35:
        return None
    ports = []
    for _ in range(rng.randint(1, 2)):
        choice = rng.random()
        if choice < 0.35:
            ports.append({"protocol": "TCP", "port": rng.choice((80, 8080, 9090))})
        elif choice < 0.6:
            ports.append({"port": rng.choice(("http", "metrics"))})
        elif choice < 0.75:
            ports.append({"protocol": "UDP", "port": rng.choice((53, "dns"))})
        elif choice < 0.9:
            ports.append({"port": 8000, "endPort": 9100})
        else:
            ports.append({"protocol": rng.choice(("TCP", "UDP"))})
    return ports


def random_policy(rng: random.Random, index: int) -> dict:
    spec: dict[str, Any] = {"podSelector": _fix_expressions(_selector(rng, ("app", "role"), POD_VALUES))}
    for section, key in (("ingress", "from"), ("egress", "to")):
        if rng.random() < (0.7 if section == "ingress" else 0.45):
            rules = []
            for _ in range(rng.choice((0, 1, 1, 2))):
                rule: dict[str, Any] = {}
                if rng.random() < 0.8:
                    rule[key] = [random_peer(rng) for _ in range(rng.randint(1, 2))]
                ports = random_ports(rng)
                if ports is not None:
                    rule["ports"] = ports
                rules.append(rule)
            spec[section] = rules
    if rng.random() < 0.5:
        types = [t for t, s in (("Ingress", "ingress"), ("Egress", "egress")) if s in spec or rng.random() < 0.3]
        spec["policyTypes"] = types or ["Ingress"]
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": f"policy-{index}", "namespace": rng.choice(list(NAMESPACES))}, "spec": spec}


def peer_cases(seed: int, n: int = 200) -> list[tuple]:
    rng = random.Random(seed)
    pods = _random_pods(rng)
    cases: list[tuple] = [
        ({"namespaceSelector": {"matchLabels": {"team": "shop"}}, "podSelector": {"matchLabels": {"app": "web"}}},
         "prod", "10.244.1.9", make_pod("w", "other", {"app": "web"}, "10.244.1.9"), NAMESPACES),
        ({"podSelector": {"matchLabels": {"app": "web"}}}, "prod", "10.244.1.9",
         make_pod("w", "dev", {"app": "web"}, "10.244.1.9"), NAMESPACES),
        ({"ipBlock": {"cidr": "10.244.0.0/16", "except": ["10.244.1.0/24"]}}, "prod", "10.244.1.9", None, NAMESPACES),
    ]
    while len(cases) < n:
        peer_pod = rng.choice(pods) if rng.random() < 0.85 else None
        ip = peer_pod["status"]["podIP"] if peer_pod else rng.choice(("172.18.0.3", "10.244.3.4", "8.8.8.8"))
        cases.append((random_peer(rng), rng.choice(list(NAMESPACES)), ip, peer_pod, NAMESPACES))
    return cases


def decision_cases(seed: int, n: int = 250) -> list[tuple]:
    rng = random.Random(seed)
    cases: list[tuple] = []
    while len(cases) < n:
        pods = _random_pods(rng)
        policies = [random_policy(rng, i) for i in range(rng.randint(0, 4))]
        if rng.random() < 0.3:            # the usual start: default deny in the pod's namespace
            pod_namespace = rng.choice(list(NAMESPACES))
            policies.append({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                             "metadata": {"name": "default-deny", "namespace": pod_namespace},
                             "spec": {"podSelector": {}, "policyTypes": rng.choice((["Ingress"], ["Egress"],
                                                                                      ["Ingress", "Egress"]))}})
        for _ in range(5):
            pod, peer = rng.sample(pods, 2)
            peer_pod = peer if rng.random() < 0.85 else None
            ip = peer["status"]["podIP"] if peer_pod else rng.choice(("172.18.0.3", "10.244.3.4", "8.8.8.8"))
            protocol = "UDP" if rng.random() < 0.15 else "TCP"
            port = 53 if protocol == "UDP" else rng.choice((80, 8080, 9090, 443))
            cases.append((policies, NAMESPACES, rng.choice(("Ingress", "Egress")), pod, ip, peer_pod, port, protocol))
    return cases


# -- feedback -------------------------------------------------------------------------------------------------
def _name(pod: dict | None) -> str:
    if pod is None:
        return "no pod"
    meta = pod["metadata"]
    return f"pod {meta.get('namespace', 'default')}/{meta['name']} {meta.get('labels') or {}}"


def _describe_peer(peer: dict, policy_namespace: str, peer_ip: str, peer_pod: dict | None, _labels: dict) -> str:
    namespace = (peer_pod or {}).get("metadata", {}).get("namespace")
    where = f", its namespace's labels {NAMESPACES.get(namespace or '', {})}" if peer_pod else ""
    return f"peer {peer}, policy in {policy_namespace!r}, other end {peer_ip} ({_name(peer_pod)}{where})"


def _diagnose_peer(case: tuple, expected: Any, got: Any) -> str | None:
    peer = case[0]
    if "ipBlock" in peer:
        return "ipBlock matches an address inside cidr and inside none of the except ranges, pod or not"
    if "namespaceSelector" in peer and "podSelector" in peer:
        return "namespaceSelector and podSelector in ONE element are an AND: pods matching podSelector in " \
               "namespaces matching namespaceSelector (two elements would be an OR)"
    if "podSelector" in peer:
        return "podSelector alone selects pods of the policy's own namespace only"
    if case[3] is None:
        return "a podSelector or namespaceSelector matches pods only: an address that is no pod never matches"
    return "namespaceSelector alone selects every pod of the namespaces whose labels match"


def _describe_decision(policies: list[dict], _labels: dict, direction: str, pod: dict, peer_ip: str,
                       peer_pod: dict | None, port: int, protocol: str) -> str:
    arrow = "into" if direction == "Ingress" else "out of"
    namespace = pod["metadata"].get("namespace", "default")
    mine = [p for p in policies if p["metadata"].get("namespace", "default") == namespace]
    listed = "; ".join(f"{p['metadata']['name']} {_compact(p['spec'])}" for p in mine) or "none"
    peer_ports = f", ports {_compact(_ports(peer_pod))}" if peer_pod else ""
    return (f"{direction}: {protocol}/{port} {arrow} {_name(pod)}, ports {_compact(_ports(pod))}; other end "
            f"{peer_ip} ({_name(peer_pod)}{peer_ports}); policies in {namespace!r}: {listed}")


def _compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":")).replace('"', "")


def _ports(pod: dict | None) -> list:
    return [p for c in ((pod or {}).get("spec") or {}).get("containers") or () for p in c.get("ports") or ()]


def _as_or(policies: list[dict]) -> list[dict]:
    """The policies as if a peer with both selectors were two peers: the OR a common mistake reads."""
    changed = copy.deepcopy(policies)
    for policy in changed:
        for section, key in (("ingress", "from"), ("egress", "to")):
            for rule in policy["spec"].get(section) or ():
                peers = []
                for peer in rule.get(key) or ():
                    if "namespaceSelector" in peer and "podSelector" in peer:
                        peers += [{"namespaceSelector": peer["namespaceSelector"]}, {"podSelector": peer["podSelector"]}]
                    else:
                        peers.append(peer)
                if key in rule:
                    rule[key] = peers
    return changed


def _diagnose_decision(case: tuple, expected: Any, got: Any) -> str | None:
    policies, labels, direction, pod, peer_ip, peer_pod, port, protocol = case
    if not engine_policy.selecting(policies, pod, direction):
        return (f"no policy selects this pod for {direction} (podSelector in the pod's own namespace, and "
                f"{direction} in policyTypes, which defaults to [Ingress], plus Egress when the policy has an "
                f"egress section): a pod that is not isolated allows every connection")
    if reference_allowed(_as_or(policies), labels, direction, pod, peer_ip, peer_pod, port, protocol) == got.value:
        return "namespaceSelector and podSelector in one element of from/to are an AND, not an OR"
    if direction == "Egress":
        return "for Egress the rules are in egress[].to and the named ports are resolved on the destination pod"
    return "an isolated pod allows a connection when one rule of one selecting policy matches both a peer " \
           "(from: a missing or empty list matches every source) and a port (ports: likewise)"


def check_peer_matches(peer_matches: Callable, seed: int) -> None:
    own = OwnWork("peer_matches", PIECES, see=SEE_POLICY)
    compare(own.wrap(peer_matches), reference_peer_matches, peer_cases(seed), what="peer_matches",
            describe=_describe_peer, normalize=bool, diagnose=_diagnose_peer, see=SEE_POLICY)
    own.check(peer_matches)


def check_connection_allowed(connection_allowed: Callable, seed: int) -> None:
    own = OwnWork("connection_allowed", PIECES, see=SEE_POLICY)
    compare(own.wrap(connection_allowed), reference_allowed, decision_cases(seed), what="connection_allowed",
            describe=_describe_decision, normalize=bool, diagnose=_diagnose_decision, see=SEE_POLICY, shown=2)
    own.check(connection_allowed)


# -- Felix deciding with the learner's function ------------------------------------------------------------------
def felix_adapter(connection_allowed: Callable, plugged: Plugged) -> Callable[..., Decision]:
    """A ``decide`` for calico's Felix that answers with ``connection_allowed`` (the engine's when it raises)."""
    def adapted(policies: list[dict], namespaces: dict[str, dict], direction: str, pod: dict, peer_ip: str,
                peer_pod: dict | None, port: int, protocol: str = "TCP") -> Decision:
        expected = decide(policies, namespaces, direction, pod, peer_ip, peer_pod, port, protocol)
        labels = {name: dict((ns.get("metadata") or {}).get("labels") or {}) for name, ns in namespaces.items()}
        args = (thaw(list(policies)), labels, direction, thaw(pod), peer_ip, thaw(peer_pod), port, protocol)
        try:
            allowed = bool(connection_allowed(*args))
        except Exception as error:
            if len(plugged.errors) < 3:
                plugged.errors.append(f"connection_allowed({_describe_decision(*args)}) raised "
                                      f"{describe_exception(error)}")
            return expected
        if allowed != expected.allowed and len(plugged.disagreements) < 3:
            plugged.disagreements.append(f"connection_allowed({_describe_decision(*args)}) answered {allowed}, "
                                         f"the engine {expected.allowed} ({expected.reason})")
        verdict = "allowed" if allowed else "denied"
        return Decision(allowed, f"{verdict} by your connection_allowed ({direction} {protocol}/{port})")
    return adapted


def plug_felix(cluster: Any, connection_allowed: Callable, plugged: Plugged | None = None) -> Plugged:
    """Every calico-node agent of ``cluster`` decides with ``connection_allowed`` from now on."""
    plugged = plugged if plugged is not None else Plugged()
    agents = [host.policy.__self__ for host in cluster.fabric.hosts.values()
              if getattr(host.policy, "__self__", None) is not None and hasattr(host.policy.__self__, "decide")]
    if not agents:
        fail("no calico-node agent runs in this cluster yet: run it a little longer (cluster.run(20))")
    adapter = felix_adapter(connection_allowed, plugged)
    for agent in agents:
        agent.decide = adapter
    return plugged


def policy_cluster(connection_allowed: Callable | None = None, *, nodes: int = 2, seed: int = 0,
                   plugged: Plugged | None = None) -> Any:
    """A calico cluster, booted and run until its agents run, whose Felix decides with ``connection_allowed``."""
    from engine.grading.integrity import fresh_cluster
    from engine.grading.networking import _parts
    cluster = fresh_cluster(nodes=nodes, seed=seed, network="calico", components=_parts({}))
    cluster.run(20)
    cluster.plugged = plug_felix(cluster, connection_allowed, plugged) if connection_allowed is not None \
        else Plugged()
    return cluster


# -- real traffic ---------------------------------------------------------------------------------------------
def traffic_world(seed: int) -> tuple[dict[str, dict], list[dict], list[dict]]:
    """Namespaces (name -> labels), pods (with nodes) and policies: each semantic a wrong answer could miss."""
    rng = random.Random(seed)
    frontend = rng.choice(("frontend", "edge"))
    namespaces = {name: labels for name, labels in NAMESPACES.items() if name != "default"}

    def pod(name: str, namespace: str, labels: dict, node: str) -> dict:
        return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": namespace, "labels": labels},
                "spec": {"nodeName": node, "containers": [{"name": "main", "image": "nginx",
                                                           "ports": [{"name": "http", "containerPort": 80}]}]}}
    nodes = ["node-1", "node-2"]
    rng.shuffle(nodes)
    pods = [pod("db", "prod", {"app": "db"}, nodes[0]),
            pod("web", "prod", {"app": "web", "role": frontend}, nodes[1]),
            pod("shop-ui", "dev", {"app": "web", "role": frontend}, nodes[0]),
            pod("tools", "dev", {"app": "client"}, nodes[1]),
            pod("intruder", "other", {"app": "web", "role": frontend}, nodes[0]),
            pod("browser", "default", {"app": "client"}, nodes[1])]

    def policy(name: str, namespace: str, spec: dict) -> dict:
        return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                "metadata": {"name": name, "namespace": namespace}, "spec": spec}
    policies = [
        policy("default-deny", "prod", {"podSelector": {}}),
        policy("db-from-shop-frontends", "prod", {"podSelector": {"matchLabels": {"app": "db"}}, "ingress": [{
            "from": [{"namespaceSelector": {"matchLabels": {"team": "shop"}},
                      "podSelector": {"matchLabels": {"role": frontend}}}],
            "ports": [{"port": "http"}]}]}),
        policy("web-from-anywhere-but-other", "prod", {"podSelector": {"matchLabels": {"app": "web"}}, "ingress": [{
            "from": [{"ipBlock": {"cidr": "10.244.0.0/16", "except": ["__intruder__/32"]}}]}]}),
        policy("tools-egress-prod-only", "dev", {"podSelector": {"matchLabels": {"app": "client"}},
                                                 "egress": [{"to": [{"namespaceSelector": {"matchLabels":
                                                                                             {"env": "prod"}}}],
                                                             "ports": [{"protocol": "TCP", "port": 80}]}]}),
    ]
    return namespaces, pods, policies


def _fate(result: Any) -> str:
    if result.ok:
        return "answered"
    if result.exit_code == 7:
        return "refused"
    return "dropped" if result.exit_code == 28 else f"failed ({result.error})"


def check_traffic(connection_allowed: Callable, seed: int) -> None:
    """Real requests between pods of a calico cluster whose Felix decides with ``connection_allowed``."""
    OwnWork("connection_allowed", PIECES, see=SEE_POLICY).check(connection_allowed)
    plugged = Plugged()
    cluster = policy_cluster(connection_allowed, seed=seed, plugged=plugged)
    namespaces, pods, policies = traffic_world(seed)
    for name, labels in namespaces.items():
        cluster.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels}})
    cluster.run(2)                # the ServiceAccount controller gives each namespace its "default" account
    for pod in pods:
        cluster.apply(pod)
    cluster.run(10)
    intruder = cluster.get("pod", "intruder", namespace="other")["status"]["podIP"]
    for policy in policies:
        cluster.apply(_replace(policy, "__intruder__", intruder))
    cluster.run(3)
    live = {f"{p['metadata']['namespace']}/{p['metadata']['name']}": p
            for p in cluster.list("pods", all_namespaces=True) if p["metadata"]["namespace"] in ("default", *namespaces)}
    if len(live) != len(pods) or not all((p.get("status") or {}).get("podIP") for p in live.values()):
        fail(f"the lab's pods did not all start: {sorted(live)}", see=SEE_POLICY)
    live_policies = cluster.list("networkpolicies", all_namespaces=True)
    objects = {ns["metadata"]["name"]: ns for ns in cluster.list("namespaces")}
    wrong = []
    for source in sorted(live):
        for target in sorted(live):
            if source == target:
                continue
            src, dst = live[source], live[target]
            for port in (80, 8080):
                ip = dst["status"]["podIP"]
                allowed = decide(live_policies, objects, "Egress", src, ip, dst, port).allowed and \
                    decide(live_policies, objects, "Ingress", dst, src["status"]["podIP"], src, port).allowed
                want = ("answered" if port == 80 else "refused") if allowed else "dropped"
                result = cluster.curl(source, f"http://{ip}:{port}/", connect_timeout=5)
                got = _fate(result)
                if got != want:
                    wrong.append(f"{source} -> {target} ({ip}) port {port}: expected {_word(want)}, got {_word(got)}")
    if plugged.errors:
        fail("Felix called your connection_allowed and it raised:\n" + "\n".join(plugged.errors), see=SEE_POLICY)
    if wrong:
        lines = [f"{len(wrong)} requests between pods went otherwise than the engine's policy decision says:"]
        lines += [f"  {line}" for line in wrong[:4]]
        if plugged.disagreements:
            lines.append("your connection_allowed and the engine disagreed on:")
            lines += [f"  {line}" for line in plugged.disagreements[:2]]
        fail("\n".join(lines), see=SEE_POLICY)
    if plugged.disagreements:
        fail("the requests went as expected, but your connection_allowed disagreed with the engine on:\n"
             + "\n".join(plugged.disagreements), see=SEE_POLICY)


def _word(fate: str) -> str:
    return {"answered": "an answer (allowed)", "refused": "Connection refused (allowed, nothing listens)",
            "dropped": "a timeout (dropped by policy)"}.get(fate, fate)


def _replace(value: Any, old: str, new: str) -> Any:
    if isinstance(value, dict):
        return {key: _replace(item, old, new) for key, item in value.items()}
    if isinstance(value, list):
        return [_replace(item, old, new) for item in value]
    return value.replace(old, new) if isinstance(value, str) else value


__all__ = ["check_connection_allowed", "check_peer_matches", "check_traffic", "decision_cases", "felix_adapter",
           "make_pod", "peer_cases", "plug_felix", "policy_cluster", "reference_allowed", "reference_peer_matches",
           "traffic_world"]
