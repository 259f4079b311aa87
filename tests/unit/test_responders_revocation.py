"""A certificate revoked while a heartbeat is in flight: the responder must not stay findable."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any

import pytest

from shared.errors import Conflict
from shared.identity import Caller
from shared.logic.ports import RESPONDER, Responder
from shared.logic.responders import update_presence

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
VALID = Responder("r1", "李明", "+8613900000000", "RN-2026-000001", date(2029, 11, 29), NOW)


class RevokedDuringTheCall:
    """The first read sees a valid certificate; the revocation lands before the second read."""

    def __init__(self) -> None:
        self.reads = 0

    def get(self, responder_id: str) -> Responder:
        self.reads += 1
        return VALID if self.reads == 1 else replace(VALID, certificate_expires_on=date(2026, 11, 29))

    def save_presence(self, responder: Responder) -> None:
        pass


class Index:
    def __init__(self) -> None:
        self.items: set[tuple[str, str]] = set()

    def put(self, kind: str, entity_id: str, *args: Any, **kwargs: Any) -> None:
        self.items.add((kind, entity_id))

    def remove(self, kind: str, entity_id: str) -> None:
        self.items.discard((kind, entity_id))


def test_a_revocation_racing_a_heartbeat_leaves_no_presence():
    geo = Index()
    with pytest.raises(Conflict) as refused:
        update_presence(
            RevokedDuringTheCall(),  # type: ignore[arg-type]
            geo,  # type: ignore[arg-type]
            Caller(sub="r1", roles=frozenset({"responder"})),
            "r1",
            lat=30.25,
            lng=120.16,
            available=True,
            now=NOW,
            time_zone="Asia/Shanghai",
            ttl_s=900,
            index_lease_s=2400,
        )
    assert refused.value.code == "certificate_expired"
    assert (RESPONDER, "r1") not in geo.items
