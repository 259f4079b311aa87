"""One rescue end to end (SOS → alerts → accept → on scene → close → points) through `make run` in each
deployment profile: global (Cognito-style tokens, SNS push and SMS) and cn (the local OIDC issuer and the
real authorizer, mainland SMS and JPush through their stand-ins, spoken to by the providers' own SDKs).

In the cn profile one responder's push is refused by JPush (its "no such registration" code, asked of
the stand-in): their alert must reach them by SMS at once, once."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from typing import Any

import jwt
import pytest
import requests

from tests.e2e.test_local_runtime import Platform

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]
SITE = (29.9000, 119.5000)  # away from anything seeded
DEADLINE_S = 45


def until(check: Callable[[], Any], what: str, deadline_s: float = DEADLINE_S) -> Any:
    ends = time.monotonic() + deadline_s
    while time.monotonic() < ends:
        found = check()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError(f"not within {deadline_s} s: {what}")


class Client:
    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        self.url = platform.url

    def call(self, method: str, path: str, body: Any = None, *, who: tuple[str, ...] = ()) -> Any:
        headers = self.platform.token(who[0], *who[1:]) if who else {}
        return requests.request(method, f"{self.url}{path}", json=body, headers=headers, timeout=30)

    def ok(
        self, method: str, path: str, body: Any = None, *, who: tuple[str, ...] = (), status: int = 200
    ) -> Any:
        reply = self.call(method, path, body, who=who)
        assert reply.status_code == status, f"{method} {path}: {reply.status_code} {reply.text}"
        return reply.json()

    def outbox(self, to: str, incident_id: str) -> list[dict[str, Any]]:
        items = requests.get(f"{self.url}/dev/outbox", params={"to": to}, timeout=10).json()["items"]
        return [i for i in items if i.get("incident_id") == incident_id]


@pytest.fixture(params=["global", "cn"])
def platform(request: pytest.FixtureRequest) -> Iterator[Platform]:
    running = Platform(DEPLOYMENT_PROFILE=request.param, SEED_DEMO="0")
    yield running
    if running.process.poll() is None:
        running.process.kill()


def _responder(api: Client, name: str, phone: str, n: int) -> str:
    created = api.ok(
        "POST",
        "/v1/responders",
        {
            "name": name,
            "phone": phone,
            "certificate_no": f"BOTH-{phone[-4:]}",
            "certificate_expires_on": (date.today() + timedelta(days=700)).isoformat(),
        },
        who=("trainer-1", "trainer"),
        status=201,
    )
    rid = str(created["responder_id"])
    spot = {"lat": SITE[0] + (30 + 20 * n) / 111_195.0, "lng": SITE[1], "available": True}
    api.ok("PUT", f"/v1/responders/{rid}/presence", spot, who=(rid, "responder"))
    return rid


def test_the_gateway_runs_the_authorizer_on_the_local_issuers_tokens(platform: Platform) -> None:
    """Both profiles: a token the local issuer signed opens the route with exactly its roles; one it did
    not sign (HS256 with a guessed key, or none at all) is a 401, whatever roles it claims."""
    url = f"{platform.url}/v1/responders/nearby?lat=30.25&lng=120.17"
    issuer = requests.get(f"{platform.url}/dev/issuer/.well-known/openid-configuration", timeout=10).json()
    jwks = requests.get(issuer["jwks_uri"], timeout=10).json()
    assert [k["alg"] for k in jwks["keys"]] == ["RS256"] and "d" not in jwks["keys"][0]  # public part only
    now = int(time.time())
    claims = {"sub": "x", "iss": issuer["issuer"], "aud": "rescue-nearby-local", "exp": now + 600}
    for roles_claim in ("groups", "cognito:groups"):
        forged = jwt.encode({**claims, roles_claim: ["dispatcher"]}, "guessed", algorithm="HS256")
        reply = requests.get(url, headers={"Authorization": f"Bearer {forged}"}, timeout=10)
        assert reply.status_code == 401 and reply.json()["error"]["code"] == "unauthorized"
    assert requests.get(url, timeout=10).status_code == 401
    assert requests.get(url, headers=platform.token("r1", "responder"), timeout=10).status_code == 403
    assert requests.get(url, headers=platform.token("d1", "dispatcher"), timeout=10).status_code == 200


def test_a_rescue_from_sos_to_points(platform: Platform) -> None:
    api = Client(platform)
    cn = "profile cn" in "".join(platform.banner)
    app_platform = "jpush" if cn else "fcm"
    with_app = _responder(api, "甲", "+8613911110001", 0)
    sms_only = _responder(api, "乙", "+8613911110002", 1)
    push_refused = _responder(api, "丙", "+8613911110003", 2)
    tokens = {with_app: "1a0018970a3c2b4e5f", push_refused: "1a0018970a3c2b4e60"}
    if cn:  # a token JPush would never issue is the app's mistake: 422 naming the field, never a 500
        refused = api.call(
            "PUT",
            f"/v1/responders/{with_app}/device",
            {"platform": "jpush", "token": "short"},
            who=(with_app,),
        )
        assert refused.status_code == 422 and "token" in refused.json()["error"]["message"]
    for rid, token in tokens.items():
        api.ok("PUT", f"/v1/responders/{rid}/device", {"platform": app_platform, "token": token}, who=(rid,))
    if cn:  # JPush answers "cannot find user by this audience" for 丙's phone, once
        api.ok(
            "POST", "/dev/providers/fail", {"provider": "jpush", "code": "1011", "to": tokens[push_refused]}
        )

    incident_id = api.ok("POST", "/v1/sos", {"lat": SITE[0], "lng": SITE[1]}, status=202)["incident_id"]
    alerts = {
        rid: until(lambda rid=rid: api.outbox(rid, incident_id), f"the alert to {rid}")
        for rid in (with_app, sms_only, push_refused)
    }
    sms, push = ("alibaba-sms", "jpush") if cn else (None, None)
    expected = {
        with_app: ("push", push),
        sms_only: ("sms", sms),
        push_refused: ("sms" if cn else "push", sms if cn else None),
    }
    for rid, (channel, provider) in expected.items():
        [alert] = alerts[rid]  # one alert each: a refused push became one SMS, not two messages
        assert alert["kind"] == "alert" and alert["channel"] == channel, alert
        if cn:
            assert alert["provider"] == provider and alert["template"] == "rescue_alert"
            if channel == "sms":
                assert alert["message"].startswith("【救在身边】您附近") and incident_id in alert["message"]

    assert (
        api.ok("POST", f"/v1/incidents/{incident_id}/responses", {"action": "accept"}, who=(with_app,))[
            "role"
        ]
        == "cpr"
    )
    assert (
        api.ok("POST", f"/v1/incidents/{incident_id}/responses", {"action": "accept"}, who=(sms_only,))[
            "role"
        ]
        == "cpr"
    )
    late = api.call(
        "POST", f"/v1/incidents/{incident_id}/responses", {"action": "accept"}, who=(push_refused,)
    )
    assert late.status_code == 409 and late.json()["error"]["code"] == "no_longer_needed"
    stood_down = until(
        lambda: [i for i in api.outbox(push_refused, incident_id) if i["kind"] == "stand_down"],
        "the stand-down to the one not needed",
    )
    assert stood_down[0]["channel"] == "push", "the refusal was once: the stand-down goes by the app again"

    for event in ("arrived", "cpr_started"):
        api.ok("POST", f"/v1/incidents/{incident_id}/events", {"type": event}, who=(with_app,))
    api.ok(
        "POST", f"/v1/incidents/{incident_id}/close", {"outcome": "rosc"}, who=("dispatcher-1", "dispatcher")
    )
    credits = until(
        lambda: (c := api.ok("GET", f"/v1/responders/{with_app}/credits", who=(with_app,)))["balance"] and c,
        "the points awarded at the close",
    )
    assert credits["balance"] == 5 + 10 + 20  # accepted, arrived, cpr_started (the contract's defaults)
    assert {i["reason"] for i in credits["items"]} == {"accepted", "arrived", "cpr_started"}
