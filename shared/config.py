"""Deployment settings: read from the environment once, here and nowhere else.

Plain dataclasses, not pydantic: the SOS function reads these on its cold start, and pydantic's import
alone is about a fifth of what boto3 and its clients cost there (bench/cold_start.py). Each setting names
its environment variable and the bounds a deployment may set it within; a value outside them, or one that
does not parse, stops the function at start-up with the variable's name (``SettingError``)."""

from __future__ import annotations

import dataclasses
import json
import os
import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any, get_type_hints


class SettingError(ValueError):
    """A deployment setting that does not parse or is out of bounds: a deployment mistake."""


def setting(
    env: str,
    default: Any,
    *,
    gt: float | None = None,
    ge: float | None = None,
    le: float | None = None,
) -> Any:
    """A setting read from the environment variable ``env``; dicts are JSON objects."""
    metadata = {"env": env, "gt": gt, "ge": ge, "le": le}
    if isinstance(default, dict):
        frozen = dict(default)
        return dataclasses.field(default_factory=lambda: dict(frozen), metadata=metadata)
    return dataclasses.field(default=default, metadata=metadata)


@dataclasses.dataclass(frozen=True)
class Settings:
    responders_table: str = setting("RESPONDERS_TABLE", "rescue-nearby-responders")
    # The Red Cross cockpit (docs/cockpit.md): one summary per incident kept from the rescue tables'
    # streams, and the districts its figures are filtered by.
    rescue_summaries_table: str = setting("RESCUE_SUMMARIES_TABLE", "rescue-nearby-rescue-summaries")
    districts_table: str = setting("DISTRICTS_TABLE", "rescue-nearby-districts")
    # The debriefs after rescues (shared/logic/debriefs.py): invitations, answers, the call-back list.
    debriefs_table: str = setting("DEBRIEFS_TABLE", "rescue-nearby-debriefs")
    # Rescue teams and E-stations (shared/logic/teams.py).
    teams_table: str = setting("TEAMS_TABLE", "rescue-nearby-teams")
    aeds_table: str = setting("AEDS_TABLE", "rescue-nearby-aeds")
    geo_table: str = setting("GEO_INDEX_TABLE", "rescue-nearby-geo-index")
    incidents_table: str = setting("INCIDENTS_TABLE", "rescue-nearby-incidents")
    alerts_table: str = setting("ALERTS_TABLE", "rescue-nearby-alerts")
    events_table: str = setting("EVENTS_TABLE", "rescue-nearby-incident-events")
    credits_table: str = setting("CREDITS_TABLE", "rescue-nearby-credits")
    # The credits exports to the provincial public-credit platform: their records, the bucket holding their
    # files, and the Secrets Manager secret whose value seeds the ed25519 key that signs them (ARN or name).
    credit_exports_table: str = setting("CREDIT_EXPORTS_TABLE", "rescue-nearby-credit-exports")
    credit_exports_bucket: str = setting("CREDIT_EXPORTS_BUCKET", "rescue-nearby-credit-exports")
    credit_export_secret_id: str = setting("CREDIT_EXPORT_SECRET_ID", "")
    sos_keys_table: str = setting("SOS_KEYS_TABLE", "rescue-nearby-sos-keys")
    # Teaching (shared/dal/models/teaching.py)
    training_courses_table: str = setting("TRAINING_COURSES_TABLE", "rescue-nearby-training-courses")
    training_sessions_table: str = setting("TRAINING_SESSIONS_TABLE", "rescue-nearby-training-sessions")
    training_registrations_table: str = setting(
        "TRAINING_REGISTRATIONS_TABLE", "rescue-nearby-training-registrations"
    )
    training_registration_keys_table: str = setting(
        "TRAINING_REGISTRATION_KEYS_TABLE", "rescue-nearby-training-registration-keys"
    )
    training_theory_table: str = setting("TRAINING_THEORY_TABLE", "rescue-nearby-training-theory")
    training_evaluations_table: str = setting(
        "TRAINING_EVALUATIONS_TABLE", "rescue-nearby-training-evaluations"
    )
    # The Secrets Manager secret that signs session check-in codes (ARN or name).
    checkin_secret_id: str = setting("CHECKIN_SECRET_ID", "")
    # Exams and certificates (shared/dal/certification.py)
    examiners_table: str = setting("EXAMINERS_TABLE", "rescue-nearby-examiners")
    exams_table: str = setting("EXAMS_TABLE", "rescue-nearby-exams")
    exam_scores_table: str = setting("EXAM_SCORES_TABLE", "rescue-nearby-exam-scores")
    certificates_table: str = setting("CERTIFICATES_TABLE", "rescue-nearby-certificates")
    certificate_numbers_table: str = setting("CERTIFICATE_NUMBERS_TABLE", "rescue-nearby-certificate-numbers")
    certificate_reminders_table: str = setting(
        "CERTIFICATE_REMINDERS_TABLE", "rescue-nearby-certificate-reminders"
    )
    aed_inspections_table: str = setting("AED_INSPECTIONS_TABLE", "rescue-nearby-aed-inspections")
    upkeep_reminders_table: str = setting("UPKEEP_REMINDERS_TABLE", "rescue-nearby-upkeep-reminders")
    # The "AED upkeep" SNS topic: reminders to AED managers (message attributes manager_id, aed_id).
    upkeep_topic_arn: str = setting("UPKEEP_TOPIC_ARN", "")
    aed_reports_table: str = setting("AED_REPORTS_TABLE", "rescue-nearby-aed-reports")
    # Photos attached to AED fault reports (uploaded straight to S3 with a presigned POST).
    photo_bucket: str = setting("PHOTO_BUCKET", "rescue-nearby-photos")
    # Where the presigned POST points: empty in the cloud (S3's own endpoint); the local runtime sets its
    # embedded S3's address so a phone or curl can upload.
    photo_upload_endpoint: str = setting("PHOTO_UPLOAD_ENDPOINT", "")
    dispatch_topic_arn: str = setting("DISPATCH_TOPIC_ARN", "")
    # The 120 dispatch centres (shared/logic/dispatch): their records, and the prefix of the Secrets Manager
    # secret that holds each one's signing secret (<prefix><centre_id>; CDK sets a per-stack prefix, and the
    # functions may touch no secret outside it).
    dispatch_centres_table: str = setting("DISPATCH_CENTRES_TABLE", "rescue-nearby-dispatch-centres")
    dispatch_secret_prefix: str = setting("DISPATCH_SECRET_PREFIX", "RescueNearby/dispatch-centres/")
    # 1: a centre's callback_url may be http://127.0.0.1:<port> or http://localhost:<port> (the local runtime,
    # whose 120 stand-in listens on loopback); 0 (every deployment): https only.
    dispatch_loopback_callbacks: int = setting("DISPATCH_LOOPBACK_CALLBACKS", 0, ge=0, le=1)
    # Status webhooks to the centres (shared/logic/dispatch/outbound.py): what was sent or is due, the FIFO
    # queue of incidents that changed (one message group per incident: its webhooks go out in order), and
    # the dead-letter queue a webhook is parked in after 24 h of failed tries (an alarm watches it).
    dispatch_deliveries_table: str = setting("DISPATCH_DELIVERIES_TABLE", "rescue-nearby-dispatch-deliveries")
    status_changes_queue_url: str = setting("STATUS_CHANGES_QUEUE_URL", "")
    status_parked_queue_url: str = setting("STATUS_PARKED_QUEUE_URL", "")
    # The first retry of a status webhook after this many seconds, doubling to an hour at most (tests
    # shorten it, as they shorten the waves' wait).
    webhook_first_retry_s: int = setting("WEBHOOK_FIRST_RETRY_SECONDS", 30, ge=1, le=3600)
    rescue_state_machine_arn: str = setting("RESCUE_STATE_MACHINE_ARN", "")
    # SNS mobile platform applications by app platform, as JSON: {"fcm": "arn:...", "apns": "arn:..."}.
    # They hold the push credentials (FCM key, APNs certificate), so ops create them outside the stack.
    push_applications: dict[str, str] = setting("PUSH_APPLICATIONS", {})
    # The deployment profile (docs/deploy.md): "global" (Cognito, SNS SMS and push) or "cn" (the AWS China
    # regions: an OIDC issuer, mainland SMS and push providers).
    profile: str = setting("DEPLOYMENT_PROFILE", "global")
    # Who carries texts and pushes: "sns" (global); "alibaba" or "tencent" SMS and "jpush" push (cn).
    sms_provider: str = setting("SMS_PROVIDER", "sns")
    push_provider: str = setting("PUSH_PROVIDER", "sns")
    # The Secrets Manager secret (ARN or name) holding the providers' credentials, as JSON:
    # {"alibaba": {"access_key_id", "access_key_secret"}, "tencent": {"secret_id", "secret_key"},
    #  "jpush": {"app_key", "master_secret"}}; read once per cold start by the functions that send.
    provider_secret_id: str = setting("PROVIDER_SECRET_ID", "")
    # The approved SMS signature (签名) and each template's provider code as approved ({"rescue_alert":
    # "SMS_4861...", ...}; Tencent's are numbers): docs/sms-templates.md.
    sms_sign_name: str = setting("SMS_SIGN_NAME", "救在身边")
    sms_templates: dict[str, str] = setting("SMS_TEMPLATES", {})
    tencent_sms_app_id: str = setting("TENCENT_SMS_APP_ID", "")
    tencent_sms_region: str = setting("TENCENT_SMS_REGION", "ap-guangzhou")
    # The providers' API addresses: empty is each provider's own; the local runtime points them at its
    # loopback stand-ins (local_runtime/providers).
    alibaba_sms_endpoint: str = setting("ALIBABA_SMS_ENDPOINT", "")
    tencent_sms_endpoint: str = setting("TENCENT_SMS_ENDPOINT", "")
    jpush_endpoint: str = setting("JPUSH_ENDPOINT", "")
    # The OIDC issuer whose tokens the API's Lambda authorizer accepts (cn profile; functions/authorizer).
    oidc_issuer: str = setting("OIDC_ISSUER", "")
    oidc_audience: str = setting("OIDC_AUDIENCE", "")
    oidc_jwks_url: str = setting("OIDC_JWKS_URL", "")
    oidc_roles_claim: str = setting("OIDC_ROLES_CLAIM", "groups")
    # Clock skew allowed on exp/nbf. The API caches an authorizer's answer for as long again, so a token is
    # never honoured more than twice this past its exp (60 s at the default).
    oidc_leeway_s: int = setting("OIDC_LEEWAY_SECONDS", 30, ge=0, le=30)
    region: str = setting("AWS_REGION", "cn-north-1")
    time_zone: str = setting("TIME_ZONE", "Asia/Shanghai")
    # The web pages' base map (docs/web.md): {"url": ".../{z}/{x}/{y}.png", "attribution", "crs": "wgs84" or
    # "gcj02" (AMap, Tencent, Tianditu's GCJ-02 layers), "subdomains"?, "max_zoom"? (a number as text)};
    # {} draws no base map (tests, and this machine, which has no network).
    web_tiles: dict[str, str] = setting("WEB_TILES", {})
    # The web pages' origin when they are served from another origin than the API (CloudFront in front of
    # API Gateway: "https://d111111abcdef8.cloudfront.net", no path, no trailing slash): answers to a
    # request from that Origin carry Access-Control-Allow-Origin. Empty: no CORS headers at all (the local
    # runtime serves the pages and the API on one origin).
    web_origin: str = setting("WEB_ORIGIN", "")
    presence_ttl_s: int = setting("PRESENCE_TTL_SECONDS", 900, gt=0)
    # How long the geo index finds a responder after it last rewrote their item (shared.logic.responders
    # .update_presence): longer than the presence, so a heartbeat of someone standing still rewrites it
    # only every sixth time (5-minute heartbeats); never shorter than the presence itself.
    presence_index_lease_s: int = setting("PRESENCE_INDEX_LEASE_SECONDS", 2400, gt=0)
    geo_max_queries: int = setting("GEO_MAX_QUERIES", 6, ge=1)
    # Dispatch (the contract's defaults; every one configurable per deployment)
    wave1_radius_m: float = setting("WAVE1_RADIUS_M", 1000.0, gt=0, le=5000)
    wave1_size: int = setting("WAVE1_SIZE", 10, ge=1, le=50)
    wave2_radius_m: float = setting("WAVE2_RADIUS_M", 2000.0, gt=0, le=5000)
    wave2_size: int = setting("WAVE2_SIZE", 20, ge=0, le=50)
    wave_wait_s: int = setting("WAVE_WAIT_SECONDS", 60, ge=1)
    cpr_slots: int = setting("CPR_SLOTS", 2, ge=1, le=10)
    aed_slots: int = setting("AED_SLOTS", 1, ge=0, le=1)
    aed_radius_m: float = setting("AED_RADIUS_M", 1000.0, gt=0, le=5000)
    incident_expire_s: int = setting("INCIDENT_EXPIRE_SECONDS", 3 * 3600, ge=1)
    notice_lease_s: int = setting("NOTICE_LEASE_SECONDS", 20, ge=1)
    # Abuse limits: anonymous SOS per source (an IP address is shared by many phones behind a carrier's
    # NAT, so its cap is wider than a device's) per window; alerts of public SOS per responder.
    sos_per_ip: int = setting("SOS_PER_IP", 30, ge=1)
    sos_per_device: int = setting("SOS_PER_DEVICE", 5, ge=1)
    sos_window_s: int = setting("SOS_WINDOW_SECONDS", 600, ge=60, le=86400)
    alerts_per_hour: int = setting("ALERTS_PER_HOUR", 3, ge=1)
    alerts_per_day: int = setting("ALERTS_PER_DAY", 8, ge=1)
    # A second SOS within this distance and time of an open incident joins it (nobody alerted twice).
    merge_radius_m: float = setting("MERGE_RADIUS_M", 50.0, gt=0, le=500)
    merge_window_s: int = setting("MERGE_WINDOW_SECONDS", 600, ge=0, le=3600)
    # Days a finished rescue's alerts and events (responders' phones and positions) are kept (TTL).
    retention_days: int = setting("RESCUE_RETENTION_DAYS", 30, ge=1, le=3650)
    # Credit points per (incident, responder, reason), as JSON: {"arrived": 10, ...}
    credit_points: dict[str, int] = setting(
        "CREDIT_POINTS",
        {
            "accepted": 5,
            "arrived": 10,
            "cpr_started": 20,
            "aed_attached": 20,
            "shock_delivered": 10,
        },
    )

    # Exams: the pass mark of each rubric skill, 0..100, as JSON ({"cpr": 80, ...}; all six skills). The
    # figures are this deployment's choice, set by the training centre, not quoted from a Red Cross rule.
    pass_marks: dict[str, int] = setting(
        "PASS_MARKS",
        {
            "cpr": 80,
            "aed": 80,
            "bleeding_control": 60,
            "bandaging": 60,
            "fixation": 60,
            "carrying": 60,
        },
    )
    certificate_valid_years: int = setting("CERTIFICATE_VALID_YEARS", 3, ge=1, le=10)
    # Where a certificate's QR code points, "{certificate_no}" filled in (e.g. a public verification page);
    # empty: the API's own GET /v1/certificates/{certificate_no}, at the host the request came to.
    certificate_verify_url: str = setting("CERTIFICATE_VERIFY_URL", "")

    def __post_init__(self) -> None:
        for name, allowed in _CHOICES.items():
            if getattr(self, name) not in allowed:
                raise SettingError(
                    f"{env_name(name)}: {getattr(self, name)!r} is not one of {sorted(allowed)}"
                )
        if self.web_origin and not _ORIGIN.fullmatch(self.web_origin):
            raise SettingError(
                f"WEB_ORIGIN: {self.web_origin!r} is not an origin (https://host[:port], no path or slash)"
            )
        if (self.sms_provider == "sns") != (self.push_provider == "sns"):
            # SNS pushes only to SNS endpoints and a provider's SMS cannot carry SNS's: both, or neither.
            raise SettingError(
                f"SMS_PROVIDER={self.sms_provider} with PUSH_PROVIDER={self.push_provider}: both are sns "
                "(global profile) or neither (cn: alibaba or tencent with jpush)"
            )

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """The settings in ``environ`` (the process environment by default), each at its default when
        its variable is absent. Falls back to AWS_DEFAULT_REGION, which tools set when AWS_REGION (set
        by Lambda) is absent."""
        env = dict(os.environ if environ is None else environ)
        if "AWS_REGION" not in env and "AWS_DEFAULT_REGION" in env:
            env["AWS_REGION"] = env["AWS_DEFAULT_REGION"]
        hints = get_type_hints(cls)
        values = {
            field.name: _parsed(field, hints[field.name], env[env_name(field.name)])
            for field in dataclasses.fields(cls)
            if env_name(field.name) in env
        }
        return cls(**values)


# An origin as browsers send it in the Origin header: scheme, host, optional port; nothing after.
_ORIGIN = re.compile(r"https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?")

_CHOICES = {
    "profile": {"global", "cn"},
    "sms_provider": {"sns", "alibaba", "tencent"},
    "push_provider": {"sns", "jpush"},
}


def env_name(name: str) -> str:
    """The environment variable the setting ``name`` is read from."""
    return str(_FIELDS[name].metadata["env"])


def default_value(name: str) -> Any:
    """The setting's value when its variable is absent."""
    field = _FIELDS[name]
    return field.default_factory() if field.default_factory is not dataclasses.MISSING else field.default


def _parsed(field: dataclasses.Field[Any], kind: Any, text: str) -> Any:
    name = field.metadata["env"]
    try:
        value = _typed(kind, text)
    except (ValueError, TypeError) as error:
        raise SettingError(f"{name}: {error}") from None
    bounds = field.metadata
    if (bounds["gt"] is not None and not value > bounds["gt"]) or (
        bounds["ge"] is not None and not value >= bounds["ge"]
    ):
        lower = f"> {bounds['gt']}" if bounds["gt"] is not None else f">= {bounds['ge']}"
        raise SettingError(f"{name}: {value} is not {lower}")
    if bounds["le"] is not None and not value <= bounds["le"]:
        raise SettingError(f"{name}: {value} is not <= {bounds['le']}")
    return value


def _typed(kind: Any, text: str) -> Any:
    if kind is str:
        return text
    if kind is int:
        return int(text)
    if kind is float:
        number = float(text)
        if number != number or number in (float("inf"), float("-inf")):
            raise ValueError(f"{text!r} is not a finite number")
        return number
    # dict[str, str] or dict[str, int], as a JSON object; empty text is an empty map
    values = json.loads(text or "{}")
    value_type = kind.__args__[1]
    if not isinstance(values, dict) or not all(
        isinstance(v, value_type) and not isinstance(v, bool) for v in values.values()
    ):
        raise ValueError(f"must be a JSON object of {value_type.__name__} values")
    return values


_FIELDS = {field.name: field for field in dataclasses.fields(Settings)}


@lru_cache(maxsize=1)
def settings() -> Settings:
    return Settings.from_environ()
