"""Who is calling, from what API Gateway's authorizer put in ``requestContext.authorizer``: in the global
profile the Cognito authorizer's verified ``claims`` (``sub``, ``cognito:groups``); in the cn profile the
context of the OIDC Lambda authorizer (functions/authorizer: ``sub``, ``groups``), which API Gateway puts
there flat (a Lambda authorizer's context holds strings only). The local gateway runs that authorizer and
hands over the shape of the profile it runs."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

ROLES = frozenset({"responder", "dispatcher", "aed_manager", "trainer", "examiner", "admin"})


@dataclass(frozen=True)
class Caller:
    sub: str | None
    roles: frozenset[str]

    @property
    def signed_in(self) -> bool:
        return self.sub is not None

    def has_any(self, roles: frozenset[str]) -> bool:
        return bool(self.roles & roles)

    def is_self_or_admin(self, subject_id: str) -> bool:
        return self.sub == subject_id or "admin" in self.roles


ANONYMOUS = Caller(sub=None, roles=frozenset())


def caller_from_authorizer(authorizer: Mapping[str, Any] | None) -> Caller:
    if not authorizer:
        return ANONYMOUS
    claims = authorizer.get("claims")
    if isinstance(claims, Mapping):  # the Cognito user pools authorizer
        return caller_from_claims(claims)
    sub = authorizer.get("sub")  # a Lambda authorizer's context
    if not sub:
        return ANONYMOUS
    return Caller(sub=str(sub), roles=parse_groups(authorizer.get("groups")))


def caller_from_claims(claims: Mapping[str, Any] | None) -> Caller:
    if not claims or not claims.get("sub"):
        return ANONYMOUS
    return Caller(sub=str(claims["sub"]), roles=parse_groups(claims.get("cognito:groups")))


def parse_groups(raw: object) -> frozenset[str]:
    """API Gateway flattens ``cognito:groups`` to a string ("a,b" for REST APIs, "[a b]" for HTTP APIs);
    a JSON list is accepted too. Unknown group names are ignored, never trusted."""
    if raw is None:
        return frozenset()
    names = [str(x) for x in raw] if isinstance(raw, list | tuple) else re.split(r"[\s,\[\]]+", str(raw))
    return frozenset(n for n in names if n in ROLES)
