"""Every AWS client and adapter the functions use, built here and nowhere else: lazily (on first use,
then once per Lambda instance: ``functools.cache``) and with one client policy.

Handlers call ``wiring.x()`` where they need ``x``, so a function builds only what its requests use: the
SOS function builds the incident store, the geo index, SNS and Step Functions, and nothing else. This
module's own import is cheap (botocore's Config only); the data-layer and messaging modules are
imported inside the factories that need them. Tests may replace a factory (``monkeypatch.setattr(wiring,
"policy", ...)``): handlers look it up on each call.

Every client is built on one botocore session (``botocore_session``), so botocore's endpoint and
service data are loaded once, not once per client; DynamoDB is one pynamodb connection for every table,
its client built before a request fans out (shared/dal/connection.py says why).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from functools import cache, wraps
from typing import TYPE_CHECKING, Any, TypeVar

from botocore.config import Config

from shared.config import settings

if TYPE_CHECKING:
    from botocore.session import Session as BotocoreSession
    from mypy_boto3_sns import SNSClient
    from mypy_boto3_stepfunctions import SFNClient
    from pynamodb.connection import Connection

    from shared.dal.aed_faults import DynamoReports
    from shared.dal.aed_import import DynamoAedImports
    from shared.dal.aed_registry import DynamoAeds
    from shared.dal.aed_upkeep import DynamoAedCatalog, DynamoInspections, DynamoReminderMarkers
    from shared.dal.certification import (
        DynamoCertificates,
        DynamoExaminerPool,
        DynamoExams,
        DynamoReminderLog,
        DynamoResponderCertificates,
    )
    from shared.dal.cockpit import DynamoDistricts, DynamoRescueSummaries
    from shared.dal.cockpit_training import DynamoTrainingDuty
    from shared.dal.credits import DynamoLeaderboard
    from shared.dal.credits_export import (
        DynamoExportLedger,
        DynamoExportRecords,
        DynamoPeople,
        S3ExportFiles,
        SecretsManagerSigner,
    )
    from shared.dal.debriefs import DynamoDebriefs
    from shared.dal.dispatch import DynamoCentreKeys, DynamoDispatchCentres
    from shared.dal.dispatch_deliveries import DynamoDeliveryLog
    from shared.dal.dispatch_secrets import SecretsManagerCentreSecrets
    from shared.dal.geo_index import DynamoGeoIndex
    from shared.dal.rescue import GeoAedClaims
    from shared.dal.responders import DynamoContacts, DynamoResponders
    from shared.dal.teaching import DynamoTeaching, DynamoTrainingRecords
    from shared.dal.teams import DynamoTeams
    from shared.logic.aed_faults import AedFaults
    from shared.logic.credits_export import ExportPorts
    from shared.logic.ports import PushRegistry, TextMessages
    from shared.logic.rescue.policy import Policy
    from shared.logic.rescue.ports import IncidentStore, Notifier
    from shared.messaging.aed_upkeep import SnsUpkeepNotices
    from shared.messaging.channels import PushChannel, SmsChannel
    from shared.messaging.webhooks import CallbackPoster, SqsChangesQueue, SqsParkedQueue
    from shared.workflow import StepFunctionsWorkflow

# The one client policy, set by the SOS path, which cannot wait: standard retries (exponential backoff
# with jitter; throttles, 5xx and connection errors retried), at most 3 attempts in all, and short
# timeouts. Whatever gives up here is not lost: the incident is stored first and the workflow's next step
# re-delivers. The scheduled runs and the other functions use the same policy: each of their calls is
# small, and a run or request that fails is retried whole.
CLIENT_CONFIG = Config(
    retries={"mode": "standard", "total_max_attempts": 3}, connect_timeout=2, read_timeout=5
)
# Photo uploads are presigned (no call to S3 is made), so their client adds what the signature needs to
# the policy: SigV4 explicitly (the China regions accept nothing else, and botocore's default for
# presigned POSTs has varied by version and region), and path-style URLs (the local runtime's embedded S3
# is one host:port with no bucket subdomains).
PRESIGN_CONFIG = CLIENT_CONFIG.merge(Config(signature_version="s3v4", s3={"addressing_style": "path"}))


# --- clients ---------------------------------------------------------------------------------------


@cache
def botocore_session() -> BotocoreSession:
    import botocore.session

    return botocore.session.get_session()


def _client(service: str, config: Config = CLIENT_CONFIG, **options: Any) -> Any:
    """A client straight from the botocore session. boto3's ``client()`` makes the same one through a
    wrapper whose import costs the SOS function's cold start about 45 ms of CPU (bench/cold_start.py)."""
    return botocore_session().create_client(service, region_name=settings().region, config=config, **options)


@cache
def sns() -> SNSClient:
    client: SNSClient = _client("sns")
    return client


@cache
def stepfunctions() -> SFNClient:
    client: SFNClient = _client("stepfunctions")
    return client


@cache
def dynamodb() -> Connection:
    """The one pynamodb connection every table model uses (``_store`` attaches them), client built."""
    from shared.dal.connection import SessionConnection

    connection = SessionConnection(botocore_session(), settings().region)
    connection.client  # noqa: B018 - built now, in one thread: pynamodb builds it lazily, unlocked
    return connection


Adapter = TypeVar("Adapter")


def _store(factory: Callable[[], Adapter]) -> Callable[[], Adapter]:
    """A data-layer factory, cached; the table models its adapter's module loaded go onto the one
    DynamoDB connection before the adapter is handed out."""

    @cache
    @wraps(factory)
    def build() -> Adapter:
        from shared.dal.connection import attach

        adapter = factory()
        attach(dynamodb())
        return adapter

    return build


@cache
def s3_presign() -> Any:
    """S3 for presigned photo uploads and views (PRESIGN_CONFIG; locally, the embedded S3's address)."""
    return _client("s3", PRESIGN_CONFIG, endpoint_url=settings().photo_upload_endpoint or None)


@cache
def secrets_manager() -> Any:
    return _client("secretsmanager")


# --- shared adapters -------------------------------------------------------------------------------


@_store
def geo_index() -> DynamoGeoIndex:
    from shared.dal.geo_index import DynamoGeoIndex

    return DynamoGeoIndex(max_queries=settings().geo_max_queries)


@cache
def text_messages() -> TextMessages:
    if settings().sms_provider != "sns":
        from shared.messaging.providers import ProviderTextMessages

        return ProviderTextMessages(sms_channel())
    from shared.messaging.sns import SnsTextMessages

    return SnsTextMessages(sns())


# --- rescue ----------------------------------------------------------------------------------------


@cache
def policy() -> Policy:
    """The deployment's dispatch rules, from its settings."""
    from shared.logic.rescue.policy import Policy

    config = settings()
    return Policy(
        wave1_radius_m=config.wave1_radius_m,
        wave1_size=config.wave1_size,
        wave2_radius_m=config.wave2_radius_m,
        wave2_size=config.wave2_size,
        wave_wait_s=config.wave_wait_s,
        cpr_slots=config.cpr_slots,
        aed_slots=config.aed_slots,
        aed_radius_m=config.aed_radius_m,
        incident_expire_s=config.incident_expire_s,
        notice_lease_s=config.notice_lease_s,
        time_zone=config.time_zone,
        credit_points=dict(config.credit_points),
        sos_per_ip=config.sos_per_ip,
        sos_per_device=config.sos_per_device,
        sos_window_s=config.sos_window_s,
        alerts_per_hour=config.alerts_per_hour,
        alerts_per_day=config.alerts_per_day,
        merge_radius_m=config.merge_radius_m,
        merge_window_s=config.merge_window_s,
        retention_days=config.retention_days,
    )


@_store
def incidents() -> IncidentStore:
    """The rescue's store, typed as the union of the stages' ports: each stage takes only its own."""
    from shared.dal.rescue import DynamoIncidents

    return DynamoIncidents(dynamodb())


@_store
def aed_claims() -> GeoAedClaims:
    from shared.dal.rescue import GeoAedClaims

    return GeoAedClaims()


_NOTIFIER_LOCK = threading.Lock()


def notifier() -> Notifier:
    """SNS push and SMS (global); the mainland providers (cn: shared/messaging/providers.py). Built once,
    under a lock: warm_up_notifier's thread and the first request may ask for it together."""
    with _NOTIFIER_LOCK:
        return _notifier()


def warm_up_notifier() -> None:
    """In the cn profile, read the providers' credentials (Secrets Manager) and build their clients in the
    background as the function starts, so that a cold SOS does not wait for them before its first alert
    (the SDKs' imports and one more AWS round trip). The global profile's SNS client needs no warming."""
    if settings().sms_provider != "sns":
        threading.Thread(target=notifier, name="warm-up-notifier", daemon=True).start()


@cache
def _notifier() -> Notifier:
    config = settings()
    if config.sms_provider == "sns":
        from shared.messaging.sns import SnsNotifier

        return SnsNotifier(sns(), config.dispatch_topic_arn)
    from shared.messaging.providers import ProviderNotifier

    return ProviderNotifier(sms_channel(), push_channel(), sns, config.dispatch_topic_arn)


@cache
def workflow() -> StepFunctionsWorkflow:
    from shared.workflow import StepFunctionsWorkflow

    return StepFunctionsWorkflow(stepfunctions(), settings().rescue_state_machine_arn)


# --- dispatch centres (the 120 link) ---------------------------------------------------------------


@_store
def dispatch_centres() -> DynamoDispatchCentres:
    from shared.dal.dispatch import DynamoDispatchCentres

    return DynamoDispatchCentres()


@_store
def centre_keys() -> DynamoCentreKeys:
    from shared.dal.dispatch import DynamoCentreKeys

    return DynamoCentreKeys()


@cache
def centre_secrets() -> SecretsManagerCentreSecrets:
    """The centres' signing secrets (Secrets Manager), each read cached briefly per instance."""
    from shared.dal.dispatch_secrets import SecretsManagerCentreSecrets

    return SecretsManagerCentreSecrets(secrets_manager(), settings().dispatch_secret_prefix)


@_store
def delivery_log() -> DynamoDeliveryLog:
    from shared.dal.dispatch_deliveries import DynamoDeliveryLog

    return DynamoDeliveryLog()


@cache
def sqs() -> Any:
    return _client("sqs")


@cache
def status_changes() -> SqsChangesQueue:
    from shared.messaging.webhooks import SqsChangesQueue

    return SqsChangesQueue(sqs(), settings().status_changes_queue_url)


@cache
def parked_webhooks() -> SqsParkedQueue:
    from shared.messaging.webhooks import SqsParkedQueue

    return SqsParkedQueue(sqs(), settings().status_parked_queue_url)


@cache
def callback_poster() -> CallbackPoster:
    from shared.messaging.webhooks import CallbackPoster

    return CallbackPoster()


# --- responders ------------------------------------------------------------------------------------


@_store
def responders() -> DynamoResponders:
    from shared.dal.responders import DynamoResponders

    return DynamoResponders()


@cache
def push_registry() -> PushRegistry:
    config = settings()
    if config.push_provider == "jpush":
        from shared.messaging.jpush import JpushRegistry

        keys = provider_credentials("jpush")
        return JpushRegistry(keys["app_key"], keys["master_secret"], endpoint=config.jpush_endpoint)
    from shared.messaging.sns import SnsPushRegistry

    return SnsPushRegistry(sns(), dict(config.push_applications))


def push_platforms() -> frozenset[str]:
    """The app platforms this deployment pushes to: its SNS platform applications, or JPush's one."""
    config = settings()
    return frozenset({"jpush"}) if config.push_provider == "jpush" else frozenset(config.push_applications)


# --- the cn profile's providers (shared/messaging/channels.py) -------------------------------------


@cache
def _provider_secret() -> dict[str, dict[str, str]]:
    """The providers' credentials, read from Secrets Manager once per instance (a cold start), and only
    by the functions that send (the others never call this, and are not granted the secret)."""
    import json

    import botocore.session

    # A session of its own: warm_up_notifier reads this in a thread while the first request builds its
    # clients on the shared one, and botocore does not support building clients on one session from
    # several threads at once.
    client: Any = botocore.session.get_session().create_client(
        "secretsmanager", region_name=settings().region, config=CLIENT_CONFIG
    )
    raw = client.get_secret_value(SecretId=settings().provider_secret_id)["SecretString"]
    value = json.loads(raw)
    if not isinstance(value, dict):
        raise ValueError("the provider secret must be a JSON object (docs/deploy.md)")
    return value


def provider_credentials(provider: str) -> dict[str, str]:
    keys = _provider_secret().get(provider)
    if not isinstance(keys, dict):
        raise ValueError(f"the provider secret has no {provider!r} credentials (docs/deploy.md)")
    return {str(k): str(v) for k, v in keys.items()}


@cache
def sms_channel() -> SmsChannel:
    config = settings()
    from shared.logic.messages import TEXTED

    missing = sorted(TEXTED - set(config.sms_templates))
    if missing:  # each such text fails (and is retried) until ops add its approved code: say so at once
        from shared.observability import logger

        logger.error("SMS_TEMPLATES has no approved code for these templates", extra={"missing": missing})
    if config.sms_provider == "alibaba":
        from shared.messaging.alibaba_sms import AlibabaSms

        keys = provider_credentials("alibaba")
        return AlibabaSms(
            keys["access_key_id"],
            keys["access_key_secret"],
            sign_name=config.sms_sign_name,
            template_codes=config.sms_templates,
            endpoint=config.alibaba_sms_endpoint,
        )
    if config.sms_provider == "tencent":
        from shared.messaging.tencent_sms import TencentSms

        keys = provider_credentials("tencent")
        return TencentSms(
            keys["secret_id"],
            keys["secret_key"],
            app_id=config.tencent_sms_app_id,
            sign_name=config.sms_sign_name,
            template_codes=config.sms_templates,
            region=config.tencent_sms_region,
            endpoint=config.tencent_sms_endpoint,
        )
    raise ValueError(f"SMS_PROVIDER {config.sms_provider!r} has no SMS channel here: SNS sends its own")


@cache
def push_channel() -> PushChannel | None:
    config = settings()
    if config.push_provider != "jpush":
        return None
    from shared.messaging.jpush import JpushPush

    keys = provider_credentials("jpush")
    return JpushPush(keys["app_key"], keys["master_secret"], endpoint=config.jpush_endpoint)


# --- AEDs: registry, import, upkeep, faults --------------------------------------------------------


@_store
def aeds() -> DynamoAeds:
    from shared.dal.aed_registry import DynamoAeds

    return DynamoAeds()


@_store
def aed_imports() -> DynamoAedImports:
    from shared.dal.aed_import import DynamoAedImports

    return DynamoAedImports()


@_store
def aed_inspections() -> DynamoInspections:
    from shared.dal.aed_upkeep import DynamoInspections

    return DynamoInspections()


@_store
def aed_catalog() -> DynamoAedCatalog:
    from shared.dal.aed_upkeep import DynamoAedCatalog

    return DynamoAedCatalog()


@_store
def upkeep_reminder_markers() -> DynamoReminderMarkers:
    from shared.dal.aed_upkeep import DynamoReminderMarkers

    return DynamoReminderMarkers()


@cache
def upkeep_notices() -> SnsUpkeepNotices:
    from shared.messaging.aed_upkeep import SnsUpkeepNotices

    return SnsUpkeepNotices(sns(), settings().upkeep_topic_arn)


@_store
def aed_reports() -> DynamoReports:
    from shared.dal.aed_faults import DynamoReports

    return DynamoReports()


@cache
def aed_faults() -> AedFaults:
    """AED reports, use and restock (the rescue's AED reports and its finish use it too)."""
    from shared.dal.aed_faults import S3Photos
    from shared.logic.aed_faults import AedFaults

    return AedFaults(aeds(), geo_index(), aed_reports(), S3Photos(s3_presign(), settings().photo_bucket))


# --- teaching and certification --------------------------------------------------------------------


@_store
def teaching() -> DynamoTeaching:
    from shared.dal.teaching import DynamoTeaching

    return DynamoTeaching()


@_store
def training_records() -> DynamoTrainingRecords:
    from shared.dal.teaching import DynamoTrainingRecords

    return DynamoTrainingRecords()


def checkin_secret() -> bytes:
    """The check-in signing key (read once per secret id: shared/dal/teaching_checkin_secret.py)."""
    from shared.dal.teaching_checkin_secret import checkin_secret

    return checkin_secret(secrets_manager())


@_store
def certificates() -> DynamoCertificates:
    from shared.dal.certification import DynamoCertificates

    return DynamoCertificates()


@_store
def responder_certificates() -> DynamoResponderCertificates:
    from shared.dal.certification import DynamoResponderCertificates

    return DynamoResponderCertificates()


@_store
def examiner_pool() -> DynamoExaminerPool:
    from shared.dal.certification import DynamoExaminerPool

    return DynamoExaminerPool()


@_store
def exams() -> DynamoExams:
    from shared.dal.certification import DynamoExams

    return DynamoExams()


@_store
def certificate_reminder_log() -> DynamoReminderLog:
    from shared.dal.certification import DynamoReminderLog

    return DynamoReminderLog()


# --- the cockpit's training figures and the credits leaderboard ---------------------------------------


@_store
def leaderboard() -> DynamoLeaderboard:
    from shared.dal.credits import DynamoLeaderboard

    return DynamoLeaderboard()


@_store
def training_duty() -> DynamoTrainingDuty:
    from shared.dal.cockpit_training import DynamoTrainingDuty

    return DynamoTrainingDuty()


# --- the credits exports and nominations ----------------------------------------------------------


@_store
def credit_export_ledger() -> DynamoExportLedger:
    from shared.dal.credits_export import DynamoExportLedger

    return DynamoExportLedger()


@_store
def credit_export_records() -> DynamoExportRecords:
    from shared.dal.credits_export import DynamoExportRecords

    return DynamoExportRecords()


@_store
def credit_export_people() -> DynamoPeople:
    from shared.dal.credits_export import DynamoPeople

    return DynamoPeople()


@cache
def credit_export_files() -> S3ExportFiles:
    """The exports' bucket, through the presigning client: the answers hand admins presigned downloads."""
    from shared.dal.credits_export import S3ExportFiles

    return S3ExportFiles(s3_presign(), settings().credit_exports_bucket)


@cache
def credit_export_signer() -> SecretsManagerSigner:
    from shared.dal.credits_export import SecretsManagerSigner

    return SecretsManagerSigner(secrets_manager(), settings().credit_export_secret_id)


def credit_export_ports() -> ExportPorts:
    from shared.logic.credits_export import ExportPorts

    return ExportPorts(
        credit_export_ledger(),
        credit_export_records(),
        credit_export_people(),
        credit_export_files(),
        credit_export_signer(),
    )


# --- the cockpit's rescue figures, districts and responders on duty -----------------------------------


@_store
def rescue_summaries() -> DynamoRescueSummaries:
    from shared.dal.cockpit import DynamoRescueSummaries

    return DynamoRescueSummaries()


@_store
def districts() -> DynamoDistricts:
    from shared.dal.cockpit import DynamoDistricts

    return DynamoDistricts()


# --- the debriefs after rescues -------------------------------------------------------------------------


@_store
def debriefs() -> DynamoDebriefs:
    from shared.dal.debriefs import DynamoDebriefs

    return DynamoDebriefs()


@_store
def teams() -> DynamoTeams:
    from shared.dal.teams import DynamoTeams

    return DynamoTeams()


@_store
def contacts() -> DynamoContacts:
    """Responders' names and phones by key: whom an admin calls back, a team's roster."""
    from shared.dal.responders import DynamoContacts

    return DynamoContacts()
