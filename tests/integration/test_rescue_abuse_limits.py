"""Nobody can page the city's volunteers: an SOS source (IP address, device) has a cap per window, a
429 with Retry-After beyond it, and never a refusal of its first SOS or of a retry; a responder gets at
most so many alerts from public SOS an hour, and none at all while in another rescue."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from shared import wiring
from shared.dal.models.rescue import IncidentModel
from shared.logic.rescue.limits import alert_limits
from shared.logic.rescue.ports import Incident
from tests.integration.rescue_helpers import PATIENT, dispatcher, finished, north_of, responder, sent


@pytest.fixture(autouse=True)
def mid_window():
    """Windows are fixed (10 minutes for sources, the hour and the day for alerts): each test starts
    a minute into all of them, so none turns over under it whatever the hour it runs at."""
    with time_machine.travel(datetime(2026, 12, 6, 3, 1, tzinfo=ZoneInfo("Asia/Shanghai")), tick=True):
        yield


@pytest.fixture
def limits(monkeypatch: pytest.MonkeyPatch):
    """Set the deployment's abuse limits for one test (the rescue functions read wiring.policy())."""
    base = wiring.policy()

    def set_limits(**changes: int) -> None:
        policy = dataclasses.replace(base, **changes)
        monkeypatch.setattr(wiring, "policy", lambda: policy)

    return set_limits


def raise_sos(api, at=PATIENT, *, ip="203.0.113.9", device=None, key=None):
    headers = {**({"X-Device-Id": device} if device else {}), **({"Idempotency-Key": key} if key else {})}
    return api("POST", "/v1/sos", {"lat": at[0], "lng": at[1]}, headers=headers, source_ip=ip)


def incidents() -> int:
    return len(list(IncidentModel.scan()))


def test_a_source_over_its_cap_gets_429_with_retry_after_and_nothing_stored(api, limits):
    limits(sos_per_ip=3)
    assert [raise_sos(api, north_of(*PATIENT, 300 * i)).status for i in range(3)] == [202] * 3
    refused = raise_sos(api, north_of(*PATIENT, 1200))
    assert refused.status == 429, refused.body
    assert refused.body["error"]["code"] == "rate_limited"
    assert "120" in refused.body["error"]["message"]  # the caller is told where else to turn
    assert 1 <= int(refused.headers["Retry-After"]) <= 600
    assert incidents() == 3
    assert raise_sos(api, ip="198.51.100.7").status == 202  # another source is not touched
    assert incidents() == 4


def test_the_first_sos_of_a_source_and_its_retries_always_pass(api, limits):
    limits(sos_per_ip=1)
    first = raise_sos(api, key="k-1")
    assert first.status == 202
    retry = raise_sos(api, key="k-1")  # the app retries the same SOS: the same incident, not a 429
    assert (retry.status, retry.body["incident_id"]) == (202, first.body["incident_id"])
    assert raise_sos(api, key="k-2").status == 429
    assert incidents() == 1


def test_a_device_is_capped_whatever_address_it_comes_from(api, limits):
    limits(sos_per_device=2)
    assert raise_sos(api, ip="198.51.100.1", device="phone-a").status == 202
    assert raise_sos(api, north_of(*PATIENT, 500), ip="198.51.100.2", device="phone-a").status == 202
    assert raise_sos(api, north_of(*PATIENT, 900), ip="198.51.100.3", device="phone-a").status == 429
    assert raise_sos(api, north_of(*PATIENT, 900), ip="198.51.100.3", device="phone-b").status == 202


def test_a_responder_gets_at_most_the_hourly_cap_of_alerts_and_the_next_nearest_takes_their_place(
    api, limits
):
    limits(alerts_per_hour=2, alerts_per_day=8, sos_per_ip=100)
    near = responder(api, at=north_of(*PATIENT, 50))
    farther = responder(api, at=north_of(*PATIENT, 400))
    for i in range(3):  # three patients, 60 m apart: no SOS joins another
        assert raise_sos(api, north_of(*PATIENT, 60 * i), ip=f"198.51.100.{i}", device=f"d{i}").status == 202
    alerts_to = [m["to"] for m in sent(kind="alert")]
    assert alerts_to.count(near) == 2  # capped
    assert alerts_to.count(farther) == 2  # wave size 10 takes both while they are under the cap
    limits(alerts_per_hour=2, wave1_size=1, sos_per_ip=100)
    fourth = raise_sos(api, north_of(*PATIENT, 180), ip="198.51.100.9")
    assert fourth.status == 202
    view = dispatcher(api, "GET", f"/v1/incidents/{fourth.body['incident_id']}").body
    assert view["alerts"] == []  # both are at their cap: nobody alerted beyond it


def test_a_responder_in_a_rescue_is_not_alerted_to_another_until_it_closes(api, aws, limits):
    limits(sos_per_ip=100)
    busy = responder(api, at=north_of(*PATIENT, 50))
    other = responder(api, at=north_of(*PATIENT, 300))
    first = raise_sos(api, ip="198.51.100.1").body["incident_id"]
    assert api("POST", f"/v1/incidents/{first}/responses", {"action": "accept"}, sub=busy).status == 200
    second = raise_sos(api, north_of(*PATIENT, 100), ip="198.51.100.2").body["incident_id"]
    alerted = {a["responder_id"] for a in dispatcher(api, "GET", f"/v1/incidents/{second}").body["alerts"]}
    assert busy not in alerted and other in alerted
    assert dispatcher(api, "POST", f"/v1/incidents/{first}/close", {"outcome": "transported"}).status == 200

    assert finished(aws, first)["status"] == "SUCCEEDED"  # its finish frees whoever helped
    third = raise_sos(api, north_of(*PATIENT, 150), ip="198.51.100.3").body["incident_id"]
    alerted = {a["responder_id"] for a in dispatcher(api, "GET", f"/v1/incidents/{third}").body["alerts"]}
    assert busy in alerted


def test_only_a_public_sos_is_capped() -> None:
    policy = wiring.policy()
    at = datetime(2026, 12, 6, 3, 0, tzinfo=UTC)
    public = Incident("i-1", "dispatching", 30.0, 120.0, at, 2, 0)
    by_dispatcher = dataclasses.replace(public, created_by="dispatcher-1")
    assert alert_limits(public, policy, at).per_hour == policy.alerts_per_hour
    assert alert_limits(by_dispatcher, policy, at).per_hour is None
