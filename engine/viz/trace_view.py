"""The request explorer: pick a recent write from the audit log and see its trace, as a widget.

``recent_writes(cluster, limit)`` lists the newest successful writes in the
audit log (creates, updates, patches, deletes) as ``(label, audit_id)``
pairs, newest first, labelled ``t=1.000 kubernetes-admin create pods
default/web``: creates are audited without a name, so the name is read back
from the store at the revision the create made. ``TraceView(cluster)`` puts
them in a dropdown over the ``request_trace`` diagram of the chosen one
(rendered to SVG by ``dot``), with the window and "follow owned objects"
options. ``refresh()`` (each tick of ``Controls``) refills the dropdown,
keeps the choice, and redraws only when the trace has new steps.

It reads the audit log, the watch deliveries and the store; it changes nothing.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets

from engine.viz.trace import WRITE_VERBS, created_name, request_trace, trace_table

if TYPE_CHECKING:
    from engine.cluster import Cluster

LIMIT = 50
SKIPPED = ("leases", "events")
"""Writes left out of the list: heartbeats and Events would bury everything else."""


def recent_writes(cluster: "Cluster", limit: int = LIMIT, *, skipped: tuple[str, ...] = SKIPPED
                  ) -> list[tuple[str, int]]:
    """The newest successful writes as (label, audit id), newest first."""
    found: list[tuple[str, int]] = []
    registry = cluster.apiserver.registry
    for entry in reversed(cluster.apiserver.audit.entries):
        if len(found) >= limit:
            break
        if entry.verb not in WRITE_VERBS or entry.code >= 300 or entry.resource in skipped:
            continue
        name = entry.name
        kind = registry.find(entry.resource)
        if name is None and kind is not None:
            name = created_name(cluster, kind, entry.namespace if kind.namespaced else None, entry.revision)
        if name is None:
            continue
        resource = entry.resource + (f"/{entry.subresource}" if entry.subresource else "")
        where = f"{entry.namespace}/{name}" if entry.namespace else name
        found.append((f"t={entry.time:.3f} {entry.user} {entry.verb} {resource} {where}", entry.audit_id))
    return found


class TraceView(widgets.VBox):
    """A dropdown of recent writes over the chosen one's request trace."""

    def __init__(self, cluster: "Cluster", *, window: float = 30.0, **kwargs: Any) -> None:
        self.cluster = cluster
        self.request = widgets.Dropdown(options=[], description="request", layout=widgets.Layout(width="70%"))
        self.window = widgets.BoundedFloatText(value=window, min=0.1, max=3600.0, description="window (s)",
                                               layout=widgets.Layout(width="180px"))
        self.follow = widgets.Checkbox(value=True, description="follow owned objects", indent=False)
        self.diagram = widgets.HTML()
        self._drawn: tuple[Any, ...] | None = None
        super().__init__(children=[widgets.HBox([self.request, self.window, self.follow]), self.diagram],
                         **kwargs)
        for control in (self.request, self.window, self.follow):
            control.observe(lambda _change: self.draw(), names="value")
        self.refresh()

    def refresh(self) -> None:
        """Refill the list of recent writes (keeping the choice) and redraw if the trace grew."""
        options = recent_writes(self.cluster)
        chosen = self.request.value
        ids = [audit_id for _label, audit_id in options]
        if chosen is not None and chosen not in ids:
            label = next((label for label, audit_id in self.request.options if audit_id == chosen), None)
            if label is not None:
                options.append((label, chosen))     # keep the request being looked at, even when older
        self.request.options = options
        if chosen is not None and any(audit_id == chosen for _label, audit_id in options):
            self.request.value = chosen
        elif options:
            self.request.value = options[0][1]          # the newest write, until one is chosen
        self.draw()

    def draw(self) -> None:
        """Draw the chosen request's trace (only when something changed since the last drawing)."""
        audit_id = self.request.value
        if audit_id is None:
            self.diagram.value = "<i>no writes in the audit log yet</i>"
            self._drawn = None
            return
        options = {"window": float(self.window.value), "follow_owned": bool(self.follow.value)}
        try:
            steps = trace_table(self.cluster, audit_id, **options)
        except (LookupError, ValueError) as error:
            self.diagram.value = f"<i>{html.escape(str(error))}</i>"
            self._drawn = None
            return
        state = (audit_id, options["window"], options["follow_owned"], len(steps))
        if state == self._drawn:
            return
        self._drawn = state
        svg = request_trace(self.cluster, audit_id, **options).pipe(format="svg").decode()
        self.diagram.value = svg[svg.index("<svg"):]
