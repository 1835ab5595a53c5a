"""The OpenAPI 3.1 document, generated from the route table so it cannot drift.

Every endpoint in ``ApiRoutes`` becomes an operation: path parameters from its path,
query parameters and request body from the pydantic models it was registered with,
its success response from its response model (any JSON when it has none), and every
error as the shared ``Error`` schema. Component schemas come from pydantic's own JSON
Schema output, whose dialect is the one OpenAPI 3.1 uses.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web
from pydantic import BaseModel

from hub.api.routes import API_ROUTES, ApiRoutes, Endpoint

REF = "#/components/schemas/{model}"
ERROR_STATUSES = {
    "400": "The request is malformed or fails validation",
    "401": "No valid bearer token",
    "403": "The token's role or scopes do not allow this",
    "404": "Not found (or not visible to this caller)",
    "413": "The body is too large",
    "415": "The body (or a file in it) is of a type not accepted",
}
ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                # On a refused body or query: each problem and the path of its value.
                "fields": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["loc", "message"],
                        "properties": {
                            "loc": {
                                "type": "array",
                                "items": {"anyOf": [{"type": "string"}, {"type": "integer"}]},
                            },
                            "message": {"type": "string"},
                            "type": {"type": "string"},
                            "ctx": {"type": "object"},
                        },
                    },
                },
            },
        }
    },
}


class _Components:
    """Collects component schemas, each model under its class name."""

    def __init__(self) -> None:
        self.schemas: dict[str, Any] = {"Error": ERROR_SCHEMA}
        self._owners: dict[str, type[BaseModel]] = {}

    def schema(self, model: type[BaseModel], mode: str = "validation") -> dict[str, Any]:
        """The model's full schema with nested models hoisted into components."""
        raw = model.model_json_schema(ref_template=REF, mode=mode)  # type: ignore[arg-type]
        for name, nested in raw.pop("$defs", {}).items():
            self.schemas.setdefault(name, nested)
        return raw

    def ref(self, model: type[BaseModel], mode: str = "validation") -> dict[str, Any]:
        name = model.__name__
        owner = self._owners.setdefault(name, model)
        if owner is not model:
            name = f"{model.__module__.rsplit('.', 1)[-1]}_{name}"
        if name not in self.schemas:
            self.schemas[name] = self.schema(model, mode)
        return {"$ref": REF.format(model=name)}


def _query_parameters(components: _Components, model: type[BaseModel]) -> list[dict[str, Any]]:
    schema = components.schema(model)
    required = set(schema.get("required", []))
    return [
        {"name": name, "in": "query", "required": name in required, "schema": prop}
        for name, prop in schema.get("properties", {}).items()
    ]


def _operation_id(endpoint: Endpoint) -> str:
    words = [w.strip("{}") for w in endpoint.path.split("/")[3:] if w]
    return "_".join([endpoint.method.lower(), *words]).replace("-", "_").replace(".", "_")


def _operation(components: _Components, endpoint: Endpoint) -> dict[str, Any]:
    parameters: list[dict[str, Any]] = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in endpoint.path_params
    ]
    if endpoint.query is not None:
        parameters.extend(_query_parameters(components, endpoint.query))
    success: dict[str, Any] = {"description": endpoint.summary}
    if endpoint.status != 204:
        schema = components.ref(endpoint.response, "serialization") if endpoint.response else {}
        success["content"] = {"application/json": {"schema": schema}}
        if endpoint.csv:
            success["content"]["text/csv"] = {"schema": {"type": "string"}}
    error = {"content": {"application/json": {"schema": {"$ref": REF.format(model="Error")}}}}
    responses: dict[str, Any] = {str(endpoint.status): success}
    for status, description in ERROR_STATUSES.items():
        responses[status] = {"description": description, **error}
    responses["default"] = {"description": "Any other error", **error}
    operation: dict[str, Any] = {
        "operationId": _operation_id(endpoint),
        "summary": endpoint.summary,
        "x-roles": sorted(endpoint.roles),
        "x-scope": endpoint.scope,
        "parameters": parameters,
        "responses": responses,
    }
    if endpoint.public:
        # No token needed: an empty requirement overrides the document-wide bearer one.
        operation.update({"security": [], "x-public": True})
        del operation["x-scope"]
    content: dict[str, Any] = {}
    if endpoint.body is not None:
        content["application/json"] = {"schema": components.ref(endpoint.body)}
    if endpoint.form is not None:
        content["multipart/form-data"] = {"schema": components.ref(endpoint.form)}
    if content:
        operation["requestBody"] = {"required": not endpoint.body_optional, "content": content}
    return operation


def build_document(routes: ApiRoutes, version: str = "1") -> dict[str, Any]:
    components = _Components()
    paths: dict[str, dict[str, Any]] = {}
    for endpoint in sorted(routes.endpoints.values(), key=lambda e: (e.path, e.method)):
        operation = _operation(components, endpoint)
        paths.setdefault(endpoint.path, {})[endpoint.method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "info": {"title": "Chorus hub API", "version": version},
        "paths": paths,
        "components": {
            "schemas": components.schemas,
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A JWT from the hub, or a service token chs_…",
                }
            },
        },
        "security": [{"bearer": []}],
    }


def setup(app: web.Application) -> None:
    """Call after every other module: the document is built once, at install."""
    routes = app[API_ROUTES]
    document: dict[str, Any] = {}

    async def openapi_json(request: web.Request) -> web.Response:
        if not document:
            document.update(build_document(routes))
        return web.json_response(document)

    routes.add(
        "GET",
        "/openapi.json",
        openapi_json,
        roles={"admin", "agent", "viewer"},
        summary="This API's OpenAPI 3.1 document",
    )
