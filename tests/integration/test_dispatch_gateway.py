"""A centre's signed call over real HTTP through the local API Gateway (in-process, on a free port): the
gateway hands the handler the body byte for byte and the headers as sent, so a signature over the exact
bytes verifies, whatever the JSON's spacing, escapes or framing (Content-Length or chunked)."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import requests
from standardwebhooks import Webhook

from shared.config import settings
from shared.dal.models.rescue import IncidentModel
from tests.integration.dispatch_helpers import centre


@pytest.fixture
def gateway(aws) -> Iterator[str]:
    from local_runtime.gateway import Gateway

    environ = dict(os.environ)
    server = Gateway("127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        os.environ.clear()
        os.environ.update(environ)  # the gateway set its issuer's settings for the authorizer
        settings.cache_clear()


# Spacing, key order, escapes and a trailing newline a re-serialising gateway would change.
BODY = (
    '{\n  "nature":"cardiac_arrest" ,  "cad_incident_no": "HZ-HTTP-1",\n'
    '  "lat": 30.2590000, "lng": 1.201605e2,\n'
    '  "address": "\\u4e0a\\u57ce\\u533a 湖滨路 1 号", "note": "tab\\there"\n}\n'
)


def signed_headers(secret: str, body: str, webhook_id: str) -> dict[str, str]:
    at = datetime.now(UTC)
    return {
        "Webhook-Id": webhook_id,  # as some proxies capitalise them
        "WEBHOOK-TIMESTAMP": str(int(at.timestamp())),
        "webhook-signature": Webhook(secret).sign(webhook_id, at, body),
        "Content-Type": "application/json; charset=utf-8",
    }


def test_a_signed_call_verifies_over_http_byte_for_byte(api, gateway):
    hz = centre(api)
    url = f"{gateway}/v1/dispatch/centres/hz120/incidents"
    sent = requests.post(
        url, data=BODY.encode(), headers=signed_headers(hz.secret, BODY, "msg_http"), timeout=60
    )
    assert sent.status_code == 202, sent.text
    stored = IncidentModel.get(sent.json()["incident_id"])
    assert (stored.cad_incident_no, stored.address, stored.lng) == (
        "HZ-HTTP-1",
        "上城区 湖滨路 1 号",
        120.1605,
    )

    def chunks() -> Iterator[bytes]:  # the same bytes, chunked: the same body reaches the handler
        data = BODY.encode()
        yield from (data[i : i + 7] for i in range(0, len(data), 7))

    again = requests.post(
        url, data=chunks(), headers=signed_headers(hz.secret, BODY, "msg_http_2"), timeout=60
    )
    assert again.status_code == 202 and again.json()["incident_id"] == sent.json()["incident_id"]

    tampered = BODY.replace('"HZ-HTTP-1"', '"HZ-HTTP-2"')
    refused = requests.post(
        url, data=tampered.encode(), headers=signed_headers(hz.secret, BODY, "msg_http_3"), timeout=60
    )
    assert refused.status_code == 401
