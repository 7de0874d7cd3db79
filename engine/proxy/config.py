"""KubeProxyConfiguration (``kubeproxy.config.k8s.io/v1alpha1``): kube-proxy's config file.

kubeadm writes it into the ``kube-proxy`` ConfigMap as ``config.conf`` (with
``kubeconfig.conf`` beside it) and the DaemonSet mounts it at
``/var/lib/kube-proxy``; kube-proxy reads it with ``--config``. Zero
values mean "default", as upstream's ``SetDefaults_KubeProxyConfiguration``
does: ``mode: ""`` is iptables on Linux, ``iptables.minSyncPeriod: 0s`` is
1 s, ``syncPeriod: 0s`` is 30 s, ``masqueradeBit: null`` is 14,
``localhostNodePorts: null`` is true, ``ipvs.scheduler: ""`` is rr,
``healthzBindAddress: ""`` is 0.0.0.0:10256.
``parse`` reads the YAML; ``render`` writes kubeadm's file for a mode and
cluster CIDR. Both pure.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import yaml

from engine import flags

API_VERSION = "kubeproxy.config.k8s.io/v1alpha1"
MODES = ("iptables", "ipvs")


@dataclass
class KubeProxyConfiguration:
    mode: str = "iptables"
    cluster_cidr: str = ""
    hostname_override: str = ""
    kubeconfig: str = "/var/lib/kube-proxy/kubeconfig.conf"
    masquerade_all: bool = flags.masquerade_all
    masquerade_bit: int = flags.iptables_masquerade_bit
    localhost_node_ports: bool = True
    iptables_min_sync_period: float = flags.iptables_min_sync_period
    iptables_sync_period: float = flags.iptables_sync_period
    ipvs_min_sync_period: float = flags.ipvs_min_sync_period
    ipvs_sync_period: float = flags.ipvs_sync_period
    ipvs_scheduler: str = flags.ipvs_scheduler
    node_port_addresses: list[str] = field(default_factory=list)
    healthz_bind_address: str = "0.0.0.0:10256"


def parse_duration(text: str | int | float | None) -> float:
    """A Go duration (``1s``, ``30s``, ``1m0s``, ``500ms``) in seconds; empty or None is 0."""
    if text in (None, ""):
        return 0.0
    if isinstance(text, (int, float)):
        return float(text)
    units = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001, "us": 1e-6, "ns": 1e-9}
    total, matched = 0.0, ""
    for number, unit in re.findall(r"([0-9.]+)(ms|us|ns|h|m|s)", text):
        total += float(number) * units[unit]
        matched += number + unit
    if matched != text:
        raise ValueError(f"time: invalid duration {text!r}")
    return total


def parse(text: str) -> KubeProxyConfiguration:
    """A KubeProxyConfiguration from its YAML, defaults applied."""
    data = yaml.safe_load(text) or {}
    if data.get("kind") not in (None, "KubeProxyConfiguration"):
        raise ValueError(f"no kind \"{data.get('kind')}\" is registered for version \"{data.get('apiVersion')}\"")
    iptables = data.get("iptables") or {}
    ipvs = data.get("ipvs") or {}
    mode = data.get("mode") or "iptables"
    if mode not in MODES:
        raise ValueError(f"KubeProxyConfiguration.Mode: Invalid value: {mode!r}: must be iptables or ipvs")
    return KubeProxyConfiguration(
        mode=mode, cluster_cidr=data.get("clusterCIDR") or "", hostname_override=data.get("hostnameOverride") or "",
        kubeconfig=(data.get("clientConnection") or {}).get("kubeconfig") or "/var/lib/kube-proxy/kubeconfig.conf",
        masquerade_all=bool(iptables.get("masqueradeAll")),
        masquerade_bit=flags.iptables_masquerade_bit if iptables.get("masqueradeBit") is None
        else int(iptables["masqueradeBit"]),
        localhost_node_ports=iptables.get("localhostNodePorts") is not False,
        iptables_min_sync_period=parse_duration(iptables.get("minSyncPeriod")) or flags.iptables_min_sync_period,
        iptables_sync_period=parse_duration(iptables.get("syncPeriod")) or flags.iptables_sync_period,
        ipvs_min_sync_period=parse_duration(ipvs.get("minSyncPeriod")) or flags.ipvs_min_sync_period,
        ipvs_sync_period=parse_duration(ipvs.get("syncPeriod")) or flags.ipvs_sync_period,
        ipvs_scheduler=ipvs.get("scheduler") or flags.ipvs_scheduler,
        node_port_addresses=list(data.get("nodePortAddresses") or []),
        healthz_bind_address=data.get("healthzBindAddress") or "0.0.0.0:10256")


def render(mode: str = "", cluster_cidr: str = "") -> str:
    """kubeadm's ``config.conf``: every field at its zero value but mode and clusterCIDR."""
    document = {
        "apiVersion": API_VERSION, "bindAddress": "0.0.0.0", "bindAddressHardFail": False,
        "clientConnection": {"acceptContentTypes": "", "burst": 0, "contentType": "",
                             "kubeconfig": "/var/lib/kube-proxy/kubeconfig.conf", "qps": 0},
        "clusterCIDR": cluster_cidr, "configSyncPeriod": "0s",
        "conntrack": {"maxPerCore": None, "min": None, "tcpBeLiberal": False, "tcpCloseWaitTimeout": None,
                      "tcpEstablishedTimeout": None, "udpStreamTimeout": "0s", "udpTimeout": "0s"},
        "detectLocal": {"bridgeInterface": "", "interfaceNamePrefix": ""}, "detectLocalMode": "",
        "enableProfiling": False, "healthzBindAddress": "", "hostnameOverride": "",
        "iptables": {"localhostNodePorts": None, "masqueradeAll": False, "masqueradeBit": None,
                     "minSyncPeriod": "0s", "syncPeriod": "0s"},
        "ipvs": {"excludeCIDRs": None, "minSyncPeriod": "0s", "scheduler": "", "strictARP": False,
                 "syncPeriod": "0s", "tcpFinTimeout": "0s", "tcpTimeout": "0s", "udpTimeout": "0s"},
        "kind": "KubeProxyConfiguration", "metricsBindAddress": "", "mode": mode,
        "nodePortAddresses": None, "oomScoreAdj": None, "portRange": "", "showHiddenMetricsForVersion": "",
    }
    return yaml.safe_dump(document, sort_keys=False)


def render_kubeconfig(server: str) -> str:
    """kubeadm's ``kubeconfig.conf``: the control-plane endpoint and the ServiceAccount token file."""
    return yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config",
        "clusters": [{"cluster": {"certificate-authority": "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt",
                                  "server": server}, "name": "default"}],
        "contexts": [{"context": {"cluster": "default", "namespace": "default", "user": "default"},
                      "name": "default"}],
        "current-context": "default",
        "users": [{"name": "default",
                   "user": {"tokenFile": "/var/run/secrets/kubernetes.io/serviceaccount/token"}}],
    }, sort_keys=False)
