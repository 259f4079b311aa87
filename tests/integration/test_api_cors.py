"""The web pages call the API from their own origin (CloudFront in front of API Gateway): with WEB_ORIGIN
set, every answer to a request from that origin carries Access-Control-Allow-Origin (the browser drops
the answer otherwise, errors included), on the resolver's routes and on the SOS's plain path alike; from
another origin, or with WEB_ORIGIN unset (the local runtime: one origin), no CORS header at all."""

from __future__ import annotations

import sys
from collections.abc import Iterator

import pytest

from shared.config import settings
from tests.conftest import Api

PAGES = "https://d111111abcdef8.cloudfront.net"
# The handlers the test calls: imported afresh with the setting in force (each builds its resolver, and
# so its CORS configuration, when it is imported, as in a Lambda cold start).
HANDLERS = ("aed_registry", "responders", "rescue_sos")
HANGZHOU = {"lat": 30.2587, "lng": 120.1650}


def fresh_api(monkeypatch: pytest.MonkeyPatch, web_origin: str | None) -> Api:
    if web_origin is None:
        monkeypatch.delenv("WEB_ORIGIN", raising=False)
    else:
        monkeypatch.setenv("WEB_ORIGIN", web_origin)
    settings.cache_clear()
    for name in HANDLERS:
        monkeypatch.delitem(sys.modules, f"functions.{name}.handler", raising=False)
    return Api()


@pytest.fixture(autouse=True)
def _settings_restored() -> Iterator[None]:
    yield
    settings.cache_clear()  # the next test reads the environment monkeypatch restored


def allow_origin(headers: dict[str, str] | object) -> str | None:
    found = {k.lower(): v for k, v in dict(headers).items()}  # type: ignore[call-overload]
    return found.get("access-control-allow-origin")


def test_answers_to_the_pages_origin_carry_allow_origin(aws, monkeypatch):
    api = fresh_api(monkeypatch, PAGES)
    origin = {"Origin": PAGES}

    found = api("GET", "/v1/aeds/nearby", query={**HANGZHOU, "radius_m": 1000}, headers=origin)
    assert found.status == 200
    assert allow_origin(found.headers) == PAGES

    invalid = api("GET", "/v1/aeds/nearby", query={"lat": 91, "lng": 120.1}, headers=origin)
    assert invalid.status == 422
    assert allow_origin(invalid.headers) == PAGES

    # Refused by the route table before the resolver runs (no token): still readable by the page.
    unauthorized = api("GET", "/v1/responders/nearby", query={**HANGZHOU, "radius_m": 500}, headers=origin)
    assert unauthorized.status == 401
    assert allow_origin(unauthorized.headers) == PAGES

    sos = api("POST", "/v1/sos", HANGZHOU, headers={**origin, "Idempotency-Key": "cors-sos-1"})
    assert sos.status == 202, sos.body
    assert allow_origin(sos.headers) == PAGES

    bad_sos = api("POST", "/v1/sos", {"lat": "x"}, headers={**origin, "Idempotency-Key": "cors-sos-2"})
    assert bad_sos.status == 422
    assert allow_origin(bad_sos.headers) == PAGES


def test_another_origin_gets_no_cors_header(aws, monkeypatch):
    api = fresh_api(monkeypatch, PAGES)
    other = {"Origin": "https://evil.example.net"}
    found = api("GET", "/v1/aeds/nearby", query={**HANGZHOU, "radius_m": 1000}, headers=other)
    sos = api("POST", "/v1/sos", HANGZHOU, headers={**other, "Idempotency-Key": "cors-sos-3"})
    assert (found.status, sos.status) == (200, 202)
    assert allow_origin(found.headers) is None
    assert allow_origin(sos.headers) is None


def test_without_the_setting_no_answer_carries_cors_headers(aws, monkeypatch):
    api = fresh_api(monkeypatch, None)
    origin = {"Origin": PAGES}
    replies = [
        api("GET", "/v1/aeds/nearby", query={**HANGZHOU, "radius_m": 1000}, headers=origin),
        api("GET", "/v1/aeds/nearby", query={"lat": 91, "lng": 120.1}, headers=origin),
        api("GET", "/v1/responders/nearby", query={**HANGZHOU, "radius_m": 500}, headers=origin),
        api("POST", "/v1/sos", HANGZHOU, headers={**origin, "Idempotency-Key": "cors-sos-4"}),
    ]
    assert [r.status for r in replies] == [200, 422, 401, 202]
    for reply in replies:
        assert not any(name.lower().startswith("access-control-") for name in reply.headers), reply.headers


def test_a_web_origin_that_is_not_an_origin_stops_the_function():
    from shared.config import SettingError, Settings

    with pytest.raises(SettingError, match="WEB_ORIGIN"):
        Settings.from_environ({"WEB_ORIGIN": f"{PAGES}/"})
    assert Settings.from_environ({"WEB_ORIGIN": PAGES}).web_origin == PAGES
