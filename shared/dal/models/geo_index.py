"""The sparse geo index table: one item per findable thing, with one GSI per geohash column width."""

from __future__ import annotations

from typing import Any

from pynamodb.attributes import (
    MapAttribute,
    NumberAttribute,
    UnicodeAttribute,
)
from pynamodb.indexes import GlobalSecondaryIndex, IncludeProjection
from pynamodb.models import Model

from shared.config import settings
from shared.geo.cover import INDEX_LEVELS, POLAR_LEVEL

_settings = settings()
# Every level has a GSI; the polar one is sparse: only items at |lat| >= POLAR_LAT carry its attribute.
ALL_LEVELS: tuple[int, ...] = (*INDEX_LEVELS, POLAR_LEVEL)


def column_attribute(level: int) -> str:
    return f"p{level}" if level == POLAR_LEVEL else f"c{level}"


def index_name(level: int) -> str:
    return f"polar-{level}" if level == POLAR_LEVEL else f"column-{level}"


# What a search needs from an index item, so a Query never has to go back to the table.
GEO_PROJECTED = ["entity_id", "lat", "lng", "expires_at", "attrs"]


def _column_index(level: int) -> type[GlobalSecondaryIndex[Any]]:
    """One GSI per column width: partition = "<kind>#<column>", sort = latitude key."""
    attrs: dict[str, Any] = {
        "Meta": type(
            "Meta",
            (),
            {"index_name": index_name(level), "projection": IncludeProjection(GEO_PROJECTED)},
        ),
        column_attribute(level): UnicodeAttribute(hash_key=True),
        "lat_key": NumberAttribute(range_key=True),
    }
    return type(f"ColumnIndex{level}", (GlobalSecondaryIndex,), attrs)


COLUMN_INDEXES: dict[int, type[GlobalSecondaryIndex[Any]]] = {lvl: _column_index(lvl) for lvl in ALL_LEVELS}


class _GeoIndexBase(Model):
    class Meta:
        table_name = _settings.geo_table
        region = _settings.region

    # "<kind>#<entity_id>": one sparse item per findable thing (an on-duty certified responder, a
    # usable AED); it is deleted, or lapses by TTL, the moment the thing must no longer be found.
    entity_key = UnicodeAttribute(hash_key=True)
    kind = UnicodeAttribute()
    entity_id = UnicodeAttribute()
    lat = NumberAttribute()
    lng = NumberAttribute()
    lat_key = NumberAttribute()
    expires_at = NumberAttribute(null=True)  # epoch seconds; DynamoDB TTL attribute
    # What a search answers with besides the position (an AED's name, hours...), so it needs no read
    # of the main table.
    attrs: MapAttribute[str, str] = MapAttribute(null=True)


GeoIndexModel: type[_GeoIndexBase] = type(
    "GeoIndexModel",
    (_GeoIndexBase,),
    {
        "__module__": __name__,
        **{column_attribute(lvl): UnicodeAttribute(null=True) for lvl in ALL_LEVELS},
        **{f"index_{lvl}": COLUMN_INDEXES[lvl]() for lvl in ALL_LEVELS},
    },
)
