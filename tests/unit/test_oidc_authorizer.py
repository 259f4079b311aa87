"""The cn profile's API authorizer (functions/authorizer) against a real JWKS endpoint on loopback: every
way a token can be wrong is a 401 (API Gateway's "Unauthorized"), a valid one hands the handlers exactly
its subject and roles, and the issuer's keys are cached, refetched and failed closed as promised."""

from __future__ import annotations

import json
import threading
import time
import types
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm
from werkzeug.wrappers import Request, Response

from functions.authorizer import handler
from local_runtime.providers import serve
from shared.identity import caller_from_authorizer
from shared.oidc import KEYS_LIFESPAN_S, UNKNOWN_KID_REFETCH_S, OidcVerifier, issuer_keys

ISSUER = "https://sso.hangzhou.example.cn/realms/rescue"
AUDIENCE = "rescue-nearby"
METHOD_ARN = "arn:aws-cn:execute-api:cn-northwest-1:123456789012:abc123/prod/GET/v1/incidents"


@dataclass
class SigningKey:
    kid: str
    private: Any
    alg: str

    def jwk(self) -> dict[str, Any]:
        codec = RSAAlgorithm if self.alg == "RS256" else ECAlgorithm
        public = codec.to_jwk(self.private.public_key(), as_dict=True)
        return {**public, "kid": self.kid, "use": "sig", "alg": self.alg}


def rsa_key(kid: str) -> SigningKey:
    return SigningKey(kid, rsa.generate_private_key(public_exponent=65537, key_size=2048), "RS256")


def ec_key(kid: str) -> SigningKey:
    return SigningKey(kid, ec.generate_private_key(ec.SECP256R1()), "ES256")


@dataclass
class Issuer:
    """A JWKS endpoint whose keys a test rotates, and which counts its fetches or goes down."""

    keys: list[SigningKey]
    fetches: int = 0
    down: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, environ: Any, start_response: Any) -> Any:
        request = Request(environ)
        with self.lock:
            self.fetches += 1
            if self.down or request.path != "/jwks.json":
                return Response("unavailable", status=503)(environ, start_response)
            body = json.dumps({"keys": [k.jwk() for k in self.keys]})
        return Response(body, content_type="application/json")(environ, start_response)


class Clock:
    """time.monotonic as PyJWT's key cache sees it, moved by the test (no sleeping)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    shim = types.SimpleNamespace(monotonic=fake.monotonic, time=time.time)
    monkeypatch.setattr(jwt.jwks_client, "time", shim)
    monkeypatch.setattr(jwt.jwk_set_cache, "time", shim)
    monkeypatch.setattr(jwt.api_jwk, "time", shim)  # the cached set's timestamp
    return fake


@pytest.fixture
def issuer() -> Iterator[tuple[Issuer, str]]:
    endpoint = Issuer(keys=[rsa_key("k1"), ec_key("e1")])
    serving = serve(endpoint, "jwks")
    try:
        yield endpoint, f"{serving.url}/jwks.json"
    finally:
        serving.stop()


@pytest.fixture
def authorize(issuer: tuple[Issuer, str], clock: Clock, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The real handler, configured for the test issuer as a deployment's environment would."""
    _, jwks_url = issuer
    verifier = OidcVerifier(
        issuer=ISSUER, audience=AUDIENCE, keys=issuer_keys(jwks_url), roles_claim="groups", leeway_s=30
    )
    monkeypatch.setattr(handler, "verifier", lambda: verifier)

    def call(token: str | None, *, scheme: str = "Bearer") -> dict[str, Any]:
        header = f"{scheme} {token}" if token is not None else ""
        return handler.lambda_handler(
            {"type": "TOKEN", "authorizationToken": header, "methodArn": METHOD_ARN}, None
        )

    return call


def token(key: SigningKey, **overrides: Any) -> str:
    now = int(time.time())
    claims = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "volunteer-7",
        "iat": now,
        "exp": now + 300,
        "groups": ["responder", "dispatcher"],
    }
    claims.update(overrides)
    claims = {k: v for k, v in claims.items() if v is not None}
    return jwt.encode(claims, key.private, algorithm=key.alg, headers={"kid": key.kid})


def refused(call: Any, *args: Any, **kwargs: Any) -> bool:
    try:
        call(*args, **kwargs)
    except Exception as error:
        assert str(error) == "Unauthorized"  # API Gateway's 401, never a 500
        return True
    return False


# --- a valid token -------------------------------------------------------------------------------


@pytest.mark.parametrize("kid", ["k1", "e1"], ids=["RS256", "ES256"])
def test_a_valid_token_hands_the_handlers_exactly_its_subject_and_roles(
    issuer: tuple[Issuer, str], authorize: Any, kid: str
) -> None:
    key = next(k for k in issuer[0].keys if k.kid == kid)
    answer = authorize(token(key, groups=["dispatcher", "responder", "not-a-platform-role"]))
    assert answer["principalId"] == "volunteer-7"
    assert answer["context"] == {"sub": "volunteer-7", "groups": "dispatcher,responder"}
    # The policy covers the API's every route (API Gateway caches it per token across routes).
    [statement] = answer["policyDocument"]["Statement"]
    assert statement == {
        "Action": "execute-api:Invoke",
        "Effect": "Allow",
        "Resource": "arn:aws-cn:execute-api:cn-northwest-1:123456789012:abc123/prod/*",
    }
    # What the handlers build from it, as API Gateway hands the context over (flat).
    caller = caller_from_authorizer({"principalId": answer["principalId"], **answer["context"]})
    assert caller.sub == "volunteer-7"
    assert caller.roles == frozenset({"dispatcher", "responder"})


def test_a_token_without_roles_is_a_signed_in_member_of_the_public(
    issuer: tuple[Issuer, str], authorize: Any
) -> None:
    answer = authorize(token(issuer[0].keys[0], groups=None))
    caller = caller_from_authorizer({"principalId": "x", **answer["context"]})
    assert caller.signed_in and caller.roles == frozenset()


def test_a_clock_a_little_behind_the_issuers_is_tolerated(issuer: tuple[Issuer, str], authorize: Any) -> None:
    now = int(time.time())
    assert not refused(authorize, token(issuer[0].keys[0], exp=now - 20))
    assert not refused(authorize, token(issuer[0].keys[0], nbf=now + 20))


# --- every way a token can be wrong: 401 ------------------------------------------------------------


def _unsigned(key: SigningKey) -> str:
    header = {"alg": "none", "typ": "JWT", "kid": key.kid}
    payload = json.loads(json.dumps(jwt.decode(token(key), options={"verify_signature": False})))
    parts = [jwt.utils.base64url_encode(json.dumps(p).encode()).decode() for p in (header, payload)]
    return ".".join([*parts, ""])


def _hs256_with_public_key(key: SigningKey) -> str:
    pem = key.private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    claims = jwt.decode(token(key), options={"verify_signature": False})
    # PyJWT itself refuses to HMAC with a PEM key; forge it by hand, as an attacker would.
    header = {"alg": "HS256", "typ": "JWT", "kid": key.kid}
    signing_input = ".".join(
        jwt.utils.base64url_encode(json.dumps(p).encode()).decode() for p in (header, claims)
    )
    import hashlib
    import hmac

    signature = hmac.new(pem, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{jwt.utils.base64url_encode(signature).decode()}"


NOW = int(time.time())
WRONG_TOKENS: dict[str, Any] = {
    "alg none": _unsigned,
    "HS256 signed with the public key": _hs256_with_public_key,
    "signed by another key under the issuer's kid": lambda key: token(
        SigningKey(key.kid, rsa.generate_private_key(public_exponent=65537, key_size=2048), "RS256")
    ),
    "wrong iss": lambda key: token(key, iss="https://evil.example.cn"),
    "wrong aud": lambda key: token(key, aud="another-app"),
    "no aud": lambda key: token(key, aud=None),
    "expired": lambda key: token(key, exp=int(time.time()) - 61),
    "no exp": lambda key: token(key, exp=None),
    "not yet valid": lambda key: token(key, nbf=int(time.time()) + 61),
    "no sub": lambda key: token(key, sub=None),
    "empty sub": lambda key: token(key, sub=" "),
    "roles smuggled in cognito:groups": lambda key: token(key, groups=None, **{"cognito:groups": ["admin"]}),
    "roles smuggled in roles": lambda key: token(key, roles=["admin"]),
    "roles smuggled beside real ones": lambda key: token(key, custom_roles="admin"),
    "groups not a list of strings": lambda key: token(key, groups={"admin": True}),
    "unknown kid": lambda key: token(SigningKey("nobody", key.private, key.alg)),
    "garbage": lambda key: "not.a.jwt",
}


@pytest.mark.parametrize("make", WRONG_TOKENS.values(), ids=WRONG_TOKENS.keys())
def test_a_wrong_token_is_refused(issuer: tuple[Issuer, str], authorize: Any, make: Any) -> None:
    assert refused(authorize, make(issuer[0].keys[0]))


@pytest.mark.parametrize("header", [None, "", "Basic dXNlcjpwYXNz", "Bearer", "Bearer  "])
def test_no_bearer_token_is_refused(authorize: Any, header: str | None) -> None:
    event = {"type": "TOKEN", "authorizationToken": header, "methodArn": METHOD_ARN}
    with pytest.raises(Exception, match=r"^Unauthorized$"):
        handler.lambda_handler(event, None)


def test_an_authorizer_with_no_issuer_configured_refuses_everything(
    issuer: tuple[Issuer, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OIDC_ISSUER", "")
    monkeypatch.setenv("OIDC_AUDIENCE", "")
    from shared.config import settings

    settings.cache_clear()
    try:
        event = {
            "type": "TOKEN",
            "authorizationToken": f"Bearer {token(issuer[0].keys[0])}",
            "methodArn": METHOD_ARN,
        }
        with pytest.raises(Exception, match=r"^Unauthorized$"):
            handler.lambda_handler(event, None)
    finally:
        settings.cache_clear()


# --- the issuer's keys -----------------------------------------------------------------------------


def test_a_key_rotated_in_is_found_at_once_and_a_retired_one_stops_working(
    issuer: tuple[Issuer, str], authorize: Any, clock: Clock
) -> None:
    endpoint, _ = issuer
    old = endpoint.keys[0]
    assert not refused(authorize, token(old))
    new = rsa_key("k2")
    endpoint.keys = [new]  # the issuer rotates: k1 retired, k2 in
    clock.now += UNKNOWN_KID_REFETCH_S  # the cooldown after the first fetch has passed
    assert not refused(authorize, token(new)), "a new kid refetches the keys once"
    clock.now += KEYS_LIFESPAN_S + 1  # the cached set lapses; the next call fetches k2 alone
    assert refused(authorize, token(old)), "a retired key stops working once the keys are refetched"


def test_unknown_kids_refetch_at_most_once_a_minute(
    issuer: tuple[Issuer, str], authorize: Any, clock: Clock
) -> None:
    endpoint, _ = issuer
    assert not refused(authorize, token(endpoint.keys[0]))
    fetched = endpoint.fetches
    clock.now += UNKNOWN_KID_REFETCH_S
    for n in range(20):  # a flood of made-up kids
        assert refused(authorize, token(SigningKey(f"made-up-{n}", endpoint.keys[0].private, "RS256")))
        clock.now += 1
    assert endpoint.fetches - fetched == 1


def test_an_unreachable_issuer_keeps_held_keys_and_refuses_the_rest(
    issuer: tuple[Issuer, str], authorize: Any, clock: Clock
) -> None:
    endpoint, _ = issuer
    held = endpoint.keys[0]
    assert not refused(authorize, token(held))
    endpoint.down = True
    clock.now += KEYS_LIFESPAN_S + UNKNOWN_KID_REFETCH_S + 1
    assert not refused(authorize, token(held)), "held keys keep working while the issuer is down"
    new = rsa_key("k9")
    endpoint.keys.append(new)
    assert refused(authorize, token(new)), "a key never fetched is refused while the issuer is down"


def test_an_issuer_never_reached_refuses_everything_as_a_failure_not_as_a_bad_token(
    authorize: Any, issuer: tuple[Issuer, str]
) -> None:
    issuer[0].down = True
    # Not "Unauthorized" (a 401 signs the app's user out): API Gateway's 500, which the app retries.
    with pytest.raises(RuntimeError, match="cannot be fetched"):
        authorize(token(issuer[0].keys[0]))


def test_while_the_issuer_is_down_its_keys_are_asked_for_once_a_lifespan_not_every_request(
    issuer: tuple[Issuer, str], authorize: Any, clock: Clock
) -> None:
    endpoint, _ = issuer
    assert not refused(authorize, token(endpoint.keys[0]))
    endpoint.down = True
    clock.now += KEYS_LIFESPAN_S + 1
    fetched = endpoint.fetches
    for _ in range(5):
        assert not refused(authorize, token(endpoint.keys[0]))
        clock.now += 1
    assert endpoint.fetches - fetched == 1


def test_a_nested_roles_claim_is_read_by_its_dotted_path(
    issuer: tuple[Issuer, str], clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Keycloak puts realm roles in realm_access.roles: OIDC_ROLES_CLAIM=realm_access.roles reads them."""
    verifier = OidcVerifier(
        issuer=ISSUER, audience=AUDIENCE, keys=issuer_keys(issuer[1]), roles_claim="realm_access.roles"
    )
    keycloak = token(issuer[0].keys[0], groups=None, realm_access={"roles": ["dispatcher", "offline_access"]})
    assert verifier.verify(f"Bearer {keycloak}").roles == ("dispatcher",)
