"""The local OIDC issuer: RS256 tokens for /dev/token, and the JWKS the local gateway serves at
/dev/issuer/jwks.json, from which the real authorizer (functions/authorizer) checks them, as it checks a
real issuer's in the cn profile. A fresh key every start, so no token outlives the process.

In the global profile the tokens look like a Cognito user pool's ID tokens (roles in ``cognito:groups``);
in the cn profile like a generic OIDC issuer's (roles in ``groups``, the authorizer's default claim)."""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterable
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from shared.identity import ROLES

AUDIENCE = "rescue-nearby-local"
TOKEN_LIFETIME_S = 12 * 3600
ISSUER_PATH = "/dev/issuer"
JWKS_PATH = f"{ISSUER_PATH}/jwks.json"
DISCOVERY_PATH = f"{ISSUER_PATH}/.well-known/openid-configuration"


def roles_claim(profile: str) -> str:
    return "cognito:groups" if profile == "global" else "groups"


class LocalIssuer:
    def __init__(self, issuer: str, profile: str) -> None:
        self.issuer = issuer
        self.profile = profile
        self.roles_claim = roles_claim(profile)
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = secrets.token_hex(8)

    @property
    def jwks_url(self) -> str:
        return f"{self.issuer}/jwks.json"

    def issue(self, sub: str, roles: Iterable[str], **extra: Any) -> str:
        roles = list(roles)
        unknown = set(roles) - ROLES
        if unknown:
            raise ValueError(f"unknown roles: {sorted(unknown)}")
        now = int(time.time())
        claims: dict[str, Any] = {
            "sub": sub,
            "iss": self.issuer,
            "aud": AUDIENCE,
            "iat": now,
            "exp": now + TOKEN_LIFETIME_S,
            self.roles_claim: roles,
            **extra,
        }
        if self.profile == "global":
            claims["token_use"] = "id"
        return jwt.encode(claims, self._key, algorithm="RS256", headers={"kid": self.kid})

    def jwks(self) -> dict[str, Any]:
        public = RSAAlgorithm.to_jwk(self._key.public_key(), as_dict=True)
        return {"keys": [{**public, "kid": self.kid, "use": "sig", "alg": "RS256"}]}

    def discovery(self) -> dict[str, Any]:
        return {
            "issuer": self.issuer,
            "jwks_uri": self.jwks_url,
            "id_token_signing_alg_values_supported": ["RS256"],
        }

    def authorizer_environment(self) -> dict[str, str]:
        """What the authorizer function is configured with to trust this issuer."""
        return {
            "OIDC_ISSUER": self.issuer,
            "OIDC_AUDIENCE": AUDIENCE,
            "OIDC_JWKS_URL": self.jwks_url,
            "OIDC_ROLES_CLAIM": self.roles_claim,
        }
