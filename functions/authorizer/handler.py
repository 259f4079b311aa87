"""The API's Lambda TOKEN authorizer in the cn profile (no Cognito there): the bearer JWT of the configured
OIDC issuer, checked by shared/oidc.py. Deny by default: whatever is not a valid token, and any failure
here, is API Gateway's 401. The answer allows the whole API (API Gateway caches it per token for the
authorizer's TTL, whichever route comes next), and its context is the caller the handlers read."""

from __future__ import annotations

from functools import cache
from typing import Any

from shared.config import settings
from shared.observability import logger
from shared.oidc import IssuerUnreachable, OidcVerifier, Unauthorized, issuer_keys

# The exact message API Gateway turns into a 401 (anything else raised is a 500).
UNAUTHORIZED = "Unauthorized"


@cache
def _verifier(issuer: str, audience: str, jwks_url: str, roles_claim: str, leeway_s: int) -> OidcVerifier:
    return OidcVerifier(
        issuer=issuer,
        audience=audience,
        keys=issuer_keys(jwks_url),
        roles_claim=roles_claim,
        leeway_s=leeway_s,
    )


def verifier() -> OidcVerifier:
    """Built on first use, then kept for the instance's life (its key cache with it)."""
    config = settings()
    return _verifier(
        config.oidc_issuer,
        config.oidc_audience,
        config.oidc_jwks_url,
        config.oidc_roles_claim,
        config.oidc_leeway_s,
    )


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    try:
        caller = verifier().verify(event.get("authorizationToken"))
        api = _api_arn(str(event["methodArn"]))
    except Unauthorized as refused:
        logger.info("token refused", extra={"reason": str(refused)})
        raise Exception(UNAUTHORIZED) from None
    except IssuerUnreachable as down:
        # Closed, but not the token's fault: API Gateway answers 500 (its AUTHORIZER_FAILURE response).
        logger.error("issuer unreachable: refusing", extra={"reason": str(down)})
        raise RuntimeError("the OIDC issuer's keys cannot be fetched") from None
    except Exception:
        logger.exception("authorizer failed: refusing")
        raise Exception(UNAUTHORIZED) from None
    return {
        "principalId": caller.sub,
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [{"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": f"{api}/*"}],
        },
        "context": caller.authorizer_context(),
    }


def _api_arn(method_arn: str) -> str:
    """arn:<partition>:execute-api:<region>:<account>:<api>/<stage>/<verb>/<path> → .../<api>/<stage>"""
    head, _, rest = method_arn.partition("/")
    stage = rest.split("/", 1)[0]
    if not head.startswith("arn:") or ":execute-api:" not in head or not stage:
        raise ValueError(f"not a method ARN: {method_arn!r}")
    return f"{head}/{stage}"
