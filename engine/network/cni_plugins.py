"""The CNI plugins in ``/opt/cni/bin``: ``host-local``, ``bridge``, ``flannel``, ``calico``, ``portmap``.

Each plugin is a function ``(conf, invocation) -> result`` for ADD (the CNI
result: ``ips``, ``interfaces``, ``routes``) and cleans up for DEL, reading
and writing the node's files exactly where the real binaries do:

``host-local``  IPAM: the next free address of ``ranges`` after the last one
    handed out (``/var/lib/cni/networks/<network>/last_reserved_ip.0``), one
    file per address holding the container id; the gateway (``.1``) is never
    given to a pod. Exhausted: ``no IP addresses available in range set``.
    A lab's seam: ``CNIExecutor.choose_address(subnet, reserved, last_reserved)``
    picks the address of a range given by its subnet alone.
``bridge``      the Linux bridge ``cni0`` holding the gateway address, a veth
    pair per pod (``veth`` + 8 hex on the node, ``eth0`` in the pod), the
    pod's default route via the bridge.
``flannel``     reads ``/run/flannel/subnet.env`` (written by flanneld) and
    *delegates* to ``bridge`` + ``host-local`` with the node's subnet,
    saving the delegate's config in ``/var/lib/cni/flannel/<id>`` for DEL.
``calico``      a veth pair named ``cali`` + the first 11 hex digits of
    sha1(``namespace.pod``), no bridge: the pod's ``eth0`` holds a /32, its
    default route goes via the link-local ``169.254.1.1`` that the node
    answers by proxy ARP, and the node routes the pod's /32 to the
    ``cali*`` device.
``portmap``     hostPort DNAT from the runtime's port mappings (``engine.network.portmap``).
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
from typing import Any, Callable

from engine.network.cni import CNIError, Invocation
from engine.network.host import PodNetns, mac_for
from engine.network.portmap import portmap
from engine.network.routing import Interface, Route

NETWORKS_DIR = "/var/lib/cni/networks"
FLANNEL_SUBNET_ENV = "/run/flannel/subnet.env"
FLANNEL_DELEGATE_DIR = "/var/lib/cni/flannel"
CALICO_GATEWAY = "169.254.1.1"
CALICO_HOST_MAC = "ee:ee:ee:ee:ee:ee"


# -- host-local ----------------------------------------------------------------------
def host_local(conf: dict, inv: Invocation) -> dict:
    ipam = conf.get("ipam") or conf
    directory = f"{ipam.get('dataDir', NETWORKS_DIR)}/{conf.get('name', '')}"
    if inv.command == "DEL":
        for path in [p for p, v in inv.fs.items() if p.startswith(directory + "/") and
                     v.split("\r\n")[0] == inv.container_id]:
            del inv.fs[path]
        return {}
    ranges = [r for group in ipam.get("ranges") or [[{"subnet": ipam.get("subnet", "")}]] for r in group]
    ips, routes = [], [{"dst": route["dst"]} for route in ipam.get("routes") or ()]
    for index, spec in enumerate(ranges):
        network = ipaddress.IPv4Network(spec["subnet"], strict=False)
        first = ipaddress.IPv4Address(spec.get("rangeStart", network.network_address + 1))
        last = ipaddress.IPv4Address(spec.get("rangeEnd", network.broadcast_address - 1))
        gateway = ipaddress.IPv4Address(spec.get("gateway", network.network_address + 1))
        if inv.choose_address is not None and set(spec) == {"subnet"}:
            address = _chosen(inv, directory, index, network)
        else:
            address = _next_free(inv, directory, index, first, last, gateway)
        if address is None:
            raise CNIError(f"failed to allocate for range {index}: no IP addresses available in range set: "
                           f"{first}-{last}")
        inv.fs[f"{directory}/{address}"] = f"{inv.container_id}\r\n{inv.ifname}"
        inv.fs[f"{directory}/last_reserved_ip.{index}"] = str(address)
        ips.append({"address": f"{address}/{network.prefixlen}", "gateway": str(gateway)})
    return {"cniVersion": conf.get("cniVersion"), "ips": ips, "routes": routes}


def _next_free(inv: Invocation, directory: str, index: int, first: ipaddress.IPv4Address,
               last: ipaddress.IPv4Address, gateway: ipaddress.IPv4Address) -> ipaddress.IPv4Address | None:
    size = int(last) - int(first) + 1
    previous = inv.fs.get(f"{directory}/last_reserved_ip.{index}")
    start = (int(ipaddress.IPv4Address(previous)) - int(first) + 1) % size if previous else 0
    for offset in range(size):
        candidate = first + (start + offset) % size
        if candidate != gateway and f"{directory}/{candidate}" not in inv.fs:
            return candidate
    return None


def _chosen(inv: Invocation, directory: str, index: int,
            network: ipaddress.IPv4Network) -> ipaddress.IPv4Address | None:
    """The address ``inv.choose_address(subnet, reserved, last_reserved)`` picks (a lab's seam), if it is free."""
    reserved = sorted((path.rsplit("/", 1)[1] for path in inv.fs
                       if path.startswith(directory + "/") and path.rsplit("/", 1)[1][:1].isdigit()),
                      key=lambda text: int(ipaddress.IPv4Address(text)))
    chosen = inv.choose_address(str(network), reserved, inv.fs.get(f"{directory}/last_reserved_ip.{index}"))
    if chosen is None:
        return None
    address = ipaddress.IPv4Address(str(chosen))
    if address not in network or str(address) in reserved:
        raise CNIError(f"failed to allocate for range {index}: {address} is not a free address of {network}")
    return address


def _ipam(conf: dict, inv: Invocation) -> dict:
    kind = (conf.get("ipam") or {}).get("type", "")
    plugin = PLUGINS.get(kind)
    if plugin is None:
        raise CNIError(f'failed to find plugin "{kind}" in path [/opt/cni/bin]')
    return plugin(conf, inv)


def _pod_netns(inv: Invocation, ip: str, prefix: int, host_iface: str) -> PodNetns:
    netns = PodNetns(inv.pod, inv.container_id, ip, inv.host, host_iface, mac=mac_for(inv.container_id, "eth0"))
    netns.interfaces["lo"] = Interface("lo", "loopback", ["127.0.0.1/8"], mtu=65536)
    netns.interfaces["eth0"] = Interface("eth0", "veth", [f"{ip}/{prefix}"], mac=netns.mac,
                                         peer=f"{inv.host.name}:{host_iface}")
    return netns


def _forget_pod(inv: Invocation) -> None:
    for ip, netns in list(inv.host.pods.items()):
        if netns.sandbox_id == inv.container_id:
            del inv.host.pods[ip]
            inv.host.remove_interface(netns.host_iface)


# -- bridge ----------------------------------------------------------------------------
def bridge(conf: dict, inv: Invocation) -> dict:
    if inv.command == "DEL":
        _ipam(conf, inv)
        _forget_pod(inv)
        return {}
    result = _ipam(conf, inv)
    allocation = result["ips"][0]
    interface = ipaddress.IPv4Interface(allocation["address"])
    gateway = allocation.get("gateway") or str(interface.network.network_address + 1)
    name, mtu, host = conf.get("bridge", "cni0"), int(conf.get("mtu", 1500)), inv.host
    if name not in host.interfaces:
        host.add_interface(Interface(name, "bridge", mac=mac_for(host.name, name), mtu=mtu))
    device = host.interfaces[name]
    if conf.get("isGateway") and f"{gateway}/{interface.network.prefixlen}" not in device.addresses:
        device.addresses.append(f"{gateway}/{interface.network.prefixlen}")
        host.routes.add(Route(str(interface.network), name, scope="link", src=gateway))
    veth = "veth" + hashlib.sha256(inv.container_id.encode()).hexdigest()[:8]
    host.add_interface(Interface(veth, "veth", mac=mac_for(host.name, veth), master=name, mtu=mtu,
                                 peer=f"{inv.pod}:eth0"))
    netns = _pod_netns(inv, str(interface.ip), interface.network.prefixlen, veth)
    netns.interfaces["eth0"].mtu = mtu
    netns.routes.add(Route(str(interface.network), "eth0", scope="link", src=str(interface.ip)))
    if conf.get("isDefaultGateway"):
        netns.routes.add(Route("default", "eth0", via=gateway, proto="boot"))
    for route in result.get("routes") or ():
        netns.routes.add(Route(route["dst"], "eth0", via=route.get("gw", gateway), proto="boot"))
    host.pods[netns.ip] = netns
    return {"cniVersion": conf.get("cniVersion"), "ips": result["ips"], "routes": result.get("routes", []),
            "interfaces": [{"name": name, "mac": device.mac}, {"name": veth, "mac": host.interfaces[veth].mac},
                           {"name": "eth0", "mac": netns.mac, "sandbox": inv.netns}],
            "dns": {}}


# -- flannel ---------------------------------------------------------------------------
def read_subnet_env(text: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in text.splitlines() if "=" in line)


def flannel(conf: dict, inv: Invocation) -> dict:
    saved = f"{FLANNEL_DELEGATE_DIR}/{inv.container_id}"
    if inv.command == "DEL":
        delegate = inv.fs.pop(saved, None)
        if delegate is not None:
            config = json.loads(delegate)
            PLUGINS[config["type"]](config, inv)
        return {}
    text = inv.fs.get(conf.get("subnetFile", FLANNEL_SUBNET_ENV))
    if text is None:
        raise CNIError(f"loadFlannelSubnetEnv failed: open {FLANNEL_SUBNET_ENV}: no such file or directory")
    env = read_subnet_env(text)
    delegate: dict[str, Any] = {"name": conf.get("name"), "cniVersion": conf.get("cniVersion"), "type": "bridge",
                                "ipMasq": env.get("FLANNEL_IPMASQ") != "true", "isGateway": True,
                                "mtu": int(env.get("FLANNEL_MTU", "1450")),
                                **(conf.get("delegate") or {})}
    delegate["ipam"] = {"type": "host-local", "ranges": [[{"subnet": env["FLANNEL_SUBNET"]}]],
                        "routes": [{"dst": env["FLANNEL_NETWORK"]}]}
    inv.fs[saved] = json.dumps(delegate)
    plugin = PLUGINS.get(delegate["type"])
    if plugin is None:
        raise CNIError(f'failed to find plugin "{delegate["type"]}" in path [/opt/cni/bin]')
    return plugin(delegate, inv)


# -- calico ----------------------------------------------------------------------------
def calico_iface(namespace: str, pod: str) -> str:
    """Calico's host-side name: ``cali`` + sha1("namespace.pod")[:11] (15 characters, IFNAMSIZ-1)."""
    return "cali" + hashlib.sha1(f"{namespace}.{pod}".encode()).hexdigest()[:11]


def calico(conf: dict, inv: Invocation) -> dict:
    if inv.command == "DEL":
        _ipam(conf, inv)
        for ip, netns in list(inv.host.pods.items()):
            if netns.sandbox_id == inv.container_id:
                inv.host.routes.delete(f"{ip}/32")
        _forget_pod(inv)
        return {}
    result = _ipam(conf, inv)
    ip = result["ips"][0]["address"].split("/")[0]
    host = inv.host
    name = calico_iface(inv.args.get("K8S_POD_NAMESPACE", ""), inv.args.get("K8S_POD_NAME", ""))
    mtu = int(conf.get("mtu") or 1500)
    host.add_interface(Interface(name, "veth", mac=CALICO_HOST_MAC, mtu=mtu, peer=f"{inv.pod}:eth0",
                                 proxy_arp=True))
    host.routes.add(Route(f"{ip}/32", name, scope="link", proto="static"))
    netns = _pod_netns(inv, ip, 32, name)
    netns.routes.add(Route(CALICO_GATEWAY, "eth0", scope="link", proto="boot"))
    netns.routes.add(Route("default", "eth0", via=CALICO_GATEWAY, proto="boot"))
    host.pods[ip] = netns
    return {"cniVersion": conf.get("cniVersion"), "ips": [{"address": f"{ip}/32"}],
            "interfaces": [{"name": name, "mac": CALICO_HOST_MAC}, {"name": "eth0", "mac": netns.mac,
                                                                     "sandbox": inv.netns}],
            "routes": [{"dst": "0.0.0.0/0", "gw": CALICO_GATEWAY}]}


PLUGINS: dict[str, Callable[[dict, Invocation], dict]] = {
    "host-local": host_local, "bridge": bridge, "flannel": flannel, "calico": calico, "portmap": portmap,
}
"""What /opt/cni/bin holds on every node, by plugin type."""
