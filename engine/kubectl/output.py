"""kubectl's machine-readable output: ``-o yaml``, ``-o json``, ``-o name``, ``-o jsonpath``, ``-o custom-columns``.

Interface:

- ``to_yaml(obj)`` / ``to_json(obj)``: one object as kubectl prints it (keys
  sorted, as Go prints the unstructured maps kubectl decodes; JSON indented by
  four spaces with Go's ``\\u003c``-style escapes; YAML double-quoting text
  that would read as another type, single-quoting text plain style cannot
  carry, and literal blocks for multi-line text, as go-yaml does).
- ``as_list(objects)``: the ``kind: List`` wrapper kubectl prints around several objects.
- ``name_of(kind, obj)``: ``pod/web``, ``deployment.apps/web``.
- ``custom_columns(spec, objects)``: the ``-o custom-columns=HEADER:.path,...`` table.
- ``OutputError``: an ``-o`` value kubectl would refuse, with its message.
"""

from __future__ import annotations

import json
from typing import Any

import yaml

from engine.api.kinds import Kind
from engine.kubectl import jsonpath
from engine.kubectl.printers import resource_prefix
from engine.kubectl.tabwriter import format_tabbed


class OutputError(ValueError):
    """A bad ``-o`` argument."""


class _Dumper(yaml.SafeDumper):
    """PyYAML set up to write what go-yaml (through sigs.k8s.io/yaml) writes."""


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    """go-yaml's choice of style: literal for multi-line text, double quotes for text that would read
    as another type (``"8080"``, ``"true"``, ``""``, timestamps), else plain or single quotes."""
    if "\n" in value:
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|")
    if dumper.resolve(yaml.ScalarNode, value, (True, False)) != "tag:yaml.org,2002:str":
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style='"')
    return dumper.represent_scalar("tag:yaml.org,2002:str", value)


_Dumper.add_representer(str, _represent_str)


def to_yaml(obj: Any) -> str:
    """YAML as ``kubectl get -o yaml`` prints it."""
    return yaml.dump(obj, Dumper=_Dumper, sort_keys=True, default_flow_style=False, allow_unicode=True,
                     width=1 << 30)


def to_json(obj: Any) -> str:
    """JSON as ``kubectl get -o json`` prints it (Go's ``json.MarshalIndent`` with four spaces)."""
    text = json.dumps(obj, indent=4, sort_keys=True, ensure_ascii=False)
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return text + "\n"


def as_list(objects: list[dict]) -> dict:
    """``kind: List`` around several objects, as kubectl's printers wrap them."""
    return {"apiVersion": "v1", "items": objects, "kind": "List", "metadata": {"resourceVersion": ""}}


def name_of(kind: Kind, obj: dict) -> str:
    return f"{resource_prefix(kind)}/{obj['metadata']['name']}"


def go_value(value: Any) -> str:
    """Go's ``fmt.Sprintf("%v", v)`` of a decoded JSON value."""
    if isinstance(value, dict):
        return "map[" + " ".join(f"{key}:{go_value(value[key])}" for key in sorted(value)) + "]"
    if isinstance(value, list):
        return "[" + " ".join(go_value(item) for item in value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "<nil>"
    return str(value)


def parse_custom_columns(spec: str) -> list[tuple[str, str]]:
    """``NAME:.metadata.name,IMAGE:.spec.containers[*].image`` into (header, template) pairs."""
    columns = []
    for part in spec.split(","):
        header, sep, path = part.partition(":")
        if not sep or not header:
            raise OutputError(f'unexpected custom-columns spec: {part}, expected <header>:<json-path-expr>')
        columns.append((header, jsonpath.relaxed(path)))
    return columns


def custom_columns(spec: str, objects: list[dict], no_headers: bool = False) -> str:
    """The ``-o custom-columns`` table: ``<none>`` where a path selects nothing."""
    columns = parse_custom_columns(spec)
    lines = [] if no_headers else ["\t".join(header for header, _ in columns)]
    for obj in objects:
        cells = []
        for _, template in columns:
            values = jsonpath.find_results(template, obj)
            cells.append(",".join(go_value(value) for value in values) if values else "<none>")
        lines.append("\t".join(cells))
    return format_tabbed("".join(line + "\n" for line in lines))
