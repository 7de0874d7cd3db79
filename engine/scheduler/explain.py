"""Explanations: what the scheduler decided for one pod, node by node, and why.

Interface: a ``Decision`` per scheduling attempt, kept by the scheduler
(``scheduler.last_decision``, ``scheduler.explain(namespace, name)``): the
nodes evaluated in order, for each either the filter that rejected it (plugin
and reasons) or its score per plugin (already weighted) and its total; the
chosen node, or the message the pod was given. ``Decision.table()`` gives rows
for a score-table view. When the pod fit nowhere and preemption was tried,
``Decision.preemption`` says what it found: for each candidate node the pods
that would be evicted there (and how many PodDisruptionBudgets that breaks),
the node chosen, and why preemption would not help on the other nodes.
Decisions are plain data: they never hold the cache.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Sequence


@dataclass
class NodeVerdict:
    """One node in one decision: rejected by a filter, or feasible with its scores."""

    node: str
    filter_plugin: str = ""            # the plugin that rejected the node ("" when it passed)
    code: str = ""
    reasons: list[str] = field(default_factory=list)
    scores: dict[str, int] = field(default_factory=dict)   # plugin -> normalized score x weight
    total: int | None = None

    @property
    def feasible(self) -> bool:
        return not self.filter_plugin


@dataclass
class PreemptionWhatIf:
    """What DefaultPreemption found for one pod: per candidate node, the victims it would evict."""

    candidates: dict[str, list[str]] = field(default_factory=dict)
    """node -> the pods (namespace/name) that would be evicted there, most important first."""
    pdb_violations: dict[str, int] = field(default_factory=dict)
    chosen: str | None = None
    not_helpful: dict[str, str] = field(default_factory=dict)
    """node -> why preemption would not make room there."""
    reason: str = ""
    """Why nothing was tried (``not eligible due to preemptionPolicy=Never.``), if so."""

    def table(self) -> list[dict]:
        """One row per node considered: candidate victims or why not, and the chosen one marked."""
        rows = [{"node": node, "victims": ", ".join(victims), "pdb violations": self.pdb_violations.get(node, 0),
                 "chosen": node == self.chosen} for node, victims in self.candidates.items()]
        rows += [{"node": node, "victims": "", "why not": why} for node, why in self.not_helpful.items()]
        return rows

    def __str__(self) -> str:
        if self.reason:
            return f"preemption: {self.reason}"
        lines = []
        for node, victims in self.candidates.items():
            mark = " (chosen)" if node == self.chosen else ""
            lines.append(f"  {node}{mark}: evict {', '.join(victims)}"
                         + (f" ({self.pdb_violations[node]} PDB violation(s))" if self.pdb_violations.get(node) else ""))
        for node, why in self.not_helpful.items():
            lines.append(f"  {node}: {why}")
        return "preemption:\n" + "\n".join(lines)


class EvaluatedNodes:
    """What a filter pass over the memo evaluated, built when asked (a decision's ``evaluated_source``): the names
    of ``processed`` nodes from ``start`` on, round the cache's node list ``names``, each with its failing status
    from ``rejections`` (offset from ``start``, status) or None. One object rather than a closure with a cell per
    variable: kept decisions are walked by the garbage collector again and again."""

    __slots__ = ("names", "start", "processed", "rejections")

    def __init__(self, names: Sequence[str], start: int, processed: int, rejections: Sequence[tuple[int, Any]]) -> None:
        self.names, self.start, self.processed, self.rejections = names, start, processed, rejections

    def __call__(self) -> list[tuple[str, Any]]:
        names, start, count = self.names, self.start, len(self.names)
        rejected = dict(self.rejections)
        return [(names[(start + i) % count], rejected.get(i)) for i in range(self.processed)]


class ShiftedTotals:
    """Each scored node's total, built when asked (a decision's ``totals_source``): ``totals`` (by position in
    ``names``) plus the ``offset`` every node shares (see ``Framework.score_relative``)."""

    __slots__ = ("names", "totals", "offset")

    def __init__(self, names: Sequence[str], totals: Sequence[int], offset: int) -> None:
        self.names, self.totals, self.offset = names, totals, offset

    def __call__(self) -> dict[str, int]:
        offset = self.offset
        return {name: total + offset for name, total in zip(self.names, self.totals)}


@dataclass
class Decision:
    """One scheduling attempt of one pod."""

    pod: str
    time: float
    profile: str
    num_all_nodes: int = 0
    nodes_to_find: int = 0
    start_index: int = 0
    weights: dict[str, int] = field(default_factory=dict)
    selected: str | None = None
    message: str = ""
    nominated_node: str | None = None
    preemption: PreemptionWhatIf | None = None
    evaluated: list[tuple[str, Any]] = field(default_factory=list, repr=False)
    """(node, failing Status or None) in evaluation order: what the verdicts are built from, when asked."""
    evaluated_source: Callable[[], list[tuple[str, Any]]] | None = field(default=None, repr=False)
    """Computes more of ``evaluated`` on demand (the fast path records only the rejections)."""
    totals: dict[str, int] = field(default_factory=dict, repr=False)
    totals_source: Callable[[], dict[str, int]] | None = field(default=None, repr=False)
    score_source: Callable[[], dict[str, dict[str, int]]] | None = field(default=None, repr=False)
    """Computes node -> plugin -> weighted score on demand (scoring records only the totals)."""
    scored: int = 0
    """How many nodes were scored (what keeping the scores costs)."""
    scores_dropped: bool = False
    """The per-node scores were dropped to bound memory (see ``Scheduler``'s SCORED_NODES_KEPT)."""
    _verdicts: dict[str, NodeVerdict] | None = field(default=None, repr=False)

    def drop_scores(self) -> None:
        """Forget the per-node scores and totals; the verdicts keep which nodes passed and which filter
        rejected the others, and the chosen node."""
        self.score_source = self.totals_source = None
        self.totals = {}
        self._verdicts = None
        self.scores_dropped = True

    def all_evaluated(self) -> list[tuple[str, Any]]:
        """``evaluated`` with what the fast path left to compute on demand."""
        if self.evaluated_source is not None:
            self.evaluated = self.evaluated + self.evaluated_source()
            self.evaluated_source = None
        return self.evaluated

    def all_totals(self) -> dict[str, int]:
        if self.totals_source is not None:
            self.totals = self.totals_source()
            self.totals_source = None
        return self.totals

    @property
    def verdicts(self) -> dict[str, NodeVerdict]:
        """node -> NodeVerdict, in evaluation order (the last verdict when a node was evaluated twice)."""
        if self._verdicts is None:
            scores = self.score_source() if self.score_source is not None else {}
            totals = self.all_totals()
            verdicts: dict[str, NodeVerdict] = {}
            for name, status in self.all_evaluated():
                verdicts.pop(name, None)
                if status is None:
                    verdicts[name] = NodeVerdict(name, scores=dict(scores.get(name, {})), total=totals.get(name))
                else:
                    verdicts[name] = NodeVerdict(name, status.plugin, status.code, list(status.reasons))
            self._verdicts = verdicts
        return self._verdicts

    @property
    def feasible_nodes(self) -> list[str]:
        return [name for name, verdict in self.verdicts.items() if verdict.feasible]

    @property
    def rejected_nodes(self) -> dict[str, str]:
        """node -> ``"Plugin: reason, reason"``."""
        return {name: f"{v.filter_plugin}: {', '.join(v.reasons)}" for name, v in self.verdicts.items()
                if not v.feasible}

    def table(self) -> list[dict]:
        """One row per evaluated node: node, verdict, each plugin's score, total."""
        rows = []
        for name, verdict in self.verdicts.items():
            row: dict = {"node": name}
            if verdict.feasible:
                row["filter"] = "passed"
                row.update(verdict.scores)
                row["total"] = verdict.total
            else:
                row["filter"] = f"{verdict.filter_plugin}: {', '.join(verdict.reasons)}"
            rows.append(row)
        return rows

    def __str__(self) -> str:
        lines = [f"{self.pod} at t={self.time:.3f}: " + (f"bound to {self.selected}" if self.selected
                                                        else self.message)]
        if self.scores_dropped:
            lines[0] += " (per-node scores no longer kept)"
        for row in self.table():
            scores = ", ".join(f"{k}={v}" for k, v in row.items() if k not in ("node", "filter", "total"))
            tail = f" [{scores}] total={row['total']}" if "total" in row else ""
            lines.append(f"  {row['node']}: {row['filter']}{tail}")
        return "\n".join(lines)
