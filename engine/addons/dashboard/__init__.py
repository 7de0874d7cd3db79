"""The Kubernetes Dashboard add-on: a web UI that runs as pods and is reached through ``kubectl proxy``.

    manifests   the release manifest's objects (Namespace, ServiceAccount and RBAC, Service, Deployment, ...)
    views       the backend's views: workloads, pods, nodes, services, events, logs, raw objects, as JSON
    backend     the backend component: the page's files and the JSON API, read through the API server
    program     the ``kubernetesui/dashboard:v2.7.0`` binary (a ComponentProgram) listening on 8443
    static/     the page: plain HTML, CSS and JavaScript, polling the JSON API

Use::

    c = engine.Cluster(nodes=2, network="flannel")     # the dashboard is a pod: it needs a pod network
    engine.addons.dashboard.install(c)                 # as `kubectl apply -f recommended.yaml` does
    c.run(30)                                          # pulled, started, Ready
    engine.addons.dashboard.fetch(c, "/api/v1/pod/default").body    # through services/proxy, in process
    with c.serve() as served:                          # then, in a terminal: kubectl proxy
        print(engine.addons.dashboard.url())           # http://localhost:8001/api/v1/namespaces/...

The page lists, per namespace, the workloads (Deployments, ReplicaSets, StatefulSets, DaemonSets, Jobs), pods,
nodes, services and events, refreshed every ``resourceAutoRefreshTimeInterval`` seconds (5; the ConfigMap
``kubernetes-dashboard-settings``' ``_global`` JSON changes it); a pod's logs and any object's YAML are a click
away. The same views feed the notebook widget ``engine.viz.kubernetes_dashboard.DashboardView``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from engine.addons.dashboard.manifests import IMAGE, NAME, NAMESPACE, manifests

if TYPE_CHECKING:
    from engine.apiserver.proxy import ProxyResponse
    from engine.cluster import Cluster

PROXY_PORT = 8001
"""``kubectl proxy``'s default port."""
PROXY_PATH = f"/api/v1/namespaces/{NAMESPACE}/services/https:{NAME}:/proxy/"
"""Where the API server proxies to the dashboard (``services/proxy``, the Service's unnamed port)."""


def register_images(registry: Any) -> None:
    """Publish ``kubernetesui/dashboard:v2.7.0`` in ``registry`` (a cluster's ``cluster.registry``)."""
    from engine.addons.dashboard.program import register_images as register
    register(registry)


def install(cluster: "Cluster") -> list[dict]:
    """Install the dashboard in ``cluster`` as ``kubectl apply -f recommended.yaml`` would: returns what was applied.

    The cluster needs a network add-on (``Cluster(network="flannel")``, or calico / canal): the dashboard pod
    reaches the API server through the ``kubernetes`` Service, and the API server reaches the pod for
    ``services/proxy``. Run the cluster for about half a minute for the image pull and the pod to be Ready.
    """
    if getattr(cluster, "fabric", None) is None:
        raise ValueError("the dashboard runs as a pod reached through the pod network: create the cluster with a "
                         "network add-on, e.g. engine.Cluster(network='flannel')")
    register_images(cluster.registry)
    applied = cluster.apply(manifests())
    return applied if isinstance(applied, list) else [applied]


def url(base: str = f"http://localhost:{PROXY_PORT}") -> str:
    """The dashboard's URL through ``kubectl proxy`` listening at ``base`` (its default port 8001), or through the
    API server's own URL (a served cluster's ``handle.url``: as the admin over plain HTTP)."""
    return base.rstrip("/") + PROXY_PATH


def fetch(cluster: "Cluster", path: str = "/", *, user: str = "kubernetes-admin",
          groups: tuple[str, ...] = ("system:masters",)) -> "ProxyResponse":
    """GET ``path`` of the dashboard through the API server's ``services/proxy``, as ``user`` (RBAC applies): what
    ``kubectl proxy`` fetches for a browser, without one. ``fetch(c, "/api/v1/pod/default").body`` is the pods'
    JSON; the answer has ``status``, ``headers``, ``content_type`` and ``body``; failures raise ``engine.ApiError``
    (403 without ``services/proxy``, 503 with no ready dashboard pod)."""
    from engine.apiserver.proxy import proxy_request
    path, _, query = path.partition("?")
    request = proxy_request("services", NAMESPACE, f"https:{NAME}:", path, query=query,
                            token=cluster.token_for(user, groups))
    return cluster._call(cluster.apiserver.handle, request)


__all__ = ["IMAGE", "NAME", "NAMESPACE", "PROXY_PATH", "PROXY_PORT", "fetch", "install", "manifests",
           "register_images", "url"]
