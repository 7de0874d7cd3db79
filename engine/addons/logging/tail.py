"""fluent-bit's ``tail`` input with the ``cri`` parser: container log files into records, offsets in a DB.

``Tail(fs, path, db=..., exclude=..., read_from_head=...)`` follows the files matching ``Path``
(``/var/log/containers/*.log``, a glob) in a container's filesystem:
  - ``scan()`` (every ``Refresh_Interval``) finds files not followed yet and opens them (``MountedFS.open``),
    holding the file as a descriptor does, so a file removed before it was read to the end is still read;
  - ``collect()`` reads what each file gained since its offset, up to its last complete line, and parses
    each line with the ``cri`` multiline parser: ``<time> <stream> <P|F> <text>``; ``P`` pieces wait for their
    ``F`` and are joined into one record. A record is ``(time, {"time", "stream", "_p", "log"})`` and its
    tag is ``kube.<path with / as .>`` (``Tag kube.*``);
  - the **DB** (``DB /var/log/flb_kube.db``; SQLite in fluent-bit, one JSON document here) keeps each file's
    name, inode and offset. ``commit()`` writes it once the records read are safely in the buffer, so after a
    restart the agent resumes every file exactly where it stopped: no line twice, none missed. A file found
    at start with no DB entry is read from its head with ``Read_from_Head`` (else from its end); a file found
    later always from its head. An entry goes once its file is gone and was read to the end.
What it never does: send records anywhere (the engine's buffer does), or follow rotated files by inode (the
kubelet here does not rotate).
"""

from __future__ import annotations

import fnmatch
import json
from collections.abc import MutableMapping
from dataclasses import dataclass
from typing import Any

from engine.addons.logging.mapping import UNIX, parse_date
from engine.api.meta import EPOCH
from engine.runtime.cri import rfc3339_nano

Record = tuple[float, dict]
"""(time in virtual seconds, the record's fields)."""


def parse_cri(line: str) -> tuple[float, str, str, str] | None:
    """The ``cri`` parser: (time, stream, logtag, message) of a CRI log line, or None if it is not one."""
    parts = line.split(" ", 3)
    if len(parts) < 3 or parts[1] not in ("stdout", "stderr"):
        return None
    try:
        millis_precise = parse_date(parts[0])
    except ValueError:
        return None
    fraction = parts[0].rsplit(".", 1)[1].rstrip("Z") if "." in parts[0] else ""
    seconds = (millis_precise // 1000) - (EPOCH - UNIX).total_seconds()
    when = seconds + (int(fraction) / 10 ** len(fraction) if fraction.isdigit() else 0.0)
    return when, parts[1], parts[2], parts[3] if len(parts) > 3 else ""


def tag_of(path: str, prefix: str = "kube") -> str:
    """``Tag kube.*``: the ``*`` becomes the file's path with its slashes turned into dots."""
    return f"{prefix}.{path.strip('/').replace('/', '.')}"


@dataclass
class _Followed:
    name: str
    file: Any
    inode: int
    offset: int
    gone: bool = False


class Tail:
    """One ``[INPUT] Name tail`` instance over a container's filesystem."""

    def __init__(self, fs: MutableMapping[str, Any], path: str, *, db: str | None = None, exclude: str = "",
                 read_from_head: bool = False, tag_prefix: str = "kube") -> None:
        self.fs = fs
        self.patterns = [p.strip() for p in path.split(",") if p.strip()]
        self.excludes = [p.strip() for p in exclude.split(",") if p.strip()]
        self.db = db
        self.read_from_head = read_from_head
        self.tag_prefix = tag_prefix
        self.files: dict[str, _Followed] = {}
        self._saved = self._load_db()
        self._first_scan = True
        self.records = 0
        self.bytes = 0

    def _load_db(self) -> dict[str, dict]:
        if not self.db or self.db not in self.fs:
            return {}
        entries = json.loads(self.fs[self.db] or "{}").get("in_tail_files", [])
        return {entry["name"]: entry for entry in entries}

    def _matches(self, path: str) -> bool:
        return any(fnmatch.fnmatchcase(path, p) for p in self.patterns) and \
            not any(fnmatch.fnmatchcase(path, p) for p in self.excludes)

    def scan(self) -> list[str]:
        """Open the matching files not followed yet; returns their names."""
        opened = []
        for path in sorted(p for p in list(self.fs) if not p.endswith("/") and self._matches(p)):
            if path in self.files:
                continue
            try:
                handle = self.fs.open(path)      # type: ignore[attr-defined]
            except KeyError:
                continue
            inode = getattr(handle, "inode", 0)
            saved = self._saved.get(path)
            if saved is not None and saved.get("inode") == inode:
                offset = int(saved["offset"])
            elif self._first_scan and not self.read_from_head:
                offset = getattr(handle, "size", len(str(handle)))
            else:
                offset = 0
            self.files[path] = _Followed(path, handle, inode, offset)
            opened.append(path)
        self._first_scan = False
        return opened

    def collect(self) -> dict[str, list[Record]]:
        """Read every followed file's new complete lines: records by tag (offsets move; ``commit`` saves them)."""
        found: dict[str, list[Record]] = {}
        for path, followed in list(self.files.items()):
            records = self._read(followed)
            if records:
                found.setdefault(tag_of(path, self.tag_prefix), []).extend(records)
            if path not in self.fs:
                followed.gone = True
        return found

    def _read(self, followed: _Followed) -> list[Record]:
        handle = followed.file
        text = handle.read(followed.offset) if hasattr(handle, "read") else str(handle)[followed.offset:]
        end = text.rfind("\n")
        if end < 0:
            return []
        found: list[tuple[int, int, Record]] = []           # (first line's offset, end offset, record)
        pending: dict[str, list[tuple[int, float, str]]] = {}  # per stream (the parser's key_group)
        position = 0
        for line in text[:end].split("\n"):
            start, position = position, position + len(line) + 1
            parsed = parse_cri(line)
            if parsed is None:
                continue
            when, stream, logtag, message = parsed
            pieces = pending.setdefault(stream, [])
            if logtag.startswith("P"):
                pieces.append((start, when, message))
                continue
            if pieces:
                start, when = pieces[0][0], pieces[0][1]
                message = "".join(piece for _, _, piece in pieces) + message
                pieces.clear()
            found.append((start, position, (when, {"time": rfc3339_nano(when), "stream": stream, "_p": "F",
                                                   "log": message})))
        # The pieces of an unfinished line are read again next time, not lost: stop before the first of them
        # (and before any line that began earlier but ended after it).
        cut = min((pieces[0][0] for pieces in pending.values() if pieces), default=position)
        while any(stop > cut for _, stop, _ in found):
            cut = min([cut] + [first for first, stop, _ in found if stop > cut])
            found = [entry for entry in found if entry[1] <= cut]
        records = [record for _, _, record in found]
        followed.offset += cut
        self.bytes += cut
        self.records += len(records)
        return records

    def commit(self) -> None:
        """Write the DB (every file's inode and offset), and forget files gone and read to the end."""
        for path, followed in list(self.files.items()):
            if followed.gone and followed.offset >= getattr(followed.file, "size", 0):
                del self.files[path]
        if not self.db:
            return
        entries = [{"name": f.name, "inode": f.inode, "offset": f.offset} for f in self.files.values()]
        text = json.dumps({"in_tail_files": entries}, sort_keys=True)
        if self.fs.get(self.db) != text:
            self.fs[self.db] = text

