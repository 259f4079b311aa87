"""Standard Webhooks signatures, as the 120 centres sign their calls and as our own deliveries will be
signed: ``webhook-id``, ``webhook-timestamp`` (Unix seconds) and ``webhook-signature`` (``v1,`` + base64
HMAC-SHA256 of ``"<id>.<timestamp>.<raw body>"``, several space-separated during a rotation), keyed by the
secret's bytes after its ``whsec_`` prefix.

The HMAC and its constant-time comparison are the maintained ``standardwebhooks`` package's
(``Webhook(secret).verify``). What it cannot be told is the time: it reads the clock itself, so the rule
that matters here, a timestamp at most five minutes from ``now``, is checked first against the instant
given (and the package checks it again against its clock, which in a request is the same instant). Which
secrets are tried at ``now`` (the current one, and the previous one for 24 h after a rotation) is decided
here too, so every rule is testable at any instant without waiting.
"""

from __future__ import annotations

import base64
import binascii
import math
import secrets as _random
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta

from standardwebhooks import Webhook

from shared.logic.dispatch.ports import SigningSecrets

TOLERANCE = timedelta(minutes=5)  # a timestamp further from now than this is refused (either way)
ROTATION_GRACE = timedelta(hours=24)  # after a rotation, the previous secret verifies this long
SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32
HEADERS = ("webhook-id", "webhook-timestamp", "webhook-signature")
_MAX_ID_LENGTH = 200  # a webhook-id longer than any sender's (the spec's examples are ~30 characters)


class BadSignature(Exception):
    """The call is not proven to come from the centre: why, for the logs only (never for the caller)."""


def new_secret() -> str:
    """A signing secret: ``whsec_`` + base64 of 32 random bytes (shown to the admin once)."""
    return SECRET_PREFIX + base64.b64encode(_random.token_bytes(SECRET_BYTES)).decode("ascii")


def sign(secret: str, webhook_id: str, at: datetime, body: str) -> dict[str, str]:
    """The three headers of a webhook the platform sends, signed with ``secret`` at ``at``."""
    utc = at.astimezone(UTC)  # the package reads the instant's fields as UTC whatever its offset
    return {
        "webhook-id": webhook_id,
        "webhook-timestamp": str(math.floor(utc.timestamp())),
        "webhook-signature": Webhook(secret).sign(webhook_id, utc, body),
    }


def keys_at(secrets: SigningSecrets, now: datetime) -> list[str]:
    """The secrets a call may be signed with at ``now``: the current one, and the previous one until its
    grace ends (strictly before ``previous_valid_until``)."""
    keys = [secrets.current]
    if secrets.previous and secrets.previous_valid_until is not None and now < secrets.previous_valid_until:
        keys.append(secrets.previous)
    return keys


def verify(keys: Sequence[str], body: str, headers: Mapping[str, str], now: datetime) -> str:
    """The call's ``webhook-id`` when one of its signatures is one of ``keys``' over exactly ``body``,
    and its timestamp is within TOLERANCE of ``now`` (inclusive); else BadSignature. Header names are
    matched in any case; signature entries that are not ``<version>,<base64>`` are skipped, so one
    malformed entry beside a valid one does not spoil it."""
    wanted = {name.lower(): value for name, value in headers.items()}
    found = {name: wanted.get(name) or "" for name in HEADERS}
    webhook_id, timestamp, signature = (found[name] for name in HEADERS)
    if not (webhook_id and timestamp and signature):
        raise BadSignature("a webhook-id, webhook-timestamp or webhook-signature header is missing")
    if len(webhook_id) > _MAX_ID_LENGTH or not webhook_id.isprintable():
        raise BadSignature("the webhook-id is not one a sender makes")
    if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 12):
        raise BadSignature("the webhook-timestamp is not Unix seconds")
    sent = int(timestamp)
    if abs(now.timestamp() - sent) > TOLERANCE.total_seconds():
        raise BadSignature("the webhook-timestamp is more than 5 minutes from now")
    entries = " ".join(entry for entry in signature.split(" ") if _well_formed(entry))
    if not entries:
        raise BadSignature("no signature entry of the form v1,<base64>")
    checked = {"webhook-id": webhook_id, "webhook-timestamp": timestamp, "webhook-signature": entries}
    for key in keys:
        try:
            Webhook(key).verify(body, checked, json_parse=False)
        except Exception:  # WebhookVerificationError, or a secret that is not base64: the next key
            continue
        return webhook_id
    raise BadSignature("no signature matches a secret of the centre")


def _well_formed(entry: str) -> bool:
    version, comma, value = entry.partition(",")
    if not (version and comma and value) or "," in value:
        return False
    try:
        base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return False
    return True
