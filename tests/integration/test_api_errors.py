"""What a client gets when a request cannot be read (400, its fault) and when our own code fails (500,
logged for us with its stack, never with what the client sent)."""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Callable
from typing import Any

import pytest
from pydantic import BaseModel, Field

from local_runtime.events import match, proxy_event
from shared.observability import logger

ADMIN = {"sub": "admin-1", "roles": ("admin",)}
PHONE = "+8613800000001"
NEW_RESPONDER = {
    "name": "志愿者",
    "phone": PHONE,
    "certificate_no": "C-1",
    "certificate_expires_on": "2030-01-01",
}


@pytest.fixture
def log_lines(monkeypatch: pytest.MonkeyPatch) -> Callable[[], list[dict[str, Any]]]:
    """The JSON lines the functions' logger writes (to stdout in Lambda, so to CloudWatch)."""
    stream = io.StringIO()
    monkeypatch.setattr(logger.registered_handler, "stream", stream)
    return lambda: [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


def unhandled(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [line for line in lines if line.get("message") == "unhandled error"]


@pytest.mark.parametrize(
    ("raw", "content_type"),
    [
        ("{not json", "application/json"),
        ('{"name": "志愿者",', "application/json"),
        ("name=x&phone=1", "application/x-www-form-urlencoded"),  # curl -d's default type
        ("--x\r\nContent-Disposition: form-data; name=name\r\n\r\nx\r\n--x--", "multipart/form-data"),
    ],
)
def test_a_body_that_is_not_json_is_400_malformed_request(api, log_lines, raw, content_type):
    reply = api("POST", "/v1/responders", raw_body=raw, headers={"Content-Type": content_type}, **ADMIN)
    assert reply.status == 400, reply.body
    assert reply.body["error"]["code"] == "malformed_request"
    assert unhandled(log_lines()) == []


@pytest.mark.parametrize(
    "encoded",
    [
        "bm90IGJhc2U2NA",  # not valid base64 (padding)
        base64.b64encode(b'{"name": "\xff\xfe"}').decode(),  # base64 of bytes that are not UTF-8
    ],
)
def test_a_body_that_cannot_be_decoded_is_400_malformed_request(api, log_lines, encoded):
    # API Gateway base64-encodes bodies of binary media types; Powertools decodes them before parsing.
    route, params, _ = match("POST", "/v1/responders")
    assert route is not None
    event = proxy_event(
        route,
        path="/v1/responders",
        path_parameters=params,
        query="",
        headers={"Content-Type": "application/json"},
        body=encoded,
        claims={"sub": "admin-1", "cognito:groups": "admin"},
    )
    event["isBase64Encoded"] = True
    result = api.functions.invoke(route.function, event)
    assert result["statusCode"] == 400, result
    assert json.loads(result["body"])["error"]["code"] == "malformed_request"
    assert unhandled(log_lines()) == []


class _Stored(BaseModel):
    phone: str = Field(max_length=11)


def _value_error(*_: Any, **__: Any) -> Any:
    raise ValueError(f"cannot parse {PHONE}")


def _validation_error(*_: Any, **__: Any) -> Any:
    return _Stored.model_validate({"phone": PHONE})  # a bug: a model that does not fit what is stored


@pytest.mark.parametrize("bug", [_value_error, _validation_error], ids=["ValueError", "ValidationError"])
def test_an_error_in_our_own_code_is_a_logged_500_without_the_request(api, log_lines, monkeypatch, bug):
    monkeypatch.setattr("shared.logic.responders.create_responder", bug)
    reply = api("POST", "/v1/responders", NEW_RESPONDER, **ADMIN)
    assert reply.status == 500, reply.body
    assert reply.body == {"error": {"code": "internal_error", "message": "internal error"}}
    assert PHONE[3:] not in json.dumps(reply.body)

    lines = log_lines()
    [logged] = unhandled(lines)
    assert logged["level"] == "ERROR"
    assert logged["exception_name"] == ("ValueError" if bug is _value_error else "ValidationError")
    assert "Traceback (most recent call last)" in logged["exception"]
    assert f"in {bug.__name__}" in logged["exception"]  # the stack reaches the failing line
    assert PHONE[3:] not in json.dumps(lines, ensure_ascii=False)  # neither the body nor the input


def _body_routes() -> list[Any]:
    from shared.routes import ROUTES

    return [r for r in ROUTES if r.method in {"POST", "PUT", "PATCH"}]


@pytest.mark.parametrize(
    "raw",
    [
        "[" * 967 + "]" * 967,
        '{"a":' * 5000 + "1" + "}" * 5000,
        '[{"lat": 30.25, "lng": 120.16}]',
        "5",
        "null",
    ],
    ids=["nested-array", "nested-object", "array-of-object", "number", "null"],
)
@pytest.mark.parametrize("route", _body_routes(), ids=lambda r: f"{r.method} {r.path}")
def test_no_body_is_a_5xx_on_any_route(api, log_lines, route, raw):
    """Every route that reads a body answers a body that is not a JSON object, however deep, with a
    400, as the anonymous SOS does, and logs no unhandled error. A 120 centre's signed route reads no
    body before its signature: unsigned, it is a 401 whatever the body (test_dispatch_incidents.py
    shows the 400 of a signed one)."""
    from shared.identity import ROLES

    path = route.path.replace("{", "").replace("}", "")  # any id: the body is read first
    reply = api(route.method, path, raw_body=raw, sub="admin-1", roles=tuple(sorted(ROLES)))
    expected = (401, "unauthorized") if route.signed else (400, "malformed_request")
    assert (reply.status, reply.body["error"]["code"]) == expected, (reply.status, reply.body)
    assert unhandled(log_lines()) == []
