"""Dispatch centres: an admin registers a centre (name, callback URL, service area) and gets its signing
secret once; later registrations change the details and show no secret; a rotation issues a new secret,
shown once, and the one before it verifies for 24 h more (docs/dispatch.md).

The secret lives only in the secret store (Secrets Manager: one secret per centre) and in the answer
that shows it. One issue at a time per centre: the centre's record holds a short lease while a secret is
written, so two admins at once never leave one holding a secret that is not the one in force."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from shared.errors import Conflict, ValidationFailed
from shared.logic.dispatch import signatures
from shared.logic.dispatch.ports import CentreSecrets, CentreStore, DispatchCentre, SigningSecrets
from shared.logic.ids import new_id
from shared.logic.rescue.policy import epoch

# Longer than a registration takes (a function times out in 10 s), short enough that a crashed one does
# not hold the centre up for long.
ISSUE_LEASE_S = 30
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost"})
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_HOST = re.compile(rf"^{_LABEL}(?:\.{_LABEL})*$")


@dataclass(frozen=True)
class Registration:
    centre: DispatchCentre
    secret: str | None  # shown once: the first registration's, or a rotation's


def put_centre(
    store: CentreStore,
    secrets: CentreSecrets,
    centre_id: str,
    name: str,
    callback_url: str,
    area: list[float],
    *,
    rotate: bool,
    loopback_allowed: bool,
    now: datetime,
    new_secret: Callable[[], str] = signatures.new_secret,
) -> Registration:
    """Register or update the centre; issue its first secret, or a new one with ``rotate``."""
    check_callback_url(callback_url, loopback_allowed)
    check_area(area)
    centre = store.save_details(centre_id, name, callback_url, area, now)
    if centre.secret_version is not None and not rotate:
        return Registration(centre, None)
    lease_until = epoch(now) + ISSUE_LEASE_S
    if not store.take_issuing(centre_id, centre.secret_version, epoch(now), lease_until):
        again = store.get(centre_id)
        if not rotate and again is not None and again.secret_version is not None:
            return Registration(again, None)  # another request issued the first secret meanwhile
        raise Conflict(
            "a signing secret for this centre is being issued by another request: try again in a minute",
            code="secret_being_issued",
        )
    previous, valid_until = None, None
    if centre.secret_version is not None:  # a rotation: the secret in force verifies 24 h more
        held = secrets.read(centre_id, None)
        if held is not None:
            # A rotation that crashed wrote a secret nobody was shown: the one before it is the centre's.
            previous = held.current if held.version == centre.secret_version else held.previous
            valid_until = now + signatures.ROTATION_GRACE if previous else None
    version, secret = new_id(), new_secret()
    secrets.write(centre_id, SigningSecrets(version, secret, previous, valid_until))
    if not store.finish_issuing(centre_id, lease_until, version, now, valid_until):
        raise Conflict(
            "the signing secret took too long to issue: register again to get one",
            code="secret_being_issued",
        )
    issued = store.get(centre_id) or centre
    return Registration(issued, secret)


def check_callback_url(url: str, loopback_allowed: bool) -> None:
    """https://<host>[:port]/... with no user or password in it; http://127.0.0.1:<port> or
    http://localhost:<port> only where the deployment allows loopback (the local runtime)."""
    allowed = "an https:// URL" + (", or http://127.0.0.1:<port>" if loopback_allowed else "")
    try:
        parts = urlsplit(url)
        host, port = parts.hostname or "", parts.port
    except ValueError:
        raise ValidationFailed(f"callback_url: must be {allowed}") from None
    if parts.username is not None or parts.password is not None or parts.fragment or not _host(host):
        raise ValidationFailed(f"callback_url: must be {allowed}, with no credentials or fragment")
    loopback = _loopback(host)
    if parts.scheme == "https" and not (loopback and not loopback_allowed):
        return
    if parts.scheme == "http" and loopback_allowed and host in LOOPBACK_HOSTS and port is not None:
        return
    raise ValidationFailed(f"callback_url: must be {allowed}")


def _host(host: str) -> bool:
    if _HOST.match(host):
        return True
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _loopback(host: str) -> bool:
    if host.lower() == "localhost" or host.lower().endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_area(area: list[float]) -> None:
    """[min_lng, min_lat, max_lng, max_lat]: each minimum below its maximum (no area across the
    antimeridian: no 120 centre's is)."""
    min_lng, min_lat, max_lng, max_lat = area
    if not (min_lng < max_lng and min_lat < max_lat):
        raise ValidationFailed("area: must be [minLng, minLat, maxLng, maxLat] with each min below its max")
