"""fluent-bit, the node agent of the logging add-on: tail -> kubernetes filter -> buffer -> es, on every node.

``FluentBitProgram`` is what the ``cr.fluentbit.io/fluent/fluent-bit`` image runs (``-c CONFIG``, the
ConfigMap's ``fluent-bit.conf`` in the classic format: ``[SERVICE]``, ``[INPUT]``, ``[FILTER]``, ``[OUTPUT]``
sections of ``Key Value`` lines, ``${VAR}`` taken from the environment). A configuration it cannot use (an
unknown plugin, no tail input, no es output) is reported on stderr and the process exits 1. Otherwise it
connects to the API server with the pod's ServiceAccount (``ComponentProgram``: the kubernetes filter reads
pods) and runs ``FluentBit``, its engine:
  - every ``COLLECT_INTERVAL`` the tail input reads what the files gained; each tag's records pass the filters
    whose ``Match`` fits the tag and are appended to the buffer; then the tail DB is written. Records are in a
    chunk file before their offset is saved, so a restart neither loses nor repeats a line;
  - every ``Refresh_Interval`` (10 s in this add-on's ConfigMap) the tail input looks for new files;
  - every ``Flush`` seconds (1) the open chunks close and each ready chunk is flushed to the output whose
    ``Match`` fits its tag; a chunk the output could not take is retried after ``backoff`` (``scheduler.base``
    5 s, ``scheduler.cap``: 2000 s by default, 60 s in the add-on), and the engine logs fluent-bit's lines
    (``[ warn] [engine] failed to flush chunk '...', retry in 7 seconds: ...``, ``... succeeded at retry 2``);
  - at start, the chunks a previous run left in ``storage.path`` are flushed first.
SIGTERM (a deleted pod) ends the run as fluent-bit's ``Grace`` period does: the input reads once more, the
open chunks are flushed once, and what could not be sent stays in ``storage.path`` for the next run
(``[engine] service has stopped (N pending tasks)``). Keys of the configuration it does not model are
accepted and ignored (``Mem_Buf_Limit``, ``Skip_Long_Lines``, ``Parsers_File``, ``Merge_Log``, ``Kube_URL``:
the filter uses the in-cluster client). Its HTTP server (``HTTP_Port`` 2020) answers ``/`` (build info), ``/api/v1/health`` (``ok``: the DaemonSet's
probes), ``/api/v1/metrics`` (records in and out, retries, errors, dropped records, per plugin instance)
and ``/api/v1/storage`` (chunks buffered). What it never does: route a chunk to more than one output.
"""

from __future__ import annotations

import datetime as _dt
import fnmatch
import json
import re
from typing import Any

from engine.addons.logging.buffer import ERROR, OK, SCHEDULER_BASE, SCHEDULER_CAP, Buffer, Chunk, backoff
from engine.addons.logging.filter_kubernetes import TAG_PREFIX, KubernetesFilter
from engine.addons.logging.out_es import EsOutput
from engine.addons.logging.tail import Tail
from engine.api.meta import EPOCH
from engine.components import ComponentContext
from engine.runtime.programs.component import SIGINT, SIGTERM, ComponentProgram, parse_flags

VERSION = "3.1.4"
HTTP_PORT = 2020
DEFAULT_CONFIG = "/fluent-bit/etc/fluent-bit.conf"
COLLECT_INTERVAL = 1.0
"""How often the tail input reads its files (fluent-bit reads on inotify events; one virtual second here)."""
DEFAULT_REFRESH_INTERVAL = 60.0
MiB = 1024 * 1024
_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


class ConfigError(ValueError):
    """A configuration fluent-bit refuses at start."""


def parse_config(text: str, env: dict[str, str] | None = None) -> list[tuple[str, dict[str, str]]]:
    """The classic format's sections, in order: [(section name upper-cased, {key lower-cased: value})]."""
    env = env or {}
    sections: list[tuple[str, dict[str, str]]] = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("[") and line.endswith("]"):
            sections.append((line[1:-1].strip().upper(), {}))
            continue
        if not sections:
            raise ConfigError(f"[config] line {number}: an entry outside of any section: {line}")
        key, _, value = line.partition(" ")
        value = _VARIABLE.sub(lambda m: env.get(m.group(1), ""), value.strip())
        sections[-1][1][key.strip().lower()] = value
    return sections


def _on(value: str | None) -> bool:
    return str(value or "").lower() in ("on", "true", "yes", "1")


class FluentBit:
    """The engine: one tail input, its kubernetes filters and one es output, on the loop of its process."""

    def __init__(self, context: ComponentContext) -> None:
        self.context = context
        self.loop = context.loop
        options = context.options
        self.fs = options["fs"]
        self.write_log = options.get("log") or (lambda line: None)
        sections = options["sections"]
        service = next((body for name, body in sections if name == "SERVICE"), {})
        self.flush_interval = float(service.get("flush", "1"))
        self.base = int(service.get("scheduler.base", SCHEDULER_BASE))
        self.cap = int(service.get("scheduler.cap", SCHEDULER_CAP))
        tail = next(body for name, body in sections if name == "INPUT")
        self.tail_tag = tail.get("tag", "tail.0").rstrip("*").rstrip(".")
        self.tail = Tail(self.fs, tail.get("path", ""), db=tail.get("db"), exclude=tail.get("exclude_path", ""),
                         read_from_head=_on(tail.get("read_from_head")), tag_prefix=self.tail_tag)
        self.refresh_interval = float(tail.get("refresh_interval", DEFAULT_REFRESH_INTERVAL))
        storage = service.get("storage.path") if tail.get("storage.type", "memory") == "filesystem" else None
        self.buffer = Buffer(self.fs, storage, "tail.0")
        self.filters = [(body.get("match", "*"), KubernetesFilter(
            context.client, tag_prefix=body.get("kube_tag_prefix", TAG_PREFIX),
            labels=_on(body.get("labels", "on")), annotations=_on(body.get("annotations", "on"))))
            for name, body in sections if name == "FILTER"]
        out = next(body for name, body in sections if name == "OUTPUT")
        self.output_match = out.get("match", "*")
        self.output = EsOutput(out.get("host", "127.0.0.1"), int(out.get("port", "9200")),
                               resolve=options.get("resolve"), dial=options["dial"], now=lambda: self.loop.now,
                               options=out)
        limit = str(out.get("retry_limit", "1")).lower()
        self.retry_limit = None if limit in ("false", "no_limits", "off") else int(limit)
        self.metrics = {"input_records": 0, "input_bytes": 0, "proc_records": 0, "proc_bytes": 0, "errors": 0,
                        "retries": 0, "retries_failed": 0, "dropped_records": 0, "retried_records": 0}
        self._timers: list[Any] = []
        self.running = False

    # -- life ----------------------------------------------------------------------------------
    def start(self) -> None:
        self.running = True
        self._log("info", "fluent bit", f"version={VERSION}, commit=, pid=1")
        backlog = self.buffer.load()
        if backlog:
            self._log("info", "storage", f"backlog: {backlog} chunks found in {self.buffer.directory}")
        self.tail.scan()
        self._every(COLLECT_INTERVAL, self.collect)
        self._every(self.refresh_interval, self.tail.scan)
        self._every(self.flush_interval, self.flush)
        self._log("info", "sp", "stream processor started")

    def shutdown(self) -> None:
        """The grace period of a SIGTERM: read once more, flush once, report what is left in the buffer."""
        if self.running:
            self.collect()
            self.flush()
            pending = sum(1 for c in self.buffer.chunks.values() if c.records)
            self._log("info", "engine", f"service has stopped ({pending} pending tasks)")
        self.stop()

    def stop(self) -> None:
        self.running = False
        for timer in self._timers:
            timer.cancel()
        self._timers.clear()

    def _every(self, interval: float, action: Any) -> None:
        def tick() -> None:
            if self.running:
                action()
                self._later(interval, tick)
        self._later(interval, tick)

    def _later(self, delay: float, action: Any) -> None:
        self._timers = [t for t in self._timers if not t.cancelled and t.when >= self.loop.now]
        self._timers.append(self.loop.call_later(delay, action, label="fluent-bit"))

    def _log(self, level: str, where: str, message: str) -> None:
        moment = EPOCH + _dt.timedelta(seconds=self.loop.now)
        self.write_log(f"[{moment:%Y/%m/%d %H:%M:%S}] [{level.rjust(5)}] [{where}] {message}\n")

    # -- the pipeline ----------------------------------------------------------------------------
    def collect(self) -> None:
        """Read the files, filter, buffer; then save the offsets."""
        before = self.tail.bytes
        for tag, records in self.tail.collect().items():
            for match, plugin in self.filters:
                if fnmatch.fnmatchcase(tag, match):
                    records = plugin.filter(tag, records)
            self.metrics["input_records"] += len(records)
            self.buffer.append(tag, records, self.loop.now)
        self.metrics["input_bytes"] += self.tail.bytes - before
        self.tail.commit()
        self.context.options.get("memory", lambda size: None)(20 * MiB + sum(c.size for c in self.buffer.chunks.values()))

    def flush(self) -> None:
        """Close the open chunks and flush every ready one."""
        self.buffer.close_open()
        for chunk in self.buffer.ready(self.loop.now):
            self._flush_chunk(chunk)

    def _flush_chunk(self, chunk: Chunk) -> None:
        if not self.running or chunk.name not in self.buffer.chunks or chunk.busy:
            return
        if not fnmatch.fnmatchcase(chunk.tag, self.output_match):
            self.buffer.done(chunk)
            return
        chunk.busy = True
        result = self.output.flush(chunk.records)
        chunk.busy = False
        route = "input=tail.0 > output=es.0 (out_id=0)"
        if result == OK:
            self.metrics["proc_records"] += len(chunk.records)
            self.metrics["proc_bytes"] += chunk.size
            if chunk.retries:
                self._log("info", "engine", f"flush chunk '{chunk.name}' succeeded at retry {chunk.retries}: "
                                            f"task_id=0, {route}")
            self.buffer.done(chunk)
            return
        if result == ERROR or (self.retry_limit is not None and chunk.retries >= self.retry_limit):
            self.metrics["errors" if result == ERROR else "retries_failed"] += 1
            self.metrics["dropped_records"] += len(chunk.records)
            self._log("warn", "engine", f"chunk '{chunk.name}' cannot be retried: task_id=0, {route}")
            self.buffer.done(chunk)
            return
        chunk.retries += 1
        self.metrics["retries"] += 1
        self.metrics["retried_records"] += len(chunk.records)
        wait = backoff(chunk.retries, self.base, self.cap, self.loop.random)
        chunk.retry_at = self.loop.now + wait
        self._log("error", "output:es:es.0", self.output.last_error)
        self._log("warn", "engine", f"failed to flush chunk '{chunk.name}', retry in {wait} seconds: task_id=0, "
                                    f"{route}")
        self._later(wait, lambda: self._flush_chunk(chunk))

    # -- the HTTP server ------------------------------------------------------------------------------
    def api_metrics(self) -> dict:
        m = self.metrics
        return {"input": {"tail.0": {"records": m["input_records"], "bytes": m["input_bytes"],
                                     "files_opened": len(self.tail.files)}},
                "filter": {f"kubernetes.{i}": {"drop_records": 0, "add_records": 0}
                           for i in range(len(self.filters))},
                "output": {"es.0": {k: m[k] for k in ("proc_records", "proc_bytes", "errors", "retries",
                                                      "retries_failed", "dropped_records", "retried_records")}}}

    def api_storage(self) -> dict:
        chunks = self.buffer.chunks.values()
        return {"storage_layer": {"chunks": {"total_chunks": len(chunks), "mem_chunks": 0,
                                             "fs_chunks": len(chunks), "fs_chunks_up": sum(c.open for c in chunks),
                                             "fs_chunks_down": sum(not c.open for c in chunks)}},
                "input_chunks": {"tail.0": {"chunks": {"total": len(chunks), "busy": sum(c.busy for c in chunks)},
                                            "records": self.buffer.records()}}}


class FluentBitProgram(ComponentProgram):
    """The image's binary: reads its configuration, then runs ``FluentBit`` with the pod's ServiceAccount."""

    name = "fluent-bit"
    target = "engine.addons.logging.fluent_bit:FluentBit"

    def start(self, ctx: Any) -> None:
        self.ctx = ctx
        flags = parse_flags(list(ctx.argv[1:]))
        path = flags.get("c") or flags.get("config") or DEFAULT_CONFIG
        try:
            self.sections = self._check(parse_config(ctx.fs[path], dict(ctx.env)))
        except KeyError:
            ctx.stderr(f"[error] [config] file {path} not found\n")
            ctx.exit(1)
            return
        except ConfigError as error:
            ctx.stderr(f"[error] {error}\n")
            ctx.exit(1)
            return
        super().start(ctx)
        service = next((body for name, body in self.sections if name == "SERVICE"), {})
        if ctx.alive and _on(service.get("http_server")):
            ctx.listen(int(service.get("http_port", HTTP_PORT)))

    @staticmethod
    def _check(sections: list[tuple[str, dict[str, str]]]) -> list[tuple[str, dict[str, str]]]:
        known = {"INPUT": ("tail",), "FILTER": ("kubernetes",), "OUTPUT": ("es",)}
        for name, body in sections:
            if name in known and body.get("name", "").lower() not in known[name]:
                raise ConfigError(f"[config] section '{body.get('name', '')}' tried to instance a plugin name that "
                                  "doesn't exist")
        if not any(name == "INPUT" for name, _ in sections) or not any(name == "OUTPUT" for name, _ in sections):
            raise ConfigError("[config] a tail [INPUT] and an es [OUTPUT] are needed")
        return sections

    def on_signal(self, signal: int) -> None:
        if signal in (SIGTERM, SIGINT) and self.component is not None:
            self.component.shutdown()
        super().on_signal(signal)

    def component_options(self) -> dict[str, Any]:
        return {"sections": self.sections, "dial": self.ctx.dial, "resolve": self.ctx.resolve,
                "log": self.ctx.stderr, "memory": self.ctx.set_memory}

    def handle_http(self, request: dict[str, Any]) -> dict[str, Any] | None:
        path = request.get("path", "/").split("?")[0]
        if path == "/":
            return {"status": 200, "headers": {"Content-Type": "application/json"},
                    "body": json.dumps({"fluent-bit": {"version": VERSION, "edition": "Community",
                                                       "flags": ["FLB_HAVE_SQLDB", "FLB_HAVE_METRICS"]}})}
        if path == "/api/v1/health":
            return {"status": 200, "body": "ok\n"}
        engine = self.component
        if engine is None:
            return {"status": 503, "body": "fluent-bit is starting\n"}
        if path == "/api/v1/metrics":
            return {"status": 200, "headers": {"Content-Type": "application/json"},
                    "body": json.dumps(engine.api_metrics())}
        if path == "/api/v1/storage":
            return {"status": 200, "headers": {"Content-Type": "application/json"},
                    "body": json.dumps(engine.api_storage())}
        return {"status": 404, "body": "Not Found\n"}
