"""The scheduler view: for one pod, every node's verdict from every Filter plugin, and each Score.

``filter_verdicts(cluster, pod)`` asks each Filter plugin of the pod's scheduler profile about each
node, one plugin at a time (the scheduler itself stops at a node's first failing filter; the view
shows them all, so a learner sees every reason a node is out). It uses the running kube-scheduler's
own plugins and its cache of nodes, on a fresh CycleState and node copies: it never changes the
scheduler or the cluster. ``decision_rows(cluster, namespace, name)`` adds the scores of the
scheduler's latest real attempt for that pod (``Scheduler.explain``: per plugin, normalized and
weighted) and marks the node chosen. ``render_decision_html`` draws the rows as a table.

``SchedulerView(cluster)`` is the widget: forms to add a node (cpu, memory, labels, taints) and a pod
(cpu, memory, nodeSelector, tolerations), which write through the API server as kubectl would and
run the cluster a moment, and a pod dropdown over the table. Its methods (``add_node``,
``add_pod``, ``show``) are what the buttons call, so tests drive it without a browser.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets

from engine.scheduler.framework import CycleState

if TYPE_CHECKING:
    from engine.cluster import Cluster

SCHEDULER_KEY = ("kube-scheduler", None)
PASSED = "✓"


def _scheduler(cluster: "Cluster") -> Any:
    scheduler = cluster.components.get(SCHEDULER_KEY)
    if scheduler is None:
        raise ValueError("this cluster runs no kube-scheduler")
    return scheduler


def _framework(cluster: "Cluster", pod: dict) -> Any:
    scheduler = _scheduler(cluster)
    name = (pod.get("spec") or {}).get("schedulerName") or "default-scheduler"
    return scheduler.frameworks[name]


def filter_verdicts(cluster: "Cluster", pod: dict) -> dict[str, dict[str, list[str] | None]]:
    """node -> Filter plugin -> reasons (None: passed), for ``pod`` as if it were not placed yet."""
    scheduler = _scheduler(cluster)
    framework = _framework(cluster, pod)
    metadata = pod["metadata"]
    key = f"{metadata.get('namespace') or 'default'}/{metadata['name']}"
    infos = []
    for info in scheduler.cache.node_infos:
        copy = info.clone()
        copy.remove_pod(key)              # judge a bound pod as the scheduler judged it: before it was there
        infos.append(copy)
    state = CycleState()
    prefilter: dict[str, list[str] | None] = {}     # a PreFilter's verdict for every node (None: Skip)
    for plugin in framework.points.get("preFilter", []):
        status = plugin.pre_filter(state, pod, infos)
        if status is not None and status.code == "Skip":
            prefilter[plugin.name] = None
        elif status is not None and status.code != "Success":
            prefilter[plugin.name] = list(status.reasons)
    verdicts: dict[str, dict[str, list[str] | None]] = {}
    for info in infos:
        row: dict[str, list[str] | None] = {}
        for plugin in framework.points.get("filter", []):
            if plugin.name in prefilter:
                row[plugin.name] = prefilter[plugin.name]
                continue
            status = plugin.filter(state, pod, info)
            row[plugin.name] = list(status.reasons) if status is not None and status.code != "Success" else None
        verdicts[info.name] = row
    return verdicts


def decision_rows(cluster: "Cluster", namespace: str, name: str) -> tuple[list[dict], dict]:
    """One row per node (node, filters, scores, total, chosen) and a summary of the latest attempt."""
    pod = cluster.get("pod", name, namespace)
    verdicts = filter_verdicts(cluster, pod)
    decision = _scheduler(cluster).explain(namespace, name)
    scored = decision.verdicts if decision is not None else {}
    node_name = (pod.get("spec") or {}).get("nodeName")
    rows = []
    for node, filters in verdicts.items():
        verdict = scored.get(node)
        rows.append({"node": node, "filters": filters,
                     "scores": dict(verdict.scores) if verdict is not None and verdict.feasible else {},
                     "total": verdict.total if verdict is not None and verdict.feasible else None,
                     "chosen": node == node_name})
    summary = {"pod": f"{namespace}/{name}", "node": node_name,
               "message": decision.message if decision is not None else "",
               "weights": dict(decision.weights) if decision is not None else {},
               "time": decision.time if decision is not None else None}
    return rows, summary


def render_decision_html(rows: list[dict], summary: dict) -> str:
    """The rows as an HTML table: a column per Filter (✓ or the reasons), a column per Score, the total."""
    if not rows:
        return "<i>no nodes</i>"
    filters = list(rows[0]["filters"])
    scores: list[str] = []
    for row in rows:
        scores += [plugin for plugin in row["scores"] if plugin not in scores]
    weights = summary.get("weights") or {}
    head = "".join(f"<th>{html.escape(p)}</th>" for p in filters)
    head += "".join(f"<th>{html.escape(p)} ×{weights.get(p, 1)}</th>" for p in scores)
    body = []
    for row in rows:
        failed = any(reasons for reasons in row["filters"].values())
        style = "background:#e8f5e9;font-weight:bold" if row["chosen"] else ("color:#999" if failed else "")
        cells = [f"<td>{html.escape(row['node'])}</td>"]
        for plugin in filters:
            reasons = row["filters"][plugin]
            cells.append(f"<td>{PASSED}</td>" if not reasons else
                         f"<td style='color:#c62828'>{html.escape(', '.join(reasons))}</td>")
        for plugin in scores:
            value = row["scores"].get(plugin)
            cells.append(f"<td style='text-align:right'>{'' if value is None else value}</td>")
        total = "" if row["total"] is None else row["total"]
        cells.append(f"<td style='text-align:right'>{total}</td>")
        body.append(f"<tr style='{style}'>" + "".join(cells) + "</tr>")
    if summary.get("node"):
        caption = f"{summary['pod']} is bound to <b>{html.escape(summary['node'])}</b>"
    elif summary.get("message"):
        caption = f"{summary['pod']} is Pending: {html.escape(summary['message'])}"
    else:
        caption = f"{summary['pod']}: not tried yet"
    if summary.get("time") is not None:
        caption += f" (latest attempt at t={summary['time']:.1f}s)"
    return (f"<div style='font-size:12px'><p>{caption}</p><table><tr><th>node</th>{head}<th>total</th></tr>"
            + "".join(body) + "</table></div>")


def _pairs(text: str) -> dict[str, str]:
    """'disktype=ssd, zone=a' -> {'disktype': 'ssd', 'zone': 'a'}."""
    pairs = {}
    for part in text.split(","):
        if part.strip():
            key, _, value = part.strip().partition("=")
            pairs[key.strip()] = value.strip()
    return pairs


def parse_taints(text: str) -> list[dict]:
    """kubectl taint's syntax: 'gpu=true:NoSchedule, spot:PreferNoSchedule'."""
    taints = []
    for part in text.split(","):
        if part.strip():
            head, _, effect = part.strip().rpartition(":")
            key, _, value = head.partition("=")
            taint = {"key": key.strip(), "effect": effect.strip()}
            if value.strip():
                taint["value"] = value.strip()
            taints.append(taint)
    return taints


def parse_tolerations(text: str) -> list[dict]:
    """'gpu=true:NoSchedule' (Equal), 'spot:PreferNoSchedule' or 'spot' (Exists; no effect: every effect)."""
    tolerations = []
    for taint in parse_taints(",".join(p if ":" in p else p + ":" for p in text.split(",") if p.strip())):
        toleration: dict = {"key": taint["key"], "operator": "Equal" if "value" in taint else "Exists"}
        if "value" in taint:
            toleration["value"] = taint["value"]
        if taint["effect"]:
            toleration["effect"] = taint["effect"]
        tolerations.append(toleration)
    return tolerations


class SchedulerView(widgets.VBox):
    """Add nodes and pods; see, for a chosen pod, each node's filter verdicts and score breakdown."""

    def __init__(self, cluster: "Cluster", **kwargs: Any) -> None:
        self.cluster = cluster
        text = lambda description, value="": widgets.Text(value=value, description=description)  # noqa: E731
        self.node_name, self.node_cpu, self.node_memory = text("node", "node-x"), text("cpu", "4"), text("memory", "8Gi")
        self.node_labels, self.node_taints = text("labels", "disktype=ssd"), text("taints", "")
        self.pod_name, self.pod_cpu, self.pod_memory = text("pod", "web"), text("cpu", "500m"), text("memory", "256Mi")
        self.pod_selector, self.pod_tolerations = text("nodeSelector"), text("tolerations")
        self.add_node_button = widgets.Button(description="add node")
        self.add_pod_button = widgets.Button(description="add pod", button_style="primary")
        self.pod = widgets.Dropdown(options=[], description="explain")
        self.message = widgets.HTML()
        self.table = widgets.HTML()
        self.add_node_button.on_click(lambda _button: self._guarded(lambda: self.add_node(
            self.node_name.value, self.node_cpu.value, self.node_memory.value, _pairs(self.node_labels.value),
            parse_taints(self.node_taints.value))))
        self.add_pod_button.on_click(lambda _button: self._guarded(lambda: self.add_pod(
            self.pod_name.value, self.pod_cpu.value, self.pod_memory.value, _pairs(self.pod_selector.value),
            parse_tolerations(self.pod_tolerations.value))))
        self.pod.observe(lambda _change: self._render(), names="value")
        nodes = widgets.VBox([widgets.HTML("<b>a node</b>"), self.node_name, self.node_cpu, self.node_memory,
                              self.node_labels, self.node_taints, self.add_node_button])
        pods = widgets.VBox([widgets.HTML("<b>a pod</b>"), self.pod_name, self.pod_cpu, self.pod_memory,
                             self.pod_selector, self.pod_tolerations, self.add_pod_button])
        super().__init__(children=[widgets.HBox([nodes, pods]), self.message, self.pod, self.table], **kwargs)
        self.refresh()

    def _guarded(self, action: Any) -> None:
        try:
            action()
            self.message.value = ""
        except Exception as error:          # a bad form value: say so in the view, never on stderr
            self.message.value = f"<span style='color:#c62828'>{html.escape(str(error))}</span>"

    def add_node(self, name: str, cpu: str = "4", memory: str = "8Gi", labels: dict | None = None,
                 taints: list | None = None) -> dict:
        """Register a Node (as a kubelet would: the object, then its status) and let the scheduler react."""
        admin = self.cluster.admin
        node: dict = {"apiVersion": "v1", "kind": "Node",
                      "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name, **(labels or {})}}}
        if taints:
            node["spec"] = {"taints": taints}
        created = admin.create(node)
        allocatable = {"cpu": cpu, "memory": memory, "pods": "110"}
        created = admin.update_status(dict(created, status={
            "allocatable": allocatable, "capacity": dict(allocatable),
            "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady"}]}))
        self.cluster.run(1)
        self.refresh()
        return created

    def add_pod(self, name: str, cpu: str = "", memory: str = "", node_selector: dict | None = None,
                tolerations: list | None = None, namespace: str = "default") -> dict:
        """Create a pod, run the cluster a second, and show the scheduler's decision about it."""
        requests = {key: value for key, value in (("cpu", cpu), ("memory", memory)) if value}
        spec: dict = {"containers": [{"name": "app", "image": "nginx:1.27",
                                      "resources": {"requests": requests} if requests else {}}]}
        if node_selector:
            spec["nodeSelector"] = node_selector
        if tolerations:
            spec["tolerations"] = tolerations
        created = self.cluster.admin.create({"apiVersion": "v1", "kind": "Pod",
                                             "metadata": {"name": name, "namespace": namespace}, "spec": spec})
        self.cluster.run(1)
        self.refresh()
        self.show(name, namespace)
        return created

    def show(self, name: str, namespace: str = "default") -> None:
        """Explain one pod."""
        self.pod.value = f"{namespace}/{name}"

    def refresh(self) -> None:
        pods = sorted(f"{p['metadata']['namespace']}/{p['metadata']['name']}"
                      for p in self.cluster.apiserver.cached_list("pods"))
        current = self.pod.value
        self.pod.options = pods
        self.pod.value = current if current in pods else (pods[-1] if pods else None)
        self._render()

    def _render(self) -> None:
        if not self.pod.value:
            self.table.value = "<i>no pods yet: add one</i>"
            return
        namespace, _, name = self.pod.value.partition("/")
        try:
            rows, summary = decision_rows(self.cluster, namespace, name)
        except Exception as error:             # the pod went away between the dropdown and the table
            self.table.value = f"<i>{html.escape(str(error))}</i>"
            return
        self.table.value = render_decision_html(rows, summary)
