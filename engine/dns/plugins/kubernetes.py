"""CoreDNS's kubernetes plugin: the Kubernetes DNS-based service discovery specification, from informers.

    kubernetes cluster.local in-addr.arpa ip6.arpa {
       pods insecure
       fallthrough in-addr.arpa ip6.arpa
       ttl 30
    }

Records it answers (names relative to the zone ``cluster.local.``), as
CoreDNS v1.11 (plugin/kubernetes: parse.go, kubernetes.go, backend_lookup.go):

* ``svc.ns.svc`` A: the ClusterIP; for a headless Service (clusterIP None)
  one A per ready endpoint address of its EndpointSlices (an endpoint whose
  ``ready`` is unset counts as ready); a headless Service without ready
  endpoints is NXDOMAIN; ExternalName: a CNAME to ``spec.externalName``,
  followed by the target's records looked up through the whole server
  (the plugin's upstream);
* ``host.svc.ns.svc`` A: one endpoint, named by its ``hostname`` (StatefulSet
  pods behind their governing Service) or its address with dashes
  (``10-244-1-5``);
* ``_port._proto.svc.ns.svc`` SRV (and SRV on ``svc.ns.svc``: every port):
  ``0 <100/n> <port> <target>``, the target the Service name (ClusterIP) or
  each endpoint's name (headless), with the target's A in the additional section;
* ``a-b-c-d.ns.pod`` A with ``pods insecure`` (the address from the name,
  only checked to be an address in an existing namespace), ``pods verified``
  (a pod with that IP must exist: a Pod informer), ``pods disabled`` (the default);
* ``ns.svc``, ``svc``, ``pod`` and the zone itself: NODATA when the namespace
  exists, NXDOMAIN otherwise; ``dns-version`` TXT ``"1.1.0"``; the zone's SOA;
* PTR in ``in-addr.arpa``: a ClusterIP -> ``svc.ns.svc.cluster.local.``, an
  endpoint address -> ``host.svc.ns.svc.cluster.local.``; anything not found
  falls through to the next plugin (forward) for the zones listed by ``fallthrough``.

Every answer is authoritative (aa) with the plugin's TTL (``ttl``, default 5,
kubeadm sets 30); NXDOMAIN and NODATA carry the zone's SOA
``ns.dns.<zone> hostmaster.<zone> <serial> 7200 1800 86400 <ttl>`` with TTL
min(ttl, 300), the serial being the time of the last change seen by the
informers. Until the informers have synced every query in its zones is
SERVFAIL (and ``ready`` says not ready). Names outside its zones go to the
next plugin. What it never does: write to the API server or look at anything
but Services, EndpointSlices, Namespaces (and Pods in ``verified`` mode).
"""

from __future__ import annotations

import ipaddress
import math
from dataclasses import replace
from collections.abc import Callable
from typing import TYPE_CHECKING

from engine.api.meta import EPOCH
from engine.dns.message import NOERROR, NXDOMAIN, SERVFAIL, DnsQuery, DnsResponse, ResourceRecord, address_of_reverse
from engine.dns.plugin import Next, Plugin, Request, ServerContext, zone_of

if TYPE_CHECKING:
    from engine.dns.corefile import Directive

DEFAULT_TTL = 5
DNS_SCHEMA_VERSION = "1.1.0"
SERVICE_NAME_LABEL = "kubernetes.io/service-name"
WILDCARD = "*"

Lookup = Callable[[str, str], DnsResponse]


class InvalidRequest(Exception):
    """errInvalidRequest: a name that cannot be a Kubernetes record (answered NXDOMAIN)."""


def _strip_underscore(label: str) -> str:
    return label[1:] if label.startswith("_") else label


def _match(a: str, b: str) -> bool:
    return a in (WILDCARD, "any") or b in (WILDCARD, "any") or a.lower() == b.lower()


def endpoint_hostname(address: str, hostname: str | None) -> str:
    """endpointHostname: the endpoint's hostname, else its address with dashes (``10-244-1-5``)."""
    if hostname:
        return hostname
    return address.replace(".", "-") if "." in address else address.replace(":", "-")


class Kubernetes(Plugin):
    name = "kubernetes"

    def __init__(self, directive: "Directive", context: ServerContext, lookup: Lookup | None = None) -> None:
        super().__init__(directive, context)
        self.zones = [z if z.endswith(".") else z + "." for z in (directive.args or ["."])]
        self.primary = self.zones[0]
        ttl = directive.option("ttl")
        self.ttl = int(ttl[0]) if ttl else DEFAULT_TTL
        pods = directive.option("pods")
        self.pod_mode = pods[0] if pods else "disabled"
        fall = directive.option("fallthrough")
        self.fallthrough: list[str] | None = None if fall is None else [z if z.endswith(".") else z + "."
                                                                           for z in fall]
        self.lookup = lookup
        """The whole server, for ExternalName targets (CoreDNS's upstream)."""
        self.answer_hook: Callable[[DnsQuery, str], tuple[list[ResourceRecord] | None, list[ResourceRecord]]
                                   | None] | None = None
        """A lab's seam: ``hook(query, zone)`` answers a forward query as ``_records`` does, or None to leave it
        to the plugin."""
        informers = context.informers
        self.services = informers.informer("services")
        self.slices = informers.informer("endpointslices")
        self.namespaces = informers.informer("namespaces")
        self.pods = informers.informer("pods") if self.pod_mode == "verified" else None
        self.modified = 0.0
        self._registrations = [(informer, informer.on_change(self._changed))
                               for informer in (self.services, self.slices, self.namespaces)]

    def stop(self) -> None:
        for informer, registration in self._registrations:
            informer.remove_event_handler(registration)
        self._registrations = []

    def _changed(self, _obj: object) -> None:
        self.modified = self.context.loop.now

    def ready(self) -> bool:
        watched = [self.services, self.slices, self.namespaces] + ([self.pods] if self.pods else [])
        return all(informer.has_synced for informer in watched)

    # -- the handler ---------------------------------------------------------------
    def serve(self, request: Request, next: Next) -> DnsResponse:
        query = request.query
        zone = zone_of(query.name, self.zones)
        if zone is None:
            return next(request)
        if not self.ready():
            return self._error(query, zone, SERVFAIL)
        if zone.endswith("arpa."):
            answers = self._reverse(query) if query.qtype == "PTR" else []
            if answers:
                return self._answer(query, answers)
            if self._falls_through(query.name):
                return next(request)
            return self._error(query, zone, NXDOMAIN)
        try:
            hooked = self.answer_hook(query, zone) if self.answer_hook is not None else None
            answers, additional = hooked if hooked is not None else self._records(query, zone)
        except InvalidRequest:
            if self._falls_through(query.name):
                return next(request)
            return self._error(query, zone, NXDOMAIN)
        if answers is None:
            return self._error(query, zone, NXDOMAIN)
        response = self._answer(query, answers)
        response.additional = additional
        if not answers:
            response.authority = [self.soa(zone)]
        return response

    def _falls_through(self, name: str) -> bool:
        if self.fallthrough is None:
            return False
        return not self.fallthrough or zone_of(name, self.fallthrough) is not None

    def _answer(self, query: DnsQuery, answers: list[ResourceRecord]) -> DnsResponse:
        return DnsResponse(query, NOERROR, answers, authoritative=True)

    def _error(self, query: DnsQuery, zone: str, rcode: str) -> DnsResponse:
        """BackendError: the rcode with the zone's SOA in the authority section (NOERROR: NODATA)."""
        return DnsResponse(query, rcode, authority=[self.soa(zone)], authoritative=True)

    def soa(self, zone: str) -> ResourceRecord:
        serial = int(EPOCH.timestamp() + self.modified)
        return ResourceRecord(zone, "SOA", min(self.ttl, 300),
                              f"ns.dns.{zone} hostmaster.{zone} {serial} 7200 1800 86400 {self.ttl}")

    # -- forward records ----------------------------------------------------------------
    def _records(self, query: DnsQuery, zone: str) -> tuple[list[ResourceRecord] | None, list[ResourceRecord]]:
        """(answers, additional); answers None means NXDOMAIN, [] NODATA. Raises InvalidRequest."""
        name, qtype = query.name, query.qtype
        base = name[: -len(zone)].rstrip(".") if name != zone else ""
        if base == "dns-version":
            return ([ResourceRecord(name, "TXT", self.ttl, f'"{DNS_SCHEMA_VERSION}"')] if qtype == "TXT" else []), []
        if base == "":
            return ([self.soa(zone)] if qtype == "SOA" else []), []
        if base in ("svc", "pod"):
            return [], []
        labels = base.split(".")
        kind = labels[-1]
        if kind not in ("svc", "pod"):
            raise InvalidRequest(name)
        namespace = labels[-2]
        rest = labels[:-2]
        if not rest:
            return ([], []) if self._namespace_exists(namespace) else (None, [])
        if kind == "pod":
            return self._pod_records(name, qtype, namespace, rest)
        service, endpoint, port, protocol = rest[-1], "", WILDCARD, WILDCARD
        if len(rest) == 2:
            endpoint = rest[0]
        elif len(rest) == 3:
            port, protocol = _strip_underscore(rest[0]), _strip_underscore(rest[1])
        elif len(rest) > 3:
            raise InvalidRequest(name)
        found = self._services(namespace, service, endpoint, port, protocol)
        if found is None:
            return None, []
        return self._format(name, qtype, found)

    def _namespace_exists(self, namespace: str) -> bool:
        return self.namespaces.lister.get(None, namespace) is not None

    def _pod_records(self, name: str, qtype: str, namespace: str,
                     rest: list[str]) -> tuple[list[ResourceRecord] | None, list[ResourceRecord]]:
        if self.pod_mode == "disabled" or len(rest) != 1 or not self._namespace_exists(namespace):
            return None, []
        label = rest[0]
        text = label.replace("-", ".") if label.count("-") == 3 else label.replace("-", ":")
        try:
            address = ipaddress.ip_address(text)
        except ValueError:
            return None, []
        if self.pod_mode == "verified" and self.pods is not None and not any(
                (pod.get("status") or {}).get("podIP") == str(address)
                for pod in self.pods.lister.list(namespace)):
            return None, []
        wanted = "A" if address.version == 4 else "AAAA"
        return ([ResourceRecord(name, wanted, self.ttl, str(address))] if qtype == wanted else []), []

    def _services(self, namespace: str, service: str, endpoint: str, port: str,
                  protocol: str) -> list[tuple[str, int, str]] | None:
        """findServices: (host, port, owner name) triples; None when nothing matches (NXDOMAIN)."""
        svc = self.services.lister.get(namespace, service)
        if svc is None or not self._namespace_exists(namespace):
            return None
        spec = svc.get("spec") or {}
        base = f"{service}.{namespace}.svc.{self.primary}"
        found: list[tuple[str, int, str]] = []
        if spec.get("type") == "ExternalName":
            if port == WILDCARD and protocol == WILDCARD and endpoint == "" and spec.get("externalName"):
                target = spec["externalName"]
                found.append((target if target.endswith(".") else target + ".", -1, base))
            return found or None
        headless = spec.get("clusterIP") == "None"
        if headless or endpoint:
            for slice_ in self.slices.lister.list(namespace):
                if (slice_["metadata"].get("labels") or {}).get(SERVICE_NAME_LABEL) != service:
                    continue
                ports = slice_.get("ports") or [{"port": -1, "name": "", "protocol": ""}]
                for ep in slice_.get("endpoints") or []:
                    if (ep.get("conditions") or {}).get("ready") is False:
                        continue
                    for address in ep.get("addresses") or []:
                        host = endpoint_hostname(address, ep.get("hostname"))
                        if endpoint and not _match(endpoint, host):
                            continue
                        for p in ports:
                            if not (_match(port, p.get("name") or "") and _match(protocol, p.get("protocol") or "")):
                                continue
                            found.append((address, int(p.get("port", -1)), f"{host}.{base}"))
            return found or None
        for p in spec.get("ports") or []:
            if not (_match(port, p.get("name") or "") and _match(protocol, p.get("protocol", "TCP"))):
                continue
            for ip in spec.get("clusterIPs") or [spec.get("clusterIP")]:
                if ip:
                    found.append((ip, int(p["port"]), base))
        return found or None

    def _format(self, name: str, qtype: str,
                found: list[tuple[str, int, str]]) -> tuple[list[ResourceRecord], list[ResourceRecord]]:
        """The records of ``qtype`` for what findServices returned (backend_lookup's A, AAAA, SRV, CNAME)."""
        answers: list[ResourceRecord] = []
        additional: list[ResourceRecord] = []
        seen: set[tuple[str, ...]] = set()
        for host, port, owner in found:
            kind = _host_type(host)
            if kind == "CNAME":
                if qtype in ("A", "AAAA", "CNAME"):
                    answers.append(ResourceRecord(name, "CNAME", self.ttl, host))
                    if qtype != "CNAME" and self.lookup is not None:
                        answers.extend(self.lookup(host, qtype).answers)
                continue
            if qtype in ("A", "AAAA") and kind == qtype and ("addr", host) not in seen:
                seen.add(("addr", host))
                answers.append(ResourceRecord(name, qtype, self.ttl, host))
            elif qtype == "SRV" and port != -1 and ("srv", owner, str(port)) not in seen:
                seen.add(("srv", owner, str(port)))
                answers.append(ResourceRecord(name, "SRV", self.ttl, f"0 {{weight}} {port} {owner}"))
                if ("extra", owner) not in seen:
                    seen.add(("extra", owner))
                    additional.append(ResourceRecord(owner, kind, self.ttl, host))
        if qtype == "SRV" and answers:
            weight = math.floor(100 / len(answers))
            answers = [replace(r, data=r.data.replace("{weight}", str(weight))) for r in answers]
        return answers, additional

    # -- reverse -----------------------------------------------------------------------------
    def _reverse(self, query: DnsQuery) -> list[ResourceRecord]:
        """serviceRecordForIP: ClusterIPs first, then every endpoint address."""
        address = address_of_reverse(query.name)
        if address is None:
            return []
        for svc in self.services.lister.list():
            spec = svc.get("spec") or {}
            if address in (spec.get("clusterIPs") or [spec.get("clusterIP")]):
                meta = svc["metadata"]
                return [ResourceRecord(query.name, "PTR", self.ttl,
                                       f"{meta['name']}.{meta['namespace']}.svc.{self.primary}")]
        for slice_ in self.slices.lister.list():
            service = (slice_["metadata"].get("labels") or {}).get(SERVICE_NAME_LABEL)
            for ep in slice_.get("endpoints") or []:
                if service and address in (ep.get("addresses") or []):
                    host = endpoint_hostname(address, ep.get("hostname"))
                    return [ResourceRecord(query.name, "PTR", self.ttl,
                                           f"{host}.{service}.{slice_['metadata']['namespace']}.svc.{self.primary}")]
        return []


def _host_type(host: str) -> str:
    try:
        return "A" if ipaddress.ip_address(host).version == 4 else "AAAA"
    except ValueError:
        return "CNAME"
