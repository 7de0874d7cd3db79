"""kube-aggregator inside kube-apiserver: an APIService's group is served by proxying to its Service.

An ``APIService`` (``apiregistration.k8s.io/v1``) such as metrics-server's ``v1beta1.metrics.k8s.io`` says
"the group ``metrics.k8s.io`` version ``v1beta1`` is served by Service ``kube-system/metrics-server``". While one
exists, the API server lists the group's resources in discovery (here: serves their kinds, so kubectl resolves
``nodes.metrics.k8s.io``), and each request for them is authenticated and authorized by kube-apiserver as
usual (RBAC on ``metrics.k8s.io`` ``pods`` / ``nodes``), then proxied: by default (no
``--enable-aggregator-routing``) to the Service's ClusterIP and port, from the control-plane node, through
that node's kube-proxy rules to a backend pod, as ``GET /apis/<group>/<version>/...?labelSelector=...``. The
backend's JSON answer (or its Status error) is the response. With no way to reach the Service (no pod
network, no ready backend, a refused connection) the answer is 503 ``ServiceUnavailable`` ("the server is
currently unable to handle the request"), as the real aggregator's.

The resources of an aggregated group come from the backend's discovery document in the real aggregator;
here they come from ``GROUP_RESOURCES`` (what metrics-server serves). ``register(server, transport)`` installs
the aggregator: ``transport(host, port, path)`` makes the HTTPS request from the control-plane node and
returns ``(status, body)``, or None when the connection fails. What it never does: store the proxied objects.
"""

from __future__ import annotations

import json
import logging
import secrets
from typing import TYPE_CHECKING, Any, Callable
from urllib.parse import urlencode

from engine.api import errors
from engine.api.kinds import Kind
from engine.apiserver.authn import UserInfo

if TYPE_CHECKING:
    from engine.apiserver.server import APIServer, Request

log = logging.getLogger(__name__)

LOOPBACK_USER = "system:apiserver"
APISERVICES = "apiservices"
Transport = Callable[[str, int, str], "tuple[int, str] | None"]

GROUP_RESOURCES: dict[tuple[str, str], tuple[Kind, ...]] = {
    ("metrics.k8s.io", "v1beta1"): (
        Kind("metrics.k8s.io", "v1beta1", "NodeMetrics", "nodes", False, verbs=("get", "list"),
             storage_prefix="metrics.k8s.io/nodes", has_spec=False),
        Kind("metrics.k8s.io", "v1beta1", "PodMetrics", "pods", True, verbs=("get", "list"),
             storage_prefix="metrics.k8s.io/pods", has_spec=False),
    ),
}
"""The resources each known aggregated group/version serves (the backend's discovery document)."""


class ServiceUnavailable(errors.ApiError):
    code = 503
    reason = "ServiceUnavailable"


class Aggregator:
    """Watches APIServices; serves their groups' kinds; proxies their requests through ``transport``."""

    def __init__(self, server: "APIServer", transport: Transport) -> None:
        self.server = server
        self.transport = transport
        self.token = secrets.token_hex(16)
        server.authenticator.static.add(self.token, UserInfo(LOOPBACK_USER, ("system:masters",)))
        self.served: dict[str, tuple[dict, tuple[Kind, ...]]] = {}
        """APIService name -> (its spec, the kinds served for it)."""
        self._watch: Any = None

    def start(self) -> None:
        from engine.apiserver.server import Request
        self._watch = self.server.watch(Request("watch", APISERVICES, token=self.token, params={"delay": 0.0}),
                                        self._on_event)

    def _on_event(self, event: dict) -> None:
        if event.get("type") not in ("ADDED", "MODIFIED", "DELETED"):
            return
        apiservice = event["object"]
        name = apiservice["metadata"]["name"]
        self._unserve(name)
        spec = apiservice.get("spec") or {}
        if event["type"] == "DELETED" or not spec.get("service"):
            return                          # a local APIService (no service): the server's own group
        kinds = GROUP_RESOURCES.get((spec.get("group", ""), spec.get("version", "")), ())
        for kind in kinds:
            self.server.serve_kind(kind)
        self.served[name] = (spec, kinds)

    def _unserve(self, name: str) -> None:
        _, kinds = self.served.pop(name, ({}, ()))
        for kind in kinds:
            self.server.unserve_kind(kind)

    def serves(self, kind: Kind) -> bool:
        return any(kind in kinds for _, kinds in self.served.values())

    def proxy(self, kind: Kind, request: "Request") -> Any:
        """Forward an authorized request for an aggregated resource to its APIService's Service."""
        spec = next(spec for spec, kinds in self.served.values() if kind in kinds)
        unavailable = ServiceUnavailable("the server is currently unable to handle the request",
                                         details={"group": kind.group, "kind": kind.plural})
        if request.verb not in kind.verbs:
            raise errors.method_not_allowed(request.verb, kind.plural, kind.group)
        reference = spec["service"]
        service = self.server.cached("services", reference.get("namespace"), reference.get("name", ""))
        cluster_ip = ((service or {}).get("spec") or {}).get("clusterIP")
        if not cluster_ip or cluster_ip == "None":
            raise unavailable
        path = f"/apis/{kind.group}/{kind.version}"
        if kind.namespaced and request.namespace:
            path += f"/namespaces/{request.namespace}"
        path += f"/{kind.plural}" + (f"/{request.name}" if request.verb == "get" and request.name else "")
        query = {key: request.params[key] for key in ("labelSelector", "fieldSelector") if request.params.get(key)}
        if query:
            path += "?" + urlencode(query)
        answer = self.transport(cluster_ip, int(reference.get("port") or 443), path)
        if answer is None:
            raise unavailable
        status, body = answer
        try:
            decoded = json.loads(body)
        except ValueError:
            raise unavailable from None
        if status >= 400:
            raise errors.ApiError.from_status(decoded if isinstance(decoded, dict) else {"code": status})
        return decoded


def register(server: "APIServer", transport: Transport) -> Aggregator:
    """Install the aggregation layer on ``server`` (requests reach Services through ``transport``)."""
    aggregator = Aggregator(server, transport)
    server.aggregator = aggregator
    aggregator.start()
    return aggregator
