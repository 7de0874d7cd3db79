"""The object inspector: any API object as YAML, and what changed in it between two revisions.

``object_yaml(obj)`` is ``kubectl get -o yaml``'s text for an object: keys
sorted, block style. ``object_at(cluster, kind, name, namespace, revision)``
reads one object from the MVCC store as it was at a revision (None where it
did not exist); ``object_versions`` lists the revisions at which it changed,
newest first, back to its creation or the compaction point. ``object_diff``
is a unified diff of the YAML at two revisions, as pure as a function of the
store can be: it reads, never writes.

``Inspector(cluster)`` puts kind / namespace / name dropdowns over that:
the chosen object's current YAML, or, with *diff*, the change its latest
write made. It reads the watch cache and the store, so it adds no audit
entries and changes nothing.
"""

from __future__ import annotations

import difflib
import html
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets
import yaml

from engine.api.frozen import thaw
from engine.api.kinds import Kind
from engine.apiserver.watchcache import decode
from engine.store.types import CompactedError

if TYPE_CHECKING:
    from engine.cluster import Cluster

CLUSTER_SCOPED = "(cluster-scoped)"
NO_OBJECTS = "(none)"


def object_yaml(obj: dict | None) -> str:
    """The object as ``kubectl get -o yaml`` prints it (empty text for None)."""
    if obj is None:
        return ""
    return yaml.safe_dump(thaw(obj), sort_keys=True, default_flow_style=False, allow_unicode=True)


def _key(cluster: "Cluster", kind: str, name: str, namespace: str | None) -> tuple[Kind, str]:
    resolved = cluster.apiserver.registry.lookup(kind)
    return resolved, resolved.key(namespace if resolved.namespaced else None, name)


def object_at(cluster: "Cluster", kind: str, name: str, namespace: str | None = "default",
              revision: int = 0) -> dict | None:
    """The object as stored at ``revision`` (0: now), or None if it did not exist then."""
    _kind, key = _key(cluster, kind, name, namespace)
    try:
        found = cluster.store.range(key, revision=revision).kvs
    except CompactedError as error:
        raise ValueError(f"revision {revision} has been compacted: the oldest readable revision is "
                         f"{cluster.store.compact_revision + 1}") from error
    return decode(found[0]) if found else None


def object_versions(cluster: "Cluster", kind: str, name: str, namespace: str | None = "default") -> list[int]:
    """The revisions that wrote the object now stored, newest first (back to creation or compaction)."""
    _kind, key = _key(cluster, kind, name, namespace)
    versions: list[int] = []
    revision = 0
    while True:
        try:
            found = cluster.store.range(key, revision=revision).kvs
        except CompactedError:
            break
        if not found:
            break
        kv = found[0]
        versions.append(kv.mod_revision)
        if kv.mod_revision == kv.create_revision or kv.mod_revision - 1 <= cluster.store.compact_revision:
            break
        revision = kv.mod_revision - 1
    return versions


def object_diff(cluster: "Cluster", kind: str, name: str, namespace: str | None = "default",
                from_revision: int = 0, to_revision: int = 0) -> str:
    """A unified diff of the object's YAML at ``from_revision`` and at ``to_revision`` (0: now)."""
    resolved, _key_text = _key(cluster, kind, name, namespace)
    before = object_at(cluster, kind, name, namespace, from_revision)
    after = object_at(cluster, kind, name, namespace, to_revision)
    label = f"{resolved.plural}/{name}" if not resolved.namespaced else f"{resolved.plural}/{namespace}/{name}"

    def header(obj: dict | None, revision: int) -> str:
        where = f"revision {revision}" if revision else f"revision {cluster.store.revision} (now)"
        return f"{label} @ {where}" + ("" if obj is not None else " (absent)")

    return "".join(difflib.unified_diff(object_yaml(before).splitlines(keepends=True),
                                        object_yaml(after).splitlines(keepends=True),
                                        fromfile=header(before, from_revision), tofile=header(after, to_revision)))


def _diff_html(diff: str) -> str:
    colours = {"+": "#e8f5e9", "-": "#ffebee", "@": "#e3f2fd"}
    lines = []
    for line in diff.splitlines():
        colour = colours.get(line[:1], "")
        if line.startswith(("+++", "---")):
            colour = "#eeeeee"
        style = f" style='background:{colour}'" if colour else ""
        lines.append(f"<div{style}>{html.escape(line) or '&nbsp;'}</div>")
    return "<div style='font-family:monospace;font-size:12px;white-space:pre'>" + "".join(lines) + "</div>"


class Inspector(widgets.VBox):
    """Kind / namespace / name dropdowns and the chosen object's YAML (or its latest change)."""

    def __init__(self, cluster: "Cluster", kind: str = "pods", namespace: str = "default", **kwargs: Any) -> None:
        self.cluster = cluster
        kinds = sorted(cluster.apiserver.registry, key=lambda k: (k.kind, k.group))
        self.kind = widgets.Dropdown(options=[(k.kind if not k.group else f"{k.kind} ({k.group})", k.plural)
                                              for k in kinds],
                                     value=cluster.apiserver.registry.lookup(kind).plural, description="kind")
        self.namespace = widgets.Dropdown(options=[namespace], value=namespace, description="namespace")
        self.name = widgets.Dropdown(options=[NO_OBJECTS], value=NO_OBJECTS, description="name")
        self.diff = widgets.Checkbox(value=False, description="diff: what the last write changed", indent=False)
        self.output = widgets.HTML()
        self._quiet = False
        super().__init__(children=[widgets.HBox([self.kind, self.namespace, self.name]), self.diff, self.output],
                         **kwargs)
        for control in (self.kind, self.namespace):
            control.observe(lambda _change: self._choices(), names="value")
        for control in (self.name, self.diff):
            control.observe(lambda _change: self._render(), names="value")
        self.refresh()

    def _choices(self) -> None:
        """Refill the namespace and name dropdowns for the chosen kind, keeping choices that still exist."""
        if self._quiet:
            return
        self._quiet = True
        try:
            kind = self.cluster.apiserver.registry.lookup(self.kind.value)
            if kind.namespaced:
                namespaces = sorted(ns["metadata"]["name"]
                                    for ns in self.cluster.apiserver.cached_list("namespaces"))
                current = self.namespace.value if self.namespace.value in namespaces else (
                    "default" if "default" in namespaces else (namespaces or [CLUSTER_SCOPED])[0])
                self.namespace.options = namespaces or [CLUSTER_SCOPED]
                self.namespace.value = current
                self.namespace.disabled = False
                objects = self.cluster.apiserver.cached_list(kind.plural, current)
            else:
                self.namespace.options = [CLUSTER_SCOPED]
                self.namespace.value = CLUSTER_SCOPED
                self.namespace.disabled = True
                objects = self.cluster.apiserver.cached_list(kind.plural)
            names = sorted(obj["metadata"]["name"] for obj in objects) or [NO_OBJECTS]
            chosen = self.name.value if self.name.value in names else names[0]
            self.name.options = names
            self.name.value = chosen
        finally:
            self._quiet = False
        self._render()

    def _render(self) -> None:
        if self._quiet:
            return
        name = self.name.value
        if name in (None, NO_OBJECTS):
            self.output.value = "<i>no objects of this kind here</i>"
            return
        namespace = None if self.namespace.value == CLUSTER_SCOPED else self.namespace.value
        if self.diff.value:
            versions = object_versions(self.cluster, self.kind.value, name, namespace)
            if not versions:
                self.output.value = "<i>the object no longer exists</i>"
                return
            try:
                text = object_diff(self.cluster, self.kind.value, name, namespace, versions[0] - 1, versions[0])
            except ValueError as error:
                self.output.value = f"<i>{html.escape(str(error))}</i>"
                return
            self.output.value = _diff_html(text) if text else "<i>no change</i>"
            return
        obj = object_at(self.cluster, self.kind.value, name, namespace)
        self.output.value = (f"<pre style='font-size:12px'>{html.escape(object_yaml(obj))}</pre>" if obj
                             else "<i>the object no longer exists</i>")

    def select(self, kind: str, name: str, namespace: str | None = "default") -> None:
        """Show one object (as if chosen in the dropdowns)."""
        self.kind.value = self.cluster.apiserver.registry.lookup(kind).plural
        if namespace and namespace in self.namespace.options:
            self.namespace.value = namespace
        if name in self.name.options:
            self.name.value = name

    def refresh(self) -> None:
        """Re-read the dropdowns' choices and the shown object."""
        self._choices()
