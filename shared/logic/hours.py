"""OpenStreetMap ``opening_hours``: parsed by the opening-hours-py library, evaluated in local time."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from opening_hours import OpeningHours, ParserError  # type: ignore[attr-defined]

from shared.errors import ValidationFailed


@lru_cache(maxsize=4096)
def _parse(expression: str) -> OpeningHours:
    return OpeningHours(expression)


def validate_opening_hours(expression: str) -> str:
    expression = expression.strip()
    if not expression:
        raise ValidationFailed("opening_hours: must not be empty")
    try:
        _parse(expression)
    except (ParserError, SyntaxError, ValueError) as error:
        raise ValidationFailed("opening_hours: not valid OpenStreetMap opening_hours syntax") from error
    return expression


def is_open(expression: str, at: datetime, time_zone: str) -> bool:
    """Open at the instant ``at`` (aware), read on the wall clock of the deployment's time zone."""
    local = at.astimezone(ZoneInfo(time_zone)).replace(tzinfo=None)
    try:
        return bool(_parse(expression).is_open(local))
    except (ParserError, SyntaxError, ValueError):
        return False  # stored expressions are validated on write; an unreadable one is never "open"


def next_change(expression: str, at: datetime, time_zone: str) -> datetime | None:
    """When the open/closed state next changes after ``at`` (aware, in ``time_zone``); None when it
    never does (24/7) or the expression cannot be read."""
    zone = ZoneInfo(time_zone)
    local = at.astimezone(zone).replace(tzinfo=None)
    try:
        changes = _parse(expression).next_change(local)
    except (ParserError, SyntaxError, ValueError):
        return None
    return changes.replace(tzinfo=zone) if changes is not None else None
