"""The rescue loop's state in DynamoDB: every transition is a conditional write or a transaction."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from pynamodb.connection import Connection
from pynamodb.exceptions import DoesNotExist, TransactWriteError
from pynamodb.expressions.update import Action
from pynamodb.transactions import TransactWrite

from shared.config import settings
from shared.dal.conditions import conditionally, refused_by_condition
from shared.dal.models import (
    AlertModel,
    CreditModel,
    EventModel,
    GeoIndexModel,
    IncidentModel,
    ResponderModel,
    SosKeyModel,
)
from shared.errors import Conflict
from shared.logic.ports import (
    AED_USABLE,
    CLAIM,
    AedOption,
    Alert,
    Award,
    Credit,
    DuplicateSos,
    Incident,
    IncidentEvent,
)

SOS_KEY_TTL = timedelta(days=1)
# The AED-runner claim, a path inside the usable AED's index item (typed loosely: a raw map's path).
_CLAIMED_BY: Any = cast(Any, GeoIndexModel.attrs)[CLAIM]


def _claim_aed(tx: TransactWrite, aed_id: str, incident_id: str) -> None:
    """Within a transaction: the usable AED is claimed for this incident, if it is still usable and
    nobody holds it (its index item exists and carries no claim)."""
    tx.update(
        GeoIndexModel(entity_key=f"{AED_USABLE}#{aed_id}"),
        actions=[_CLAIMED_BY.set(incident_id)],
        condition=GeoIndexModel.entity_key.exists() & _CLAIMED_BY.does_not_exist(),
    )


def _replace_options(incident_id: str, before: list[AedOption], after: list[AedOption]) -> bool:
    """Write ``after`` only if the options are still ``before``."""
    return conditionally(
        lambda: IncidentModel(incident_id=incident_id).update(
            actions=[IncidentModel.aed_options.set(_options_json(after))],
            condition=IncidentModel.aed_options == _options_json(before),
        )
    )


def _options_json(options: list[AedOption]) -> str:
    return json.dumps([o.__dict__ for o in options], ensure_ascii=False)


def _num(value: Any) -> float | None:
    return None if value is None else float(value)


def _incident(m: IncidentModel) -> Incident:
    options = [AedOption(**o) for o in json.loads(m.aed_options)] if m.aed_options else []
    return Incident(
        incident_id=m.incident_id,
        status=m.status,
        lat=float(m.lat),
        lng=float(m.lng),
        created_at=m.created_at,
        slots_cpr=int(m.slots_cpr or 0),
        slots_aed=int(m.slots_aed or 0),
        filled_cpr=int(m.filled_cpr or 0),
        filled_aed=int(m.filled_aed or 0),
        aed_options=options,
        created_by=m.created_by,
        caller_phone=m.caller_phone,
        note=m.note,
        wave=int(m.wave or 1),
        unanswered=bool(m.unanswered),
        outcome=m.outcome,
        closed_at=m.closed_at,
        closure_token=m.closure_token,
        credits_awarded=bool(m.credits_awarded),
    )


def _alert(m: AlertModel) -> Alert:
    return Alert(
        incident_id=m.incident_id,
        responder_id=m.responder_id,
        state=m.state,
        wave=int(m.wave),
        distance_m=float(m.distance_m),
        lat=float(m.lat),
        lng=float(m.lng),
        alerted_at=m.alerted_at,
        phone=m.phone,
        push_endpoint_arn=m.push_endpoint_arn,
        role=m.role,
        aed_id=m.aed_id,
        answered_at=m.answered_at,
        notice=m.notice,
        notice_lease_until=None if m.notice_lease_until is None else int(m.notice_lease_until),
    )


class DynamoIncidents:
    def __init__(self) -> None:
        self._connection = Connection(region=settings().region)

    # -- incidents ----------------------------------------------------------------------------
    def create(self, incident: Incident, key_hash: str | None, body_hash: str) -> None:
        model = IncidentModel(
            incident_id=incident.incident_id,
            status=incident.status,
            lat=incident.lat,
            lng=incident.lng,
            created_at=incident.created_at,
            created_by=incident.created_by,
            caller_phone=incident.caller_phone,
            note=incident.note,
            slots_cpr=incident.slots_cpr,
            slots_aed=incident.slots_aed,
            filled_cpr=0,
            filled_aed=0,
            wave=1,
            unanswered=False,
        )
        if key_hash is None:
            model.save(condition=IncidentModel.incident_id.does_not_exist())
            return
        key = SosKeyModel(
            key_hash=key_hash,
            incident_id=incident.incident_id,
            body_hash=body_hash,
            expires_at=int(time.time() + SOS_KEY_TTL.total_seconds()),
        )
        try:
            with TransactWrite(connection=self._connection) as tx:
                tx.save(key, condition=SosKeyModel.key_hash.does_not_exist())
                tx.save(model, condition=IncidentModel.incident_id.does_not_exist())
        except TransactWriteError as error:
            reasons = error.cancellation_reasons or []
            if not reasons or reasons[0] is None or reasons[0].code != "ConditionalCheckFailed":
                raise
            existing = SosKeyModel.get(key_hash, consistent_read=True)
            raise DuplicateSos(existing.incident_id, existing.body_hash == body_hash) from error

    def get(self, incident_id: str) -> Incident | None:
        try:
            return _incident(IncidentModel.get(incident_id, consistent_read=True))
        except DoesNotExist:
            return None

    def set_aed_options(self, incident_id: str, options: list[AedOption], slots_aed: int) -> None:
        IncidentModel(incident_id=incident_id).update(
            actions=[
                IncidentModel.aed_options.set(_options_json(options)),
                IncidentModel.slots_aed.set(slots_aed),
            ],
            condition=IncidentModel.incident_id.exists(),
        )

    def drop_aed_option(self, incident_id: str, aed_id: str) -> Incident | None:
        """Take one AED out of the incident's options (it was found unusable). Read-modify-write guarded
        by the value read, so two reports at once each remove their own AED."""
        for _ in range(5):
            incident = self.get(incident_id)
            if incident is None:
                return None
            options = incident.aed_options or []
            remaining = [o for o in options if o.aed_id != aed_id]
            if len(remaining) == len(options):
                return incident
            if _replace_options(incident_id, options, remaining):
                incident.aed_options = remaining
                return incident
        raise Conflict("the incident's AEDs kept changing; try again", code="incident_changed")

    def set_wave(self, incident_id: str, wave: int) -> None:
        IncidentModel(incident_id=incident_id).update(actions=[IncidentModel.wave.set(wave)])

    def advance_status(self, incident_id: str, to: str, allowed_from: tuple[str, ...]) -> bool:
        return conditionally(
            lambda: IncidentModel(incident_id=incident_id).update(
                actions=[IncidentModel.status.set(to)], condition=IncidentModel.status.is_in(*allowed_from)
            )
        )

    def mark_unanswered(self, incident_id: str) -> bool:
        return conditionally(
            lambda: IncidentModel(incident_id=incident_id).update(
                actions=[IncidentModel.unanswered.set(True)],
                condition=(IncidentModel.unanswered == False) & (IncidentModel.status != "closed"),  # noqa: E712
            )
        )

    def close(self, incident_id: str, outcome: str, closed_at: datetime) -> Incident | None:
        model = IncidentModel(incident_id=incident_id)
        if not conditionally(
            lambda: model.update(
                actions=[
                    IncidentModel.status.set("closed"),
                    IncidentModel.outcome.set(outcome),
                    IncidentModel.closed_at.set(closed_at.astimezone(UTC).isoformat()),
                ],
                condition=IncidentModel.incident_id.exists() & (IncidentModel.status != "closed"),
            )
        ):
            return None
        return _incident(model)

    def store_closure_token(self, incident_id: str, token: str) -> bool:
        return conditionally(
            lambda: IncidentModel(incident_id=incident_id).update(
                actions=[IncidentModel.closure_token.set(token)], condition=IncidentModel.status != "closed"
            )
        )

    # -- alerts -------------------------------------------------------------------------------
    def add_alert(self, alert: Alert) -> bool:
        model = AlertModel(
            incident_id=alert.incident_id,
            responder_id=alert.responder_id,
            state=alert.state,
            wave=alert.wave,
            distance_m=alert.distance_m,
            lat=alert.lat,
            lng=alert.lng,
            phone=alert.phone,
            push_endpoint_arn=alert.push_endpoint_arn,
            alerted_at=alert.alerted_at,
            notice=alert.notice,
            notice_lease_until=alert.notice_lease_until,
            notices_sent=0,
        )
        # Never alert a responder twice for one incident: the key is the guard.
        return conditionally(lambda: model.save(condition=AlertModel.responder_id.does_not_exist()))

    def alerts(self, incident_id: str) -> list[Alert]:
        return [_alert(m) for m in AlertModel.query(incident_id, consistent_read=True)]

    def get_alert(self, incident_id: str, responder_id: str) -> Alert | None:
        try:
            return _alert(AlertModel.get(incident_id, responder_id, consistent_read=True))
        except DoesNotExist:
            return None

    def notice_sent(self, incident_id: str, responder_id: str, notice: str) -> None:
        conditionally(
            lambda: AlertModel(incident_id=incident_id, responder_id=responder_id).update(
                actions=[
                    AlertModel.notice.remove(),
                    AlertModel.notice_lease_until.remove(),
                    AlertModel.notices_sent.add(1),
                ],
                condition=AlertModel.notice == notice,
            )
        )

    def release_notice(self, incident_id: str, responder_id: str, notice: str) -> None:
        conditionally(
            lambda: AlertModel(incident_id=incident_id, responder_id=responder_id).update(
                actions=[AlertModel.notice_lease_until.set(0)], condition=AlertModel.notice == notice
            )
        )

    def take_notice(
        self, incident_id: str, responder_id: str, notice: str, now: int, lease_until: int
    ) -> bool:
        return conditionally(
            lambda: AlertModel(incident_id=incident_id, responder_id=responder_id).update(
                actions=[AlertModel.notice_lease_until.set(lease_until)],
                condition=(AlertModel.notice == notice) & (AlertModel.notice_lease_until <= now),
            )
        )

    def accept(
        self, incident_id: str, responder_id: str, role: str, aed_id: str | None, now: datetime
    ) -> bool:
        """One transaction: the slot, the alert's answer, and (for an AED runner) the AED itself."""
        filled, slots = (
            (IncidentModel.filled_aed, IncidentModel.slots_aed)
            if role == "aed"
            else (IncidentModel.filled_cpr, IncidentModel.slots_cpr)
        )
        try:
            with TransactWrite(connection=self._connection) as tx:
                tx.update(
                    IncidentModel(incident_id=incident_id),
                    actions=[filled.add(1)],
                    condition=(filled < slots) & (IncidentModel.status != "closed"),
                )
                alert_actions: list[Action] = [
                    AlertModel.state.set("accepted"),
                    AlertModel.role.set(role),
                    AlertModel.answered_at.set(now),
                ]
                if aed_id:
                    alert_actions.append(AlertModel.aed_id.set(aed_id))
                tx.update(
                    AlertModel(incident_id=incident_id, responder_id=responder_id),
                    actions=alert_actions,
                    condition=AlertModel.state == "alerted",
                )
                if aed_id:
                    _claim_aed(tx, aed_id, incident_id)
        except TransactWriteError as error:
            if refused_by_condition(error):
                return False
            raise
        return True

    def decline(self, incident_id: str, responder_id: str, now: datetime) -> bool:
        return conditionally(
            lambda: AlertModel(incident_id=incident_id, responder_id=responder_id).update(
                actions=[AlertModel.state.set("declined"), AlertModel.answered_at.set(now)],
                condition=AlertModel.state == "alerted",
            )
        )

    def reassign_aed(
        self,
        incident_id: str,
        responder_id: str,
        old_aed_id: str,
        new_aed_id: str | None,
        lease_until: int | None,
    ) -> bool:
        """An AED runner whose AED is unusable: claim ``new_aed_id`` for them (or, with None, turn them to
        CPR) in one transaction with the alert, which must still hold ``old_aed_id``. With
        ``lease_until`` a "reroute" notice is queued for them in the same write."""
        actions: list[Action] = (
            [AlertModel.aed_id.set(new_aed_id)]
            if new_aed_id
            else [AlertModel.aed_id.remove(), AlertModel.role.set("cpr")]
        )
        if lease_until is not None:
            actions += [AlertModel.notice.set("reroute"), AlertModel.notice_lease_until.set(lease_until)]
        try:
            with TransactWrite(connection=self._connection) as tx:
                tx.update(
                    AlertModel(incident_id=incident_id, responder_id=responder_id),
                    actions=actions,
                    condition=(AlertModel.state == "accepted") & (AlertModel.aed_id == old_aed_id),
                )
                if new_aed_id:
                    _claim_aed(tx, new_aed_id, incident_id)
        except TransactWriteError as error:
            if refused_by_condition(error):
                return False
            raise
        return True

    def stand_down(self, incident_id: str, responder_id: str, lease_until: int) -> bool:
        """alerted → stood_down, with its notice, once: the condition makes it exactly one. An alert
        still being sent is stood down too: its publisher finishes, the stand-down follows."""
        return conditionally(
            lambda: AlertModel(incident_id=incident_id, responder_id=responder_id).update(
                actions=[
                    AlertModel.state.set("stood_down"),
                    AlertModel.notice.set("stand_down"),
                    AlertModel.notice_lease_until.set(lease_until),
                ],
                condition=AlertModel.state == "alerted",
            )
        )

    # -- events and credits --------------------------------------------------------------------
    def add_event(self, event: IncidentEvent) -> None:
        EventModel(
            incident_id=event.incident_id,
            event_id=event.event_id,
            type=event.type,
            actor=event.actor,
            actor_role=event.actor_role,
            at=event.at,
            lat=event.lat,
            lng=event.lng,
            detail=event.detail,
        ).save()

    def events(self, incident_id: str) -> list[IncidentEvent]:
        return [
            IncidentEvent(
                m.incident_id,
                m.event_id,
                m.type,
                m.actor,
                m.actor_role,
                m.at,
                _num(m.lat),
                _num(m.lng),
                m.detail,
            )
            for m in EventModel.query(incident_id, consistent_read=True)
        ]

    def award(self, incident_id: str, awards: list[Award], at: datetime) -> bool:
        """All of an incident's points in one transaction, guarded three ways: the incident's flag, each
        (incident, responder, reason) credit's key, and the closed status."""
        totals: dict[str, int] = {}
        for award in awards:
            totals[award.responder_id] = totals.get(award.responder_id, 0) + award.points
        try:
            with TransactWrite(connection=self._connection) as tx:
                tx.update(
                    IncidentModel(incident_id=incident_id),
                    actions=[IncidentModel.credits_awarded.set(True)],
                    condition=(IncidentModel.status == "closed")
                    & IncidentModel.credits_awarded.does_not_exist(),
                )
                for award in awards:
                    tx.save(
                        CreditModel(
                            responder_id=award.responder_id,
                            credit_key=f"{incident_id}#{award.reason}",
                            incident_id=incident_id,
                            reason=award.reason,
                            points=award.points,
                            at=at,
                        ),
                        condition=CreditModel.credit_key.does_not_exist(),
                    )
                # One balance update per responder: a transaction may touch an item only once.
                for responder_id, points in totals.items():
                    tx.update(
                        ResponderModel(responder_id=responder_id),
                        actions=[ResponderModel.credits_balance.add(points)],
                        condition=ResponderModel.responder_id.exists(),
                    )
        except TransactWriteError as error:
            if refused_by_condition(error):
                return False
            raise
        return True

    def credits(self, responder_id: str) -> list[Credit]:
        return [
            Credit(m.incident_id, m.reason, int(m.points), m.at)
            for m in CreditModel.query(responder_id, consistent_read=True)
        ]


class GeoAedClaims:
    """An AED runner's claim lives on the AED's usable-index item: found AEDs show who holds them."""

    def release(self, aed_id: str, incident_id: str) -> None:
        conditionally(
            lambda: GeoIndexModel(entity_key=f"{AED_USABLE}#{aed_id}").update(
                actions=[_CLAIMED_BY.remove()],
                condition=incident_id == _CLAIMED_BY,
            )
        )
