"""The HTTP API reference, generated from the OpenAPI document the API serves (api/openapi.json)."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

SPEC = Path(__file__).resolve().parents[1] / "api" / "openapi.json"


def load(path: Path = SPEC) -> dict[str, Any]:
    """The OpenAPI document."""
    return json.loads(path.read_text(encoding="utf-8"))


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def schema_text(schema: dict[str, Any]) -> str:
    """A schema in a few words: `Signal`[], integer 1..500 (default 50), object (a: string)."""
    if "$ref" in schema:
        return "`" + schema["$ref"].rsplit("/", 1)[-1] + "`"
    if "enum" in schema:
        return "/".join("null" if v is None else str(v) for v in schema["enum"])
    kind = schema.get("type", "any")
    if isinstance(kind, list):
        kind = " or ".join(kind)
    if kind == "array":
        return schema_text(schema.get("items", {})) + "[]"
    if kind == "object" and "properties" in schema:
        return "object (" + ", ".join(f"{k}: {schema_text(v)}"
                                      for k, v in schema["properties"].items()) + ")"
    parts = [str(kind)]
    if "minimum" in schema or "maximum" in schema:
        parts.append(f"{schema.get('minimum', '')}..{schema.get('maximum', '')}")
    if "default" in schema:
        parts.append(f"(default {schema['default']})")
    return " ".join(parts)


def resolve(spec: dict[str, Any], item: dict[str, Any]) -> dict[str, Any]:
    """A `#/components/...` reference replaced by what it names (other items as they are)."""
    ref = item.get("$ref", "")
    if not ref.startswith("#/"):
        return item
    node: Any = spec
    for part in ref[2:].split("/"):
        node = node[part]
    return node


def _responses(spec: dict[str, Any], op: dict[str, Any]) -> str:
    out = []
    for status, given in op.get("responses", {}).items():
        resp = resolve(spec, given)
        bodies = [f"{media}: {schema_text(c.get('schema', {}))}"
                  for media, c in resp.get("content", {}).items()]
        out.append(f"{status} {resp.get('description', '')}"
                   + (f" ({'; '.join(bodies)})" if bodies else ""))
    return "<br>".join(_cell(o) for o in out)


def _parameters(spec: dict[str, Any], op: dict[str, Any]) -> str:
    params = [resolve(spec, p) for p in op.get("parameters", [])]
    items = [f"`{p['name']}` ({p['in']}): {schema_text(p.get('schema', {}))}"
             + (f": {p['description']}" if p.get("description") else "") for p in params]
    body = op.get("requestBody", {}).get("content", {})
    items += [f"body {media}: {schema_text(c.get('schema', {}))}" for media, c in body.items()]
    return "<br>".join(_cell(i) for i in items) or "none"


def endpoints_table(spec: dict[str, Any]) -> str:
    """One row per operation: method and path, what it does, parameters, responses, auth."""
    rows = ["| endpoint | what it does | parameters | responses | auth |", "|---|---|---|---|---|"]
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            auth = "none" if op.get("security") == [] else "yes"
            rows.append(f"| `{method.upper()} {path}` | {_cell(op.get('summary', ''))} | "
                        f"{_parameters(spec, op)} | {_responses(spec, op)} | {auth} |")
    return "\n".join(rows)


def schemas_section(spec: dict[str, Any]) -> str:
    """One table per component schema: field, type, description."""
    out = []
    for name, schema in spec.get("components", {}).get("schemas", {}).items():
        out.append(f"#### `{name}`\n")
        if schema.get("description"):
            out.append(_cell(schema["description"]) + "\n")
        props = schema.get("properties", {})
        if not props:
            out.append(schema_text(schema) + "\n")
            continue
        out.append("| field | type | description |\n|---|---|---|")
        out += [f"| `{k}` | {_cell(schema_text(v))} | {_cell(v.get('description', ''))} |"
                for k, v in props.items()]
        out.append("")
    return "\n".join(out)


def api_reference(path: Path = SPEC) -> str:
    """The whole generated reference: description, endpoints, schemas."""
    spec = load(path)
    info = spec["info"]
    return "\n\n".join([
        f"*Generated from `api/openapi.json` ({info['title']}, version {info['version']}, "
        f"OpenAPI {spec['openapi']}) when the site is built.*",
        _cell(info.get("description", "")),
        "### Endpoints", endpoints_table(spec),
        "### Schemas", schemas_section(spec)])
