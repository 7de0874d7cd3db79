"""fluent-bit's buffering: records in chunks, chunks on the filesystem, flushes retried with backoff.

Records are appended to the open chunk of their tag (one chunk holds up to ``CHUNK_SIZE`` bytes; a full one is
closed and a new one opened). With ``storage.type filesystem`` every chunk is also a file under
``storage.path`` (``/var/log/flb-storage/tail.0/<id>.flb``), written as records arrive, so chunks outlive the
agent: at start, ``Buffer.load`` finds them again (the "backlog") and they are flushed like new ones.

Every ``Flush`` seconds the engine closes the open chunks and hands each ready chunk to the output as a
task. The output answers for the whole chunk:
    OK      the chunk is done: removed from memory and from the filesystem;
    RETRY   the chunk waits ``backoff(n)`` seconds and is tried again; ``Retry_Limit`` ``no_limits`` / ``False``
            retries forever, a number drops the chunk after that many retries (fluent-bit's default, 1);
    ERROR   the chunk is dropped (counted as ``dropped_records``).
``backoff(n)`` is the scheduler's full jitter: a random whole number of seconds between ``scheduler.base`` and
min(``scheduler.cap``, base * 2^n). A chunk is never in two flushes at once, and is removed only after its
output said OK, so a record reaches the output at least once; since a flush here either happens entirely or
not at all, exactly once. What it never does: talk to the store (the output does) or read files (tail does).
"""

from __future__ import annotations

import json
import random
from collections.abc import MutableMapping
from dataclasses import dataclass, field
from typing import Any

CHUNK_SIZE = 2 * 1024 * 1024
"""fluent-bit's chunks grow to about 2 MB before another is opened."""
OK, RETRY, ERROR = "OK", "RETRY", "ERROR"
SCHEDULER_BASE = 5
SCHEDULER_CAP = 2000


def backoff(retry: int, base: int, cap: int, rng: random.Random) -> int:
    """backoff_full_jitter: a uniform whole number of seconds in [base, min(cap, base * 2^retry)]."""
    ceiling = min(cap, (2 ** retry) * base)
    return rng.randint(base, max(base, ceiling))


@dataclass
class Chunk:
    """Records of one tag, and the file that holds them (when the input's storage is the filesystem)."""

    name: str
    tag: str
    records: list[tuple[float, dict]] = field(default_factory=list)
    size: int = 0
    open: bool = True
    busy: bool = False
    retries: int = 0
    retry_at: float | None = None


class Buffer:
    """One input's chunks: appended to, closed at each flush, handed out as tasks, removed once delivered."""

    def __init__(self, fs: MutableMapping[str, Any] | None, storage_path: str | None, input_name: str) -> None:
        self.fs = fs
        self.directory = f"{storage_path.rstrip('/')}/{input_name}" if storage_path and fs is not None else None
        self.chunks: dict[str, Chunk] = {}
        self._open: dict[str, str] = {}      # tag -> the name of its open chunk
        self._sequence = 0

    def _file(self, chunk: Chunk) -> str | None:
        return f"{self.directory}/{chunk.name}" if self.directory else None

    def _persist(self, chunk: Chunk) -> None:
        path = self._file(chunk)
        if path is not None:
            self.fs[path] = json.dumps({"tag": chunk.tag}) + "\n" + "".join(
                json.dumps([when, record]) + "\n" for when, record in chunk.records)

    def append(self, tag: str, records: list[tuple[float, dict]], now: float) -> None:
        """Add records to the tag's open chunk (opening one when there is none or it is full)."""
        if not records:
            return
        name = self._open.get(tag)
        chunk = self.chunks.get(name) if name else None
        if chunk is None or not chunk.open or chunk.size >= CHUNK_SIZE:
            if chunk is not None:
                chunk.open = False
            self._sequence += 1
            seconds, nanos = divmod(round(now * 1e9), 1_000_000_000)
            chunk = Chunk(f"1-{seconds}.{nanos:09d}-{self._sequence}.flb", tag)
            self.chunks[chunk.name] = chunk
            self._open[tag] = chunk.name
        chunk.records.extend(records)
        chunk.size += sum(len(json.dumps(record)) for _, record in records)
        self._persist(chunk)

    def close_open(self) -> None:
        """Close every open chunk: what it holds goes out with this flush."""
        for name in self._open.values():
            if name in self.chunks:
                self.chunks[name].open = False
        self._open.clear()

    def ready(self, now: float) -> list[Chunk]:
        """Closed chunks not in a flush and not waiting for a retry, oldest first."""
        return [c for c in self.chunks.values()
                if not c.open and not c.busy and (c.retry_at is None or c.retry_at <= now)]

    def done(self, chunk: Chunk) -> None:
        """Delivered (or dropped): forget the chunk and remove its file."""
        self.chunks.pop(chunk.name, None)
        path = self._file(chunk)
        if path is not None and path in self.fs:
            del self.fs[path]

    def records(self) -> int:
        """Records buffered, delivered not yet."""
        return sum(len(c.records) for c in self.chunks.values())

    def load(self) -> int:
        """The backlog: chunks a previous run left in ``storage.path``, closed and ready; returns how many."""
        if self.directory is None:
            return 0
        prefix = self.directory + "/"
        found = 0
        for path in sorted(p for p in list(self.fs) if p.startswith(prefix) and p.endswith(".flb")):
            header, *lines = [line for line in str(self.fs[path]).split("\n") if line]
            chunk = Chunk(path[len(prefix):], json.loads(header)["tag"], open=False)
            chunk.records = [tuple(json.loads(line)) for line in lines]    # type: ignore[misc]
            chunk.size = sum(len(line) for line in lines)
            self.chunks[chunk.name] = chunk
            found += 1
        return found
