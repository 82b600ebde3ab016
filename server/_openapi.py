"""OpenAPI: the REST API's document, generated from the route declarations and their models.

``document(ROUTES)`` is what ``/v1/openapi.json`` serves and what ``server/openapi.json``
holds (``cancelmatch openapi > server/openapi.json`` rewrites it; a test fails when the
committed file differs). Schemas come from the same pydantic models that validate requests
and build responses, so the document and the server cannot disagree.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, Literal

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from ._http_api import ApiRoute
from .rest_models import ErrorResponse

API_VERSION = "1.0.0"
REF = "#/components/schemas/{model}"
ENV_PARAMETER = {"name": "X-Inngest-Env", "in": "header", "required": False,
                 "description": "The environment (Inngest's branch environment name); "
                                "default `default`.", "schema": {"type": "string"}}
Mode = Literal["validation", "serialization"]


def _models(routes: Sequence[ApiRoute]) -> list[tuple[type[BaseModel], Mode]]:
    out: list[tuple[type[BaseModel], Mode]] = [(ErrorResponse, "serialization")]
    for r in routes:
        if r.body is not None:
            out.append((r.body, "validation"))
        out.append((r.response, "serialization"))
    return list(dict.fromkeys(out))


def _ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": REF.format(model=model.__name__)}


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


def _parameters(route: ApiRoute) -> list[dict[str, Any]]:
    params: list[dict[str, Any]] = [ENV_PARAMETER]
    for name in re.findall(r"{(\w+)}", route.path):
        params.append({"name": name, "in": "path", "required": True,
                       "schema": {"type": "string"}})
    if route.query is not None:
        for name, schema in route.query.model_json_schema()["properties"].items():
            description = schema.pop("description", "")
            schema.pop("default", None)
            schema.pop("title", None)
            # A query parameter is absent rather than null: document the value's type.
            kinds = [k for k in schema.pop("anyOf", []) if k.get("type") != "null"]
            schema.update(kinds[0] if len(kinds) == 1 else {"anyOf": kinds} if kinds else {})
            params.append({"name": name, "in": "query", "required": False,
                           "description": description, "schema": schema})
    return params


def _operation(route: ApiRoute) -> dict[str, Any]:
    responses: dict[str, Any] = {"200": {"description": "OK", "content": _json(_ref(route.response))}}
    for status, why in sorted(route.errors.items()):
        responses[str(status)] = {"description": why, "content": _json(_ref(ErrorResponse))}
    op: dict[str, Any] = {"operationId": route.operation_id, "summary": route.summary,
                          "description": route.description, "tags": [route.tag],
                          "parameters": _parameters(route), "responses": responses}
    if route.body is not None:
        op["requestBody"] = {"required": True, "content": _json(_ref(route.body))}
    if route.auth:
        op["security"] = [{"signingKey": []}]
    return op


def document(routes: Sequence[ApiRoute]) -> dict[str, Any]:
    """The OpenAPI 3.1 document of ``routes``."""
    _, defs = models_json_schema(_models(routes), ref_template=REF)
    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        paths.setdefault(route.path, {})[route.method.lower()] = _operation(route)
    return {
        "openapi": "3.1.0",
        "info": {"title": "cancelmatch REST API", "version": API_VERSION,
                 "description": "Inngest-compatible bulk cancellations and function sync. "
                                "Errors are `{\"error\", \"data\", \"status\"}` on every "
                                "path, 404 and 405 included."},
        "paths": paths,
        "components": {
            "schemas": defs.get("$defs", {}),
            "securitySchemes": {"signingKey": {
                "type": "http", "scheme": "bearer",
                "description": "The server's --signing-key (not needed in local mode)."}},
        },
    }
