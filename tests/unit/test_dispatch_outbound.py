"""The status webhooks' rules on a frozen clock, with the stores faked: what a centre hears of an incident
and in what order, who hears it, how a failure holds back what follows, the back-off, the 24 h after which
a webhook is parked and the sequence goes on, replays, and signatures the centre's library accepts."""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

import pytest
from standardwebhooks import Webhook

from shared.errors import Conflict, NotFound
from shared.logic.dispatch import outbound
from shared.logic.dispatch.outbound import Delivery, DeliveryPage, Posted
from shared.logic.dispatch.ports import DispatchCentre, SigningSecrets
from shared.logic.dispatch.signatures import new_secret
from shared.logic.dispatch.status import recipients, responder_ref, status_events
from shared.logic.rescue.ports import Alert, Incident, IncidentEvent

T0 = datetime(2026, 12, 5, 19, 0, tzinfo=UTC)  # Sunday 03:00 in Hangzhou
POINTS = {"accepted": 5, "arrived": 10, "cpr_started": 20, "aed_attached": 20, "shock_delivered": 10}
SECRET = new_secret()
HZ = DispatchCentre(
    "hz120", "杭州市急救中心", "https://cad.example/hooks", [119.9, 30.0, 120.5, 30.5], T0, T0, "v1"
)
NB = DispatchCentre(
    "nb120", "宁波市急救中心", "https://nb.example/hooks", [121.4, 29.7, 121.8, 30.0], T0, T0, "v1"
)


def incident(**changes) -> Incident:
    base = Incident("01INC", "responding", 30.259, 120.1605, T0, slots_cpr=2, slots_aed=1, alerted=2)
    return replace(base, **changes)


def alert(
    responder_id: str, distance: float, *, role: str | None = None, at: timedelta = timedelta(0)
) -> Alert:
    answered = T0 + timedelta(seconds=20) + at if role else None
    return Alert(
        "01INC",
        responder_id,
        "accepted" if role else "alerted",
        1,
        distance,
        30.26,
        120.16,
        T0,
        role=role,
        answered_at=answered,
        phone="+8613900000000",
    )


def step(responder_id: str, kind: str, seconds: int, event_id: str) -> IncidentEvent:
    return IncidentEvent("01INC", event_id, kind, responder_id, "responder", T0 + timedelta(seconds=seconds))


# --- what is heard --------------------------------------------------------------------------------


def test_a_centres_incident_is_heard_alerting_then_accepts_then_steps_then_the_close():
    alerts = [alert("r-cpr", 80.4, role="cpr"), alert("r-run", 151.6, role="aed", at=timedelta(seconds=5))]
    events = [
        step("r-cpr", "arrived", 90, "E1"),
        step("r-cpr", "cpr_started", 95, "E2"),
        IncidentEvent("01INC", "E3", "ems_arrived", "disp-1", "dispatcher", T0 + timedelta(seconds=300)),
    ]
    closed = incident(
        source="dispatch",
        centre_id="hz120",
        cad_incident_no="HZ-1",
        status="closed",
        outcome="rosc",
        closed_at=(T0 + timedelta(seconds=400)).isoformat(),
        credits_awarded=True,
        credits_points=55,
    )
    found = status_events(closed, alerts, events, POINTS)
    assert [e.type for e in found] == [
        "incident.alerting",
        "responder.accepted",
        "responder.accepted",
        "responder.arrived",
        "responder.cpr_started",
        "incident.closed",
    ]
    assert found[1].data == {
        "responder_ref": responder_ref("01INC", "r-cpr"),
        "role": "cpr",
        "distance_m": 80,
    }
    assert found[-1].data == {"outcome": "rosc", "credits_awarded": 55}
    # a dispatcher's own event (the ambulance) is not told back; nobody's id is in what is told
    assert "r-cpr" not in json.dumps([e.data for e in found]) and responder_ref(
        "01INC", "r-cpr"
    ) != responder_ref("01OTHER", "r-cpr")


def test_the_close_is_heard_at_once_with_the_points_the_finish_gives_and_a_merged_sos_never():
    alerts = [alert("r-cpr", 80, role="cpr"), alert("r-run", 150, role="aed"), alert("r-no", 300)]
    events = [
        step("r-cpr", "arrived", 90, "E1"),
        step("r-cpr", "arrived", 91, "E1b"),
        step("r-run", "aed_attached", 99, "E2"),
    ]
    closed = incident(status="closed", outcome="rosc", closed_at=T0.isoformat())
    # before the finish: what the records earn (accepts 5 + 5, an arrival 10, the AED 20; no repeat)
    assert status_events(closed, alerts, events, POINTS)[-1].data == {
        "outcome": "rosc",
        "credits_awarded": 40,
    }
    # after it: what the incident says was given
    settled = replace(closed, credits_awarded=True, credits_points=35)
    assert status_events(settled, alerts, events, POINTS)[-1].data == {
        "outcome": "rosc",
        "credits_awarded": 35,
    }
    assert status_events(closed, [], [], POINTS)[-1].data == {"outcome": "rosc", "credits_awarded": 0}
    merged = incident(status="merged", merged_into="01EARLIER")
    assert status_events(merged, [alert("r", 50)], [], POINTS) == []


def test_a_public_sos_opens_with_incident_created_and_an_unanswered_one_says_so():
    found = status_events(
        incident(unanswered=True),
        [alert("r1", 300), alert("r2", 500)],
        [IncidentEvent("01INC", "E9", "unanswered", None, "system", T0 + timedelta(seconds=61))],
        POINTS,
    )
    assert [e.type for e in found] == ["incident.created", "incident.alerting", "incident.unanswered"]
    assert found[0].data["lat"] == 30.259 and found[2].data == {"alerted": 2}


def test_who_hears_a_centres_incident_and_a_public_sos():
    ningbo_patient = incident(lat=29.87, lng=121.55)
    assert recipients(incident(), [HZ, NB]) == [HZ]
    assert recipients(ningbo_patient, [HZ, NB]) == [NB]
    # the centre that raised it hears it even outside its area; no other centre does
    raised = replace(ningbo_patient, source="dispatch", centre_id="hz120")
    assert recipients(raised, [HZ, NB]) == [HZ]


# --- delivering -------------------------------------------------------------------------------------


@dataclass
class Log:
    items: dict[tuple[str, str], Delivery] = field(default_factory=dict)

    def of_incident(self, centre_id, incident_id):
        return [d for (c, _), d in self.items.items() if c == centre_id and d.incident_id == incident_id]

    def add(self, delivery):
        return self.items.setdefault((delivery.centre_id, delivery.webhook_id), delivery)

    def tried(self, delivery):
        self.items[(delivery.centre_id, delivery.webhook_id)] = delivery

    def get(self, centre_id, webhook_id):
        return self.items.get((centre_id, webhook_id))

    def page(self, centre_id, status, limit, next_token):
        return DeliveryPage(
            [d for (c, _), d in self.items.items() if c == centre_id and d.status == status], None
        )

    def replay(self, delivery, now):
        if delivery.status == "pending":
            return None
        again = replace(
            delivery, status="pending", due_from=now, attempts=0, failed_at=None, replays=delivery.replays + 1
        )
        self.tried(again)
        return again


@dataclass
class Centre:
    """The centre's end: answers as scripted (ok unless told otherwise), keeps what it took."""

    down: bool = False
    posts: list[tuple[dict, str]] = field(default_factory=list)

    def post(self, url, headers, body, timeout_s):
        self.posts.append((headers, body))
        return Posted(False, "HTTP 503") if self.down else Posted(True, "HTTP 204")

    def took(self) -> list[str]:
        return [json.loads(body)["type"] for _, body in self.posts]


@dataclass
class Records:
    incident: Incident
    alerted: list[Alert]

    def get(self, incident_id):
        return self.incident

    def alerts(self, incident_id):
        return self.alerted

    def events(self, incident_id):
        return []


class Secrets:
    def read(self, centre_id, version):
        return SigningSecrets("v1", SECRET)

    def write(self, centre_id, secrets):
        raise AssertionError("a run never writes secrets")


@dataclass
class Parked:
    parked: list[Delivery] = field(default_factory=list)

    def park(self, delivery):
        self.parked.append(delivery)


class Centres:
    def all(self):
        return [HZ, NB]


def run(log, centre, records, parked, at, time_left_s=60.0):
    out = outbound.Outbound(
        records,
        Centres(),
        log,
        Secrets(),
        centre,
        parked,
        lambda: at,
        lambda: time_left_s,
        30 * 86400,
        POINTS,
    )
    return outbound.run("01INC", out)


def accepted_incident() -> Records:
    return Records(
        incident(), [alert("r1", 100, role="cpr"), alert("r2", 200, role="aed", at=timedelta(seconds=3))]
    )


def test_each_webhook_is_signed_so_the_centres_library_verifies_it_and_sent_once():
    log, centre, parked = Log(), Centre(), Parked()
    assert run(log, centre, accepted_incident(), parked, T0 + timedelta(minutes=1)).sent == 4
    assert centre.took() == [
        "incident.created",
        "incident.alerting",
        "responder.accepted",
        "responder.accepted",
    ]
    for headers, body in centre.posts:
        with _frozen(T0 + timedelta(minutes=1)):
            assert Webhook(SECRET).verify(body, headers)["data"]["incident_id"] == "01INC"
        assert int(headers["webhook-timestamp"]) == int((T0 + timedelta(minutes=1)).timestamp())
    assert run(log, centre, accepted_incident(), parked, T0 + timedelta(minutes=2)).sent == 0  # nothing twice


def test_a_failure_holds_back_everything_after_it_with_a_doubling_back_off():
    log, centre, parked = Log(), Centre(down=True), Parked()
    delays = [
        run(log, centre, accepted_incident(), parked, T0 + timedelta(minutes=m)).retry_after_s
        for m in range(9)
    ]
    assert delays == [30, 60, 120, 240, 480, 960, 1920, 3600, 3600]
    assert set(centre.took()) == {"incident.created"}  # only the first was ever tried
    centre.down = False
    assert run(log, centre, accepted_incident(), parked, T0 + timedelta(hours=2)).retry_after_s is None
    assert centre.took()[-4:] == [
        "incident.created",
        "incident.alerting",
        "responder.accepted",
        "responder.accepted",
    ]
    assert outbound.retry_delay_s(3, first_s=1) == 4


def test_after_24_hours_of_failures_a_webhook_is_parked_and_the_sequence_goes_on():
    log, centre, parked = Log(), Centre(down=True), Parked()
    run(log, centre, accepted_incident(), parked, T0)
    just_before = run(
        log, centre, accepted_incident(), parked, T0 + timedelta(hours=24) - timedelta(seconds=1)
    )
    assert just_before.retry_after_s is not None and parked.parked == []
    at_24h = run(log, centre, accepted_incident(), parked, T0 + timedelta(hours=24))
    # the head and then each of the others in turn: every one had been due since T0
    assert at_24h.parked == 4 and parked.parked[0].type == "incident.created"
    assert all(d.status == "failed" and d.failed_at == T0 + timedelta(hours=24) for d in parked.parked)


def test_a_replay_is_due_again_for_24_hours_under_the_same_webhook_id():
    log, centre, parked = Log(), Centre(down=True), Parked()
    run(log, centre, accepted_incident(), parked, T0)
    run(log, centre, accepted_incident(), parked, T0 + timedelta(hours=25))
    head = parked.parked[0]
    queued: list[tuple] = []

    class Queue:
        def changed(self, incident_id, dedup_id, centre_id=None):
            queued.append((incident_id, dedup_id, centre_id))

    again = outbound.replay(log, Queue(), "hz120", head.webhook_id, T0 + timedelta(hours=30))
    assert (again.status, again.replays, again.attempts, again.due_from) == (
        "pending",
        1,
        0,
        T0 + timedelta(hours=30),
    )
    assert queued == [("01INC", f"{head.webhook_id}.replay1", "hz120")]
    with pytest.raises(Conflict):
        outbound.replay(log, Queue(), "hz120", head.webhook_id, T0 + timedelta(hours=30))
    with pytest.raises(NotFound):
        outbound.replay(log, Queue(), "hz120", "msg_nope", T0)
    centre.down = False
    run(log, centre, accepted_incident(), parked, T0 + timedelta(hours=30))
    assert centre.posts[-1][0]["webhook-id"] == head.webhook_id


def test_a_run_short_of_time_posts_nothing_more_and_asks_to_go_on_at_once():
    log, centre, parked = Log(), Centre(), Parked()
    result = run(log, centre, accepted_incident(), parked, T0, time_left_s=3.0)
    assert (result.sent, result.retry_after_s, centre.posts) == (0, 1, [])


def _frozen(at: datetime):
    import time_machine

    return time_machine.travel(at, tick=False)


# --- the trigger ----------------------------------------------------------------------------------


def test_the_trigger_queues_one_run_per_changed_incident_and_none_for_a_ttl_removal():
    from functions.dispatch_changes.handler import changed_incidents

    def record(name: str, incident_id: str, seq: str, table: str) -> dict:
        arn = f"arn:aws-cn:dynamodb:cn-north-1:111122223333:table/{table}/stream/2026-12-01T00:00:00.000"
        keys = {"incident_id": {"S": incident_id}}
        return {"eventName": name, "eventSourceARN": arn, "dynamodb": {"Keys": keys, "SequenceNumber": seq}}

    event = {
        "Records": [
            record("INSERT", "A", "100", "incidents"),
            record("MODIFY", "B", "101", "incidents"),
            record("INSERT", "A", "7", "events"),
            record("REMOVE", "C", "102", "incidents"),  # a finished rescue's record gone by TTL
        ]
    }
    assert changed_incidents(event) == [("B", "B.incidents.101", None), ("A", "A.events.7", None)]
