"""Cross-cutting HTTP concerns: JSON errors with stable codes, and body parsing."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from aiohttp import web
from pydantic import BaseModel, ValidationError

from hub.errors import BadRequest, ChorusError, PayloadTooLarge, StorageError

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
ModelT = TypeVar("ModelT", bound=BaseModel)

_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
}


def error_response(status: int, code: str, message: str, **extra: Any) -> web.Response:
    body: dict[str, Any] = {"code": code, "message": message, **extra}
    return web.json_response({"error": body}, status=status)


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every failure leaves as ``{"error": {"code", "message"}}``; no stack trace escapes."""
    try:
        return await handler(request)
    except ChorusError as exc:
        if isinstance(exc, StorageError) and exc.status >= 500:
            log.warning(
                "database failed during request",
                extra={"path": request.path, "error": type(exc.__cause__).__name__},
            )
        return error_response(exc.status, exc.code, exc.message)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        code = _HTTP_CODES.get(exc.status, "http_error")
        response = error_response(exc.status, code, exc.reason)
        if isinstance(exc, web.HTTPMethodNotAllowed):
            # RFC 9110 §15.5.6: a 405 lists the methods the resource does support.
            response.headers["Allow"] = ", ".join(sorted(exc.allowed_methods))
        return response
    except Exception:
        log.exception("unhandled error", extra={"path": request.path})
        return error_response(500, "internal_error", "internal error")


async def read_json(request: web.Request, model: type[ModelT]) -> ModelT:
    """Parse and validate a JSON body, or raise a ``BadRequest`` naming what is wrong."""
    if request.content_type != "application/json":
        raise ChorusError(
            "send a JSON body with Content-Type: application/json",
            code="unsupported_media_type",
            status=415,
        )
    try:
        raw = await request.read()
    except web.HTTPRequestEntityTooLarge as exc:
        raise PayloadTooLarge("request body is too large") from exc
    try:
        data = json.loads(raw, parse_float=_json_number)
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as exc:
        # RecursionError: nesting deeper than the parser goes is refused, not a 500.
        raise BadRequest("request body is not valid JSON", code="invalid_json") from exc
    # Strict JSON: no coercion (0 is not false, "5" is not 5), as the schema says.
    try:
        return model.model_validate_json(json.dumps(data), strict=True)
    except ValidationError as exc:
        raise BadRequest(_details(exc), code="invalid_request") from None


def _json_number(text: str) -> float | int:
    """JSON Schema counts 3.0 as an integer, so an integral number is read as one (a
    ``float`` field still takes it); the schema's ``integer`` then means what it says."""
    value = float(text)
    return int(value) if value.is_integer() else value


def not_null(*fields: str, one_of: tuple[str, ...] = ()) -> Callable[[dict[str, Any]], None]:
    """A ``json_schema_extra`` stating that ``fields`` may be left out but not sent as null,
    and that at least one of ``one_of`` is given (rules a pydantic ``X | None`` hides)."""

    def adjust(schema: dict[str, Any]) -> None:
        for name in fields:
            prop = schema["properties"][name]
            branches = [b for b in prop.pop("anyOf", []) if b.get("type") != "null"]
            if len(branches) == 1:
                prop.update(branches[0])
            prop.pop("default", None)
        if one_of:
            schema["anyOf"] = [{"required": [name]} for name in one_of]

    return adjust


def parse_query(request: web.Request, model: type[ModelT]) -> ModelT:
    """Validate the query string; a parameter given twice is refused, not half-read."""
    repeated = sorted({key for key in request.query if len(request.query.getall(key)) > 1})
    if repeated:
        raise BadRequest(f"give each query parameter once: {', '.join(repeated)}")
    return parse_model(model, dict(request.query))


def parse_model(model: type[ModelT], data: Any) -> ModelT:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise BadRequest(_details(exc), code="invalid_request") from None


def _details(exc: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(p) for p in err['loc']) or 'body'}: {err['msg']}" for err in exc.errors()
    )
