"""Status webhooks to the 120 centres, end to end on the embedded AWS: the real handlers, the tables'
streams and the FIFO queue polled as Lambda's event sources poll them, a centre's receiver on a loopback
port verifying every signature with the ``standardwebhooks`` package. What the centre hears, in what
order, what it never hears (a responder's id, phone or position), and what happens while it is down."""

from __future__ import annotations

import json
from collections.abc import Iterator

import boto3
import pytest

from cli.dispatch_simulate import Received, Receiver, in_order
from shared.config import settings
from tests.conftest import Api
from tests.integration.dispatch_helpers import ADMIN, Centre, register
from tests.integration.rescue_helpers import PATIENT, dispatcher, finished, north_of, responder, sos, until

pytestmark = pytest.mark.usefixtures("pollers")


@pytest.fixture
def pollers(aws) -> None:
    aws.start_pollers()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    running = Receiver().start()
    try:
        yield running
    finally:
        running.stop()


def listening_centre(api: Api, receiver: Receiver, centre_id: str = "hz120", **changes) -> Centre:
    reply = register(api, centre_id, callback_url=receiver.url, **changes)
    assert reply.status == 200, reply.body
    receiver.secret = reply.body["secret"]
    return Centre(api, centre_id, receiver.secret)


def types(received: list[Received]) -> list[str]:
    return [r.type for r in received]


def heard(receiver: Receiver, *wanted: str, deadline_s: float = 30) -> list[Received]:
    """What arrived once the webhooks of these types have (each as often as named)."""

    def done(received: list[Received]) -> bool:
        got = types(received)
        return all(got.count(kind) >= list(wanted).count(kind) for kind in set(wanted))

    assert receiver.wait_for(done, deadline_s), f"wanted {wanted}, heard {types(receiver.received)}"
    return list(receiver.received)


def test_a_centres_incident_is_told_back_signed_in_order_and_nobody_is_named(api, aws, receiver):
    hz = listening_centre(api, receiver)
    near = [responder(api, at=north_of(*PATIENT, 80 + 70 * i)) for i in range(3)]
    incident_id = hz.incident("HZ-STATUS-1").body["incident_id"]
    cpr, runner = near[0], near[1]
    for rid in (cpr, runner):
        reply = api("POST", f"/v1/incidents/{incident_id}/responses", {"action": "accept"}, sub=rid)
        assert reply.status == 200, reply.body
    for rid, step in ((cpr, "arrived"), (cpr, "cpr_started")):
        assert api("POST", f"/v1/incidents/{incident_id}/events", {"type": step}, sub=rid).status == 200
    assert hz.update("HZ-STATUS-1", "closed", "transported").status == 200
    assert finished(aws, incident_id)["status"] == "SUCCEEDED"

    received = heard(
        receiver,
        "incident.alerting",
        "responder.accepted",
        "responder.accepted",
        "responder.arrived",
        "responder.cpr_started",
        "incident.closed",
    )
    assert types(received) == [
        "incident.alerting",
        "responder.accepted",
        "responder.accepted",
        "responder.arrived",
        "responder.cpr_started",
        "incident.closed",
    ]
    assert all(r.verified for r in received) and receiver.duplicates == 0
    assert in_order(received)
    data = [r.payload["data"] for r in received]
    assert all(d["incident_id"] == incident_id and d["cad_incident_no"] == "HZ-STATUS-1" for d in data)
    assert data[0]["alerted"] == 3
    accepted = [d for r, d in zip(received, data, strict=True) if r.type == "responder.accepted"]
    assert sorted(d["role"] for d in accepted) == ["aed", "cpr"] or sorted(d["role"] for d in accepted) == [
        "cpr",
        "cpr",
    ]
    assert sorted(d["distance_m"] for d in accepted) == [80, 150]
    # The same volunteer is the same reference in their accept and their steps, and no id of theirs.
    cpr_ref = next(d["responder_ref"] for d in accepted if d["distance_m"] == 80)
    assert data[3]["responder_ref"] == data[4]["responder_ref"] == cpr_ref
    closed = data[-1]
    points = {rid: api("GET", f"/v1/responders/{rid}/credits", sub=rid).body["items"] for rid in near}
    timeline = dispatcher(api, "GET", f"/v1/incidents/{incident_id}/timeline").body["items"]
    given = sum(c["points"] for items in points.values() for c in items if c["incident_id"] == incident_id)
    # told at the close, before the workflow's finish gave them: the same points
    assert closed["outcome"] == "transported" and closed["credits_awarded"] == given > 0, (points, timeline)
    everything = "".join(r.body for r in received)
    for rid in near:
        phone = api("GET", f"/v1/responders/{rid}", sub=rid).body["phone"]
        assert rid not in everything and phone not in everything
    assert str(north_of(*PATIENT, 80)[0]) not in everything  # nobody's position either
    # Each webhook-id is the same for the event whatever the try, so the centre can deduplicate.
    assert len({r.headers["webhook-id"] for r in received}) == len(received)


def test_a_public_sos_in_a_centres_area_is_told_to_it_and_not_to_a_centre_elsewhere(api, receiver):
    listening_centre(api, receiver)
    with Receiver().start() as elsewhere_receiver:
        listening_centre(api, elsewhere_receiver, "nb120", area=[121.4, 29.7, 121.8, 30.0])  # Ningbo
        responder(api, at=north_of(*PATIENT, 90))
        incident_id = sos(api).body["incident_id"]
        received = heard(receiver, "incident.created", "incident.alerting")
        created = received[0]
        assert created.type == "incident.created" and created.verified
        assert created.payload["data"]["incident_id"] == incident_id
        assert (created.payload["data"]["lat"], created.payload["data"]["lng"]) == PATIENT
        assert "cad_incident_no" not in created.payload["data"]
        # Ningbo heard nothing of it: its log holds nothing at all for the incident.
        log = api("GET", "/v1/dispatch/centres/nb120/deliveries", query={"status": "pending"}, **ADMIN)
        delivered = api(
            "GET", "/v1/dispatch/centres/nb120/deliveries", query={"status": "delivered"}, **ADMIN
        )
        assert log.body["items"] == [] and delivered.body["items"] == []
        assert elsewhere_receiver.received == []


def test_while_the_centre_is_down_nothing_overtakes_the_first_webhook_and_all_arrive_once_it_is_up(
    api, receiver
):
    hz = listening_centre(api, receiver)
    near = [responder(api, at=north_of(*PATIENT, 100 + 50 * i)) for i in range(2)]
    receiver.fail_with = 503
    incident_id = hz.incident("HZ-DOWN").body["incident_id"]
    for rid in near:
        api("POST", f"/v1/incidents/{incident_id}/responses", {"action": "accept"}, sub=rid)

    def failing() -> list[dict]:
        items = api(
            "GET", "/v1/dispatch/centres/hz120/deliveries", query={"status": "pending"}, **ADMIN
        ).body["items"]
        return [i for i in items if i["attempts"] >= 2] and items

    pending = until(failing, what="the first webhook tried twice and refused")
    first = next(i for i in pending if i["attempts"] >= 2)
    assert first["type"] == "incident.alerting" and first["last_result"] == "HTTP 503"
    assert all(i["attempts"] == 0 for i in pending if i is not first)  # nothing went before it

    receiver.fail_with = None
    received = heard(receiver, "incident.alerting", "responder.accepted", "responder.accepted")
    assert types(received) == ["incident.alerting", "responder.accepted", "responder.accepted"]
    assert all(r.verified for r in received)
    assert until(
        lambda: (
            api("GET", "/v1/dispatch/centres/hz120/deliveries", query={"status": "pending"}, **ADMIN).body[
                "items"
            ]
            == []
        ),
        what="nothing left pending",
    )


def test_a_parked_webhook_is_listed_alarmed_and_replayed_by_an_admin(api, receiver, monkeypatch):
    """24 h of failures is the rule (tests/unit/test_dispatch_outbound.py walks it on a frozen clock);
    here the retry window is made 0 so the first failure parks, to see what ops then see and do."""
    from shared.logic.dispatch import outbound

    monkeypatch.setattr(outbound, "RETRY_FOR", outbound.RETRY_FOR * 0)
    hz = listening_centre(api, receiver)
    responder(api, at=north_of(*PATIENT, 100))
    receiver.fail_with = 500
    incident_id = hz.incident("HZ-PARK").body["incident_id"]

    def parked() -> list[dict]:
        return api("GET", "/v1/dispatch/centres/hz120/deliveries", query={"status": "failed"}, **ADMIN).body[
            "items"
        ]

    failed = until(parked, what="the webhook parked")[0]
    assert failed["type"] == "incident.alerting" and failed["incident_id"] == incident_id
    assert failed["failed_at"] and failed["last_result"] == "HTTP 500"
    assert failed["payload"]["data"]["cad_incident_no"] == "HZ-PARK"
    sqs = boto3.client("sqs")
    dead = sqs.receive_message(QueueUrl=settings().status_parked_queue_url, MaxNumberOfMessages=10)
    told = [json.loads(m["Body"]) for m in dead.get("Messages", [])]
    assert [(t["centre_id"], t["delivery_id"]) for t in told] == [("hz120", failed["delivery_id"])]

    receiver.fail_with = None
    path = f"/v1/dispatch/centres/hz120/deliveries/{failed['delivery_id']}/replay"
    replayed = api("POST", path, {"reason": "the CAD was down for maintenance"}, **ADMIN)
    assert replayed.status == 200 and replayed.body["status"] == "pending" and replayed.body["replays"] == 1
    received = heard(receiver, "incident.alerting")
    assert received[0].headers["webhook-id"] == failed["delivery_id"] and received[0].verified
    assert until(lambda: parked() == [], what="the replayed webhook off the failed list")
    again = api("POST", "/v1/dispatch/centres/hz120/deliveries/msg_nothing/replay", {}, **ADMIN)
    assert again.status == 404


def test_only_an_admin_lists_or_replays_deliveries(api):
    for roles in ((), ("dispatcher",), ("responder",)):
        listed = api("GET", "/v1/dispatch/centres/hz120/deliveries", sub="someone", roles=roles)
        replay = api(
            "POST", "/v1/dispatch/centres/hz120/deliveries/msg_x/replay", {}, sub="someone", roles=roles
        )
        assert listed.status == replay.status == 403, (roles, listed.body)
    wrong = api("GET", "/v1/dispatch/centres/hz120/deliveries", query={"status": "lost"}, **ADMIN)
    assert wrong.status == 422
    bad_token = api("GET", "/v1/dispatch/centres/hz120/deliveries", query={"next_token": "nope"}, **ADMIN)
    assert bad_token.status == 422


def test_a_dispatchers_console_is_unchanged_by_the_webhooks(api, receiver):
    """The webhooks read; they write only their own log: the incident's list entry is the dispatcher's."""
    hz = listening_centre(api, receiver)
    responder(api, at=north_of(*PATIENT, 100))
    incident_id = hz.incident("HZ-CONSOLE").body["incident_id"]
    heard(receiver, "incident.alerting")
    listed = dispatcher(api, "GET", "/v1/incidents").body["items"]
    assert [i["incident_id"] for i in listed] == [incident_id]
