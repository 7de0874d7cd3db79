"""Play / pause / step controls for virtual time, and a time-travel slider over etcd revisions.

``Controls(cluster, views=[...])`` is a row of buttons. *step* runs the
cluster for ``speed`` virtual seconds (one *tick*) and refreshes every view;
*play* does a tick every ``interval`` wall seconds on the kernel's asyncio
loop (a task, so the notebook stays responsive) until *pause*. ``tick()``
is the same step as a method, for tests and scripts: it never needs a
running event loop. A tick that raises pauses playing and shows the error
in the status line (so does a failing *step* click); nothing is written to stderr.

``state_at(cluster, revision)`` is the cluster *as it was* at an etcd
revision: every object under ``/registry/`` read from the MVCC store at
that revision, decoded, and grouped by kind plural. Any revision after the
compaction point can be read; objects created later are absent, objects
deleted later are present. ``TimeTravel(cluster)`` is a slider over those
revisions that redraws the cluster view from that state, outlines the node
or pod that revision wrote, and says which request wrote it. Neither ever changes the cluster.
"""

from __future__ import annotations

import asyncio
import html
import logging
from typing import TYPE_CHECKING, Any, Iterable, Sequence

import ipywidgets as widgets

from engine.api.kinds import Kind
from engine.apiserver.watchcache import decode
from engine.store.types import CompactedError, prefix_end
from engine.viz.cluster_view import render_cluster_html

if TYPE_CHECKING:
    from engine.cluster import Cluster

log = logging.getLogger(__name__)

REGISTRY_PREFIX = "/registry/"
CACHE_LIMIT = 100_000
WRITE_VERBS = ("create", "update", "patch", "delete", "deletecollection")


# -- the cluster at a past revision ---------------------------------------------------------------

def _kinds_by_prefix(cluster: "Cluster") -> list[tuple[str, Kind]]:
    """Storage prefixes, longest first: ``/registry/services/endpoints/`` before ``/registry/services/``."""
    return sorted(((kind.prefix, kind) for kind in cluster.apiserver.registry),
                  key=lambda item: (-len(item[0]), item[0]))


def kind_of_key(cluster: "Cluster", key: str) -> Kind | None:
    """The kind stored under an etcd key, from its prefix (None for keys no kind owns)."""
    for prefix, kind in _kinds_by_prefix(cluster):
        if key.startswith(prefix):
            return kind
    return None


def state_at(cluster: "Cluster", revision: int, *, kinds: Iterable[str] | None = None,
             cache: dict | None = None) -> dict[str, list[dict]]:
    """Every object as stored at ``revision``, by kind plural (``{"pods": [...], "nodes": [...]}``).

    ``kinds`` limits the read to those kinds (any name kubectl accepts); each
    requested kind has a list, empty when it had no objects. Objects are
    frozen, with ``metadata.resourceVersion`` the revision of their last change
    at that time. Raises ``ValueError`` for a compacted or future revision.
    ``cache`` (a dict the caller keeps) holds decoded versions by (key, revision)
    across calls: a version never changes, so a slider re-decodes only what differs.
    """
    registry = cluster.apiserver.registry
    store = cluster.store
    if revision > store.revision or revision < 1:
        raise ValueError(f"revision {revision} does not exist: choose one from "
                         f"{store.compact_revision + 1} to {store.revision}")
    if kinds is None:
        wanted = list(registry)
        ranges = [(REGISTRY_PREFIX, prefix_end(REGISTRY_PREFIX))]
    else:
        wanted = [registry.lookup(name) for name in kinds]
        ranges = [(kind.prefix, prefix_end(kind.prefix)) for kind in wanted]
    state: dict[str, list[dict]] = {kind.plural: [] for kind in wanted}
    prefixes = _kinds_by_prefix(cluster)
    try:
        responses = [store.range(start, end, revision=revision) for start, end in ranges]
    except CompactedError as error:
        raise ValueError(f"revision {revision} has been compacted: the oldest readable revision is "
                         f"{store.compact_revision + 1}") from error
    for index, response in enumerate(responses):
        only = wanted[index] if kinds is not None else None
        for kv in response.kvs:
            kind = only or next((kind for prefix, kind in prefixes if kv.key.startswith(prefix)), None)
            if kind is None or kind.plural not in state:
                continue
            if cache is None:
                state[kind.plural].append(decode(kv))
                continue
            version = (kv.key, kv.mod_revision)
            obj = cache.get(version)
            if obj is None:
                if len(cache) > CACHE_LIMIT:
                    cache.clear()
                obj = cache[version] = decode(kv)
            state[kind.plural].append(obj)
    return state


def revision_writer(cluster: "Cluster", revision: int) -> str:
    """Which request wrote ``revision``, from the audit log (``t=3.2 s kubernetes-admin create pods ...``)."""
    for entry in reversed(cluster.apiserver.audit.entries):
        if entry.revision < revision:
            break
        if entry.revision == revision and entry.verb in WRITE_VERBS and entry.code < 300:
            resource = entry.resource + (f"/{entry.subresource}" if entry.subresource else "")
            where = "/".join(part for part in (entry.namespace, entry.name) if part)
            return f"t = {entry.time:.3f} s: {entry.user} {entry.verb} {resource} {where}".rstrip()
    return "no request in the audit log wrote this revision"


class TimeTravel(widgets.VBox):
    """A slider over etcd revisions showing nodes and pods as they were at each one."""

    def __init__(self, cluster: "Cluster", **kwargs: Any) -> None:
        self.cluster = cluster
        store = cluster.store
        self.slider = widgets.IntSlider(value=store.revision, min=store.compact_revision + 1,
                                        max=max(store.revision, store.compact_revision + 1),
                                        description="revision", continuous_update=False,
                                        layout=widgets.Layout(width="95%"))
        self.info = widgets.HTML()
        self.body = widgets.HTML()
        self._versions: dict = {}
        self._requests: dict = {}
        super().__init__(children=[self.slider, self.info, self.body], **kwargs)
        self.slider.observe(self._on_slide, names="value")
        self.show(self.slider.value)

    def _on_slide(self, change: dict) -> None:
        self.show(change["new"])

    def show(self, revision: int) -> None:
        """Redraw the view from the state at ``revision``."""
        try:
            state = state_at(self.cluster, revision, kinds=("nodes", "pods"), cache=self._versions)
        except ValueError as error:
            self.info.value = f"<i>{html.escape(str(error))}</i>"
            return
        live = " (now)" if revision == self.cluster.store.revision else ""
        self.info.value = (f"<b>revision {revision}{live}</b> · "
                           f"{html.escape(revision_writer(self.cluster, revision))}")
        self.body.value = render_cluster_html(state["nodes"], state["pods"], cache=self._requests,
                                              changed_at=revision)

    def refresh(self) -> None:
        """Follow the store: extend the slider to the newest revision (and stay there when following)."""
        store = self.cluster.store
        following = self.slider.value == self.slider.max
        newest = max(store.revision, store.compact_revision + 1)
        if newest > self.slider.max:
            self.slider.max = newest
        self.slider.min = min(store.compact_revision + 1, self.slider.max)
        if following and self.slider.value != newest:
            self.slider.value = newest          # the observer redraws
        elif following:
            self.show(newest)


# -- play / pause / step --------------------------------------------------------------------------

class Controls(widgets.VBox):
    """Buttons that advance the cluster's virtual clock and refresh ``views`` after each tick."""

    def __init__(self, cluster: "Cluster", views: Sequence[Any] = (), *, speed: float = 1.0,
                 interval: float = 0.2, **kwargs: Any) -> None:
        self.cluster = cluster
        self.views = list(views)
        self.interval = interval
        self.playing = False
        self._task: asyncio.Task | None = None
        self.play_button = widgets.Button(description="play", icon="play", tooltip="advance continuously")
        self.pause_button = widgets.Button(description="pause", icon="pause", disabled=True)
        self.step_button = widgets.Button(description="step", icon="step-forward",
                                          tooltip="advance one tick of virtual time")
        self.speed = widgets.BoundedFloatText(value=speed, min=0.001, max=3600.0, step=0.5,
                                              description="s / tick", layout=widgets.Layout(width="160px"))
        self.status = widgets.HTML()
        self.play_button.on_click(lambda _button: self.play())
        self.pause_button.on_click(lambda _button: self.pause())
        self.step_button.on_click(lambda _button: self._tick_or_report())
        row = widgets.HBox([self.play_button, self.pause_button, self.step_button, self.speed])
        super().__init__(children=[row, self.status], **kwargs)
        self._show()

    def _show(self, note: str = "") -> None:
        state = "playing" if self.playing else "paused"
        self.status.value = (f"t = <b>{self.cluster.now:.2f} s</b> (virtual) · etcd revision "
                             f"{self.cluster.store.revision} · {state}{note}")

    def tick(self) -> None:
        """Run the cluster for ``speed`` virtual seconds, then refresh every view."""
        self.cluster.run(float(self.speed.value))
        for view in self.views:
            refresh = getattr(view, "refresh", None)
            if refresh is not None:
                refresh()
        self._show()

    def play(self) -> None:
        """Tick every ``interval`` wall seconds on the running asyncio loop (the kernel's)."""
        if self.playing:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self._show(" · no running event loop here: use step (or tick())")
            return
        self.playing = True
        self.play_button.disabled, self.pause_button.disabled = True, False
        self._task = loop.create_task(self._play())
        self._show()

    def pause(self) -> None:
        """Stop playing after the current tick."""
        self.playing = False
        self.play_button.disabled, self.pause_button.disabled = False, True
        if self._task is not None and not self._task.done():
            self._task.cancel()
        self._task = None
        self._show()

    def _tick_or_report(self) -> bool:
        """``tick()`` for buttons and the play task: a failure pauses and is shown, never raised."""
        try:
            self.tick()
        except Exception as error:     # a view or the cluster failed: stop, say why, keep the kernel quiet
            log.debug("tick failed", exc_info=True)
            self.pause()
            self._show(f" · stopped: {html.escape(type(error).__name__)}: {html.escape(str(error))}")
            return False
        return True

    async def _play(self) -> None:
        while self.playing:
            if not self._tick_or_report():
                return
            await asyncio.sleep(self.interval)
