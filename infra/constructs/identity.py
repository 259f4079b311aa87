"""Who is calling: a small interface the API asks, with Cognito behind it (global profile).

Cognito does not exist in the China regions (cfn-lint E3006 on AWS::Cognito::UserPool there), so the API
never touches Cognito directly: the cn profile supplies ``OidcIdentity`` (below), a Lambda TOKEN authorizer
whose context the handlers read as they read Cognito's claims (shared.identity), without changing the API
construct.

Mail (sign-up codes, password resets) goes through Amazon SES when the ``cognito_ses_identity`` context value
names a verified SES identity (constants.SES_IDENTITY_CONTEXT); without it Cognito's own sender is used,
which allows a user pool only 50 emails a day (docs/deploy.md). The app client signs in with SRP; it has
OAuth (authorization code only, with PKCE since the client has no secret) exactly when the
``oauth_callback_urls`` context value gives its callbacks, and never the implicit flow.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlsplit

import aws_cdk as cdk
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cognito as cognito
from constructs import Construct

from infra import constants as c
from infra.constructs.functions import DEPLOYMENT_PROFILE, Functions
from shared.config import default_value, env_name
from shared.identity import ROLES
from shared.routes import Route


@dataclass(frozen=True)
class MethodAuth:
    authorization_type: apigw.AuthorizationType
    authorizer: apigw.IAuthorizer | None
    # cdk-nag findings the method accepts because of how this identity protects it, each with its reason.
    acknowledgements: tuple[cdk.Acknowledgment, ...] = ()


class Identity(Protocol):
    """How the API protects a route: anonymous routes get no authorizer, every other one does."""

    groups: tuple[str, ...]

    def method_auth(self, route: Route) -> MethodAuth: ...


class WebSignIn(Protocol):
    """How the web pages sign in (infra/constructs/web.py): authorization code with PKCE at the identity's
    issuer, the settings written to config.json's ``identity``."""

    def web_sign_in_origins(self) -> list[str]: ...

    def web_sign_in(self, pages_url: str) -> dict[str, Any]: ...


# The pages' folders besides "/" (each one a sign-in callback): web/<page>/index.html.
WEB_PAGES = ("map", "console", "cockpit")


ANONYMOUS = MethodAuth(apigw.AuthorizationType.NONE, None)

_DOMAIN = re.compile(r"(?=.{4,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}")
_ADDRESS = re.compile(r"[A-Za-z0-9._%+-]{1,64}@(?P<domain>.+)")
# RFC 2606's documentation domains: a callback there is a placeholder someone forgot.
_PLACEHOLDER_HOSTS = re.compile(r"(.+\.)?example\.(com|org|net)")


@dataclass(frozen=True)
class SesSender:
    """Cognito's mail through SES: ``from_email`` is sent from; ``verified_domain`` is the SES identity when
    the domain (not the address) is the verified one."""

    from_email: str
    verified_domain: str | None = None


def ses_sender(value: object) -> SesSender | None:
    """The ``cognito_ses_identity`` context value: a verified SES address identity ("no-reply@rescue.org"),
    or a verified domain identity ("rescue.org": mail from no-reply@rescue.org). Absent or empty: Cognito's
    default sender. Anything else raises ValueError, which fails synthesis."""
    where = f"CDK context {c.SES_IDENTITY_CONTEXT!r}"
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    text = value.strip() if isinstance(value, str) else ""
    address = _ADDRESS.fullmatch(text)
    if address and _DOMAIN.fullmatch(address["domain"]):
        return SesSender(from_email=text)
    if _DOMAIN.fullmatch(text):
        return SesSender(from_email=f"no-reply@{text}", verified_domain=text)
    raise ValueError(
        f"{where} must be an SES-verified email address or domain (e.g. no-reply@rescue.org or rescue.org), "
        f"got {value!r}"
    )


def oauth_callback_urls(value: object) -> tuple[str, ...]:
    """The ``oauth_callback_urls`` context value: a JSON list, a comma-separated string, or a list (cdk.json)
    of https:// URLs, app links of a custom scheme (rescuenearby://auth) or http://localhost URLs for
    development. Absent or empty: none, and the client gets no OAuth flow. Placeholder hosts (example.com)
    and anything else raise ValueError, which fails synthesis."""
    where = f"CDK context {c.OAUTH_CALLBACKS_CONTEXT!r}"
    if value is None or (isinstance(value, str) and not value.strip()):
        return ()
    items: object = value
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                items = json.loads(text)
            except json.JSONDecodeError as error:
                raise ValueError(f"{where} is not a valid JSON list ({error})") from None
        else:
            items = [part.strip() for part in text.split(",") if part.strip()]
    if not isinstance(items, list | tuple) or not all(isinstance(u, str) for u in items):
        raise ValueError(f"{where} must be a list of URLs, got {value!r}")
    for url in items:
        parts = urlsplit(url)
        host = parts.hostname or ""
        scheme_ok = (
            (parts.scheme == "https" and "." in host)
            or (parts.scheme == "http" and host == "localhost")
            or (re.fullmatch(r"[a-z][a-z0-9+.-]*", parts.scheme) and parts.scheme not in ("http", "https"))
        )
        if not scheme_ok or parts.fragment:
            raise ValueError(
                f"{where}: {url!r} must be an https:// URL, an app link (myapp://callback) or "
                "http://localhost, without a fragment"
            )
        if _PLACEHOLDER_HOSTS.fullmatch(host):
            raise ValueError(f"{where}: {url!r} is a placeholder host, not the app's callback")
    return tuple(dict.fromkeys(items))


class CognitoIdentity(Construct):
    """A user pool with one group per role, an app client, and the API's user-pools authorizer."""

    groups: tuple[str, ...] = tuple(sorted(ROLES))

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        callback_urls: Sequence[str] = (),
        ses: SesSender | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        region = cdk.Stack.of(self).region
        if not cdk.Token.is_unresolved(region) and region.startswith("cn-"):
            raise ValueError(f"Cognito is not available in {region}: supply another infra Identity")

        self.user_pool = cognito.UserPool(
            self,
            "UserPool",
            user_pool_name=c.USER_POOL_NAME,
            # Volunteers register themselves for training; roles come only from groups admins assign.
            self_sign_up_enabled=True,
            sign_in_aliases=cognito.SignInAliases(email=True),
            auto_verify=cognito.AutoVerifiedAttrs(email=True),
            account_recovery=cognito.AccountRecovery.EMAIL_ONLY,
            password_policy=cognito.PasswordPolicy(
                min_length=c.PASSWORD_MIN_LENGTH,
                require_lowercase=True,
                require_uppercase=True,
                require_digits=True,
                require_symbols=True,
            ),
            # TOTP only: SMS MFA would need an SNS role with a wildcard publish permission.
            mfa=cognito.Mfa.OPTIONAL,
            mfa_second_factor=cognito.MfaSecondFactor(sms=False, otp=True),
            feature_plan=cognito.FeaturePlan.ESSENTIALS,
            # SES in the stack's own region (given explicitly: an environment-agnostic stack's region is a
            # token, which CDK refuses to guess from).
            email=cognito.UserPoolEmail.with_ses(
                from_email=ses.from_email,
                from_name=c.SES_FROM_NAME,
                ses_verified_domain=ses.verified_domain,
                ses_region=region,
            )
            if ses
            else cognito.UserPoolEmail.with_cognito(),
            deletion_protection=True,
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        cdk.Validations.of(self.user_pool).acknowledge(
            cdk.Acknowledgment(
                id="AwsSolutions-COG2",
                reason=(
                    "MFA is optional (TOTP offered to everyone): Cognito cannot require MFA per group, and "
                    "requiring it of the citizen volunteers who make up most of the pool would lose "
                    "responders. Dispatcher and admin accounts must enrol TOTP (admin runbook; not enforced "
                    "by this stack)."
                ),
            ),
            cdk.Acknowledgment(
                id="AwsSolutions-COG8",
                reason=(
                    "Essentials tier: Plus is charged per monthly active user and the pool is mostly "
                    "volunteers; the API is additionally protected by WAF and stage throttling."
                ),
            ),
        )
        for group in self.groups:
            cognito.CfnUserPoolGroup(
                self,
                f"Group-{group}",
                user_pool_id=self.user_pool.user_pool_id,
                group_name=group,
                description=f"Rescue Nearby role: {group}",
            )
        # Without callbacks the client has no OAuth at all (CDK's default would allow the implicit flow with
        # an https://example.com callback); with them, the authorization code grant only, which a client
        # without a secret uses with PKCE.
        self.client = self.user_pool.add_client(
            "AppClient",
            auth_flows=cognito.AuthFlow(user_srp=True),
            generate_secret=False,  # used from phones and browsers, which cannot keep a secret
            prevent_user_existence_errors=True,
            disable_o_auth=not callback_urls,
            o_auth=cognito.OAuthSettings(
                flows=cognito.OAuthFlows(authorization_code_grant=True, implicit_code_grant=False),
                callback_urls=list(callback_urls),
                scopes=[cognito.OAuthScope.OPENID, cognito.OAuthScope.EMAIL, cognito.OAuthScope.PROFILE],
            )
            if callback_urls
            else None,
        )
        self.authorizer = apigw.CognitoUserPoolsAuthorizer(
            self, "Authorizer", cognito_user_pools=[self.user_pool]
        )

    def method_auth(self, route: Route) -> MethodAuth:
        if route.anonymous:
            return ANONYMOUS
        return MethodAuth(apigw.AuthorizationType.COGNITO, self.authorizer)

    # --- the web pages' sign-in (infra/constructs/web.py): Cognito's hosted sign-in, code + PKCE --------
    def web_sign_in_origins(self) -> list[str]:
        """The origins the pages fetch to sign in (the token endpoint): for their CSP connect-src."""
        return [self._web_domain().base_url()]

    def web_sign_in(self, pages_url: str) -> dict[str, Any]:
        """config.json's ``identity``: a public app client of its own for the pages (authorization code
        with PKCE, no secret, callbacks and sign-out on the pages' folder URLs only). The pages send the
        ID token, which the API's user-pools authorizer checks (it carries cognito:groups)."""
        pages = [f"{pages_url}/", *(f"{pages_url}/{page}/" for page in WEB_PAGES)]
        self.web_client = self.user_pool.add_client(
            "WebClient",
            generate_secret=False,
            auth_flows=cognito.AuthFlow(),  # the hosted sign-in only: no password reaches the pages
            prevent_user_existence_errors=True,
            supported_identity_providers=[cognito.UserPoolClientIdentityProvider.COGNITO],
            o_auth=cognito.OAuthSettings(
                flows=cognito.OAuthFlows(authorization_code_grant=True, implicit_code_grant=False),
                callback_urls=pages,
                logout_urls=pages,
                scopes=[cognito.OAuthScope.OPENID],
            ),
        )
        domain = self._web_domain().base_url()
        return {
            "kind": "oidc",
            "authority": self.user_pool.user_pool_provider_url,
            "client_id": self.web_client.user_pool_client_id,
            "roles_claim": "cognito:groups",
            "authorize_url": f"{domain}/oauth2/authorize",
            "token_url": f"{domain}/oauth2/token",
            "logout_url": f"{domain}/logout",
            "scopes": "openid",
        }

    def _web_domain(self) -> cognito.UserPoolDomain:
        existing = self.user_pool.node.try_find_child("Domain")
        if isinstance(existing, cognito.UserPoolDomain):
            return existing
        # A Cognito domain prefix is unique per region across all accounts: the account id makes it so.
        return self.user_pool.add_domain(
            "Domain",
            cognito_domain=cognito.CognitoDomainOptions(domain_prefix=f"rescue-nearby-{cdk.Aws.ACCOUNT_ID}"),
        )


# --- the cn profile: an OIDC issuer behind a Lambda TOKEN authorizer ----------------------------------
# Who is calling, in the cn profile: bearer tokens of an OIDC issuer (Authing, Keycloak, a city's SSO),
# checked by an API Gateway Lambda TOKEN authorizer (functions/authorizer, shared/oidc.py).
#
# The AWS China regions have no Cognito user pools and API Gateway there supports no Cognito authorizers
# (docs/deploy.md, China profile), so this is the ``Identity`` the API gets there.
#
# - The token comes in the ``Authorization`` header; a header that is not ``Bearer <compact JWS>`` is refused
#   (401) by API Gateway itself, without invoking the function.
# - API Gateway caches the function's answer per token for ``constants.AUTHORIZER_CACHE_TTL_S`` (30 s); the
#   function allows ``constants.OIDC_LEEWAY_S`` (30 s) of clock skew on ``exp``: a token is never honoured
#   more than 60 s past its expiry. Its answer allows the whole API, since a cached answer serves whatever
#   route comes next; roles are checked by the handlers (shared.routes), from the context it returns.
# - The function runs on the same code asset and layer as every other function; it needs no AWS permission
#   but its own logs, and reaches the issuer's JWKS over HTTPS (Lambda outside a VPC has internet access).
#
# Where the issuer comes from: CloudFormation parameters (``OidcIssuer``, ``OidcAudience``, ``OidcJwksUrl``,
# ``OidcRolesClaim``), not CDK context. The issuer is a fact of the deployment, not of the build: one
# synthesized template (reviewed, linted, nag-checked) serves every city's deployment. Synthesis needs none of
# them (offline, nothing set); a deploy that does not give the first three fails before CloudFormation changes
# anything ("Parameters: [...] must have values"), so the API never runs without an issuer to check tokens
# against; later deploys keep the values given (the CDK CLI passes the previous ones). Each has an
# AllowedPattern (issuer and JWKS URL https://), so a malformed value fails the deploy too.

AUTHORIZER_FUNCTION = "authorizer"  # functions/authorizer/handler.py
_HTTPS = r"^https://[^\s/?#]+\.[^\s?#]+$"


def _oidc_reason() -> str:
    return (
        "Signed in with the OIDC Lambda TOKEN authorizer (functions/authorizer: the issuer's bearer JWT, "
        "signature, iss, aud and exp checked): the AWS China regions have no Cognito user pools and API "
        "Gateway there supports no Cognito authorizer (docs/deploy.md, China profile)."
    )


class OidcIdentity(Construct):
    """The cn profile's ``Identity``: every non-anonymous route behind the OIDC TOKEN authorizer."""

    groups: tuple[str, ...] = tuple(sorted(ROLES))

    def __init__(self, scope: Construct, construct_id: str, *, functions: Functions) -> None:
        super().__init__(scope, construct_id)
        if c.OIDC_LEEWAY_S + c.AUTHORIZER_CACHE_TTL_S > c.AUTHORIZER_MAX_PAST_EXP_S:
            raise ValueError("the authorizer's leeway plus its cache TTL exceed AUTHORIZER_MAX_PAST_EXP_S")
        self.issuer = self._parameter(
            "OidcIssuer",
            "The OIDC issuer whose tokens the API accepts, exactly as in their iss claim "
            "(e.g. https://<app>.authing.cn/oidc, https://sso.example.cn/realms/rescue).",
            pattern=_HTTPS,
        )
        self.audience = self._parameter(
            "OidcAudience",
            "The aud the API's tokens carry: the client id of the Rescue Nearby app at the issuer.",
            pattern=r"^\S{1,256}$",
        )
        self.jwks_url = self._parameter(
            "OidcJwksUrl",
            "The issuer's signing keys (jwks_uri of <issuer>/.well-known/openid-configuration).",
            pattern=_HTTPS,
        )
        self.roles_claim = self._parameter(
            "OidcRolesClaim",
            "The top-level token claim that lists the caller's platform roles (responder, dispatcher, "
            "aed_manager, trainer, examiner, admin).",
            pattern=r"^[A-Za-z0-9_:/.-]{1,128}$",
            default=str(default_value("oidc_roles_claim")),
        )
        self.function = functions.function(
            self,
            AUTHORIZER_FUNCTION,
            handler=f"functions.{AUTHORIZER_FUNCTION}.handler.lambda_handler",
            environment={
                DEPLOYMENT_PROFILE: functions.profile.name,
                env_name("oidc_issuer"): self.issuer.value_as_string,
                env_name("oidc_audience"): self.audience.value_as_string,
                env_name("oidc_jwks_url"): self.jwks_url.value_as_string,
                env_name("oidc_roles_claim"): self.roles_claim.value_as_string,
                env_name("oidc_leeway_s"): str(c.OIDC_LEEWAY_S),
            },
            timeout_s=c.FUNCTION_TIMEOUT_S,
            description="Rescue Nearby: the API's OIDC token authorizer",
            wildcard_reason=None,  # logs only: no X-Ray in the China regions, no other grant
        )
        self.authorizer = apigw.TokenAuthorizer(
            self,
            "TokenAuthorizer",
            handler=self.function,
            authorizer_name=c.AUTHORIZER_NAME,
            identity_source=apigw.IdentitySource.header("Authorization"),
            validation_regex=c.AUTHORIZER_TOKEN_PATTERN,
            results_cache_ttl=cdk.Duration.seconds(c.AUTHORIZER_CACHE_TTL_S),
        )
        self._signed_in = (cdk.Acknowledgment(id="AwsSolutions-COG4", reason=_oidc_reason()),)

    def _parameter(
        self, name: str, description: str, *, pattern: str, default: str | None = None
    ) -> cdk.CfnParameter:
        parameter = cdk.CfnParameter(
            self,
            name,
            type="String",
            description=description,
            allowed_pattern=pattern,
            constraint_description=f"must match {pattern} (docs/deploy.md, China profile)",
            default=default,
        )
        parameter.override_logical_id(name)  # what ops pass: cdk deploy --parameters OidcIssuer=...
        return parameter

    def method_auth(self, route: Route) -> MethodAuth:
        if route.anonymous:
            return ANONYMOUS
        return MethodAuth(apigw.AuthorizationType.CUSTOM, self.authorizer, self._signed_in)

    # --- the web pages' sign-in (infra/constructs/web.py): the issuer's own endpoints, code + PKCE ------
    # The pages sign in at the same issuer, as the same client (OidcAudience: the tokens' aud the API
    # checks); the issuer must allow the pages' folder URLs as that client's callbacks (docs/deploy.md).
    def _endpoints(self) -> tuple[cdk.CfnParameter, cdk.CfnParameter]:
        existing = self.node.try_find_child("OidcTokenUrl")
        if isinstance(existing, cdk.CfnParameter):
            authorize = self.node.find_child("OidcAuthorizeUrl")
            assert isinstance(authorize, cdk.CfnParameter)
            return authorize, existing
        authorize = self._parameter(
            "OidcAuthorizeUrl",
            "The issuer's authorization endpoint (authorization_endpoint of its openid-configuration), "
            "where the web pages send a person to sign in.",
            pattern=_HTTPS,
        )
        token = self._parameter(
            "OidcTokenUrl",
            "The issuer's token endpoint (token_endpoint of its openid-configuration); it must answer "
            "the web pages' origin with CORS.",
            pattern=_HTTPS,
        )
        return authorize, token

    def web_sign_in_origins(self) -> list[str]:
        """The token endpoint's origin (https://host), for the pages' CSP connect-src."""
        _, token = self._endpoints()
        host = cdk.Fn.select(2, cdk.Fn.split("/", token.value_as_string))
        return [cdk.Fn.join("", ["https://", host])]

    def web_sign_in(self, pages_url: str) -> dict[str, Any]:
        """config.json's ``identity`` from the issuer's parameters."""
        authorize, token = self._endpoints()
        return {
            "kind": "oidc",
            "authority": self.issuer.value_as_string,
            "client_id": self.audience.value_as_string,
            "roles_claim": self.roles_claim.value_as_string,
            "authorize_url": authorize.value_as_string,
            "token_url": token.value_as_string,
            "scopes": "openid",
        }
