"""Notices: what alerts, stand-downs and re-routes say, and their delivery. Each notice is set in the
same conditional write as the state it announces, with a lease; it is published only under that lease,
then cleared; a failed publish gives the lease back, and a lapsed lease is taken over by the next step.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from shared.logic.concurrency import each
from shared.logic.messages import Text
from shared.logic.rescue.policy import Policy, epoch, option_of
from shared.logic.rescue.ports import (
    Alert,
    Incident,
    Notice,
    NoticeLeases,
    Notifier,
    Redelivery,
    StandDownStore,
)


def alert_text(incident: Incident, alert: Alert) -> Text:
    distance = (
        f"{alert.distance_m / 1000:.1f} km" if alert.distance_m >= 1000 else f"{alert.distance_m:.0f} m"
    )
    template = "rescue_alert_aed" if incident.slots_aed else "rescue_alert"
    return Text(template, {"distance": distance, "incident": incident.incident_id})


def stand_down_text(incident: Incident) -> Text:
    return Text("rescue_stand_down", {"incident": incident.incident_id})


def debrief_text(incident: Incident) -> Text:
    """The invitation to the debrief after the close (shared/logic/debriefs.py)."""
    return Text("rescue_debrief", {"incident": incident.incident_id})


def reroute_text(incident: Incident, alert: Alert) -> Text:
    option = option_of(incident, alert.aed_id)
    if option is None:
        return Text("rescue_reroute_no_aed", {"incident": incident.incident_id})
    where = f"{option.name}" + (f", {option.placement}" if option.placement else "")
    return Text("rescue_reroute", {"aed": where, "incident": incident.incident_id})


MARK_ATTEMPTS = 3


def record_sent(write: Callable[[], object]) -> None:
    """Record that something was sent. A record that fails would have the next step send it again (a
    second SMS to someone already on their way), so it is tried again at once, as the send was not."""
    for attempt in range(MARK_ATTEMPTS):
        try:
            write()
            return
        except Exception:
            if attempt == MARK_ATTEMPTS - 1:
                raise


class NoticesPending(Exception):
    """Some notices could not be published yet: the workflow retries the step."""


def deliver(
    store: NoticeLeases, notifier: Notifier, incident: Incident, alerts: list[Alert], kind: str
) -> int:
    """Publish one notice per alert, each on its own (one failure never stops the others); a failed
    one gives its lease back so the workflow's next step retries it. Returns how many failed."""

    def one(alert: Alert) -> None:
        text = (
            alert_text(incident, alert)
            if kind == "alert"
            else reroute_text(incident, alert)
            if kind == "reroute"
            else debrief_text(incident)
            if kind == "debrief"
            else stand_down_text(incident)
        )
        try:
            notifier.notify(alert, Notice(kind=kind, incident_id=incident.incident_id, text=text))
        except Exception:
            store.release_notice(alert.incident_id, alert.responder_id, kind)
            raise
        record_sent(lambda: store.notice_sent(alert.incident_id, alert.responder_id, kind))

    return sum(1 for result in each(one, alerts) if isinstance(result, Exception))


def deliver_pending(
    store: Redelivery, notifier: Notifier, incident: Incident, policy: Policy, now: datetime
) -> int:
    """Take over every notice whose lease lapsed (its publisher died or failed) and publish it."""
    taken: dict[str, list[Alert]] = {}
    for alert in store.alerts(incident.incident_id):
        if (
            alert.notice
            and (alert.notice_lease_until or 0) <= epoch(now)
            and store.take_notice(
                alert.incident_id,
                alert.responder_id,
                alert.notice,
                epoch(now),
                epoch(now) + policy.notice_lease_s,
            )
        ):
            taken.setdefault(alert.notice, []).append(alert)
    failed = sum(deliver(store, notifier, incident, alerts, kind) for kind, alerts in taken.items())
    return sum(len(a) for a in taken.values()) - failed


def stand_down_the_rest(
    store: StandDownStore, notifier: Notifier, incident: Incident, policy: Policy, now: datetime
) -> int:
    """Whoever is still only alerted is stood down (once each: the write is conditional) and told so."""
    lease = epoch(now) + policy.notice_lease_s
    waiting = [a for a in store.alerts(incident.incident_id) if a.state == "alerted"]
    written = each(lambda a: store.stand_down(a.incident_id, a.responder_id, lease, now), waiting)
    flipped = [a for a, ok in zip(waiting, written, strict=True) if ok is True]
    failed = deliver(store, notifier, incident, flipped, "stand_down")
    # A stand-down whose write failed (not one refused: that responder answered meanwhile) is still
    # owed: the step fails, and its retry finds that responder still only alerted.
    unwritten = sum(1 for ok in written if isinstance(ok, Exception))
    if failed or unwritten:
        raise NoticesPending(
            f"{incident.incident_id}: {failed} stand-downs not yet delivered, {unwritten} not yet written"
        )
    return len(flipped)
