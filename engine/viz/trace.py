"""Request traces: one API request and the chain of what it set off, as a sequence diagram.

``trace_table(cluster, audit_id)`` (or ``kind=``, ``name=``: the first
successful create of that object) follows one request through the cluster
for ``window`` virtual seconds, from two records the API server keeps:

- the audit log (``cluster.apiserver.audit``): the request itself and every
  later request that touched the same object (``create pods/binding`` from
  the scheduler, ``update pods/status`` from a kubelet...); a successful
  write also shows the API server's write to etcd, with the revision it made;
- the watch deliveries (``cluster.apiserver.deliveries``): each watch event
  about that object handed to a component (``ADDED``, ``MODIFIED``,
  ``DELETED``), with its revision, which is what made the components act.

With ``follow_owned=True`` the trace also follows each object created in
the window whose ownerReferences lead back to the traced one, so that a
Deployment's create shows its ReplicaSet's create, that ReplicaSet's Pods,
and what happened to each.

Steps come in time order; at the same virtual instant a write comes before
the watch events it caused, and those before the requests their handlers
made. Participants are the requester, kube-apiserver, etcd, then each
component in order of first appearance, named after the component it is
(``system:node:node-1`` is ``kubelet (node-1)``).

``request_trace(...)`` draws the same steps as a ``graphviz.Digraph``: one
HTML-like table (a plaintext node), a column per participant and a row per
step, each message spanning its sender's and receiver's columns with an arrow
pointing at the receiver. Both read only; a request not in the audit log
raises ``LookupError`` saying what the log holds.
"""

from __future__ import annotations

import html
import json
from dataclasses import asdict, dataclass, replace
from typing import TYPE_CHECKING, Any

import graphviz

from engine.api.kinds import Kind
from engine.apiserver.audit import AuditEvent
from engine.store.types import CompactedError
from engine.viz._objects import participant

if TYPE_CHECKING:
    from engine.cluster import Cluster

APISERVER = "kube-apiserver"
ETCD = "etcd"
WRITE_VERBS = ("create", "update", "patch", "delete", "deletecollection")
STEP_COLORS = {"request": "#e3f2fd", "etcd": "#fff3e0", "watch": "#e8f5e9"}
NEVER_OWNED = ("events", "leases")
"""Creates not worth reading back when following owned objects."""
LIMIT = 300
"""Steps kept in one trace; a longer chain is cut at the end and says so."""


@dataclass(frozen=True)
class Step:
    """One message of the sequence diagram."""

    time: float
    source: str
    target: str
    kind: str                      # request | etcd | watch
    message: str
    revision: int | None = None
    audit_id: int | None = None
    user: str = ""


@dataclass(frozen=True)
class _Subject:
    kind: Kind
    namespace: str | None
    name: str

    @property
    def key(self) -> str:
        return self.kind.key(self.namespace, self.name)

    @property
    def ident(self) -> tuple[str, str | None, str]:
        """(plural, namespace, name), as audit entries and watch deliveries name an object."""
        return self.kind.plural, self.namespace, self.name


def _created(cluster: "Cluster", key: str, revision: int) -> bool:
    """Whether the write at ``revision`` created ``key`` (False when that history is compacted)."""
    try:
        found = cluster.store.range(key, revision=revision).kvs
    except CompactedError:
        return False
    return bool(found) and found[0].create_revision == revision


def created_name(cluster: "Cluster", kind: Kind, namespace: str | None, revision: int) -> str | None:
    """The name of the object of ``kind`` a create wrote at ``revision`` (creates are audited nameless)."""
    prefix = kind.namespace_prefix(namespace)
    try:
        found = cluster.store.range(prefix, prefix[:-1] + chr(ord(prefix[-1]) + 1), revision=revision).kvs
    except CompactedError:
        return None
    for kv in found:
        if kv.mod_revision == revision and kv.create_revision == revision:
            return kv.key[len(prefix):].rsplit("/", 1)[-1]
    return None


def _root(cluster: "Cluster", audit_id: int | None, kind: str | None, name: str | None,
          namespace: str | None) -> tuple[AuditEvent, _Subject]:
    entries = cluster.apiserver.audit.entries
    registry = cluster.apiserver.registry
    span = f"entries {entries[0].audit_id} to {entries[-1].audit_id}" if entries else "no entries"
    if audit_id is not None:
        for entry in entries:
            if entry.audit_id == audit_id:
                resolved = registry.lookup(entry.resource)
                scope = entry.namespace if resolved.namespaced else None
                subject_name = entry.name or created_name(cluster, resolved, scope, entry.revision)
                if subject_name is None:
                    raise LookupError(f"audit entry {audit_id} ({entry.verb} {entry.resource}) names no object "
                                      "and wrote none: trace a request about one object")
                return entry, _Subject(resolved, scope, subject_name)
        raise LookupError(f"no audit entry {audit_id}: the audit log holds {span}")
    if kind is None or name is None:
        raise ValueError("say which request to trace: an audit_id, or kind= and name= for its create")
    resolved = registry.lookup(kind)
    scope = namespace if resolved.namespaced else None
    subject = _Subject(resolved, scope, name)
    for entry in entries:
        if (entry.verb == "create" and entry.resource == resolved.plural and not entry.subresource
                and entry.code < 300 and (entry.namespace or None) == scope
                and (entry.name == name or (entry.name is None and _created(cluster, subject.key, entry.revision)))):
            return entry, subject
    where = f" in namespace {scope}" if scope else ""
    raise LookupError(f"no successful create of {resolved.plural} {name!r}{where} in the audit log ({span}); "
                      "pass the audit_id of another request to trace it")


def _etcd_message(cluster: "Cluster", entry: AuditEvent, subject: _Subject) -> str:
    operation = "put"
    if entry.verb in ("delete", "deletecollection"):
        try:
            gone = not cluster.store.range(subject.key, revision=entry.revision).kvs
        except CompactedError:
            gone = False
        operation = "delete" if gone else "put"
    return f"txn {operation} {subject.key} (revision {entry.revision})"


def trace_table(cluster: "Cluster", audit_id: int | None = None, *, kind: str | None = None,
                name: str | None = None, namespace: str | None = "default", window: float = 30.0,
                follow_owned: bool = False, limit: int = LIMIT) -> list[dict[str, Any]]:
    """The steps of one request's trace as plain dicts (time, source, target, kind, message, ...).

    ``follow_owned`` also follows the objects created in the window whose ownerReferences lead
    back to the traced object: a Deployment's ReplicaSet, that ReplicaSet's Pods, and so on.
    """
    return [asdict(step) for step in _steps(cluster, audit_id, kind, name, namespace, window, limit,
                                            follow_owned)]


def _object_at(cluster: "Cluster", key: str, revision: int) -> dict | None:
    try:
        found = cluster.store.range(key, revision=revision).kvs
    except CompactedError:
        return None
    return json.loads(found[0].value) if found else None


def _owned_creation(cluster: "Cluster", entry: AuditEvent, uids: set[str]) -> _Subject | None:
    """The object ``entry`` created, if one of its owners is in ``uids`` (whose set it then joins)."""
    kind = cluster.apiserver.registry.find(entry.resource)
    if kind is None or kind.plural in NEVER_OWNED:
        return None
    scope = entry.namespace if kind.namespaced else None
    name = entry.name or created_name(cluster, kind, scope, entry.revision)
    if name is None:
        return None
    obj = _object_at(cluster, kind.key(scope, name), entry.revision)
    owners = {reference.get("uid") for reference in ((obj or {}).get("metadata") or {}).get("ownerReferences") or []}
    if not owners & uids:
        return None
    uids.add(obj["metadata"].get("uid", ""))
    return _Subject(kind, scope, name)


def _steps(cluster: "Cluster", audit_id: int | None, kind: str | None, name: str | None,
           namespace: str | None, window: float, limit: int, follow_owned: bool = False) -> list[Step]:
    root, subject = _root(cluster, audit_id, kind, name, namespace)
    end = root.time + window
    subjects = {subject.ident: subject}
    uids: set[str] = set()
    if follow_owned:
        found = _object_at(cluster, subject.key, root.revision)
        if found and found.get("metadata", {}).get("uid"):
            uids.add(found["metadata"]["uid"])
    keyed: list[tuple[tuple, Step]] = []
    previous_revision: int | None = None
    for entry in cluster.apiserver.audit.entries:
        if entry.audit_id < root.audit_id:
            previous_revision = entry.revision
            continue
        if entry.time > end:
            break
        wrote = (entry.verb in WRITE_VERBS and entry.code < 300
                 and (previous_revision is None or entry.revision > previous_revision))
        previous_revision = entry.revision
        if entry.audit_id == root.audit_id:
            target: _Subject | None = subject
        elif entry.verb not in WRITE_VERBS:
            continue
        else:
            target = subjects.get((entry.resource, entry.namespace or None, entry.name or ""))
            if target is None and follow_owned and wrote and entry.verb == "create" and not entry.subresource:
                target = _owned_creation(cluster, entry, uids)
                if target is not None:
                    subjects[target.ident] = target
            if target is None:
                continue
        who = participant(entry.user, cluster)
        resource = entry.resource + (f"/{entry.subresource}" if entry.subresource else "")
        order = entry.revision if wrote else entry.revision + 0.5
        keyed.append(((entry.time, order, 0, entry.audit_id), Step(
            entry.time, who, APISERVER, "request", f"{entry.verb} {resource} {target.name} ({entry.code})",
            entry.revision if wrote else None, entry.audit_id, entry.user)))
        if wrote:
            keyed.append(((entry.time, order, 1, entry.audit_id), Step(
                entry.time, APISERVER, ETCD, "etcd", _etcd_message(cluster, entry, target), entry.revision,
                entry.audit_id, entry.user)))
    for index, delivery in enumerate(cluster.apiserver.deliveries):
        if not root.time <= delivery.time <= end or delivery.revision < root.revision:
            continue
        target = subjects.get((delivery.resource, delivery.namespace or None, delivery.name or ""))
        if target is None:
            continue
        keyed.append(((delivery.time, delivery.revision, 2, index), Step(
            delivery.time, APISERVER, participant(delivery.user, cluster), "watch",
            f"watch {delivery.type} {target.kind.plural}/{target.name} (rev {delivery.revision})",
            delivery.revision, None, delivery.user)))
    keyed.sort(key=lambda item: item[0])
    return [replace(step, time=round(step.time, 6)) for _key, step in keyed[:limit]]


def _participants(steps: list[Step]) -> list[str]:
    order: list[str] = []
    first = steps[0].source if steps else "kubectl"
    for name in [first, APISERVER, ETCD] + [end for step in steps for end in (step.source, step.target)]:
        if name not in order:
            order.append(name)
    return order


def _cell(text: str, **attrs: str) -> str:
    rendered = "".join(f' {key.upper()}="{value}"' for key, value in attrs.items())
    return f"<TD{rendered}>{text}</TD>"


def request_trace(cluster: "Cluster", audit_id: int | None = None, *, kind: str | None = None,
                  name: str | None = None, namespace: str | None = "default", window: float = 30.0,
                  follow_owned: bool = False, limit: int = LIMIT) -> graphviz.Digraph:
    """One request's trace as a sequence diagram (a table: participants across, steps down)."""
    steps = _steps(cluster, audit_id, kind, name, namespace, window, limit, follow_owned)
    root = steps[0]
    columns = _participants(steps)
    title = (f"Request trace: audit #{root.audit_id}, {html.escape(root.message)} by "
             f"{html.escape(root.source)} at t = {root.time:.3f} s (window {window:g} s)")
    rows = [f'<TR>{_cell(f"<B>{title}</B>", COLSPAN=str(len(columns) + 1), ALIGN="LEFT")}</TR>',
            "<TR>" + _cell("<B>t (s)</B>", BGCOLOR="#eceff1") + "".join(
                _cell(f"<B>{html.escape(column)}</B>", BGCOLOR="#cfd8dc") for column in columns) + "</TR>"]
    for step in steps:
        source, target = columns.index(step.source), columns.index(step.target)
        low, high = min(source, target), max(source, target)
        text = html.escape(step.message)
        arrow = f"{text} &#8594;" if target >= source else f"&#8592; {text}"
        cells = [_cell(f"{step.time:.3f}", ALIGN="RIGHT")]
        cells += [_cell(" ") for _ in range(low)]
        cells.append(_cell(arrow, COLSPAN=str(high - low + 1), BGCOLOR=STEP_COLORS[step.kind],
                           ALIGN="RIGHT" if target >= source else "LEFT"))
        cells += [_cell(" ") for _ in range(len(columns) - high - 1)]
        rows.append("<TR>" + "".join(cells) + "</TR>")
    if len(steps) == limit:
        rows.append(f'<TR>{_cell(f"<I>cut at {limit} steps</I>", COLSPAN=str(len(columns) + 1))}</TR>')
    table = ('<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="2" CELLPADDING="4">' + "".join(rows)
             + "</TABLE>>")
    graph = graphviz.Digraph("request_trace")
    graph.attr("node", fontname="Helvetica", fontsize="11")
    graph.node("trace", label=table, shape="plaintext")
    return graph
