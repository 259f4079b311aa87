"""The dispatch centres in DynamoDB (``DynamoDispatchCentres``: shared.logic.dispatch.ports.CentreStore),
and a centre's once-only keys in the rescue loop's key table (``DynamoCentreKeys``: CentreKeys)."""

from __future__ import annotations

import threading
import time
from datetime import datetime

from pynamodb.exceptions import DoesNotExist

from shared.dal.conditions import conditionally
from shared.dal.mapping import from_model, stored, update_actions
from shared.dal.models.dispatch import DispatchCentreModel
from shared.dal.models.rescue import SosKeyModel
from shared.logic.dispatch.ports import DispatchCentre
from shared.logic.rescue.ports import GuardKey

stored(DispatchCentre, DispatchCentreModel)


RECENT_S = 60.0  # how old a centre read may be on its calls' path (inbound.authenticate re-reads on refusal)


class DynamoDispatchCentres:
    def __init__(self) -> None:
        self._recent: dict[str, tuple[float, DispatchCentre]] = {}
        self._lock = threading.Lock()

    def get(self, centre_id: str) -> DispatchCentre | None:
        try:
            centre = from_model(DispatchCentre, DispatchCentreModel.get(centre_id, consistent_read=True))
        except DoesNotExist:
            return None
        with self._lock:
            self._recent[centre_id] = (time.monotonic(), centre)
        return centre

    def get_recent(self, centre_id: str) -> DispatchCentre | None:
        with self._lock:
            held = self._recent.get(centre_id)
        if held is not None and time.monotonic() - held[0] < RECENT_S:
            return held[1]
        return self.get(centre_id)

    def all(self) -> list[DispatchCentre]:
        """Every centre: a Scan, of a table of a handful of items (one per 120 centre) that grows with
        the number of centres, never with the city's incidents or people."""
        return [from_model(DispatchCentre, m) for m in DispatchCentreModel.scan(consistent_read=True)]

    def save_details(
        self, centre_id: str, name: str, callback_url: str, area: list[float], now: datetime
    ) -> DispatchCentre:
        """One UpdateItem: the details set, ``created_at`` only if the centre is new; the record after."""
        model = DispatchCentreModel(centre_id=centre_id)
        model.update(
            actions=[
                *update_actions(
                    DispatchCentreModel,
                    DispatchCentre,
                    {"name": name, "callback_url": callback_url, "area": area, "updated_at": now},
                ),
                DispatchCentreModel.created_at.set(DispatchCentreModel.created_at | now),
            ]
        )
        return from_model(DispatchCentre, model)

    def take_issuing(
        self, centre_id: str, expected_version: str | None, now_epoch: int, lease_until: int
    ) -> bool:
        version = (
            DispatchCentreModel.secret_version.does_not_exist()
            if expected_version is None
            else DispatchCentreModel.secret_version == expected_version
        )
        free = DispatchCentreModel.issuing_until.does_not_exist() | (
            DispatchCentreModel.issuing_until < now_epoch
        )
        return conditionally(
            lambda: DispatchCentreModel(centre_id=centre_id).update(
                actions=[DispatchCentreModel.issuing_until.set(lease_until)],
                condition=DispatchCentreModel.centre_id.exists() & version & free,
            )
        )

    def finish_issuing(
        self,
        centre_id: str,
        lease_until: int,
        version: str,
        issued_at: datetime,
        previous_valid_until: datetime | None,
    ) -> bool:
        return conditionally(
            lambda: DispatchCentreModel(centre_id=centre_id).update(
                actions=[
                    *update_actions(
                        DispatchCentreModel,
                        DispatchCentre,
                        {
                            "secret_version": version,
                            "secret_issued_at": issued_at,
                            "previous_secret_valid_until": previous_valid_until,
                        },
                    ),
                    DispatchCentreModel.issuing_until.remove(),
                ],
                condition=DispatchCentreModel.issuing_until == lease_until,
            )
        )


class DynamoCentreKeys:
    """A centre's keys are items of the rescue loop's key table, hashed like every key there."""

    def incident_of(self, key_hash: str) -> str | None:
        try:
            key = SosKeyModel.get(key_hash, consistent_read=True)
        except DoesNotExist:
            return None
        return key.incident_id

    def claim(self, key: GuardKey, incident_id: str) -> GuardKey | None:
        item = SosKeyModel(
            key_hash=key.key_hash, incident_id=incident_id, body_hash=key.body_hash, expires_at=key.expires_at
        )
        if conditionally(lambda: item.save(condition=SosKeyModel.key_hash.does_not_exist())):
            return None
        existing = SosKeyModel.get(key.key_hash, consistent_read=True)
        return GuardKey(existing.key_hash, existing.body_hash or "", int(existing.expires_at))

    def release(self, key: GuardKey) -> None:
        item = SosKeyModel(key_hash=key.key_hash)
        conditionally(lambda: item.delete(condition=SosKeyModel.body_hash == key.body_hash))
