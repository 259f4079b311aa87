"""What the cockpit's training figures read beyond teaching and certification's own repositories: who of
a cohort is a responder, and their duty, by key (shared/logic/cockpit/training.py's DutyRoster)."""

from __future__ import annotations

from shared.dal.mapping import from_model
from shared.dal.models.responders import ResponderModel
from shared.dal.responders import DynamoResponders  # noqa: F401  (declares how a Responder is stored)
from shared.logic.ports import Responder

BATCH_GET_MAX = 100  # DynamoDB's BatchGetItem limit


class DynamoTrainingDuty:
    def responders(self, responder_ids: list[str]) -> dict[str, Responder]:
        unique = list(dict.fromkeys(responder_ids))
        found: dict[str, Responder] = {}
        for start in range(0, len(unique), BATCH_GET_MAX):
            for m in ResponderModel.batch_get(unique[start : start + BATCH_GET_MAX]):
                found[m.responder_id] = from_model(Responder, m)
        return found
