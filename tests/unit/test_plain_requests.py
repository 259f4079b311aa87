"""The SOS function reads its request without pydantic (shared/api/plain.py) and must answer every
request exactly as the validating resolver would from the contract's models (functions/rescue_sos/
contract.py, what the OpenAPI document is generated from): the same status, error code and message for
every bad body, the same fields for every good one. Held to it over generated bodies."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from functions.rescue_sos import contract, handler
from shared.api.rescue import SosBody
from shared.errors import DomainError


class Context:
    function_name = "rescue_sos"
    memory_limit_in_mb = 256
    invoked_function_arn = "arn:aws:lambda:cn-north-1:123456789012:function:rescue_sos"
    aws_request_id = "test"


def event(body: str | None, *, key: str | None = None, b64: bool = False, method: str = "POST") -> dict:
    headers = {"Content-Type": "application/json", **({"Idempotency-Key": key} if key is not None else {})}
    if b64 and body is not None:
        body = base64.b64encode(body.encode("utf-8", "surrogatepass")).decode()
    return {
        "httpMethod": method,
        "resource": "/v1/sos",
        "path": "/v1/sos",
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": None,
        "pathParameters": None,
        "requestContext": {"httpMethod": method, "resourcePath": "/v1/sos", "path": "/v1/sos", "stage": "v1"},
        "body": body,
        "isBase64Encoded": b64,
    }


@pytest.fixture(autouse=True)
def no_dispatch(monkeypatch: pytest.MonkeyPatch) -> None:
    """Nothing is stored here: a body the contract accepts answers a fixed 202 from the contract's side,
    and the plain side is compared by the fields it read. A plain handler that accepted a body the
    contract refuses reaches the wiring, which fails: a 500 where a 4xx is expected."""
    accepted = {"statusCode": 202, "body": json.dumps({"incident_id": "01TEST", "status": "alerting"})}
    monkeypatch.setattr(handler, "raise_sos", lambda event, caller: accepted)

    def no_store() -> Any:
        raise AssertionError("the plain handler accepted a body the contract refuses")

    for factory in ("incidents", "geo_index", "workflow", "policy", "notifier"):
        monkeypatch.setattr(handler.wiring, factory, no_store)


def answer(lambda_handler: Any, request: dict) -> tuple[int, Any]:
    reply = lambda_handler(json.loads(json.dumps(request)), Context())
    return reply["statusCode"], json.loads(reply["body"])


def assert_same_answer(request: dict) -> None:
    if _json_array(request):
        # Powertools' resolver reads a list's first element as the body ('[{"lat": 30, "lng": 120}, 5]'
        # raises an SOS there); the contract's body is a JSON object, and the SOS function says so.
        assert answer(handler.lambda_handler, request) == MALFORMED
        return
    expected = answer(contract.lambda_handler, request)
    if expected[0] == 202:
        fields, _, _ = handler.read_sos(request)
        body = json.loads(
            base64.b64decode(request["body"]) if request["isBase64Encoded"] else request["body"]
        )
        assert fields == SosBody.model_validate(body).model_dump(mode="json")
    else:
        assert answer(handler.lambda_handler, request) == expected, repr(request["body"])
        if expected[0] in (400, 422):
            with pytest.raises(DomainError):
                handler.read_sos(request)


MALFORMED = (400, {"error": {"code": "malformed_request", "message": "the body must be a JSON object"}})


def _json_array(request: dict) -> bool:
    try:
        text = base64.b64decode(request["body"]).decode() if request["isBase64Encoded"] else request["body"]
        return isinstance(json.loads(text or "null"), list)
    except (ValueError, TypeError, RecursionError):
        return False


# --- what clients send --------------------------------------------------------------------------

WHITE = st.sampled_from(
    [" ", "\t", "\n", "\u3000", "\xa0", "\x1c", "\x85", "\u2028", "\u200b", "\x00", "\x7f"]
)
numbers = st.one_of(
    st.integers(min_value=-200, max_value=200),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([90, 90.0, -90, 180, -180, 90.000001, -180.0000001, 10**400, -(10**309), 0, -0.0]),
)
padding = st.text(WHITE, max_size=3)
texts = st.one_of(
    st.text(max_size=20),
    st.builds(lambda a, t, b: a + t + b, padding, st.text(max_size=8), padding),
    st.builds(lambda n, pad: "x" * n + " " * pad, st.integers(495, 505), st.integers(0, 6)),
    st.sampled_from(["+8613800000001", "+8613800000001\n", " +8613800000001", "+0123456", "+１234567",
                     "13800000001", "+123456", "+1234567", "+123456789012345", "+1234567890123456",
                     "\ud800"]),
)  # fmt: skip
scalars = st.one_of(
    st.none(), st.booleans(), numbers, texts, st.sampled_from(["wgs84", "gcj02", "WGS84", "bd09"])
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3),
    max_leaves=6,
)
FIELDS = ("lat", "lng", "caller_phone", "note", "crs", "extra")
bodies = st.fixed_dictionaries({}, optional={name: values for name in FIELDS})
keys = st.one_of(st.none(), st.text(max_size=10), st.integers(195, 205).map(lambda n: "k" * n))


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=bodies, key=keys, b64=st.booleans())
def test_every_json_object_answers_as_the_contract(body: dict, key: str | None, b64: bool) -> None:
    assert_same_answer(event(json.dumps(body, ensure_ascii=False, allow_nan=True), key=key, b64=b64))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.one_of(values, st.text(max_size=30)), b64=st.booleans())
def test_anything_else_answers_as_the_contract(body: Any, b64: bool) -> None:
    text = body if isinstance(body, str) else json.dumps(body, allow_nan=True)
    assert_same_answer(event(text, b64=b64))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    lat=st.floats(-90, 90),
    lng=st.floats(-180, 180),
    phone=st.from_regex(r"\A\+[1-9][0-9]{6,14}\Z") | st.none(),
    note=st.text(st.characters(exclude_categories=("Cc", "Cs")), max_size=40) | st.none(),
    crs=st.sampled_from(["wgs84", "gcj02", None]),
)
def test_every_valid_sos_is_read_as_the_contract_reads_it(lat, lng, phone, note, crs) -> None:
    body = {"lat": lat, "lng": lng, "caller_phone": phone, "note": note, "crs": crs}
    request = event(json.dumps(body, ensure_ascii=False))
    assert answer(contract.lambda_handler, request)[0] == 202
    assert_same_answer(request)


@pytest.mark.parametrize(
    "request_",
    [
        event(None),
        event(""),
        event("{"),
        event("!!!", b64=True) | {"body": "!!!"},
        event("abc", b64=True) | {"body": "abc"},  # bad base64 padding
        event('{"lat": "\\udcff"}', b64=True) | {"body": base64.b64encode(b'{"lat":"\xff"}').decode()},
        event('{"lat": 1' + "0" * 5000 + ', "lng": 0}'),  # an integer Python refuses to read
        event('{"lat": 30, "lng": 120}', method="GET"),
    ],
    ids=["absent", "empty", "not-json", "base64-garbage", "base64-padding", "not-utf8", "long-int", "route"],
)
def test_unreadable_requests_and_other_routes_answer_as_the_contract(request_: dict) -> None:
    assert_same_answer(request_)


def test_a_body_nested_too_deep_is_malformed_not_a_crash() -> None:
    """Python's decoder gives up past ~1,000 levels (RecursionError): the client's fault, a 400."""
    status, body = answer(handler.lambda_handler, event("[" * 5000 + "]" * 5000))
    assert (status, body["error"]["code"]) == (400, "malformed_request")


@pytest.mark.parametrize(
    "fields",
    [
        {"caller_phone": "+8613800000001\n"},  # Python's $ would take the newline; pydantic's does not
        {"caller_phone": "+８613800000001"},  # a full-width digit is not [0-9]
        {"caller_phone": " +8613800000001"},  # phones are not stripped
        {"note": "\x1c" + "x" * 499},  # U+001C is not white space to pydantic, so it is not stripped
        {"note": "\x1c" + "x" * 500},  # ... and counts
        {"note": "line one\n\tline two"},  # notes may have lines and tabs
        {"note": "beep\x07"},
        {"note": "nul\x00"},
        {"note": "c1\x9b[31m"},
        {"caller_phone": "+86138\x0000001"},
        {"note": "\u3000" + "x" * 500 + "\u3000"},  # ideographic spaces are: 500 characters left
        {"note": "\ud800"},
        {"lat": 10**400},
        {"lat": 90.0000001},
        {"crs": "WGS84"},
    ],
)
def test_edge_values_answer_as_the_contract(fields: dict) -> None:
    body = {"lat": 30.25, "lng": 120.16, **fields}
    assert_same_answer(event(json.dumps(body, ensure_ascii=False)))


def test_a_body_nested_past_the_limit_is_malformed_on_every_python() -> None:
    from shared.api.plain import MAX_JSON_DEPTH, nested_too_deep

    def nested(levels: int) -> dict:
        body: dict = {"lat": 30.25, "lng": 120.16}
        for _ in range(levels - 1):
            body = {"lat": 30.25, "lng": 120.16, "extra": body}
        return body

    assert not nested_too_deep(nested(MAX_JSON_DEPTH)) and nested_too_deep(nested(MAX_JSON_DEPTH + 1))
    status, body = answer(handler.lambda_handler, event(json.dumps(nested(MAX_JSON_DEPTH + 1))))
    assert (status, body["error"]["code"]) == (400, "malformed_request")
    fields, _, _ = handler.read_sos(event(json.dumps(nested(MAX_JSON_DEPTH))))  # read, not refused
    assert (fields["lat"], fields["lng"]) == (30.25, 120.16)
