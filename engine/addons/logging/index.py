"""An Elasticsearch index (one shard, no replica): documents, their inverted index, doc values, and segments.

Indexing a document maps its fields (``mapping``), then records, per field:
  - text fields: postings, term -> {document: [positions]}, and the field's length (for BM25 and phrases);
  - keyword, long, float, boolean and date fields: the exact values, value -> {documents}, and the document's
    values ("doc values", for ``range``, sorting and aggregations).
A new document is searchable after the next refresh (``index.refresh_interval``, 1 s): ``refresh()`` moves
what was indexed since into the searchable set, as Lucene opens a new segment. Durability is per request
(``index.translog.durability: request``): ``write_segment`` puts each batch of documents into a file under
the node's data path (``<data>/indices/<index>/<n>.seg``) before the request is acknowledged, and ``load``
reads them back when the node starts. Segments are merged ten at a time (the log merge policy's merge
factor), so a long-lived index has few files. What it never does: parse queries (``query``) or talk HTTP.
"""

from __future__ import annotations

import json
from collections.abc import MutableMapping
from dataclasses import dataclass, field
from typing import Any

from engine.addons.logging.mapping import IGNORE_ABOVE, MappingError, analyze, coerce, dynamic_type, flatten

MERGE_FACTOR = 10


@dataclass
class Document:
    number: int
    id: str
    source: dict
    seq_no: int


@dataclass
class _Segment:
    name: str
    level: int
    numbers: list[int]


@dataclass(eq=False)
class Index:
    """One index's documents and the structures that find them."""

    name: str
    uuid: str
    created: int
    fields: dict[str, str] = field(default_factory=dict)
    docs: list[Document] = field(default_factory=list)
    ids: dict[str, int] = field(default_factory=dict)
    postings: dict[str, dict[str, dict[int, list[int]]]] = field(default_factory=dict)
    lengths: dict[str, dict[int, int]] = field(default_factory=dict)
    exact: dict[str, dict[Any, set[int]]] = field(default_factory=dict)
    values: dict[str, dict[int, list[Any]]] = field(default_factory=dict)
    searchable: int = 0
    """Documents numbered below this are visible to search (the last refresh)."""
    deleted: set[int] = field(default_factory=set)
    """Documents replaced or deleted (Lucene's live-docs bits): never found again."""
    segments: list[_Segment] = field(default_factory=list)
    _unwritten: list[Document] = field(default_factory=list)
    _tombstones: list[str] = field(default_factory=list)

    # -- indexing ----------------------------------------------------------------------------
    def check(self, source: dict) -> None:
        """Raise MappingError if the document cannot be indexed (nothing is changed)."""
        seen = dict(self.fields)
        for path, value in flatten(source):
            field_type = seen.setdefault(path, dynamic_type(value))
            if isinstance(value, (dict, list)):
                raise MappingError(f"failed to parse field [{path}]")
            coerce(field_type, value, path)

    def add(self, doc_id: str, source: dict) -> Document:
        """Index a checked document (``check`` first), replacing one with the same ``_id``; it is searchable
        after the next ``refresh``."""
        self.delete(doc_id)
        number = len(self.docs)
        doc = Document(number, doc_id, source, number)
        self.docs.append(doc)
        self.ids[doc_id] = number
        for path, value in flatten(source):
            field_type = self.fields.setdefault(path, dynamic_type(value))
            if field_type == "text":
                self.fields.setdefault(f"{path}.keyword", "keyword")
                self._text(path, number, str(value))
                if len(str(value)) <= IGNORE_ABOVE:
                    self._exact(f"{path}.keyword", number, str(value))
            else:
                self._exact(path, number, coerce(field_type, value, path))
        self._unwritten.append(doc)
        return doc

    def delete(self, doc_id: str) -> bool:
        """Mark the document with this ``_id`` deleted (written as a tombstone with the next segment)."""
        number = self.ids.pop(doc_id, None)
        if number is None:
            return False
        self.deleted.add(number)
        self._tombstones.append(doc_id)
        return True

    def get(self, doc_id: str) -> Document | None:
        """A live document by ``_id`` (real-time: refresh does not matter for a get)."""
        number = self.ids.get(doc_id)
        return self.docs[number] if number is not None else None

    def __len__(self) -> int:
        """Live documents (``docs.count``)."""
        return len(self.ids)

    def _text(self, path: str, number: int, text: str) -> None:
        terms = self.postings.setdefault(path, {})
        lengths = self.lengths.setdefault(path, {})
        offset = lengths.get(number, 0)
        tokens = analyze(text)
        for position, token in enumerate(tokens):
            terms.setdefault(token, {}).setdefault(number, []).append(offset + position)
        lengths[number] = offset + len(tokens) + (100 if offset else 0)    # position_increment_gap between values

    def _exact(self, path: str, number: int, value: Any) -> None:
        self.exact.setdefault(path, {}).setdefault(value, set()).add(number)
        self.values.setdefault(path, {}).setdefault(number, []).append(value)

    def refresh(self) -> bool:
        """Make every indexed document searchable; True if anything changed."""
        changed = self.searchable != len(self.docs)
        self.searchable = len(self.docs)
        return changed

    def live(self) -> list[int]:
        return [n for n in range(self.searchable) if n not in self.deleted]

    # -- segments on disk --------------------------------------------------------------------------
    def directory(self, data: str) -> str:
        return f"{data}/indices/{self.uuid}"

    def write_segment(self, fs: MutableMapping[str, Any], data: str) -> None:
        """Persist the documents indexed since the last write as one new segment; merge when ten are alike."""
        if not self._unwritten and not self._tombstones:
            return
        docs, self._unwritten = self._unwritten, []
        tombstones, self._tombstones = self._tombstones, []
        directory = self.directory(data)
        if not self.segments:
            fs[f"{directory}/"] = ""
            fs[f"{directory}/index.json"] = json.dumps({"name": self.name, "uuid": self.uuid,
                                                        "creation_date": self.created})
        self._write(fs, directory, 0, docs, tombstones)
        while True:
            level = self.segments[-1].level
            alike = [segment for segment in self.segments if segment.level == level]
            if len(alike) < MERGE_FACTOR:
                return
            merged = [self.docs[n] for segment in alike for n in segment.numbers if n not in self.deleted]
            for segment in alike:
                del fs[f"{directory}/{segment.name}"]
                self.segments.remove(segment)
            gone = sorted({self.docs[n].id for n in self.deleted} - set(self.ids))   # deletes of older segments' docs
            self._write(fs, directory, level + 1, merged, gone)

    def _write(self, fs: MutableMapping[str, Any], directory: str, level: int, docs: list[Document],
               tombstones: list[str] = ()) -> None:      # type: ignore[assignment]
        number = int(self.segments[-1].name[1:-4]) + 1 if self.segments else 0
        name = f"_{number}.seg"
        fs[f"{directory}/{name}"] = "".join([json.dumps({"_delete": t}) + "\n" for t in tombstones] +
                                            [json.dumps({"_id": d.id, "_source": d.source}) + "\n" for d in docs])
        self.segments.append(_Segment(name, level, [d.number for d in docs]))

    @classmethod
    def load(cls, fs: MutableMapping[str, Any], directory: str) -> Index:
        """An index as its segment files on disk hold it, every document searchable."""
        meta = json.loads(fs[f"{directory}/index.json"])
        index = cls(meta["name"], meta["uuid"], meta["creation_date"])
        names = sorted((path[len(directory) + 1:] for path in fs
                        if path.startswith(f"{directory}/_") and path.endswith(".seg")),
                       key=lambda name: int(name[1:-4]))
        for name in names:        # a loaded segment counts as unmerged: the next write may merge it
            lines = [line for line in str(fs[f"{directory}/{name}"]).split("\n") if line]
            numbers = []
            for entry in map(json.loads, lines):
                if "_delete" in entry:
                    index.delete(entry["_delete"])
                else:
                    numbers.append(index.add(entry["_id"], entry["_source"]).number)
            index.segments.append(_Segment(name, 0, numbers))
        index._unwritten, index._tombstones = [], []
        index.refresh()
        return index
