"""``kubeadm init`` phases ``etcd`` and ``control-plane``: the control plane as static pods, and what they run.

kubeadm does not start the control plane itself. It writes four Pod
manifests into the control-plane machine's ``/etc/kubernetes/manifests``:

    etcd.yaml                       registry.k8s.io/etcd:3.5.15-0
    kube-apiserver.yaml             registry.k8s.io/kube-apiserver:v1.31.0
    kube-controller-manager.yaml    registry.k8s.io/kube-controller-manager:v1.31.0
    kube-scheduler.yaml             registry.k8s.io/kube-scheduler:v1.31.0

each ``hostNetwork: true``, ``priorityClassName: system-node-critical``,
labelled ``component=<name>, tier=control-plane``, with the component's
flags and the liveness / readiness / startup probes kubeadm sets; the
kubelet's file source runs them as static pods, and their *mirror pods*
(``kube-apiserver-control-plane``, ...) are what ``kubectl get pods -n
kube-system`` shows.

In the engine the store, the API server, kube-controller-manager and
kube-scheduler are built by ``Cluster`` (a lab can plug its own functions
into them), so a control-plane container's process does not build a second
one: ``ControlPlaneProcess`` *is* the process of the component ``Cluster``
built. A process started after the component stopped has ``Cluster`` build a
new one, as a binary starting again would (the kubelet restarting a crashed
control-plane container restarts the component); it stops it on
SIGTERM (a manifest moved out of ``/etc/kubernetes/manifests`` stops the
scheduler, as on a real node), exits 1 within a second when the component
stops on its own (a ``stop()`` shows as the container's Error and restart),
and answers the health endpoints (``/healthz``, ``/livez``, ``/readyz``)
while the component runs. kube-apiserver's process owns the secure port on
the host network (``172.18.0.2:6443``) and the ``kubernetes`` Service's
Endpoints / EndpointSlice (its endpoint reconciler): while it is down,
processes that dial the API server are refused and the Service has no
endpoints. What is not modelled: the engine's API
server and store have no process to stop, so stopping the kube-apiserver
or etcd container closes the port but leaves the in-process API (the
``Cluster`` door, the components built by ``Cluster``) answering.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import yaml

from engine.api.meta import EPOCH
from engine.apiserver.endpoint import reconcile_kubernetes_endpoints
from engine.kubeadm.config import STATIC_POD_PATH, InitConfiguration
from engine.runtime.programs.base import Program

SIGTERM = 15
SIGINT = 2
CHECK_SECONDS = 1.0
"""How soon a control-plane process notices its component stopped (and exits)."""
HEALTH_PATHS = ("/healthz", "/livez", "/readyz")
ETCD_IMAGE_TAG = "3.5.15-0"


@dataclass(frozen=True)
class StaticComponent:
    """One control-plane component: its image, ports, command line and the probes kubeadm gives it."""

    name: str
    image: str
    size: int
    ports: tuple[int, ...]
    probe_host: str
    probe_port: int
    probe_scheme: str
    command: tuple[str, ...]
    cpu: str
    memory: str = ""
    liveness_path: str = "/healthz"
    readiness_path: str = ""


def components(config: InitConfiguration) -> list[StaticComponent]:
    """The four control-plane static pods kubeadm writes, with kubeadm v1.31's flags."""
    repo, version, address = config.image_repository, config.kubernetes_version, config.advertise_address
    pki = "/etc/kubernetes/pki"
    return [
        StaticComponent(
            "etcd", f"{repo}/etcd:{ETCD_IMAGE_TAG}", 57_000_000, (2379, 2380, 2381), "127.0.0.1", 2381, "HTTP",
            ("etcd", f"--advertise-client-urls=https://{address}:2379", f"--cert-file={pki}/etcd/server.crt",
             "--client-cert-auth=true", "--data-dir=/var/lib/etcd", "--experimental-initial-corrupt-check=true",
             f"--initial-advertise-peer-urls=https://{address}:2380",
             f"--initial-cluster={config.node_name}=https://{address}:2380", f"--key-file={pki}/etcd/server.key",
             f"--listen-client-urls=https://127.0.0.1:2379,https://{address}:2379",
             "--listen-metrics-urls=http://127.0.0.1:2381", f"--listen-peer-urls=https://{address}:2380",
             f"--name={config.node_name}", "--snapshot-count=10000", f"--trusted-ca-file={pki}/etcd/ca.crt"),
            "100m", "100Mi", liveness_path="/livez", readiness_path="/readyz"),
        StaticComponent(
            "kube-apiserver", f"{repo}/kube-apiserver:{version}", 28_000_000, (config.bind_port,), address,
            config.bind_port, "HTTPS",
            ("kube-apiserver", f"--advertise-address={address}", "--allow-privileged=true",
             "--authorization-mode=Node,RBAC", f"--client-ca-file={pki}/ca.crt",
             "--enable-admission-plugins=NodeRestriction", "--enable-bootstrap-token-auth=true",
             "--etcd-servers=https://127.0.0.1:2379", f"--secure-port={config.bind_port}",
             f"--service-account-issuer=https://kubernetes.default.svc.{config.dns_domain}",
             f"--service-account-key-file={pki}/sa.pub", f"--service-cluster-ip-range={config.service_subnet}",
             f"--tls-cert-file={pki}/apiserver.crt", f"--tls-private-key-file={pki}/apiserver.key"),
            "250m", liveness_path="/livez", readiness_path="/readyz"),
        StaticComponent(
            "kube-controller-manager", f"{repo}/kube-controller-manager:{version}", 26_000_000, (10257,),
            "127.0.0.1", 10257, "HTTPS",
            ("kube-controller-manager", "--allocate-node-cidrs=true",
             "--authentication-kubeconfig=/etc/kubernetes/controller-manager.conf",
             "--authorization-kubeconfig=/etc/kubernetes/controller-manager.conf", "--bind-address=127.0.0.1",
             f"--client-ca-file={pki}/ca.crt", f"--cluster-cidr={config.pod_subnet}",
             f"--cluster-name={config.cluster_name}", "--controllers=*,bootstrapsigner,tokencleaner",
             "--kubeconfig=/etc/kubernetes/controller-manager.conf", "--leader-elect=true",
             f"--root-ca-file={pki}/ca.crt", f"--service-account-private-key-file={pki}/sa.key",
             f"--service-cluster-ip-range={config.service_subnet}", "--use-service-account-credentials=true"),
            "200m"),
        StaticComponent(
            "kube-scheduler", f"{repo}/kube-scheduler:{version}", 20_000_000, (10259,), "127.0.0.1", 10259,
            "HTTPS",
            ("kube-scheduler", "--authentication-kubeconfig=/etc/kubernetes/scheduler.conf",
             "--authorization-kubeconfig=/etc/kubernetes/scheduler.conf", "--bind-address=127.0.0.1",
             "--kubeconfig=/etc/kubernetes/scheduler.conf", "--leader-elect=true"),
            "100m"),
    ]


def _probe(component: StaticComponent, path: str, failures: int, period: int = 10) -> dict:
    return {"failureThreshold": failures, "periodSeconds": period, "timeoutSeconds": 15, "initialDelaySeconds": 10,
            "httpGet": {"host": component.probe_host, "path": path, "port": component.probe_port,
                        "scheme": component.probe_scheme}}


def static_pod_manifest(component: StaticComponent) -> dict:
    """The Pod kubeadm writes for ``component`` (``/etc/kubernetes/manifests/<name>.yaml``)."""
    requests = {"cpu": component.cpu, **({"memory": component.memory} if component.memory else {})}
    container: dict[str, Any] = {
        "name": component.name, "image": component.image, "imagePullPolicy": "IfNotPresent",
        "command": list(component.command), "resources": {"requests": requests},
        "livenessProbe": _probe(component, component.liveness_path, 8),
        "startupProbe": _probe(component, component.liveness_path, 24),
    }
    if component.readiness_path:
        readiness = _probe(component, component.readiness_path, 3, period=1)
        readiness.pop("initialDelaySeconds")
        container["readinessProbe"] = readiness
    return {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": component.name, "namespace": "kube-system",
                     "labels": {"component": component.name, "tier": "control-plane"}},
        "spec": {"containers": [container], "hostNetwork": True, "priority": 2000001000,
                 "priorityClassName": "system-node-critical",
                 "securityContext": {"seccompProfile": {"type": "RuntimeDefault"}}},
    }


class ControlPlaneProcess(Program):
    """The process of a control-plane static pod: the component ``Cluster`` built, started and watched."""

    def __init__(self, component: StaticComponent, target: Callable[[], Any],
                 on_start: Callable[[Any], None] | None = None, on_exit: Callable[[Any], None] | None = None,
                 restart: Callable[[], Any] | None = None) -> None:
        self.component = component
        self.target = target
        self.restart = restart
        self.on_start = on_start
        self.on_exit = on_exit
        self.running_component: Any = None

    def start(self, ctx: Any) -> None:
        super().start(ctx)
        running = self.target()
        if running is None:
            self.log("E", f"{self.component.name} is not part of this cluster")
            ctx.exit(1)
            return
        if not _running(running) and self.restart is not None:
            running = self.restart()         # a new process: a fresh component, as the binary starting again
        self.running_component = running
        for port in self.component.ports:
            ctx.listen(port)
        if self.on_start is not None:
            self.on_start(ctx)
        if self.on_exit is not None:
            ctx.at_exit(lambda: self.on_exit(ctx))
        self.log("I", f"Started {self.component.name}")
        if hasattr(running, "running"):
            ctx.call_later(CHECK_SECONDS, self._check)

    def _check(self) -> None:
        if not _running(self.running_component):
            self.log("E", f"{self.component.name} stopped")
            self.ctx.exit(1)
            return
        self.ctx.call_later(CHECK_SECONDS, self._check)

    def on_signal(self, signal: int) -> None:
        """SIGTERM / SIGINT: stop the component and exit 0 (kubelet stopping the static pod)."""
        if signal not in (SIGTERM, SIGINT):
            super().on_signal(signal)
            return
        if hasattr(self.running_component, "running"):
            self.running_component.stop()
        self.ctx.exit(0)

    def handle_http(self, request: dict[str, Any]) -> dict[str, Any] | None:
        """The health endpoints: ``ok`` while the component runs."""
        if request.get("port") not in self.component.ports or not _running(self.running_component):
            return None
        if str(request.get("path", "")).split("?")[0] in HEALTH_PATHS:
            return {"status": 200, "headers": {"Content-Type": "text/plain"}, "body": "ok"}
        return {"status": 404, "headers": {"Content-Type": "text/plain"}, "body": "404 page not found\n"}

    def log(self, level: str, message: str) -> None:
        moment = EPOCH + _dt.timedelta(seconds=self.ctx.now)
        self.ctx.stderr(f"{level}{moment:%m%d %H:%M:%S.%f}       1 {self.component.name}] {message}\n")


def _running(component: Any) -> bool:
    """Components say ``running``; the API server and the store have no off switch, so they always run."""
    return bool(getattr(component, "running", True))


def install_static_pods(config: InitConfiguration, host_fs: Any, registry: Any,
                        targets: Mapping[str, Callable[[], Any]],
                        hooks: Mapping[str, tuple[Callable[[Any], None], Callable[[Any], None]]] | None = None,
                        restarts: Mapping[str, Callable[[], Any]] | None = None) -> list[str]:
    """Phases etcd and control-plane: publish the images and write the manifests (the kubelet pulls and runs them).

    ``targets`` maps a component's name to what returns the running component (the ones absent are not
    written); ``hooks`` maps a name to ``(on_start, on_exit)`` run with the process's context; ``restarts``
    maps a name to what builds and starts a new component when the process starts and the old one has stopped.
    Returns the lines ``kubeadm init`` prints.
    """
    output = []
    hooks = hooks or {}
    for component in components(config):
        target = targets.get(component.name)
        if target is None:
            continue
        on_start, on_exit = hooks.get(component.name, (None, None))
        factory = _factory(component, target, on_start, on_exit, (restarts or {}).get(component.name))
        registry.register(component.image, factory, size=component.size, entrypoint=[component.name])
        path = f"{STATIC_POD_PATH}/{component.name}.yaml"
        host_fs[path] = yaml.safe_dump(static_pod_manifest(component), sort_keys=False)
        phase = "etcd" if component.name == "etcd" else "control-plane"
        what = 'local etcd' if component.name == "etcd" else f'"{component.name}"'
        output.append(f'[{phase}] Creating static Pod manifest for {what} in "{STATIC_POD_PATH}"')
    return output


def _factory(component: StaticComponent, target: Callable[[], Any], on_start: Any, on_exit: Any,
             restart: Callable[[], Any] | None) -> Callable[[], Any]:
    return lambda: ControlPlaneProcess(component, target, on_start, on_exit, restart)


def install_control_plane(cluster: Any) -> list[str]:
    """What kubeadm's etcd and control-plane phases leave on ``cluster``'s control-plane machine."""
    from engine.cluster import CONTROL_PLANE_NODE
    machine = cluster.machines[CONTROL_PLANE_NODE]
    endpoint = cluster.endpoint
    targets: dict[str, Callable[[], Any]] = {"etcd": lambda: cluster.store, "kube-apiserver": lambda: cluster.apiserver}
    restarts: dict[str, Callable[[], Any]] = {}
    for spec in cluster.specs:
        if spec.role == "control-plane":
            targets[spec.name] = lambda name=spec.name: cluster.components.get((name, None))
            # Cluster builds the component (its identity, a lab's options) as it did at boot
            restarts[spec.name] = lambda spec=spec: cluster._start(spec, None) or cluster.components[(spec.name, None)]
    loopback = cluster.client("system:apiserver", ("system:masters",))

    def serve(ctx: Any) -> None:
        machine.hostnet.listen(endpoint.address, endpoint.port, endpoint)
        reconcile_kubernetes_endpoints(loopback, [endpoint.address], endpoint.port)

    def shut_down(ctx: Any) -> None:
        machine.hostnet.close(endpoint.address, endpoint.port, endpoint)
        reconcile_kubernetes_endpoints(loopback, [], endpoint.port)

    hooks = {"kube-apiserver": (serve, shut_down)}
    return install_static_pods(cluster.kubeadm_config(), machine.host_fs, cluster.registry, targets, hooks, restarts)
