"""The credits leaderboard (issue 15 item 2): responders who opted in, ranked by the points awarded to
them in a month or a year.

- Nobody appears without opting in (``PUT /v1/responders/{id}/leaderboard``, the responder only); opting
  out removes them from the next read, since the opt-in is read at every load, never copied.
- The name shown is the one they chose (at most 20 characters, never a phone or certificate number:
  no run of 5 digits) or, by default, their masked name: 张三明 → 张*明, John Smith → J*** S.
- Points: the credits written at incident closure (shared/dal/models/rescue.py CreditModel) whose local
  month (deployment time zone) lies in the period; rescues: the distinct incidents among them.
- Rank: by points, then rescues (higher first); equal points and rescues share a rank (1, 2, 2, 4).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from zoneinfo import ZoneInfo

from shared.errors import Forbidden, NotFound, ValidationFailed
from shared.identity import Caller
from shared.logic.certification.certificates import mask_name as mask_cjk

MAX_DISPLAY_NAME = 20
DEFAULT_LIMIT, MAX_LIMIT = 20, 100
_DIGITS = re.compile(r"\d{5,}")  # a phone or certificate number, or a good part of one
_PERIOD = re.compile(r"^(\d{4})(?:-(0[1-9]|1[0-2]))?$")


def local_month(at: datetime, time_zone: str) -> str:
    """The month ("YYYY-MM") a credit written at ``at`` counts in: the deployment's local month."""
    return at.astimezone(ZoneInfo(time_zone)).strftime("%Y-%m")


def period_months(period: str) -> list[str]:
    """``YYYY-MM`` → that month; ``YYYY`` → its 12 months."""
    found = _PERIOD.match(period)
    if found is None or not 2000 <= int(found.group(1)) <= 2100:
        raise ValidationFailed("period: YYYY-MM or YYYY")
    if found.group(2):
        return [period]
    return [f"{period}-{m:02d}" for m in range(1, 13)]


def masked_name(name: str) -> str:
    """The default name on the board: 张三明 → 张*明, 张三 → 张*, John Smith → J*** S., Madonna → M***."""
    words = name.split()
    if not words:
        return "***"
    if any(unicodedata.name(c, "").startswith(("CJK", "HANGUL", "HIRAGANA", "KATAKANA")) for c in name):
        # A name written with a space after its Chinese part ("王小明 Wang Xiaoming") is masked by that
        # part: masking the whole run would hide it behind a wall of stars and say nothing more.
        return mask_cjk(words[0] if len(words[0]) >= 2 else "".join(words))
    first = words[0][0] + "***"
    return f"{first} {words[-1][0]}." if len(words) > 1 else first


def clean_display_name(value: str) -> str:
    name = " ".join(value.split())
    if not name:
        raise ValidationFailed("display_name: must not be empty")
    if len(name) > MAX_DISPLAY_NAME:
        raise ValidationFailed(f"display_name: at most {MAX_DISPLAY_NAME} characters")
    if _DIGITS.search(name):
        raise ValidationFailed("display_name: no phone or certificate numbers (5 digits or more in a row)")
    return name


@dataclass(frozen=True)
class Entry:
    """A responder's place on the board as they set it."""

    opt_in: bool
    display_name: str | None  # None: the masked name


@dataclass(frozen=True)
class Member:
    """What the board needs of a responder: their name (for the mask) and their choice."""

    responder_id: str
    name: str
    entry: Entry | None  # None: never chose (not on the board)

    @property
    def shown_as(self) -> str:
        chosen = self.entry.display_name if self.entry else None
        return chosen or masked_name(self.name)


@dataclass(frozen=True)
class MonthCredit:
    responder_id: str
    incident_id: str
    points: int


@dataclass(frozen=True)
class Row:
    rank: int
    display_name: str
    points: int
    rescues: int


class LeaderboardStore(Protocol):
    def member(self, responder_id: str) -> Member | None: ...
    def save_entry(self, responder_id: str, entry: Entry) -> bool:
        """False when there is no such responder (nothing written)."""
        ...

    def credits_in_month(self, month: str) -> list[MonthCredit]:
        """Every credit of that local month: one Query of the credits' by-month index."""
        ...

    def members(self, responder_ids: list[str]) -> dict[str, Member]:
        """By key (BatchGetItem), never a Scan."""
        ...


def set_entry(
    store: LeaderboardStore, caller: Caller, responder_id: str, opt_in: bool, display_name: str | None
) -> tuple[Entry, str]:
    """The responder's own choice only (not even an admin's); answers the entry and the name shown.
    As for their other own records (shared.logic.responders.own_record): anyone else is told it does not
    exist (404), an admin, who may know it exists, is refused (403)."""
    member = store.member(responder_id) if caller.is_self_or_admin(responder_id) else None
    if member is None:
        raise NotFound("no such responder")
    if caller.sub != responder_id:
        raise Forbidden("only the responder may choose to appear on the leaderboard")
    entry = Entry(opt_in, clean_display_name(display_name) if display_name is not None else None)
    if not store.save_entry(responder_id, entry):
        raise NotFound("no such responder")
    return entry, Member(responder_id, member.name, entry).shown_as


def totals(credits: Iterable[MonthCredit]) -> dict[str, tuple[int, int]]:
    """Responder → (points, distinct incidents)."""
    points: dict[str, int] = {}
    incidents: dict[str, set[str]] = {}
    for credit in credits:
        points[credit.responder_id] = points.get(credit.responder_id, 0) + credit.points
        incidents.setdefault(credit.responder_id, set()).add(credit.incident_id)
    return {r: (p, len(incidents[r])) for r, p in points.items()}


def rank(scores: Mapping[str, tuple[int, int]], members: Mapping[str, Member], limit: int) -> list[Row]:
    """The opted-in among ``scores``, best first, at most ``limit`` (ties share a rank)."""
    listed = [
        (points, rescues, members[r].shown_as, r)
        for r, (points, rescues) in scores.items()
        if r in members and members[r].entry is not None and members[r].entry.opt_in  # type: ignore[union-attr]
    ]
    listed.sort(key=lambda x: (-x[0], -x[1], x[2], x[3]))
    rows: list[Row] = []
    for i, (points, rescues, name, _) in enumerate(listed[:limit]):
        same = rows and (rows[-1].points, rows[-1].rescues) == (points, rescues)
        rows.append(Row(rows[-1].rank if same else i + 1, name, points, rescues))
    return rows


def leaderboard(
    store: LeaderboardStore, period: str, limit: int = DEFAULT_LIMIT, batch: int = 100
) -> list[Row]:
    """One Query per month of the period; then the responders by key, best scores first, only until
    ``limit`` of them are found opted in (a batch of ``batch`` at a time)."""
    if not 1 <= limit <= MAX_LIMIT:
        raise ValidationFailed(f"limit: 1 to {MAX_LIMIT}")
    scores = totals(c for month in period_months(period) for c in store.credits_in_month(month))
    order = sorted(scores, key=lambda r: (-scores[r][0], -scores[r][1], r))
    members: dict[str, Member] = {}
    opted = 0
    for start in range(0, len(order), batch):
        found = store.members(order[start : start + batch])
        members.update(found)
        opted += sum(1 for m in found.values() if m.entry is not None and m.entry.opt_in)
        # Everyone tied with the last one read must be read too, for their ranks; a tie across a batch
        # boundary is read with the next batch.
        if opted >= limit and (
            start + batch >= len(order) or scores[order[start + batch - 1]] != scores[order[start + batch]]
        ):
            break
    return rank(scores, members, limit)
