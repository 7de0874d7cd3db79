"""Lab 10's IPAM plugs and checks: a learner's pod CIDR and pod IP choices run by the engine's IPAM.

The pieces:

- ``allocate_node_cidr(cluster_cidr, mask_size, taken, last) -> cidr | None``: the block the node IPAM
  controller's range allocator (``CIDRSet.allocate_next``) gives the next Node: the blocks of
  ``/mask_size`` in ``cluster_cidr`` are tried round robin, starting after ``last`` (the block handed out
  last; the first block when None) and wrapping around; a block in ``taken`` is skipped; None when every
  block is taken. Plugged in as kube-controller-manager's ``options["allocate_node_cidr"]``;
- ``next_pod_ip(subnet, reserved, last_reserved) -> address | None``: host-local IPAM's choice
  (``engine.network.cni_plugins.host_local``) for a range given by its subnet: the addresses from
  network+1 to broadcast-1, the gateway network+1 never handed out, round robin from the address after
  ``last_reserved``, the ``reserved`` ones skipped; None when none is left. Plugged in as every node's
  ``CNIExecutor.choose_address``.

``ipam_cluster(**pieces)`` boots a flannel cluster whose controller manager and CNI use the pieces,
each call compared with the engine's answer on the same inputs (``Plugged``). ``check_*`` raise a
``GradingFailure`` that names the mistake, and give no marks to an answer that hands its work to the
engine's own code. Nothing here prints or writes to stderr.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import random
from typing import Any, Callable

from engine.controllers.nodeipam import CIDRSet, CIDRSetExhausted
from engine.grading.delegation import OwnWork
from engine.grading.feedback import compare, fail
from engine.grading.kubelet import Plugged
from engine.network.cni import CNIError, Invocation
from engine.network.cni_plugins import host_local

SEE_IPAM = 'course/10_networking.ipynb, section "1. Every node a range, every pod an address"'
SEE_CNI = 'course/10_networking.ipynb, section "2. CNI: what containerd calls"'


# -- the node's pod CIDR ---------------------------------------------------------------------------
def reference_node_cidr(cluster_cidr: str, mask_size: int, taken: list[str], last: str | None) -> str | None:
    """The engine's range allocator in the state ``taken`` / ``last`` describe: its next block, or None."""
    cidrs = CIDRSet(cluster_cidr, mask_size)
    for cidr in taken:
        cidrs.occupy(cidr)
    if last is not None:
        size = 1 << (cidrs.cluster.max_prefixlen - mask_size)
        index = (int(ipaddress.ip_network(last).network_address) - int(cidrs.cluster.network_address)) // size
        cidrs.next_candidate = (index + 1) % cidrs.max_cidrs
    try:
        return cidrs.allocate_next()
    except CIDRSetExhausted:
        return None


CLUSTER_CIDRS = (("10.244.0.0/16", 24), ("10.244.0.0/20", 24), ("192.168.0.0/22", 24), ("10.32.0.0/12", 16),
                 ("172.16.0.0/24", 26), ("10.244.0.0/18", 22))


def _blocks(cluster_cidr: str, mask_size: int) -> list[str]:
    return [str(net) for net in ipaddress.ip_network(cluster_cidr).subnets(new_prefix=mask_size)]


def node_cidr_cases(seed: int, n: int = 80) -> list[tuple[str, int, list[str], str | None]]:
    rng = random.Random(seed)
    cases: list[tuple[str, int, list[str], str | None]] = [("10.244.0.0/16", 24, [], None),
                                                           ("10.244.0.0/16", 24, ["10.244.0.0/24"], "10.244.0.0/24"),
                                                           ("10.244.0.0/16", 24, ["10.244.0.0/24", "10.244.2.0/24"],
                                                            "10.244.2.0/24"),
                                                           ("192.168.0.0/22", 24, _blocks("192.168.0.0/22", 24),
                                                            "192.168.1.0/24")]
    while len(cases) < n:
        cluster, mask = rng.choice(CLUSTER_CIDRS)
        blocks = _blocks(cluster, mask)
        count = rng.choice((0, 1, 2, 3, len(blocks) // 2, len(blocks) - 1, len(blocks)))
        taken = sorted(rng.sample(range(len(blocks)), min(count, len(blocks))))
        last: str | None = None
        if rng.random() < 0.8:
            last = blocks[rng.choice(taken + [len(blocks) - 1, len(blocks) - 1] if taken else [0, len(blocks) - 1])]
        cases.append((cluster, mask, [blocks[i] for i in taken], last))
    return cases


def _diagnose_cidr(case: tuple, expected: Any, got: Any) -> str | None:
    cluster, mask, taken, last = case
    have = got.value
    if expected.value is None:
        return "every block is taken: answer None (the controller records CIDRNotAvailable)"
    if have is None:
        return "a block is still free: answer it"
    try:
        network = ipaddress.ip_network(str(have))
    except ValueError:
        return "answer a block as text, like '10.244.3.0/24'"
    if network.prefixlen != mask or not network.subnet_of(ipaddress.ip_network(cluster)):   # type: ignore[arg-type]
        return f"a node's block is a /{mask} inside {cluster}"
    if str(network) in taken:
        return "that block is taken already: skip the blocks in `taken`"
    first_free = next((b for b in _blocks(cluster, mask) if b not in taken), None)
    if str(network) == first_free and last is not None:
        return "the allocator is round robin: it starts after `last`, the block it handed out last (wrapping " \
               "around at the end), so a block freed by a deleted node is reused only after the others"
    return "try the blocks in order starting with the one after `last`, wrapping around at the end"


def check_node_cidr(allocate_node_cidr: Callable, seed: int) -> None:
    own = OwnWork("allocate_node_cidr", [CIDRSet, reference_node_cidr], see=SEE_IPAM)
    compare(own.wrap(allocate_node_cidr), reference_node_cidr, node_cidr_cases(seed),
            describe=_describe_cidr, what="allocate_node_cidr", diagnose=_diagnose_cidr, see=SEE_IPAM,
            normalize=lambda value: None if value is None else str(ipaddress.ip_network(str(value))))
    own.check(allocate_node_cidr)


def _describe_cidr(cluster: str, mask: int, taken: list[str], last: str | None) -> str:
    shown = taken if len(taken) <= 6 else taken[:3] + ["..."] + taken[-2:] + [f"({len(taken)} blocks)"]
    return f"cluster {cluster}, /{mask} per node, taken {shown}, last {last!r}"


# -- the pod's address -------------------------------------------------------------------------------
def reference_pod_ip(subnet: str, reserved: list[str], last_reserved: str | None) -> str | None:
    """host-local on a node whose files say ``reserved`` and ``last_reserved``: the address it gives, or None."""
    directory = "/var/lib/cni/networks/grader"
    fs = {f"{directory}/{address}": "reserved\r\neth0" for address in reserved}
    if last_reserved is not None:
        fs[f"{directory}/last_reserved_ip.0"] = last_reserved
    invocation = Invocation("ADD", "grader", "", "eth0", {}, None, fs, "grader")      # type: ignore[arg-type]
    try:
        result = host_local({"name": "grader", "ipam": {"type": "host-local", "ranges": [[{"subnet": subnet}]]}},
                            invocation)
    except CNIError:
        return None
    return result["ips"][0]["address"].split("/")[0]


SUBNETS = ("10.244.1.0/24", "10.244.2.0/24", "10.85.0.0/28", "192.168.7.0/29", "10.0.3.0/30", "10.244.64.0/26")


def pod_ip_cases(seed: int, n: int = 120) -> list[tuple[str, list[str], str | None]]:
    rng = random.Random(seed)
    cases: list[tuple[str, list[str], str | None]] = [("10.244.1.0/24", [], None),
                                                      ("10.244.1.0/24", ["10.244.1.2"], "10.244.1.2"),
                                                      ("10.244.1.0/24", ["10.244.1.2", "10.244.1.3"], "10.244.1.254"),
                                                      ("10.244.1.0/24", ["10.244.1.3"], "10.244.1.3")]
    while len(cases) < n:
        network = ipaddress.ip_network(rng.choice(SUBNETS))
        usable = [str(a) for a in network.hosts()][1:]          # the gateway, network+1, is never reserved
        count = rng.choice((0, 1, 2, 3, 5, len(usable) // 2, len(usable) - 1, len(usable)))
        reserved = sorted(rng.sample(usable, min(count, len(usable))), key=lambda a: int(ipaddress.ip_address(a)))
        last = None
        if rng.random() < 0.8 and usable:
            last = rng.choice([*reserved, usable[-1]] if reserved else [usable[0], usable[-1]])
        cases.append((str(network), reserved, last))
    return cases


def _diagnose_pod_ip(case: tuple, expected: Any, got: Any) -> str | None:
    subnet, reserved, last = case
    network = ipaddress.ip_network(subnet)
    have = got.value
    if expected.value is None:
        return "every address is reserved: answer None (host-local fails: no IP addresses available in range set)"
    if have is None:
        return "an address is still free: answer it"
    try:
        address = ipaddress.ip_address(str(have))
    except ValueError:
        return "answer an address as text, like '10.244.1.5'"
    if address == network.network_address:
        return "never the network address (.0 of a /24): the range starts at network+1"
    if address == network.network_address + 1:
        return "network+1 is the gateway (the cni0 bridge's address): host-local never hands it out"
    if address == network.broadcast_address:
        return "never the broadcast address: the range ends at broadcast-1"
    if str(address) in reserved:
        return "that address is reserved already"
    first_free = next((str(a) for a in network.hosts() if str(a) not in reserved
                       and a != network.network_address + 1), None)
    if str(address) == first_free and last is not None:
        return "host-local is round robin: it starts at the address after `last_reserved` (wrapping around), " \
               "so an address is reused as late as possible"
    return "start after last_reserved, skip the gateway and the reserved addresses, wrap around at broadcast-1"


def check_pod_ip(next_pod_ip: Callable, seed: int) -> None:
    own = OwnWork("next_pod_ip", [host_local, reference_pod_ip], see=SEE_CNI)
    compare(own.wrap(next_pod_ip), reference_pod_ip, pod_ip_cases(seed), what="next_pod_ip",
            describe=lambda subnet, reserved, last: f"subnet {subnet}, reserved {_short(reserved)}, "
                                                    f"last_reserved {last!r}",
            normalize=lambda value: None if value is None else str(ipaddress.ip_address(str(value))),
            diagnose=_diagnose_pod_ip, see=SEE_CNI)
    own.check(next_pod_ip)


def _short(addresses: list[str]) -> list[str] | str:
    return addresses if len(addresses) <= 6 else f"{addresses[:3]} ... ({len(addresses)} addresses)"


# -- the pieces in a cluster ---------------------------------------------------------------------------
def _parts(controller_options: dict[str, Any]) -> list[Any]:
    from engine.components import COMPONENTS
    from engine.kubelet import KUBELET
    from engine.scheduler import SCHEDULER
    manager = dataclasses.replace(COMPONENTS[0], options={**COMPONENTS[0].options, **controller_options})
    return [manager, SCHEDULER, KUBELET]


def ipam_cluster(*, allocate_node_cidr: Callable | None = None, next_pod_ip: Callable | None = None,
                 nodes: int = 2, seed: int = 0, network: str = "flannel", plugged: Plugged | None = None) -> Any:
    """A cluster whose node IPAM controller and CNI choose with the learner's pieces (booted, not yet run)."""
    from engine.grading.integrity import fresh_cluster
    plugged = plugged if plugged is not None else Plugged()
    options: dict[str, Any] = {}
    if allocate_node_cidr is not None:
        options["allocate_node_cidr"] = plugged.guard("allocate_node_cidr", allocate_node_cidr, reference_node_cidr,
                                                      _describe_cidr)
    cluster = fresh_cluster(nodes=nodes, seed=seed, network=network, components=_parts(options))
    if next_pod_ip is not None:
        chooser = plugged.guard("next_pod_ip", next_pod_ip, reference_pod_ip,
                                lambda subnet, reserved, last: f"{subnet!r}, {_short(reserved)}, {last!r}")
        for runtime in cluster.runtimes.values():
            runtime.cni.choose_address = chooser
    cluster.plugged = plugged
    return cluster


def _web(replicas: int) -> dict:
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": "web"}},
                     "template": {"metadata": {"labels": {"app": "web"}},
                                  "spec": {"containers": [{"name": "web", "image": "nginx"}]}}}}


def check_ipam_in_cluster(allocate_node_cidr: Callable, next_pod_ip: Callable, seed: int) -> None:
    """Nodes get blocks and pods addresses from the learner's pieces; pods come and go; every call compared."""
    OwnWork("allocate_node_cidr", [CIDRSet, reference_node_cidr], see=SEE_IPAM).check(allocate_node_cidr)
    OwnWork("next_pod_ip", [host_local, reference_pod_ip], see=SEE_CNI).check(next_pod_ip)
    plugged = Plugged()
    cluster = ipam_cluster(allocate_node_cidr=allocate_node_cidr, next_pod_ip=next_pod_ip, seed=seed,
                           plugged=plugged)
    cluster.run(20)
    rng = random.Random(seed)
    cluster.apply(_web(6))
    cluster.run(15)
    for _ in range(2):           # replaced pods: round robin hands out new addresses, not the freed ones
        pods = sorted(p["metadata"]["name"] for p in cluster.list("pods", namespace="default"))
        for name in rng.sample(pods, 2):
            cluster.delete("pod", name, namespace="default")
        cluster.run(15)
    if plugged.errors:
        fail("the cluster called your functions and they raised:\n" + "\n".join(plugged.errors), see=SEE_IPAM)
    if plugged.disagreements:
        fail("in the cluster, your functions chose otherwise than the engine's IPAM would have:\n"
             + "\n".join(plugged.disagreements), see=SEE_CNI)
    _check_addresses(cluster)


def _check_addresses(cluster: Any) -> None:
    blocks = {n["metadata"]["name"]: (n.get("spec") or {}).get("podCIDR") for n in cluster.list("nodes")}
    if not all(blocks.values()):
        fail(f"some nodes got no podCIDR: {blocks}", see=SEE_IPAM)
    seen: dict[str, str] = {}
    for pod in cluster.list("pods", namespace="default"):
        name, status = pod["metadata"]["name"], pod.get("status") or {}
        ip, node = status.get("podIP"), (pod.get("spec") or {}).get("nodeName")
        if status.get("phase") != "Running" or not ip:
            fail(f"pod {name} on {node} is {status.get('phase')} without an address", see=SEE_CNI)
        block = ipaddress.ip_network(blocks[node])
        if ipaddress.ip_address(ip) not in block or ipaddress.ip_address(ip) in (block.network_address,
                                                                                   block.network_address + 1):
            fail(f"pod {name} on {node} got {ip}, not a pod address of its node's {block}", see=SEE_CNI)
        if ip in seen:
            fail(f"pods {seen[ip]} and {name} both got {ip}", see=SEE_CNI)
        seen[ip] = name


__all__ = ["check_ipam_in_cluster", "check_node_cidr", "check_pod_ip", "ipam_cluster", "node_cidr_cases",
           "pod_ip_cases", "reference_node_cidr", "reference_pod_ip"]
