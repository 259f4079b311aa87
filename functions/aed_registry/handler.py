"""AEDs: create and update (managers), nearby usable ones, the map's GeoJSON and one AED with its upkeep
state (anyone)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Query

from shared import wiring
from shared.api.aed_registry import (
    AedDetail,
    AedOut,
    AedPatchBody,
    Feature,
    FeatureCollection,
    NearbyAed,
    NearbyAeds,
    NewAedBody,
)
from shared.api.aed_upkeep import ExpiryOut, UpkeepOut
from shared.api.http import CREATED_RESPONSES, ERROR_RESPONSES, create_app, current_caller, entry_point
from shared.api.params import BboxQ, CrsQ, LatQ, LimitQ, LngQ, RadiusQ, TokenQ, aware, parse_bbox
from shared.config import settings
from shared.errors import NotFound, ValidationFailed
from shared.geo.datum import to_wgs84
from shared.logic import aed_registry as logic
from shared.logic.aed_upkeep import local_today, upkeep_state
from shared.logic.ports import Aed

app = create_app()
config = settings()


def _out(aed: Aed) -> AedOut:
    return AedOut.model_validate(aed, from_attributes=True)


def _set(body: NewAedBody | AedPatchBody, lat: float | None, lng: float | None) -> dict[str, Any]:
    """What the manager sets, field for field (the body's fields are the logic's AedFields), with the
    position in WGS-84."""
    return {**body.model_dump(exclude={"crs"}), "lat": lat, "lng": lng}


@app.post("/v1/aeds", responses=CREATED_RESPONSES)
def create_aed(body: NewAedBody) -> Response[AedOut]:
    lat, lng = to_wgs84(body.lat, body.lng, body.crs)
    fields = logic.AedFields(**_set(body, lat, lng))
    aed = logic.create_aed(wiring.aeds(), wiring.geo_index(), fields, datetime.now(UTC), current_caller(app))
    return Response(201, content_types.APPLICATION_JSON, _out(aed))


@app.patch("/v1/aeds/<aed_id>", responses=ERROR_RESPONSES)
def patch_aed(aed_id: str, body: AedPatchBody) -> AedOut:
    given = set(body.model_fields_set) - {"crs"}
    lat, lng = body.lat, body.lng
    if (lat is None) != (lng is None):
        raise ValidationFailed("lat and lng: move an AED by giving both")
    if lat is not None and lng is not None:
        lat, lng = to_wgs84(lat, lng, body.crs)
    fields = logic.AedFields(**_set(body, lat, lng), given=frozenset(given))
    aeds, geo, caller = wiring.aeds(), wiring.geo_index(), current_caller(app)
    return _out(logic.patch_aed(aeds, geo, caller, aed_id, fields, datetime.now(UTC)))


@app.get("/v1/aeds/nearby", responses=ERROR_RESPONSES)
def nearby(
    lat: LatQ,
    lng: LngQ,
    radius_m: RadiusQ = 1000,
    limit: LimitQ = 20,
    at: Annotated[datetime | None, Query(description="ISO 8601 with offset; default now")] = None,
    next_token: TokenQ = None,
    crs: CrsQ = None,
) -> NearbyAeds:
    lat, lng = to_wgs84(lat, lng, crs)
    page = logic.nearby_aeds(
        wiring.geo_index(),
        lat=lat,
        lng=lng,
        radius_m=radius_m,
        limit=limit,
        next_token=next_token,
        at=aware(at, datetime.now(UTC)),
        time_zone=config.time_zone,
    )
    items = [
        NearbyAed(
            aed_id=h.entity_id,
            lat=h.lat,
            lng=h.lng,
            distance_m=round(h.distance_m, 1),
            name=h.attributes.get("name", ""),
            placement=h.attributes.get("placement"),
        )
        for h in page.items
    ]
    return NearbyAeds(items=items, next_token=page.next_token)


@app.get("/v1/aeds", responses=ERROR_RESPONSES)
def in_box(
    bbox: BboxQ,
    at: Annotated[
        datetime | None, Query(description="ISO 8601 with offset; the instant `state` is for (default now)")
    ] = None,
) -> FeatureCollection:
    min_lng, min_lat, max_lng, max_lat = parse_bbox(bbox)
    hits = logic.aeds_in_box(wiring.geo_index(), min_lng, min_lat, max_lng, max_lat)
    instant = aware(at, datetime.now(UTC))
    features = [
        Feature(
            geometry={"type": "Point", "coordinates": [h.lng, h.lat]},
            properties={
                "aed_id": h.entity_id,
                **h.attributes,
                **logic.map_state(h.attributes, instant, config.time_zone),
            },
        )
        for h in hits
    ]
    return FeatureCollection(features=features)


@app.get("/v1/aeds/<aed_id>", responses=ERROR_RESPONSES)
def get_aed(aed_id: str) -> AedDetail:
    aed = wiring.aeds().get(aed_id)
    if aed is None:
        raise NotFound("AED not found")
    state = upkeep_state(aed, local_today(datetime.now(UTC), config.time_zone), config.time_zone)
    upkeep = UpkeepOut(
        next_expiry=ExpiryOut(part=state.next_expiry.part, on=state.next_expiry.on)  # type: ignore[arg-type]
        if state.next_expiry
        else None,
        expired=list(state.expired),
        inspection_due_on=state.inspection_due_on,
        inspection_overdue=state.inspection_overdue,
    )
    # Who manages the device is the business of managers and admins, not of every signed-in person.
    shown = _out(aed)
    if not current_caller(app).has_any(frozenset({"aed_manager", "admin"})):
        shown = shown.model_copy(update={"manager_id": None})
    return AedDetail(**shown.model_dump(), upkeep=upkeep)


lambda_handler = entry_point(app)
