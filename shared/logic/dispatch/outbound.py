"""Status webhooks to the dispatch centres: at least once, in order per incident, signed as Standard
Webhooks specifies, retried with exponential back-off for 24 h, then parked where ops are alarmed.

One run per queued change of an incident (a FIFO queue, one group per incident, so runs for an incident
take turns): it derives the events the incident has reached (shared/logic/dispatch/status.py), records
the ones no run recorded yet (each once: a conditional write), and posts the centre's pending ones in
order. The first that fails stops that centre's sequence (nothing after it may overtake it) and the run
asks to be tried again after the back-off; a webhook still failing 24 h after it was first due is parked
(status ``failed``, a message on the dead-letter queue) and the sequence goes on without it. An admin
replays a parked one (it is due again, for another 24 h).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Protocol

from shared.errors import Conflict, NotFound, ValidationFailed
from shared.logic.dispatch.ports import CentreSecrets, DispatchCentre
from shared.logic.dispatch.signatures import sign
from shared.logic.dispatch.status import body, recipients, status_events, webhook_id
from shared.logic.rescue.ports import Alert, Incident, IncidentEvent

RETRY_FOR = timedelta(hours=24)
FIRST_RETRY_S = 30
LONGEST_RETRY_S = 3600  # an hour between tries at most: a centre back up hears within the hour
POST_TIMEOUT_S = 5.0
STATUSES = ("pending", "delivered", "failed")
MAX_PAGE = 100


def retry_delay_s(attempts: int, first_s: int = FIRST_RETRY_S) -> int:
    """After the n-th failed try: 30 s, 1, 2, 4... minutes, an hour at most (some 30 tries in 24 h)."""
    return int(min(first_s * 2 ** max(attempts - 1, 0), LONGEST_RETRY_S))


@dataclass(frozen=True)
class Delivery:
    centre_id: str
    webhook_id: str
    incident_id: str
    type: str
    position: str
    body: str
    status: str  # STATUSES
    created_at: datetime
    due_from: datetime  # its 24 h of tries count from here: its creation, or its last replay
    expires_at: int
    attempts: int = 0
    last_attempt_at: datetime | None = None
    last_result: str | None = None
    delivered_at: datetime | None = None
    failed_at: datetime | None = None
    replays: int = 0


@dataclass(frozen=True)
class DeliveryPage:
    items: list[Delivery]
    next_token: str | None


@dataclass(frozen=True)
class Posted:
    ok: bool
    result: str  # "HTTP 204", "HTTP 503", "timed out after 5 s", "connection refused"...


class DeliveryLog(Protocol):
    def of_incident(self, centre_id: str, incident_id: str) -> list[Delivery]: ...

    def add(self, delivery: Delivery) -> Delivery:
        """Record it unless recorded already; the one stored either way."""
        ...

    def tried(self, delivery: Delivery) -> None:
        """Store the delivery's state after a try (status, attempts, result, times)."""
        ...

    def get(self, centre_id: str, webhook_id: str) -> Delivery | None: ...

    def page(self, centre_id: str, status: str, limit: int, next_token: str | None) -> DeliveryPage: ...

    def replay(self, delivery: Delivery, now: datetime) -> Delivery | None:
        """Due again from now (pending, tries reset, replays + 1), unless it is pending already (None)."""
        ...


class IncidentRecords(Protocol):
    def get(self, incident_id: str) -> Incident | None: ...

    def alerts(self, incident_id: str) -> list[Alert]: ...

    def events(self, incident_id: str) -> list[IncidentEvent]: ...


class CentreList(Protocol):
    def all(self) -> list[DispatchCentre]: ...


class WebhookPoster(Protocol):
    def post(self, url: str, headers: dict[str, str], body: str, timeout_s: float) -> Posted: ...


class ParkedQueue(Protocol):
    def park(self, delivery: Delivery) -> None:
        """Tell ops: a message on the dead-letter queue an alarm watches."""
        ...


class ChangesQueue(Protocol):
    def changed(self, incident_id: str, dedup_id: str, centre_id: str | None = None) -> None:
        """Queue a run for the incident (behind any queued for it)."""
        ...


@dataclass(frozen=True)
class RunResult:
    sent: int
    parked: int
    retry_after_s: int | None  # None: nothing left to try for this incident now


@dataclass(frozen=True)
class Outbound:
    """What a run reads, writes and posts through, and its clock and budget."""

    records: IncidentRecords
    centres: CentreList
    log: DeliveryLog
    secrets: CentreSecrets
    poster: WebhookPoster
    parked: ParkedQueue
    now: Callable[[], datetime]
    time_left_s: Callable[[], float]  # of the function's time: a POST is started only with room for it
    retention_s: int  # a delivery's record is kept this long after it was first due
    credit_points: Mapping[str, int]  # the rescue Policy's points per reason (the close's credits_awarded)
    first_retry_s: int = FIRST_RETRY_S


def run(incident_id: str, out: Outbound, also_centre: str | None = None) -> RunResult:
    """Post what each centre that hears of the incident has not heard yet, in order (module doc).
    ``also_centre``: a replay's centre, heard even when the incident's records are gone."""
    incident = out.records.get(incident_id)
    everyone = out.centres.all()
    hearing = recipients(incident, everyone) if incident is not None else []
    if also_centre and all(c.centre_id != also_centre for c in hearing):
        hearing += [c for c in everyone if c.centre_id == also_centre]
    if not hearing:
        return RunResult(0, 0, None)
    planned = []
    if incident is not None:
        alerts, events = out.records.alerts(incident_id), out.records.events(incident_id)
        found = status_events(incident, alerts, events, out.credit_points)
        planned = [(e, body(incident, e)) for e in found]
    sent = parked_count = 0
    retry: int | None = None
    for centre in hearing:
        outcome = _run_centre(centre, incident_id, planned, out)
        sent, parked_count = sent + outcome.sent, parked_count + outcome.parked
        if outcome.retry_after_s is not None:
            retry = min(retry or outcome.retry_after_s, outcome.retry_after_s)
    return RunResult(sent, parked_count, retry)


def _run_centre(
    centre: DispatchCentre, incident_id: str, planned: Sequence[tuple[Any, str]], out: Outbound
) -> RunResult:
    log, now = out.log, out.now
    known = {d.webhook_id: d for d in log.of_incident(centre.centre_id, incident_id)}
    at = now()
    for event, text in planned:
        wid = webhook_id(incident_id, event.key)
        if wid not in known:
            known[wid] = log.add(
                Delivery(
                    centre_id=centre.centre_id,
                    webhook_id=wid,
                    incident_id=incident_id,
                    type=event.type,
                    position=event.position,
                    body=text,
                    status="pending",
                    created_at=at,
                    due_from=at,
                    expires_at=int(at.timestamp()) + out.retention_s,
                )
            )
    due = sorted((d for d in known.values() if d.status == "pending"), key=lambda d: d.position)
    if not due:
        return RunResult(0, 0, None)
    signing = out.secrets.read(centre.centre_id, centre.secret_version)
    sent = parked_count = 0
    for delivery in due:
        if out.time_left_s() < POST_TIMEOUT_S + 2:  # the rest in a run of its own, straight after
            return RunResult(sent, parked_count, 1)
        moment = now()
        if signing is None:
            posted = Posted(False, "no signing secret issued for the centre")
        else:
            headers = sign(signing.current, delivery.webhook_id, moment, delivery.body)
            posted = out.poster.post(
                centre.callback_url,
                headers | {"content-type": "application/json"},
                delivery.body,
                POST_TIMEOUT_S,
            )
        tried = replace(
            delivery, attempts=delivery.attempts + 1, last_attempt_at=moment, last_result=posted.result
        )
        if posted.ok:
            log.tried(replace(tried, status="delivered", delivered_at=moment))
            sent += 1
            continue
        if moment - delivery.due_from >= RETRY_FOR:
            failed = replace(tried, status="failed", failed_at=moment)
            log.tried(failed)
            out.parked.park(failed)
            parked_count += 1
            continue  # parked: the sequence goes on without it
        log.tried(tried)
        return RunResult(sent, parked_count, retry_delay_s(tried.attempts, out.first_retry_s))
    return RunResult(sent, parked_count, None)


# --- the admin's view ---------------------------------------------------------------------------------


def list_deliveries(
    log: DeliveryLog, centre_id: str, status: str, limit: int, next_token: str | None
) -> DeliveryPage:
    if status not in STATUSES:
        raise ValidationFailed(f"status: one of {', '.join(STATUSES)}")
    if not 1 <= limit <= MAX_PAGE:
        raise ValidationFailed(f"limit: from 1 to {MAX_PAGE}")
    return log.page(centre_id, status, limit, next_token)


def replay(
    log: DeliveryLog, queue: ChangesQueue, centre_id: str, delivery_id: str, now: datetime
) -> Delivery:
    """Send it again (a parked one, or one the centre says it lost), from its place in the incident's
    order: due for another 24 h, under the same webhook-id."""
    delivery = log.get(centre_id, delivery_id)
    if delivery is None:
        raise NotFound("delivery not found")
    again = log.replay(delivery, now)
    if again is None:
        raise Conflict("the delivery is pending already: it is being tried", code="already_pending")
    queue.changed(again.incident_id, f"{again.webhook_id}.replay{again.replays}", centre_id)
    return again


def shown(delivery: Delivery) -> dict[str, Any]:
    """A delivery as the admin's list shows it: the webhook as sent, and how its tries went."""
    return {
        "delivery_id": delivery.webhook_id,
        "incident_id": delivery.incident_id,
        "type": delivery.type,
        "status": delivery.status,
        "attempts": delivery.attempts,
        "created_at": delivery.created_at,
        "last_attempt_at": delivery.last_attempt_at,
        "last_result": delivery.last_result,
        "delivered_at": delivery.delivered_at,
        "failed_at": delivery.failed_at,
        "replays": delivery.replays,
        "payload": json.loads(delivery.body),
    }
