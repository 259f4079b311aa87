"""Requests read and answered without pydantic or Powertools' resolver, for a function whose cold start is
someone waiting: the SOS. Importing the resolver and pydantic costs about half of what boto3 and the SOS
function's clients cost (bench/cold_start.py), so the SOS function reads its request with the rules below
and answers exactly as the validating resolver answers every other route: the same statuses, error codes
and messages, field by field (tests/unit/test_plain_requests.py holds the two to each other over
generated bodies, against the pydantic models the OpenAPI document is generated from).

Also here, because the SOS function needs them and may not import shared/api/http.py: the route table's
authorization, the proxy response shape and the log line of an unexpected error (which never quotes the
request: it may hold a phone number).
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
import math
import re
import sys
import traceback
from collections.abc import Callable, Mapping
from typing import Any

from shared.config import settings
from shared.errors import DomainError, Forbidden, MalformedRequest, NotFound, Unauthorized, ValidationFailed
from shared.identity import Caller, caller_from_authorizer
from shared.observability import logger
from shared.routes import find_route

# The bounds and patterns of the API's fields, in one place: shared/api/fields.py builds pydantic's
# annotations from these, and the plain readers below check them.
LAT_BOUNDS = (-90, 90)
LNG_BOUNDS = (-180, 180)
PHONE_PATTERN = r"^\+[1-9][0-9]{6,14}$"
DATUMS = ("wgs84", "gcj02")
NOTE_MAX_LENGTH = 500
HEADER_MAX_LENGTH = 200

# What pydantic's strip_whitespace removes: Unicode White_Space (Rust's char::is_whitespace), which is
# not Python's str.isspace (that also takes the separators U+001C..U+001F).
_WHITE_SPACE = (
    "\t\n\x0b\x0c\r \x85\xa0\u1680"
    + "".join(map(chr, range(0x2000, 0x200B)))
    + "\u2028\u2029\u202f\u205f\u3000"
)


# Control characters (Unicode Cc: C0, DEL, C1); newline and tab are allowed in multi-line fields.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
_CONTROL_BUT_LINES = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def multi_line(field: str) -> bool:
    """Fields that hold free prose: notes and descriptions."""
    return field == "note" or field.endswith("_note") or field == "description"


def has_control_characters(text: str, multi_line: bool) -> bool:
    return (_CONTROL_BUT_LINES if multi_line else _CONTROL).search(text) is not None


def control_characters_message(multi_line: bool) -> str:
    return "String should not contain control characters" + (
        " other than newline and tab" if multi_line else ""
    )


# Deeper than any body of the API (2 levels at most): a client's mistake or a probe, answered 400 the same
# on every Python (3.11's decoder gives up near 1,000 levels, 3.13's goes far deeper).
MAX_JSON_DEPTH = 32


def nested_too_deep(value: Any) -> bool:
    """Whether a decoded JSON value nests lists and objects deeper than MAX_JSON_DEPTH (iteratively)."""
    level = [value]
    for _ in range(MAX_JSON_DEPTH):
        level = [
            child
            for item in level
            if isinstance(item, dict | list)
            for child in (item.values() if isinstance(item, dict) else item)
        ]
        if not level:
            return False
    return any(isinstance(item, dict | list) for item in level)


def json_object_body(event: Mapping[str, Any]) -> dict[str, Any]:
    """The request's body as a JSON object (base64 decoded when API Gateway encoded it). Read as JSON
    whatever the content type, as every route does (shared/api/http.py)."""
    body = event.get("body")
    try:
        if event.get("isBase64Encoded") and body:
            body = base64.b64decode(str(body).encode()).decode()
        value = json.loads(body) if body else None
    except json.JSONDecodeError:
        raise MalformedRequest("the body must be a JSON object") from None
    except RecursionError:  # nested deeper than the decoder goes: nothing a client means
        raise MalformedRequest("the body must be a JSON object") from None
    except (binascii.Error, ValueError):  # base64, UTF-8, or an integer too long to read
        raise MalformedRequest("the request could not be read") from None
    if not isinstance(value, dict) or nested_too_deep(value):
        raise MalformedRequest("the body must be a JSON object")
    return value


def header(event: Mapping[str, Any], name: str) -> str | None:
    """A header's value, the name matched case-insensitively as HTTP says."""
    wanted = name.lower()
    for key, value in (event.get("headers") or {}).items():
        if key.lower() == wanted:
            return str(value)
    for key, values in (event.get("multiValueHeaders") or {}).items():
        if key.lower() == wanted and values:
            return str(values[-1])
    return None


class Problems:
    """The fields that broke a rule, in the order they were read; ``raise_any`` answers them all at once
    as one 422, each as ``field: message`` with pydantic's wording."""

    def __init__(self) -> None:
        self._found: list[str] = []

    def add(self, where: str, message: str) -> None:
        self._found.append(f"{where}: {message}")

    def raise_any(self) -> None:
        if self._found:
            raise ValidationFailed("; ".join(self._found))

    def number(self, body: Mapping[str, Any], name: str, bounds: tuple[int, int]) -> float:
        """A required finite JSON number within ``bounds`` (inclusive); strict: "30" and true are not."""
        if name not in body:
            self.add(name, "Field required")
            return math.nan
        value = body[name]
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.add(name, "Input should be a valid number")
            return math.nan
        try:
            number = float(value)
        except OverflowError:
            self.add(name, "Input should be a valid number")
            return math.nan
        if not math.isfinite(number):
            self.add(name, "Input should be a finite number")
        elif number < bounds[0]:
            self.add(name, f"Input should be greater than or equal to {bounds[0]}")
        elif number > bounds[1]:
            self.add(name, f"Input should be less than or equal to {bounds[1]}")
        return number

    def optional_text(
        self,
        value: Any,
        where: str,
        *,
        strip: bool = False,
        max_length: int | None = None,
        pattern: str | None = None,
        clean: bool = True,
    ) -> str | None:
        """An optional string (absent or null: None); strict: 5 is not "5". ``clean``: without control
        characters, as every body field (shared/api/fields.py Body); headers are not bodies."""
        if value is None:
            return None
        if not isinstance(value, str):
            self.add(where, "Input should be a valid string")
            return None
        if not _encodable(value):  # a lone surrogate ("\ud800" in the JSON)
            self.add(where, "Input should be a valid string, unable to parse raw data as a unicode string")
            return None
        if strip:
            value = value.strip(_WHITE_SPACE)
        if max_length is not None and len(value) > max_length:
            self.add(where, f"String should have at most {max_length} characters")
        elif pattern is not None and re.fullmatch(pattern, value) is None:
            self.add(where, f"String should match pattern '{pattern}'")
        elif clean and has_control_characters(value, multi_line(where)):
            self.add(where, control_characters_message(multi_line(where)))
        return value

    def optional_choice(self, body: Mapping[str, Any], name: str, choices: tuple[str, ...]) -> str | None:
        """One of ``choices``, or absent or null (None)."""
        value = body.get(name)
        if value is None:
            return None
        if isinstance(value, str) and not _encodable(value):  # pydantic reads the string first
            self.add(name, "Input should be a valid string, unable to parse raw data as a unicode string")
            return None
        if not isinstance(value, str) or value not in choices:
            self.add(name, "Input should be " + " or ".join(f"'{c}'" for c in choices))
            return None
        return value


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def response(status: int, body: Mapping[str, Any]) -> dict[str, Any]:
    """A proxy response with a JSON body, as the resolver writes one."""
    return {
        "statusCode": status,
        "body": json.dumps(body, separators=(",", ":"), ensure_ascii=False),
        "isBase64Encoded": False,
        "multiValueHeaders": {"Content-Type": ["application/json"]},
    }


def error_response(
    status: int, code: str, message: str, headers: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """A proxy response in the contract's error shape."""
    return {
        "statusCode": status,
        "body": json.dumps({"error": {"code": code, "message": message}}, ensure_ascii=False),
        "isBase64Encoded": False,
        "multiValueHeaders": {"Content-Type": ["application/json"]}
        | {name: [value] for name, value in (headers or {}).items()},
    }


# The request headers the web pages send across origins (a preflight must allow each): the bearer token,
# the JSON body's type and the SOS's idempotency key. infra/constructs/api.py allows the same.
CORS_REQUEST_HEADERS = ("Authorization", "Content-Type", "Idempotency-Key")


def with_cors(event: Mapping[str, Any], reply: dict[str, Any]) -> dict[str, Any]:
    """``reply`` with Access-Control-Allow-Origin when the request came from the web pages' origin
    (setting ``web_origin``), as Powertools' CORSConfig answers on the resolver's routes: for the answers
    written outside the resolver (the SOS, and refusals before it runs). No setting, no header."""
    origin = settings().web_origin
    if not origin or header(event, "Origin") != origin:
        return reply
    added = {"Access-Control-Allow-Origin": origin, "Vary": "Origin"}
    if "headers" in reply and "multiValueHeaders" not in reply:
        reply["headers"] = {**(reply["headers"] or {}), **added}
    else:
        reply["multiValueHeaders"] = {
            **(reply.get("multiValueHeaders") or {}),
            **{name: [value] for name, value in added.items()},
        }
    return reply


def authorize(event: Mapping[str, Any]) -> Caller:
    """Enforce the route table's roles before anything reads the request. Unknown routes pass through
    to the 404; API Gateway has already refused missing tokens on protected routes, and the check is
    repeated here so that a misconfigured authorizer fails closed."""
    route = find_route(str(event.get("httpMethod", "")), str(event.get("resource", "")))
    context = event.get("requestContext") or {}
    caller = caller_from_authorizer(context.get("authorizer"))
    if route is None or route.roles is None:
        return caller
    if not caller.signed_in:
        raise Unauthorized("a valid bearer token is required")
    if route.roles and not caller.has_any(route.roles):
        raise Forbidden("your role may not use this route")
    return caller


def log_unexpected(error: BaseException) -> None:
    """The last line of defence's log line: the stack, without anything the request said."""
    logger.error(
        "unhandled error",
        extra={"exception_name": type(error).__name__, "exception": stack_without_input(error)},
    )


def stack_without_input(error: BaseException) -> str:
    """The traceback Python would print, with each exception named by its type only: a message may
    quote the request (pydantic's ValidationError does, input_value='+8613800000001'). For a
    ValidationError, the fields and the rules that failed."""
    chain: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and all(current is not seen for seen in chain):
        chain.append(current)
        current = current.__cause__ or (None if current.__suppress_context__ else current.__context__)
    parts: list[str] = []
    for each in reversed(chain):
        parts.append("Traceback (most recent call last):\n")
        parts.extend(traceback.format_tb(each.__traceback__))
        parts.append(f"{_without_input(each)}\n\n")
    return "".join(parts).rstrip("\n")


def _without_input(error: BaseException) -> str:
    name = f"{type(error).__module__}.{type(error).__qualname__}"
    pydantic = sys.modules.get("pydantic")  # not imported: the error cannot be one of its
    if pydantic is not None and isinstance(error, pydantic.ValidationError):
        problems = error.errors(include_url=False, include_input=False, include_context=False)
        return f"{name}: {error.title}: " + "; ".join(
            f"{'.'.join(str(x) for x in p['loc'])} ({p['type']})" for p in problems
        )
    return name


PlainRoute = Callable[[dict[str, Any], Caller], dict[str, Any]]


def plain_entry_point(method: str, path: str, serve: PlainRoute) -> Callable[[dict[str, Any], Any], Any]:
    """A Lambda handler serving one route with ``serve(event, caller)``: roles by the route table,
    404 for any other route, domain errors in the contract's shape, anything else logged and a 500."""

    @logger.inject_lambda_context(clear_state=True)
    @functools.wraps(serve)
    def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        try:
            caller = authorize(event)
            if (event.get("httpMethod"), event.get("resource")) != (method, path):
                raise NotFound("no such route")
            return with_cors(event, serve(event, caller))
        except DomainError as error:
            return with_cors(event, error_response(error.status, error.code, error.message, error.headers))
        except Exception as error:
            log_unexpected(error)
            return with_cors(event, error_response(500, "internal_error", "internal error"))

    return lambda_handler
