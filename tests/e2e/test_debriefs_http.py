"""The debrief over HTTP through `make run`'s local runtime, in both deployment profiles: a rescue closed with
rosc; each responder who accepted gets one invitation by their own channel (read back from /dev/outbox), the
one only alerted none; a submission that asks for a call shows on the admins' list."""

from __future__ import annotations

import pytest

from tests.e2e.test_local_runtime import Platform
from tests.e2e.test_rescue_in_both_profiles import SITE, Client, _responder, platform, until

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]
__all__ = ["platform"]  # the fixture, both profiles


def test_a_closed_rescue_invites_its_acceptors_once_by_their_channel(platform: Platform) -> None:
    api = Client(platform)
    cn = "profile cn" in "".join(platform.banner)
    with_app = _responder(api, "甲", "+8613922220001", 0)
    sms_only = _responder(api, "乙", "+8613922220002", 1)
    alerted = _responder(api, "丙", "+8613922220003", 2)
    app_platform = "jpush" if cn else "fcm"
    api.ok(
        "PUT",
        f"/v1/responders/{with_app}/device",
        {"platform": app_platform, "token": "1a0018970a3c2b4e71"},
        who=(with_app,),
    )

    incident_id = api.ok("POST", "/v1/sos", {"lat": SITE[0], "lng": SITE[1]}, status=202)["incident_id"]
    for rid in (with_app, sms_only, alerted):
        until(lambda rid=rid: api.outbox(rid, incident_id), f"the alert to {rid}")
    for rid in (with_app, sms_only):
        api.ok("POST", f"/v1/incidents/{incident_id}/responses", {"action": "accept"}, who=(rid,))
    early = api.call(
        "PUT",
        f"/v1/incidents/{incident_id}/debrief",
        {"did": ["cpr"], "ies6": [0] * 6, "call_me": True},
        who=(with_app,),
    )
    assert early.status_code == 409 and early.json()["error"]["code"] == "incident_open"
    api.ok(
        "POST", f"/v1/incidents/{incident_id}/close", {"outcome": "rosc"}, who=("dispatcher-1", "dispatcher")
    )

    def invitations(rid: str) -> list[dict]:
        return [i for i in api.outbox(rid, incident_id) if i["kind"] == "debrief"]

    for rid, channel in ((with_app, "push"), (sms_only, "sms")):
        [invitation] = until(lambda rid=rid: invitations(rid), f"the debrief invitation to {rid}")
        assert invitation["channel"] == channel, invitation
        if cn:
            assert invitation["template"] == "rescue_debrief"
    until(
        lambda: api.ok("GET", f"/v1/incidents/{incident_id}/debrief", who=(sms_only,))["status"] == "invited",
        "invited",
    )
    assert invitations(alerted) == []
    assert [len(invitations(r)) for r in (with_app, sms_only)] == [1, 1]

    answers = {"did": ["arrived", "cpr"], "ies6": [2, 2, 1, 1, 0, 1], "call_me": True}
    mine = api.ok("PUT", f"/v1/incidents/{incident_id}/debrief", answers, who=(with_app,))
    assert mine["shared_outcome"]["outcome"] == "rosc" and mine["needs_call"] is True
    listed = api.ok("GET", "/v1/debriefs?needs_call=true", who=("admin-1", "admin"))["items"]
    assert [(r["incident_id"], r["responder_id"], r["name"]) for r in listed] == [
        (incident_id, with_app, "甲")
    ]
    assert api.call("GET", "/v1/debriefs?needs_call=true", who=(with_app, "responder")).status_code == 403
    assert (
        api.call("GET", f"/v1/incidents/{incident_id}/debrief", who=(alerted, "responder")).status_code == 404
    )
