"""Whatever a client sends, the API answers without a 5xx, in the contract's error shape.
Schemathesis generates requests from the committed OpenAPI document; they go through the real handlers
on the embedded AWS with a token that holds every role, so every route's logic is reached."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from tests.conftest import Api

DOC = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"
schema = schemathesis.openapi.from_path(str(DOC))
EVERY_ROLE = ("admin", "dispatcher", "aed_manager", "trainer", "responder")


@pytest.fixture(scope="module")
def module_api() -> Iterator[Api]:
    from local_runtime import aws as embedded

    running = embedded.start()
    try:
        yield Api()
    finally:
        running.stop()


def _body(case: Any) -> str | None:
    body = getattr(case, "body", None)
    if body is None or type(body).__name__ == "NotSet":
        return None
    if isinstance(body, bytes):  # negative testing sends bodies that are not JSON at all
        return body.decode("utf-8", errors="replace")
    return json.dumps(body)


@schema.parametrize()
@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_request_produces_a_server_error(case: Any, module_api: Api) -> None:
    from local_runtime.events import match

    if match(case.method.upper(), case.formatted_path)[0] is None:
        return  # a method or path outside the route table: the gateway answers 404/405 (tested in e2e)
    query = dict(case.query or {})
    reply = module_api(
        case.method.upper(),
        case.formatted_path,
        query=query,
        sub="fuzz-admin",
        roles=EVERY_ROLE,
        raw_body=_body(case) or "",
    )
    assert reply.status < 500, (case.method, case.formatted_path, query, _body(case), reply.body)
    if reply.status >= 400:
        assert set(reply.body) == {"error"} and set(reply.body["error"]) == {"code", "message"}
