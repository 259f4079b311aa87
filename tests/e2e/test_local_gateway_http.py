"""The local gateway's HTTP, as an attacker and a busy city meet it: raw bytes over sockets against
`make run` (started as `SEED_DEMO=0 make run` starts it). A request hidden in a body is never served,
a negative Content-Length is refused, path parameters arrive decoded as API Gateway decodes them, a
chunked body is the same body, and 50 connections at once all get their answer."""

from __future__ import annotations

import io
import json
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from http.client import HTTPException, HTTPResponse
from typing import Any

import pytest
import requests

from local_runtime.gateway import MAX_BODY_BYTES
from tests.e2e.test_local_runtime import Platform

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]
REPLY_DEADLINE_S = 60  # for the whole exchange on one connection, generous for a loaded machine
CONCURRENT = 50
# Far apart (more than 50 m), so no SOS of this module joins another's incident.
SITES = iter([(29.90, 119.50), (29.92, 119.52), (29.94, 119.54), (29.96, 119.56)])


@pytest.fixture(scope="module")
def platform() -> Iterator[Platform]:
    with pytest.MonkeyPatch.context() as env:
        env.setenv("SEED_DEMO", "0")  # raw HTTP needs the gateway and the handlers, not the demo city
        running = Platform()
    yield running
    if running.process.poll() is None:
        running.process.kill()


# -- raw HTTP -----------------------------------------------------------------------------------------
class _Received(io.BytesIO):
    """Bytes already received, which http.client.HTTPResponse reads one response at a time from
    (it closes its file after each response; the next one is read from where it stopped)."""

    def makefile(self, mode: str) -> io.BytesIO:
        return self

    def close(self) -> None:
        pass


def exchange(port: int, data: bytes) -> list[tuple[int, dict[str, str], bytes]]:
    """Send `data` on one connection, say nothing more (half-close), read until the server closes;
    every response it sent, in order: (status, headers, body)."""
    deadline = time.monotonic() + REPLY_DEADLINE_S
    received = bytearray()
    with socket.create_connection(("127.0.0.1", port), timeout=REPLY_DEADLINE_S) as sock:
        sock.sendall(data)
        sock.shutdown(socket.SHUT_WR)
        while True:
            sock.settimeout(max(0.1, deadline - time.monotonic()))
            chunk = sock.recv(1 << 16)
            if not chunk:
                break
            received += chunk
    return parse_responses(bytes(received))


def parse_responses(data: bytes) -> list[tuple[int, dict[str, str], bytes]]:
    received = _Received(data)
    responses = []
    while received.tell() < len(data):
        at = received.tell()
        response = HTTPResponse(received)  # type: ignore[arg-type]
        try:
            response.begin()
            body = response.read()
        except HTTPException:  # not HTTP: status 0 and every byte from there on
            responses.append((0, {}, data[at:]))
            break
        responses.append((response.status, dict(response.getheaders()), body))
    return responses


def request_bytes(method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None) -> bytes:
    lines = [
        f"{method} {path} HTTP/1.1",
        "Host: 127.0.0.1",
        *(f"{k}: {v}" for k, v in (headers or {}).items()),
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def sos_request(key: str, site: tuple[float, float], **framing: str) -> bytes:
    body = json.dumps({"lat": site[0], "lng": site[1], "note": "hidden"}).encode()
    headers = {"Content-Type": "application/json", "Idempotency-Key": key}
    headers.update(framing or {"Content-Length": str(len(body))})
    return request_bytes("POST", "/v1/sos", body, headers)


def chunked(body: bytes, size: int) -> bytes:
    pieces = [body[i : i + size] for i in range(0, len(body), size)]
    return b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in pieces) + b"0\r\n\r\n"


def key_is_unused(platform: Platform, key: str) -> bool:
    """An SOS that used this Idempotency-Key was served: the key with another body is a 409."""
    lat, lng = next(SITES)
    reply = requests.post(
        f"{platform.url}/v1/sos", json={"lat": lat, "lng": lng}, headers={"Idempotency-Key": key}, timeout=30
    )
    assert reply.status_code in (202, 409), reply.text
    return reply.status_code == 202


def error_code(body: bytes) -> Any:
    return json.loads(body)["error"]["code"]


# -- the tests --------------------------------------------------------------------------------------
def test_a_request_hidden_in_a_body_over_the_cap_is_never_served(platform):
    key = f"smuggled-{uuid.uuid4()}"
    hidden = sos_request(key, (29.98, 119.58))
    padding = b" " * (MAX_BODY_BYTES + 1 - len(hidden))
    body = hidden + padding + hidden  # at the start of the body and right after its end
    outer = request_bytes(
        "POST", "/v1/sos", body[: MAX_BODY_BYTES + 1], {"Content-Length": str(MAX_BODY_BYTES + 1)}
    )
    responses = exchange(platform.port, outer + body[MAX_BODY_BYTES + 1 :])
    assert [status for status, _, _ in responses] == [413], "one answer, then the connection closes"
    assert error_code(responses[0][2]) == "payload_too_large"
    assert key_is_unused(platform, key), "the hidden SOS was served"


def test_a_chunked_body_over_the_cap_is_413_and_nothing_in_it_is_served(platform):
    key = f"smuggled-chunked-{uuid.uuid4()}"
    hidden = sos_request(key, (29.98, 119.58))
    body = hidden + b" " * (MAX_BODY_BYTES + 1 - len(hidden))
    outer = request_bytes("POST", "/v1/sos", chunked(body, 1 << 16), {"Transfer-Encoding": "chunked"})
    responses = exchange(platform.port, outer + hidden)
    assert [status for status, _, _ in responses] == [413]
    assert error_code(responses[0][2]) == "payload_too_large"
    assert key_is_unused(platform, key), "the hidden SOS was served"


def test_a_negative_content_length_is_refused_and_nothing_is_served(platform):
    token = json.dumps({"sub": "smuggler", "roles": ["admin"]}).encode()
    data = request_bytes("POST", "/dev/token", token, {"Content-Length": "-1"})
    responses = exchange(platform.port, data + request_bytes("GET", "/v1/health"))
    assert [status for status, _, _ in responses] == [400], "one refusal, no token, no health"
    assert error_code(responses[0][2]) == "malformed_request"


def test_a_chunked_sos_is_the_same_sos_as_with_content_length(platform):
    key = f"chunked-{uuid.uuid4()}"
    site = next(SITES)
    body = json.dumps({"lat": site[0], "lng": site[1], "note": "同一个呼救 " * 20}, ensure_ascii=False)
    sized = requests.post(
        f"{platform.url}/v1/sos",
        data=body.encode(),
        headers={"Idempotency-Key": key, "Content-Type": "application/json"},
        timeout=30,
    )
    assert sized.status_code == 202, sized.text
    # The same bytes in 7-byte chunks (a UTF-8 character split across two of them) with the same key:
    # the platform reads the same body, so it is the same SOS (a different one would be a 409).
    head = request_bytes(
        "POST",
        "/v1/sos",
        headers={"Idempotency-Key": key, "Content-Type": "application/json", "Transfer-Encoding": "chunked"},
    )
    responses = exchange(platform.port, head + chunked(body.encode(), 7))
    assert [status for status, _, _ in responses] == [202], responses
    assert json.loads(responses[0][2])["incident_id"] == sized.json()["incident_id"]


def test_path_parameters_arrive_in_the_event_decoded_as_api_gateway_decodes_them():
    """API Gateway REST: the event's `path` as sent (percent-encoded), `pathParameters` decoded."""
    from local_runtime.gateway import Gateway
    from shared.routes import AUTHORIZER_FUNCTION

    gateway = Gateway("127.0.0.1", 0)
    events: list[dict[str, Any]] = []
    real_invoke = gateway.functions.invoke

    def invoke(function: str, event: dict[str, Any]) -> dict[str, Any]:
        if function == AUTHORIZER_FUNCTION:  # the real authorizer checks the token first
            return real_invoke(function, event)
        events.append(event)
        return {"statusCode": 200, "headers": {"Content-Type": "application/json"}, "body": "{}"}

    gateway.functions.invoke = invoke  # type: ignore[method-assign]
    server = threading.Thread(target=gateway.serve_forever, daemon=True)
    server.start()
    try:
        token = gateway.issuer.issue("m1", ["aed_manager"])
        cases = {"x%23y": "x#y", "a+b": "a+b", "%E5%8C%97%20%E4%BA%AC": "北 京", "plain": "plain"}
        for sent, decoded in cases.items():
            responses = exchange(
                gateway.server_address[1],
                request_bytes("GET", f"/v1/aeds/{sent}", headers={"Authorization": f"Bearer {token}"}),
            )
            assert [status for status, _, _ in responses] == [200]
            event = events.pop()
            assert event["resource"] == "/v1/aeds/{aed_id}"
            assert event["pathParameters"] == {"aed_id": decoded}
            assert event["path"] == f"/v1/aeds/{sent}"
    finally:
        gateway.shutdown()
        gateway.server_close()


def test_fifty_simultaneous_connections_each_get_a_complete_answer(platform):
    path = "/v1/aeds/nearby?lat=30.2587&lng=120.1650&radius_m=1000"
    data = request_bytes("GET", path)
    ready = threading.Barrier(CONCURRENT, timeout=REPLY_DEADLINE_S)
    outcomes: list[Any] = [None] * CONCURRENT

    def client(index: int) -> None:
        try:
            ready.wait()  # then all connect at once
            outcomes[index] = exchange(platform.port, data)
        except Exception as error:  # a reset, a refusal, a timeout: that client's outcome
            outcomes[index] = error

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(CONCURRENT)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 2 * REPLY_DEADLINE_S
    for thread in threads:
        thread.join(timeout=max(0.0, deadline - time.monotonic()))
    failed = {i: repr(o) for i, o in enumerate(outcomes) if not isinstance(o, list)}
    assert not failed, f"{len(failed)} of {CONCURRENT} connections got no answer: {failed}"
    for responses in outcomes:
        assert [status for status, _, _ in responses] == [200]
        _, headers, body = responses[0]
        assert len(body) == int(headers["Content-Length"]) and json.loads(body)["items"] == []
