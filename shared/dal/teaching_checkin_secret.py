"""The check-in signing key: a Secrets Manager secret (created by CDK with a generated value; by the
local runtime in the embedded AWS), read once per Lambda container. The client comes from
shared/wiring.py (``wiring.checkin_secret()``)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from shared.config import settings


class CheckinSecretMissing(RuntimeError):
    pass


def checkin_secret(client: Any) -> bytes:
    secret_id = settings().checkin_secret_id
    if not secret_id:
        raise CheckinSecretMissing("CHECKIN_SECRET_ID is not set: the check-in function has no key")
    return _read(client, secret_id)


@lru_cache(maxsize=4)
def _read(client: Any, secret_id: str) -> bytes:
    return str(client.get_secret_value(SecretId=secret_id)["SecretString"]).encode()
