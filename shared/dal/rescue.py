"""The rescue loop's state in DynamoDB: every transition is a conditional write or a transaction.

``DynamoIncidents`` implements every stage's port (shared/logic/rescue/ports.py: ``IncidentStore``) and
the responders' ``CreditHistory``."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, cast
from zoneinfo import ZoneInfo

from pynamodb.connection import Connection
from pynamodb.exceptions import DoesNotExist, TransactWriteError
from pynamodb.expressions.update import Action
from pynamodb.transactions import TransactWrite

from shared.config import settings
from shared.dal.conditions import conditionally, refused_by_condition
from shared.dal.mapping import as_json, from_model, stored, to_model
from shared.dal.models.geo_index import GeoIndexModel
from shared.dal.models.rescue import (
    AlertModel,
    CreditModel,
    EventModel,
    IncidentModel,
    IncidentsByListingIndex,
    SosKeyModel,
)
from shared.dal.models.responders import ResponderModel
from shared.dal.paging import NOT_OURS, one_page, read_token
from shared.errors import Conflict, ValidationFailed
from shared.logic.concurrency import together
from shared.logic.ports import AED_USABLE, CLAIM, Credit
from shared.logic.rescue.policy import hashed
from shared.logic.rescue.ports import (
    ALERT_ALREADY,
    ALERT_REFUSED,
    ALERT_WRITTEN,
    AedOption,
    Alert,
    AlertLimits,
    Award,
    DuplicateSos,
    GuardKey,
    Incident,
    IncidentEvent,
    IncidentPage,
    IncidentSummary,
    SourceLimit,
    SourceOverLimit,
)

SOS_KEY_TTL = timedelta(days=1)
_CONFLICT_ATTEMPTS = 4  # a transaction DynamoDB cancelled as a conflict with another: tried this often
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
    """As the incident's item holds them (also compared as text: see ``_replace_options``)."""
    return as_json(options)


stored(
    Incident,
    IncidentModel,
    storage_only={"listing": "derived from status: the by-listing index's partition (listing_of)"},
)
_SUMMARY_FIELDS = {f.name for f in dataclasses.fields(IncidentSummary)}
# The list reads the summary from the index: everything else of the incident is not there.
stored(
    IncidentSummary,
    IncidentModel,
    storage_only={
        name: "not in the by-listing index: the list shows none of it"
        for name in IncidentModel.get_attributes()
        if name not in _SUMMARY_FIELDS
    },
)
stored(
    Alert,
    AlertModel,
    storage_only={
        "notices_sent": "how many notices SNS took for this alert: a counter for operators",
        "expires_at": "TTL, set by expire() when the rescue finishes",
    },
)
stored(
    IncidentEvent, EventModel, storage_only={"expires_at": "TTL, set by expire() when the rescue finishes"}
)
stored(
    Credit,
    CreditModel,
    storage_only={
        "responder_id": "the partition: credits are read by responder",
        "credit_key": "the sort key, derived: incident_id#reason (the guard against a double award)",
        "month": "the by-month index's partition, derived: the local month of at (the leaderboard)",
        "exported_in": "the credits export that listed it (shared/logic/credits_export.py), not the credit's",
    },
)


OPEN, CLOSED = "open", "closed"
_TOKEN_KEYS = {"incident_id", "listing", "created_at"}  # an index Query's LastEvaluatedKey


def listing_of(status: str) -> str | None:
    """Which list an incident is on: closed once closed, none when merged into another, else open."""
    return CLOSED if status == "closed" else None if status == "merged" else OPEN


def _start_key(token: str, listing: str, since: datetime | None) -> dict[str, Any]:
    """The Query's ExclusiveStartKey from a token of this very list whose place the query still reaches
    (created at ``since`` or later), else ValidationFailed: DynamoDB would refuse a key of another list
    or outside the query's range, and that must be a 422, not a 500."""
    key = read_token(token, _TOKEN_KEYS)
    valid = key["listing"]["S"] == listing
    if valid:
        try:
            created = IncidentModel.created_at.deserialize(key["created_at"]["S"])
        except ValueError:
            valid = False
        else:
            valid = since is None or created >= since
    if not valid:
        raise ValidationFailed(NOT_OURS)
    return key


# For callers that write an alert outside a wave (tools, tests): no caps; a busy responder still refused.
UNCAPPED = AlertLimits(hour=0, day=0, per_hour=None, per_day=None, now_epoch=0)


def _count(tx: TransactWrite, key_hash: str, cap: int | None, expires_at: int) -> None:
    """Add one to a count in ``tx``; with a cap, refused when the count has reached it."""
    condition = (SosKeyModel.tally.does_not_exist() | (SosKeyModel.tally < cap)) if cap is not None else None
    tx.update(
        SosKeyModel(key_hash=key_hash),
        actions=[SosKeyModel.tally.add(1), SosKeyModel.expires_at.set(expires_at)],
        condition=condition,
    )


class DynamoIncidents:
    def __init__(self, connection: Connection | None = None) -> None:
        # The transactions' connection: shared.wiring hands in the one every table uses (a client of
        # its own would be built on the SOS's critical path).
        self._connection = connection or Connection(region=settings().region)

    # -- incidents ----------------------------------------------------------------------------
    def create(
        self,
        incident: Incident,
        key_hash: str | None,
        body_hash: str,
        limits: Sequence[SourceLimit] = (),
        keys: Sequence[GuardKey] = (),
    ) -> None:
        """The incident with its guard keys and counts, in one transaction. Two writers of one key at
        the same moment (a centre's duplicate deliveries) may have DynamoDB cancel one as a conflict,
        applying nothing: tried again, briefly, it then finds the other's key (DuplicateSos)."""
        for attempt in range(_CONFLICT_ATTEMPTS):
            try:
                self._create(incident, key_hash, body_hash, limits, keys)
                return
            except TransactWriteError as error:
                codes = {r.code for r in error.cancellation_reasons or [] if r is not None}
                if codes != {"TransactionConflict"} or attempt == _CONFLICT_ATTEMPTS - 1:
                    raise
                time.sleep(0.02 * (attempt + 1))

    def _create(
        self,
        incident: Incident,
        key_hash: str | None,
        body_hash: str,
        limits: Sequence[SourceLimit],
        keys: Sequence[GuardKey],
    ) -> None:
        # An incident's credits_awarded is absent until its points are given: award()'s condition.
        model = to_model(
            IncidentModel,
            incident,
            credits_awarded=True if incident.credits_awarded else None,
            listing=listing_of(incident.status),
        )
        if key_hash is None and not limits and not keys:
            model.save(condition=IncidentModel.incident_id.does_not_exist())
            return
        try:
            with TransactWrite(connection=self._connection) as tx:
                if key_hash is not None:  # first: a retry is told apart from a source over its limit
                    key = SosKeyModel(
                        key_hash=key_hash,
                        incident_id=incident.incident_id,
                        body_hash=body_hash,
                        expires_at=int(time.time() + SOS_KEY_TTL.total_seconds()),
                    )
                    tx.save(key, condition=SosKeyModel.key_hash.does_not_exist())
                for guard in keys:  # then these, in order: the first refused names the incident
                    tx.save(
                        SosKeyModel(
                            key_hash=guard.key_hash,
                            incident_id=incident.incident_id,
                            body_hash=guard.body_hash,
                            expires_at=guard.expires_at,
                        ),
                        condition=SosKeyModel.key_hash.does_not_exist(),
                    )
                tx.save(model, condition=IncidentModel.incident_id.does_not_exist())
                for limit in limits:
                    _count(
                        tx,
                        hashed("sos", limit.source, limit.window),
                        limit.cap,
                        (limit.window + 1) * limit.window_s,
                    )
        except TransactWriteError as error:
            reasons = error.cancellation_reasons or []
            refused = [r is not None and r.code == "ConditionalCheckFailed" for r in reasons]
            if key_hash is not None and refused[:1] == [True]:
                existing = SosKeyModel.get(key_hash, consistent_read=True)
                raise DuplicateSos(existing.incident_id, existing.body_hash == body_hash) from error
            first = 1 if key_hash is not None else 0
            for guard, no in zip(keys, refused[first : first + len(keys)], strict=False):
                if no:
                    existing = SosKeyModel.get(guard.key_hash, consistent_read=True)
                    raise DuplicateSos(existing.incident_id, existing.body_hash == guard.body_hash) from error
            over = (
                [limit for limit, no in zip(limits, refused[-len(limits) :], strict=True) if no]
                if limits
                else []
            )
            if over:
                raise SourceOverLimit(over[0]) from error
            raise

    def merge(self, incident_id: str, into: str, joined: IncidentEvent) -> bool:
        try:
            with TransactWrite(connection=self._connection) as tx:
                tx.update(
                    IncidentModel(incident_id=incident_id),
                    actions=[
                        IncidentModel.status.set("merged"),
                        IncidentModel.merged_into.set(into),
                        IncidentModel.listing.remove(),  # on neither list: it is the other's now
                    ],
                    condition=IncidentModel.status == "dispatching",
                )
                tx.save(to_model(EventModel, joined))
        except TransactWriteError as error:
            if refused_by_condition(error):
                return False
            raise
        return True

    def get(self, incident_id: str) -> Incident | None:
        try:
            return from_model(Incident, IncidentModel.get(incident_id, consistent_read=True))
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

    def mark_centre_told(self, incident_id: str) -> None:
        IncidentModel(incident_id=incident_id).update(actions=[IncidentModel.centre_told.set(True)])

    def close(self, incident_id: str, outcome: str, closed_at: datetime) -> Incident | None:
        model = IncidentModel(incident_id=incident_id)
        if not conditionally(
            lambda: model.update(
                actions=[
                    IncidentModel.status.set("closed"),
                    IncidentModel.listing.set(CLOSED),  # onto the closed list in the same write
                    IncidentModel.outcome.set(outcome),
                    IncidentModel.closed_at.set(closed_at.astimezone(UTC).isoformat()),
                ],
                condition=IncidentModel.incident_id.exists() & (IncidentModel.status != "closed"),
            )
        ):
            return None
        return from_model(Incident, model)

    def list_incidents(
        self, listing: str, since: datetime | None, limit: int, next_token: str | None
    ) -> IncidentPage:
        """One Query on the by-listing index, newest first, reading ``limit`` + 1 items (the one more
        tells whether there is a next page, so the last page never comes back empty)."""
        start = _start_key(next_token, listing, since) if next_token else None
        results = IncidentModel.by_listing.query(
            listing,
            range_key_condition=(IncidentsByListingIndex.created_at >= since) if since else None,
            scan_index_forward=False,
            limit=limit + 1,
            last_evaluated_key=start,
        )
        return IncidentPage(*one_page(results, limit, lambda model: from_model(IncidentSummary, model)))

    def store_closure_token(self, incident_id: str, token: str) -> bool:
        return conditionally(
            lambda: IncidentModel(incident_id=incident_id).update(
                actions=[IncidentModel.closure_token.set(token)], condition=IncidentModel.status != "closed"
            )
        )

    # -- alerts -------------------------------------------------------------------------------
    def add_alert(self, alert: Alert, limits: AlertLimits = UNCAPPED) -> str:
        """One transaction: the alert (never twice for one incident: the key is the guard), the
        responder on duty now by their own record (the geo index that found them keeps an item for a
        lease that outlasts the presence: shared.logic.responders.update_presence), not busy in another
        rescue, and their hour's and day's counts within the caps."""
        model = to_model(AlertModel, alert, notices_sent=0)
        responder = alert.responder_id
        try:
            with TransactWrite(connection=self._connection) as tx:
                tx.save(model, condition=AlertModel.responder_id.does_not_exist())
                tx.condition_check(
                    SosKeyModel,
                    hashed("busy", responder),
                    condition=SosKeyModel.incident_id.does_not_exist()
                    | (SosKeyModel.incident_id == alert.incident_id)
                    | (SosKeyModel.expires_at < limits.now_epoch),
                )
                tx.condition_check(
                    ResponderModel,
                    responder,
                    condition=(ResponderModel.available == True)  # noqa: E712 (a DynamoDB condition)
                    & (ResponderModel.presence_expires_at > datetime.fromtimestamp(limits.now_epoch, UTC)),
                )
                _count(
                    tx,
                    hashed("alerts-hour", responder, limits.hour),
                    limits.per_hour,
                    (limits.hour + 1) * 3600,
                )
                _count(
                    tx,
                    hashed("alerts-day", responder, limits.day),
                    limits.per_day,
                    limits.now_epoch + 2 * 86400,
                )
        except TransactWriteError as error:
            if not refused_by_condition(error):
                raise
            reasons = error.cancellation_reasons or []
            # pynamodb sends a transaction's condition checks first (2), then its puts: the alert is 3rd.
            put = reasons[2] if len(reasons) > 2 else None
            return (
                ALERT_ALREADY if put is not None and put.code == "ConditionalCheckFailed" else ALERT_REFUSED
            )
        return ALERT_WRITTEN

    def count_alerted(self, incident_id: str, at_least: int) -> None:
        conditionally(
            lambda: IncidentModel(incident_id=incident_id).update(
                actions=[IncidentModel.alerted.set(at_least)],
                condition=IncidentModel.incident_id.exists()
                & (IncidentModel.alerted.does_not_exist() | (IncidentModel.alerted < at_least)),
            )
        )

    def alerts(self, incident_id: str) -> list[Alert]:
        return [from_model(Alert, m) for m in AlertModel.query(incident_id, consistent_read=True)]

    def get_alert(self, incident_id: str, responder_id: str) -> Alert | None:
        try:
            return from_model(Alert, AlertModel.get(incident_id, responder_id, consistent_read=True))
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
        self,
        incident_id: str,
        responder_id: str,
        role: str,
        aed_id: str | None,
        now: datetime,
        busy_until: int | None = None,
    ) -> bool:
        """One transaction: the slot, the alert's answer, the responder busy in this rescue, and (for an
        AED runner) the AED itself."""
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
                if busy_until is not None:
                    busy = SosKeyModel(
                        key_hash=hashed("busy", responder_id), incident_id=incident_id, expires_at=busy_until
                    )
                    tx.save(busy)
                if aed_id:
                    _claim_aed(tx, aed_id, incident_id)
        except TransactWriteError as error:
            if refused_by_condition(error):
                return False
            raise
        return True

    def expire(self, incident_id: str, at: int) -> None:
        """The rescue's alerts and events go by TTL at ``at``; those already set keep theirs."""

        def mark(item: AlertModel | EventModel) -> None:
            model = type(item)
            item.update(actions=[model.expires_at.set(at)], condition=model.expires_at.does_not_exist())

        items: list[AlertModel | EventModel] = [
            *AlertModel.query(incident_id),
            *EventModel.query(incident_id),
        ]
        for item in items:
            conditionally(lambda: mark(item))  # noqa: B023 - called at once

    def release(self, incident_id: str, responder_ids: list[str]) -> None:
        def unmark(responder_id: str) -> None:  # only this rescue's mark: a later one is not touched
            SosKeyModel(key_hash=hashed("busy", responder_id)).delete(
                condition=SosKeyModel.incident_id == incident_id
            )

        for responder_id in responder_ids:
            conditionally(lambda: unmark(responder_id))  # noqa: B023 - called at once

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

    def stand_down(self, incident_id: str, responder_id: str, lease_until: int, at: datetime) -> bool:
        """alerted → stood_down, with its notice, once: the condition makes it exactly one. An alert
        still being sent is stood down too: its publisher finishes, the stand-down follows."""
        return conditionally(
            lambda: AlertModel(incident_id=incident_id, responder_id=responder_id).update(
                actions=[
                    AlertModel.state.set("stood_down"),
                    AlertModel.stood_down_at.set(at),
                    AlertModel.notice.set("stand_down"),
                    AlertModel.notice_lease_until.set(lease_until),
                ],
                condition=AlertModel.state == "alerted",
            )
        )

    # -- events and credits --------------------------------------------------------------------
    def add_event(self, event: IncidentEvent) -> None:
        to_model(EventModel, event).save()

    def add_event_once(self, event: IncidentEvent, once_key: str) -> IncidentEvent:
        """The event and its once-only key in one transaction; when the key exists, the event it
        names. Concurrent writers of one key conflict (TransactionConflict): tried again, briefly."""
        key = SosKeyModel(
            key_hash=once_key,
            incident_id=event.incident_id,
            body_hash=event.event_id,  # for an event's key: the event it recorded
            expires_at=int(time.time() + SOS_KEY_TTL.total_seconds()),
        )
        for attempt in range(4):
            try:
                with TransactWrite(connection=self._connection) as tx:
                    tx.save(key, condition=SosKeyModel.key_hash.does_not_exist())
                    tx.save(to_model(EventModel, event))
                return event
            except TransactWriteError as error:
                reasons = error.cancellation_reasons or []
                codes = {reason.code for reason in reasons if reason is not None}
                if "ConditionalCheckFailed" in codes:
                    existing = SosKeyModel.get(once_key, consistent_read=True)
                    first = EventModel.get(event.incident_id, existing.body_hash, consistent_read=True)
                    return from_model(IncidentEvent, first)
                if "TransactionConflict" not in codes or attempt == 3:
                    raise
                time.sleep(0.02 * (attempt + 1))  # another writer of this key is committing
        raise AssertionError("unreachable")

    def events(self, incident_id: str) -> list[IncidentEvent]:
        return [from_model(IncidentEvent, m) for m in EventModel.query(incident_id, consistent_read=True)]

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
                    actions=[
                        IncidentModel.credits_awarded.set(True),
                        IncidentModel.credits_points.set(sum(totals.values())),
                    ],
                    condition=(IncidentModel.status == "closed")
                    & IncidentModel.credits_awarded.does_not_exist(),
                )
                for award in awards:
                    tx.save(
                        to_model(
                            CreditModel,
                            Credit(incident_id, award.reason, award.points, at),
                            responder_id=award.responder_id,
                            credit_key=f"{incident_id}#{award.reason}",
                            # the leaderboard's month: as shared.logic.credits.local_month
                            month=at.astimezone(ZoneInfo(settings().time_zone)).strftime("%Y-%m"),
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
        return [from_model(Credit, m) for m in CreditModel.query(responder_id, consistent_read=True)]

    def credits_of(self, incident_id: str, responder_ids: list[str]) -> dict[str, list[Credit]]:
        """One Query per responder, on the incident's prefix of their credits (in parallel)."""

        def of(responder_id: str) -> list[Credit]:
            return [
                from_model(Credit, m)
                for m in CreditModel.query(
                    responder_id,
                    range_key_condition=CreditModel.credit_key.startswith(f"{incident_id}#"),
                    consistent_read=True,
                )
            ]

        unique = list(dict.fromkeys(responder_ids))
        return dict(zip(unique, together(*(lambda r=r: of(r) for r in unique)), strict=True))


class GeoAedClaims:
    """An AED runner's claim lives on the AED's usable-index item: found AEDs show who holds them."""

    def release(self, aed_id: str, incident_id: str) -> None:
        conditionally(
            lambda: GeoIndexModel(entity_key=f"{AED_USABLE}#{aed_id}").update(
                actions=[_CLAIMED_BY.remove()],
                condition=incident_id == _CLAIMED_BY,
            )
        )
