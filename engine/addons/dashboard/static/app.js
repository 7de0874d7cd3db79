// The Kubernetes Dashboard page: polls the backend's JSON API and draws the chosen view.
//
// Every URL here is relative ("api/v1/pod/default"), so the page works wherever it is served from: through
// `kubectl proxy` and the API server's services/proxy (.../services/https:kubernetes-dashboard:/proxy/), or
// directly. The view and namespace live in the location hash (#/pod?namespace=default), as in the real
// dashboard. The view is fetched again every resourceAutoRefreshTimeInterval seconds (the backend's settings);
// an open log is fetched again every logsAutoRefreshTimeInterval seconds.
"use strict";

const state = { view: "workloads", namespace: "default", detail: null, settings: null };
const VIEWS = ["workloads", "pod", "node", "service", "event"];
const CLUSTER_SCOPED = { node: true, namespace: true };
const WORKLOADS = [
  ["deploymentList", "deployments", "Deployments", "deployment"],
  ["replicaSetList", "replicaSets", "Replica Sets", "replicaset"],
  ["statefulSetList", "statefulSets", "Stateful Sets", "statefulset"],
  ["daemonSetList", "daemonSets", "Daemon Sets", "daemonset"],
  ["jobList", "jobs", "Jobs", "job"],
];

// -- small helpers -------------------------------------------------------------------------------
function el(tag, attrs, children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (key === "text") node.textContent = value;
    else if (key === "onclick") node.addEventListener("click", value);
    else node.setAttribute(key, value);
  }
  for (const child of children || []) node.append(child);
  return node;
}

async function getJSON(path) {
  const response = await fetch(path, { headers: { Accept: "application/json" }, cache: "no-store" });
  const text = await response.text();
  let body;
  try { body = JSON.parse(text); } catch (error) { body = { message: text }; }
  if (!response.ok) {
    const error = new Error(body.message || `${response.status} ${response.statusText}`);
    error.status = response.status;
    throw error;
  }
  return body;
}

function nsPath(namespace) { return namespace === "_all" ? "" : "/" + encodeURIComponent(namespace); }

// -- YAML, as kubectl get -o yaml prints it (keys sorted, lists at their key's indentation) ------------------
function isMap(value) { return value !== null && typeof value === "object" && !Array.isArray(value); }
function isEmpty(value) {
  return (Array.isArray(value) && value.length === 0) || (isMap(value) && Object.keys(value).length === 0);
}
function scalar(value) {
  if (value === null || value === undefined) return "null";
  if (typeof value !== "string") return String(value);
  // Quoted where YAML would read something else: numbers, dates, booleans, null, indicators, ": " and " #".
  const quoted = value === "" || /^[\s?:,\[\]{}#&*!|>'"%@`]|^-( |$)|\s$|: |:$| #|[\n\t]/.test(value) ||
    /^[-+]?(\d|\.\d)/.test(value) || /^(true|false|null|yes|no|on|off|y|n|~)$/i.test(value);
  return quoted ? JSON.stringify(value) : value;
}
function inline(value) {
  if (Array.isArray(value)) return "[]";
  if (isMap(value)) return "{}";
  return scalar(value);
}
function toYaml(value, pad) {
  pad = pad || "";
  let out = "";
  if (Array.isArray(value)) {
    for (const item of value) {
      if ((isMap(item) || Array.isArray(item)) && !isEmpty(item)) {
        out += pad + "- " + toYaml(item, pad + "  ").slice(pad.length + 2);
      } else {
        out += pad + "- " + inline(item) + "\n";
      }
    }
    return out;
  }
  for (const key of Object.keys(value).sort()) {
    const item = value[key];
    if ((isMap(item) || Array.isArray(item)) && !isEmpty(item)) {
      out += pad + scalar(key) + ":\n" + toYaml(item, Array.isArray(item) ? pad : pad + "  ");
    } else {
      out += pad + scalar(key) + ": " + inline(item) + "\n";
    }
  }
  return out;
}

// -- the detail panel: a pod's logs or an object's YAML -------------------------------------------------------
function rawPath(kind, namespace, name) {
  const where = CLUSTER_SCOPED[kind] || !namespace ? "" : "/namespace/" + encodeURIComponent(namespace);
  return `api/v1/_raw/${kind}${where}/name/${encodeURIComponent(name)}`;
}

function showDetail(detail) {
  state.detail = detail;
  document.getElementById("detail").hidden = false;
  document.getElementById("detail-title").textContent = detail.title;
  document.getElementById("detail-body").textContent = "loading...";
  refreshDetail();
}

// An answer is shown only while the panel still shows what it was asked for: a log fetch still on its way when
// the learner clicks YAML (or closes the panel) must not overwrite what replaced it.
async function refreshDetail() {
  const detail = state.detail;
  if (!detail) return;
  const body = document.getElementById("detail-body");
  try {
    if (detail.type === "yaml") {
      const object = await getJSON(rawPath(detail.kind, detail.namespace, detail.name));
      if (state.detail !== detail) return;
      body.textContent = toYaml(object);
    } else {
      const answer = await getJSON(`api/v1/log/${encodeURIComponent(detail.namespace)}/` +
                                   encodeURIComponent(detail.name));
      if (state.detail !== detail) return;
      document.getElementById("detail-title").textContent =
        `Logs of ${detail.namespace}/${detail.name} (container ${answer.info.containerName})`;
      const lines = answer.logs.map(line => line.content);
      body.textContent = lines.length ? lines.join("\n") : "(no log lines yet)";
    }
    body.classList.remove("failed");
  } catch (error) {
    if (state.detail !== detail) return;
    body.textContent = `Error: ${error.message}`;
    body.classList.add("failed");
  }
}

function closeDetail() {
  state.detail = null;
  document.getElementById("detail").hidden = true;
}

function actions(kind, item, withLogs) {
  const meta = item.objectMeta;
  const cell = el("td", { class: "actions" });
  if (withLogs) {
    cell.append(el("a", { class: "action logs", text: "Logs", onclick: () => showDetail({
      type: "logs", namespace: meta.namespace, name: meta.name, title: `Logs of ${meta.namespace}/${meta.name}` }) }));
  }
  cell.append(el("a", { class: "action yaml", text: "YAML", onclick: () => showDetail({
    type: "yaml", kind: kind, namespace: meta.namespace, name: meta.name,
    title: `${kind} ${meta.namespace ? meta.namespace + "/" : ""}${meta.name}` }) }));
  return cell;
}

// -- tables ------------------------------------------------------------------------------------------------
function table(id, headings, rows) {
  const head = el("tr", {}, headings.map(text => el("th", { text })));
  const body = rows.length ? rows :
    [el("tr", {}, [el("td", { class: "empty", colspan: String(headings.length), text: "There is nothing to display here" })])];
  return el("table", { id }, [el("thead", {}, [head]), el("tbody", {}, body)]);
}

function row(item, cells, extra) {
  const meta = item.objectMeta;
  const tr = el("tr", { "data-name": meta.name, "data-namespace": meta.namespace || "" },
                cells.map(cell => cell instanceof Node ? cell : el("td", { text: cell === undefined ? "" : String(cell) })));
  if (extra) tr.append(extra);
  return tr;
}

function stateCell(text) { return el("td", { class: "state-" + String(text).toLowerCase(), text }); }

const RENDER = {
  workloads(data) {
    const parts = [];
    for (const [listKey, itemsKey, title, kind] of WORKLOADS) {
      const items = (data[listKey] || {})[itemsKey] || [];
      parts.push(el("h2", { text: title }));
      parts.push(table(kind + "s", ["Name", "Namespace", "Images", "Pods", "Age", ""], items.map(item => {
        const pods = item.pods;
        const wanted = pods.desired === null || pods.desired === undefined ? pods.current : pods.desired;
        return row(item, [item.objectMeta.name, item.objectMeta.namespace, item.containerImages.join(", "),
                          `${pods.running} / ${wanted}`, item.age], actions(kind, item, false));
      })));
    }
    return parts;
  },
  pod(data) {
    return [table("pods", ["Name", "Namespace", "Status", "Ready", "Restarts", "Node", "IP", "Age", ""],
      data.pods.map(item => row(item, [item.objectMeta.name, item.objectMeta.namespace, stateCell(item.status),
                                       item.ready, item.restartCount, item.nodeName, item.podIP, item.age],
                                actions("pod", item, true))))];
  },
  node(data) {
    return [table("nodes", ["Name", "Status", "Roles", "Version", "Internal IP", "Age", ""],
      data.nodes.map(item => row(item, [item.objectMeta.name, stateCell(item.status), item.roles, item.kubeletVersion,
                                        item.internalIP, item.age], actions("node", item, false))))];
  },
  service(data) {
    return [table("services", ["Name", "Namespace", "Type", "Cluster IP", "Internal endpoints", "Selector", "Age", ""],
      data.services.map(item => row(item, [
        item.objectMeta.name, item.objectMeta.namespace, item.type, item.clusterIP,
        item.internalEndpoint.ports.map(p => `${item.internalEndpoint.host}:${p.port} ${p.protocol}`).join(", "),
        Object.entries(item.selector).map(([k, v]) => `${k}=${v}`).join(", "), item.age],
        actions("service", item, false))))];
  },
  event(data) {
    return [table("events", ["Last seen", "Type", "Reason", "Object", "Message", "Count", ""],
      data.events.map(item => row(item, [
        item.lastSeenAge, el("td", { class: "type-" + item.type.toLowerCase(), text: item.type }), item.reason,
        `${item.objectKind.toLowerCase()}/${item.objectName}`, item.message, item.count],
        actions("event", item, false))))];
  },
};

// -- the loop ------------------------------------------------------------------------------------------------
function readHash() {
  const match = /^#\/([a-z]+)(?:\?(.*))?$/.exec(location.hash || "");
  if (match && VIEWS.includes(match[1])) state.view = match[1];
  const query = new URLSearchParams(match ? match[2] || "" : "");
  if (query.get("namespace")) state.namespace = query.get("namespace");
}

function writeHash() {
  const wanted = `#/${state.view}?namespace=${encodeURIComponent(state.namespace)}`;
  if (location.hash !== wanted) history.replaceState(null, "", wanted);
}

async function refreshNamespaces() {
  const select = document.getElementById("namespace");
  const data = await getJSON("api/v1/namespace");
  const names = ["_all"].concat(data.namespaces.map(ns => ns.objectMeta.name));
  const current = Array.from(select.options).map(option => option.value);
  if (current.join() !== names.join()) {
    select.replaceChildren(...names.map(name => el("option", { value: name, text: name === "_all" ? "All namespaces" : name })));
  }
  select.value = state.namespace;
}

async function refresh() {
  writeHash();
  for (const link of document.querySelectorAll("#menu a")) {
    link.classList.toggle("active", link.dataset.view === state.view);
  }
  const status = document.getElementById("status");
  const { view, namespace } = state;
  try {
    await refreshNamespaces();
    const path = view === "node" ? "api/v1/node" : `api/v1/${view}${nsPath(namespace)}`;
    const data = await getJSON(path);
    // The learner may have picked another view or namespace while this answer was on its way: its refresh shows that.
    if (view !== state.view || namespace !== state.namespace) return;
    const errors = [];
    for (const value of [data].concat(Object.values(data))) {
      for (const error of (value && value.errors) || []) errors.push(error.ErrStatus.message);
    }
    document.getElementById("errors").replaceChildren(...[...new Set(errors)].map(text => el("div", { text })));
    document.getElementById("content").replaceChildren(...RENDER[view](data));
    const every = state.settings.resourceAutoRefreshTimeInterval;
    status.textContent = `updated ${new Date().toLocaleTimeString()}` + (every > 0 ? ` (every ${every} s)` : "");
    status.classList.remove("failed");
  } catch (error) {
    status.textContent = `cannot reach the dashboard backend: ${error.message}`;
    status.classList.add("failed");
  }
}

async function main() {
  readHash();
  try {
    state.settings = await getJSON("api/v1/settings/global");
  } catch (error) {
    state.settings = { resourceAutoRefreshTimeInterval: 5, logsAutoRefreshTimeInterval: 5 };
  }
  document.getElementById("namespace").addEventListener("change", event => {
    state.namespace = event.target.value;
    refresh();
  });
  window.addEventListener("hashchange", () => { readHash(); refresh(); });
  document.getElementById("detail-close").addEventListener("click", closeDetail);
  await refresh();
  const every = Number(state.settings.resourceAutoRefreshTimeInterval);
  if (every > 0) setInterval(refresh, every * 1000);
  const logsEvery = Number(state.settings.logsAutoRefreshTimeInterval);
  if (logsEvery > 0) {
    setInterval(() => { if (state.detail && state.detail.type === "logs") refreshDetail(); }, logsEvery * 1000);
  }
}

main();
