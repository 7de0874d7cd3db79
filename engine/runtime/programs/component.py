"""A Kubernetes component as the process of a container: kube-proxy, CoreDNS, a CNI agent, metrics-server...

In a kubeadm cluster only the control plane and the kubelet run on the
machine; kube-proxy, the CNI agents, CoreDNS and the other add-ons are pods
(DaemonSets and Deployments in ``kube-system``) whose container runs the
component's binary. ``ComponentProgram`` is that binary: a subclass names the
engine's component class (``target = "engine.proxy:KubeProxy"``, a class
taking a ``ComponentContext`` with ``start()`` / ``stop()``, exactly like an
entry of ``engine.components``) and registers an image running it.

On start the program does what such a binary does in its ``main``:

1. parses its flags from argv (``--proxy-mode=ipvs``, ``-conf /etc/coredns/Corefile``;
   ``--flag value`` and ``--flag=value``, one or two dashes, a flag without a
   value is ``"true"``) into ``options``, keyed by the flag's name (``options["proxy-mode"]``);
2. builds its client configuration as client-go does: from ``--kubeconfig=PATH``
   (the file's current context: its cluster's ``server``, its user's ``token``
   or ``tokenFile``) when given, else the **in-cluster config** (``rest.InClusterConfig``):
   the server from ``KUBERNETES_SERVICE_HOST`` / ``KUBERNETES_SERVICE_PORT`` (the
   kubelet's Service environment variables) and the bearer token from
   ``/var/run/secrets/kubernetes.io/serviceaccount/token`` (the pod's projected
   ServiceAccount token). A missing variable or token file is fatal: the
   error goes to stderr and the process exits 1, as the real binaries do;
3. dials the server with ``ctx.dial(host, port)``: the API server's endpoint
   when the address reaches it (directly at ``172.18.0.2:6443``, or the
   ``kubernetes`` Service's VIP once kube-proxy routes it); a refused or
   timed-out connection is logged and retried with back-off (1 s doubling to 30 s);
4. starts the component with ``ComponentContext(name, client, loop, node_name,
   options)``: ``node_name`` is ``$NODE_NAME`` (the DaemonSets set it from
   ``spec.nodeName`` with the downward API), ``options`` are the flags plus
   ``options["fs"]`` (the container's filesystem: config files mounted from
   ConfigMaps) and, in a hostNetwork pod only, ``options["machine"]`` (the
   node's Machine, whose network stack kube-proxy and the CNI agents program).

The client authenticates every request with the pod's ServiceAccount token,
so RBAC decides what the component may do and its writes and events are the
ServiceAccount's. The token file is read again every minute (client-go's
cached file token source), so the kubelet's token rotation reaches the
component. SIGTERM (or SIGINT) stops the component and exits 0; however the
process ends (SIGKILL, the OOM killer), the component stops with it: its
informers, timers and connections die with the process.

What it never does: reach the API server other than through ``ctx.dial``, or
hand the component anything of the node beyond what the pod's spec grants.
"""

from __future__ import annotations

import datetime as _dt
import importlib
from typing import Any
from urllib.parse import urlsplit

import yaml

from engine.api.meta import EPOCH
from engine.components import ComponentContext
from engine.runtime.programs.base import Program
from engine.sim.hostnet import ConnectionRefused

SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"
TOKEN_FILE = f"{SERVICE_ACCOUNT_DIR}/token"
TOKEN_RELOAD_SECONDS = 60.0
"""client-go's file token source re-reads the token once a minute."""
DIAL_BACKOFF_INITIAL = 1.0
DIAL_BACKOFF_MAX = 30.0
SIGINT = 2
SIGTERM = 15

NOT_IN_CLUSTER = ("unable to load in-cluster configuration, KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT "
                  "must be defined")
"""client-go's rest.ErrNotInCluster."""


class ConfigError(Exception):
    """The client configuration cannot be built: the binary reports it and exits 1."""


def parse_flags(args: list[str]) -> dict[str, str]:
    """Flags as pflag / Go's flag package read them: ``--name=value``, ``--name value``, ``-name``, ``--flag``."""
    options: dict[str, str] = {}
    index = 0
    while index < len(args):
        arg = args[index]
        index += 1
        if not arg.startswith("-") or arg in ("-", "--"):
            continue
        name, equals, value = arg.lstrip("-").partition("=")
        if not equals:
            if index < len(args) and not args[index].startswith("-"):
                value = args[index]
                index += 1
            else:
                value = "true"
        options[name] = value
    return options


class ComponentProgram(Program):
    """The process of a component's container; subclasses set ``name`` and ``target``."""

    name = "component"
    """The component's name (its ``ComponentContext.name``, its EventRecorder's source)."""
    target = ""
    """``"module:Class"`` of the component the binary runs."""

    component: Any = None
    client: Any = None

    def start(self, ctx: Any) -> None:
        super().start(ctx)
        self.options: dict[str, Any] = parse_flags(list(ctx.argv[1:]))
        self._backoff = DIAL_BACKOFF_INITIAL
        try:
            self._host, self._port, self._token_file, self._token = self.rest_config()
        except ConfigError as error:
            self.log("E", str(error))
            ctx.exit(1)
            return
        self._connect()

    # -- the client configuration -------------------------------------------------
    def kubeconfig_path(self) -> str | None:
        """Where the kubeconfig is (``--kubeconfig``); a component reading it from its config file overrides this."""
        return self.options.get("kubeconfig")

    def rest_config(self) -> tuple[str, int, str | None, str | None]:
        """(host, port, token file, token): from the kubeconfig when there is one, else in-cluster."""
        path = self.kubeconfig_path()
        if path:
            return self._from_kubeconfig(path)
        env = self.ctx.env
        host, port = env.get("KUBERNETES_SERVICE_HOST"), env.get("KUBERNETES_SERVICE_PORT")
        if not host or not port:
            raise ConfigError(NOT_IN_CLUSTER)
        return host, int(port), TOKEN_FILE, self._read(TOKEN_FILE)

    def _from_kubeconfig(self, path: str) -> tuple[str, int, str | None, str | None]:
        config = yaml.safe_load(self._read(path)) or {}

        def entry(kind: str, name: str) -> dict:
            found = next((item for item in config.get(kind) or [] if item.get("name") == name), None)
            if found is None:
                raise ConfigError(f'invalid configuration: {kind[:-1]} "{name}" not found in {path}')
            return found

        context = entry("contexts", config.get("current-context", ""))["context"]
        cluster = entry("clusters", context.get("cluster", ""))["cluster"]
        user = entry("users", context.get("user", ""))["user"] if context.get("user") else {}
        server = urlsplit(cluster.get("server", ""))
        if not server.hostname:
            raise ConfigError(f'invalid configuration: no server found for cluster "{context.get("cluster")}"')
        port = server.port or (443 if server.scheme == "https" else 80)
        token_file = user.get("tokenFile")
        token = self._read(token_file) if token_file else user.get("token")
        return server.hostname, port, token_file, token

    def _read(self, path: str) -> str:
        content = self.ctx.fs.get(path)
        if content is None:
            raise ConfigError(f"open {path}: no such file or directory")
        return content.strip()

    # -- connecting and running ----------------------------------------------------
    def _connect(self) -> None:
        try:
            endpoint = self.ctx.dial(self._host, self._port)
        except (ConnectionRefused, OSError) as error:      # refused, or an i/o timeout through the network
            self.log("E", f'Failed to connect to the API server: Get "https://{self._host}:{self._port}/version": '
                          f"{error}")
            self.ctx.call_later(self._backoff, self._connect)
            self._backoff = min(self._backoff * 2, DIAL_BACKOFF_MAX)
            return
        self.client = endpoint.client(self._token, name=self.name)
        options = {**self.options, "fs": self.ctx.fs, **self.component_options()}
        if self.ctx.machine is not None:
            options["machine"] = self.ctx.machine
        context = ComponentContext(name=self.name, client=self.client, loop=self.ctx.loop,
                                   node_name=self.ctx.env.get("NODE_NAME") or None, options=options)
        module_name, _, class_name = self.target.partition(":")
        self.component = getattr(importlib.import_module(module_name), class_name)(context)
        self.ctx.at_exit(self._halt)
        self.component.start()
        self.log("I", f"Started {self.name}")
        if self._token_file:
            self.ctx.call_later(TOKEN_RELOAD_SECONDS, self._reload_token)

    def component_options(self) -> dict[str, Any]:
        """What a binary hands its component beyond flags and files (CoreDNS: its log and its DNS client)."""
        return {}

    def _reload_token(self) -> None:
        try:
            self.client.token = self._read(self._token_file)
        except ConfigError as error:
            self.log("E", str(error))
        self.ctx.call_later(TOKEN_RELOAD_SECONDS, self._reload_token)

    def on_signal(self, signal: int) -> None:
        """SIGTERM / SIGINT: stop the component (its informers, loops, leases) and exit 0."""
        if signal not in (SIGTERM, SIGINT):
            super().on_signal(signal)
            return
        self._halt()
        self.ctx.exit(0)

    def _halt(self) -> None:
        component, self.component = self.component, None
        if component is not None:
            component.stop()

    def log(self, level: str, message: str) -> None:
        """A klog line on stderr: ``E0101 00:00:05.000000       1 <name>] message``."""
        moment = EPOCH + _dt.timedelta(seconds=self.ctx.now)
        self.ctx.stderr(f"{level}{moment:%m%d %H:%M:%S.%f}       1 {self.name}] {message}\n")
