"""Local stand-in for the Cognito user pool: issues and verifies tokens the way the API's authorizer
sees them. A fresh signing key every start, so no token outlives the process."""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterable
from typing import Any

import jwt

from shared.identity import ROLES

ISSUER = "rescue-nearby-local"
TOKEN_LIFETIME_S = 12 * 3600


class InvalidToken(Exception):
    pass


class DevTokens:
    def __init__(self) -> None:
        self._key = secrets.token_bytes(32)

    def issue(self, sub: str, roles: Iterable[str]) -> str:
        roles = list(roles)
        unknown = set(roles) - ROLES
        if unknown:
            raise ValueError(f"unknown roles: {sorted(unknown)}")
        now = int(time.time())
        claims = {
            "sub": sub,
            "cognito:groups": roles,
            "token_use": "id",
            "iss": ISSUER,
            "iat": now,
            "exp": now + TOKEN_LIFETIME_S,
        }
        return jwt.encode(claims, self._key, algorithm="HS256")

    def verify(self, authorization: str | None) -> dict[str, Any]:
        """Claims as API Gateway's Cognito authorizer hands them to a REST API Lambda: strings, with
        ``cognito:groups`` joined by commas."""
        if not authorization or not authorization.startswith("Bearer "):
            raise InvalidToken("missing bearer token")
        try:
            claims = jwt.decode(
                authorization[len("Bearer ") :].strip(),
                self._key,
                algorithms=["HS256"],
                issuer=ISSUER,
                options={"require": ["sub", "exp", "iss"]},
            )
        except jwt.PyJWTError as error:
            raise InvalidToken(str(error)) from error
        flattened = {k: str(v) for k, v in claims.items() if k != "cognito:groups"}
        groups = claims.get("cognito:groups") or []
        if groups:
            flattened["cognito:groups"] = ",".join(groups)
        return flattened
