"""The debriefs in DynamoDB (shared/logic/debriefs.py): one item per (incident, responder), every change a
conditional write, and the admins' call-back list one Query on a sparse index."""

from __future__ import annotations

from datetime import datetime

from pynamodb.exceptions import DoesNotExist

from shared.dal.conditions import conditionally
from shared.dal.mapping import from_model, stored, update_actions
from shared.dal.models.debriefs import CALL_WAITING, DebriefModel, DebriefsByCallQueueIndex
from shared.dal.paging import NOT_OURS, one_page, read_token
from shared.errors import ValidationFailed
from shared.logic.debriefs import DEBRIEF, CallPage, Debrief

stored(
    Debrief,
    DebriefModel,
    storage_only={
        "notices_sent": "how many invitations a channel took: a counter for operators",
        "call_queue": "derived: the call-back index's partition while a call is needed and not done",
        "expires_at": "TTL: a year after the last write (shared.logic.debriefs.DEBRIEF_RETENTION_DAYS)",
    },
)
# A call-back page's last key: the index's keys and the table's.
_TOKEN_KEYS = {"incident_id", "responder_id", "call_queue", "submitted_at"}
_SUBMITTED = ("submitted_at", "did", "note", "answers", "score", "call_me", "needs_call")


class DynamoDebriefs:
    def get(self, incident_id: str, responder_id: str) -> Debrief | None:
        try:
            return from_model(Debrief, DebriefModel.get(incident_id, responder_id, consistent_read=True))
        except DoesNotExist:
            return None

    def of_incident(self, incident_id: str) -> list[Debrief]:
        return [from_model(Debrief, m) for m in DebriefModel.query(incident_id, consistent_read=True)]

    def invite(
        self, incident_id: str, responder_id: str, lease_until: int, at: datetime, expires_at: int
    ) -> bool:
        """Opens the item (UpdateItem creates it) with the invitation's notice, once: never for a responder
        invited before or who has submitted already."""
        return conditionally(
            lambda: DebriefModel(incident_id=incident_id, responder_id=responder_id).update(
                actions=[
                    DebriefModel.invited_at.set(at),
                    DebriefModel.notice.set(DEBRIEF),
                    DebriefModel.notice_lease_until.set(lease_until),
                    DebriefModel.expires_at.set(expires_at),
                ],
                condition=DebriefModel.invited_at.does_not_exist()
                & DebriefModel.submitted_at.does_not_exist(),
            )
        )

    def submit(self, debrief: Debrief, expires_at: int) -> bool:
        changes = {name: getattr(debrief, name) for name in _SUBMITTED}
        actions = [*update_actions(DebriefModel, Debrief, changes), DebriefModel.expires_at.set(expires_at)]
        if debrief.needs_call:
            actions.append(DebriefModel.call_queue.set(CALL_WAITING))
        return conditionally(
            lambda: DebriefModel(incident_id=debrief.incident_id, responder_id=debrief.responder_id).update(
                actions=actions, condition=DebriefModel.submitted_at.does_not_exist()
            )
        )

    def call_list(self, limit: int, next_token: str | None) -> CallPage:
        """Oldest first: the index forwards, ``limit`` + 1 items so that the last page is never empty."""
        start = read_token(next_token, _TOKEN_KEYS) if next_token else None
        if start is not None and start["call_queue"]["S"] != CALL_WAITING:
            raise ValidationFailed(NOT_OURS)
        results = DebriefModel.by_call_queue.query(
            CALL_WAITING, scan_index_forward=True, limit=limit + 1, last_evaluated_key=start
        )
        return CallPage(*one_page(results, limit, _listed))

    def call_done(self, incident_id: str, responder_id: str, by: str, at: datetime) -> bool:
        return conditionally(
            lambda: DebriefModel(incident_id=incident_id, responder_id=responder_id).update(
                actions=[
                    DebriefModel.call_done_at.set(at),
                    DebriefModel.call_done_by.set(by),
                    DebriefModel.call_queue.remove(),
                ],
                condition=(DebriefModel.needs_call == True)  # noqa: E712 (a DynamoDB condition)
                & DebriefModel.call_done_at.does_not_exist(),
            )
        )

    # -- the invitation's notice, as an alert's (shared.dal.rescue.DynamoIncidents) ----------------------
    def notice_sent(self, incident_id: str, responder_id: str, notice: str) -> None:
        conditionally(
            lambda: DebriefModel(incident_id=incident_id, responder_id=responder_id).update(
                actions=[
                    DebriefModel.notice.remove(),
                    DebriefModel.notice_lease_until.remove(),
                    DebriefModel.notices_sent.add(1),
                ],
                condition=DebriefModel.notice == notice,
            )
        )

    def release_notice(self, incident_id: str, responder_id: str, notice: str) -> None:
        conditionally(
            lambda: DebriefModel(incident_id=incident_id, responder_id=responder_id).update(
                actions=[DebriefModel.notice_lease_until.set(0)], condition=DebriefModel.notice == notice
            )
        )

    def take_notice(
        self, incident_id: str, responder_id: str, notice: str, now: int, lease_until: int
    ) -> bool:
        return conditionally(
            lambda: DebriefModel(incident_id=incident_id, responder_id=responder_id).update(
                actions=[DebriefModel.notice_lease_until.set(lease_until)],
                condition=(DebriefModel.notice == notice) & (DebriefModel.notice_lease_until <= now),
            )
        )


def _listed(model: DebriefModel) -> Debrief:
    """A row of the call-back list as the index holds it: keys, submission time, score, the ask, the note."""
    return Debrief(
        model.incident_id,
        model.responder_id,
        submitted_at=model.submitted_at,
        score=None if model.score is None else int(model.score),
        call_me=bool(model.call_me),
        needs_call=True,
        note=model.note,
    )


__all__ = ["DebriefsByCallQueueIndex", "DynamoDebriefs"]
