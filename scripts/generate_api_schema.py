"""Writes engine/api/schema.json: every field of every built-in kind, taken from the official client's models.

    .venv/bin/python scripts/generate_api_schema.py

The official ``kubernetes`` Python client is generated from the Kubernetes OpenAPI document, and
each of its model classes lists its fields (``attribute_map``: Python name -> JSON name) and their
types (``openapi_types``). This script walks them from every top-level model (``V1Pod``,
``V1Deployment``, ``CoreV1Event``: the ``kinds`` list) and keeps only what the API server needs
to find unknown fields: for each type, its JSON field names and their
types, written as ``string``, ``integer``, ``number``, ``boolean``, ``object`` (free-form),
``[]T``, ``map[string]T`` or the name of another type. ``tests/engine/api/test_schema.py``
regenerates it and fails on drift.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import kubernetes
import kubernetes.client.models as models

ROOT = Path(__file__).resolve().parents[1]
TARGET = ROOT / "engine" / "api" / "schema.json"
PRIMITIVES = {"str": "string", "int": "integer", "float": "number", "bool": "boolean", "datetime": "string",
              "date": "string", "bytes": "string", "bytearray": "string", "object": "object"}
def type_of(text: str, pending: list[str]) -> str:
    """A client type string (``List[V1Container]``, ``Dict[str, str]``, ``V1PodSpec``) in the schema's notation."""
    text = text.strip()
    if match := re.fullmatch(r"List\[(.+)\]", text):
        return "[]" + type_of(match.group(1), pending)
    if match := re.fullmatch(r"Dict\[str, (.+)\]", text):
        return "map[string]" + type_of(match.group(1), pending)
    if text in PRIMITIVES:
        return PRIMITIVES[text]
    if not hasattr(models, text):
        raise SystemExit(f"unknown type in the client's models: {text}")
    pending.append(text)
    return text


def schema() -> dict:
    """Every top-level model (one with apiVersion, kind and metadata; lists excluded) and the types it reaches."""
    pending = [name for name in dir(models) if _top_level(name)]
    kinds = sorted(pending)
    types: dict[str, dict[str, str]] = {}
    while pending:
        name = pending.pop()
        if name in types:
            continue
        cls = getattr(models, name)
        types[name] = {cls.attribute_map[field]: type_of(text, pending)
                       for field, text in sorted(cls.openapi_types.items(), key=lambda item: item[0].lstrip("_"))}
    return {"source": f"kubernetes Python client {kubernetes.__version__}", "kinds": kinds,
            "types": dict(sorted(types.items()))}


def _top_level(name: str) -> bool:
    fields = getattr(getattr(models, name), "attribute_map", None)
    return isinstance(fields, dict) and not name.endswith("List") and \
        {"apiVersion", "kind", "metadata"} <= set(fields.values())


def text() -> str:
    return json.dumps(schema(), indent=0, sort_keys=False) + "\n"


if __name__ == "__main__":
    TARGET.write_text(text())
    print(f"wrote {TARGET.relative_to(ROOT)}")
