"""The deployment profile: which AWS partition the stack is built for, and what that changes.

- ``global`` (the default): the stack as it has always been. Cognito, SNS SMS and mobile push, X-Ray,
  arm64 Lambda; environment-agnostic unless CDK_DEFAULT_ACCOUNT and CDK_DEFAULT_REGION are both set.
- ``cn``: the AWS China regions (cn-north-1 Beijing, cn-northwest-1 Ningxia; partition ``aws-cn``), which
  have no Cognito user pools, no Cognito authorizers, no SNS SMS or mobile push, no X-Ray integration
  (docs/deploy.md, "China profile", lists each feature with its source). Identity is an OIDC issuer behind
  a Lambda TOKEN authorizer; texts and pushes go through mainland providers (Alibaba Cloud or Tencent
  Cloud SMS, JPush) with credentials in a Secrets Manager secret; the stack is region-specific.

Everything comes from CDK context (``cdk -c profile=cn -c region=cn-north-1``, or ``make synth
PROFILE=cn REGION=cn-north-1``). A value that does not parse, or one that belongs to the other profile,
raises ValueError naming it, which fails synthesis before anything is built.

Stdlib only (plus shared.logic.messages, itself stdlib only, on first use): ``python -m infra.wheels``
reads the profile's Lambda architecture without starting a jsii runtime.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

GLOBAL = "global"
CN = "cn"
PROFILES = (GLOBAL, CN)

# Context keys (docs/deploy.md lists them all).
PROFILE_CONTEXT = "profile"
REGION_CONTEXT = "region"  # cn only: the stack's region
ARCHITECTURE_CONTEXT = "lambda_architecture"
SMS_PROVIDER_CONTEXT = "sms_provider"  # cn only
SMS_SIGN_NAME_CONTEXT = "sms_sign_name"  # cn only
SMS_TEMPLATES_CONTEXT = "sms_templates"  # cn only
TENCENT_SMS_APP_ID_CONTEXT = "tencent_sms_app_id"  # cn, Tencent only
TENCENT_SMS_REGION_CONTEXT = "tencent_sms_region"  # cn, Tencent only
CN_ONLY_CONTEXT = (
    REGION_CONTEXT,
    SMS_PROVIDER_CONTEXT,
    SMS_SIGN_NAME_CONTEXT,
    SMS_TEMPLATES_CONTEXT,
    TENCENT_SMS_APP_ID_CONTEXT,
    TENCENT_SMS_REGION_CONTEXT,
)

CN_REGIONS: tuple[str, ...] = ("cn-north-1", "cn-northwest-1")
CN_DEFAULT_REGION = "cn-northwest-1"

Architecture = Literal["arm64", "x86_64"]
ARCHITECTURES: tuple[Architecture, ...] = ("arm64", "x86_64")
# arm64 (Graviton) Lambda in the China regions is not confirmed by AWS China's documentation (the Lambda
# guide points at a pricing page for the regions that have it; docs/deploy.md): x86_64 there, which every
# region has, unless ops set lambda_architecture=arm64 after checking their region's console.
DEFAULT_ARCHITECTURE: dict[str, Architecture] = {GLOBAL: "arm64", CN: "x86_64"}

SMS_PROVIDERS = ("alibaba", "tencent")
DEFAULT_SMS_PROVIDER = "alibaba"
PUSH_PROVIDER_CN = "jpush"
# Tencent Cloud SMS regions (its API's Region parameter): mainland sites only, the data stays in China.
TENCENT_SMS_REGIONS = ("ap-guangzhou", "ap-beijing", "ap-nanjing")
_TENCENT_APP_ID = re.compile(r"14\d{8}")  # SmsSdkAppId: ten digits, starting 14
_TEMPLATE_CODE = re.compile(r"[A-Za-z0-9_]{1,64}")  # Alibaba SMS_123456789; Tencent 1234567


@dataclass(frozen=True)
class Profile:
    name: str
    architecture: Architecture
    # The stack's region: None for the global profile (environment-agnostic, as always); cn: one of
    # CN_REGIONS.
    region: str | None = None
    # The channels (cn only; "sns" in global): shared/config.py reads them as SMS_PROVIDER, PUSH_PROVIDER.
    sms_provider: str = "sns"
    push_provider: str = "sns"
    sms_sign_name: str = ""
    sms_templates: Mapping[str, str] = field(default_factory=dict)
    tencent_sms_app_id: str = ""
    tencent_sms_region: str = ""

    @property
    def china(self) -> bool:
        return self.name == CN

    @property
    def tracing(self) -> bool:
        """X-Ray active tracing (Lambda, API Gateway, Step Functions): not in the China regions."""
        return not self.china


GLOBAL_PROFILE = Profile(name=GLOBAL, architecture=DEFAULT_ARCHITECTURE[GLOBAL])


def lint_regions(name: str) -> tuple[str, ...]:
    """The regions cfn-lint checks a profile's template against (infra/lint.py)."""
    from infra import constants as c

    return CN_REGIONS if name == CN else c.LINT_REGIONS


Context = Callable[[str], object]


def _text(value: object, key: str) -> str | None:
    """A context value as stripped text; None when absent or empty."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError(f"CDK context {key!r} must be a string, got {type(value).__name__}")
    return value.strip() or None


def profile_name(context: Context) -> str:
    name = _text(context(PROFILE_CONTEXT), PROFILE_CONTEXT) or GLOBAL
    if name not in PROFILES:
        raise ValueError(f"CDK context {PROFILE_CONTEXT!r} must be one of {list(PROFILES)}, got {name!r}")
    return name


def architecture(context: Context, profile: str) -> Architecture:
    value = _text(context(ARCHITECTURE_CONTEXT), ARCHITECTURE_CONTEXT) or DEFAULT_ARCHITECTURE[profile]
    for known in ARCHITECTURES:
        if value == known:
            return known
    raise ValueError(
        f"CDK context {ARCHITECTURE_CONTEXT!r} must be one of {list(ARCHITECTURES)}, got {value!r}"
    )


def context_object(value: object, where: str, of_what: str, example: str = "") -> Mapping[str, Any]:
    """A CDK context value that holds a JSON object: given as a JSON string (what ``cdk -c key='{...}'``
    passes) or an object (cdk.json, a test's context); absent, empty or "{}" is empty. Anything else
    raises ValueError, which fails synthesis before any resource is built."""
    expected = f"; expected e.g. {example}" if example else ""
    if value is None or (isinstance(value, str) and not value.strip()):
        return {}
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as error:
            raise ValueError(f"{where} is not valid JSON ({error}){expected}") from None
    if not isinstance(value, Mapping):
        raise ValueError(f"{where} must be a JSON object {of_what}, got {type(value).__name__}{expected}")
    return value


def sms_templates(value: object) -> dict[str, str]:
    """The ``sms_templates`` context value: {template id: the provider's approved template code}, a JSON
    object string or an object. Template ids are those of shared.logic.messages.TEMPLATES; codes are
    strings (Alibaba ``SMS_123456789``) or numbers (Tencent ``1234567``)."""
    from shared.logic.messages import TEMPLATES

    where = f"CDK context {SMS_TEMPLATES_CONTEXT!r}"
    value = context_object(value, where, "of template id to approved template code")
    unknown = sorted(str(k) for k in value if k not in TEMPLATES)
    if unknown:
        raise ValueError(f"{where}: unknown template id(s) {unknown}; known: {sorted(TEMPLATES)}")
    codes: dict[str, str] = {}
    for template_id, code in sorted(value.items()):
        text = str(code) if isinstance(code, int) and not isinstance(code, bool) else code
        if not isinstance(text, str) or not _TEMPLATE_CODE.fullmatch(text):
            raise ValueError(f"{where}: {template_id!r} must be the provider's template code, got {code!r}")
        codes[template_id] = text
    return codes


def from_context(context: Context, environ: Mapping[str, str] | None = None) -> Profile:
    """The profile the context asks for. ``environ`` (the process environment by default) supplies
    CDK_DEFAULT_REGION, which the CDK CLI sets from the AWS profile, when the context names no region."""
    environ = os.environ if environ is None else environ
    name = profile_name(context)
    arch = architecture(context, name)
    if name == GLOBAL:
        stray = [key for key in CN_ONLY_CONTEXT if context(key) not in (None, "")]
        if stray:
            raise ValueError(f"CDK context {stray} belong(s) to the cn profile (-c {PROFILE_CONTEXT}=cn)")
        return Profile(name=GLOBAL, architecture=arch)

    region = _text(context(REGION_CONTEXT), REGION_CONTEXT)
    if region is None:
        cli_region = environ.get("CDK_DEFAULT_REGION", "")
        region = cli_region if cli_region in CN_REGIONS else CN_DEFAULT_REGION
    if region not in CN_REGIONS:
        raise ValueError(
            f"CDK context {REGION_CONTEXT!r} must be one of {list(CN_REGIONS)} in the cn profile, "
            f"got {region!r}"
        )
    provider = _text(context(SMS_PROVIDER_CONTEXT), SMS_PROVIDER_CONTEXT) or DEFAULT_SMS_PROVIDER
    if provider not in SMS_PROVIDERS:
        raise ValueError(
            f"CDK context {SMS_PROVIDER_CONTEXT!r} must be one of {list(SMS_PROVIDERS)}, got {provider!r}"
        )
    app_id = _text(context(TENCENT_SMS_APP_ID_CONTEXT), TENCENT_SMS_APP_ID_CONTEXT) or ""
    tencent_region = _text(context(TENCENT_SMS_REGION_CONTEXT), TENCENT_SMS_REGION_CONTEXT) or ""
    if provider == "tencent":
        if not _TENCENT_APP_ID.fullmatch(app_id):
            raise ValueError(
                f"sms_provider=tencent needs CDK context {TENCENT_SMS_APP_ID_CONTEXT!r}: the SMS "
                f"application's SdkAppId (ten digits, 14...), got {app_id!r}"
            )
        tencent_region = tencent_region or _setting_default("tencent_sms_region")
        if tencent_region not in TENCENT_SMS_REGIONS:
            raise ValueError(
                f"CDK context {TENCENT_SMS_REGION_CONTEXT!r} must be one of {list(TENCENT_SMS_REGIONS)}, "
                f"got {tencent_region!r}"
            )
    elif app_id or tencent_region:
        raise ValueError(
            f"CDK context {TENCENT_SMS_APP_ID_CONTEXT!r} and {TENCENT_SMS_REGION_CONTEXT!r} are for "
            f"sms_provider=tencent (this is {provider!r})"
        )
    sign_name = _text(context(SMS_SIGN_NAME_CONTEXT), SMS_SIGN_NAME_CONTEXT) or _setting_default(
        "sms_sign_name"
    )
    return Profile(
        name=CN,
        architecture=arch,
        region=region,
        sms_provider=provider,
        push_provider=PUSH_PROVIDER_CN,
        sms_sign_name=sign_name,
        sms_templates=sms_templates(context(SMS_TEMPLATES_CONTEXT)),
        tencent_sms_app_id=app_id,
        tencent_sms_region=tencent_region,
    )


def _setting_default(name: str) -> str:
    from shared.config import default_value

    return str(default_value(name))
