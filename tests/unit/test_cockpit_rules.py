"""The cockpit's figure rules: the three times, medians, rates, the period, the district filter, and the
rule of five on-duty cells."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from shared.errors import ValidationFailed
from shared.logic.aed_coverage import area_from_geojson
from shared.logic.cockpit import on_duty, rescues
from shared.logic.cockpit.districts import contains
from shared.logic.rescue.ports import Alert, Incident, IncidentEvent

T0 = datetime(2026, 12, 6, 2, 0, tzinfo=UTC)
SQUARE = {
    "type": "Polygon",
    "coordinates": [[[120.0, 30.0], [120.2, 30.0], [120.2, 30.2], [120.0, 30.2], [120.0, 30.0]]],
}


def alert(rid: str, state: str, after_s: float, answered_s: float | None = None) -> Alert:
    return Alert(
        "i1",
        rid,
        state,
        1,
        100.0,
        30.1,
        120.1,
        T0 + timedelta(seconds=after_s),
        answered_at=None if answered_s is None else T0 + timedelta(seconds=answered_s),
    )


def event(kind: str, after_s: float) -> IncidentEvent:
    return IncidentEvent("i1", f"e{after_s}", kind, "r", "responder", T0 + timedelta(seconds=after_s))


def incident(**changes) -> Incident:
    fields = {
        "incident_id": "i1",
        "status": "closed",
        "lat": 30.1,
        "lng": 120.1,
        "created_at": T0,
        "slots_cpr": 2,
        "slots_aed": 1,
        "outcome": "rosc",
    }
    return Incident(**(fields | changes))


def test_times_run_from_the_first_alert_to_the_first_accept_arrival_and_aed():
    alerts = [alert("a", "declined", 5, 20), alert("b", "accepted", 2, 62), alert("c", "accepted", 9, 40)]
    events = [
        event("arrived", 300),
        event("arrived", 200),
        event("aed_attached", 400),
        event("cpr_started", 100),
    ]
    summary = rescues.summarize(incident(), alerts, events)
    assert (summary.first_accept_s, summary.first_arrival_s, summary.aed_attached_s) == (38.0, 198.0, 398.0)
    assert (summary.alerted, summary.accepted) == (3, 2)


def test_no_alert_means_nothing_measured_and_an_early_moment_counts_zero():
    nobody = rescues.summarize(incident(), [], [event("arrived", 10)])
    assert (nobody.first_accept_s, nobody.first_arrival_s, nobody.aed_attached_s) == (None, None, None)
    early = rescues.summarize(incident(), [alert("b", "accepted", 50, 60)], [event("arrived", 10)])
    assert early.first_arrival_s == 0.0


def summary(i: int, **changes) -> rescues.RescueSummary:
    fields = dict(
        incident_id=f"i{i}",
        created_at=T0,
        lat=30.1,
        lng=120.1,
        source="app",
        status="closed",
        outcome="rosc",
        alerted=4,
        accepted=1,
        unanswered=False,
        first_accept_s=None,
        first_arrival_s=None,
        aed_attached_s=None,
    )
    return rescues.RescueSummary(**(fields | changes))


def test_medians_rates_and_counts():
    found = rescues.figures(
        [
            summary(1, first_accept_s=10.0, alerted=4, accepted=1),
            summary(2, first_accept_s=30.0, source="dispatch", outcome="deceased", alerted=6, accepted=2),
            summary(
                3,
                first_accept_s=25.0,
                status="responding",
                outcome=None,
                unanswered=True,
                alerted=0,
                accepted=0,
            ),
            summary(4, first_accept_s=11.0, outcome="expired", alerted=0, accepted=0),
        ],
        None,
    )
    assert found["incidents"] == 4 and found["by_source"] == {"app": 3, "dispatch": 1, "console": 0}
    assert found["median_s"]["first_accept"] == 18.0 and found["measured"]["first_accept"] == 4
    assert found["median_s"]["first_arrival"] is None and found["measured"]["first_arrival"] == 0
    assert found["acceptance_rate"] == round(3 / 10, 4) and found["unanswered"] == 1 and found["open"] == 1
    assert found["outcomes"] == {
        "rosc": 1,
        "transported": 0,
        "deceased": 1,
        "false_alarm": 0,
        "cancelled": 0,
        "expired": 1,
    }
    assert rescues.figures([summary(1, alerted=0, accepted=0)], None)["acceptance_rate"] is None


def test_the_district_filter_is_the_polygon_not_its_box():
    triangle = area_from_geojson(
        {"type": "Polygon", "coordinates": [[[120.0, 30.0], [120.2, 30.0], [120.0, 30.2], [120.0, 30.0]]]}
    )
    inside, in_box_only = summary(1, lat=30.05, lng=120.05), summary(2, lat=30.15, lng=120.15)
    assert rescues.figures([inside, in_box_only], triangle)["incidents"] == 1
    holed = area_from_geojson(
        {
            "type": "Polygon",
            "coordinates": [
                SQUARE["coordinates"][0],
                [[120.05, 30.05], [120.15, 30.05], [120.15, 30.15], [120.05, 30.15], [120.05, 30.05]],
            ],
        }
    )
    assert not contains(holed, 30.1, 120.1) and contains(holed, 30.02, 120.02)


def test_a_period_is_local_days_inclusive_and_at_most_366():
    span = rescues.period(date(2026, 12, 1), date(2027, 1, 31), "Asia/Shanghai")
    assert span.months == ("2026-12", "2027-01")
    assert span.first_instant == datetime(2026, 11, 30, 16, tzinfo=UTC)
    assert span.after_instant == datetime(2027, 1, 31, 16, tzinfo=UTC)
    assert len(rescues.period(date(2026, 1, 1), date(2026, 12, 31), "Asia/Shanghai").months) == 12
    rescues.period(date(2028, 1, 1), date(2028, 12, 31), "Asia/Shanghai")  # 366 days: a leap year
    with pytest.raises(ValidationFailed):
        rescues.period(date(2026, 1, 1), date(2027, 1, 2), "Asia/Shanghai")  # 367 days
    with pytest.raises(ValidationFailed):
        rescues.period(date(2026, 1, 2), date(2026, 1, 1), "Asia/Shanghai")


def test_cells_under_five_are_hidden_and_a_small_total_too():
    four = [(30.2300 + 0.0001 * i, 120.1600) for i in range(4)]  # geohash wtm7y; the six in wtmkn
    six = [(30.2640 + 0.0001 * i, 120.1650) for i in range(6)]
    shown = on_duty.counted(four + six)
    assert [c["count"] for c in shown["cells"]] == [6] and shown["cells_hidden"] == 1 and shown["total"] == 10
    assert all(c["count"] >= on_duty.MIN_COUNT for c in shown["cells"])
    small = on_duty.counted(four)
    assert small["cells"] == [] and small["total"] is None and small["cells_hidden"] == 1
    lng0, lat0, lng1, lat1 = shown["cells"][0]["bounds"]
    assert lng0 < 120.1650 < lng1 and lat0 < 30.2640 < lat1
    assert 4.8 < (lat1 - lat0) * 111.2 < 5.0 and 4.1 < (lng1 - lng0) * 96.3 < 4.3  # ~4.2 km by 4.9 km


def test_a_period_beyond_the_years_a_local_midnight_can_be_told_in_is_refused_not_crashed():
    for start, end in ((date(1, 1, 1), date(1, 12, 31)), (date(9999, 1, 1), date(9999, 12, 31))):
        with pytest.raises(ValidationFailed):
            rescues.period(start, end, "Asia/Shanghai")
    assert rescues.period(date(2026, 12, 1), date(2026, 12, 31), "Asia/Shanghai").months == ("2026-12",)
