"""Responders: create, read, presence, and nearby search for dispatchers."""

from __future__ import annotations

from datetime import UTC, datetime

from aws_lambda_powertools.event_handler import Response, content_types

from shared import wiring
from shared.api.http import CREATED_RESPONSES, ERROR_RESPONSES, create_app, current_caller, entry_point
from shared.api.params import CrsQ, LatQ, LimitQ, LngQ, RadiusQ, TokenQ
from shared.api.responders import (
    CreditItem,
    Credits,
    DeviceAnswer,
    DeviceBody,
    NearbyResponder,
    NearbyResponders,
    NewResponderBody,
    PresenceAnswer,
    PresenceBody,
    PresenceOut,
    ResponderOut,
)
from shared.config import settings
from shared.geo.datum import to_wgs84
from shared.logic import responders as logic
from shared.logic.ports import Responder

app = create_app()
config = settings()


def _out(responder: Responder, now: datetime) -> ResponderOut:
    live = logic.is_available(responder, now, config.time_zone)
    presence = None
    if live and responder.presence_lat is not None and responder.presence_lng is not None:
        assert responder.presence_expires_at is not None
        presence = PresenceOut(
            lat=responder.presence_lat, lng=responder.presence_lng, expires_at=responder.presence_expires_at
        )
    return ResponderOut(
        responder_id=responder.responder_id,
        name=responder.name,
        phone=responder.phone,
        certificate_no=responder.certificate_no,
        certificate_expires_on=responder.certificate_expires_on,
        certificate_valid=logic.certificate_valid(responder, now, config.time_zone),
        created_at=responder.created_at,
        credits=responder.credits_balance,
        available=live,
        presence=presence,
    )


@app.post("/v1/responders", responses=CREATED_RESPONSES)
def create_responder(body: NewResponderBody) -> Response[ResponderOut]:
    now = datetime.now(UTC)
    responder = logic.create_responder(
        wiring.responders(),
        logic.NewResponder(body.name, body.phone, body.certificate_no, body.certificate_expires_on),
        now,
    )
    return Response(201, content_types.APPLICATION_JSON, _out(responder, now))


@app.get("/v1/responders/nearby", responses=ERROR_RESPONSES)
def nearby(
    lat: LatQ,
    lng: LngQ,
    radius_m: RadiusQ = 1000,
    limit: LimitQ = 20,
    next_token: TokenQ = None,
    crs: CrsQ = None,
) -> NearbyResponders:
    lat, lng = to_wgs84(lat, lng, crs)
    page = logic.nearby_responders(
        wiring.geo_index(),
        wiring.responders(),
        lat=lat,
        lng=lng,
        radius_m=radius_m,
        limit=limit,
        next_token=next_token,
        now=datetime.now(UTC),
    )
    return NearbyResponders(
        items=[
            NearbyResponder(responder_id=h.entity_id, distance_m=round(h.distance_m, 1)) for h in page.items
        ],
        next_token=page.next_token,
    )


@app.get("/v1/responders/<responder_id>", responses=ERROR_RESPONSES)
def get_responder(responder_id: str) -> ResponderOut:
    responder = logic.get_responder(wiring.responders(), current_caller(app), responder_id)
    return _out(responder, datetime.now(UTC))


@app.put("/v1/responders/<responder_id>/presence", responses=ERROR_RESPONSES)
def put_presence(responder_id: str, body: PresenceBody) -> PresenceAnswer:
    lat, lng = to_wgs84(body.lat, body.lng, body.crs)
    presence = logic.update_presence(
        wiring.responders(),
        wiring.geo_index(),
        current_caller(app),
        responder_id,
        lat=lat,
        lng=lng,
        available=body.available,
        now=datetime.now(UTC),
        time_zone=config.time_zone,
        ttl_s=config.presence_ttl_s,
        index_lease_s=config.presence_index_lease_s,
    )
    return PresenceAnswer(available=presence.available, expires_at=presence.expires_at)


@app.get("/v1/responders/<responder_id>/credits", responses=ERROR_RESPONSES)
def credits(responder_id: str) -> Credits:
    balance, items = logic.responder_credits(
        wiring.responders(), wiring.incidents(), current_caller(app), responder_id
    )
    return Credits(
        balance=balance,
        items=[
            CreditItem(incident_id=c.incident_id, reason=c.reason, points=c.points, at=c.at) for c in items
        ],
    )


@app.put("/v1/responders/<responder_id>/device", responses=ERROR_RESPONSES)
def register_device(responder_id: str, body: DeviceBody) -> DeviceAnswer:
    logic.register_device(
        wiring.responders(),
        wiring.geo_index(),
        wiring.push_registry(),
        current_caller(app),
        responder_id,
        platform=body.platform,
        token=body.token,
        supported=wiring.push_platforms(),  # as the push registry reads them
        now=datetime.now(UTC),
        time_zone=config.time_zone,
    )
    return DeviceAnswer(push=True)


lambda_handler = entry_point(app)
