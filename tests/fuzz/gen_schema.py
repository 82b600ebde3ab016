"""Fuzz inputs: HTTP requests derived from the OpenAPI document, realistic then mutated.

Everything comes from the document the server ships (``server/openapi.json``): the
operations, their path / header / query parameters and their JSON body schemas
(``$ref``, ``type`` lists, ``enum``/``const``, ``format: date-time``, ``required``). When
the document changes, the requests change with it; nothing here names an endpoint.
Mutations replace a part of a realistic request with something hostile: raw bodies that
are deep, not UTF-8, not JSON or carry lone-surrogate escapes, wrong types, times outside
1970..9999 with offsets, and header / path values a router must refuse.
"""

from __future__ import annotations

import json
import random
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import gen_cel
import gen_json

from server._timeouts import format_rfc3339

DOCUMENT = Path(__file__).resolve().parents[2] / "server" / "openapi.json"
NOW = time.time_ns() // 1_000_000
TIMES = ["0000-01-01T00:00:00Z", "0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00",
         "10000-01-01T00:00:00Z", "1969-12-31T23:59:59Z", "2024-02-30T00:00:00Z",
         "2024-01-01T00:00:00", "2024-01-01", "2024-W01-1T00:00:00Z", "20240101T000000Z",
         "2024-01-01T00:00:00.123456789123Z", "2024-01-01T24:00:00Z", "2024-01-01T23:59:60Z",
         "2030-01-01T00:00:00Z", "", "now", "1700000000000"]
HEADER_VALUES = ["", "prod", "a" * 65, "bad/env", "é", "x" * 9000, "\t", "default"]
PATH_VALUES = ["01HF7YAT005Y0CV97J0WQWCA05", "x", "%00", "%ED%A0%80", "..", "a" * 5000,
               "%2F", "01hf7yat005y0cv97j0wqwca05", "%ZZ"]


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    parameters: tuple[dict[str, Any], ...]
    body: dict[str, Any] | None


@dataclass(frozen=True)
class Request:
    method: str
    url: str
    headers: dict[str, str]
    body: bytes | None


def load() -> dict[str, Any]:
    return dict(json.loads(DOCUMENT.read_text()))


def operations(doc: dict[str, Any]) -> list[Operation]:
    out = []
    for path, item in doc["paths"].items():
        shared = item.get("parameters", [])
        for method, op in item.items():
            if method == "parameters":
                continue
            content = op.get("requestBody", {}).get("content", {})
            body = content.get("application/json", {}).get("schema")
            out.append(Operation(method.upper(), path, tuple(shared + op.get("parameters", [])),
                                 resolve(doc, body) if body else None))
    return out


def resolve(doc: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        node: Any = doc
        for part in schema["$ref"].lstrip("#/").split("/"):
            node = node[part]
        schema = node
    return schema


def value(rng: random.Random, doc: dict[str, Any], schema: dict[str, Any], name: str = "") -> Any:
    """A value the schema allows, realistic for its property name."""
    schema = resolve(doc, schema)
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        return rng.choice(schema["enum"])
    for key in ("anyOf", "oneOf"):
        if key in schema:
            return value(rng, doc, rng.choice(schema[key]), name)
    kind = schema.get("type", "string")
    kind = rng.choice([k for k in kind if k != "null"] or ["null"]) if isinstance(kind, list) else kind
    if kind == "object":
        props = schema.get("properties", {})
        required = set(schema.get("required", []))
        return {k: value(rng, doc, v, k) for k, v in props.items()
                if k in required or rng.random() < 0.6}
    if kind == "array":
        return [value(rng, doc, schema.get("items", {}), name) for _ in range(rng.randint(0, 3))]
    if kind in ("integer", "number"):
        return rng.randint(0, 100)
    if kind == "boolean":
        return rng.random() < 0.5
    if kind == "null":
        return None
    return _text(rng, schema, name)


def _text(rng: random.Random, schema: dict[str, Any], name: str) -> str:
    if schema.get("format") == "date-time":
        offset = 3_600_000 if "after" in name else 1000
        return format_rfc3339(NOW - offset - rng.randint(0, 600_000))
    if name == "if":
        return gen_cel.text(rng).replace("async", "event") if rng.random() < 0.5 else \
            "event.data.reminderId == 'r1'"
    return rng.choice(["app", "fn", "fn2", "x"])


def hostile_value(rng: random.Random) -> Any:
    return rng.choice([None, 0, -1, 2**63, 1e308, True, [], {}, "", "\ud800", "\x00",
                       "x" * 20_000, rng.choice(TIMES), gen_cel.text(rng), gen_json.value(rng),
                       {"$ref": "#/x"}, [[[[[]]]]]])


def _body_bytes(rng: random.Random, body: Any) -> bytes:
    roll = rng.random()
    if roll < 0.7:
        return json.dumps(body, ensure_ascii=rng.random() < 0.8).encode("utf-8", "surrogatepass")
    return rng.choice([
        lambda: gen_json.text(rng).encode("utf-8", "surrogatepass"),
        lambda: b"[" * 100_000 + b"]" * 100_000,
        lambda: json.dumps(body)[:-1].encode() + b"\xff\xfe}",
        lambda: b"",
        lambda: b"null",
        lambda: json.dumps([body]).encode(),
        lambda: ('{"app_id": "' + "\\ud800" * 3 + '"}').encode(),
    ])()


def request(rng: random.Random, doc: dict[str, Any], op: Operation, auth: str) -> Request:
    """A request for ``op``: the document's shape, then (3 times in 4) mutated."""
    hostile = rng.random() < 0.75
    path, headers, query = op.path, {"Content-Type": "application/json"}, []
    for p in op.parameters:
        v = str(value(rng, doc, p.get("schema", {}), p["name"]))
        if p["in"] == "header":
            v = rng.choice(HEADER_VALUES) if hostile and rng.random() < 0.3 else "fuzz"
            headers[p["name"]] = v
        elif p["in"] == "path":
            v = rng.choice(PATH_VALUES) if hostile and rng.random() < 0.5 else v
            path = path.replace("{" + p["name"] + "}", v if "%" in v else quote(v, safe=""))
        elif p["in"] == "query":
            query.append(f"{quote(p['name'])}={quote(v)}")
    body = None
    if op.body is not None:
        obj = value(rng, doc, op.body)
        if hostile and isinstance(obj, dict):
            for _ in range(rng.randint(1, 3)):
                key = rng.choice(list(op.body.get("properties", {})) + ["extra", ""])
                obj[key] = hostile_value(rng)
            if obj and rng.random() < 0.2:
                del obj[rng.choice(list(obj))]
        body = _body_bytes(rng, obj) if hostile else json.dumps(obj).encode()
    if auth:
        headers["Authorization"] = auth
    url = path + ("?" + "&".join(query) if query else "")
    return Request(op.method, url, headers, body)
