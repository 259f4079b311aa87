"""The rescue workflow's real ASL, executed by moto against the real step handlers: waves, the
unanswered escalation, self-closing, and delivery that survives SNS faults and crashed handlers."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest
from moto.core import DEFAULT_ACCOUNT_ID
from moto.sns.models import sns_backends

from shared import wiring
from shared.dal.models.rescue import IncidentModel
from tests.integration.rescue_helpers import (
    PATIENT,
    dispatcher,
    finished,
    north_of,
    responder,
    sent,
    sos,
    until,
)


@pytest.fixture
def policy(monkeypatch):
    """Change the deployment's dispatch policy for one test (the handlers read it from wiring.policy())."""

    def set_policy(**changes: Any) -> None:
        changed = replace(wiring.policy(), **changes)
        monkeypatch.setattr(wiring, "policy", lambda: changed)

    return set_policy


def dispatch_centre_messages(aws) -> list[dict[str, Any]]:
    topic = sns_backends[DEFAULT_ACCOUNT_ID]["cn-north-1"].topics[aws.dispatch_topic_arn]
    return [json.loads(n[1]) for n in topic.sent_notifications]


def test_wave_two_widens_then_unanswered_tells_the_dispatch_centre(api, aws):
    near = [responder(api, at=north_of(*PATIENT, 300 + 100 * i)) for i in range(2)]
    wider = [responder(api, at=north_of(*PATIENT, 1500 + 100 * i)) for i in range(3)]
    incident_id = sos(api).body["incident_id"]
    assert sorted(m["to"] for m in sent(kind="alert")) == sorted(near)
    until(lambda: len(sent(kind="alert")) == 5, what="wave 2")
    assert sorted(m["to"] for m in sent(kind="alert")) == sorted(near + wider)  # nobody twice
    until(lambda: IncidentModel.get(incident_id).unanswered, what="the unanswered mark")
    messages = until(lambda: dispatch_centre_messages(aws), what="the dispatch centre message")
    assert [(m["incident_id"], m["kind"]) for m in messages] == [(incident_id, "unanswered")]
    view = dispatcher(api, "GET", f"/v1/incidents/{incident_id}").body
    assert view["unanswered"] is True and view["status"] == "dispatching"
    assert [e["type"] for e in view["events"]] == ["unanswered"]


def test_filled_slots_after_wave_one_mean_no_wave_two(api, aws):
    near = [responder(api, at=north_of(*PATIENT, 100 + 50 * i)) for i in range(2)]
    wider = responder(api, at=north_of(*PATIENT, 1500))
    incident_id = sos(api).body["incident_id"]
    for rid in near:
        assert (
            api("POST", f"/v1/incidents/{incident_id}/responses", {"action": "accept"}, sub=rid).status == 200
        )
    dispatcher(api, "POST", f"/v1/incidents/{incident_id}/close", {"outcome": "false_alarm"})
    assert finished(aws, incident_id)["status"] == "SUCCEEDED"
    assert not sent(to=wider)


def test_an_incident_left_open_closes_itself_as_expired(api, aws, policy):
    policy(incident_expire_s=2)
    rid = responder(api, at=north_of(*PATIENT, 100))
    incident_id = sos(api).body["incident_id"]
    assert finished(aws, incident_id)["status"] == "SUCCEEDED"
    stored = IncidentModel.get(incident_id)
    assert (stored.status, stored.outcome) == ("closed", "expired")
    assert [m["kind"] for m in sent(to=rid)] == ["alert", "stand_down"]
    late = dispatcher(api, "POST", f"/v1/incidents/{incident_id}/close", {"outcome": "rosc"})
    assert late.status == 409


class FailingPublishes:
    """SNS refuses Publish to the chosen phone numbers a number of times (a botocore hook on the
    notifier's client, so the real client code path runs)."""

    def __init__(self, phones: set[str], times: int) -> None:
        self.phones, self.left = phones, {p: times for p in phones}
        self.client = wiring.notifier().client

    def __call__(self, params: dict[str, Any], **_: Any) -> None:
        phone = params.get("PhoneNumber")
        if phone in self.left and self.left[phone] > 0:
            self.left[phone] -= 1
            raise ConnectionError(f"SNS unreachable for {phone}")

    def __enter__(self) -> FailingPublishes:
        self.client.meta.events.register("provide-client-params.sns.Publish", self)
        return self

    def __exit__(self, *_: Any) -> None:
        self.client.meta.events.unregister("provide-client-params.sns.Publish", self)


def test_sns_failing_for_some_responders_does_not_stop_the_others_and_is_retried(api, aws):
    rids = [responder(api, at=north_of(*PATIENT, 100 + 50 * i)) for i in range(4)]
    phones = {api("GET", f"/v1/responders/{rid}", sub=rid).body["phone"]: rid for rid in rids}
    unlucky = next(iter(phones))
    with FailingPublishes({unlucky}, times=2) as faults:
        incident_id = sos(api).body["incident_id"]
        assert sorted(m["to"] for m in sent(kind="alert")) == sorted(set(rids) - {phones[unlucky]})
        until(lambda: sent(to=phones[unlucky], kind="alert"), what="the retried alert")
    assert faults.left[unlucky] == 0
    assert sorted(m["to"] for m in sent(kind="alert")) == sorted(rids)  # exactly one each
    assert all(m["incident_id"] == incident_id for m in sent(kind="alert"))


class Crash(BaseException):
    """A Lambda dying mid-invocation (timeout, out of memory): nothing in the handler catches it."""


def test_an_sos_handler_that_dies_halfway_and_is_retried_alerts_nobody_twice(api, aws, policy):
    policy(notice_lease_s=1)
    rids = [responder(api, at=north_of(*PATIENT, 100 + 50 * i)) for i in range(4)]
    client = wiring.notifier().client
    calls = {"n": 0}

    def die_on_third_publish(**_: Any) -> None:
        calls["n"] += 1
        if calls["n"] == 3:
            raise Crash

    client.meta.events.register("provide-client-params.sns.Publish", die_on_third_publish)
    try:
        with pytest.raises(Crash):
            sos(api, key="tap-once")
    finally:
        client.meta.events.unregister("provide-client-params.sns.Publish", die_on_third_publish)
    retry = sos(api, key="tap-once")  # the app retries with its Idempotency-Key
    assert retry.status == 202
    until(lambda: len(sent(kind="alert")) == 4, what="every alert delivered once")
    assert sorted(m["to"] for m in sent(kind="alert")) == sorted(rids)
    assert len(list(IncidentModel.scan())) == 1
