"""The kubelet's DNS configurer and hosts file (pkg/kubelet/network/dns/dns.go, kubelet_pods.go).

``Configurer.get_pod_dns(pod)`` is GetPodDNS: the CRI ``DNSConfig``
(nameservers, search domains, options) the kubelet puts into the pod's
sandbox config; containerd writes it as the pod's ``/etc/resolv.conf``
(``engine.runtime.containerd.resolv_conf``).
By ``spec.dnsPolicy``:

* ``ClusterFirst`` (the default): nameservers = ``--cluster-dns``; search
  = ``<ns>.svc.<domain> svc.<domain> <domain>`` + the node's search domains
  (duplicates dropped); options = ``ndots:5``. With no cluster DNS configured:
  MissingClusterDNS events (node and pod) and Default instead;
* ``ClusterFirstWithHostNet``: the same, for hostNetwork pods too;
* ``ClusterFirst`` on a hostNetwork pod and ``Default``: the node's
  resolv.conf (``--resolv-conf``, read from the node's filesystem);
* ``None``: nothing but ``spec.dnsConfig``;

then ``spec.dnsConfig`` is appended (nameservers and searches added without
duplicates; options merged by name, the pod's value winning), and the
limits applied: 3 nameservers, 32 search domains, 2048 characters of search
line, no domain over 253 characters, each cut announced by a Warning
``DNSConfigForming`` event with the real message. Options keep their first
appearance's order (the real kubelet's map iteration makes it random).

``hosts_file(...)`` is the kubelet's managed ``/etc/hosts`` (the
boilerplate, ``<podIP> <hostname>.<subdomain>.<ns>.svc.<domain> <hostname>``
or ``<podIP> <hostname>``, then ``# Entries added by HostAliases.``); a
hostNetwork pod gets the node's own hosts file under a header saying so.
``EtcHosts.mounts(pod, pod_ip)`` writes it to
``/var/lib/kubelet/pods/<uid>/etc-hosts`` on the node and returns the bind
mount onto ``/etc/hosts`` (none when the pod has no IP yet or a container
mounts /etc/hosts itself). What this module never does: resolve a name.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from engine import flags
from engine.client.record import WARNING
from engine.runtime.cri import DNSConfig, Mount

if TYPE_CHECKING:
    from engine.client.record import EventRecorder

DEFAULT_DNS_OPTIONS = ["ndots:5"]
MAX_DNS_NAMESERVERS = 3
MAX_DNS_SEARCH_PATHS = 32          # ExpandedDNSConfig (GA since 1.28)
MAX_DNS_SEARCH_LIST_CHARS = 2048
DNS1123_SUBDOMAIN_MAX_LENGTH = 253

MANAGED_HOSTS_HEADER = "# Kubernetes-managed hosts file.\n"
MANAGED_HOSTS_HEADER_HOST_NETWORK = "# Kubernetes-managed hosts file (host network).\n"


def parse_resolv_conf(text: str) -> tuple[list[str], list[str], list[str]]:
    """parseResolvConf: (nameservers, searches, options); nameservers accumulate, the last search/options win."""
    nameservers: list[str] = []
    searches: list[str] = []
    options: list[str] = []
    for line in text.split("\n"):
        trimmed = line.strip()
        if trimmed.startswith("#"):
            continue
        fields = trimmed.split()
        if not fields:
            continue
        if fields[0] == "nameserver" and len(fields) >= 2:
            nameservers.append(fields[1])
        elif fields[0] == "search":
            searches = [s.removesuffix(".") for s in fields[1:]]
        elif fields[0] == "options":
            options = fields[1:]
    return nameservers, searches, options


def _omit_duplicates(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))


def merge_dns_options(existing: list[str], pod_options: list[dict[str, Any]]) -> list[str]:
    """mergeDNSOptions: by option name, the pod's entries overriding; ``name:value`` or bare ``name``."""
    merged: dict[str, str] = {}
    for option in existing:
        name, sep, value = option.partition(":")
        merged[name] = value if sep else ""
    for option in pod_options:
        merged[option["name"]] = str(option["value"]) if option.get("value") is not None else ""
    return [f"{name}:{value}" if value else name for name, value in merged.items()]


def is_host_network(pod: dict) -> bool:
    return bool((pod.get("spec") or {}).get("hostNetwork"))


class Configurer:
    """dns.Configurer: one per kubelet."""

    def __init__(self, recorder: "EventRecorder | None", node_name: str, host_fs: Any, *,
                 cluster_dns: list[str] | None = None, cluster_domain: str | None = None,
                 resolver_config: str | None = None) -> None:
        self.recorder = recorder
        self.node_ref = {"kind": "Node", "name": node_name, "uid": node_name, "namespace": ""}
        self.host_fs = host_fs
        self.cluster_dns = list(flags.cluster_dns if cluster_dns is None else cluster_dns)
        self.cluster_domain = flags.cluster_domain if cluster_domain is None else cluster_domain
        self.resolver_config = flags.resolv_conf if resolver_config is None else resolver_config

    def _event(self, obj: dict, reason: str, message: str) -> None:
        if self.recorder is not None:
            self.recorder.event(obj, WARNING, reason, message)

    def host_dns_config(self) -> DNSConfig:
        """getHostDNSConfig: the node's resolv.conf (empty when ``--resolv-conf`` is empty)."""
        if not self.resolver_config:
            return DNSConfig()
        # A node without the file (a bare runtime in a unit test) counts as an empty one; the real
        # kubelet fails the pod's sandbox instead.
        servers, searches, options = parse_resolv_conf(self.host_fs.get(self.resolver_config, ""))
        return DNSConfig(servers, searches, options)

    def pod_dns_type(self, pod: dict) -> str:
        """getPodDNSType: "cluster", "host" or "none"."""
        policy = (pod.get("spec") or {}).get("dnsPolicy", "ClusterFirst")
        if policy == "None":
            return "none"
        if policy == "ClusterFirstWithHostNet":
            return "cluster"
        if policy == "ClusterFirst" and not is_host_network(pod):
            return "cluster"
        return "host"

    def get_pod_dns(self, pod: dict) -> DNSConfig:
        """GetPodDNS."""
        config = self.host_dns_config()
        kind = self.pod_dns_type(pod)
        if kind == "none":
            config = DNSConfig()
        elif kind == "cluster" and self.cluster_dns:
            namespace = pod["metadata"].get("namespace", "default")
            searches = config.searches
            if self.cluster_domain:
                searches = _omit_duplicates([f"{namespace}.svc.{self.cluster_domain}", f"svc.{self.cluster_domain}",
                                             self.cluster_domain] + searches)
            config = DNSConfig(list(self.cluster_dns), searches, list(DEFAULT_DNS_OPTIONS))
        elif kind == "cluster":
            message = ('kubelet does not have ClusterDNS IP configured and cannot create Pod using "ClusterFirst" '
                       'policy. Falling back to "Default" policy.')
            self._event(self.node_ref, "MissingClusterDNS", message)
            meta = pod["metadata"]
            self._event(pod, "MissingClusterDNS", f'pod: "{meta["name"]}_{meta.get("namespace", "default")}'
                                                  f'({meta.get("uid", "")})". {message}')
        if kind != "none" and not self.resolver_config and not (kind == "cluster" and self.cluster_dns):
            config = DNSConfig(["127.0.0.1"], ["."], config.options)
        dns_config = (pod.get("spec") or {}).get("dnsConfig")
        if dns_config:
            config = DNSConfig(_omit_duplicates(config.servers + list(dns_config.get("nameservers") or [])),
                               _omit_duplicates(config.searches + list(dns_config.get("searches") or [])),
                               merge_dns_options(config.options, list(dns_config.get("options") or [])))
        return self._fits_limits(config, pod)

    def _fits_limits(self, config: DNSConfig, pod: dict) -> DNSConfig:
        servers = config.servers
        if len(servers) > MAX_DNS_NAMESERVERS:
            servers = servers[:MAX_DNS_NAMESERVERS]
            self._event(pod, "DNSConfigForming", "Nameserver limits were exceeded, some nameservers have been "
                                                 f"omitted, the applied nameserver line is: {' '.join(servers)}")
        return DNSConfig(servers, self._search_fits_limits(config.searches, pod), config.options)

    def _search_fits_limits(self, searches: list[str], pod: dict) -> list[str]:
        exceeded = False
        if len(searches) > MAX_DNS_SEARCH_PATHS:
            searches, exceeded = searches[:MAX_DNS_SEARCH_PATHS], True
        kept = [s for s in searches if len(s) <= DNS1123_SUBDOMAIN_MAX_LENGTH]
        exceeded = exceeded or len(kept) != len(searches)
        searches = kept
        length = len(" ".join(searches))
        if length > MAX_DNS_SEARCH_LIST_CHARS:
            cut, cut_length = 0, 0
            for domain in reversed(searches):
                cut_length += len(domain) + 1
                cut += 1
                if length - cut_length <= MAX_DNS_SEARCH_LIST_CHARS:
                    break
            searches, exceeded = searches[: len(searches) - cut], True
        if exceeded:
            self._event(pod, "DNSConfigForming", "Search Line limits were exceeded, some search paths have been "
                                                 f"omitted, the applied search line is: {' '.join(searches)}")
        return searches

    def check_limits_for_resolv_conf(self) -> None:
        """CheckLimitsForResolvConf: Warning events on the node when its own resolv.conf would not fit."""
        try:
            _, searches, _ = parse_resolv_conf(self.host_fs[self.resolver_config])
        except KeyError:
            self._event(self.node_ref, "CheckLimitsForResolvConf",
                        f"open {self.resolver_config}: no such file or directory")
            return
        limit = MAX_DNS_SEARCH_PATHS - (3 if self.cluster_domain else 0)
        if len(searches) > limit:
            self._event(self.node_ref, "CheckLimitsForResolvConf", f"Resolv.conf file '{self.resolver_config}' "
                                                                   f"contains search line consisting of more than {limit} domains!")
        elif any(len(s) > DNS1123_SUBDOMAIN_MAX_LENGTH for s in searches):
            self._event(self.node_ref, "CheckLimitsForResolvConf",
                        f'Resolv.conf file "{self.resolver_config}" contains a search path which length is more '
                        f"than allowed {DNS1123_SUBDOMAIN_MAX_LENGTH} chars!")
        elif len(" ".join(searches)) > MAX_DNS_SEARCH_LIST_CHARS:
            self._event(self.node_ref, "CheckLimitsForResolvConf", f"Resolv.conf file '{self.resolver_config}' "
                                                                   f"contains search line which length is more than "
                                                                   f"allowed {MAX_DNS_SEARCH_LIST_CHARS} chars!")


# -- /etc/hosts ------------------------------------------------------------------------------------

def pod_hostname_and_domain(pod: dict, cluster_domain: str) -> tuple[str, str]:
    """GeneratePodHostNameAndDomain: (hostname, ``<subdomain>.<ns>.svc.<domain>`` or "")."""
    spec, meta = pod.get("spec") or {}, pod["metadata"]
    hostname = (spec.get("hostname") or meta["name"])[:63].rstrip("-.")
    domain = ""
    if spec.get("subdomain"):
        domain = f"{spec['subdomain']}.{meta.get('namespace', 'default')}.svc.{cluster_domain}"
    return hostname, domain


def _host_aliases(aliases: list[dict[str, Any]]) -> str:
    if not aliases:
        return ""
    lines = "".join(f"{a['ip']}\t{chr(9).join(a.get('hostnames') or [])}\n" for a in aliases)
    return "\n# Entries added by HostAliases.\n" + lines


def hosts_file(pod: dict, pod_ips: list[str], cluster_domain: str, node_hosts: str = "") -> str:
    """The hosts file the kubelet writes for ``pod`` (managedHostsFileContent / nodeHostsFileContent)."""
    aliases = list((pod.get("spec") or {}).get("hostAliases") or [])
    if is_host_network(pod):
        return MANAGED_HOSTS_HEADER_HOST_NETWORK + node_hosts + _host_aliases(aliases)
    hostname, domain = pod_hostname_and_domain(pod, cluster_domain)
    text = (MANAGED_HOSTS_HEADER + "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"
            "fe00::0\tip6-localnet\nfe00::0\tip6-mcastprefix\nfe00::1\tip6-allnodes\nfe00::2\tip6-allrouters\n")
    for ip in pod_ips:
        text += f"{ip}\t{hostname}.{domain}\t{hostname}\n" if domain else f"{ip}\t{hostname}\n"
    return text + _host_aliases(aliases)


@dataclass
class EtcHosts:
    """makeHostsMount: the pod's hosts file on the node, bind-mounted at /etc/hosts."""

    host_fs: Any
    cluster_domain: str = field(default_factory=lambda: flags.cluster_domain)
    root_dir: str = "/var/lib/kubelet"

    def mounts(self, pod: dict, container: dict, pod_ip: str) -> list[Mount]:
        if not pod_ip or any(m.get("mountPath") == "/etc/hosts" for m in container.get("volumeMounts") or []):
            return []
        path = f"{self.root_dir}/pods/{pod['metadata']['uid']}/etc-hosts"
        self.host_fs[path] = hosts_file(pod, [pod_ip], self.cluster_domain, self.host_fs.get("/etc/hosts", ""))
        return [Mount("/etc/hosts", path)]
