"""The rescue loop's rules, each with only its logic guard standing.

Most rescue rules are guarded twice: the logic decides not to do the forbidden thing, and the DynamoDB
store's conditional write refuses it anyway. Through the whole system the two overlap, so a bug in
either one goes unseen. Here the store is ``LaxIncidents``, an in-memory store that enforces none of
the conditions the real one puts on its writes (no key guard on alerts, no state guard on accepts,
declines and stand-downs, no ceiling on slot counters): whatever these tests see kept, the logic kept.
The store guards get their own tests in tests/integration/test_rescue_guards.py.

A responder exactly on the rim of a search must be found: the search's cover (which cells the geo
index queries) is tested here; the distance cut, on the real index, in the integration tests.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

import pytest

from shared.errors import Conflict
from shared.geo.cover import AXIS_BITS, cover_circle, point_keys
from shared.geo.distance import EARTH_RADIUS_M, haversine_m
from shared.identity import Caller
from shared.logic.ports import RESPONDER, Credit, Hit
from shared.logic.rescue.assignment import Assignment, record_event, respond
from shared.logic.rescue.closure import credits_for, finish
from shared.logic.rescue.notices import stand_down_the_rest
from shared.logic.rescue.policy import Policy
from shared.logic.rescue.ports import (
    AedOption,
    Alert,
    AlertLimits,
    Award,
    Incident,
    IncidentEvent,
    Notice,
    SourceLimit,
)
from shared.logic.rescue.waves import assess, declare_unanswered, dispatch_wave

T0 = datetime.fromisoformat("2026-12-06T03:00:00+08:00")  # a Sunday night: nothing here reads the clock
PATIENT = (30.2590, 120.1605)
INCIDENT = "inc-1"
POINTS = {"accepted": 5, "arrived": 10, "cpr_started": 20, "aed_attached": 20, "shock_delivered": 10}
POLICY = Policy(
    wave1_radius_m=1000,
    wave1_size=2,
    wave2_radius_m=2000,
    wave2_size=2,
    wave_wait_s=60,
    cpr_slots=2,
    aed_slots=1,
    aed_radius_m=1000,
    incident_expire_s=3 * 3600,
    notice_lease_s=20,
    time_zone="Asia/Shanghai",
    credit_points=POINTS,
)


def offset(north_m: float, east_m: float = 0.0, at: tuple[float, float] = PATIENT) -> tuple[float, float]:
    """A point so many metres north and east of ``at`` (small distances: a flat local grid)."""
    lat, lng = at
    dlat = math.degrees(north_m / EARTH_RADIUS_M)
    dlng = math.degrees(east_m / (EARTH_RADIUS_M * math.cos(math.radians(lat))))
    return lat + dlat, lng + dlng


# --- fakes -----------------------------------------------------------------------------------------


@dataclass
class LaxIncidents:
    """The IncidentStore port in memory, with every write unconditional (see the module's docstring)."""

    incidents: dict[str, Incident] = field(default_factory=dict)
    alert_items: dict[tuple[str, str], Alert] = field(default_factory=dict)
    event_items: list[IncidentEvent] = field(default_factory=list)
    awarded: list[Award] = field(default_factory=list)
    writes: list[tuple[str, str]] = field(default_factory=list)  # (method, responder) of alert writes

    # -- building the situation ------------------------------------------------------------------
    def open_incident(
        self, *, filled_cpr: int = 0, filled_aed: int = 0, aeds: Sequence[AedOption] = ()
    ) -> Incident:
        incident = Incident(
            incident_id=INCIDENT,
            status="dispatching",
            lat=PATIENT[0],
            lng=PATIENT[1],
            created_at=T0,
            slots_cpr=POLICY.cpr_slots,
            slots_aed=POLICY.aed_slots if aeds else 0,
            filled_cpr=filled_cpr,
            filled_aed=filled_aed,
            aed_options=list(aeds),
        )
        self.incidents[INCIDENT] = incident
        return incident

    def alerted(
        self,
        responder_id: str,
        at: tuple[float, float],
        *,
        state: str = "alerted",
        wave: int = 1,
        role: str | None = None,
        aed_id: str | None = None,
    ) -> Alert:
        alert = Alert(
            incident_id=INCIDENT,
            responder_id=responder_id,
            state=state,
            wave=wave,
            distance_m=round(haversine_m(*at, *PATIENT), 1),
            lat=at[0],
            lng=at[1],
            alerted_at=T0,
            phone="+8613900000000",
            role=role,
            aed_id=aed_id,
            answered_at=T0 if state != "alerted" else None,
        )
        self.alert_items[(INCIDENT, responder_id)] = alert
        return alert

    def alert(self, responder_id: str) -> Alert:
        return self.alert_items[(INCIDENT, responder_id)]

    # -- the port --------------------------------------------------------------------------------
    def create(
        self, incident: Incident, key_hash: str | None, body_hash: str, limits: list[SourceLimit]
    ) -> None:
        self.incidents[incident.incident_id] = replace(incident)

    def get(self, incident_id: str) -> Incident | None:
        incident = self.incidents.get(incident_id)
        return replace(incident) if incident else None

    def set_aed_options(self, incident_id: str, options: list[AedOption], slots_aed: int) -> None:
        self.incidents[incident_id].aed_options, self.incidents[incident_id].slots_aed = options, slots_aed

    def add_alert(self, alert: Alert, limits: AlertLimits) -> str:
        self.writes.append(("add_alert", alert.responder_id))
        self.alert_items[(alert.incident_id, alert.responder_id)] = replace(alert)  # no key guard
        return "written"

    def alerts(self, incident_id: str) -> list[Alert]:
        return [replace(a) for (i, _), a in sorted(self.alert_items.items()) if i == incident_id]

    def get_alert(self, incident_id: str, responder_id: str) -> Alert | None:
        alert = self.alert_items.get((incident_id, responder_id))
        return replace(alert) if alert else None

    def _update(self, incident_id: str, responder_id: str, **changes: object) -> None:
        key = (incident_id, responder_id)
        self.alert_items[key] = replace(self.alert_items[key], **changes)  # type: ignore[arg-type]

    def notice_sent(self, incident_id: str, responder_id: str, notice: str) -> None:
        self._update(incident_id, responder_id, notice=None, notice_lease_until=None)

    def release_notice(self, incident_id: str, responder_id: str, notice: str) -> None:
        self._update(incident_id, responder_id, notice_lease_until=0)

    def take_notice(
        self, incident_id: str, responder_id: str, notice: str, now: int, lease_until: int
    ) -> bool:
        self._update(incident_id, responder_id, notice_lease_until=lease_until)
        return True

    def accept(
        self,
        incident_id: str,
        responder_id: str,
        role: str,
        aed_id: str | None,
        now: datetime,
        busy_until: int,
    ) -> bool:
        self.writes.append(("accept", responder_id))
        incident = self.incidents[incident_id]
        if role == "aed":  # counted, never capped
            incident.filled_aed += 1
        else:
            incident.filled_cpr += 1
        self._update(incident_id, responder_id, state="accepted", role=role, aed_id=aed_id, answered_at=now)
        return True

    def decline(self, incident_id: str, responder_id: str, now: datetime) -> bool:
        self.writes.append(("decline", responder_id))
        self._update(incident_id, responder_id, state="declined", answered_at=now)
        return True

    def stand_down(self, incident_id: str, responder_id: str, lease_until: int, at: datetime) -> bool:
        self.writes.append(("stand_down", responder_id))
        self._update(
            incident_id,
            responder_id,
            state="stood_down",
            stood_down_at=at,
            notice="stand_down",
            notice_lease_until=lease_until,
        )
        return True

    def count_alerted(self, incident_id: str, at_least: int) -> None:
        incident = self.incidents[incident_id]
        incident.alerted = max(incident.alerted, at_least)

    def add_event(self, event: IncidentEvent) -> None:
        self.event_items.append(event)

    def add_event_once(self, event: IncidentEvent, once_key: str) -> IncidentEvent:
        self.event_items.append(event)  # no key guard
        return event

    def release(self, incident_id: str, responder_ids: list[str]) -> None:
        self.writes.append(("release", ",".join(responder_ids)))

    def expire(self, incident_id: str, at: int) -> None:
        self.writes.append(("expire", str(at)))

    def events(self, incident_id: str) -> list[IncidentEvent]:
        return [e for e in self.event_items if e.incident_id == incident_id]

    def advance_status(self, incident_id: str, to: str, allowed_from: tuple[str, ...]) -> bool:
        self.incidents[incident_id].status = to
        return True

    def drop_aed_option(self, incident_id: str, aed_id: str) -> Incident | None:
        incident = self.incidents[incident_id]
        incident.aed_options = [o for o in incident.aed_options or [] if o.aed_id != aed_id]
        return replace(incident)

    def reassign_aed(
        self,
        incident_id: str,
        responder_id: str,
        old_aed_id: str,
        new_aed_id: str | None,
        lease_until: int | None,
    ) -> bool:
        self._update(incident_id, responder_id, aed_id=new_aed_id, role="aed" if new_aed_id else "cpr")
        return True

    def set_wave(self, incident_id: str, wave: int) -> None:
        self.incidents[incident_id].wave = wave

    def mark_unanswered(self, incident_id: str) -> bool:
        self.incidents[incident_id].unanswered = True
        return True

    def mark_centre_told(self, incident_id: str) -> None:
        self.incidents[incident_id].centre_told = True

    def close(self, incident_id: str, outcome: str, closed_at: datetime) -> Incident | None:
        incident = self.incidents[incident_id]
        incident.status, incident.outcome, incident.closed_at = "closed", outcome, closed_at.isoformat()
        return replace(incident)

    def store_closure_token(self, incident_id: str, token: str) -> bool:
        self.incidents[incident_id].closure_token = token
        return True

    def award(self, incident_id: str, awards: list[Award], at: datetime) -> bool:
        self.awarded.extend(awards)
        return True

    def credits(self, responder_id: str) -> list[Credit]:
        return [
            Credit(INCIDENT, a.reason, a.points, T0) for a in self.awarded if a.responder_id == responder_id
        ]

    # -- what the user would see -----------------------------------------------------------------
    def points(self, responder_id: str) -> int:
        return sum(a.points for a in self.awarded if a.responder_id == responder_id)


@dataclass
class Outbox:
    """The Notifier port: who was told what."""

    sent: list[tuple[str, str]] = field(default_factory=list)  # (responder, kind)
    dispatch_centre: list[str] = field(default_factory=list)

    def notify(self, alert: Alert, notice: Notice) -> None:
        self.sent.append((alert.responder_id, notice.kind))

    def tell_dispatch_centre(self, incident_id: str, message: str) -> None:
        self.dispatch_centre.append(incident_id)

    def to(self, kind: str) -> list[str]:
        return sorted(r for r, k in self.sent if k == kind)


@dataclass
class Responders:
    """The GeoIndex port's search for on-duty responders (nothing else is asked of it here)."""

    where: Mapping[str, tuple[float, float]]
    searches: int = 0

    def nearby(self, kind: str, lat: float, lng: float, radius_m: float, now_epoch: int) -> list[Hit]:
        assert kind == RESPONDER
        self.searches += 1
        hits = [Hit(rid, p[0], p[1], haversine_m(lat, lng, *p), {}) for rid, p in self.where.items()]
        return sorted(
            (h for h in hits if h.distance_m <= radius_m), key=lambda h: (h.distance_m, h.entity_id)
        )

    def put(self, *args: object, **kwargs: object) -> None:
        raise AssertionError("the rescue loop never indexes")

    def remove(self, kind: str, entity_id: str) -> None:
        raise AssertionError("the rescue loop never un-indexes")

    def in_box(self, kind: str, min_lng: float, min_lat: float, max_lng: float, max_lat: float) -> list[Hit]:
        raise AssertionError("the rescue loop never searches a box")


class Claims:
    def __init__(self) -> None:
        self.released: list[str] = []

    def release(self, aed_id: str, incident_id: str) -> None:
        self.released.append(aed_id)


class AedUse:
    def start_use(self, aed_id: str, incident_id: str, now: datetime) -> object:
        return None

    def end_use(self, aed_id: str, incident_id: str, now: datetime) -> object:
        return None


def responder(sub: str) -> Caller:
    return Caller(sub=sub, roles=frozenset({"responder"}))


def answer(store: LaxIncidents, outbox: Outbox, sub: str, action: str = "accept") -> Assignment | None:
    return respond(store, outbox, responder(sub), INCIDENT, action, POLICY, T0 + timedelta(seconds=30))


# --- (a) points only for those who went ------------------------------------------------------------


def test_decline_close_and_the_decliner_has_no_points() -> None:
    store, outbox = LaxIncidents(), Outbox()
    store.open_incident()
    for rid, metres in (("went", 100), ("declined", 150), ("ignored", 200)):
        store.alerted(rid, offset(metres))
    answer(store, outbox, "went")
    answer(store, outbox, "declined", "decline")
    record_event(
        store, AedUse(), responder("went"), INCIDENT, "arrived", None, None, T0 + timedelta(minutes=3)
    )
    store.close(INCIDENT, "transported", T0 + timedelta(minutes=20))

    finish(store, outbox, Claims(), AedUse(), INCIDENT, POLICY, T0 + timedelta(minutes=20))

    assert store.points("went") == 15  # accepted 5 + arrived 10
    assert store.points("declined") == 0
    assert store.points("ignored") == 0
    assert {a.responder_id for a in store.awarded} == {"went"}


@pytest.mark.parametrize("state", ["declined", "stood_down", "alerted"])
def test_only_an_accepted_alert_earns_the_points_for_accepting(state: str) -> None:
    store = LaxIncidents()
    store.open_incident()
    store.alerted("went", offset(100), state="accepted", role="cpr")
    store.alerted("other", offset(150), state=state)

    awards = credits_for(store, INCIDENT, POLICY)

    assert awards == [Award("went", "accepted", 5)]


def test_a_decliner_cannot_report_an_arrival_to_earn_its_points() -> None:
    store, outbox = LaxIncidents(), Outbox()
    store.open_incident()
    store.alerted("declined", offset(150))
    answer(store, outbox, "declined", "decline")

    with pytest.raises(Conflict) as refused:
        record_event(store, AedUse(), responder("declined"), INCIDENT, "arrived", None, None, T0)

    assert refused.value.code == "not_assigned"
    assert credits_for(store, INCIDENT, POLICY) == []


# --- (b) wave 2 reaches new people ------------------------------------------------------------------

NEAR = {"near-1": offset(100), "near-2": offset(200)}
WIDER = {"wider-1": offset(1200), "wider-2": offset(1300), "wider-3": offset(1900)}


def test_when_the_nearest_ignore_the_alert_wave_two_alerts_the_next_nearest() -> None:
    store, outbox = LaxIncidents(), Outbox()
    store.open_incident()
    for rid, at in NEAR.items():  # wave 1: alerted, never answered
        store.alerted(rid, at)
    geo = Responders({**NEAR, **WIDER})

    result = dispatch_wave(store, geo, outbox, INCIDENT, 2, POLICY, T0 + timedelta(minutes=1))

    assert result == {"alerted": 2}
    assert outbox.to("alert") == ["wider-1", "wider-2"]  # the next two nearest, not wave 1 again
    assert sorted(r for m, r in store.writes if m == "add_alert") == ["wider-1", "wider-2"]  # in parallel
    assert [store.alert(rid).wave for rid in NEAR] == [1, 1]


def test_wave_two_never_rewrites_the_alert_of_someone_who_already_accepted() -> None:
    store, outbox = LaxIncidents(), Outbox()
    box = AedOption("aed-1", *offset(150), "地铁龙翔桥站 AED", "B1 站厅")
    store.open_incident(filled_aed=1, aeds=[box])
    store.alerted("near-1", NEAR["near-1"], state="accepted", role="aed", aed_id="aed-1")
    store.alerted("near-2", NEAR["near-2"])

    dispatch_wave(
        store, Responders({**NEAR, **WIDER}), outbox, INCIDENT, 2, POLICY, T0 + timedelta(minutes=1)
    )

    runner = store.alert("near-1")
    assert (runner.state, runner.role, runner.aed_id, runner.wave) == ("accepted", "aed", "aed-1", 1)
    assert "near-1" not in outbox.to("alert")


# --- (c) the AED runner is the one the AED is on the way for -----------------------------------------

AED_NORTH = AedOption("aed-n", *offset(300), "湖滨银泰 AED", "1F 服务台")


def test_the_first_acceptor_on_the_far_side_of_the_patient_does_cpr_not_the_aed_run() -> None:
    store, outbox = LaxIncidents(), Outbox()
    store.open_incident(aeds=[AED_NORTH])
    store.alerted("south", offset(-400))  # via the AED: 700 m + 300 m instead of 400 m
    store.alerted("past-the-aed", offset(350))  # the AED is on the way: no detour

    first = answer(store, outbox, "south")
    second = answer(store, outbox, "past-the-aed")

    assert first == Assignment(role="cpr", aed=None)
    assert second == Assignment(role="aed", aed=AED_NORTH)


@pytest.mark.parametrize(
    ("where", "role"),
    [
        (offset(300, 100), "aed"),  # 100 m beside the AED: an 84 m detour, under the 200 m floor
        (offset(0, 1200), "aed"),  # 1.2 km east: a 337 m detour, under half of the 1.2 km run
        (offset(0, 400), "cpr"),  # 400 m east: a 400 m detour, over both
        (offset(-1000), "cpr"),  # 1 km south, the AED north: a 600 m detour
    ],
    ids=["beside-the-aed", "far-with-a-small-detour", "400m-east", "1km-beyond-the-patient"],
)
def test_the_aed_run_goes_to_an_acceptor_whose_detour_is_small(where: tuple[float, float], role: str) -> None:
    store, outbox = LaxIncidents(), Outbox()
    store.open_incident(aeds=[AED_NORTH])
    store.alerted("r", where)

    assignment = answer(store, outbox, "r")

    assert assignment is not None and assignment.role == role


def test_once_cpr_is_covered_the_next_acceptor_fetches_the_aed_whatever_the_detour() -> None:
    store, outbox = LaxIncidents(), Outbox()
    store.open_incident(filled_cpr=2, aeds=[AED_NORTH])
    store.alerted("south", offset(-400))

    assignment = answer(store, outbox, "south")

    assert assignment == Assignment(role="aed", aed=AED_NORTH)


# --- (d) the rim of a search is inside it: the search's cover ------------------------------------------

LAT_CELL = 180.0 / (1 << AXIS_BITS)  # the geo index's latitude keys: 30 bits, ~2 cm


def rims_on_cell_edges(count: int) -> list[tuple[tuple[float, float], tuple[float, float], float]]:
    """(centre, responder, radius): the responder exactly on the circle's north or south rim and exactly
    on an edge between two of the index's latitude cells, where a cover cut to the circle's exact
    extent ends one cell short whenever rounding puts the extent a hair inside the rim."""
    first = math.ceil((PATIENT[0] + 90.0) / LAT_CELL)
    cases = []
    for k in range(count):
        edge = -90.0 + (first + 7919 * k) * LAT_CELL
        metres = (300.0, 1000.0, 2000.0, 1234.5)[k % 4]
        side = 1 if k % 2 == 0 else -1
        centre = (edge - side * math.degrees(metres / EARTH_RADIUS_M), PATIENT[1])
        where = (edge, PATIENT[1])
        cases.append((centre, where, haversine_m(*centre, *where)))
    return cases


def test_the_search_cover_holds_every_responder_exactly_on_the_rim() -> None:
    missed = []
    for centre, where, radius in rims_on_cell_edges(200):
        keys = point_keys(*where)
        ranges = cover_circle(*centre, radius).ranges
        if not any(
            keys.columns[r.level] == r.column and r.lat_key_lo <= keys.lat_key <= r.lat_key_hi for r in ranges
        ):
            missed.append(where)
    assert missed == []


# --- (e) an accepted alert keeps its role -------------------------------------------------------------


def test_standing_down_the_rest_leaves_every_acceptor_their_role() -> None:
    store, outbox = LaxIncidents(), Outbox()
    store.open_incident(filled_cpr=2, filled_aed=1, aeds=[AED_NORTH])
    store.alerted("runner", offset(350), state="accepted", role="aed", aed_id="aed-n")
    store.alerted("cpr", offset(100), state="accepted", role="cpr")
    store.alerted("late", offset(600))
    incident = store.get(INCIDENT)
    assert incident is not None

    stood = stand_down_the_rest(store, outbox, incident, POLICY, T0 + timedelta(seconds=40))

    assert stood == 1 and outbox.to("stand_down") == ["late"]
    assert [r for m, r in store.writes if m == "stand_down"] == ["late"]
    assert (store.alert("runner").state, store.alert("runner").role, store.alert("runner").aed_id) == (
        "accepted",
        "aed",
        "aed-n",
    )
    assert (store.alert("cpr").state, store.alert("cpr").role) == ("accepted", "cpr")


def test_accepting_twice_keeps_the_first_role_and_takes_one_slot() -> None:
    store, outbox = LaxIncidents(), Outbox()
    store.open_incident(aeds=[AED_NORTH])
    store.alerted("r", offset(350))

    first = answer(store, outbox, "r")
    again = answer(store, outbox, "r")

    assert first == again == Assignment(role="aed", aed=AED_NORTH)
    assert [m for m, _ in store.writes].count("accept") == 1
    incident = store.get(INCIDENT)
    assert incident is not None and (incident.filled_aed, incident.filled_cpr) == (1, 0)


def test_an_acceptor_who_taps_decline_keeps_the_role() -> None:
    store, outbox = LaxIncidents(), Outbox()
    store.open_incident(aeds=[AED_NORTH])
    store.alerted("r", offset(350))
    answer(store, outbox, "r")

    with pytest.raises(Conflict) as refused:
        answer(store, outbox, "r", "decline")

    assert refused.value.code == "already_answered"
    assert "decline" not in [m for m, _ in store.writes]
    alert = store.get_alert(INCIDENT, "r")
    assert alert is not None and (alert.state, alert.role) == ("accepted", "aed")


# --- (f) no wave 2 once every slot is filled -------------------------------------------------------


def test_no_wave_two_once_every_slot_is_filled() -> None:
    store, outbox = LaxIncidents(), Outbox()
    store.open_incident(filled_cpr=2)  # no AED near: two CPR slots, both taken
    store.alerted("near-1", NEAR["near-1"], state="accepted", role="cpr")
    store.alerted("near-2", NEAR["near-2"], state="accepted", role="cpr")
    geo = Responders({**NEAR, **WIDER})

    assert assess(store, INCIDENT) == {"closed": False, "slots_open": 0, "needs_more": False}
    result = dispatch_wave(store, geo, outbox, INCIDENT, 2, POLICY, T0 + timedelta(minutes=1))

    assert result == {"alerted": 0}
    assert outbox.sent == [] and [m for m, _ in store.writes if m == "add_alert"] == []
    assert set(store.alert_items) == {(INCIDENT, "near-1"), (INCIDENT, "near-2")}


def test_no_wave_two_for_a_closed_incident() -> None:
    store, outbox = LaxIncidents(), Outbox()
    store.open_incident()
    store.alerted("near-1", NEAR["near-1"])
    store.close(INCIDENT, "false_alarm", T0 + timedelta(seconds=20))

    result = dispatch_wave(store, Responders(WIDER), outbox, INCIDENT, 2, POLICY, T0 + timedelta(minutes=1))

    assert result == {"alerted": 0} and outbox.sent == []


def test_a_full_rescue_is_never_declared_unanswered() -> None:
    """The workflow reaches Unanswered also when an assessment failed: with every slot filled, the
    dispatch centre is not told that nobody is coming."""
    store, outbox = LaxIncidents(), Outbox()
    store.open_incident(filled_cpr=2)
    store.alerted("near-1", NEAR["near-1"], state="accepted", role="cpr")
    store.alerted("near-2", NEAR["near-2"], state="accepted", role="cpr")

    result = declare_unanswered(store, outbox, INCIDENT, T0 + timedelta(minutes=2))

    assert result == {"unanswered": False, "declared": False}
    assert outbox.dispatch_centre == [] and not store.incidents[INCIDENT].unanswered
