"""A path parameter reaches the handler as API Gateway hands it over, URL-decoded: the event's ``path``
stays encoded, and Powertools' resolver routes on it."""

from __future__ import annotations

import json

import pytest

from shared.api.http import create_app


@pytest.mark.parametrize(
    ("sent", "got"),
    [("x%23y", "x#y"), ("%E5%8C%97%20%E4%BA%AC", "北 京"), ("a+b", "a+b"), ("plain", "plain")],
)
def test_the_handler_gets_the_decoded_value(sent: str, got: str) -> None:
    app = create_app()

    @app.get("/v1/things/<thing_id>")
    def thing(thing_id: str) -> dict[str, str]:
        return {"thing_id": thing_id}

    event = {
        "httpMethod": "GET",
        "resource": "/v1/things/{thing_id}",
        "path": f"/v1/things/{sent}",
        "pathParameters": {"thing_id": got},
        "headers": {},
        "requestContext": {"httpMethod": "GET", "resourcePath": "/v1/things/{thing_id}", "stage": "v1"},
        "body": None,
        "isBase64Encoded": False,
    }
    answer = app.resolve(event, None)
    assert answer["statusCode"] == 200
    assert json.loads(answer["body"]) == {"thing_id": got}
