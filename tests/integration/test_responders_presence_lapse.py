"""Presence lapses on the clock: 15 minutes without an update, or the end of the certificate's last
day, whichever comes first. Logic and DynamoDB with an injected clock (no sleeping)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from shared.dal.geo_index import DynamoGeoIndex
from shared.dal.responders import DynamoResponders
from shared.identity import Caller
from shared.logic import responders as logic

TZ = "Asia/Shanghai"


def on_duty(aws, now: datetime, expires_on: date) -> tuple[str, DynamoResponders, DynamoGeoIndex]:
    repo, geo = DynamoResponders(), DynamoGeoIndex()
    responder = logic.create_responder(
        repo, logic.NewResponder("王五", "+8613800000002", "C-1", expires_on), now
    )
    logic.update_presence(
        repo,
        geo,
        Caller(responder.responder_id, frozenset({"responder"})),
        responder.responder_id,
        lat=30.26,
        lng=120.16,
        available=True,
        now=now,
        time_zone=TZ,
        ttl_s=900,
        index_lease_s=2400,
    )
    return responder.responder_id, repo, geo


def found(geo: DynamoGeoIndex, now: datetime) -> list[str]:
    page = logic.nearby_responders(
        geo, DynamoResponders(), lat=30.26, lng=120.16, radius_m=500, limit=20, next_token=None, now=now
    )
    return [h.entity_id for h in page.items]


def test_presence_lapses_after_fifteen_minutes_without_update(aws):
    t0 = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
    rid, repo, geo = on_duty(aws, t0, date(2028, 1, 1))
    assert found(geo, t0 + timedelta(minutes=14, seconds=59)) == [rid]
    assert found(geo, t0 + timedelta(minutes=15)) == []
    responder = repo.get(rid)
    assert responder is not None
    assert logic.is_available(responder, t0 + timedelta(minutes=14), TZ) is True
    assert logic.is_available(responder, t0 + timedelta(minutes=16), TZ) is False


def test_presence_ends_with_the_certificates_last_day_in_local_time(aws):
    # 23:55 in Hangzhou on the last valid day: found now, gone at local midnight (16:00Z), not at 00:10.
    t0 = datetime(2026, 12, 1, 15, 55, tzinfo=UTC)
    rid, _, geo = on_duty(aws, t0, date(2026, 12, 1))
    assert found(geo, t0 + timedelta(minutes=4)) == [rid]
    assert found(geo, t0 + timedelta(minutes=5)) == []


def test_going_off_duty_removes_at_once(aws):
    t0 = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
    rid, repo, geo = on_duty(aws, t0, date(2028, 1, 1))
    logic.update_presence(
        repo,
        geo,
        Caller(rid, frozenset()),
        rid,
        lat=30.26,
        lng=120.16,
        available=False,
        now=t0,
        time_zone=TZ,
        ttl_s=900,
        index_lease_s=2400,
    )
    assert found(geo, t0) == []
