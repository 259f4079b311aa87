"""Waves of alerts: who is alerted (nobody twice), the workflow's re-delivery of whatever a step could
not publish, the wider later waves, and the unanswered mark when the last wave ends with slots open."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from shared.logic.concurrency import each
from shared.logic.ids import new_id
from shared.logic.ports import RESPONDER, GeoIndex
from shared.logic.rescue.limits import alert_limits
from shared.logic.rescue.notices import (
    NoticesPending,
    deliver,
    deliver_pending,
    record_sent,
    stand_down_the_rest,
)
from shared.logic.rescue.policy import Policy, epoch, incident_or_404, once_key, recount
from shared.logic.rescue.ports import (
    ALERT_ALREADY,
    ALERT_WRITTEN,
    Alert,
    AlertWriter,
    Incident,
    IncidentEvent,
    Notifier,
    WaveStore,
)
from shared.logic.teams import TEAM_ATTRIBUTE


def new_alerts(
    incident: Incident,
    responders: list[Any],
    already: set[str],
    size: int,
    *,
    wave: int,
    now: datetime,
    policy: Policy,
) -> list[Alert]:
    lease = epoch(now) + policy.notice_lease_s
    chosen = [h for h in responders if h.entity_id not in already][:size]
    return [
        Alert(
            incident_id=incident.incident_id,
            responder_id=h.entity_id,
            state="alerted",
            wave=wave,
            distance_m=round(h.distance_m, 1),
            lat=h.lat,
            lng=h.lng,
            alerted_at=now,
            phone=h.attributes.get("phone"),
            push_endpoint_arn=h.attributes.get("push_endpoint_arn"),
            team_id=h.attributes.get(TEAM_ATTRIBUTE),
            notice="alert",
            notice_lease_until=lease,
        )
        for h in chosen
    ]


def write_alerts(
    store: AlertWriter,
    incident: Incident,
    responders: list[Any],
    already: set[str],
    size: int,
    *,
    wave: int,
    now: datetime,
    policy: Policy,
) -> list[Alert]:
    """Alert the ``size`` nearest responders not in ``already`` who may be alerted now: those whose
    write is refused (in another rescue, over their cap) give their place to the next nearest, in
    another round of parallel writes, until ``size`` are alerted or nobody is left; one found alerted
    already (a double tap's other request wrote it) keeps their place. A write that failed (a throttle,
    a timeout) is tried once more in that next round. Returns the alerts this call wrote."""
    limits = alert_limits(incident, policy, now)
    pool = [h for h in responders if h.entity_id not in already]
    fresh: list[Alert] = []
    taken = 0
    tried_twice: set[str] = set()
    while taken < size and pool:
        batch, pool = pool[: size - taken], pool[size - taken :]
        alerts = new_alerts(incident, batch, set(), len(batch), wave=wave, now=now, policy=policy)
        written = each(lambda alert: store.add_alert(alert, limits), alerts)
        fresh += [a for a, result in zip(alerts, written, strict=True) if result == ALERT_WRITTEN]
        taken += sum(1 for result in written if result in (ALERT_WRITTEN, ALERT_ALREADY))
        failed = [h for h, result in zip(batch, written, strict=True) if isinstance(result, Exception)]
        pool = [h for h in failed if h.entity_id not in tried_twice] + pool
        tried_twice |= {h.entity_id for h in failed}
    return fresh


def redeliver(
    store: WaveStore, notifier: Notifier, incident_id: str, policy: Policy, now: datetime
) -> dict[str, Any]:
    """The workflow's first state (and every later one): finish what the SOS request could not."""
    incident = incident_or_404(store, incident_id)
    delivered = deliver_pending(store, notifier, incident, policy, now)
    alerts = store.alerts(incident_id)
    recount(store, incident, alerts)
    if any(a.notice for a in alerts):
        raise NoticesPending(f"{incident_id}: notices still pending")
    return {"delivered": delivered}


def assess(store: WaveStore, incident_id: str) -> dict[str, Any]:
    incident = incident_or_404(store, incident_id)
    return {
        "closed": incident.closed,
        "slots_open": incident.slots_open,
        "needs_more": incident.slots_open > 0,
    }


def dispatch_wave(
    store: WaveStore,
    geo: GeoIndex,
    notifier: Notifier,
    incident_id: str,
    wave: int,
    policy: Policy,
    now: datetime,
) -> dict[str, Any]:
    """A later wave: wider radius, the next responders nobody alerted yet."""
    incident = incident_or_404(store, incident_id)
    if incident.closed or incident.slots_open == 0:
        return {"alerted": 0}
    already = {a.responder_id for a in store.alerts(incident_id)}
    responders = geo.nearby(RESPONDER, incident.lat, incident.lng, policy.wave2_radius_m, epoch(now))
    fresh = write_alerts(
        store, incident, responders, already, policy.wave2_size, wave=wave, now=now, policy=policy
    )
    store.set_wave(incident_id, wave)
    failed = deliver(store, notifier, incident, fresh, "alert")
    if len(already) + len(fresh) > incident.alerted:  # also a retry's, whose alerts are all "already"
        store.count_alerted(incident_id, len(already) + len(fresh))
    # The last slot may have filled while this wave went out, after that accept stood the others
    # down: stand down the newcomers too (the conditional write keeps it to one each).
    after = store.get(incident_id)
    if after is not None and (after.closed or after.slots_open == 0):
        stand_down_the_rest(store, notifier, after, policy, now)
    if failed:
        raise NoticesPending(f"{incident_id}: {failed} alerts of wave {wave} not yet delivered")
    return {"alerted": len(fresh)}


def declare_unanswered(
    store: WaveStore, notifier: Notifier, incident_id: str, now: datetime
) -> dict[str, Any]:
    """The last wave ended with open slots: mark it, record it, tell the dispatch centre (once).
    ``declared``: this call told the centre. Each part holds on its own, so a step that fails half-way
    and is retried finishes the rest: the mark is conditional, the event once-only, and the centre is
    told until its telling is recorded (recorded again at once if that write fails)."""
    incident = incident_or_404(store, incident_id)
    # Closed, or every slot filled (the workflow comes here also when an assessment failed): answered.
    if incident.closed or incident.slots_open == 0:
        return {"unanswered": False, "declared": False}
    store.mark_unanswered(incident_id)
    event = IncidentEvent(incident_id, new_id(), "unanswered", None, "system", now)
    store.add_event_once(event, once_key(incident_id, None, "unanswered", None) or "")
    if incident.centre_told:
        return {"unanswered": True, "declared": False}
    notifier.tell_dispatch_centre(
        incident_id,
        f"Incident {incident_id} at {incident.lat:.5f},{incident.lng:.5f}: "
        f"{incident.slots_open} responder slots still open after the last wave. "
        "Send help by other means.",
    )
    record_sent(lambda: store.mark_centre_told(incident_id))
    return {"unanswered": True, "declared": True}
