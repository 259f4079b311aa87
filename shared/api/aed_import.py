"""Bodies of POST /v1/aeds/import. Items are checked one by one (``parse_item``), so that one bad item is
rejected with its reason while the others of the batch still land."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    Field,
    Strict,
    StringConstraints,
    ValidationError,
    WithJsonSchema,
    create_model,
)

from shared.api.aed_registry import NewAedBody
from shared.api.fields import Body, declarations
from shared.geo.datum import to_wgs84
from shared.logic.aed_import import MAX_ITEMS, REGISTRY_FIELDS, InvalidItem, RegistryItem

SourceName = Annotated[
    str,
    Strict(),
    StringConstraints(pattern=r"^(taiwan-mohw|osm|csv:[A-Za-z0-9][A-Za-z0-9._-]{0,63})$"),
    Field(description='The registry: "taiwan-mohw", "osm" or "csv:<name>" (a city\'s own list)'),
]
SourceId = Annotated[
    str,
    Strict(),
    StringConstraints(strip_whitespace=True, min_length=1, max_length=128),
    Field(description="The AED's stable id in that registry: importing it again updates, never duplicates"),
]


# Made: RegistryItem's fields (source_id first), each as NewAedBody declares it, and the datum (crs).
ImportItem = create_model(
    "ImportItem",
    __base__=Body,
    __module__=__name__,
    source_id=(SourceId, ...),
    **declarations(NewAedBody, REGISTRY_FIELDS),
    **declarations(NewAedBody, ["crs"]),
)


# Any JSON value is accepted as an item, so that a bad one is answered in its place in "results"; the
# OpenAPI document still shows what an item must be.
RawItem = Annotated[Any, WithJsonSchema(ImportItem.model_json_schema())]


class ImportBody(Body):
    source: SourceName
    items: Annotated[list[RawItem], Field(max_length=MAX_ITEMS, description=f"at most {MAX_ITEMS}")]


class ImportResult(BaseModel):
    source_id: str | None
    outcome: Literal["created", "updated", "unchanged", "rejected"]
    aed_id: str | None = None
    reason: str | None = None


class ImportAnswer(BaseModel):
    results: list[ImportResult] = Field(description="One per item, in the items' order")


def parse_item(raw: Any) -> RegistryItem | InvalidItem:
    source_id = raw.get("source_id") if isinstance(raw, dict) else None
    if not isinstance(raw, dict):
        return InvalidItem(None, "an item must be a JSON object")
    try:
        item = ImportItem.model_validate(raw)
    except ValidationError as error:
        # Name the fields and the rule, never echo the input.
        reason = "; ".join(
            f"{'.'.join(str(x) for x in p.get('loc', ()))}: {p.get('msg')}" for p in error.errors()
        )
        return InvalidItem(source_id if isinstance(source_id, str) else None, reason)
    values = item.model_dump()
    lat, lng = to_wgs84(values["lat"], values["lng"], values["crs"])
    # "" in a text field means none, as it does for a manager's PATCH (names and hours are never empty).
    registry: dict[str, Any] = {
        name: values[name] or None if isinstance(values[name], str) else values[name]
        for name in REGISTRY_FIELDS
    }
    return RegistryItem(source_id=values["source_id"], **{**registry, "lat": lat, "lng": lng})
