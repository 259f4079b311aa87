"""The debrief after a rescue, end to end on the embedded AWS: the real ASL's finish invites each responder
who accepted, once (a retried finish sends nothing again; one only alerted gets nothing), through the
outbox /dev/outbox reads; the responder answers, sees the outcome that may be shared; the admins' call-back
list, oldest first, and a call marked done."""

from __future__ import annotations

from typing import Any

from tests.integration.rescue_helpers import PATIENT, dispatcher, finished, north_of, responder, sent, sos

CALM = {"did": ["arrived", "cpr"], "ies6": [1, 0, 1, 0, 1, 0], "call_me": True, "note": "想聊聊"}
DISTRESSED = {"did": ["fetched_aed", "attached_aed"], "ies6": [3, 3, 2, 3, 2, 2], "call_me": False}


def _rescue(
    api: Any, aws: Any, outcome: str, accepting: int = 2, only_alerted: int = 1
) -> tuple[str, list[str]]:
    """An SOS near fresh responders, ``accepting`` of them accept (the CPR slots: no AED near), the rest only
    alerted, closed with ``outcome``; returns once the workflow's finish ran."""
    people = [responder(api, at=north_of(*PATIENT, 150 + 60 * i)) for i in range(accepting + only_alerted)]
    incident_id = sos(api).body["incident_id"]
    for rid in people[:accepting]:
        assert (
            api("POST", f"/v1/incidents/{incident_id}/responses", {"action": "accept"}, sub=rid).status == 200
        )
    assert dispatcher(api, "POST", f"/v1/incidents/{incident_id}/close", {"outcome": outcome}).status == 200
    assert finished(aws, incident_id)["status"] == "SUCCEEDED"
    return incident_id, people


def _debrief(api: Any, incident_id: str, rid: str, body: Any = None) -> Any:
    method = "GET" if body is None else "PUT"
    return api(method, f"/v1/incidents/{incident_id}/debrief", body, sub=rid, roles=("responder",))


def _call_list(api: Any, **query: Any) -> Any:
    return api("GET", "/v1/debriefs", query={"needs_call": "true", **query}, sub="admin-1", roles=("admin",))


def test_each_acceptor_is_invited_once_after_the_close_and_nobody_else(api, aws):
    incident_id, (first, second, alerted) = _rescue(api, aws, "rosc")
    for rid in (first, second):
        invitations = sent(to=rid, kind="debrief")
        assert [(m["incident_id"], m["channel"]) for m in invitations] == [(incident_id, "sms")]
        assert f"rn://incident/{incident_id}?k=debrief" in invitations[0]["message"]  # the app's deep link
    assert sent(to=alerted, kind="debrief") == []
    assert [m["kind"] for m in sent(to=alerted)] == ["alert", "stand_down"]

    # The finish again (a retry, a redrive): nothing sent twice.
    again = api.functions.invoke("rescue_steps", {"action": "finish", "incident_id": incident_id})
    assert again["debriefs_invited"] == 0
    assert [len(sent(to=rid, kind="debrief")) for rid in (first, second, alerted)] == [1, 1, 0]
    view = _debrief(api, incident_id, first).body
    assert (
        view["status"] == "invited" and view["scale"]["name"] == "IES-6" and len(view["scale"]["items"]) == 6
    )


def test_answers_the_call_back_list_oldest_first_and_a_call_done(api, aws):
    incident_id, (first, second, alerted) = _rescue(api, aws, "rosc")

    asked = _debrief(api, incident_id, first, CALM)
    assert asked.status == 200, asked.body
    assert asked.body | {"submitted_at": None, "invited_at": None, "scale": None} == {
        "incident_id": incident_id,
        "responder_id": first,
        "status": "submitted",
        "invited_at": None,
        "submitted_at": None,
        "did": ["arrived", "cpr"],
        "note": "想聊聊",
        "ies6": [1, 0, 1, 0, 1, 0],
        "score": 3,
        "band": "below_cut_off",
        "call_me": True,
        "needs_call": True,
        "call_done": False,
        "shared_outcome": {
            "outcome": "rosc",
            "en": "The patient reached hospital with a pulse.",
            "zh": "患者恢复了心跳，已被送往医院。",
        },
        "scale": None,
    }
    assert _debrief(api, incident_id, first, CALM).body == asked.body  # a retry: the same debrief
    changed = _debrief(api, incident_id, first, {**CALM, "call_me": False})
    assert (changed.status, changed.body["error"]["code"]) == (409, "debrief_already_submitted")

    flagged = _debrief(api, incident_id, second, DISTRESSED).body  # did not ask: the score (15) did
    assert (flagged["score"], flagged["band"], flagged["needs_call"]) == (15, "at_or_above_cut_off", True)

    def waiting() -> list[tuple[str, bool, str]]:
        rows = [r for r in _call_list(api).body["items"] if r["incident_id"] == incident_id]
        return [(r["responder_id"], r["call_me"], r["band"]) for r in rows]

    assert waiting() == [
        (first, True, "below_cut_off"),
        (second, False, "at_or_above_cut_off"),
    ]  # oldest first
    row = next(r for r in _call_list(api).body["items"] if r["responder_id"] == first)
    assert row["name"] == "志愿者" and row["phone"].startswith("+86139") and row["score"] == 3
    assert row["note"] == "想聊聊"

    done = api("POST", f"/v1/debriefs/{incident_id}/{first}/call-done", {}, sub="admin-1", roles=("admin",))
    assert done.status == 200 and done.body["call_done_by"] == "admin-1"
    assert waiting() == [(second, False, "at_or_above_cut_off")]
    again = api("POST", f"/v1/debriefs/{incident_id}/{first}/call-done", {}, sub="admin-2", roles=("admin",))
    assert again.body == done.body  # the first who and when
    assert _debrief(api, incident_id, first).body["call_done"] is True

    # Who may: the list is the admins'; someone else's debrief is a 404, as a rescue that does not exist.
    for roles in (("responder",), ("dispatcher",), ()):
        assert _call_list(api).status == 200
        assert api("GET", "/v1/debriefs", query={"needs_call": "true"}, sub="x", roles=roles).status == 403
    hidden = _debrief(api, incident_id, alerted, CALM)
    missing = _debrief(api, "01KBX3R9Q4W8Z2M6N7P5T1V0CD", alerted, CALM)
    assert (hidden.status, hidden.body) == (missing.status, missing.body) == (404, missing.body)
    assert _debrief(api, incident_id, alerted).status == 404
    assert _debrief(api, incident_id, "someone-else").status == 404


def test_the_outcome_is_shared_only_for_rosc_or_transported(api, aws):
    for outcome, shared in (("transported", True), ("deceased", False), ("false_alarm", False)):
        incident_id, (rid,) = _rescue(api, aws, outcome, accepting=1, only_alerted=0)
        assert len(sent(to=rid, kind="debrief")) == 1
        view = _debrief(api, incident_id, rid).body
        assert (view["shared_outcome"] is not None) is shared, outcome
        if shared:
            assert view["shared_outcome"]["outcome"] == outcome


def test_a_debrief_before_the_close_is_409_and_bad_answers_422(api, aws):
    rid = responder(api, at=north_of(*PATIENT, 100))
    incident_id = sos(api).body["incident_id"]
    assert api("POST", f"/v1/incidents/{incident_id}/responses", {"action": "accept"}, sub=rid).status == 200
    early = _debrief(api, incident_id, rid, CALM)
    assert (early.status, early.body["error"]["code"]) == (409, "incident_open")
    for bad, field in (
        ({**CALM, "ies6": [1, 1, 1, 1, 1]}, "ies6"),
        ({**CALM, "ies6": [1, 1, 1, 1, 1, 5]}, "ies6.5"),
        ({**CALM, "ies6": [1, 1, "2", 1, 1, 1]}, "ies6.2"),
        ({**CALM, "ies6": [1, 1, True, 1, 1, 1]}, "ies6.2"),
        ({**CALM, "did": []}, "did"),
        ({**CALM, "did": ["cpr", "cpr"]}, "did"),
        ({**CALM, "did": ["sang"]}, "did.0"),
        ({**CALM, "call_me": "yes"}, "call_me"),
        ({k: v for k, v in CALM.items() if k != "ies6"}, "ies6"),
    ):
        reply = _debrief(api, incident_id, rid, bad)
        assert reply.status == 422, (bad, reply.body)
        assert reply.body["error"]["message"].startswith(field), (field, reply.body)
