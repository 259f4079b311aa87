"""Bearer tokens of any OIDC issuer (Authing, Keycloak, a city's SSO), checked the way the API's Lambda
authorizer needs in the cn profile, where Cognito does not exist.

The checking is PyJWT's (signatures by the issuer's JWKS, RS256 and ES256 only; ``iss``, ``aud``,
``exp``/``nbf`` with a small leeway). What is decided here: which claims must be there, where roles come
from, and how the issuer's keys are cached. Keys are fetched once and kept five minutes; a token whose
``kid`` is not among them makes one refetch, at most once a minute (a key rotated in at the issuer is
found at once, a flood of made-up ``kid``s cannot hammer the issuer); while the issuer cannot be reached
the keys already held keep working and every other key is refused (closed, never open)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import jwt
from jwt import PyJWKClient, PyJWKSet
from jwt.exceptions import PyJWKClientConnectionError

from shared.identity import ROLES

ALGORITHMS = ("RS256", "ES256")  # asymmetric only: an HS256 token "signed" with the public key is refused
KEYS_LIFESPAN_S = 300
UNKNOWN_KID_REFETCH_S = 60
JWKS_TIMEOUT_S = 3  # the authorizer runs before the handler: a slow issuer must not hold the request long
# Claims where some issuer might carry roles. Roles are read from the configured claim only; a token that
# names a platform role in another of these is refused: it means an issuer configured differently from
# the platform (ops must hear of it), or a token made to look privileged.
_ROLE_LIKE = re.compile(r"(group|role)", re.IGNORECASE)


class Unauthorized(Exception):
    """The token is not one this API honours (the reason is for the log, never for the caller)."""


class IssuerUnreachable(Exception):
    """No key is held and the issuer's JWKS cannot be fetched: nothing can be verified now. Not the
    token's fault, so not a 401 (an app signs its user out on a 401): API Gateway's 500, which apps retry."""


@dataclass(frozen=True)
class Verified:
    sub: str
    roles: tuple[str, ...]  # the platform's roles only, sorted; unknown group names are dropped

    def authorizer_context(self) -> dict[str, str]:
        """What API Gateway hands the handlers as ``requestContext.authorizer`` (a Lambda authorizer's
        context may hold strings only): the subject, and the roles comma-separated, as a REST API's
        Cognito authorizer flattens ``cognito:groups`` (shared.identity reads both)."""
        return {"sub": self.sub, "groups": ",".join(self.roles)}


class IssuerKeys(PyJWKClient):
    """PyJWT's JWKS client, except that a failed fetch falls back to the keys last fetched: an issuer
    outage does not sign everybody out, and a ``kid`` that was never fetched is still refused."""

    def get_jwk_set(self, refresh: bool = False) -> PyJWKSet:
        try:
            return super().get_jwk_set(refresh)
        except PyJWKClientConnectionError:
            held = self.jwk_set_cache.jwk_set_with_timestamp if self.jwk_set_cache else None
            if held is None or self.jwk_set_cache is None:
                raise
            keys = held.get_jwk_set()
            # Held again for a lifespan: while the issuer is down, a fetch (and its timeout) is tried once
            # per lifespan, not on every request.
            self.jwk_set_cache.put(keys)
            return keys


def issuer_keys(jwks_url: str) -> IssuerKeys:
    return IssuerKeys(
        jwks_url,
        lifespan=KEYS_LIFESPAN_S,
        cooldown_duration=UNKNOWN_KID_REFETCH_S,
        timeout=JWKS_TIMEOUT_S,
    )


class OidcVerifier:
    def __init__(
        self,
        *,
        issuer: str,
        audience: str,
        keys: PyJWKClient,
        roles_claim: str = "groups",
        leeway_s: int = 30,
    ) -> None:
        if not issuer or not audience:
            # An authorizer with no issuer or audience would have nothing to check tokens against.
            raise ValueError("OIDC_ISSUER and OIDC_AUDIENCE must be set")
        self.issuer = issuer
        self.audience = audience
        self.keys = keys
        self.roles_claim = roles_claim
        self.leeway_s = leeway_s

    def verify(self, authorization: str | None) -> Verified:
        """The caller behind ``Authorization: Bearer <jwt>``; raises Unauthorized for anything else."""
        token = _bearer(authorization)
        try:
            key = self.keys.get_signing_key_from_jwt(token)
        except PyJWKClientConnectionError as error:
            raise IssuerUnreachable(str(error)) from None
        except jwt.PyJWTError as error:
            raise Unauthorized(f"{type(error).__name__}: {error}") from None
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=list(ALGORITHMS),
                audience=self.audience,
                issuer=self.issuer,
                leeway=self.leeway_s,
                options={"require": ["exp", "iss", "aud", "sub"], "verify_nbf": True},
            )
        except jwt.PyJWTError as error:
            raise Unauthorized(f"{type(error).__name__}: {error}") from None
        sub = claims.get("sub")
        if not isinstance(sub, str) or not sub.strip():
            raise Unauthorized("sub must be a non-empty string")
        return Verified(sub=sub, roles=self._roles(claims))

    def _roles(self, claims: Mapping[str, Any]) -> tuple[str, ...]:
        top = self.roles_claim if self.roles_claim in claims else self.roles_claim.split(".")[0]
        for name, value in claims.items():
            if name != top and _ROLE_LIKE.search(name) and _names_a_role(value):
                raise Unauthorized(f"roles in claim {name!r}; this API reads only {self.roles_claim!r}")
        raw = _claim_at(claims, self.roles_claim)
        if raw is None:
            return ()
        if isinstance(raw, str):
            names = raw.replace(",", " ").split()
        elif isinstance(raw, list) and all(isinstance(x, str) for x in raw):
            names = raw
        else:
            raise Unauthorized(f"claim {self.roles_claim!r} must be a list of strings")
        return tuple(sorted(set(names) & ROLES))


def _claim_at(claims: Mapping[str, Any], path: str) -> Any:
    """The claim named ``path``, or, when no claim has that name, the nested one it names with dots
    (Keycloak's realm roles: ``realm_access.roles``)."""
    if path in claims:
        return claims[path]
    value: Any = claims
    for part in path.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def _bearer(authorization: str | None) -> str:
    if not authorization:
        raise Unauthorized("no Authorization header")
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("not a bearer token")
    return token.strip()


def _names_a_role(value: object) -> bool:
    if isinstance(value, str):
        return bool(set(value.replace(",", " ").split()) & ROLES)
    if isinstance(value, list):
        return any(isinstance(x, str) and x in ROLES for x in value)
    return False
