"""The Kubernetes Dashboard in JupyterLab: the add-on's views as an ipywidgets widget.

``DashboardView(cluster)`` shows what the Dashboard's web page shows, from the same backend functions
(``engine.addons.dashboard.views``): a namespace chooser and tabs for Workloads (Deployments, ReplicaSets,
StatefulSets, DaemonSets, Jobs), Pods, Nodes, Services and Events, each an HTML table; under them an object
chooser with *Logs* (a pod's, its first container) and *YAML* (any listed object, as ``kubectl get -o yaml``).
It reads the cluster through the API server with ``client`` (default: the cluster admin; pass
``cluster.client("system:serviceaccount:kubernetes-dashboard:kubernetes-dashboard")`` to see what the dashboard's
own ServiceAccount sees, RBAC's refusals included), so its reads are in the audit log like any client's.
It needs no dashboard pod: the widget is the backend running in the notebook's process.

``refresh()`` re-reads the chosen tab while *live* is ticked (``Controls(cluster, views=[board])`` calls it on
every tick); the refresh button always does. ``render_html(view, data)`` is the tables as a pure function of a
view's JSON answer. While a cluster is served, the reads run on its loop thread. It never changes the cluster.

Not ``engine.viz.dashboard``: that is the course's own composed widget (controls, cluster view, time travel);
this module is the Kubernetes Dashboard add-on's UI. ``kubernetes_dashboard(cluster)`` is ``DashboardView(cluster)``.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any, Callable

import ipywidgets as widgets
import yaml

from engine.addons.dashboard import views
from engine.api import errors

if TYPE_CHECKING:
    from engine.cluster import Cluster

TABS = (("workloads", "Workloads"), ("pod", "Pods"), ("node", "Nodes"), ("service", "Services"), ("event", "Events"))
ALL_NAMESPACES = "(all namespaces)"
NO_OBJECT = "(none)"
WORKLOAD_TITLES = (("deploymentList", "deployments", "Deployments", "deployment"),
                   ("replicaSetList", "replicaSets", "Replica Sets", "replicaset"),
                   ("statefulSetList", "statefulSets", "Stateful Sets", "statefulset"),
                   ("daemonSetList", "daemonSets", "Daemon Sets", "daemonset"),
                   ("jobList", "jobs", "Jobs", "job"))
STATE_COLOURS = {"Running": "#2e7d32", "True": "#2e7d32", "Ready": "#2e7d32", "Pending": "#ef6c00",
                 "ContainerCreating": "#ef6c00", "Failed": "#c62828", "Error": "#c62828", "NotReady": "#c62828",
                 "CrashLoopBackOff": "#c62828", "Warning": "#c62828"}


def _cell(value: Any, colour: bool = False) -> str:
    text = html.escape("" if value is None else str(value))
    style = f" style='color:{STATE_COLOURS[str(value)]}'" if colour and str(value) in STATE_COLOURS else ""
    return f"<td style='padding:2px 8px;vertical-align:top'{style}>{text}</td>"


def _table(table_id: str, headings: list[str], rows: list[tuple[dict, list[str]]], coloured: int = -1) -> str:
    head = "".join(f"<th style='text-align:left;padding:2px 8px'>{html.escape(h)}</th>" for h in headings)
    if not rows:
        body = f"<tr><td colspan='{len(headings)}' style='padding:2px 8px'><i>There is nothing to display " \
               "here</i></td></tr>"
    else:
        body = "".join(f"<tr data-name='{html.escape(item['objectMeta'].get('name', ''))}'>"
                       + "".join(_cell(value, index == coloured) for index, value in enumerate(cells)) + "</tr>"
                       for item, cells in rows)
    return (f"<table class='kd-{table_id}' style='font-family:monospace;font-size:12px;border-collapse:collapse'>"
            f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")


def _errors(data: dict) -> str:
    messages = []
    for value in [data, *data.values()]:
        for error in (value.get("errors") if isinstance(value, dict) else None) or []:
            message = error["ErrStatus"].get("message", "")
            if message not in messages:
                messages.append(message)
    return "".join(f"<div style='color:#c62828'>{html.escape(m)}</div>" for m in messages)


def render_html(view: str, data: dict) -> str:
    """One view's JSON answer (``views.workloads``, ``pods``, ``nodes``, ``services``, ``events``) as HTML tables."""
    if view == "workloads":
        parts = []
        for list_key, items_key, title, kind in WORKLOAD_TITLES:
            items = (data.get(list_key) or {}).get(items_key) or []
            rows = []
            for item in items:
                pods = item["pods"]
                wanted = pods["current"] if pods["desired"] is None else pods["desired"]
                rows.append((item, [item["objectMeta"]["name"], item["objectMeta"].get("namespace", ""),
                                    ", ".join(item["containerImages"]), f"{pods['running']} / {wanted}",
                                    item["age"]]))
            parts.append(f"<h4 style='margin:8px 0 2px'>{title}</h4>"
                         + _table(f"{kind}s", ["Name", "Namespace", "Images", "Pods", "Age"], rows))
        return _errors(data) + "".join(parts)
    if view == "pod":
        rows = [(item, [item["objectMeta"]["name"], item["objectMeta"].get("namespace", ""), item["status"],
                        item["ready"], item["restartCount"], item["nodeName"], item["podIP"], item["age"]])
                for item in data["pods"]]
        return _errors(data) + _table("pods", ["Name", "Namespace", "Status", "Ready", "Restarts", "Node", "IP",
                                               "Age"], rows, coloured=2)
    if view == "node":
        rows = [(item, [item["objectMeta"]["name"], item["status"], item["roles"], item["kubeletVersion"],
                        item["internalIP"], item["age"]]) for item in data["nodes"]]
        return _errors(data) + _table("nodes", ["Name", "Status", "Roles", "Version", "Internal IP", "Age"], rows,
                                      coloured=1)
    if view == "service":
        rows = [(item, [item["objectMeta"]["name"], item["objectMeta"].get("namespace", ""), item["type"],
                        item["clusterIP"],
                        ", ".join(f"{item['internalEndpoint']['host']}:{p['port']} {p['protocol']}"
                                  for p in item["internalEndpoint"]["ports"]),
                        ", ".join(f"{k}={v}" for k, v in item["selector"].items()), item["age"]])
                for item in data["services"]]
        return _errors(data) + _table("services", ["Name", "Namespace", "Type", "Cluster IP", "Internal endpoints",
                                                   "Selector", "Age"], rows)
    if view == "event":
        rows = [(item, [item["lastSeenAge"], item["type"], item["reason"],
                        f"{item['objectKind'].lower()}/{item['objectName']}", item["message"], item["count"]])
                for item in data["events"]]
        return _errors(data) + _table("events", ["Last seen", "Type", "Reason", "Object", "Message", "Count"], rows,
                                      coloured=1)
    raise ValueError(f"unknown view {view!r}: one of {[name for name, _ in TABS]}")


def listed_objects(view: str, data: dict) -> list[tuple[str, str, str | None, str]]:
    """(label, kind, namespace, name) of each object a view lists: the YAML chooser's options."""
    if view == "workloads":
        found = [(kind, item) for list_key, items_key, _title, kind in WORKLOAD_TITLES
                 for item in (data.get(list_key) or {}).get(items_key) or []]
    else:
        key = {"pod": "pods", "node": "nodes", "service": "services", "event": "events"}[view]
        found = [(view, item) for item in data[key]]
    options = []
    for kind, item in found:
        meta = item["objectMeta"]
        namespace = meta.get("namespace") or None
        label = f"{kind}/{namespace}/{meta['name']}" if namespace else f"{kind}/{meta['name']}"
        options.append((label, kind, namespace, meta["name"]))
    return options


class DashboardView(widgets.VBox):
    """The dashboard's views of ``cluster`` (see the module docstring)."""

    def __init__(self, cluster: "Cluster", *, client: Any = None, namespace: str | None = "default",
                 live: bool = True, **kwargs: Any) -> None:
        self.cluster = cluster
        self.client = client if client is not None else cluster.admin
        self.namespace = widgets.Dropdown(options=[namespace or ALL_NAMESPACES],
                                          value=namespace or ALL_NAMESPACES, description="namespace")
        self.live = widgets.Checkbox(value=live, description="live", indent=False, layout=widgets.Layout(width="80px"))
        self.refresh_button = widgets.Button(description="refresh", icon="refresh")
        self.summary = widgets.HTML()
        self.pages = [widgets.HTML() for _ in TABS]
        self.tabs = widgets.Tab(children=self.pages)
        self.tabs.titles = tuple(title for _, title in TABS)
        self.object = widgets.Dropdown(options=[NO_OBJECT], value=NO_OBJECT, description="object",
                                       layout=widgets.Layout(width="480px"))
        self.logs_button = widgets.Button(description="Logs", icon="align-left")
        self.yaml_button = widgets.Button(description="YAML", icon="code")
        self.detail = widgets.HTML()
        self.data: dict[str, dict] = {}
        self._objects: dict[str, tuple[str, str | None, str]] = {}
        self._quiet = False
        super().__init__(children=[widgets.HBox([self.namespace, self.live, self.refresh_button, self.summary]),
                                   self.tabs, widgets.HBox([self.object, self.logs_button, self.yaml_button]),
                                   self.detail], **kwargs)
        self.refresh_button.on_click(lambda _button: self.refresh(force=True))
        self.namespace.observe(lambda _change: self._quiet or self.refresh(force=True), names="value")
        self.tabs.observe(lambda _change: self.refresh(force=True), names="selected_index")
        self.logs_button.on_click(lambda _button: self.show_logs())
        self.yaml_button.on_click(lambda _button: self.show_yaml())
        self.refresh(force=True)

    def _read(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Run a view on the cluster's loop thread (a served cluster's driver owns engine state)."""
        return self.cluster._call(fn, self.client, *args)

    @property
    def view(self) -> str:
        return TABS[self.tabs.selected_index or 0][0]

    def _chosen_namespace(self) -> str | None:
        return None if self.namespace.value == ALL_NAMESPACES else self.namespace.value

    def refresh(self, force: bool = False) -> None:
        """Re-read the namespaces and the chosen tab (always when ``force``, else only in live mode)."""
        if not (force or self.live.value):
            return
        names = [ns["objectMeta"]["name"] for ns in self._read(views.namespaces)["namespaces"]]
        options = [ALL_NAMESPACES, *names]
        if list(self.namespace.options) != options:
            keep = self.namespace.value if self.namespace.value in options else ALL_NAMESPACES
            self._quiet = True
            try:
                self.namespace.options = options
                self.namespace.value = keep
            finally:
                self._quiet = False
        view = self.view
        if view == "node":
            data = self._read(views.nodes)
        else:
            data = self._read(views.VIEWS[view], self._chosen_namespace())
        self.data[view] = data
        self.pages[self.tabs.selected_index or 0].value = render_html(view, data)
        listed = listed_objects(view, data)
        self._objects = {label: (kind, namespace, name) for label, kind, namespace, name in listed}
        chosen = self.object.value
        self.object.options = list(self._objects) or [NO_OBJECT]
        self.object.value = chosen if chosen in self._objects else self.object.options[0]
        self.summary.value = f"{len(listed)} objects at t = {self.cluster.now:.1f} s"

    def select(self, label: str) -> None:
        """Choose an object by its label (``pod/default/web-abc12``, ``node/node-1``)."""
        self.object.value = label

    def show_yaml(self) -> None:
        """The chosen object as YAML (``views.raw``), or the API server's refusal."""
        chosen = self._objects.get(self.object.value)
        if chosen is None:
            self.detail.value = "<i>choose an object</i>"
            return
        kind, namespace, name = chosen
        try:
            obj = self._read(views.raw, kind, namespace, name)
        except errors.ApiError as error:      # the object is gone, or RBAC refuses
            self.detail.value = f"<pre style='color:#c62828'>{html.escape(str(error))}</pre>"
            return
        text = yaml.safe_dump(obj, sort_keys=True, default_flow_style=False, allow_unicode=True)
        self.detail.value = f"<pre class='kd-yaml' style='font-size:12px'>{html.escape(text)}</pre>"

    def show_logs(self) -> None:
        """The chosen pod's log (``views.logs``, its first container), or why there is none."""
        chosen = self._objects.get(self.object.value)
        if chosen is None or chosen[0] != "pod":
            self.detail.value = "<i>choose a pod (in the Pods tab) to see its logs</i>"
            return
        _kind, namespace, name = chosen
        try:
            answer = self._read(views.logs, namespace or "default", name)
        except errors.ApiError as error:      # the pod is gone, or RBAC refuses
            self.detail.value = f"<pre style='color:#c62828'>{html.escape(str(error))}</pre>"
            return
        lines = "\n".join(entry["content"] for entry in answer["logs"]) or "(no log lines yet)"
        self.detail.value = (f"<b>{html.escape(namespace or '')}/{html.escape(name)} "
                             f"({html.escape(answer['info']['containerName'])})</b>"
                             f"<pre class='kd-logs' style='font-size:12px'>{html.escape(lines)}</pre>")


def kubernetes_dashboard(cluster: "Cluster", **kwargs: Any) -> DashboardView:
    """``DashboardView(cluster, **kwargs)``: the Kubernetes Dashboard as a notebook widget."""
    return DashboardView(cluster, **kwargs)
