"""The check-in signing key: a Secrets Manager secret (created by CDK with a generated value; by the
local runtime in the embedded AWS), read once per Lambda container."""

from __future__ import annotations

from functools import lru_cache

import boto3

from shared.config import settings


class CheckinSecretMissing(RuntimeError):
    pass


def checkin_secret() -> bytes:
    secret_id = settings().checkin_secret_id
    if not secret_id:
        raise CheckinSecretMissing("CHECKIN_SECRET_ID is not set: the check-in function has no key")
    return _read(secret_id)


@lru_cache(maxsize=4)
def _read(secret_id: str) -> bytes:
    client = boto3.client("secretsmanager", region_name=settings().region)
    return str(client.get_secret_value(SecretId=secret_id)["SecretString"]).encode()
