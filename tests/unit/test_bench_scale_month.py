"""bench/scale.py's month: measured figures times the stated assumptions, priced."""

from __future__ import annotations

import pytest

from bench import scale


def measured(still_wru: float, index_wru: float) -> scale.Measured:
    per_heartbeat = {"wru": still_wru, "rru": 1.0, "heartbeats": 35}
    return scale.Measured(
        presence={"still": per_heartbeat, "moving": per_heartbeat},
        presence_index_wru={
            # A fine column index written more per heartbeat than the coarse one, but shared by few.
            kind: {"geo": 0.1, "geo/column-8": index_wru, "geo/column-18": 4 * index_wru, "responders": 1.0}
            for kind in ("still", "moving")
        },
        presence_ms=10.0,
        rescue={
            "wru": 0.0,
            "rru": 0.0,
            "invocations": {},
            "gb_s": 0.0,
            "transitions": 0,
            "push": 0,
            "sms": 0,
            "api_requests": 0,
        },
    )


def test_heartbeat_writes_are_priced_per_million_units():
    cheap, dear = scale.monthly(measured(1.0, 0.0)), scale.monthly(measured(2.0, 0.0))
    heartbeats = sum(scale.ON_DUTY_BY_HOUR) * scale.PEAK_ON_DUTY * scale.DAYS_PER_MONTH * 12
    assert cheap["heartbeats"] == pytest.approx(heartbeats)
    extra = dear["usd"]["dynamodb"] - cheap["usd"]["dynamodb"]
    assert extra == pytest.approx(heartbeats / 1e6 * scale.PRICES_USD["dynamodb_per_million_wru"])


def test_the_hottest_partition_is_the_coarse_column_shared_by_the_city():
    month = scale.monthly(measured(1.0, 0.5))
    share = scale.hottest_column_share(8)
    assert share > 0.9  # level-8 columns are ~140 km wide: Hangzhou's demo fits in one or two
    assert scale.hottest_column_share(18) < 0.1  # ~150 m wide
    assert month["hottest_partition"] == "geo/column-8"
    assert month["hottest_partition_wcu_per_s"] == pytest.approx(
        scale.PEAK_ON_DUTY / scale.HEARTBEAT_S * share * 0.5
    )
