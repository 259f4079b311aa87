"""Building blocks for rescue-loop tests: responders on duty, AEDs, SOS, the outbox, executions."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3

from local_runtime import outbox
from tests.conftest import Api

PATIENT = (30.2590, 120.1605)  # 湖滨, Hangzhou
METRES_PER_DEG_LAT = 111_195.0


def north_of(lat: float, lng: float, metres: float) -> tuple[float, float]:
    return lat + metres / METRES_PER_DEG_LAT, lng


def responder(
    api: Api, *, at: tuple[float, float], expires_on: str | None = None, on_duty: bool = True
) -> str:
    # By default a certificate valid for years from whatever day the test runs.
    expires_on = expires_on or (datetime.now(UTC) + timedelta(days=3 * 365)).date().isoformat()
    created = api(
        "POST",
        "/v1/responders",
        {
            "name": "志愿者",
            "phone": f"+86139{time.time_ns() % 100_000_000:08d}",
            "certificate_no": "C",
            "certificate_expires_on": expires_on,
        },
        sub="admin",
        roles=("admin",),
    )
    assert created.status == 201, created.body
    rid = created.body["responder_id"]
    if on_duty:
        put = api(
            "PUT", f"/v1/responders/{rid}/presence", {"lat": at[0], "lng": at[1], "available": True}, sub=rid
        )
        assert put.status == 200, put.body
    return str(rid)


def on_duty_records(*responder_ids: str) -> None:
    """Responders on duty for years, for store tests that write alerts without a responder going on duty:
    an alert's transaction checks the record's presence (shared.dal.rescue.add_alert). A record that exists
    keeps everything but its presence."""
    from pynamodb.exceptions import DoesNotExist

    from shared.dal.models.responders import ResponderModel

    until = datetime(2099, 12, 31, tzinfo=UTC)
    for rid in responder_ids:
        try:
            record = ResponderModel.get(rid, consistent_read=True)
        except DoesNotExist:
            record = ResponderModel(
                responder_id=rid,
                name="志愿者",
                phone="+8613900000000",
                certificate_no="C",
                certificate_expires_on="2099-12-31",
                created_at=datetime(2026, 1, 1, tzinfo=UTC),
            )
        record.available, record.presence_expires_at = True, until
        record.save()


def aed(api: Api, at: tuple[float, float], name: str = "湖滨银泰 AED", hours: str = "24/7") -> str:
    reply = api(
        "POST",
        "/v1/aeds",
        {"lat": at[0], "lng": at[1], "name": name, "placement": "1F 服务台", "opening_hours": hours},
        sub="m",
        roles=("aed_manager",),
    )
    assert reply.status == 201, reply.body
    return str(reply.body["aed_id"])


def sos(api: Api, at: tuple[float, float] = PATIENT, key: str | None = None, **extra: Any) -> Any:
    return api(
        "POST",
        "/v1/sos",
        {"lat": at[0], "lng": at[1], **extra},
        headers={"Idempotency-Key": key} if key else None,
    )


def sent(to: str | None = None, kind: str | None = None) -> list[dict[str, Any]]:
    return [i for i in outbox.read(to) if kind is None or i["kind"] == kind]


def until(check: Callable[[], Any], *, deadline_s: float = 30.0, what: str = "condition") -> Any:
    """Poll until check() is truthy, or fail after the deadline: never a bare sleep."""
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def execution(aws: Any, incident_id: str) -> dict[str, Any]:
    arn = aws.state_machine_arn.replace(":stateMachine:", ":execution:") + ":" + incident_id
    return boto3.client("stepfunctions").describe_execution(executionArn=arn)


def finished(aws: Any, incident_id: str, deadline_s: float = 30.0) -> dict[str, Any]:
    def ended() -> dict[str, Any] | None:
        described = execution(aws, incident_id)
        return described if described["status"] != "RUNNING" else None

    return until(ended, deadline_s=deadline_s, what=f"execution {incident_id} to end")


def dispatcher(api: Api, method: str, path: str, body: Any = None) -> Any:
    return api(method, path, body, sub="dispatcher-1", roles=("dispatcher",))


def searchable(api: Any, aed_id: str) -> bool:
    """Whether an AED search by the patient finds it (what a runner would be sent to)."""
    found = api("GET", "/v1/aeds/nearby", query={"lat": PATIENT[0], "lng": PATIENT[1], "radius_m": 2000})
    assert found.status == 200, found.body
    return aed_id in {i["aed_id"] for i in found.body["items"]}


def on_map(api: Any, aed_id: str) -> dict[str, Any]:
    lat, lng = PATIENT
    bbox = f"{lng - 0.05},{lat - 0.05},{lng + 0.05},{lat + 0.05}"
    features = api("GET", "/v1/aeds", query={"bbox": bbox}).body["features"]
    return next(f["properties"] for f in features if f["properties"]["aed_id"] == aed_id)
