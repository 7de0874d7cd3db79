"""Writes engine/api/schema.json: every field of every built-in kind, taken from the official client's models.

    .venv/bin/python scripts/generate_api_schema.py

The official ``kubernetes`` Python client is generated from the Kubernetes OpenAPI document, and
each of its model classes lists its fields (``attribute_map``: Python name -> JSON name) and their
types (``openapi_types``). This script walks them from each kind the engine registers and keeps only
what the API server needs to find unknown fields: for each type, its JSON field names and their
types, written as ``string``, ``integer``, ``number``, ``boolean``, ``object`` (free-form),
``[]T``, ``map[string]T`` or the name of another type. ``tests/engine/api/test_schema.py``
regenerates it and fails on drift.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import kubernetes
import kubernetes.client.models as models

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from engine.api.kinds import REGISTRY  # noqa: E402

TARGET = ROOT / "engine" / "api" / "schema.json"
PRIMITIVES = {"str": "string", "int": "integer", "float": "number", "bool": "boolean", "datetime": "string",
              "date": "string", "bytes": "string", "bytearray": "string", "object": "object"}
MODEL_NAMES = {("", "Event"): "CoreV1Event", ("authentication.k8s.io", "TokenRequest"): "AuthenticationV1TokenRequest"}
"""Kinds whose model name is not ``<Version><Kind>`` because another group has a kind of the same name."""


def model_name(group: str, version: str, kind: str) -> str | None:
    """The client's model class for a kind: ``V1Pod``, ``V2HorizontalPodAutoscaler``, ``CoreV1Event``."""
    for name in (MODEL_NAMES.get((group, kind)), f"{version.capitalize()}{kind}"):
        if name and hasattr(models, name):
            return name
    return None


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
    kinds: dict[str, str] = {}
    pending: list[str] = []
    extra = [("", "v1", "Binding"), ("policy", "v1", "Eviction"), ("autoscaling", "v1", "Scale"),
             ("authentication.k8s.io", "v1", "TokenRequest")]
    for group, version, kind in [(k.group, k.version, k.kind) for k in REGISTRY] + extra:
        name = model_name(group, version, kind)
        if name is None:
            continue
        kinds[f"{group}/{version}/{kind}" if group else f"{version}/{kind}"] = name
        pending.append(name)
    types: dict[str, dict[str, str]] = {}
    while pending:
        name = pending.pop()
        if name in types:
            continue
        cls = getattr(models, name)
        types[name] = {cls.attribute_map[field]: type_of(text, pending)
                       for field, text in sorted(cls.openapi_types.items(), key=lambda item: item[0].lstrip("_"))}
    return {"source": f"kubernetes Python client {kubernetes.__version__}",
            "kinds": dict(sorted(kinds.items())), "types": dict(sorted(types.items()))}


def text() -> str:
    return json.dumps(schema(), indent=0, sort_keys=False) + "\n"


if __name__ == "__main__":
    TARGET.write_text(text())
    print(f"wrote {TARGET.relative_to(ROOT)}")
