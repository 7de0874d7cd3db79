"""lab10_networking: the cells of its source notebook, and what its grading round trip expects."""

from __future__ import annotations

from lab_specs.cells import Cell, code, md, solution, tests


def cells() -> list[Cell]:
    see_ipam = 'course/10_networking.ipynb, section "1. Every node a range, every pod an address"'
    see_cni = 'course/10_networking.ipynb, section "2. CNI: what containerd calls"'
    see_policy = 'course/10_networking.ipynb, section "NetworkPolicy: off, then on"'
    return [
        md("intro", """
# Lab 10: pod networking, from address ranges to NetworkPolicy

Every pod gets its own IP address, and the network add-on decides which pod may talk to which. Two
allocators hand out the addresses: the **node IPAM controller** in kube-controller-manager cuts the
cluster's pod network (`--cluster-cidr=10.244.0.0/16`) into one block per node (`spec.podCIDR`), and on
each node the CNI plugin's **host-local** IPAM gives each new pod a free address of its node's block.
The add-on's policy agent (calico's **Felix**) then enforces **NetworkPolicy** on every packet.

In this lab you write:

1. `allocate_node_cidr(cluster_cidr, mask_size, taken, last)`: the block the next node gets;
2. `next_pod_ip(subnet, reserved, last_reserved)`: the address the next pod gets;
3. `peer_matches(...)` and `connection_allowed(...)`: the NetworkPolicy decision.

Then the engine runs **your** functions: the controller manager and containerd's CNI allocate with them,
and calico's Felix drops or passes real requests between pods with your decision. The lecture is
`course/10_networking.ipynb`; the engine's versions are in `engine/controllers/nodeipam.py`,
`engine/network/cni_plugins.py` and `engine/network/policy.py`. Graded cells: 10 points.
"""),
        code("setup", f"""
import ipaddress

import engine
from engine.api.selectors import from_label_selector
from engine.grading import check, fail
from engine.grading.networking import ipam_cluster
from engine.grading.networking_policy import make_pod, policy_cluster

# Where the checks below send you when something is not right yet.
IPAM_SECTION = {see_ipam!r}
CNI_SECTION = {see_cni!r}
POLICY_SECTION = {see_policy!r}


def selects(selector, labels):
    \"\"\"Does a label selector ({{"matchLabels": ..., "matchExpressions": ...}}) match these labels? {{}} matches all.\"\"\"
    return from_label_selector(selector or {{}}).matches(labels or {{}})


net = ipaddress.ip_network("10.244.1.0/24")
print(net.network_address, net.network_address + 1, net.broadcast_address, net.num_addresses)
print([str(block) for block in ipaddress.ip_network("10.244.0.0/22").subnets(new_prefix=24)])
print(selects({{"matchLabels": {{"app": "web"}}}}, {{"app": "web", "tier": "front"}}), selects({{}}, {{}}))
"""),
        md("cidr_intro", """
## Part 1: a block per node (1 point)

With `--allocate-node-cidrs`, the node IPAM controller's *range allocator* cuts `--cluster-cidr` into
blocks of `--node-cidr-mask-size` bits (a `/16` into 256 blocks of `/24`) and gives each new Node one
block. It keeps a bitmap of the blocks in use and a *next candidate*: it tries the blocks **round robin**,
starting with the block after the one it handed out last, wrapping around at the end, and skipping the
blocks in use. So a block freed by a deleted node is handed out again only after all the others.

`allocate_node_cidr(cluster_cidr, mask_size, taken, last)` returns that block as text
(`"10.244.3.0/24"`): `taken` lists the blocks in use, `last` is the block handed out last (`None`
before the first one: start with the first block). Return `None` when every block is taken.
"""),
        solution("allocate_node_cidr", """
def allocate_node_cidr(cluster_cidr, mask_size, taken, last):
    \"\"\"The next node's podCIDR: round robin after `last`, skipping `taken`; None when all are taken.\"\"\"
    ### BEGIN SOLUTION
    blocks = [str(block) for block in ipaddress.ip_network(cluster_cidr).subnets(new_prefix=mask_size)]
    start = 0 if last is None else (blocks.index(last) + 1) % len(blocks)
    used = set(taken)
    for offset in range(len(blocks)):
        block = blocks[(start + offset) % len(blocks)]
        if block not in used:
            return block
    return None
    ### END SOLUTION
"""),
        tests("test_node_cidr", 1, """
first = allocate_node_cidr("10.244.0.0/16", 24, [], None)
check(first == "10.244.0.0/24", "the first node gets the first block", expected="10.244.0.0/24", got=first,
      see=IPAM_SECTION)
after = allocate_node_cidr("10.244.0.0/16", 24, ["10.244.0.0/24", "10.244.1.0/24"], "10.244.1.0/24")
check(after == "10.244.2.0/24", "the next block after the last one handed out", expected="10.244.2.0/24", got=after,
      see=IPAM_SECTION)
freed = allocate_node_cidr("10.244.0.0/16", 24, ["10.244.1.0/24", "10.244.2.0/24"], "10.244.2.0/24")
check(freed == "10.244.3.0/24", "round robin: 10.244.0.0/24 was freed (its node deleted), but the allocator goes on "
      "after the last block it handed out", expected="10.244.3.0/24", got=freed, see=IPAM_SECTION)
wrapped = allocate_node_cidr("192.168.0.0/22", 24, ["192.168.1.0/24", "192.168.3.0/24"], "192.168.3.0/24")
check(wrapped == "192.168.0.0/24", "after the last block, the allocator wraps around to the first",
      expected="192.168.0.0/24", got=wrapped, see=IPAM_SECTION)
full = allocate_node_cidr("192.168.0.0/23", 24, ["192.168.0.0/24", "192.168.1.0/24"], "192.168.1.0/24")
check(full is None, "every block taken: None (the node gets no podCIDR)", got=full, see=IPAM_SECTION)
### BEGIN HIDDEN TESTS
from engine.grading.integrity import ensure_installed
ensure_installed()     # the engine as installed, whatever the notebook patched
from engine.grading.networking import check_node_cidr
check_node_cidr(allocate_node_cidr, seed=101)
### END HIDDEN TESTS
"""),
        md("pod_ip_intro", """
## Part 2: an address per pod (2 points)

When containerd sets up a pod's sandbox, the CNI plugin asks **host-local** IPAM for an address of the
node's block. host-local keeps one file per address in use (`/var/lib/cni/networks/<network>/10.244.1.5`)
and remembers the last address it handed out (`last_reserved_ip.0`). Its rules for a range given by a
subnet:

- the range runs from **network+1** to **broadcast-1** (never the network address `.0` nor the broadcast
  address `.255` of a `/24`);
- the **gateway**, network+1 by default, is the bridge's (`cni0`) address: it is **never** handed out;
- it is **round robin**: it tries the addresses starting with the one after `last_reserved` (from the
  start when there is none), wrapping around at the end of the range, and skips the reserved ones.

`next_pod_ip(subnet, reserved, last_reserved)` returns the address as text (`"10.244.1.2"`), or `None`
when no address is left (host-local's `no IP addresses available in range set`).
"""),
        solution("next_pod_ip", """
def next_pod_ip(subnet, reserved, last_reserved):
    \"\"\"host-local's next address of `subnet`: round robin after `last_reserved`, never the gateway.\"\"\"
    ### BEGIN SOLUTION
    network = ipaddress.ip_network(subnet)
    first, last = network.network_address + 1, network.broadcast_address - 1
    gateway = network.network_address + 1
    size = int(last) - int(first) + 1
    start = 0
    if last_reserved is not None and first <= ipaddress.ip_address(last_reserved) <= last:
        start = int(ipaddress.ip_address(last_reserved)) - int(first) + 1
    for offset in range(size):
        candidate = first + (start + offset) % size
        if candidate != gateway and str(candidate) not in reserved:
            return str(candidate)
    return None
    ### END SOLUTION
"""),
        tests("test_pod_ip", 2, """
first = next_pod_ip("10.244.1.0/24", [], None)
check(first == "10.244.1.2", "a node's first pod gets .2: .0 is the network address and .1 the gateway, which "
      "host-local never hands out", expected="10.244.1.2", got=first, see=CNI_SECTION)
second = next_pod_ip("10.244.1.0/24", ["10.244.1.2"], "10.244.1.2")
check(second == "10.244.1.3", "the address after the last one handed out", expected="10.244.1.3", got=second,
      see=CNI_SECTION)
freed = next_pod_ip("10.244.1.0/24", ["10.244.1.3"], "10.244.1.3")
check(freed == "10.244.1.4", "round robin: .2 was freed, but host-local goes on after the last address",
      expected="10.244.1.4", got=freed, see=CNI_SECTION)
wrapped = next_pod_ip("10.244.1.0/24", ["10.244.1.2"], "10.244.1.254")
check(wrapped == "10.244.1.3", "after .254 (broadcast-1) it wraps around, skipping the gateway and .2 (reserved)",
      expected="10.244.1.3", got=wrapped, see=CNI_SECTION)
full = next_pod_ip("10.0.3.0/30", ["10.0.3.2"], "10.0.3.2")
check(full is None, "a /30 holds one pod address (.2): none left", got=full, see=CNI_SECTION)
### BEGIN HIDDEN TESTS
from engine.grading.integrity import ensure_installed
ensure_installed()     # the engine as installed, whatever the notebook patched
from engine.grading.networking import check_pod_ip
check_pod_ip(next_pod_ip, seed=102)
### END HIDDEN TESTS
"""),
        md("ipam_live_intro", """
## Part 3: your allocators in a cluster (1 point)

`ipam_cluster(allocate_node_cidr=..., next_pod_ip=...)` boots a flannel cluster whose node IPAM controller
hands out podCIDRs with your `allocate_node_cidr`, and whose nodes' host-local IPAM hands out pod
addresses with your `next_pod_ip`. Each call is also compared with the engine's answer on the same
input: `cluster.plugged.disagreements` and `cluster.plugged.errors` list what went otherwise. The hidden
test also deletes pods, so that the next ones show the round robin.
"""),
        tests("test_ipam_in_cluster", 1, """
cluster = ipam_cluster(allocate_node_cidr=allocate_node_cidr, next_pod_ip=next_pod_ip)
cluster.run(20)
cluster.apply({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
               "spec": {"replicas": 4, "selector": {"matchLabels": {"app": "web"}},
                        "template": {"metadata": {"labels": {"app": "web"}},
                                     "spec": {"containers": [{"name": "web", "image": "nginx"}]}}}})
cluster.run(15)
blocks = {node["metadata"]["name"]: node["spec"].get("podCIDR") for node in cluster.list("nodes")}
print(blocks)
print(cluster.kubectl("get pods -o wide"))
check(not cluster.plugged.errors, "your functions raised in the cluster", got=cluster.plugged.errors, see=IPAM_SECTION)
check(list(blocks.values()) == ["10.244.0.0/24", "10.244.1.0/24", "10.244.2.0/24"],
      "the three nodes get the first three blocks, in order", got=blocks, see=IPAM_SECTION)
for pod in cluster.list("pods"):
    block = ipaddress.ip_network(blocks[pod["spec"]["nodeName"]])
    address = ipaddress.ip_address(pod["status"]["podIP"])
    check(address in block and address not in (block.network_address, block.network_address + 1),
          "every pod has an address of its node's block, never the network address nor the gateway",
          got=(pod["metadata"]["name"], str(address), str(block)), see=CNI_SECTION)
check(not cluster.plugged.disagreements, "your functions chose otherwise than the engine would have",
      got=cluster.plugged.disagreements, see=CNI_SECTION)
### BEGIN HIDDEN TESTS
from engine.grading.integrity import ensure_installed
ensure_installed()     # the engine as installed, whatever the notebook patched
from engine.grading.networking import check_ipam_in_cluster
check_ipam_in_cluster(allocate_node_cidr, next_pod_ip, seed=103)
### END HIDDEN TESTS
"""),
        md("peer_intro", """
## Part 4: whom a rule names (2 points)

A NetworkPolicy rule names the other end of a connection in its `from` (ingress) or `to` (egress) list.
Each element of that list is a **peer**:

- `{"podSelector": S}`: pods matching `S` **in the policy's own namespace**;
- `{"namespaceSelector": N}`: every pod of the namespaces whose labels match `N`;
- `{"namespaceSelector": N, "podSelector": S}`, both in **one** element: pods matching `S` *in* namespaces
  matching `N`: an **AND** (two separate elements, `[{"namespaceSelector": N}, {"podSelector": S}]`, would
  be an OR);
- `{"ipBlock": {"cidr": C, "except": [E, ...]}}`: addresses inside `C` and inside none of the `except`
  ranges, pods or not.

`peer_matches(peer, policy_namespace, peer_ip, peer_pod, namespace_labels)`: the other end is `peer_ip`
and, when it is a pod, `peer_pod` (a Pod object; `None` for a node or an address outside the cluster);
`namespace_labels` maps each namespace's name to its labels. Use `selects(selector, labels)` from the
setup cell.
"""),
        solution("peer_matches", """
def peer_matches(peer, policy_namespace, peer_ip, peer_pod, namespace_labels):
    \"\"\"Does one element of a rule's from/to match the other end of the connection?\"\"\"
    ### BEGIN SOLUTION
    if "ipBlock" in peer:
        block = peer["ipBlock"]
        address = ipaddress.ip_address(peer_ip)
        if address not in ipaddress.ip_network(block["cidr"], strict=False):
            return False
        return not any(address in ipaddress.ip_network(e, strict=False) for e in block.get("except") or [])
    if peer_pod is None:
        return False
    pod_namespace = peer_pod["metadata"].get("namespace", "default")
    if "namespaceSelector" in peer:
        if not selects(peer["namespaceSelector"], namespace_labels.get(pod_namespace)):
            return False
    elif pod_namespace != policy_namespace:
        return False
    if "podSelector" in peer:
        return selects(peer["podSelector"], peer_pod["metadata"].get("labels"))
    return True
    ### END SOLUTION
"""),
        tests("test_peer_matches", 2, """
LABELS = {"prod": {"team": "shop", "env": "prod"}, "dev": {"team": "shop", "env": "dev"}, "other": {"team": "data"}}
web_in_other = make_pod("web", "other", {"app": "web"}, "10.244.2.7")
web_in_dev = make_pod("web", "dev", {"app": "web"}, "10.244.1.4")
both = {"namespaceSelector": {"matchLabels": {"team": "shop"}}, "podSelector": {"matchLabels": {"app": "web"}}}
check(peer_matches(both, "prod", "10.244.1.4", web_in_dev, LABELS) is True,
      "app=web in dev, a team=shop namespace: both selectors match", see=POLICY_SECTION)
check(peer_matches(both, "prod", "10.244.2.7", web_in_other, LABELS) is False,
      "namespaceSelector and podSelector in one element are an AND: app=web in namespace other (team=data) "
      "does not match", see=POLICY_SECTION)
check(peer_matches({"podSelector": {"matchLabels": {"app": "web"}}}, "prod", "10.244.1.4", web_in_dev, LABELS) is False,
      "podSelector alone: pods of the policy's own namespace only", see=POLICY_SECTION)
check(peer_matches({"namespaceSelector": {}}, "prod", "10.244.2.7", web_in_other, LABELS) is True,
      "an empty namespaceSelector: every pod of every namespace", see=POLICY_SECTION)
block = {"ipBlock": {"cidr": "10.244.0.0/16", "except": ["10.244.2.0/24"]}}
check([peer_matches(block, "prod", ip, None, LABELS) for ip in ("10.244.1.4", "10.244.2.7", "172.18.0.3")]
      == [True, False, False], "ipBlock: inside cidr and outside every except range", see=POLICY_SECTION)
### BEGIN HIDDEN TESTS
from engine.grading.integrity import ensure_installed
ensure_installed()     # the engine as installed, whatever the notebook patched
from engine.grading.networking_policy import check_peer_matches
check_peer_matches(peer_matches, seed=104)
### END HIDDEN TESTS
"""),
        md("allowed_intro", """
## Part 5: the decision (2 points)

`connection_allowed(policies, namespace_labels, direction, pod, peer_ip, peer_pod, port, protocol)`:
may a connection go into (`direction == "Ingress"`) or out of (`"Egress"`) `pod`, with `peer_ip` /
`peer_pod` at the other end and `port` / `protocol` the destination's? `policies` are all the
NetworkPolicies of the cluster. The rules:

1. A policy **selects** a pod for a direction when it is in the pod's namespace, its `podSelector`
   matches the pod's labels (`{}` matches every pod), and the direction is in its `policyTypes`. When a
   policy does not say, `policyTypes` is `["Ingress"]`, plus `"Egress"` when the policy has an `egress`
   section.
2. A pod no policy selects for a direction is **not isolated**: everything is allowed that way.
3. An isolated pod allows a connection when **some rule** of **some** selecting policy allows it
   (policies and rules only ever add; there are no deny rules). The rules are `spec.ingress` (peers in
   `from`) or `spec.egress` (peers in `to`); a missing or empty list of rules allows nothing.
4. A rule allows when one of its peers matches the other end **and** one of its `ports` matches; a
   missing or empty `from`/`to` matches every peer, a missing or empty `ports` every port.
5. A port entry has a `protocol` (`"TCP"` when missing) and an optional `port`: a number (with an
   optional `endPort`: the range `port..endPort`), or the **name** of a container port (`"http"`) of the
   pod that *receives* the connection (`pod` for Ingress, `peer_pod` for Egress), looked up in its
   containers' `ports` (`name`, `containerPort`, `protocol`). No `port`: every port of that protocol.
"""),
        solution("connection_allowed", """
def named_port(pod, name, protocol):
    \"\"\"The number of a pod's container port by name, or None.\"\"\"
    for container in ((pod or {}).get("spec") or {}).get("containers") or []:
        for entry in container.get("ports") or []:
            if entry.get("name") == name and entry.get("protocol", "TCP") == protocol:
                return entry["containerPort"]
    return None


def connection_allowed(policies, namespace_labels, direction, pod, peer_ip, peer_pod, port, protocol="TCP"):
    \"\"\"May this connection go into (Ingress) or out of (Egress) `pod`?\"\"\"
    ### BEGIN SOLUTION
    namespace = pod["metadata"].get("namespace", "default")
    section, peers_key = ("ingress", "from") if direction == "Ingress" else ("egress", "to")
    receiver = pod if direction == "Ingress" else peer_pod

    def port_matches(ports):
        if not ports:
            return True
        for entry in ports:
            if entry.get("protocol", "TCP") != protocol:
                continue
            wanted = entry.get("port")
            if wanted is None:
                return True
            if isinstance(wanted, str):
                if named_port(receiver, wanted, protocol) == port:
                    return True
            elif wanted <= port <= entry.get("endPort", wanted):
                return True
        return False

    isolated = False
    for policy in policies:
        spec = policy.get("spec") or {}
        if policy["metadata"].get("namespace", "default") != namespace:
            continue
        types = spec.get("policyTypes") or (["Ingress", "Egress"] if "egress" in spec else ["Ingress"])
        if direction not in types or not selects(spec.get("podSelector"), pod["metadata"].get("labels")):
            continue
        isolated = True
        for rule in spec.get(section) or []:
            peers = rule.get(peers_key)
            if peers and not any(peer_matches(p, namespace, peer_ip, peer_pod, namespace_labels) for p in peers):
                continue
            if port_matches(rule.get("ports")):
                return True
    return not isolated
    ### END SOLUTION
"""),
        tests("test_connection_allowed", 2, """
LABELS = {"default": {}, "prod": {"team": "shop", "env": "prod"}}
db = make_pod("db", "prod", {"app": "db"}, "10.244.1.5")
web = make_pod("web", "prod", {"app": "web"}, "10.244.2.6")
client = make_pod("client", "default", {"app": "client"}, "10.244.2.9")
deny = {"metadata": {"name": "deny", "namespace": "prod"}, "spec": {"podSelector": {}}}
db_from_web = {"metadata": {"name": "db-from-web", "namespace": "prod"}, "spec": {
    "podSelector": {"matchLabels": {"app": "db"}},
    "ingress": [{"from": [{"podSelector": {"matchLabels": {"app": "web"}}}], "ports": [{"port": "http"}]}]}}
policies = [deny, db_from_web]
check(connection_allowed([], LABELS, "Ingress", db, "10.244.2.9", client, 80) is True,
      "no policy at all: every pod is open", see=POLICY_SECTION)
check(connection_allowed(policies, LABELS, "Ingress", client, "10.244.1.5", db, 80) is True,
      "client is in default, where no policy selects it: it is not isolated, so everything may reach it",
      see=POLICY_SECTION)
check(connection_allowed(policies, LABELS, "Egress", db, "10.244.2.9", client, 80) is True,
      "the policies of prod have no egress section and no policyTypes: they isolate for Ingress only",
      see=POLICY_SECTION)
check(connection_allowed(policies, LABELS, "Ingress", web, "10.244.1.5", db, 80) is False,
      "default deny: web is selected by 'deny', which has no ingress rules", see=POLICY_SECTION)
check(connection_allowed(policies, LABELS, "Ingress", db, "10.244.2.6", web, 80) is True,
      "db-from-web allows web into db on its port named http (80)", see=POLICY_SECTION)
check(connection_allowed(policies, LABELS, "Ingress", db, "10.244.2.6", web, 9090) is False,
      "port 9090 is not db's port named http", see=POLICY_SECTION)
egress = {"metadata": {"name": "only-dns", "namespace": "default"}, "spec": {
    "podSelector": {}, "policyTypes": ["Egress"], "egress": [{"ports": [{"protocol": "UDP", "port": 53}]}]}}
check(connection_allowed([egress], LABELS, "Egress", client, "10.96.0.10", None, 53, "UDP") is True,
      "egress to UDP/53 is allowed by only-dns", see=POLICY_SECTION)
check(connection_allowed([egress], LABELS, "Egress", client, "10.244.1.5", db, 80) is False,
      "egress: client is isolated for Egress, and only UDP/53 may leave", see=POLICY_SECTION)
### BEGIN HIDDEN TESTS
from engine.grading.integrity import ensure_installed
ensure_installed()     # the engine as installed, whatever the notebook patched
from engine.grading.networking_policy import check_connection_allowed
check_connection_allowed(connection_allowed, seed=105)
### END HIDDEN TESTS
"""),
        md("traffic_intro", """
## Part 6: real traffic through your decision (2 points)

`policy_cluster(connection_allowed)` boots a calico cluster and makes every node's Felix decide with
**your** `connection_allowed`: the first packet of each connection into or out of a pod's `cali*`
interface is passed or dropped by your answer (the packets of an established connection pass, as with
conntrack). A dropped packet gets no answer: curl times out. Below, the chapter's policies; the hidden test
creates pods in several namespaces on both nodes, policies with every kind of peer and port, and sends
requests from every pod to every other one, checking each request's fate against the engine's decision.
"""),
        tests("test_policy_traffic", 2, """
cluster = policy_cluster(connection_allowed)
cluster.apply({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web", "labels": {"app": "web"}},
               "spec": {"nodeName": "node-2", "containers": [{"name": "main", "image": "nginx"}]}})
cluster.apply({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "client"},
               "spec": {"nodeName": "node-1", "containers": [{"name": "main", "image": "busybox",
                                                               "command": ["sleep", "3600"]}]}})
cluster.run(10)
url = "http://" + cluster.get("pod", "web")["status"]["podIP"] + "/"
check(cluster.curl("client", url, connect_timeout=5).status == 200, "no policy yet: web answers", see=POLICY_SECTION)
cluster.apply({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": "default-deny"},
               "spec": {"podSelector": {}, "policyTypes": ["Ingress"]}})
cluster.apply({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": "access-web"},
               "spec": {"podSelector": {"matchLabels": {"app": "web"}},
                        "ingress": [{"from": [{"podSelector": {"matchLabels": {"access": "true"}}}]}]}})
cluster.run(2)
denied = cluster.curl("client", url, connect_timeout=5)
print("client, unlabelled:", denied.error)
check(denied.exit_code == 28, "default deny: the packet is dropped, curl times out", got=denied.error, see=POLICY_SECTION)
cluster.kubectl("label pod client access=true")
cluster.run(2)
allowed = cluster.curl("client", url, connect_timeout=5)
print("client, access=true:", allowed.status, allowed.error)
check(allowed.status == 200, "access-web allows pods labelled access=true into web", got=allowed.error or allowed.status,
      see=POLICY_SECTION)
check(not cluster.plugged.errors, "Felix called your connection_allowed and it raised", got=cluster.plugged.errors,
      see=POLICY_SECTION)
### BEGIN HIDDEN TESTS
from engine.grading.integrity import ensure_installed
ensure_installed()     # the engine as installed, whatever the notebook patched
from engine.grading.networking_policy import check_traffic
check_traffic(connection_allowed, seed=106)
### END HIDDEN TESTS
"""),
        md("outro", """
## What you built

`allocate_node_cidr` is the range allocator's `CidrSet.AllocateNext` (`pkg/controller/nodeipam/ipam/cidrset`);
`next_pod_ip` is host-local's `IPAllocator.Get` (`plugins/ipam/host-local/backend/allocator` in
containernetworking/plugins); `peer_matches` and `connection_allowed` are what every policy engine
implements from the NetworkPolicy API (calico's Felix compiles them into iptables chains, Cilium into
eBPF maps). Real clusters add dual-stack blocks, several ranges per node, `namespaceSelector` matching by
`kubernetes.io/metadata.name`, and calico's own (ordered, deny-capable) policies beside the Kubernetes ones.
"""),
    ]


FULL = {"test_node_cidr": 1, "test_pod_ip": 2, "test_ipam_in_cluster": 1, "test_peer_matches": 2,
        "test_connection_allowed": 2, "test_policy_traffic": 2}
"""Points per graded cell: what the solution scores."""

BROKEN: tuple[str, ...] = ()
"""Which kinds of broken submission the round trip hands in for this lab (tests/grading/test_round_trip.py)."""

SECRETS = ("check_node_cidr", "check_pod_ip", "check_ipam_in_cluster", "check_peer_matches",
           "check_connection_allowed", "check_traffic")
"""Names of hidden-test helpers that must never appear in a released lab or in feedback."""

_EDITS = {
    "wrong_and_as_or": ("peer_matches", '    if "namespaceSelector" in peer:\n',
                        '    if "namespaceSelector" in peer and "podSelector" in peer:\n'
                        '        return selects(peer["namespaceSelector"], namespace_labels.get(pod_namespace)) or \\\n'
                        '            selects(peer["podSelector"], peer_pod["metadata"].get("labels"))\n'
                        '    if "namespaceSelector" in peer:\n',
                        {"test_peer_matches", "test_connection_allowed", "test_policy_traffic"},
                        "in one element are an AND"),
    "wrong_unselected_closed": ("connection_allowed", "    return not isolated\n", "    return False\n",
                                {"test_connection_allowed", "test_policy_traffic"}, "every pod is open"),
    "wrong_hands_out_gateway": ("next_pod_ip", "        if candidate != gateway and str(candidate) not in reserved:",
                                "        if str(candidate) not in reserved:",
                                {"test_pod_ip", "test_ipam_in_cluster"}, "host-local never hands out"),
}


def wrong_answers() -> dict[str, tuple[str, str, set[str], str]]:
    """Typical mistakes, each a small change of the solution (so they follow its text): student -> (answer cell
    id, its wrong source, graded cells that fail, words in feedback)."""
    sources = {grade_id: text for kind, grade_id, text, _ in cells() if kind == "solution"}
    wrong = {}
    for student, (cell_id, old, new, failing, words) in _EDITS.items():
        source = sources[cell_id].strip("\n")
        assert old in source, f"{student}: the solution of {cell_id} changed; update lab10_networking._EDITS"
        wrong[student] = (cell_id, source.replace(old, new, 1), failing, words)
    return wrong
