"""The dispatchers' console through the real handlers: GET /v1/incidents (every incident, open or closed,
newest first, paged, one Query on the list's index and never a Scan) and GET /v1/incidents/{id}/timeline
(a rescue from the SOS to the points, in time order; an alerted responder's own part only)."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from shared import wiring
from shared.config import settings
from tests.conftest import Api
from tests.integration.rescue_helpers import (
    PATIENT,
    dispatcher,
    finished,
    north_of,
    responder,
    sos,
    until,
)

ADMIN = {"sub": "admin-1", "roles": ("admin",)}


def listing(api: Api, **query: Any) -> Any:
    return api("GET", "/v1/incidents", query=query, sub="dispatcher-1", roles=("dispatcher",))


def everything(api: Api, **query: Any) -> list[dict[str, Any]]:
    """Every page of the list, in order."""
    items, token = [], None
    while True:
        page = listing(api, **query, **({"next_token": token} if token else {}))
        assert page.status == 200, page.body
        items += page.body["items"]
        token = page.body["next_token"]
        if token is None:
            return items


def spread_sos(api: Api, n: int) -> list[str]:
    """``n`` SOS for ``n`` patients 200 m apart (none joins another), oldest first."""
    ids = []
    for i in range(n):
        reply = sos(api, at=north_of(*PATIENT, 200 * i))
        assert reply.status == 202, reply.body
        ids.append(reply.body["incident_id"])
    return ids


def answer(api: Api, incident_id: str, rid: str, action: str) -> Any:
    reply = api("POST", f"/v1/incidents/{incident_id}/responses", {"action": action}, sub=rid)
    assert reply.status == 200, reply.body
    return reply.body


def report(api: Api, incident_id: str, rid: str, kind: str) -> None:
    reply = api("POST", f"/v1/incidents/{incident_id}/events", {"type": kind}, sub=rid)
    assert reply.status == 200, reply.body


def timeline(api: Api, incident_id: str, **who: Any) -> Any:
    return api("GET", f"/v1/incidents/{incident_id}/timeline", **who)


@contextmanager
def dynamodb_calls() -> Iterator[list[tuple[str, str, str | None]]]:
    """Every DynamoDB call made meanwhile, as (operation, table, index); a Scan fails the request."""
    calls: list[tuple[str, str, str | None]] = []

    def record(params: dict[str, Any], model: Any, **_: Any) -> None:
        calls.append((model.name, params.get("TableName", ""), params.get("IndexName")))
        if model.name == "Scan":
            raise AssertionError(f"a Scan of {params.get('TableName')}")

    events = wiring.dynamodb().client.meta.events
    events.register("provide-client-params.dynamodb", record, unique_id="console-calls")
    try:
        yield calls
    finally:
        events.unregister("provide-client-params.dynamodb", unique_id="console-calls")


# --- the list ----------------------------------------------------------------------------------------


def test_the_open_list_pages_newest_first_until_every_incident_is_seen(api):
    ids = spread_sos(api, 7)
    first = listing(api, limit=3)
    assert first.status == 200, first.body
    assert [i["incident_id"] for i in first.body["items"]] == ids[::-1][:3]
    pages = [first.body["items"]]
    token = first.body["next_token"]
    while token:
        page = listing(api, limit=3, next_token=token)
        pages.append(page.body["items"])
        token = page.body["next_token"]
    assert [len(p) for p in pages] == [3, 3, 1]  # no empty last page
    listed = [i["incident_id"] for p in pages for i in p]
    assert listed == ids[::-1]  # newest first, each once
    created = [datetime.fromisoformat(i["created_at"]) for p in pages for i in p]
    assert created == sorted(created, reverse=True)
    row = pages[-1][0]  # the oldest, by nobody near: nobody alerted
    assert row["incident_id"] == ids[0]
    assert {k: row[k] for k in ("source", "cad_incident_no", "status", "alerted", "accepted", "outcome")} == {
        "source": "app",
        "cad_incident_no": None,
        "status": "dispatching",
        "alerted": 0,
        "accepted": 0,
        "outcome": None,
    }
    assert (row["lat"], row["lng"]) == pytest.approx(PATIENT)
    assert row["roles"] == {"cpr": {"filled": 0, "slots": 2}, "aed": {"filled": 0, "slots": 0}}
    assert everything(api, status="closed") == []


def test_since_keeps_the_incidents_created_then_or_later(api):
    ids = spread_sos(api, 5)
    rows = everything(api)
    cut = rows[2]["created_at"]  # the third newest
    assert [i["incident_id"] for i in everything(api, since=cut, limit=2)] == ids[::-1][:3]
    # The same instant in Hangzhou's offset is the same cut.
    local = datetime.fromisoformat(cut).astimezone(timezone(timedelta(hours=8)))
    assert [i["incident_id"] for i in everything(api, since=local.isoformat())] == ids[::-1][:3]
    later = datetime.fromisoformat(rows[0]["created_at"]) + timedelta(microseconds=1)
    assert everything(api, since=later.isoformat()) == []


def test_closing_moves_an_incident_to_the_closed_list_with_its_outcome(api):
    ids = spread_sos(api, 3)
    closed = dispatcher(api, "POST", f"/v1/incidents/{ids[1]}/close", {"outcome": "transported"})
    assert closed.status == 200, closed.body
    assert [i["incident_id"] for i in everything(api, status="open")] == [ids[2], ids[0]]
    (row,) = everything(api, status="closed")
    assert (row["incident_id"], row["status"], row["outcome"]) == (ids[1], "closed", "transported")
    assert datetime.fromisoformat(row["closed_at"]) >= datetime.fromisoformat(row["created_at"])


def test_a_second_caller_for_the_same_patient_is_on_neither_list(api):
    first = sos(api).body["incident_id"]
    joined = sos(api, at=north_of(*PATIENT, 20))  # 20 m away, at once: the same patient
    assert joined.body["incident_id"] == first
    rows = everything(api)
    assert [i["incident_id"] for i in rows] == [first]  # the merged SOS is not an open incident
    assert everything(api, status="closed") == []


def test_alerted_and_accepted_counts_and_the_roles_filled(api):
    rids = [responder(api, at=north_of(*PATIENT, 100 + 100 * i)) for i in range(4)]
    incident_id = sos(api).body["incident_id"]

    def row() -> dict[str, Any]:
        (found,) = [i for i in everything(api) if i["incident_id"] == incident_id]
        return found

    assert (row()["alerted"], row()["accepted"]) == (4, 0)  # counted by the SOS request itself
    answer(api, incident_id, rids[3], "decline")
    assert answer(api, incident_id, rids[0], "accept")["role"] == "cpr"
    now = row()
    assert (now["alerted"], now["accepted"], now["status"]) == (4, 1, "responding")
    assert now["roles"]["cpr"] == {"filled": 1, "slots": 2}
    answer(api, incident_id, rids[1], "accept")
    now = row()
    assert (now["accepted"], now["roles"]["cpr"], now["unanswered"]) == (2, {"filled": 2, "slots": 2}, False)


def parked(incident_ids: list[str]) -> None:
    """Every rescue's workflow waits for the close (its waves are over), so nothing but the request
    measured calls DynamoDB meanwhile."""
    store = wiring.incidents()

    def waiting(incident_id: str) -> bool:
        incident = store.get(incident_id)
        return incident is not None and incident.closure_token is not None

    for incident_id in incident_ids:
        until(lambda i=incident_id: waiting(i), what=f"the workflow of {incident_id} to wait for the close")


def test_listing_a_page_is_one_query_on_the_lists_index_and_never_a_scan(api):
    parked(spread_sos(api, 4))
    with dynamodb_calls() as calls:
        page = listing(api, limit=2)
    assert page.status == 200, page.body
    assert calls == [("Query", settings().incidents_table, "listing-created")]
    with dynamodb_calls() as calls:
        second = listing(api, limit=2, status="open", next_token=page.body["next_token"])
    assert second.status == 200 and len(second.body["items"]) == 2
    assert calls == [("Query", settings().incidents_table, "listing-created")]


AT = "2026-12-06T03:00:00.000000+0000"  # an index key's created_at, as stored


def _token(**keys: str) -> str:
    return base64.urlsafe_b64encode(json.dumps({k: {"S": v} for k, v in keys.items()}).encode()).decode()


OPEN_TOKEN = _token(incident_id="i", listing="open", created_at=AT)  # well formed, of the open list


@pytest.mark.parametrize(
    "query",
    [
        {"limit": 0},
        {"limit": 101},
        {"limit": "ten"},
        {"status": "merged"},
        {"since": "yesterday"},
        {"since": "2026-12-06T03:00:00"},  # no offset
        {"next_token": "not a token"},
        {"next_token": base64.urlsafe_b64encode(b"[1, 2]").decode()},
        {"next_token": base64.urlsafe_b64encode(b"\xff\xfe").decode()},
        {"next_token": "x" * 1001},
        {"next_token": _token(incident_id="i", listing="open")},  # a key short
        {"next_token": _token(incident_id="", listing="open", created_at=AT)},
        {"next_token": _token(incident_id="i", listing="open", created_at="yesterday")},
        # A token of the open list used on the closed one; one from before ``since``.
        {"status": "closed", "next_token": OPEN_TOKEN},
        {"since": "2026-12-07T00:00+00:00", "next_token": OPEN_TOKEN},
    ],
)
def test_a_bad_query_is_422_never_500(api, query):
    spread_sos(api, 1)
    reply = listing(api, **query)
    assert reply.status == 422, reply.body
    assert set(reply.body["error"]) == {"code", "message"}


@pytest.mark.parametrize("roles", [("responder",), ("aed_manager",), ("trainer",), ("examiner",), ()])
def test_only_dispatchers_and_admins_list_incidents(api, roles):
    spread_sos(api, 1)
    assert api("GET", "/v1/incidents", sub="someone", roles=roles).status == 403
    assert api("GET", "/v1/incidents").status == 401
    assert api("GET", "/v1/incidents", **ADMIN).status == 200


# --- the timeline -------------------------------------------------------------------------------------


@pytest.fixture
def rescue(api, aws) -> dict[str, Any]:
    """A whole rescue, no AED near: four alerted; the farthest declines, the two nearest accept (CPR),
    which fills the slots and stands the third down; arrivals, CPR, the ambulance, the close, the
    points (the workflow's finish)."""
    near, second, third, far = (responder(api, at=north_of(*PATIENT, m)) for m in (60, 250, 600, 800))
    incident_id = sos(api).body["incident_id"]
    answer(api, incident_id, far, "decline")
    answer(api, incident_id, near, "accept")
    answer(api, incident_id, second, "accept")
    report(api, incident_id, near, "arrived")
    report(api, incident_id, near, "cpr_started")
    report(api, incident_id, second, "arrived")
    ems = dispatcher(api, "POST", f"/v1/incidents/{incident_id}/events", {"type": "ems_arrived"})
    assert ems.status == 200, ems.body
    closed = dispatcher(api, "POST", f"/v1/incidents/{incident_id}/close", {"outcome": "transported"})
    assert closed.status == 200, closed.body
    assert finished(aws, incident_id)["status"] == "SUCCEEDED"
    return {"incident_id": incident_id, "near": near, "second": second, "third": third, "far": far}


def test_a_rescue_from_sos_to_points_in_time_order(api, rescue):
    reply = dispatcher(api, "GET", f"/v1/incidents/{rescue['incident_id']}/timeline")
    assert reply.status == 200, reply.body
    items = reply.body["items"]
    times = [datetime.fromisoformat(i["at"]) for i in items]
    assert times == sorted(times)
    near, second, third, far = (rescue[k] for k in ("near", "second", "third", "far"))
    assert items[0]["type"] == "created" and items[0]["source"] == "app"
    assert (items[0]["lat"], items[0]["lng"]) == pytest.approx(PATIENT)
    seen = [(i["type"], i.get("responder_id")) for i in items]
    assert sorted(seen, key=str) == sorted(
        [
            ("created", None),
            *[("alerted", r) for r in (near, second, third, far)],
            ("declined", far),
            ("accepted", near),
            ("accepted", second),
            ("stood_down", third),
            ("arrived", near),
            ("cpr_started", near),
            ("arrived", second),
            ("ems_arrived", None),
            ("closed", None),
            *[("credited", near)] * 3,
            *[("credited", second)] * 2,
        ],
        key=str,
    )
    # What happened in order: the answers as given, the stand-down with the last slot, the close, points.
    order = [t for t in seen if t[0] not in ("alerted", "credited", "created")]
    assert order == [
        ("declined", far),
        ("accepted", near),
        ("accepted", second),
        ("stood_down", third),
        ("arrived", near),
        ("cpr_started", near),
        ("arrived", second),
        ("ems_arrived", None),
        ("closed", None),
    ]
    assert {t[0] for t in seen[-5:]} == {"credited"}  # the points last, given at the finish
    alerted = {i["responder_id"]: i for i in items if i["type"] == "alerted"}
    assert {r: (a["wave"], a["distance_m"]) for r, a in alerted.items()} == {
        near: (1, pytest.approx(60, abs=1)),
        second: (1, pytest.approx(250, abs=1)),
        third: (1, pytest.approx(600, abs=1)),
        far: (1, pytest.approx(800, abs=1)),
    }
    assert {i["role"] for i in items if i["type"] == "accepted"} == {"cpr"}
    (close,) = [i for i in items if i["type"] == "closed"]
    assert close["outcome"] == "transported"
    (ems,) = [i for i in items if i["type"] == "ems_arrived"]
    assert (ems["by"], ems["by_id"]) == ("dispatcher", "dispatcher-1")
    points = {(i["responder_id"], i["reason"]): i["points"] for i in items if i["type"] == "credited"}
    assert points == {
        (near, "accepted"): 5,
        (near, "arrived"): 10,
        (near, "cpr_started"): 20,
        (second, "accepted"): 5,
        (second, "arrived"): 10,
    }
    assert all(None not in i.values() for i in items)  # an entry carries only what it has
    assert dispatcher(api, "GET", f"/v1/incidents/{rescue['incident_id']}/timeline").body == reply.body


def test_a_responder_reads_only_their_own_part(api, rescue):
    incident_id, near = rescue["incident_id"], rescue["near"]
    reply = timeline(api, incident_id, sub=near, roles=("responder",))
    assert reply.status == 200, reply.body
    seen = [(i["type"], i.get("responder_id")) for i in reply.body["items"]]
    assert seen == [
        ("created", None),
        ("alerted", near),
        ("accepted", near),
        ("arrived", near),
        ("cpr_started", near),
        ("ems_arrived", None),
        ("closed", None),
        *[("credited", near)] * 3,
    ]
    text = json.dumps(reply.body)
    for other in (rescue["second"], rescue["third"], rescue["far"], "dispatcher-1"):
        assert other not in text
    assert "lat" not in reply.body["items"][0]  # the place is in the incident's own view, not here
    stood = timeline(api, incident_id, sub=rescue["third"], roles=("responder",)).body["items"]
    assert [(i["type"], i.get("responder_id")) for i in stood] == [
        ("created", None),
        ("alerted", rescue["third"]),
        ("stood_down", rescue["third"]),
        ("ems_arrived", None),
        ("closed", None),
    ]


def test_a_stranger_gets_the_404_of_an_incident_that_does_not_exist(api, rescue):
    missing = timeline(api, "01JZZZZZZZZZZZZZZZZZZZZZZZ", sub="stranger", roles=("responder",))
    assert missing.status == 404
    for roles in [("responder",), (), ("aed_manager",), ("trainer",)]:
        hidden = timeline(api, rescue["incident_id"], sub="stranger", roles=roles)
        assert (hidden.status, hidden.body) == (missing.status, missing.body)
    assert timeline(api, rescue["incident_id"]).status == 401
    assert timeline(api, rescue["incident_id"], **ADMIN).status == 200


def test_the_timeline_is_read_by_queries_never_a_scan(api, rescue):
    with dynamodb_calls() as calls:
        assert dispatcher(api, "GET", f"/v1/incidents/{rescue['incident_id']}/timeline").status == 200
    tables = settings()
    assert sorted(calls) == sorted(
        [
            ("GetItem", tables.incidents_table, None),
            ("Query", tables.alerts_table, None),
            ("Query", tables.events_table, None),
            ("Query", tables.credits_table, None),  # one per responder who accepted
            ("Query", tables.credits_table, None),
        ]
    )


def test_a_merged_sos_shows_whom_it_joined_and_the_first_shows_the_caller(api):
    first = sos(api).body["incident_id"]
    second = sos(api, at=north_of(*PATIENT, 20), caller_phone="+8613800000000")
    assert second.body["incident_id"] == first
    joined = until(
        lambda: [
            i
            for i in dispatcher(api, "GET", f"/v1/incidents/{first}/timeline").body["items"]
            if i["type"] == "caller_joined"
        ],
        what="the joined caller on the first incident's timeline",
    )
    merged_id = joined[0]["detail"]
    items = dispatcher(api, "GET", f"/v1/incidents/{merged_id}/timeline").body["items"]
    assert [(i["type"], i.get("merged_into")) for i in items] == [("created", None), ("merged", first)]
