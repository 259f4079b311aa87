"""The responder pool: who is certified until when, who is on duty where, and who is near an emergency.

Only responders who are available, whose presence has not lapsed and whose certificate is valid today
are ever found: the geo index holds exactly those, each item lapsing at the earlier of presence expiry
and the end of the certificate's last valid day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from shared.errors import Conflict, Forbidden, NotFound, ValidationFailed
from shared.geo.distance import haversine_m
from shared.identity import Caller
from shared.logic.ids import new_id
from shared.logic.ports import (
    RESPONDER,
    Credit,
    CreditHistory,
    DeviceRefused,
    GeoIndex,
    Hit,
    PushRegistry,
    Responder,
    ResponderRepository,
)


@dataclass(frozen=True)
class NewResponder:
    name: str
    phone: str
    certificate_no: str
    certificate_expires_on: date


@dataclass(frozen=True)
class Presence:
    available: bool
    expires_at: datetime | None


def certificate_valid_until(expires_on: date, time_zone: str) -> datetime:
    """The instant a certificate lapses: the end of its last day (inclusive) in the deployment's zone."""
    return datetime.combine(expires_on + timedelta(days=1), time.min, tzinfo=ZoneInfo(time_zone))


def certificate_valid(responder: Responder, now: datetime, time_zone: str) -> bool:
    return now < certificate_valid_until(responder.certificate_expires_on, time_zone)


def create_responder(repo: ResponderRepository, new: NewResponder, now: datetime) -> Responder:
    responder = Responder(
        responder_id=new_id(),
        name=new.name,
        phone=new.phone,
        certificate_no=new.certificate_no,
        certificate_expires_on=new.certificate_expires_on,
        created_at=now,
    )
    repo.create(responder)
    return responder


def get_responder(repo: ResponderRepository, caller: Caller, responder_id: str) -> Responder:
    """Self or admin; anyone else is told it does not exist (404), never that it is hidden."""
    responder = repo.get(responder_id) if caller.is_self_or_admin(responder_id) else None
    if responder is None:
        raise NotFound("responder not found")
    return responder


def own_record(repo: ResponderRepository, caller: Caller, responder_id: str) -> Responder:
    """What only the responder does (their presence, their phone's app). Anyone else is told the record
    does not exist, except an admin, who may know it exists (they read it) and is refused (403)."""
    responder = repo.get(responder_id) if caller.is_self_or_admin(responder_id) else None
    if responder is None:
        raise NotFound("responder not found")
    if caller.sub != responder_id:
        raise Forbidden("only the responder themself may do this")
    return responder


def is_available(responder: Responder, now: datetime, time_zone: str) -> bool:
    return (
        responder.available
        and responder.presence_expires_at is not None
        and responder.presence_expires_at > now
        and certificate_valid(responder, now, time_zone)
    )


# How far a responder may move before the geo index learns their new position: about what a phone's fix
# wanders while its owner stands still. The search cuts by distance from the indexed position, so a
# responder found at the rim of a circle may really be up to this much further out.
REINDEX_DISTANCE_M = 50.0


def update_presence(
    repo: ResponderRepository,
    geo: GeoIndex,
    caller: Caller,
    responder_id: str,
    *,
    lat: float,
    lng: float,
    available: bool,
    now: datetime,
    time_zone: str,
    ttl_s: int,
    index_lease_s: int,
) -> Presence:
    """A responder's own heartbeat. Going available needs a valid certificate; presence lapses after
    ``ttl_s`` without an update, or when the certificate does, whichever comes first.

    The lapse is exact on the responder's record, written every heartbeat (one write unit). The geo index
    item, with its entry in every column index (1 + 8 write units), is rewritten only when the responder
    moved more than REINDEX_DISTANCE_M or its lease (``index_lease_s``, at least ``ttl_s``) would end
    before the new presence does: every sixth heartbeat of a responder standing still, with a 5-minute
    heartbeat and a 40-minute lease. Whatever the index still finds after a presence lapsed is dropped by
    the exact rule where it matters: ``nearby_responders``, the cockpit's count, and the alert's own
    transaction (shared.dal.rescue.DynamoIncidents.add_alert), so nobody lapsed is ever listed or alerted."""
    responder = own_record(repo, caller, responder_id)
    if available and not certificate_valid(responder, now, time_zone):
        raise Conflict("your certificate has lapsed: renew it to go on duty", code="certificate_expired")
    certificate_end = certificate_valid_until(responder.certificate_expires_on, time_zone)
    expires_at = min(now + timedelta(seconds=ttl_s), certificate_end)
    indexed = (
        (responder.presence_lat, responder.presence_lng)
        if responder.available and responder.presence_lat is not None and responder.presence_lng is not None
        else None
    )
    stayed = indexed is not None and haversine_m(*indexed, lat, lng) <= REINDEX_DISTANCE_M
    indexed_still_serves = (
        stayed
        and responder.presence_indexed_until is not None
        and responder.presence_indexed_until >= expires_at
    )
    if stayed and indexed is not None:
        # Re-written at the fix it was indexed at: a new fix a few metres off moves the latitude sort key
        # of every column index, and each moved entry is billed twice (a delete and a put).
        lat, lng = indexed
    responder.available = available
    responder.presence_expires_at = expires_at if available else None
    # Index first when going off duty (nobody may be alerted after we answer), record first when going on.
    if not available:
        geo.remove(RESPONDER, responder_id)
        repo.save_presence(responder)
    elif indexed_still_serves:
        repo.save_presence(responder)  # the index already finds them here for longer than this presence
    else:
        responder.presence_lat, responder.presence_lng = lat, lng
        lease = min(now + timedelta(seconds=max(ttl_s, index_lease_s)), certificate_end)
        repo.save_presence(responder)
        geo.put(
            RESPONDER,
            responder_id,
            lat,
            lng,
            expires_at=int(lease.timestamp()),
            attributes=_reach(responder),
        )
        # A revocation between our read and our put removed an index item that was not there yet: read
        # again after the put, so that whichever of the two writes came last, nobody revoked stays findable.
        fresh = repo.get(responder_id)
        if fresh is None or not certificate_valid(fresh, now, time_zone):
            geo.remove(RESPONDER, responder_id)
            raise Conflict("your certificate is no longer valid", code="certificate_expired")
    return Presence(available=available, expires_at=responder.presence_expires_at)


def register_device(
    repo: ResponderRepository,
    geo: GeoIndex,
    push: PushRegistry,
    caller: Caller,
    responder_id: str,
    *,
    platform: str,
    token: str,
    supported: frozenset[str],
    now: datetime,
    time_zone: str,
) -> str:
    """The responder's app registers for push; alerts then go to the app instead of SMS."""
    responder = own_record(repo, caller, responder_id)
    if platform not in supported:
        raise ValidationFailed(
            f"platform: this deployment pushes to {', '.join(sorted(supported)) or 'no app'}"
        )
    try:
        endpoint, handed_on_by = push.endpoint(platform, token, responder_id)
    except DeviceRefused as refused:
        raise ValidationFailed(f"token: {refused}") from refused
    if handed_on_by is not None:  # that responder's alerts must not reach this phone any more
        repo.drop_push_endpoint(handed_on_by, endpoint)
        previous = repo.get(handed_on_by)
        if previous is not None:
            _reindex_reach(geo, previous, now, time_zone)  # their next alert goes by SMS
    repo.save_push_endpoint(responder_id, endpoint)
    responder.push_endpoint_arn = endpoint
    _reindex_reach(geo, responder, now, time_zone)  # on duty now: the next alert must already use the app
    return endpoint


def _reindex_reach(geo: GeoIndex, responder: Responder, now: datetime, time_zone: str) -> None:
    """How an on-duty responder is reached changed: rewrite their index item where it stands, lease kept
    (a heartbeat of someone standing still does not rewrite it: update_presence)."""
    if not is_available(responder, now, time_zone):
        return
    assert responder.presence_lat is not None and responder.presence_lng is not None
    lease = responder.presence_indexed_until or responder.presence_expires_at
    assert lease is not None
    geo.put(
        RESPONDER,
        responder.responder_id,
        responder.presence_lat,
        responder.presence_lng,
        expires_at=int(lease.timestamp()),
        attributes=_reach(responder),
    )


def _reach(responder: Responder) -> dict[str, str]:
    """How to reach a responder travels with the presence, so an SOS alerts without another read."""
    reach = {"phone": responder.phone}
    if responder.push_endpoint_arn:
        reach["push_endpoint_arn"] = responder.push_endpoint_arn
    return reach


@dataclass(frozen=True)
class Page:
    items: list[Hit]
    next_token: str | None


def paginate(hits: list[Hit], limit: int, next_token: str | None) -> Page:
    """Search results are computed whole (they are bounded by the radius); tokens are offsets."""
    offset = _offset(next_token, len(hits))
    end = offset + limit
    return Page(items=hits[offset:end], next_token=str(end) if end < len(hits) else None)


def _offset(next_token: str | None, total: int) -> int:
    if next_token is None:
        return 0
    if not next_token.isdigit() or int(next_token) > total + 10_000:
        raise ValidationFailed("next_token: not a token this API issued")
    return int(next_token)


def responder_credits(
    repo: ResponderRepository, store: CreditHistory, caller: Caller, responder_id: str
) -> tuple[int, list[Credit]]:
    responder = get_responder(repo, caller, responder_id)
    items = sorted(store.credits(responder_id), key=lambda c: (c.at, c.incident_id, c.reason), reverse=True)
    return responder.credits_balance, items


def nearby_responders(
    geo: GeoIndex,
    repo: ResponderRepository,
    *,
    lat: float,
    lng: float,
    radius_m: float,
    limit: int,
    next_token: str | None,
    now: datetime,
) -> Page:
    """The responders on duty near a point, nearest first. The index may still hold someone whose
    presence lapsed within its lease (update_presence), so each page is checked against the records,
    reading only as many as the page needs; the token is an offset into the index's hits."""
    hits = geo.nearby(RESPONDER, lat, lng, radius_m, now_epoch=int(now.timestamp()))
    offset = _offset(next_token, len(hits))
    items: list[Hit] = []
    while offset < len(hits) and len(items) < limit:
        batch = hits[offset : offset + limit - len(items)]
        present = repo.on_duty([h.entity_id for h in batch], now)
        items += [h for h in batch if h.entity_id in present]
        offset += len(batch)
    return Page(items=items, next_token=str(offset) if offset < len(hits) else None)
