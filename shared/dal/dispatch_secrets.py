"""The centres' signing secrets in Secrets Manager: one secret per centre, named
``<DISPATCH_SECRET_PREFIX><centre_id>``, its value one JSON object (``version``, ``current``, and after a
rotation ``previous`` with ``previous_valid_until``).

One secret per centre rather than one for all: a registration or a rotation writes its own centre's
secret and no other (Secrets Manager has no conditional write, so one shared JSON would lose a centre
when two admins wrote at once), IAM scopes every function to the prefix, and a centre's secret is
deleted or audited on its own (CloudTrail names the secret read).

Reads are cached per (centre, version) for ``CACHE_S``: a warm function verifies a centre's calls without
calling Secrets Manager; a registration or rotation changes the centre's ``secret_version``, which is read
with every call, so a new secret is read at once. A value read that is not the version asked for (Secrets
Manager may briefly answer the one before a write) is used but not cached."""

from __future__ import annotations

import json
import threading
import time
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from shared.logic.dispatch.ports import SigningSecrets

CACHE_S = 60.0


class SecretsManagerCentreSecrets:
    def __init__(self, client: Any, prefix: str) -> None:
        self._client = client
        self._prefix = prefix
        self._cache: dict[tuple[str, str], tuple[float, SigningSecrets]] = {}
        self._lock = threading.Lock()

    def name(self, centre_id: str) -> str:
        return self._prefix + centre_id

    def read(self, centre_id: str, version: str | None) -> SigningSecrets | None:
        if version is not None:
            with self._lock:
                cached = self._cache.get((centre_id, version))
            if cached is not None and time.monotonic() - cached[0] < CACHE_S:
                return cached[1]
        try:
            raw = self._client.get_secret_value(SecretId=self.name(centre_id))["SecretString"]
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
                return None
            raise
        secrets = _parsed(raw)
        if version is not None and secrets.version == version:
            with self._lock:
                self._cache[(centre_id, version)] = (time.monotonic(), secrets)
        return secrets

    def write(self, centre_id: str, secrets: SigningSecrets) -> None:
        value = json.dumps(
            {
                "version": secrets.version,
                "current": secrets.current,
                "previous": secrets.previous,
                "previous_valid_until": (
                    secrets.previous_valid_until.isoformat() if secrets.previous_valid_until else None
                ),
            }
        )
        try:
            self._client.put_secret_value(SecretId=self.name(centre_id), SecretString=value)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "ResourceNotFoundException":
                raise
            self._client.create_secret(
                Name=self.name(centre_id),
                Description=f"Rescue Nearby: signing secrets of dispatch centre {centre_id}",
                SecretString=value,
            )


def _parsed(raw: str) -> SigningSecrets:
    value = json.loads(raw)
    until = value.get("previous_valid_until")
    return SigningSecrets(
        version=str(value["version"]),
        current=str(value["current"]),
        previous=value.get("previous"),
        previous_valid_until=datetime.fromisoformat(until) if until else None,
    )
