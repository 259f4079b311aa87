"""The dispatch centres' records, and the stores behind them as small Protocols: the centres' table
(shared.dal.dispatch), the signing secrets (shared.dal.dispatch_secrets: Secrets Manager) and the guard
keys that make a centre's calls once-only (the rescue loop's key table)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from shared.logic.rescue.ports import GuardKey

# What a call-taker records a call as (the contract's ``nature``).
NATURES = ("cardiac_arrest", "suspected_cardiac_arrest", "unconscious", "other")
# What a centre may tell about an incident it raised, and how each acts (shared/logic/dispatch/inbound.py).
UPDATE_TYPES = ("ems_arrived", "cancelled", "closed")


@dataclass
class DispatchCentre:
    """A 120 dispatch centre whose CAD system raises incidents here and hears back (docs/dispatch.md)."""

    centre_id: str
    name: str
    callback_url: str
    area: list[float]  # its service area: [min_lng, min_lat, max_lng, max_lat], WGS-84
    created_at: datetime
    updated_at: datetime
    # The signing secret in force (an id per issue; the secret itself is only in the secret store):
    # None until one was issued.
    secret_version: str | None = None
    secret_issued_at: datetime | None = None
    # After a rotation, the secret before it verifies too, until then.
    previous_secret_valid_until: datetime | None = None
    # A secret being issued (epoch seconds): one issue at a time, a crashed one lapses.
    issuing_until: int | None = None


@dataclass(frozen=True)
class SigningSecrets:
    """A centre's signing secrets as the secret store holds them: ``whsec_`` + base64 of 32 bytes each."""

    version: str  # the issue it was written by (DispatchCentre.secret_version once that issue finished)
    current: str
    previous: str | None = None  # the secret before the last rotation
    previous_valid_until: datetime | None = None


class CentreReader(Protocol):
    def get(self, centre_id: str) -> DispatchCentre | None: ...

    def get_recent(self, centre_id: str) -> DispatchCentre | None:
        """The centre as read at most a minute ago (a read saved on a centre's busy path), else ``get``."""
        ...


class CentreStore(CentreReader, Protocol):
    def save_details(
        self, centre_id: str, name: str, callback_url: str, area: list[float], now: datetime
    ) -> DispatchCentre:
        """The centre with these details: created (``created_at`` now) or updated; the stored record."""
        ...

    def take_issuing(
        self, centre_id: str, expected_version: str | None, now_epoch: int, lease_until: int
    ) -> bool:
        """The right to issue the centre's next secret until ``lease_until``: only while its secret is
        still ``expected_version`` and nobody else holds an unlapsed lease."""
        ...

    def finish_issuing(
        self,
        centre_id: str,
        lease_until: int,
        version: str,
        issued_at: datetime,
        previous_valid_until: datetime | None,
    ) -> bool:
        """The issued secret in force, the lease given back; False when the lease was no longer ours."""
        ...


class CentreSecrets(Protocol):
    def read(self, centre_id: str, version: str | None) -> SigningSecrets | None:
        """The centre's secrets (None: none stored). A copy read for ``version`` before may be reused
        for a short while; ``version`` None always reads the store."""
        ...

    def write(self, centre_id: str, secrets: SigningSecrets) -> None: ...


class CentreKeys(Protocol):
    """A centre's once-only keys, beside the rescue loop's own (shared.dal.models.rescue.SosKeyModel)."""

    def incident_of(self, key_hash: str) -> str | None:
        """The incident a key was written for; None when there is no such key."""
        ...

    def claim(self, key: GuardKey, incident_id: str) -> GuardKey | None:
        """Write the key for this incident; None when written now, else the key as it was written."""
        ...

    def release(self, key: GuardKey) -> None:
        """Delete the key, if it is still the one written (an update that was refused was not done)."""
        ...
