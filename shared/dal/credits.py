"""The credits leaderboard in DynamoDB (shared/logic/credits.py's LeaderboardStore): the opt-in on the
responder's item, the period's credits from the credits' by-month index, responders by key."""

from __future__ import annotations

from pynamodb.exceptions import DoesNotExist, UpdateError

from shared.dal.conditions import condition_failed
from shared.dal.models.rescue import CreditModel
from shared.dal.models.responders import ResponderModel
from shared.logic.credits import Entry, Member, MonthCredit

# What the board reads of a responder: never the phone, the certificate or the presence.
_MEMBER_ATTRIBUTES = ["responder_id", "name", "leaderboard_opt_in", "leaderboard_name"]
BATCH_GET_MAX = 100  # DynamoDB's BatchGetItem limit


def _member(m: ResponderModel) -> Member:
    entry = None
    if m.leaderboard_opt_in is not None:
        entry = Entry(bool(m.leaderboard_opt_in), m.leaderboard_name)
    return Member(m.responder_id, m.name, entry)


class DynamoLeaderboard:
    def member(self, responder_id: str) -> Member | None:
        try:
            m = ResponderModel.get(responder_id, consistent_read=True, attributes_to_get=_MEMBER_ATTRIBUTES)
        except DoesNotExist:
            return None
        return _member(m)

    def save_entry(self, responder_id: str, entry: Entry) -> bool:
        name = ResponderModel.leaderboard_name
        try:
            ResponderModel(responder_id=responder_id).update(
                actions=[
                    ResponderModel.leaderboard_opt_in.set(entry.opt_in),
                    name.set(entry.display_name) if entry.display_name is not None else name.remove(),
                ],
                condition=ResponderModel.responder_id.exists(),
            )
        except UpdateError as error:
            if condition_failed(error):
                return False
            raise
        return True

    def credits_in_month(self, month: str) -> list[MonthCredit]:
        return [
            MonthCredit(m.responder_id, m.credit_key.split("#", 1)[0], int(m.points))
            for m in CreditModel.by_month.query(month)
        ]

    def members(self, responder_ids: list[str]) -> dict[str, Member]:
        unique = list(dict.fromkeys(responder_ids))
        found: dict[str, Member] = {}
        for start in range(0, len(unique), BATCH_GET_MAX):
            for m in ResponderModel.batch_get(
                unique[start : start + BATCH_GET_MAX], attributes_to_get=_MEMBER_ATTRIBUTES
            ):
                found[m.responder_id] = _member(m)
        return found
