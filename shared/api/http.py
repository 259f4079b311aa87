"""What every HTTP function shares: the resolver, the error shape, and authorization by route table.

Handlers stay thin: ``app = create_app()``, routes that parse and call logic, and
``lambda_handler = entry_point(app)``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, CORSConfig, Response
from aws_lambda_powertools.event_handler.middlewares.openapi_validation import (
    OpenAPIRequestValidationMiddleware,
)
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from aws_lambda_powertools.shared.json_encoder import Encoder
from pydantic import BaseModel

from shared.api.plain import (
    CORS_REQUEST_HEADERS,
    authorize,
    error_response,
    log_unexpected,
    nested_too_deep,
    with_cors,
)
from shared.config import settings
from shared.errors import DomainError
from shared.identity import Caller, caller_from_authorizer
from shared.observability import logger


class ErrorBody(BaseModel):
    code: str
    message: str


class ErrorResponse(BaseModel):
    error: ErrorBody


def _error_response(
    status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> Response[str]:
    body = {"error": {"code": code, "message": message}}
    return Response(status, "application/json", json.dumps(body, ensure_ascii=False), headers=headers)


# Shown in the OpenAPI document for every route; the bodies all have the ErrorResponse shape.
ERROR_RESPONSES: dict[int, OpenAPIResponse] = {
    status: {"description": text, "content": {"application/json": {"model": ErrorResponse}}}
    for status, text in (
        (400, "Malformed body"),
        (401, "Missing or invalid token"),
        (403, "Role not allowed"),
        (404, "Not found, or not visible to the caller"),
        (409, "Conflict with the current state"),
        (422, "Validation failed"),
    )
}

CREATED_RESPONSES: dict[int, OpenAPIResponse] = {201: {"description": "Created"}, **ERROR_RESPONSES}

# A body that is not JSON, not an object, or absent is malformed (400); bad fields are 422.
_MALFORMED_BODY_TYPES = {"json_invalid", "model_attributes_type", "dict_type", "missing"}

# Where Powertools reads the body before validating it: base64 (binascii.Error), UTF-8
# (UnicodeDecodeError) and a multipart boundary (ValueError) fail in there, all ValueErrors. Bound at
# import, so that a Powertools release which moves it breaks every handler's import, loudly, rather
# than turning unreadable bodies into 500s.
_BODY_READER = OpenAPIRequestValidationMiddleware._get_body.__code__


def _raised_reading_the_body(error: BaseException) -> bool:
    entry = error.__traceback__
    while entry is not None:
        if entry.tb_frame.f_code is _BODY_READER:
            return True
        entry = entry.tb_next
    return False


def _serialize(payload: Any) -> str:
    return json.dumps(payload, separators=(",", ":"), cls=Encoder, ensure_ascii=False)


def _json_object(text: str) -> dict[str, Any]:
    """The body as the contract says it is: a JSON object. Anything else reads as undecodable, so the
    answer is the 400 below: a JSON array (Powertools would validate its first element), and a body
    nested deeper than MAX_JSON_DEPTH or than Python's decoder goes (RecursionError: a 500 otherwise)."""
    try:
        value = json.loads(text)
    except RecursionError:
        raise json.JSONDecodeError("nested too deep", text, 0) from None
    if not isinstance(value, dict) or nested_too_deep(value):
        raise json.JSONDecodeError("not a JSON object of the API's shape", text, 0)
    return value


class _Resolver(APIGatewayRestResolver):
    """Powertools' REST resolver with path parameters as API Gateway hands them over: URL-decoded. It
    matches its routes on the event's ``path``, which stays encoded, and would pass ``x%23y`` on as is
    where the route was asked for the AED ``x#y``."""

    def _call_route(self, route: Any, route_arguments: dict[str, str]) -> Any:
        return super()._call_route(route, {name: unquote(value) for name, value in route_arguments.items()})


def create_app() -> APIGatewayRestResolver:
    # The web pages call the API from their own origin (CloudFront) when WEB_ORIGIN names it: answers to
    # that origin, errors included, carry Access-Control-Allow-Origin; none without the setting.
    origin = settings().web_origin
    cors = CORSConfig(allow_origin=origin, allow_headers=list(CORS_REQUEST_HEADERS)) if origin else None
    app = _Resolver(
        enable_validation=True, serializer=_serialize, json_body_deserializer=_json_object, cors=cors
    )

    @app.exception_handler(DomainError)
    def domain_error(error: DomainError) -> Response[str]:
        return _error_response(error.status, error.code, error.message, error.headers or None)

    @app.exception_handler(RequestValidationError)
    def validation_error(error: RequestValidationError) -> Response[str]:
        problems = error.errors()
        if any(
            tuple(p.get("loc", ())) in {("body",)} or p.get("type") == "json_invalid" for p in problems
        ) and all(p.get("type") in _MALFORMED_BODY_TYPES for p in problems):
            return _error_response(400, "malformed_request", "the body must be a JSON object")
        # Name the fields and the rule, never echo the input (it may hold a phone number).
        message = "; ".join(
            f"{'.'.join(str(x) for x in p.get('loc', ()) if x not in ('body', 'query'))}: {p.get('msg')}"
            for p in problems
        )
        return _error_response(422, "validation_failed", message)

    @app.exception_handler(ValueError)
    def unreadable_body(error: ValueError) -> Response[str]:
        # A body Powertools cannot decode is the client's fault. Any other ValueError (pydantic's
        # ValidationError is one) comes from our code: on to entry_point's last resort, logged, 500.
        if _raised_reading_the_body(error):
            return _error_response(400, "malformed_request", "the request could not be read")
        raise error

    @app.not_found
    def not_found(_: Exception) -> Response[str]:
        return _error_response(404, "not_found", "no such route")

    return app


def current_caller(app: APIGatewayRestResolver) -> Caller:
    """Identity as API Gateway's authorizer hands it over (shared/identity.py: either profile's shape)."""
    authorizer = app.current_event.request_context.get("authorizer") or {}
    return caller_from_authorizer(authorizer)


def entry_point(app: APIGatewayRestResolver) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    @logger.inject_lambda_context(clear_state=True)
    def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        try:
            authorize(event)
        except DomainError as error:
            return with_cors(event, error_response(error.status, error.code, error.message, error.headers))
        _json_bodies(event)
        try:
            return app.resolve(event, context)
        except Exception as error:  # the last line of defence: log it, answer in the contract's shape
            log_unexpected(error)
            return with_cors(event, error_response(500, "internal_error", "internal error"))

    return lambda_handler


def _json_bodies(event: dict[str, Any]) -> None:
    """The API speaks JSON only: a body sent with another content type (curl's default form type,
    say) is read as JSON, never as a form, so the answer is the same whatever the client's default."""
    for name in ("headers", "multiValueHeaders"):
        headers = event.get(name) or {}
        for key in list(headers):
            if key.lower() == "content-type":
                headers[key] = ["application/json"] if name == "multiValueHeaders" else "application/json"
