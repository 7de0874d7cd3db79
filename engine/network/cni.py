"""CNI: how containerd gives a pod sandbox its network, by running the plugin chain from ``/etc/cni/net.d``.

On RunPodSandbox containerd creates the sandbox's network namespace and runs
**ADD** of the first network configuration list in ``/etc/cni/net.d``
(lexical order: ``10-flannel.conflist`` before ``99-loopback.conf``), the
plugins in order, each handed the previous one's result; on StopPodSandbox
it runs **DEL**, the plugins in reverse. The environment a plugin gets is
the spec's: ``CNI_COMMAND``, ``CNI_CONTAINERID`` (the sandbox id),
``CNI_NETNS``, ``CNI_IFNAME=eth0`` and ``CNI_ARGS`` with
``K8S_POD_NAMESPACE``, ``K8S_POD_NAME``, ``K8S_POD_INFRA_CONTAINER_ID``,
``K8S_POD_UID``. The result of ADD (the pod's IPs, interfaces, routes) is
cached at ``/var/lib/cni/results/<network>-<id>-eth0`` so DEL has it. A
plugin whose ``capabilities`` ask for ``portMappings`` gets the sandbox's
host ports in ``runtimeConfig.portMappings`` (libcni's capability args).

Which plugins exist is ``engine.network.cni_plugins.PLUGINS`` (what
``/opt/cni/bin`` holds): ``flannel``, ``bridge``, ``host-local``,
``calico``, ``portmap``. With no configuration yet (the network add-on's
DaemonSet has not written one) ADD fails with containerd's ``cni plugin not
initialized`` and the runtime reports ``NetworkReady=false``.

``CNIExecutor`` is what ``RuntimeService.cni`` points at: ``add(sandbox_id)
-> pod IP`` and ``delete(sandbox_id)``. It never decides an address itself:
IPAM plugins do.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable

if TYPE_CHECKING:
    from engine.network.host import Host
    from engine.runtime.containerd import RuntimeService

CNI_CONF_DIR = "/etc/cni/net.d"
CNI_BIN_DIR = "/opt/cni/bin"
RESULTS_DIR = "/var/lib/cni/results"


class CNIError(Exception):
    """A plugin's failure, worded as containerd reports it (``plugin type="flannel" failed (add): ...``)."""


@dataclass
class Invocation:
    """One plugin call: the command, the sandbox, the pod, and the node it runs on."""

    command: str
    container_id: str
    netns: str
    ifname: str
    args: dict[str, str]
    host: "Host"
    fs: dict[str, str]
    """The node's filesystem (config files, IPAM state)."""
    network: str = ""
    scratch: dict[str, Any] = field(default_factory=dict)
    choose_address: Callable[[str, list[str], str | None], str | None] | None = None
    """host-local's choice of a pod address, replaced (a lab's seam; ``CNIExecutor.choose_address``)."""

    @property
    def pod(self) -> str:
        return f"{self.args.get('K8S_POD_NAMESPACE', '')}/{self.args.get('K8S_POD_NAME', '')}"


def load_network_config(fs: dict[str, str]) -> dict | None:
    """The first ``*.conflist`` / ``*.conf`` in ``/etc/cni/net.d`` (a ``.conf`` becomes a one-plugin list)."""
    prefix = CNI_CONF_DIR + "/"
    names = sorted(path for path in fs if path.startswith(prefix) and "/" not in path[len(prefix):]
                   and path.endswith((".conflist", ".conf", ".json")))
    for path in names:
        try:
            config = json.loads(fs[path])
        except ValueError:
            continue
        if "plugins" not in config:
            config = {"cniVersion": config.get("cniVersion", "0.3.1"), "name": config.get("name", ""),
                      "plugins": [config]}
        return config
    return None


class CNIExecutor:
    """containerd's CNI library (go-cni / libcni) on one node."""

    def __init__(self, host: "Host", runtime: "RuntimeService") -> None:
        self.host = host
        self.runtime = runtime
        self.choose_address: Callable[[str, list[str], str | None], str | None] | None = None
        """None: host-local picks pod addresses itself; a lab plugs the learner's choice in here."""

    @property
    def fs(self) -> dict[str, str]:
        return self.runtime.host_fs

    def ready(self) -> bool:
        """NetworkReady: a network configuration exists."""
        return load_network_config(self.fs) is not None

    def add(self, sandbox_id: str) -> str:
        """ADD: the plugin chain for a new sandbox; returns the pod's IP."""
        from engine.network.cni_plugins import PLUGINS
        config = load_network_config(self.fs)
        if config is None:
            raise CNIError("cni plugin not initialized")
        invocation = self._invocation("ADD", sandbox_id, config)
        result: dict | None = None
        for plugin in config["plugins"]:
            kind = plugin.get("type", "")
            run = PLUGINS.get(kind)
            if run is None:
                raise CNIError(f'plugin type="{kind}" failed (add): failed to find plugin "{kind}" in path '
                               f"[{CNI_BIN_DIR}]")
            conf = self._runtime_config({"cniVersion": config.get("cniVersion"), "name": config.get("name"),
                                         **plugin}, sandbox_id)
            if result is not None:
                conf["prevResult"] = result
            try:
                result = run(conf, invocation)
            except CNIError as error:
                raise CNIError(f'plugin type="{kind}" failed (add): {error}') from None
        if not result or not result.get("ips"):
            raise CNIError("the plugin chain returned no IP")
        self.fs[self._cache_path(config, sandbox_id)] = json.dumps({"kind": "cniCacheV1",
                                                                    "containerId": sandbox_id,
                                                                    "ifName": "eth0", "networkName": config["name"],
                                                                    "cniArgs": invocation.args,
                                                                    "result": result})
        return result["ips"][0]["address"].split("/")[0]

    def delete(self, sandbox_id: str) -> None:
        """DEL: the chain in reverse order; a missing configuration or result is not an error (the spec)."""
        from engine.network.cni_plugins import PLUGINS
        config = load_network_config(self.fs)
        if config is None:
            return
        invocation = self._invocation("DEL", sandbox_id, config)
        cached = self.fs.pop(self._cache_path(config, sandbox_id), None)
        if cached is not None:
            invocation.scratch["result"] = json.loads(cached)["result"]
        for plugin in reversed(config["plugins"]):
            run = PLUGINS.get(plugin.get("type", ""))
            if run is not None:
                run(self._runtime_config({"cniVersion": config.get("cniVersion"), "name": config.get("name"),
                                          **plugin}, sandbox_id), invocation)

    def _runtime_config(self, conf: dict, sandbox_id: str) -> dict:
        """libcni's injectRuntimeConfig: a plugin whose ``capabilities`` ask for ``portMappings`` gets the
        sandbox's in ``runtimeConfig`` (containerd passes them on ADD and DEL alike)."""
        if not (conf.get("capabilities") or {}).get("portMappings"):
            return conf
        lister = getattr(self.runtime, "cni_port_mappings", None)
        mappings = lister(sandbox_id) if lister is not None else []
        if mappings:
            conf["runtimeConfig"] = {**(conf.get("runtimeConfig") or {}), "portMappings": mappings}
        return conf

    def _cache_path(self, config: dict, sandbox_id: str) -> str:
        return f"{RESULTS_DIR}/{config['name']}-{sandbox_id}-eth0"

    def _invocation(self, command: str, sandbox_id: str, config: dict) -> Invocation:
        status = self.runtime.pod_sandbox_status(sandbox_id)
        meta = status.metadata
        args = {"IgnoreUnknown": "1", "K8S_POD_NAMESPACE": meta.namespace, "K8S_POD_NAME": meta.name,
                "K8S_POD_INFRA_CONTAINER_ID": sandbox_id, "K8S_POD_UID": meta.uid}
        netns = f"/var/run/netns/cni-{sandbox_id[:8]}-{sandbox_id[8:12]}-{sandbox_id[12:16]}"
        return Invocation(command, sandbox_id, netns, "eth0", args, self.host, self.fs, config.get("name", ""),
                          choose_address=self.choose_address)
