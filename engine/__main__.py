"""``python -m engine``: serve a cluster to the real kubectl, or run the instructor's demo.

    python -m engine serve [--port N] [--kubeconfig PATH] [--nodes N] [--seed S] [--speed X] [--tls] [--dashboard]
    python -m engine demo [--nodes N] [--seed S] [--pause]

``serve`` boots a cluster, serves the Kubernetes API on 127.0.0.1 (plain HTTP
unless ``--tls``) with virtual time following the wall clock times
``--speed``, writes an admin kubeconfig (default ``./.engine/kubeconfig``,
git-ignored), prints how to point kubectl at it, and runs until Ctrl-C or
SIGTERM, then stops cleanly. With ``--dashboard`` the cluster has a flannel pod
network and the Kubernetes Dashboard add-on, Ready before serving begins; it
prints the dashboard's URL through ``kubectl proxy``.

``demo`` narrates a scripted tour in the terminal with kubectl's output, on
virtual time (it finishes in seconds). Each step names the components it
needs; a step whose components are not built yet is announced and skipped,
so the tour grows as the engine does (rollout, node failure, Services).

This is the command-line program: unlike library code it prints to stdout.
"""

from __future__ import annotations

import argparse
import importlib.util
import signal
import sys
import threading
from dataclasses import dataclass
from typing import Callable, Sequence

DEFAULT_KUBECONFIG = "./.engine/kubeconfig"
DASHBOARD_START_SECONDS = 40.0
"""Virtual seconds run before serving with ``--dashboard``: the image pulled, the pod started and Ready."""


# -- serve -----------------------------------------------------------------------------

def serve(args: argparse.Namespace) -> int:
    from engine.cluster import Cluster

    cluster = Cluster(nodes=args.nodes, seed=args.seed, network="flannel" if args.dashboard else None)
    if args.dashboard:
        from engine.addons import dashboard
        dashboard.install(cluster)
        cluster.run(DASHBOARD_START_SECONDS)
    handle = cluster.serve(args.port, kubeconfig=args.kubeconfig, tls=args.tls, speed=args.speed)
    stop = threading.Event()

    def on_signal(signum: int, _frame: object) -> None:
        stop.set()
    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    print(f"Kubernetes API of a {args.nodes}-node engine cluster (seed {args.seed}) at {handle.url}")
    print(f"kubeconfig: {handle.kubeconfig_path}")
    print()
    print(f"    export KUBECONFIG={handle.kubeconfig_path.resolve()}; kubectl get nodes")
    print()
    if not args.tls:
        print("Plain HTTP: kubectl sends no credentials and is served as the admin (the old insecure port);")
        print("use --tls to try RBAC with per-user kubeconfigs.")
    if args.dashboard:
        print(f"Dashboard: run `kubectl proxy` (with that KUBECONFIG), then open {dashboard.url()}")
    print("Ctrl-C to stop.", flush=True)
    try:
        while not stop.wait(0.5):
            pass
    finally:
        handle.stop()
        cluster.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        print("stopped.", flush=True)
    return 0


# -- demo ------------------------------------------------------------------------------

@dataclass
class Step:
    """One scene of the demo; ``needs`` are the engine modules it relies on."""

    title: str
    run: Callable[["Demo"], None]
    needs: tuple[str, ...] = ()

    def missing(self) -> list[str]:
        return [module for module in self.needs if importlib.util.find_spec(module) is None]


class Demo:
    """The narrator: runs the steps against one cluster and prints what happens."""

    def __init__(self, nodes: int, seed: int, pause: bool) -> None:
        from engine.cluster import Cluster
        self.pause = pause
        self.cluster = Cluster(nodes=nodes, seed=seed, network="flannel")

    def say(self, text: str = "") -> None:
        print(text, flush=True)

    def kubectl(self, command: str) -> None:
        self.say(f"$ kubectl {command}")
        self.say(self.cluster.kubectl(command).rstrip("\n"))
        self.say()

    def run(self, steps: Sequence[Step]) -> None:
        for number, step in enumerate(steps, 1):
            self.say(f"== {number}. {step.title}  [t={self.cluster.now:.1f}s]")
            missing = step.missing()
            if missing:
                self.say(f"   (later: this step needs {', '.join(missing)}, not built yet)")
                self.say()
                continue
            step.run(self)
            if self.pause and number < len(steps):
                input("   [Enter] next step ")


def _boot(demo: Demo) -> None:
    c = demo.cluster
    demo.say(f"A control plane and {len(c.node_names) - 1} workers booted on one virtual clock (seed {c.seed}).")
    demo.say("Every component talks only to the API server; here are the nodes the kubelets registered:")
    demo.kubectl("get nodes -o wide")


def _leases(demo: Demo) -> None:
    c = demo.cluster
    lease = c.get("lease", "node-1", namespace="kube-node-lease")
    demo.say(f"node-1's kubelet renews its Lease: renewTime {lease['spec']['renewTime']}")
    c.run(30)
    lease = c.get("lease", "node-1", namespace="kube-node-lease")
    demo.say(f"30 virtual seconds later:       renewTime {lease['spec']['renewTime']}")
    demo.kubectl("get leases -n kube-node-lease")


def _objects(demo: Demo) -> None:
    demo.say("What kube-apiserver and kubeadm created at boot, before any workload:")
    demo.kubectl("get namespaces")
    demo.kubectl("get services -A")


def _deployment(demo: Demo) -> None:
    c = demo.cluster
    c.apply(NGINX)
    demo.say("Applied the Kubernetes docs' nginx Deployment: the desired state is now stored, nothing runs yet.")
    demo.kubectl("get deployments")
    c.run(20)
    demo.say("20 virtual seconds later the loops have converged: the Deployment controller made a ReplicaSet,")
    demo.say("the ReplicaSet controller made three pods, kube-scheduler bound each to a node, and each node's")
    demo.say("kubelet pulled nginx:1.14.2 and started it through the CRI (sandbox, pull, create, start):")
    demo.kubectl("get deployments,replicasets,pods -o wide")


def _inside(demo: Demo) -> None:
    c = demo.cluster
    pod = sorted(p["metadata"]["name"] for p in c.list("pods"))[0]
    demo.say("kubectl exec goes to the API server, which asks the pod's kubelet (port 10250) to run the command")
    demo.say("in the running container; the hostname is the pod's name:")
    demo.kubectl(f"exec {pod} -- cat /etc/hostname")
    demo.say("What the kubelet and the scheduler reported about it, as events:")
    demo.kubectl(f"get events --field-selector involvedObject.name={pod}")


def _forbidden(demo: Demo) -> None:
    from engine.api.errors import Forbidden
    intern = demo.cluster.client("intern", ())
    demo.say("User 'intern' has no RoleBinding. RBAC denies by default:")
    try:
        demo.cluster._call(intern.list, "secrets", "default")
    except Forbidden as error:
        demo.say(f"Error from server (Forbidden): {error.status['message']}")
    demo.say()


def _conflict(demo: Demo) -> None:
    from engine.api.errors import Conflict
    c = demo.cluster
    first = c.get("deploy", "nginx-deployment")
    second = c.get("deploy", "nginx-deployment")
    first["spec"]["replicas"] = 4
    c._call(c.admin.update, first)
    demo.say("Two clients read the Deployment at the same resourceVersion; the first update wins.")
    second["spec"]["replicas"] = 5
    try:
        c._call(c.admin.update, second)
    except Conflict as error:
        demo.say(f"The second gets a 409: {error.status['message']}")
    demo.say()


def _watch(demo: Demo) -> None:
    c = demo.cluster
    events: list[str] = []
    watcher = c.admin.watch("configmaps", lambda e: events.append(
        f"{e['type']:<9} {e['object']['metadata']['name']} rv={e['object']['metadata']['resourceVersion']}"),
        "default", resource_version=str(c.apiserver.store.revision), allow_bookmarks=False)
    c.apply({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings"}, "data": {"mode": "a"}})
    c.admin.patch("configmaps", "settings", {"data": {"mode": "b"}}, "default")
    c.delete("configmap", "settings")
    c.run(1)
    watcher.stop()
    demo.say("A watch on configmaps (what informers and `kubectl get -w` use) saw:")
    for line in events:
        demo.say(f"  {line}")
    demo.say()


def _rollout(demo: Demo) -> None:
    c = demo.cluster
    c.run(10)
    demo.say("The first writer's 4 replicas stand; the ReplicaSet controller has made the fourth pod:")
    demo.kubectl("get deployment nginx-deployment")
    demo.say("Now a new image. The Deployment controller makes a second ReplicaSet and moves pods over")
    demo.say("(maxSurge 25%: one pod more than wanted; maxUnavailable 25%: one fewer ready at most):")
    c.apply(NGINX.replace("nginx:1.14.2", "nginx:1.16.1").replace("replicas: 3", "replicas: 4"))
    c.run(1)
    demo.kubectl("get replicasets -o wide")
    c.run(60)
    demo.kubectl("rollout status deployment/nginx-deployment")
    demo.kubectl("get replicasets")


def _node_failure(demo: Demo) -> None:
    c = demo.cluster
    demo.say("node-2's kubelet stops: no more Lease renewals or status updates.")
    c.fail_node("node-2")
    c.run(60)
    demo.say("After --node-monitor-grace-period (40 s) the node lifecycle controller marks it NotReady")
    demo.say("and taints it node.kubernetes.io/unreachable:NoExecute:")
    demo.kubectl("get nodes")
    demo.kubectl("get node node-2 -o jsonpath='{range .spec.taints[*]}{.key}:{.effect}{\"\\n\"}{end}'")
    c.run(300)
    demo.say("The pods tolerate that taint for 300 s (DefaultTolerationSeconds); then they are evicted and")
    demo.say("the ReplicaSet replaces them on healthy nodes. The old pods stay Terminating: only their kubelet")
    demo.say("could confirm they stopped, and that kubelet is gone.")
    demo.kubectl("get pods -o wide")


SHORT_HOPS = ("DNS query", "DNAT", "encapsulate", "decapsulate", "deliver", "conntrack", "received")
"""The hops the demo narrates of a curl's path (``c.curl(...).hops`` has every rule it crossed)."""


def _service(demo: Demo) -> None:
    c = demo.cluster
    c.apply(SERVICE)
    c.apply(CLIENT)
    c.run(15)
    demo.say("A Service gets a virtual ClusterIP; the EndpointSlice controller lists its ready pods:")
    demo.kubectl("get service nginx -o wide")
    demo.kubectl("get endpointslices")
    demo.say("From a pod, curl the Service by name: CoreDNS answers the ClusterIP, kube-proxy's iptables rules")
    demo.say("DNAT it to one nginx pod, and flannel's VXLAN carries the packet when that pod is on another node.")
    result = c.curl("client", "http://nginx")
    demo.say("$ kubectl exec client -- curl -s http://nginx | grep title")
    demo.say("\n".join(line for line in str(result).splitlines() if "<title>" in line) or str(result))
    demo.say()
    demo.say("The way there and back (the key hops of the packet model's trace):")
    for hop in result.hops:
        if hop.what in SHORT_HOPS:
            demo.say(f"  {hop.where:<40} {hop.what:<12} {hop.headers.split(' | ')[-1]}")
    demo.say()


STEPS: list[Step] = [
    Step("Boot: a whole cluster in one process", _boot),
    Step("Heartbeats: node Leases renewing", _leases),
    Step("API objects", _objects),
    Step("Desired state: a Deployment, reconciled", _deployment),
    Step("Inside a running pod: exec and events", _inside),
    Step("Authorization: RBAC says 403", _forbidden),
    Step("Optimistic concurrency: 409 Conflict", _conflict),
    Step("Watch: the event stream behind every controller", _watch),
    Step("Reconciliation: rollout to a new image", _rollout,
         needs=("engine.controllers.deployment", "engine.controllers.replicaset", "engine.scheduler")),
    Step("Node failure: NotReady, taints, eviction", _node_failure,
         needs=("engine.controllers.nodelifecycle", "engine.scheduler")),
    Step("Services: endpoints and kube-proxy", _service,
         needs=("engine.controllers.endpointslice", "engine.proxy", "engine.network", "engine.dns")),
]

NGINX = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: nginx-deployment
  labels:
    app: nginx
spec:
  replicas: 3
  selector:
    matchLabels:
      app: nginx
  template:
    metadata:
      labels:
        app: nginx
    spec:
      containers:
      - name: nginx
        image: nginx:1.14.2
        ports:
        - containerPort: 80
"""

CLIENT = """\
apiVersion: v1
kind: Pod
metadata:
  name: client
spec:
  containers:
  - name: client
    image: busybox
    command: ["sleep", "3600"]
"""

SERVICE = """\
apiVersion: v1
kind: Service
metadata:
  name: nginx
spec:
  selector:
    app: nginx
  ports:
  - port: 80
    targetPort: 80
"""


def demo(args: argparse.Namespace) -> int:
    Demo(args.nodes, args.seed, args.pause).run(STEPS)
    print("End of the demo.", flush=True)
    return 0


# -- the command line -------------------------------------------------------------------

def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="python -m engine", description="A miniature Kubernetes, faithfully.")
    commands = root.add_subparsers(dest="command", required=True)
    serve_cmd = commands.add_parser("serve", help="serve a cluster's Kubernetes API to the real kubectl")
    serve_cmd.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: any free port)")
    serve_cmd.add_argument("--kubeconfig", default=DEFAULT_KUBECONFIG,
                           help=f"where to write the admin kubeconfig (default: {DEFAULT_KUBECONFIG})")
    serve_cmd.add_argument("--nodes", type=int, default=3, help="worker nodes (default: 3)")
    serve_cmd.add_argument("--seed", type=int, default=0, help="the cluster's random seed (default: 0)")
    serve_cmd.add_argument("--speed", type=float, default=1.0,
                           help="virtual seconds per wall second (default: 1)")
    serve_cmd.add_argument("--dashboard", action="store_true",
                           help="boot with a flannel pod network and the Kubernetes Dashboard add-on")
    serve_cmd.add_argument("--tls", action="store_true",
                           help="serve HTTPS with a generated CA (needs the openssl command)")
    serve_cmd.set_defaults(func=serve)
    demo_cmd = commands.add_parser("demo", help="a narrated tour of the cluster in the terminal")
    demo_cmd.add_argument("--nodes", type=int, default=3)
    demo_cmd.add_argument("--seed", type=int, default=0)
    demo_cmd.add_argument("--pause", action="store_true", help="wait for Enter between steps")
    demo_cmd.set_defaults(func=demo)
    return root


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
