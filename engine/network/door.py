"""``Cluster.curl``'s lookups: which namespace a source name means, and whose files resolve its names.

A source is a node name (``node-1``: the node's own stack and files, where a
cluster name does not resolve, as on a real node) or a pod, ``name`` in
``default`` or ``namespace/name``: its network namespace and its first
running container's files (``/etc/resolv.conf``, ``/etc/hosts``), as
``kubectl exec POD -- curl URL`` would use. A hostNetwork pod uses its
node's stack with its own files. ``lookup_from`` is the same source's name lookup alone
(``host -t SRV ...``): the resolver's record of its search-list walk and the packets' hops.
"""

from __future__ import annotations

from typing import Any

from engine.api import errors
from engine.network.curl import CurlResult, Resolver, curl
from engine.network.fabric import Endpoint, Fabric
from engine.network.packet import Hop, Trace


def _fabric(cluster: Any) -> Fabric:
    fabric = getattr(cluster, "fabric", None)
    if fabric is None:
        raise RuntimeError("this cluster has no network add-on: create it with one (network='flannel' or "
                           "'calico') to carry packets")
    return fabric


def source_of(cluster: Any, source: str) -> tuple[Endpoint, dict[str, str]]:
    """The endpoint a request leaves from, and the files its resolver reads."""
    fabric = _fabric(cluster)
    if source in fabric.hosts:
        host = fabric.hosts[source]
        return host, host.runtime.host_fs if host.runtime is not None else {}
    namespace, _, name = source.rpartition("/")
    namespace = namespace or "default"
    pod = cluster.admin.get("pods", name, namespace)
    node = (pod.get("spec") or {}).get("nodeName")
    host = fabric.hosts.get(node or "")
    if host is None or host.runtime is None:
        raise errors.bad_request(f"pod {namespace}/{name} is not running on a node yet")
    uid = pod["metadata"]["uid"]
    runtime = host.runtime
    sandboxes = [s for s in runtime.list_pod_sandbox() if s.metadata.uid == uid and s.state == "SANDBOX_READY"]
    if not sandboxes:
        raise errors.bad_request(f"pod {namespace}/{name} has no running sandbox (is it Running?)")
    sandbox_id = sandboxes[-1].id
    files: dict[str, str] = {}
    programs = host.programs_of(sandbox_id)
    if programs:
        files = programs[0].ctx.fs
    netns = next((n for n in host.pods.values() if n.sandbox_id == sandbox_id), None)
    return (netns if netns is not None else host), files


def curl_from(cluster: Any, source: str, url: str, **options: Any) -> CurlResult:
    origin, files = source_of(cluster, source)
    return curl(_fabric(cluster), origin, url, files=files, random=cluster.loop.random, **options)


def lookup_from(cluster: Any, source: str, name: str, qtype: str = "A") -> tuple[Any, list[Hop]]:
    """``host -t QTYPE NAME`` from a pod or node: the stub resolver's ``engine.dns.resolver.Lookup`` (every
    query of the search-list walk, the last answer) and the hops of its packets (for ``packet_path``)."""
    origin, files = source_of(cluster, source)
    trace = Trace()
    found = Resolver(_fabric(cluster), origin, files, cluster.loop.random).record(name, qtype, trace)
    return found, trace.hops
