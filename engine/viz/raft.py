"""Views of Raft: the model's members and messages, and a real etcd cluster's members, as the etcd chapter draws them.

    raft_diagram(model)              graphviz: each member (role, term, log, commit) inside its network partition,
                                     and an arrow for every message in flight, labelled with its kind
    render_raft_html(model)          HTML: a table of the members and their logs, the messages in flight, recent events
    RaftExplorer(model)              ipywidgets: step / run / propose / stop-start / isolate / heal buttons over both
    etcd_members_diagram(names, statuses)   graphviz: a real cluster from its members' Maintenance/Status answers

Promises: every view is a function of the state it is given (a ``RaftModel``, or a list of ``MemberStatus``),
never changes it, and renders the same state to the same source; the explorer changes the model only through
its buttons (``step``, ``run``, ``propose``, ``stop``/``start``, ``partition``, ``heal``).
"""

from __future__ import annotations

import html
from typing import Sequence

import graphviz
import ipywidgets as widgets

from engine.store.etcd_client import MemberStatus
from engine.store.raft import Member, RaftModel

ROLE_FILL = {"leader": "#ffd54f", "candidate": "#ffab91", "follower": "#e3f2fd"}
STOPPED_FILL = "#eeeeee"
MESSAGE_COLOR = {"RequestVote": "#e65100", "Vote": "#6a1b9a", "AppendEntries": "#1565c0", "AppendResult": "#2e7d32"}
TERM_COLORS = ("#bbdefb", "#c8e6c9", "#ffe0b2", "#f8bbd0", "#d1c4e9", "#b2ebf2", "#fff9c4", "#d7ccc8")
SHOWN_ENTRIES = 8
SHOWN_EVENTS = 8


def _log_text(member: Member) -> str:
    """The last entries as ``index:term``, committed ones before the bar."""
    start = max(0, member.last_index - SHOWN_ENTRIES)
    cells = []
    for index in range(start + 1, member.last_index + 1):
        entry = member.log[index - 1]
        cells.append(f"{entry.term}{'*' if entry.command else ''}")
        if index == member.commit and index < member.last_index:
            cells.append("|")
    return ("… " if start else "") + " ".join(cells) if cells else "(empty log)"


def raft_diagram(model: RaftModel) -> graphviz.Digraph:
    """Members (grouped by network partition) and the messages on the wire between them."""
    graph = graphviz.Digraph("raft", graph_attr={"rankdir": "LR", "fontname": "Helvetica", "fontsize": "11",
                                                 "label": f"t = {model.loop.now:.3f} s", "labelloc": "t"},
                             node_attr={"shape": "box", "style": "rounded,filled", "fontname": "Helvetica",
                                        "fontsize": "10"},
                             edge_attr={"fontname": "Helvetica", "fontsize": "8"})
    partitioned = len(model.groups) > 1
    for number, group in enumerate(model.groups):
        with graph.subgraph(name=f"cluster_{number}" if partitioned else f"group_{number}") as part:
            if partitioned:
                part.attr(label=f"partition {number + 1}", style="dashed", color="#9e9e9e")
            for name in sorted(group):
                member = model.members[name]
                state = member.role if member.running else "stopped"
                label = (f"{name}\n{state} · term {member.term}\nlog: {_log_text(member)}\n"
                         f"commit {member.commit} · voted {member.voted_for or '-'}")
                part.node(name, label, fillcolor=ROLE_FILL[member.role] if member.running else STOPPED_FILL,
                          style="rounded,filled" + ("" if member.running else ",dashed"),
                          penwidth="2" if member.role == "leader" and member.running else "1")
    for message in sorted(model.in_flight, key=lambda m: (m.arrives, m.source, m.target)):
        lost = not model.can_talk(message.source, message.target) or not model.members[message.target].running
        graph.edge(message.source, message.target, label=f"{message.kind} t{message.term}",
                   color="#bdbdbd" if lost else MESSAGE_COLOR[message.kind], style="dashed" if lost else "solid")
    return graph


def render_raft_html(model: RaftModel) -> str:
    """The members' state, the messages in flight and the latest events, as one HTML block."""
    rows = []
    for member in model.members.values():
        cells = "".join(
            f'<td title="{html.escape(entry.command or "(leader no-op)")}" style="background:'
            f'{TERM_COLORS[entry.term % len(TERM_COLORS)]};{"font-weight:bold;" if index <= member.commit else "opacity:.6;"}'
            f'padding:0 4px">{entry.term}</td>'
            for index, entry in enumerate(member.log, start=1))
        state = member.role if member.running else "stopped"
        rows.append(f'<tr data-member="{member.name}"><th>{member.name}</th><td>{state}</td><td>{member.term}</td>'
                    f'<td>{member.voted_for or "-"}</td><td>{member.commit}</td>'
                    f'<td><table style="border-collapse:collapse"><tr>{cells}</tr></table></td></tr>')
    flights = "".join(f"<li>{m.source} → {m.target}: {html.escape(m.describe())} (arrives t={m.arrives:.3f})</li>"
                      for m in sorted(model.in_flight, key=lambda m: (m.arrives, m.source, m.target)))
    events = "".join(f"<li>{html.escape(text)}</li>" for text in model.events[-SHOWN_EVENTS:])
    leader = model.leader()
    return (f'<div class="raft"><b>t = {model.loop.now:.3f} s</b> · leader: {leader or "none"} · '
            f'quorum {model.quorum} of {len(model.members)} · committed entries: {len(model.committed)}'
            '<table><tr><th>member</th><th>role</th><th>term</th><th>voted for</th><th>commit</th>'
            f'<th>log (entry terms; bold = committed)</th></tr>{"".join(rows)}</table>'
            f'<b>in flight ({len(model.in_flight)})</b><ul>{flights}</ul><b>events</b><ul>{events}</ul></div>')


class RaftExplorer(widgets.VBox):
    """Buttons that drive a ``RaftModel`` one event (or a few hundred milliseconds) at a time, over its views."""

    def __init__(self, model: RaftModel) -> None:
        self.model = model
        names = list(model.members)
        self.step_button = widgets.Button(description="Step")
        self.run_button = widgets.Button(description="Run 0.5 s")
        self.propose_button = widgets.Button(description="Propose a write")
        self.member = widgets.Dropdown(options=names, value=names[0], description="member")
        self.toggle_button = widgets.Button(description="Stop / start")
        self.isolate_button = widgets.Button(description="Isolate")
        self.heal_button = widgets.Button(description="Heal")
        self.diagram = widgets.HTML()
        self.body = widgets.HTML()
        self._proposals = 0
        self.step_button.on_click(lambda _: self._act(model.step))
        self.run_button.on_click(lambda _: self._act(lambda: model.run(0.5)))
        self.propose_button.on_click(lambda _: self._act(self.propose))
        self.toggle_button.on_click(lambda _: self._act(self.toggle))
        self.isolate_button.on_click(lambda _: self._act(self.isolate))
        self.heal_button.on_click(lambda _: self._act(model.heal))
        controls = [widgets.HBox([self.step_button, self.run_button, self.propose_button]),
                    widgets.HBox([self.member, self.toggle_button, self.isolate_button, self.heal_button])]
        super().__init__(controls + [self.diagram, self.body])
        self.refresh()

    def propose(self) -> None:
        self._proposals += 1
        self.model.propose(f"x={self._proposals}")

    def toggle(self) -> None:
        name = self.member.value
        (self.model.start if not self.model.members[name].running else self.model.stop)(name)

    def isolate(self) -> None:
        name = self.member.value
        self.model.partition({name}, set(self.model.members) - {name})

    def _act(self, action) -> None:
        action()
        self.refresh()

    def refresh(self) -> None:
        self.diagram.value = raft_diagram(self.model).pipe(format="svg").decode()
        self.body.value = render_raft_html(self.model)


def etcd_members_diagram(names: Sequence[str], statuses: Sequence[MemberStatus | None]) -> graphviz.Digraph:
    """A real etcd cluster as its members report it: who leads, each member's raft term and index."""
    graph = graphviz.Digraph("etcd", graph_attr={"rankdir": "LR", "fontname": "Helvetica", "fontsize": "11"},
                             node_attr={"shape": "box", "style": "rounded,filled", "fontname": "Helvetica",
                                        "fontsize": "10"})
    by_id = {status.member_id: name for name, status in zip(names, statuses) if status is not None}
    leader = next((name for name, status in zip(names, statuses) if status is not None and status.is_leader), None)
    for name, status in zip(names, statuses):
        if status is None:
            graph.node(name, f"{name}\ndown", fillcolor=STOPPED_FILL, style="rounded,filled,dashed")
            continue
        role = "leader" if status.is_leader else ("follower" if status.leader else "no leader")
        graph.node(name, f"{name}\n{role}\nraft term {status.raft_term}\nraft index {status.raft_index}\n"
                         f"revision {status.revision}",
                   fillcolor=ROLE_FILL["leader" if status.is_leader else "follower"] if status.leader else "#ffcdd2",
                   penwidth="2" if status.is_leader else "1")
    for name, status in zip(names, statuses):
        if status is not None and leader is not None and name != leader and by_id.get(status.leader) == leader:
            graph.edge(leader, name, label="AppendEntries", color=MESSAGE_COLOR["AppendEntries"])
    return graph
