"""The cockpit's rescue figures (docs/cockpit.md, Rescues): a summary per incident, re-derived from its
records (the incident, its alerts, its events) whenever one of them changes, and the figures of a period
and a district computed from the summaries of that period only.

The three times, defined here and nowhere else, are seconds from the incident's first alert (the
earliest ``alerted_at`` of its alert records) to:
- ``first_accept``: the earliest ``answered_at`` of an alert whose state is ``accepted``;
- ``first_arrival``: the earliest ``arrived`` event (whoever recorded it);
- ``aed_attached``: the earliest ``aed_attached`` event.
An incident with no alert, or without that moment, is not measured for it (``measured`` says over how
many incidents each median is). A moment recorded before the first alert (a dispatcher's entry) counts 0.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from shared.errors import ValidationFailed
from shared.logic.aed_coverage import Area
from shared.logic.cockpit.districts import contains
from shared.logic.rescue.ports import SOURCES, Alert, Incident, IncidentEvent

MAX_PERIOD_DAYS = 366
OUTCOMES = ("rosc", "transported", "deceased", "false_alarm", "cancelled", "expired")
TIMES = ("first_accept", "first_arrival", "aed_attached")


@dataclass(frozen=True)
class RescueSummary:
    incident_id: str
    created_at: datetime
    lat: float
    lng: float
    source: str
    status: str
    outcome: str | None
    alerted: int  # alert records: responders alerted
    accepted: int  # of which accepted
    unanswered: bool
    first_accept_s: float | None
    first_arrival_s: float | None
    aed_attached_s: float | None


class IncidentRecords(Protocol):
    """What a summary is derived from (shared.dal.rescue.DynamoIncidents: consistent reads)."""

    def get(self, incident_id: str) -> Incident | None: ...
    def alerts(self, incident_id: str) -> list[Alert]: ...
    def events(self, incident_id: str) -> list[IncidentEvent]: ...


class SummaryStore(Protocol):
    def put(self, summary: RescueSummary, month: str, derived_at: datetime) -> bool:
        """Store unless a run that began later stored one already (False then)."""
        ...

    def remove(self, incident_id: str, month: str, created_at: datetime) -> None: ...
    def in_month(self, month: str, start: datetime, end: datetime) -> list[RescueSummary]:
        """The month's summaries created in [start, end)."""
        ...


def _seconds(since: datetime | None, moments: Iterable[datetime]) -> float | None:
    first = min(moments, default=None)
    if since is None or first is None:
        return None
    return max(0.0, (first - since).total_seconds())


def summarize(incident: Incident, alerts: Sequence[Alert], events: Sequence[IncidentEvent]) -> RescueSummary:
    first_alert = min((a.alerted_at for a in alerts), default=None)
    accepted = [a for a in alerts if a.state == "accepted"]
    return RescueSummary(
        incident_id=incident.incident_id,
        created_at=incident.created_at,
        lat=incident.lat,
        lng=incident.lng,
        source=incident.source,
        status=incident.status,
        outcome=incident.outcome if incident.status == "closed" else None,
        alerted=len(alerts),
        accepted=len(accepted),
        unanswered=incident.unanswered,
        first_accept_s=_seconds(first_alert, (a.answered_at for a in accepted if a.answered_at)),
        first_arrival_s=_seconds(first_alert, (e.at for e in events if e.type == "arrived")),
        aed_attached_s=_seconds(first_alert, (e.at for e in events if e.type == "aed_attached")),
    )


def local_month(at: datetime, time_zone: str) -> str:
    return at.astimezone(ZoneInfo(time_zone)).strftime("%Y-%m")


def _closed_long_ago(incident: Incident, now: datetime, retention_days: int) -> bool:
    if incident.status != "closed" or not incident.closed_at:
        return False
    try:
        closed = datetime.fromisoformat(incident.closed_at)
    except ValueError:
        return False
    closed = closed if closed.tzinfo else closed.replace(tzinfo=UTC)
    return now - closed > timedelta(days=retention_days)


def refresh(
    records: IncidentRecords,
    store: SummaryStore,
    incident_id: str,
    *,
    now: datetime,
    time_zone: str,
    retention_days: int,
) -> str:
    """Re-derive one incident's summary from its records as they stand ("stored"); "skipped" when a run
    that began later already stored a newer one, or when the incident closed more than the retention ago
    (its alerts and events go by TTL then: the summary keeps what they said); "removed" for an SOS merged
    into another incident (it is counted there); "absent" when there is no such incident."""
    incident = records.get(incident_id)
    if incident is None:
        return "absent"
    month = local_month(incident.created_at, time_zone)
    if incident.merged_into:
        store.remove(incident_id, month, incident.created_at)
        return "removed"
    if _closed_long_ago(incident, now, retention_days):
        return "skipped"
    summary = summarize(incident, records.alerts(incident_id), records.events(incident_id))
    return "stored" if store.put(summary, month, now) else "skipped"


# --- a period's figures ----------------------------------------------------------------------------


EARLIEST, LATEST = date(2000, 1, 1), date(9998, 12, 31)


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # inclusive
    first_instant: datetime
    after_instant: datetime  # exclusive
    months: tuple[str, ...]


def period(from_date: date, to_date: date, time_zone: str) -> Period:
    """Local dates, both inclusive, at most MAX_PERIOD_DAYS days (422 otherwise)."""
    if to_date < from_date:
        raise ValidationFailed("to: on or after from")
    if from_date < EARLIEST or to_date > LATEST:  # beyond them local midnights leave datetime's range
        raise ValidationFailed(f"from, to: between {EARLIEST} and {LATEST}")
    if (to_date - from_date).days + 1 > MAX_PERIOD_DAYS:
        raise ValidationFailed(f"from, to: at most {MAX_PERIOD_DAYS} days")
    zone = ZoneInfo(time_zone)
    months: list[str] = []
    month = from_date.replace(day=1)
    while month <= to_date:
        months.append(month.strftime("%Y-%m"))
        month = (month + timedelta(days=32)).replace(day=1)
    return Period(
        start=from_date,
        end=to_date,
        first_instant=datetime.combine(from_date, time(), zone).astimezone(UTC),
        after_instant=datetime.combine(to_date + timedelta(days=1), time(), zone).astimezone(UTC),
        months=tuple(months),
    )


def summaries_of(store: SummaryStore, span: Period) -> list[RescueSummary]:
    """One Query per local month the period touches (at most 13)."""
    found: list[RescueSummary] = []
    for month in span.months:
        found += store.in_month(month, span.first_instant, span.after_instant)
    return found


def median_s(values: Sequence[float]) -> float | None:
    return round(statistics.median(values), 1) if values else None


def figures(summaries: Iterable[RescueSummary], area: Area | None) -> dict[str, Any]:
    """The figures of the summaries inside ``area`` (None: all of them), in the route's shape."""
    chosen = [s for s in summaries if area is None or contains(area, s.lat, s.lng)]
    by_source = Counter({source: 0 for source in SOURCES})
    by_source.update(s.source for s in chosen)
    outcomes = Counter({outcome: 0 for outcome in OUTCOMES})
    outcomes.update(s.outcome for s in chosen if s.status == "closed" and s.outcome)
    alerted = sum(s.alerted for s in chosen)
    accepted = sum(s.accepted for s in chosen)
    times = {
        "first_accept": [s.first_accept_s for s in chosen if s.first_accept_s is not None],
        "first_arrival": [s.first_arrival_s for s in chosen if s.first_arrival_s is not None],
        "aed_attached": [s.aed_attached_s for s in chosen if s.aed_attached_s is not None],
    }
    return {
        "incidents": len(chosen),
        "by_source": dict(by_source),
        "alerted": alerted,
        "accepted": accepted,
        "acceptance_rate": round(accepted / alerted, 4) if alerted else None,
        "unanswered": sum(1 for s in chosen if s.unanswered),
        "open": sum(1 for s in chosen if s.status != "closed"),
        "outcomes": dict(outcomes),
        "median_s": {name: median_s(values) for name, values in times.items()},
        "measured": {name: len(values) for name, values in times.items()},
    }


def rescue_figures(store: SummaryStore, span: Period, area: Area | None) -> dict[str, Any]:
    return figures(summaries_of(store, span), area)
