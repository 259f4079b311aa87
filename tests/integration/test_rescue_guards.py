"""The rescue loop's guards on the embedded AWS, one at a time.

Two kinds of test. The store's own: shared.dal.rescue.DynamoIncidents called directly in a situation
the logic would never create (a second alert, a stand-down, a decline or an accept over an accepted
alert), so only the store's conditional write stands between the caller and the bug (the logic's own
guards are tested without it in tests/unit/test_rescue_guards.py). And what a user would check through
the real handlers: a decliner earns nothing, the AED goes with the acceptor it is on the way for, an
answer never loses a role, and a responder exactly on the rim of a search is found.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import pytest
from ulid import ULID

from shared import wiring
from shared.dal.geo_index import DynamoGeoIndex, IndexedPoint
from shared.dal.rescue import DynamoIncidents
from shared.geo.cover import AXIS_BITS
from shared.geo.distance import EARTH_RADIUS_M, haversine_m
from shared.logic.ports import AED_USABLE
from shared.logic.rescue.ports import Alert, Incident
from tests.conftest import Api
from tests.integration.rescue_helpers import (
    PATIENT,
    aed,
    dispatcher,
    finished,
    north_of,
    on_duty_records,
    sent,
    sos,
)
from tests.integration.rescue_helpers import responder as on_duty

T0 = datetime.fromisoformat("2026-12-06T03:00:00+08:00")  # the store never reads the clock
VALID_FOR_YEARS = "2099-12-31"


def responder(api: Api, at: tuple[float, float]) -> str:
    """An on-duty responder whose certificate is valid whatever the day the suite runs."""
    return on_duty(api, at=at, expires_on=VALID_FOR_YEARS)


def south_of(lat: float, lng: float, metres: float) -> tuple[float, float]:
    return north_of(lat, lng, -metres)


def answer(api: Api, incident_id: str, rid: str, action: str = "accept") -> Any:
    return api(
        "POST", f"/v1/incidents/{incident_id}/responses", {"action": action}, sub=rid, roles=("responder",)
    )


def close_and_finish(api: Api, aws: Any, incident_id: str) -> None:
    """Close the incident and wait (with a deadline) for its workflow to finish: points are awarded
    there, and no execution is left running after the test."""
    assert dispatcher(api, "POST", f"/v1/incidents/{incident_id}/close", {"outcome": "rosc"}).status == 200
    assert finished(aws, incident_id)["status"] == "SUCCEEDED"


def credits(api: Api, rid: str) -> dict[str, Any]:
    reply = api("GET", f"/v1/responders/{rid}/credits", sub=rid)
    assert reply.status == 200, reply.body
    body: dict[str, Any] = reply.body
    return body


# --- the store's guards, alone ---------------------------------------------------------------------


@pytest.fixture
def store(aws: Any) -> DynamoIncidents:
    on_duty_records("runner", "r1", "r2", "r3")
    return DynamoIncidents()


def new_incident(store: DynamoIncidents, *, with_aed: bool = False) -> str:
    """An incident written as the SOS writes it, without an SOS: no workflow runs beside the test."""
    incident_id = str(ULID())
    store.create(
        Incident(incident_id, "dispatching", *PATIENT, created_at=T0, slots_cpr=2, slots_aed=0), None, "{}"
    )
    if with_aed:
        DynamoGeoIndex().put(AED_USABLE, "aed-1", *north_of(*PATIENT, 150), attributes={"name": "AED"})
        store.set_aed_options(incident_id, [], 1)
    return incident_id


def alert(incident_id: str, rid: str, *, wave: int = 1, metres: float = 100.0) -> Alert:
    return Alert(
        incident_id,
        rid,
        "alerted",
        wave,
        metres,
        *north_of(*PATIENT, metres),
        alerted_at=T0 + timedelta(minutes=wave - 1),
        phone="+8613900000000",
        notice="alert",
        notice_lease_until=int(T0.timestamp()) + 20,
    )


def accepted_runner(store: DynamoIncidents) -> tuple[str, Alert]:
    """An AED runner: alerted in wave 1, told, accepted, sent for aed-1."""
    incident_id = new_incident(store, with_aed=True)
    assert store.add_alert(alert(incident_id, "runner")) == "written"
    store.notice_sent(incident_id, "runner", "alert")
    assert store.accept(incident_id, "runner", "aed", "aed-1", T0 + timedelta(seconds=30))
    before = store.get_alert(incident_id, "runner")
    assert before is not None and (before.state, before.role, before.aed_id) == ("accepted", "aed", "aed-1")
    return incident_id, before


def test_the_store_writes_one_alert_per_responder_and_incident(store: DynamoIncidents) -> None:
    incident_id = new_incident(store)
    assert store.add_alert(alert(incident_id, "r1")) == "written"
    store.notice_sent(incident_id, "r1", "alert")

    assert store.add_alert(alert(incident_id, "r1", wave=2, metres=1500)) == "already"

    kept = store.get_alert(incident_id, "r1")
    assert kept is not None and (kept.wave, kept.distance_m, kept.notice) == (1, 100.0, None)
    assert [a.responder_id for a in store.alerts(incident_id)] == ["r1"]


def test_the_store_never_writes_a_new_alert_over_an_accepted_one(store: DynamoIncidents) -> None:
    incident_id, before = accepted_runner(store)

    assert store.add_alert(alert(incident_id, "runner", wave=2, metres=1500)) == "already"

    assert store.get_alert(incident_id, "runner") == before  # role, AED, wave, answer: all kept


def test_the_store_never_stands_down_an_accepted_alert(store: DynamoIncidents) -> None:
    incident_id, before = accepted_runner(store)

    assert store.stand_down(incident_id, "runner", int(T0.timestamp()) + 60, T0) is False

    assert store.get_alert(incident_id, "runner") == before  # no stand-down notice queued either


def test_the_store_refuses_a_decline_after_an_accept(store: DynamoIncidents) -> None:
    incident_id, before = accepted_runner(store)

    assert store.decline(incident_id, "runner", T0 + timedelta(minutes=1)) is False

    assert store.get_alert(incident_id, "runner") == before


def test_the_store_refuses_a_second_accept_and_counts_one_slot(store: DynamoIncidents) -> None:
    incident_id, before = accepted_runner(store)

    assert store.accept(incident_id, "runner", "cpr", None, T0 + timedelta(minutes=1)) is False

    assert store.get_alert(incident_id, "runner") == before
    incident = store.get(incident_id)
    assert incident is not None and (incident.filled_aed, incident.filled_cpr) == (1, 0)


# --- (a) points go to those who went ---------------------------------------------------------------


def test_decline_close_and_the_decliner_has_no_points(api: Api, aws: Any) -> None:
    went, declined, ignored = (responder(api, north_of(*PATIENT, m)) for m in (100, 150, 200))
    incident_id = sos(api).body["incident_id"]
    assert answer(api, incident_id, went).body == {"role": "cpr", "aed": None}
    assert answer(api, incident_id, declined, "decline").status == 200
    arrived = api("POST", f"/v1/incidents/{incident_id}/events", {"type": "arrived"}, sub=went)
    assert arrived.status == 200

    close_and_finish(api, aws, incident_id)

    assert credits(api, went)["balance"] == 15  # accepted 5, arrived 10
    assert credits(api, declined) == {"balance": 0, "items": []}
    assert credits(api, ignored) == {"balance": 0, "items": []}


# --- (c) the AED goes with the acceptor it is on the way for ----------------------------------------


def test_the_acceptor_beyond_the_patient_does_cpr_and_the_one_passing_the_aed_fetches_it(
    api: Api, aws: Any
) -> None:
    box = aed(api, north_of(*PATIENT, 300), name="湖滨银泰 AED", hours="24/7")
    beyond = responder(api, south_of(*PATIENT, 400))  # via the AED: 700 m + 300 m instead of 400 m
    passing = responder(api, north_of(*PATIENT, 350))  # the AED lies on the way
    incident_id = sos(api).body["incident_id"]

    first = answer(api, incident_id, beyond)
    second = answer(api, incident_id, passing)

    assert first.status == 200 and first.body == {"role": "cpr", "aed": None}
    assert second.status == 200 and second.body["role"] == "aed"
    assert second.body["aed"]["aed_id"] == box
    close_and_finish(api, aws, incident_id)


# --- (e) an answer never loses a role ------------------------------------------------------------


def test_accepting_then_declining_is_409_and_the_role_is_kept(api: Api, aws: Any) -> None:
    box = aed(api, north_of(*PATIENT, 150), hours="24/7")
    rid = responder(api, north_of(*PATIENT, 140))
    incident_id = sos(api).body["incident_id"]
    assert answer(api, incident_id, rid).body["role"] == "aed"

    declined = answer(api, incident_id, rid, "decline")
    again = answer(api, incident_id, rid)

    assert declined.status == 409 and declined.body["error"]["code"] == "already_answered"
    assert again.status == 200 and again.body["role"] == "aed" and again.body["aed"]["aed_id"] == box
    own = api("GET", f"/v1/incidents/{incident_id}", sub=rid, roles=("responder",)).body
    assert [(a["state"], a["role"], a["aed_id"]) for a in own["alerts"]] == [("accepted", "aed", box)]
    close_and_finish(api, aws, incident_id)  # the finish stands down the rest, never an acceptor
    after = dispatcher(api, "GET", f"/v1/incidents/{incident_id}").body["alerts"]
    assert [(a["state"], a["role"]) for a in after] == [("accepted", "aed")]


# --- (d) the rim of a search is inside it ------------------------------------------------------------


def destination(lat: float, lng: float, bearing_deg: float, metres: float) -> tuple[float, float]:
    phi1, lmb1, theta = math.radians(lat), math.radians(lng), math.radians(bearing_deg)
    delta = metres / EARTH_RADIUS_M
    phi2 = math.asin(math.sin(phi1) * math.cos(delta) + math.cos(phi1) * math.sin(delta) * math.cos(theta))
    lmb2 = lmb1 + math.atan2(
        math.sin(theta) * math.sin(delta) * math.cos(phi1), math.cos(delta) - math.sin(phi1) * math.sin(phi2)
    )
    return math.degrees(phi2), math.degrees(lmb2)


LAT_CELL = 180.0 / (1 << AXIS_BITS)  # the geo index's latitude keys: 30 bits, ~2 cm


def rims() -> list[tuple[str, tuple[float, float], tuple[float, float]]]:
    """(id, centre, point): points exactly on a search's rim, 8 bearings at 300 m, 1 km and 2 km round
    the patient, then north and south rims lying exactly on an edge between two latitude cells of the
    index (where a search cover cut to the circle's exact extent can end one cell short)."""
    around = [
        (f"rim-{bearing:03d}-{metres:.0f}", PATIENT, destination(*PATIENT, bearing, metres))
        for metres in (300.0, 1000.0, 2000.0)
        for bearing in range(0, 360, 45)
    ]
    first = math.ceil((PATIENT[0] + 90.0) / LAT_CELL)
    on_edges = []
    for k in range(24):
        edge = -90.0 + (first + 7919 * k) * LAT_CELL
        metres, side = (300.0, 1000.0, 2000.0, 1234.5)[k % 4], 1 if k % 2 == 0 else -1
        centre = (edge - side * math.degrees(metres / EARTH_RADIUS_M), PATIENT[1])
        on_edges.append((f"edge-{k:02d}", centre, (edge, PATIENT[1])))
    return around + on_edges


def test_the_geo_index_finds_a_point_exactly_on_the_rim_and_nothing_beyond(aws: Any) -> None:
    geo, now = DynamoGeoIndex(), int(T0.timestamp())
    cases = rims()
    geo.put_many("rim", [IndexedPoint(entity_id, *where) for entity_id, _, where in cases])
    for entity_id, centre, where in cases:
        rim = haversine_m(*centre, *where)  # the search's own distance, to the last bit

        on = {h.entity_id: h.distance_m for h in geo.search("rim", *centre, rim, now_epoch=now).hits}
        shorter = math.nextafter(rim, 0.0)  # one float less: the point is just outside
        off = {h.entity_id for h in geo.search("rim", *centre, shorter, now_epoch=now).hits}

        assert on.get(entity_id) == rim, f"{entity_id} on a {rim!r} m rim round {centre}"
        assert entity_id not in off


def test_a_dispatcher_finds_a_responder_exactly_on_the_rim(api: Api) -> None:
    where = destination(*PATIENT, 60.0, 1234.5)
    rid = responder(api, where)
    rim = haversine_m(*PATIENT, *where)

    found = dispatcher_nearby(api, rim)
    short = dispatcher_nearby(api, math.nextafter(rim, 0.0))

    shown = pytest.approx(rim, abs=0.05)  # distances are shown to 0.1 m
    assert [(i["responder_id"], i["distance_m"]) for i in found] == [(rid, shown)]
    assert short == []


def dispatcher_nearby(api: Api, radius_m: float) -> list[dict[str, Any]]:
    reply = api(
        "GET",
        "/v1/responders/nearby",
        query={"lat": PATIENT[0], "lng": PATIENT[1], "radius_m": repr(radius_m)},
        sub="dispatcher-1",
        roles=("dispatcher",),
    )
    assert reply.status == 200, reply.body
    items: list[dict[str, Any]] = reply.body["items"]
    return items


@pytest.fixture
def wave_one_radius(monkeypatch: pytest.MonkeyPatch) -> Callable[[float], None]:
    """Set the deployment's wave-1 radius for one test (handlers read the policy on every call)."""
    deployed = wiring.policy()

    def set_radius(metres: float) -> None:
        monkeypatch.setattr(wiring, "policy", lambda: replace(deployed, wave1_radius_m=metres))

    return set_radius


def test_an_sos_alerts_a_responder_exactly_at_the_wave_one_radius(
    api: Api, aws: Any, wave_one_radius: Callable[[float], None]
) -> None:
    where = destination(*PATIENT, 200.0, 800.0)
    rid = responder(api, where)
    beyond = responder(api, destination(*PATIENT, 200.0, 801.0))
    wave_one_radius(haversine_m(*PATIENT, *where))

    incident_id = sos(api).body["incident_id"]

    assert [(m["to"], m["incident_id"]) for m in sent(kind="alert")] == [(rid, incident_id)]
    assert not sent(to=beyond)
    close_and_finish(api, aws, incident_id)
