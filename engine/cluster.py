"""``engine.Cluster``: the one door notebooks, labs, tests and demos use.

A ``Cluster`` is a whole Kubernetes cluster in one process, on one virtual
clock: an etcd store, a kube-apiserver in front of it, and every registered
component (``engine.components.COMPONENTS``) started as kubeadm would start
it, control plane first, then one set of node components per node. The
cluster is booted and its nodes Ready when the constructor returns.

    c = Cluster(nodes=3, seed=0)
    c.apply(manifest)                     # like kubectl apply
    c.get("deploy", "web")                # a plain dict
    c.list("pods", selector="app=web")    # plain dicts
    c.delete("pod", "web-abc12")
    c.run(seconds=30)                     # advance virtual time
    c.now                                 # virtual seconds since boot
    c.kubectl("get pods -o wide")         # what the real kubectl would print

With ``network="flannel"`` or ``"calico"`` (and ``proxy_mode="iptables"`` or
``"ipvs"``) the boot goes on as ``kubeadm init`` does after the control
plane is up (``engine.kubeadm``): the control plane's static pods (mirror
pods ``kube-apiserver-control-plane``, ...), kubeadm's ConfigMaps, then its
add-ons as pods (CoreDNS, kube-proxy) and the CNI manifest, applied as the
admin; the nodes are NotReady until the CNI add-on has configured them.
``network=None`` (the default for now) installs no add-ons.

Everything the cluster does goes through its API server, so failures raise
``engine.ApiError`` subclasses carrying the real ``Status``. The same seed
and the same calls give the same history, event for event.
"""

from __future__ import annotations

import functools
import hashlib
import time
from typing import TYPE_CHECKING, Any, Callable, Iterable, TypeVar

from engine.api import errors
from engine.apiserver.authn import Authenticator, ServiceAccountTokens, TokenAuthenticator, UserInfo
from engine.apiserver.admission.priority import system_priority_classes
from engine.apiserver.bootstrap_policy import bootstrap_policy
from engine.apiserver.compact import Compactor
from engine.apiserver.server import APIServer
from engine.client.client import Client
from engine.components import COMPONENTS, ComponentContext, ComponentSpec
from engine.kubectl.apply import apply_one, load_manifests
from engine.dns.upstream import NODE_RESOLV_CONF
from engine.sim.collector import tune_collector
from engine.sim.hostnet import HostLocalIPAM, HostNetwork
from engine.sim.loop import Loop
from engine.sim.machine import Machine, machine_address
from engine.store.etcd import EtcdStore
from engine.store.memory import MemoryStore
from engine import flags

if TYPE_CHECKING:
    from engine.apiserver.http.serve import ServeHandle
    from engine.apiserver.proxy import ProxyResponse
    from engine.kubeadm import InitConfiguration
    from engine.network.curl import CurlResult
    from engine.runtime.containerd import RuntimeService
    from engine.sim.realtime import RealtimeDriver

T = TypeVar("T")


def _on_loop(method: Callable[..., T]) -> Callable[..., T]:
    """Door methods run on the loop thread when a real-time driver runs the cluster (see ``_call``)."""
    @functools.wraps(method)
    def door(self: "Cluster", *args: Any, **kwargs: Any) -> T:
        return self._call(functools.partial(method, self, *args, **kwargs))
    return door

ADMIN_USER = "kubernetes-admin"
CONTROL_PLANE_NODE = "control-plane"
SYSTEM_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")
BOOT_SECONDS = 1.0
"""Virtual time the constructor runs so that every node has registered and reported Ready."""

NETWORKS = (None, "flannel", "calico", "canal")
PROXY_MODES = ("iptables", "ipvs")

CONTROL_PLANE_TAINT = {"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}


class Cluster:
    """A booted cluster: control plane plus ``nodes`` workers, on one seeded virtual clock."""

    _driver: "RealtimeDriver | None" = None
    """The real-time driver while the cluster is served (``serve``); None when the caller drives time."""

    def __init__(self, nodes: int = 3, seed: int = 0, *, components: Iterable[ComponentSpec] | None = None,
                 node_cpu: str = "4", node_memory: str = "8Gi", node_pods: int = flags.max_pods,
                 watch_delay: float = flags.watch_delay, keep_history: bool = True, store: str = "memory",
                 network: str | None = None, proxy_mode: str = "iptables", cloud: str | None = None) -> None:
        if network not in NETWORKS:
            raise ValueError(f"network must be one of {NETWORKS}, not {network!r}")
        if proxy_mode not in PROXY_MODES:
            raise ValueError(f"proxy_mode must be one of {PROXY_MODES}, not {proxy_mode!r}")
        self.seed = seed
        self.network = network
        """The CNI add-on kubeadm's boot installs ("flannel", "calico"), or None: no add-ons."""
        self.proxy_mode = proxy_mode
        """kube-proxy's mode (its ConfigMap's ``mode``) when the add-ons are installed."""
        tune_collector()
        self.loop = Loop(seed, keep_history=keep_history)
        # "memory", or a real etcd: "etcd://127.0.0.1:2379" (engine.store.etcd says what changes on it)
        self.store = MemoryStore(self.loop) if store == "memory" else EtcdStore.from_url(store, loop=self.loop)
        self.authenticator = Authenticator(TokenAuthenticator(), ServiceAccountTokens(
            f"cluster-{seed}", self._service_account_uid, lambda: self.loop.now))
        self._tokens: dict[tuple[str, tuple[str, ...]], str] = {}
        self.apiserver = APIServer(self.store, self.loop, authenticator=self.authenticator,
                                   watch_delay=watch_delay)
        self.compactor = Compactor(self.apiserver, flags.etcd_compaction_interval)
        """kube-apiserver's etcd compactor: the store keeps one to two intervals of history, not all of it."""
        self.compactor.start()
        self.admin = self.client(ADMIN_USER, ("system:masters",))
        self._bootstrap()
        self.specs = list(dict.fromkeys(COMPONENTS if components is None else components))
        self.node_names = [CONTROL_PLANE_NODE] + [f"node-{index}" for index in range(1, nodes + 1)]
        from engine.runtime import Registry, RuntimeService, register_all   # imported with the first cluster
        self.registry = register_all(Registry())
        """The remote image registries every node pulls from (labs add images with ``registry.register``)."""
        self.hostnet = HostNetwork()
        """The hosts' network: the API server dials kubelets (logs, exec) through it."""
        from engine.apiserver import pod_connect, proxy
        pod_connect.register(self.apiserver, self.hostnet)
        proxy.register(self.apiserver, self._proxy_from_control_plane)
        self.runtimes: dict[str, "RuntimeService"] = {}
        """Each node's container runtime: it belongs to the machine, so it outlives the node's kubelet."""
        self.machines: dict[str, Machine] = {}
        """Each node's machine (``engine.sim.machine``): its address, runtime, host network and network stack."""
        for index, node in enumerate(self.node_names):
            runtime = RuntimeService(self.loop, self.registry, node_name=node)
            runtime.cni = HostLocalIPAM(f"10.244.{index}.0/24")
            runtime.host_fs["/etc/resolv.conf"] = NODE_RESOLV_CONF
            self.runtimes[node] = runtime
            self.machines[node] = runtime.machine = Machine(node, machine_address(index), runtime, self.hostnet)
        from engine.apiserver.endpoint import SECURE_PORT, APIServerEndpoint
        self.endpoint = APIServerEndpoint(self.apiserver, self.machines[CONTROL_PLANE_NODE].address, SECURE_PORT)
        """kube-apiserver's secure port on the control-plane machine (``https://172.18.0.2:6443``)."""
        self.hostnet.listen(self.endpoint.address, self.endpoint.port, self.endpoint)
        self._publish_apiserver_endpoints()
        self.fabric = None
        """The packet model (``engine.network.Fabric``) when a network add-on is installed: ``curl`` goes there."""
        if network is not None:
            from engine.network import attach
            attach(self)        # each machine's kernel stack, and containerd running CNI, before any pod
            from engine.apiserver import aggregator
            aggregator.register(self.apiserver, self._from_control_plane)
        self._node_options = {"cpu": node_cpu, "memory": node_memory, "pods": node_pods}
        self.cloud = None
        """The cloud the machines run in (``cloud="sim"``: engine.cloud, with its cloud-controller-manager)."""
        if cloud is not None:
            from engine.cloud import install
            self.cloud = install(self, cloud)
        self.components: dict[tuple[str, str | None], Any] = {}
        for spec in self.specs:
            if spec.role == "control-plane":
                self._start(spec, None)
        if network is not None:
            from engine.kubeadm.controlplane import install_control_plane
            install_control_plane(self)          # the control plane's static pod manifests, before the kubelets
        for node in self.node_names:
            self._start_node(node)
        if network is not None:
            from engine.kubeadm import init_phases
            init_phases(self.admin, self.kubeadm_config(), registry=self.registry)
        self.run(BOOT_SECONDS)
        from engine.kubectl import magic; magic.register(self)  # the %kubectl magic defaults to the latest cluster (weakref)

    # -- identities -----------------------------------------------------------
    @_on_loop
    def token_for(self, user: str, groups: Iterable[str] = ()) -> str:
        """A bearer token for ``user`` in ``groups`` (kept, so the same user gets the same token)."""
        key = (user, tuple(groups))
        token = self._tokens.get(key)
        if token is None:
            digest = hashlib.sha256(f"{self.seed}:{user}:{','.join(key[1])}".encode()).hexdigest()
            token = f"{digest[:6]}.{digest[6:22]}"
            self.authenticator.static.add(token, UserInfo(user, key[1]))
            self._tokens[key] = token
        return token

    def _service_account_uid(self, namespace: str, name: str) -> str | None:
        account = self.apiserver.cached("serviceaccounts", namespace, name)
        return account["metadata"]["uid"] if account else None

    def client(self, user: str, groups: Iterable[str] = ()) -> Client:
        """A client that authenticates as ``user`` in ``groups``: RBAC decides what it may do.

        Nothing is granted by default; ``c.admin`` is the cluster administrator (group ``system:masters``).
        """
        return Client(self.apiserver, self.token_for(user, groups), name=user)

    # -- boot -----------------------------------------------------------------
    def _bootstrap(self) -> None:
        """What kube-apiserver's post-start hooks create before any component runs.

        The API server writes these through its own loopback client, as ``system:apiserver``.
        """
        apiserver = self.client("system:apiserver", ("system:masters",))
        for namespace in SYSTEM_NAMESPACES:
            apiserver.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}})
        for obj in bootstrap_policy():
            apiserver.create(obj)
        for obj in system_priority_classes():
            apiserver.create(obj)
        apiserver.create({
            "apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "kubernetes", "namespace": "default",
                         "labels": {"component": "apiserver", "provider": "kubernetes"}},
            "spec": {"clusterIP": self.apiserver.services.cluster_ips.first,
                     "ports": [{"name": "https", "port": 443, "protocol": "TCP", "targetPort": 6443}]},
        })

    def _publish_apiserver_endpoints(self) -> None:
        """kube-apiserver's endpoint reconciler (``--endpoint-reconciler-type=lease``): the ``kubernetes`` Service's
        Endpoints and EndpointSlice name this API server, so pods reach it at 10.96.0.1:443 through kube-proxy."""
        apiserver = self.client("system:apiserver", ("system:masters",))
        address, port = self.endpoint.address, self.endpoint.port
        apiserver.create({"apiVersion": "v1", "kind": "Endpoints", "metadata": {
            "name": "kubernetes", "namespace": "default", "labels": {"endpointslice.kubernetes.io/skip-mirror": "true"}},
            "subsets": [{"addresses": [{"ip": address}], "ports": [{"name": "https", "port": port, "protocol": "TCP"}]}]})
        apiserver.create({"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice", "metadata": {
            "name": "kubernetes", "namespace": "default", "labels": {"kubernetes.io/service-name": "kubernetes"}},
            "addressType": "IPv4", "endpoints": [{"addresses": [address], "conditions": {"ready": True}}],
            "ports": [{"name": "https", "port": port, "protocol": "TCP"}]})

    def _start(self, spec: ComponentSpec, node: str | None) -> None:
        user = spec.user.format(node=node or "")
        options = dict(self._node_options) if node else {}
        options["hostnet"] = self.hostnet
        if node is not None:
            options["address"] = self.machines[node].address
            options["runtime"] = self.runtimes[node]
            if node == CONTROL_PLANE_NODE:
                options["labels"] = {"node-role.kubernetes.io/control-plane": "",
                                     "node.kubernetes.io/exclude-from-external-load-balancers": ""}
                options["taints"] = [CONTROL_PLANE_TAINT]
        if node is None and spec.name == "kube-controller-manager" and self.network is not None:
            # kubeadm's flags for a pod subnet: the node IPAM controller hands out each node's podCIDR
            options.update({"allocate-node-cidrs": True, "cluster-cidr": self.kubeadm_config().pod_subnet})
        options.update(spec.options)
        context = ComponentContext(name=spec.name, client=Client(self.apiserver, self.token_for(user, spec.groups),
                                                                 name=user),
                                   loop=self.loop, node_name=node, options=options)
        component = spec.load()(context)
        self.components[(spec.name, node)] = component
        component.start()

    def _from_control_plane(self, host: str, port: int, path: str) -> tuple[int, str] | None:
        """An HTTPS request from the control-plane machine's network stack (the aggregator's proxy)."""
        from engine.network.door import curl_from
        result = curl_from(self, CONTROL_PLANE_NODE, f"https://{host}:{port}{path}")
        return None if result.error else (result.status, result.body)

    def _proxy_from_control_plane(self, method: str, url: str, headers: dict[str, str],
                                  body: str | None) -> "ProxyResponse | str":
        """``services/proxy`` and ``pods/proxy``'s request from the control-plane machine to a pod: the answer, or
        Go's dial error (there is no pod network to carry it without a network add-on)."""
        from engine.apiserver.proxy import ProxyResponse, dial_error
        if self.fabric is None:
            return dial_error(url, "unreachable")
        from engine.network.door import curl_from
        result = curl_from(self, CONTROL_PLANE_NODE, url, method=method, headers=headers, body=body)
        if result.error:
            outcome = {28: "timeout", 52: "empty"}.get(result.exit_code, "refused" if " after 0 ms" in result.error
                                                        else "unreachable")
            return dial_error(url, outcome)
        return ProxyResponse(result.status or 200, result.headers, result.body)

    def kubeadm_config(self) -> "InitConfiguration":
        """What ``kubeadm init --config`` would be given for this cluster (``engine.kubeadm.InitConfiguration``)."""
        from engine.kubeadm import InitConfiguration
        return InitConfiguration(node_name=CONTROL_PLANE_NODE, advertise_address=self.endpoint.address,
                                 bind_port=self.endpoint.port, network=self.network, proxy_mode=self.proxy_mode)

    def _start_node(self, node: str) -> None:
        for spec in self.specs:
            if spec.role == "node":
                self._start(spec, node)

    # -- the door -------------------------------------------------------------
    @property
    def now(self) -> float:
        """Virtual seconds since the cluster was created."""
        return self.loop.now

    def run(self, seconds: float = 0.0) -> None:
        """Advance virtual time by ``seconds``, letting every component act on the way.

        While the cluster is served, the driver advances time with the wall clock: this waits instead.
        """
        driver = self._driver
        if driver is not None and driver.running and not self._on_loop_thread():
            target = self.loop.now + seconds
            while driver.running and self.loop.now < target:
                time.sleep(min(0.05, max(0.001, (target - self.loop.now) / driver.speed)))
            return
        self.loop.run_for(seconds)

    @_on_loop
    def step(self) -> bool:
        """Fire exactly one scheduled event; False when nothing is scheduled."""
        return self.loop.step()

    @_on_loop
    def apply(self, manifest: Any, namespace: str | None = None) -> dict | list[dict]:
        """Create or update objects like ``kubectl apply``: YAML text, a dict, a list, or a file path.

        Returns the stored object, or a list of them when the manifest held several.
        """
        objects = load_manifests(manifest)
        results = [apply_one(self.admin, obj, namespace)[0] for obj in objects]
        return results[0] if len(results) == 1 else results

    @_on_loop
    def get(self, kind: str, name: str, namespace: str | None = "default") -> dict:
        """One object as a plain dict; ``kind`` as kubectl accepts it (``deploy``, ``Pod``, ``nodes``)."""
        resolved = self.apiserver.registry.lookup(kind)
        return self.admin.get(resolved.plural, name, namespace if resolved.namespaced else None)

    @_on_loop
    def list(self, kind: str, namespace: str | None = "default", *, selector: str | None = None,
             field_selector: str | None = None, all_namespaces: bool = False) -> list[dict]:
        """Objects of a kind (in ``namespace``, or everywhere with ``all_namespaces=True``)."""
        resolved = self.apiserver.registry.lookup(kind)
        scope = None if all_namespaces or not resolved.namespaced else namespace
        return self.admin.list(resolved.plural, scope, label_selector=selector,
                               field_selector=field_selector)["items"]

    @_on_loop
    def delete(self, kind: str, name: str, namespace: str | None = "default", *,
               propagation_policy: str | None = None, grace_period_seconds: int | None = None) -> dict:
        """Delete like ``kubectl delete`` (graceful for pods; finalizers respected)."""
        resolved = self.apiserver.registry.lookup(kind)
        return self.admin.delete(resolved.plural, name, namespace if resolved.namespaced else None,
                                 propagation_policy=propagation_policy, grace_period_seconds=grace_period_seconds)

    @_on_loop
    def kubectl(self, command: str) -> str:
        """Run a kubectl command line against this cluster; returns what the real kubectl would print."""
        from engine.kubectl.cli import run
        return run(self, command)

    @_on_loop
    def curl(self, source: str, url: str, *, method: str = "GET", headers: dict[str, str] | None = None,
             connect_timeout: float | None = None) -> "CurlResult":
        """``curl URL`` from a pod (``"name"`` in default or ``"namespace/name"``) or a node (its name).

        Goes through the packet model (DNS, NAT, routes, encapsulation): the result has the answer
        (``status``, ``body``) or curl's error line (``error``), and every hop (``hops``). Needs a network
        add-on (``engine.network``).
        """
        from engine.network.door import curl_from
        return curl_from(self, source, url, method=method, headers=headers, connect_timeout=connect_timeout)

    # -- faults ---------------------------------------------------------------
    @_on_loop
    def fail_node(self, name: str) -> None:
        """Power a node off: its kubelet and other node components stop (no heartbeats), its containers' processes
        are gone, and nothing on it answers (connections to its address and its pods' addresses time out)."""
        self._require_node(name)
        for (component_name, node), component in self.components.items():
            if node == name:
                component.stop()
        self.machines[name].power_off()

    @_on_loop
    def restore_node(self, name: str) -> None:
        """Power a failed node back on: it boots (containerd with nothing running), its node components start
        again and re-register, and the kubelet runs what it is told (its pods, its static pods) afresh. A node
        whose machine stayed on (only its kubelet stopped) keeps its running containers."""
        self._require_node(name)
        machine = self.machines[name]
        if not machine.powered:
            machine.power_on()
        for spec in self.specs:
            if spec.role == "node":
                self.components[(spec.name, name)].stop()
                self._start(spec, name)

    def _require_node(self, name: str) -> None:
        if name not in self.node_names:
            raise errors.not_found("nodes", name)

    # -- serving the real clients ------------------------------------------------
    def serve(self, port: int = 0, *, kubeconfig: str | None = None, tls: bool = False,
              speed: float = 1.0) -> "ServeHandle":
        """Serve the Kubernetes HTTP API on 127.0.0.1 for the real ``kubectl`` and client libraries.

        Starts a real-time driver (virtual time follows the wall clock times ``speed``) and writes a
        kubeconfig for the admin (``handle.kubeconfig_path``). Use as a context manager or call
        ``handle.stop()``. While served, this door's methods run on the loop thread through the driver.
        """
        from engine.apiserver.http.serve import serve
        return serve(self, port, kubeconfig_path=kubeconfig, tls=tls, speed=speed)

    def _on_loop_thread(self) -> bool:
        driver = self._driver
        return driver is None or driver.on_loop_thread()

    def _call(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn(*args)`` on the loop thread: through the driver while one runs, else directly."""
        driver = self._driver
        if driver is None or not driver.running or self._on_loop_thread():
            return fn(*args)
        return driver.call(fn, *args)

    def stop(self) -> None:
        """Stop every component and the API server's compactor (the cluster keeps its state)."""
        for component in self.components.values():
            component.stop()
        self.compactor.stop()
