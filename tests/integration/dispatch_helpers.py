"""Building blocks for the 120 link's tests: a registered centre, and calls signed as its CAD system signs
them (the ``standardwebhooks`` package's own signer, over the exact bytes sent)."""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from standardwebhooks import Webhook

from tests.conftest import Api, Reply
from tests.integration.rescue_helpers import PATIENT

ADMIN = {"sub": "admin-1", "roles": ("admin",)}
AREA = [119.9, 30.0, 120.5, 30.5]  # Hangzhou's main districts
_ids = itertools.count(1)


def register(api: Api, centre_id: str = "hz120", *, rotate: bool = False, **changes: Any) -> Reply:
    body = {
        "name": "杭州市急救中心",
        "callback_url": "https://cad.hz120.example.cn/rescue-nearby/hooks",
        "area": AREA,
        **changes,
    }
    query = {"rotate": "true"} if rotate else None
    return api("PUT", f"/v1/dispatch/centres/{centre_id}", body, query=query, **ADMIN)


@dataclass
class Centre:
    """A registered centre, as its CAD system: it knows its id and secret, and signs what it sends."""

    api: Api
    centre_id: str
    secret: str

    def sign(
        self, body: str, webhook_id: str | None = None, at: datetime | None = None, secret: str | None = None
    ) -> dict[str, str]:
        webhook_id = webhook_id or f"msg_{next(_ids):06d}"
        at = at or datetime.now(UTC)
        return {
            "webhook-id": webhook_id,
            "webhook-timestamp": str(int(at.timestamp())),
            "webhook-signature": Webhook(secret or self.secret).sign(webhook_id, at, body),
        }

    def post(
        self,
        path: str,
        payload: Any,
        *,
        webhook_id: str | None = None,
        signed_at: datetime | None = None,
        secret: str | None = None,
    ) -> Reply:
        body = payload if isinstance(payload, str) else json.dumps(payload, ensure_ascii=False)
        return self.api("POST", path, raw_body=body, headers=self.sign(body, webhook_id, signed_at, secret))

    def incident(
        self,
        cad: str = "HZ-20261206-0001",
        where: tuple[float, float] = PATIENT,
        *,
        webhook_id: str | None = None,
        signed_at: datetime | None = None,
        secret: str | None = None,
        **fields: Any,
    ) -> Reply:
        body = {
            "cad_incident_no": cad,
            "nature": "cardiac_arrest",
            "lat": where[0],
            "lng": where[1],
            **fields,
        }
        return self.post(
            f"/v1/dispatch/centres/{self.centre_id}/incidents",
            body,
            webhook_id=webhook_id,
            signed_at=signed_at,
            secret=secret,
        )

    def update(
        self,
        cad: str,
        type_: str,
        outcome: str | None = None,
        *,
        webhook_id: str | None = None,
        secret: str | None = None,
    ) -> Reply:
        body = {"type": type_, **({"outcome": outcome} if outcome else {})}
        return self.post(
            f"/v1/dispatch/centres/{self.centre_id}/incidents/{cad}/updates",
            body,
            webhook_id=webhook_id,
            secret=secret,
        )


def centre(api: Api, centre_id: str = "hz120") -> Centre:
    reply = register(api, centre_id)
    assert reply.status == 200, reply.body
    return Centre(api, centre_id, reply.body["secret"])
