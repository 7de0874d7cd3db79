"""``kubeadm init`` phase ``addon``, and the add-ons installed after it: what turns a control plane into a cluster.

After the control plane answers, ``kubeadm init`` installs two *essential
add-ons* through the API server, as ordinary objects (``phases/addons``),
in this order:

    coredns      Deployment ``coredns`` (2 replicas), ConfigMap ``coredns`` (the Corefile),
                 Service ``kube-dns`` at the service subnet's 10th address, its ServiceAccount and RBAC
    kube-proxy   DaemonSet ``kube-proxy``, ConfigMap ``kube-proxy`` (``config.conf``: mode, clusterCIDR;
                 ``kubeconfig.conf``: straight to the control-plane endpoint), ServiceAccount, RBAC

and prints ``[addons] Applied essential addon: CoreDNS`` and ``... kube-proxy``.
CoreDNS stays Pending until a pod network exists: kubeadm does not pick one.
The administrator then applies the CNI add-on's own manifest
(``kubectl apply -f kube-flannel.yml`` or calico's), whose DaemonSet puts the
network agent and the CNI config on every node, and any other add-on
(metrics-server, a logging agent).

The add-on packages own their manifests: each exposes ``manifests(...)``
returning the objects (``engine.dns.manifests(config)``,
``engine.proxy.manifests({"mode", "clusterCIDR", "controlPlaneEndpoint"})``,
``engine.network.manifests(plugin)``,
``engine.addons.manifests(config)``) and may expose
``register_images(registry)`` to publish the images its pods run. This
module only knows the order (``ADDONS``) and applies what they return, as the
admin, the way ``kubectl apply`` does. A package that is not installed (or
has no ``manifests`` yet) is skipped, and says so in the log.
"""

from __future__ import annotations

import importlib
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

from engine.kubeadm.apiclient import create_or_update
from engine.kubeadm.config import InitConfiguration
from engine.kubectl.apply import apply_one

if TYPE_CHECKING:
    from engine.client.client import Client
    from engine.runtime.images import Registry

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Addon:
    """One add-on: its name as kubeadm prints it, the package providing it, and what its ``manifests`` takes."""

    name: str
    module: str
    argument: Callable[[InitConfiguration], Any] = lambda config: config
    essential: bool = False
    """kubeadm's own (the ``addon`` phase); the others are applied after ``kubeadm init``, as an admin would."""

    def package(self) -> Any | None:
        """The add-on's package, or None when it is not installed or provides no manifests yet."""
        found = self._import(self.module)
        if found is None:
            return None
        if callable(getattr(found, "manifests", None)):
            return found
        # the function may live in the package's own ``manifests`` module (``engine.network.manifests``)
        inner = self._import(f"{self.module}.manifests")
        return inner if inner is not None and callable(getattr(inner, "manifests", None)) else None

    @staticmethod
    def _import(name: str) -> Any | None:
        try:
            return importlib.import_module(name)
        except ModuleNotFoundError as error:
            if error.name is not None and (name + ".").startswith(error.name + "."):
                return None        # the module itself is missing (an import inside it failing is a bug: raised)
            raise


def kube_proxy_configuration(config: InitConfiguration) -> dict[str, str]:
    """What kubeadm fills into kube-proxy's config from the ClusterConfiguration (``engine.proxy.manifests``'s keys)."""
    return {"mode": config.proxy_mode, "clusterCIDR": config.pod_subnet,
            "controlPlaneEndpoint": config.control_plane_endpoint}


ADDONS: list[Addon] = [
    Addon("CoreDNS", "engine.dns", essential=True),
    Addon("kube-proxy", "engine.proxy", argument=kube_proxy_configuration, essential=True),
    Addon("pod network", "engine.network", argument=lambda config: config.network),
    Addon("add-ons", "engine.addons"),
]
"""In the order a kubeadm cluster gets them: the addon phase, then the CNI manifest, then the rest."""


def apply_addons(admin: "Client", config: InitConfiguration, registry: "Registry | None" = None) -> list[str]:
    """Apply every installed add-on's manifests in order; returns the lines kubeadm (and kubectl) would print."""
    output = []
    for addon in ADDONS:
        package = addon.package()
        if package is None:
            log.info("add-on %s skipped: %s is not installed", addon.name, addon.module)
            continue
        if registry is not None and callable(getattr(package, "register_images", None)):
            package.register_images(registry)
        for obj in package.manifests(addon.argument(config)):
            if addon.essential:
                create_or_update(admin, obj)          # kubeadm writes its add-ons with plain creates
            else:
                output.append(_kubectl_line(*apply_one(admin, obj, None)))
        if addon.essential:
            output.append(f"[addons] Applied essential addon: {addon.name}")
    return output


def _kubectl_line(obj: dict, action: str) -> str:
    """``kubectl apply``'s line for one object: ``daemonset.apps/kube-flannel-ds created``."""
    group = obj["apiVersion"].split("/")[0] if "/" in obj["apiVersion"] else ""
    kind = obj["kind"].lower() + (f".{group}" if group else "")
    return f"{kind}/{obj['metadata']['name']} {action}"
