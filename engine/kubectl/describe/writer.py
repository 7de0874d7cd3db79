"""describe's writer and the formatters every describer shares (``kubectl/pkg/describe/describe.go``).

Interface: ``Writer`` (the PrefixWriter: ``write(level, text)`` with two-space
levels, ``line(text)``, ``flush()`` to end a block of alignment, ``text()``),
``print_labels`` / ``print_annotations`` / ``print_tolerations`` /
``print_taints`` (the multi-line helpers), ``rfc1123z`` (Go's ``time.RFC1123Z``
of a virtual timestamp), ``find_events`` and ``describe_events`` (the Events
table), and small Go-style formatters (``go_bool``, ``go_list``, ``dig``).

Text goes through Go's tabwriter (``minwidth 0, padding 2``) block by block,
so alignment follows the same column blocks as the real output.
"""

from __future__ import annotations

import datetime as _dt
from typing import TYPE_CHECKING, Any, Callable

from engine.api.meta import EPOCH, parse_timestamp
from engine.kubectl.duration import age
from engine.kubectl.printers.cells import dig
from engine.kubectl.tabwriter import DESCRIBE_MINWIDTH, DESCRIBE_PADDING, format_tabbed

if TYPE_CHECKING:
    from engine.client.client import Client

MAX_ANNOTATION_LEN = 140
SKIP_ANNOTATIONS = {"kubectl.kubernetes.io/last-applied-configuration"}
Describer = Callable[[dict, "Client", float], str]


class Writer:
    """describe's PrefixWriter over a tabwriter; ``flush`` ends a block of alignment."""

    def __init__(self) -> None:
        self.done: list[str] = []
        self.pending: list[str] = []

    def write(self, level: int, text: str) -> None:
        self.pending.append("  " * level + text)

    def line(self, text: str) -> None:
        self.pending.append(text + "\n")

    def flush(self) -> None:
        if self.pending:
            self.done.append(format_tabbed("".join(self.pending), DESCRIBE_MINWIDTH, DESCRIBE_PADDING))
            self.pending = []

    def text(self) -> str:
        self.flush()
        return "".join(self.done)

    def raw_text(self) -> str:
        """The text without tabwriter alignment (tabs kept), as ``rollout history --revision`` prints it."""
        return "".join(self.pending)


def rfc1123z(timestamp: str | None) -> str:
    """Go's ``time.RFC1123Z`` of a virtual timestamp: ``Wed, 01 Jan 2025 00:00:05 +0000``."""
    if not timestamp:
        return "<unset>"
    moment = EPOCH + _dt.timedelta(seconds=parse_timestamp(timestamp))
    return moment.strftime("%a, %d %b %Y %H:%M:%S +0000")


def go_bool(value: Any) -> str:
    return "true" if value else "false"


def go_list(values: list[str] | None) -> str:
    return "[" + " ".join(values or []) + "]"


def print_labels(w: Writer, title: str, labels: dict | None, initial_indent: str = "") -> None:
    """``printLabelsMultilineWithIndent``: one ``key=value`` per line, continuation lines aligned."""
    w.write(0, f"{initial_indent}{title}:\t")
    if not labels:
        w.line("<none>")
        return
    for index, key in enumerate(sorted(labels)):
        if index:
            w.write(0, f"{initial_indent}\t")
        w.write(0, f"{key}={labels[key]}\n")


def print_annotations(w: Writer, title: str, annotations: dict | None) -> None:
    """``printAnnotationsMultiline``: long or multi-line values go below their key."""
    w.write(0, f"{title}:\t")
    keys = sorted(key for key in annotations or {} if key not in SKIP_ANNOTATIONS)
    if not keys:
        w.line("<none>")
        return
    for index, key in enumerate(keys):
        if index:
            w.write(0, "\t")
        value = annotations[key].removesuffix("\n")
        if len(value) + len(key) + 2 > MAX_ANNOTATION_LEN or "\n" in value:
            w.write(0, f"{key}:\n")
            for part in value.split("\n"):
                shortened = part if len(part) <= MAX_ANNOTATION_LEN - 2 else part[:MAX_ANNOTATION_LEN - 2] + "..."
                w.write(0, f"\t  {shortened}\n")
        else:
            w.write(0, f"{key}: {value}\n")


def print_tolerations(w: Writer, title: str, tolerations: list[dict] | None, initial_indent: str = "") -> None:
    w.write(0, f"{initial_indent}{title}:\t")
    if not tolerations:
        w.line("<none>")
        return
    for index, toleration in enumerate(sorted(tolerations, key=lambda t: t.get("key", ""))):
        if index:
            w.write(0, f"{initial_indent}\t")
        text = toleration.get("key", "")
        if toleration.get("value"):
            text += f"={toleration['value']}"
        if toleration.get("effect"):
            text += f":{toleration['effect']}"
        if toleration.get("operator") == "Exists" and not toleration.get("value"):
            text += " op=Exists" if toleration.get("key") or toleration.get("effect") else "op=Exists"
        if toleration.get("tolerationSeconds") is not None:
            text += f" for {toleration['tolerationSeconds']}s"
        w.write(0, text + "\n")


def print_taints(w: Writer, title: str, taints: list[dict] | None) -> None:
    w.write(0, f"{title}:\t")
    if not taints:
        w.line("<none>")
        return
    for index, taint in enumerate(sorted(taints, key=lambda t: (t.get("effect", ""), t.get("key", "")))):
        if index:
            w.write(0, "\t")
        value = f"={taint['value']}" if taint.get("value") else ""
        w.write(0, f"{taint.get('key', '')}{value}:{taint.get('effect', '')}\n")


def controller_text(obj: dict) -> str:
    for ref in dig(obj, "metadata", "ownerReferences") or []:
        if ref.get("controller"):
            return f"{ref.get('kind', '')}/{ref.get('name', '')}"
    return ""


def find_events(client: "Client", obj: dict) -> list[dict]:
    """Events about ``obj``: ``involvedObject`` name, namespace, kind and uid, oldest first."""
    metadata = obj.get("metadata") or {}
    selector = [f"involvedObject.name={metadata.get('name', '')}", f"involvedObject.kind={obj.get('kind', '')}"]
    if metadata.get("namespace"):
        selector.append(f"involvedObject.namespace={metadata['namespace']}")
    if metadata.get("uid"):
        selector.append(f"involvedObject.uid={metadata['uid']}")
    events = client.list("events", metadata.get("namespace"), field_selector=",".join(selector))["items"]

    def moment(event: dict) -> float:
        text = event.get("lastTimestamp") or event.get("eventTime") or event.get("firstTimestamp")
        return parse_timestamp(text) if text else 0.0

    return sorted(events, key=moment)


def describe_events(w: Writer, events: list[dict], now: float) -> None:
    """``DescribeEvents``: the Type / Reason / Age / From / Message table, or ``Events:  <none>``."""
    if not events:
        w.write(0, "Events:\t<none>\n")  # no flush: aligned with the lines above, as in kubectl
        return
    w.flush()
    w.write(0, "Events:\n  Type\tReason\tAge\tFrom\tMessage\n")
    w.write(1, "----\t------\t----\t----\t-------\n")
    for event in events:
        first = age(now, event.get("eventTime")) if event.get("eventTime") else age(now, event.get("firstTimestamp"))
        count = int(event.get("count") or 0)
        if count > 1:
            interval = f"{age(now, event.get('lastTimestamp'))} (x{count} over {first})"
        else:
            interval = first
        source = dig(event, "source", "component") or event.get("reportingController") or ""
        w.write(1, f"{event.get('type', '')}\t{event.get('reason', '')}\t{interval}\t{source}\t"
                   f"{(event.get('message') or '').strip()}\n")
    w.flush()
