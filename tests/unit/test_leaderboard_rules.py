"""The leaderboard's rules: masked names, display names, periods, and ranking of the opted-in only."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from shared.errors import ValidationFailed
from shared.logic.credits import (
    Entry,
    Member,
    MonthCredit,
    clean_display_name,
    local_month,
    masked_name,
    period_months,
    rank,
    totals,
)


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("张三明", "张*明"),
        ("张三", "张*"),
        ("欧阳娜娜", "欧**娜"),
        ("John Smith", "J*** S."),
        ("Mary Ann Lee", "M*** L."),
        ("Madonna", "M***"),
        ("王小明 Wang Xiaoming", "王*明"),  # by its Chinese part, not a wall of stars
        ("", "***"),
    ],
)
def test_the_default_name_is_masked(name, shown):
    assert masked_name(name) == shown


@pytest.mark.parametrize("bad", ["", "   ", "x" * 21, "13800138000", "RN-2026-000123", "救护员 12345"])
def test_a_display_name_is_short_and_carries_no_number(bad):
    with pytest.raises(ValidationFailed):
        clean_display_name(bad)


def test_a_display_name_is_tidied():
    assert clean_display_name("  西湖  救护员 ") == "西湖 救护员"
    assert clean_display_name("第1234队") == "第1234队"


def test_periods_are_a_month_or_a_year():
    assert period_months("2026-12") == ["2026-12"]
    assert period_months("2026") == [f"2026-{m:02d}" for m in range(1, 13)]
    for bad in ("2026-13", "2026-00", "26", "2026-1", "1999"):
        with pytest.raises(ValidationFailed):
            period_months(bad)


def test_a_credit_counts_in_the_local_month():
    assert local_month(datetime(2026, 12, 31, 17, tzinfo=UTC), "Asia/Shanghai") == "2027-01"
    assert local_month(datetime(2026, 12, 31, 15, tzinfo=UTC), "Asia/Shanghai") == "2026-12"


def test_only_the_opted_in_are_ranked_best_first_ties_sharing_a_rank():
    scores = totals(
        [
            MonthCredit("a", "i1", 10),
            MonthCredit("a", "i1", 20),
            MonthCredit("b", "i2", 30),
            MonthCredit("c", "i3", 99),  # never chose
            MonthCredit("d", "i4", 99),  # opted out
            MonthCredit("e", "i5", 10),
        ]
    )
    assert scores["a"] == (30, 1)
    members = {
        "a": Member("a", "张三明", Entry(True, None)),
        "b": Member("b", "李四", Entry(True, "西湖李")),
        "c": Member("c", "王五", None),
        "d": Member("d", "赵六", Entry(False, "赵")),
        "e": Member("e", "John Smith", Entry(True, None)),
    }
    rows = rank(scores, members, 20)
    assert [(r.rank, r.display_name, r.points) for r in rows] == [
        (1, "张*明", 30),
        (1, "西湖李", 30),
        (3, "J*** S.", 10),
    ]
    assert len(rank(scores, members, 1)) == 1
