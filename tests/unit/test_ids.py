"""Identifiers are ULIDs as the spec and python-ulid read them: made at the current millisecond, in
time order, and random after it."""

from __future__ import annotations

from datetime import UTC, datetime

import time_machine
from ulid import ULID

from shared.logic.ids import new_id


def test_an_id_is_a_ulid_of_the_current_millisecond() -> None:
    at = datetime(2026, 12, 6, 3, 0, 0, 123_000, tzinfo=UTC)
    with time_machine.travel(at, tick=False):
        made = new_id()
    assert len(made) == 26
    parsed = ULID.from_str(made)
    assert str(parsed) == made
    assert parsed.datetime == at


def test_ids_sort_in_the_order_they_were_made() -> None:
    made = []
    for millisecond in range(0, 5000, 250):
        with time_machine.travel(
            datetime(2026, 12, 6, tzinfo=UTC).timestamp() + millisecond / 1000, tick=False
        ):
            made.append(new_id())
    assert made == sorted(made)


def test_ids_made_in_the_same_millisecond_differ_in_their_random_part() -> None:
    with time_machine.travel(datetime(2026, 12, 6, tzinfo=UTC), tick=False):
        made = {new_id() for _ in range(1000)}
    assert len(made) == 1000
    assert len({m[:10] for m in made}) == 1  # the time part is the same
    assert len({bytes(ULID.from_str(m))[6:] for m in made}) == 1000  # 80 random bits each
