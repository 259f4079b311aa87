"""Registry imports: AEDs from a public registry (Taiwan's MOHW list, OpenStreetMap, a city's CSV),
upserted by (source, source_id).

- The aed_id is derived from (source, source_id) (``aed_id_for``), so two imports of the same file, even
  at the same time, can only ever write the same AED: creates are conditional, and an AED that exists
  already is compared and updated instead.
- An import owns the registry fields only (position, name, address, placement, floor, indoor, access,
  contact phone, opening hours). Status, faults, the manager, pad and battery dates and inspections
  belong to managers and rescues: a re-import never touches them.
- The importer manages the AEDs an import creates (``manager_id``). An AED that exists already is
  updated only by its manager or an admin: another manager's row is rejected (``NOT_YOURS``), unwritten.
- An item equal to what is stored is "unchanged" and written nowhere; the map and search index follow
  ``shared.logic.aed_registry.index_aed`` exactly, for created and updated AEDs only.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields, replace
from datetime import datetime
from typing import Any, Protocol

from shared.errors import ValidationFailed
from shared.identity import Caller
from shared.logic.aed_registry import index_aed, manages
from shared.logic.hours import validate_opening_hours
from shared.logic.ports import Aed, GeoIndex

MAX_ITEMS = 100
AED_ID_PREFIX = "reg-"
NOT_YOURS = "managed by another aed_manager: only its manager or an admin updates it"


# The one list of registry fields: the API's ImportItem and the CLI's ImportRecord are made from it.
@dataclass(frozen=True)
class RegistryItem:
    """One AED as a registry describes it: exactly the fields an import may write."""

    source_id: str
    lat: float
    lng: float
    name: str
    opening_hours: str
    address: str | None = None
    placement: str | None = None
    floor: str | None = None
    indoor: bool | None = None
    access: str | None = None
    contact_phone: str | None = None


REGISTRY_FIELDS = tuple(f.name for f in fields(RegistryItem) if f.name != "source_id")


@dataclass(frozen=True)
class InvalidItem:
    """An item refused before any lookup (bad JSON shape or field), with the reason to report."""

    source_id: str | None
    reason: str


@dataclass(frozen=True)
class ItemOutcome:
    source_id: str | None
    outcome: str  # created, updated, unchanged, rejected
    aed_id: str | None = None
    reason: str | None = None


class AedImportStore(Protocol):
    def get_many(self, aed_ids: Sequence[str]) -> dict[str, Aed]: ...
    def create_many(self, aeds: Sequence[Aed]) -> set[str]:
        """Create each AED only where its aed_id is free; answer the ids that were taken (not written)."""
        ...

    def update_registry_fields(self, aed_id: str, changes: Mapping[str, Any], now: datetime) -> Aed | None:
        """Set these registry fields (None removes) and updated_at; the stored AED after, None if gone."""
        ...


class BatchingGeoIndex(GeoIndex, Protocol):
    def never_indexed(self, entity_ids: Iterable[str]) -> None:
        """These were just created: their index items hold nothing that a re-index must keep."""
        ...

    def flush(self) -> None:
        """Write what put/remove collected."""
        ...


def aed_id_for(source: str, source_id: str) -> str:
    """ "reg-" + the first 26 characters of the lowercase base32 of sha256(source + "\\n" + source_id)
    (130 bits): the same registry entry always has the same aed_id."""
    digest = hashlib.sha256(f"{source}\n{source_id}".encode()).digest()
    return AED_ID_PREFIX + base64.b32encode(digest).decode("ascii").lower()[:26]


def import_aeds(
    store: AedImportStore,
    geo: BatchingGeoIndex,
    source: str,
    items: Sequence[RegistryItem | InvalidItem],
    *,
    caller: Caller,
    now: datetime,
) -> list[ItemOutcome]:
    if len(items) > MAX_ITEMS:
        raise ValidationFailed(f"items: at most {MAX_ITEMS} per request")
    outcomes: list[ItemOutcome | None] = [None] * len(items)
    wanted: dict[str, tuple[int, RegistryItem]] = {}  # aed_id -> (position, item)
    seen: set[str] = set()
    for position, item in enumerate(items):
        if isinstance(item, InvalidItem):
            outcomes[position] = ItemOutcome(item.source_id, "rejected", reason=item.reason)
            continue
        if item.source_id in seen:
            outcomes[position] = ItemOutcome(
                item.source_id, "rejected", reason="source_id: repeated in this request"
            )
            continue
        seen.add(item.source_id)
        try:
            item = replace(item, opening_hours=validate_opening_hours(item.opening_hours))
        except ValidationFailed as error:
            outcomes[position] = ItemOutcome(item.source_id, "rejected", reason=error.message)
            continue
        wanted[aed_id_for(source, item.source_id)] = (position, item)

    stored = store.get_many(list(wanted))
    new = [
        _new_aed(aed_id, source, item, caller.sub, now)
        for aed_id, (_, item) in wanted.items()
        if aed_id not in stored
    ]
    taken = store.create_many(new) if new else set()
    geo.never_indexed(aed.aed_id for aed in new if aed.aed_id not in taken)
    for aed in new:
        if aed.aed_id not in taken:
            index_aed(geo, aed)
            outcomes[wanted[aed.aed_id][0]] = ItemOutcome(aed.source_id, "created", aed.aed_id)
    if taken:  # another import created them meanwhile: compare with what it wrote
        stored.update(store.get_many(sorted(taken)))
    for aed_id, (position, item) in wanted.items():
        if outcomes[position] is not None:
            continue
        current = stored.get(aed_id)
        if current is None:
            outcomes[position] = ItemOutcome(
                item.source_id, "rejected", aed_id, "changed during the import: retry"
            )
            continue
        if not manages(caller, current):
            outcomes[position] = ItemOutcome(item.source_id, "rejected", aed_id, NOT_YOURS)
            continue
        changes = {
            name: getattr(item, name)
            for name in REGISTRY_FIELDS
            if getattr(item, name) != getattr(current, name)
        }
        if not changes:
            outcomes[position] = ItemOutcome(item.source_id, "unchanged", aed_id)
            continue
        updated = store.update_registry_fields(aed_id, changes, now)
        if updated is None:
            outcomes[position] = ItemOutcome(
                item.source_id, "rejected", aed_id, "changed during the import: retry"
            )
            continue
        index_aed(geo, updated)
        outcomes[position] = ItemOutcome(item.source_id, "updated", aed_id)
    geo.flush()
    return [o for o in outcomes if o is not None]


def _new_aed(aed_id: str, source: str, item: RegistryItem, creator: str | None, now: datetime) -> Aed:
    return Aed(
        aed_id=aed_id,
        status="ok",
        created_at=now,
        updated_at=now,
        manager_id=creator,
        source=source,
        source_id=item.source_id,
        **{name: getattr(item, name) for name in REGISTRY_FIELDS},
    )
