"""Presence that costs little: a responder standing still is re-indexed (the geo item and its 8 column
index entries) only when the index's lease would end before their presence does, yet nobody is found,
counted or alerted a moment after their presence lapsed. Logic and DynamoDB with an injected clock."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta
from typing import Any

from shared.dal.geo_index import DynamoGeoIndex
from shared.dal.models.geo_index import GeoIndexModel
from shared.dal.rescue import DynamoIncidents
from shared.dal.responders import DynamoResponders
from shared.geo.distance import EARTH_RADIUS_M
from shared.identity import Caller
from shared.logic import responders as logic
from shared.logic.aed_coverage import area_from_bbox
from shared.logic.cockpit.on_duty import on_duty
from shared.logic.rescue.ports import ALERT_REFUSED, ALERT_WRITTEN, Alert, AlertLimits
from tests.integration.rescue_helpers import responder

TZ = "Asia/Shanghai"
T0 = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
HERE = (30.2600, 120.1600)
TTL_S, LEASE_S = 900, 2400


class CountingIndex(DynamoGeoIndex):
    """The real index, counting the items it (re)writes."""

    def __init__(self) -> None:
        super().__init__()
        self.puts = 0

    def put(self, *args: Any, **kwargs: Any) -> None:
        self.puts += 1
        super().put(*args, **kwargs)


def offset(at: tuple[float, float], north_m: float, east_m: float) -> tuple[float, float]:
    lat, lng = at
    dlat = math.degrees(north_m / EARTH_RADIUS_M)
    dlng = math.degrees(east_m / (EARTH_RADIUS_M * math.cos(math.radians(lat))))
    return lat + dlat, lng + dlng


def new_responder(repo: DynamoResponders, name: str = "王五") -> str:
    made = logic.create_responder(
        repo, logic.NewResponder(name, "+8613800000002", "C-1", date(2028, 1, 1)), T0
    )
    return made.responder_id


def heartbeat(repo: DynamoResponders, geo: DynamoGeoIndex, rid: str, at: tuple[float, float], now: datetime):
    return logic.update_presence(
        repo,
        geo,
        Caller(rid, frozenset({"responder"})),
        rid,
        lat=at[0],
        lng=at[1],
        available=True,
        now=now,
        time_zone=TZ,
        ttl_s=TTL_S,
        index_lease_s=LEASE_S,
    )


def found(geo: DynamoGeoIndex, repo: DynamoResponders, now: datetime, at=HERE, radius_m=500.0) -> list[str]:
    page = logic.nearby_responders(
        geo, repo, lat=at[0], lng=at[1], radius_m=radius_m, limit=20, next_token=None, now=now
    )
    return [h.entity_id for h in page.items]


def test_standing_still_rewrites_the_index_every_sixth_heartbeat_and_is_found_throughout(aws):
    repo, geo = DynamoResponders(), CountingIndex()
    rid = new_responder(repo)
    beats = [T0 + timedelta(minutes=5 * n) for n in range(25)]  # two hours, every 5 minutes
    for n, at in enumerate(beats):
        jitter = offset(HERE, 20 * math.sin(n), 20 * math.cos(n))  # a phone's fix wandering by ~20 m
        answer = heartbeat(repo, geo, rid, jitter, at)
        assert answer.expires_at == at + timedelta(seconds=TTL_S)  # the contract's lapse, unchanged
        assert found(geo, repo, at) == [rid]
        assert found(geo, repo, at + timedelta(minutes=4, seconds=59)) == [rid]  # until the next one
    # Written on going on duty, then whenever the lease (40 min) would end before the presence (15 min):
    # at 0, 30, 60, 90 and 120 minutes.
    assert geo.puts == 5
    assert found(geo, repo, beats[-1] + timedelta(minutes=14, seconds=59)) == [rid]


def test_a_lapsed_presence_is_neither_found_nor_counted_nor_alerted_while_the_index_still_holds_it(aws):
    repo, geo = DynamoResponders(), DynamoGeoIndex()
    stays, lapses = [new_responder(repo, f"志愿者{n}") for n in range(5)], new_responder(repo, "赵六")
    for rid in [*stays, lapses]:
        heartbeat(repo, geo, rid, HERE, T0)
    for rid in stays:
        heartbeat(repo, geo, rid, HERE, T0 + timedelta(minutes=10))
    lapse = T0 + timedelta(minutes=15)  # 15 minutes after the last heartbeat of `lapses`
    item = GeoIndexModel.get(f"responder#{lapses}")
    assert item.expires_at > lapse.timestamp()  # the index would still find them: the records decide

    assert lapses in found(geo, repo, lapse - timedelta(seconds=1))
    assert lapses not in found(geo, repo, lapse)
    assert sorted(found(geo, repo, lapse)) == sorted(stays)

    city = area_from_bbox(120.0, 30.1, 120.3, 30.4)
    assert on_duty(geo, repo, [city], lapse - timedelta(seconds=1))["total"] == 6
    assert on_duty(geo, repo, [city], lapse)["total"] == 5

    store = DynamoIncidents()

    def alert(rid: str, now: datetime) -> str:
        limits = AlertLimits(hour=0, day=0, per_hour=None, per_day=None, now_epoch=int(now.timestamp()))
        a = Alert(f"inc-{now:%H%M%S}", rid, "alerted", 1, 1.0, HERE[0], HERE[1], now)
        return store.add_alert(a, limits)

    assert alert(lapses, lapse - timedelta(seconds=1)) == ALERT_WRITTEN
    assert alert(lapses, lapse) == ALERT_REFUSED
    assert alert(stays[0], lapse) == ALERT_WRITTEN


def test_moving_more_than_fifty_metres_reindexes_at_once_and_less_does_not(aws):
    repo, geo = DynamoResponders(), CountingIndex()
    rid = new_responder(repo)
    heartbeat(repo, geo, rid, HERE, T0)
    near = offset(HERE, 30, 0)
    heartbeat(repo, geo, rid, near, T0 + timedelta(minutes=5))
    assert geo.puts == 1  # 30 m: the index keeps the first fix
    assert GeoIndexModel.get(f"responder#{rid}").lat == HERE[0]

    moved = offset(HERE, 300, 0)
    heartbeat(repo, geo, rid, moved, T0 + timedelta(minutes=10))
    assert geo.puts == 2
    assert found(geo, repo, T0 + timedelta(minutes=10), at=moved, radius_m=60) == [rid]
    assert found(geo, repo, T0 + timedelta(minutes=10), at=HERE, radius_m=200) == []


def test_off_duty_and_back_on_reindexes_at_once(aws):
    repo, geo = DynamoResponders(), CountingIndex()
    rid = new_responder(repo)
    heartbeat(repo, geo, rid, HERE, T0)
    logic.update_presence(
        repo,
        geo,
        Caller(rid, frozenset({"responder"})),
        rid,
        lat=HERE[0],
        lng=HERE[1],
        available=False,
        now=T0 + timedelta(minutes=1),
        time_zone=TZ,
        ttl_s=TTL_S,
        index_lease_s=LEASE_S,
    )
    assert found(geo, repo, T0 + timedelta(minutes=1)) == []
    heartbeat(repo, geo, rid, HERE, T0 + timedelta(minutes=2))
    assert geo.puts == 2
    assert found(geo, repo, T0 + timedelta(minutes=2)) == [rid]


def test_a_heartbeat_standing_still_bills_at_most_three_write_units_on_average(api):
    """What DynamoDB would bill (bench/billing.py: the item, its GSI entries, by AWS's rules) for two hours
    of heartbeats every 5 minutes from a phone whose fix wanders within 20 m."""
    import time_machine

    from bench.billing import DynamoDbMeter

    with time_machine.travel(T0, tick=False) as clock:
        rid = responder(api, at=HERE, expires_on="2099-12-31")  # went on duty: the index item written
        with DynamoDbMeter() as meter:
            for n in range(24):
                clock.shift(300)
                fix = offset(HERE, 20 * math.sin(n), 20 * math.cos(n))
                body = {"lat": fix[0], "lng": fix[1], "available": True}
                assert api("PUT", f"/v1/responders/{rid}/presence", body, sub=rid).status == 200
        per_heartbeat = meter.write_units / 24
        assert per_heartbeat <= 3.0, meter.by_table()
        assert (
            api(
                "GET",
                "/v1/responders/nearby",
                query={"lat": HERE[0], "lng": HERE[1], "radius_m": 100},
                sub="d",
                roles=("dispatcher",),
            ).body["items"][0]["responder_id"]
            == rid
        )
