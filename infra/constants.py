"""Every name and number the CDK app uses, in one place.

Construct ids here become CloudFormation logical ids: renaming one replaces the resource (a table
replaced is a table emptied), so treat them as stable.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from pynamodb.models import Model

from shared.dal.models.aed_faults import AedReportModel
from shared.dal.models.aed_registry import AedModel
from shared.dal.models.aed_upkeep import AedInspectionModel, UpkeepReminderModel
from shared.dal.models.certification import (
    CertificateModel,
    CertificateNumberModel,
    CertificateReminderModel,
    ExaminerModel,
    ExamModel,
    ExamScoreModel,
)
from shared.dal.models.cockpit import DistrictModel, RescueSummaryModel
from shared.dal.models.credits import CreditExportModel
from shared.dal.models.debriefs import DebriefModel
from shared.dal.models.dispatch import DeliveryModel, DispatchCentreModel
from shared.dal.models.geo_index import GeoIndexModel
from shared.dal.models.rescue import AlertModel, CreditModel, EventModel, IncidentModel, SosKeyModel
from shared.dal.models.responders import ResponderModel
from shared.dal.models.teaching import (
    CourseModel,
    EvaluationModel,
    RegistrationKeyModel,
    RegistrationModel,
    TheoryProgressModel,
    TrainingSessionModel,
)
from shared.dal.models.teams import TeamModel

REPO_ROOT = Path(__file__).resolve().parent.parent

STACK_NAME = "RescueNearby"
STACK_DESCRIPTION = "Rescue Nearby: cardiac-arrest SOS to trained volunteers and the nearest usable AED"
SERVICE_NAME = "rescue-nearby"  # Powertools service name
METRICS_NAMESPACE = "RescueNearby"


@dataclass(frozen=True)
class TableSpec:
    construct_id: str
    model: type[Model]
    env_var: str  # the name shared/config.py reads the table name from


# One entry per pynamodb model in shared.dal.models.ALL_MODELS (the data construct refuses to synth
# when a model has no entry here, so a new model cannot silently miss its table).
TABLES: tuple[TableSpec, ...] = (
    TableSpec("RespondersTable", ResponderModel, "RESPONDERS_TABLE"),
    TableSpec("AedsTable", AedModel, "AEDS_TABLE"),
    TableSpec("GeoIndexTable", GeoIndexModel, "GEO_INDEX_TABLE"),
    TableSpec("IncidentsTable", IncidentModel, "INCIDENTS_TABLE"),
    TableSpec("SosKeysTable", SosKeyModel, "SOS_KEYS_TABLE"),
    TableSpec("AlertsTable", AlertModel, "ALERTS_TABLE"),
    TableSpec("EventsTable", EventModel, "EVENTS_TABLE"),
    TableSpec("CreditsTable", CreditModel, "CREDITS_TABLE"),
    TableSpec("CreditExportsTable", CreditExportModel, "CREDIT_EXPORTS_TABLE"),
    TableSpec("AedReportsTable", AedReportModel, "AED_REPORTS_TABLE"),
    TableSpec("AedInspectionsTable", AedInspectionModel, "AED_INSPECTIONS_TABLE"),
    TableSpec("UpkeepRemindersTable", UpkeepReminderModel, "UPKEEP_REMINDERS_TABLE"),
    TableSpec("TrainingCoursesTable", CourseModel, "TRAINING_COURSES_TABLE"),
    TableSpec("TrainingSessionsTable", TrainingSessionModel, "TRAINING_SESSIONS_TABLE"),
    TableSpec("TrainingRegistrationsTable", RegistrationModel, "TRAINING_REGISTRATIONS_TABLE"),
    TableSpec("TrainingRegistrationKeysTable", RegistrationKeyModel, "TRAINING_REGISTRATION_KEYS_TABLE"),
    TableSpec("TrainingTheoryTable", TheoryProgressModel, "TRAINING_THEORY_TABLE"),
    TableSpec("TrainingEvaluationsTable", EvaluationModel, "TRAINING_EVALUATIONS_TABLE"),
    TableSpec("ExaminersTable", ExaminerModel, "EXAMINERS_TABLE"),
    TableSpec("ExamsTable", ExamModel, "EXAMS_TABLE"),
    TableSpec("ExamScoresTable", ExamScoreModel, "EXAM_SCORES_TABLE"),
    TableSpec("CertificatesTable", CertificateModel, "CERTIFICATES_TABLE"),
    TableSpec("CertificateNumbersTable", CertificateNumberModel, "CERTIFICATE_NUMBERS_TABLE"),
    TableSpec("CertificateRemindersTable", CertificateReminderModel, "CERTIFICATE_REMINDERS_TABLE"),
    TableSpec("DispatchCentresTable", DispatchCentreModel, "DISPATCH_CENTRES_TABLE"),
    TableSpec("DispatchDeliveriesTable", DeliveryModel, "DISPATCH_DELIVERIES_TABLE"),
    TableSpec("RescueSummariesTable", RescueSummaryModel, "RESCUE_SUMMARIES_TABLE"),
    TableSpec("DistrictsTable", DistrictModel, "DISTRICTS_TABLE"),
    TableSpec("DebriefsTable", DebriefModel, "DEBRIEFS_TABLE"),
    TableSpec("TeamsTable", TeamModel, "TEAMS_TABLE"),
)

# How a function may use a table (infra/constructs/data.py turns each into IAM actions):
#   read        GetItem, BatchGetItem, Query, Scan, ConditionCheckItem on the table; Query, Scan on its
#               indexes
#   update      UpdateItem on the table only (also what an Update inside TransactWriteItems needs)
#   read_update read, plus UpdateItem: changes attributes of items that exist, never creates or deletes one
#   read_write  read, plus PutItem, UpdateItem, DeleteItem, BatchWriteItem
Access = Literal["read", "update", "read_update", "read_write"]
READ: Access = "read"
UPDATE: Access = "update"
READ_UPDATE: Access = "read_update"
READ_WRITE: Access = "read_write"
# The IAM actions each access level grants on a table (infra/constructs/data.py); on its indexes, reads
# (an index cannot be written to directly) unless the access is UPDATE. The local runtime enforces the same
# (local_runtime/iam.py).
_READ_ACTIONS = (
    "dynamodb:GetItem",
    "dynamodb:BatchGetItem",
    "dynamodb:Query",
    "dynamodb:Scan",
    "dynamodb:ConditionCheckItem",
)
_WRITE_ACTIONS = (
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:BatchWriteItem",
)
TABLE_ACTIONS: dict[Access, tuple[str, ...]] = {
    READ: _READ_ACTIONS,
    UPDATE: ("dynamodb:UpdateItem",),
    READ_UPDATE: (*_READ_ACTIONS, "dynamodb:UpdateItem"),
    READ_WRITE: (*_READ_ACTIONS, *_WRITE_ACTIONS),
}
INDEX_ACTIONS = ("dynamodb:Query", "dynamodb:Scan")
# What Lambda's event source mapping reads a table's DynamoDB stream with, through the function's role
# (infra/constructs/dispatch_webhooks.py): on that stream's ARN only, never Resource "*".
STREAM_READ_ACTIONS = (
    "dynamodb:DescribeStream",
    "dynamodb:GetRecords",
    "dynamodb:GetShardIterator",
    "dynamodb:ListStreams",
)


@dataclass(frozen=True)
class FunctionGrants:
    """Everything one function may do beyond writing its own logs and traces."""

    tables: Mapping[type[Model], Access] = field(default_factory=dict)
    # sns:Publish straight to phone numbers (SMS) and to SNS mobile platform endpoints (app push). SMS has
    # no resource ARN, so this is sns:Publish on "*" (acknowledged per function in constructs/functions.py).
    direct_publish: bool = False
    dispatch_topic: bool = False  # sns:Publish to the dispatch-centre topic (and its KMS key)
    start_rescue: bool = False  # states:StartExecution on the rescue state machine
    resume_rescue: bool = False  # states:SendTaskSuccess: hands a closure task token back to the workflow
    dispatch_settings: bool = False  # the rescue Policy's settings (wave radii and sizes, slots, credits)
    # sns:CreatePlatformEndpoint on the push platform applications given as the PUSH_CONTEXT context value
    # (exactly those ARNs; none given: no grant), and their map in the PUSH_APPLICATIONS environment variable.
    register_push: bool = False
    upkeep_topic: bool = False  # sns:Publish to the "AED upkeep" topic (and its KMS key)
    report_photos: bool = False  # presign uploads and views of AED report photos (S3, reports prefix)
    # Pass marks, certificate validity and verification address (shared/config.py), at their defaults.
    exam_settings: bool = False
    # secretsmanager:GetSecretValue on the check-in signing secret, and its ARN as CHECKIN_SECRET_ID.
    checkin_secret: bool = False
    # The dispatch centres' signing secrets (infra/constructs/dispatch.py), every one named under the stack's
    # prefix (DISPATCH_SECRET_PREFIX): "read" GetSecretValue (verifying a centre's calls); "issue" also
    # CreateSecret and PutSecretValue (registering a centre, rotating its secret).
    centre_secrets: Literal["read", "issue"] | None = None
    # The status webhooks' FIFO queue of changed incidents (infra/constructs/dispatch_webhooks.py): "send"
    # queues runs (sqs:SendMessage); "consume" is the queue's event source (receive, delete, change a
    # message's visibility: the back-off) and may park a message on the dead-letter queue (SendMessage).
    status_changes: Literal["send", "consume"] | None = None
    # The credits exports (infra/constructs/credits.py): PutObject and GetObject under CREDIT_EXPORT_PREFIX in
    # their bucket, GetSecretValue on their signing secret; CREDIT_EXPORTS_BUCKET, CREDIT_EXPORT_SECRET_ID.
    credit_exports: bool = False

    @property
    def sends_messages(self) -> bool:
        """Texts or pushes people (shared.wiring's notifier(), text_messages(), push_registry()). In the cn
        profile exactly these functions get the providers' settings and may read their credentials
        (ProviderCredentials, infra/constructs/notifications.py); direct_publish and register_push then
        grant nothing in SNS."""
        return self.direct_publish or self.register_push


# Least privilege: what each function (shared.routes.FUNCTIONS and WORKFLOW_FUNCTIONS) may do. A function
# missing here fails synthesis: granting access is a decision, never a default.
FUNCTION_GRANTS: dict[str, FunctionGrants] = {
    "health": FunctionGrants(),
    "responders": FunctionGrants(
        tables={ResponderModel: READ_WRITE, GeoIndexModel: READ_WRITE, CreditModel: READ},
        register_push=True,  # PUT /v1/responders/{responder_id}/device
    ),
    "aed_registry": FunctionGrants(tables={AedModel: READ_WRITE, GeoIndexModel: READ_WRITE}),
    # Registry imports: BatchGetItem, conditional creates (TransactWriteItems), the index by BatchWriteItem.
    "aed_import": FunctionGrants(tables={AedModel: READ_WRITE, GeoIndexModel: READ_WRITE}),
    # Inspections: the log, and the AED they update (dates, status), re-indexed when its status changes.
    "aed_upkeep": FunctionGrants(
        tables={AedInspectionModel: READ_WRITE, AedModel: READ_WRITE, GeoIndexModel: READ_WRITE}
    ),
    # Coverage reads the usable-AED index only: CPU-heavy, so kept apart from the search path.
    "aed_coverage": FunctionGrants(tables={GeoIndexModel: READ}),
    # The daily upkeep run (shared.routes.SCHEDULES): every AED, the reminder markers, the upkeep topic.
    "aed_upkeep_daily": FunctionGrants(
        tables={AedModel: READ_WRITE, GeoIndexModel: READ_WRITE, UpkeepReminderModel: READ_WRITE},
        upkeep_topic=True,
    ),
    # Anonymous and so the most exposed: it writes only what an SOS makes. The geo index: the responders'
    # and AEDs' search, and the open incident's own point, where a second SOS close by finds it to join
    # (shared/logic/rescue/intake.py: geo.put(INCIDENT, ...)).
    "rescue_sos": FunctionGrants(
        tables={
            IncidentModel: READ_WRITE,
            SosKeyModel: READ_WRITE,
            AlertModel: READ_WRITE,
            GeoIndexModel: READ_WRITE,
            EventModel: READ_WRITE,  # a second caller joining: the caller_joined event, with the merge
            ResponderModel: READ,  # the alert's transaction: the responder's presence not lapsed
        },
        direct_publish=True,
        start_rescue=True,
        dispatch_settings=True,
    ),
    "rescue_incidents": FunctionGrants(
        tables={
            IncidentModel: READ_WRITE,
            AlertModel: READ_WRITE,
            EventModel: READ_WRITE,
            CreditModel: READ,  # a rescue's timeline shows the points its responders were given
            # Guard keys: a responder busy from their accept, an event's once-only key, the busy marks
            # released at a close (shared/logic/rescue: policy.hashed, assignment, closure).
            SosKeyModel: READ_WRITE,
            # The AED runner's claim (accept), a re-route's claim, and aed_attached taking the AED out of
            # search; in-rescue fault reports suspend the AED.
            GeoIndexModel: READ_WRITE,
            AedModel: READ_WRITE,
            AedReportModel: READ_WRITE,
            ResponderModel: READ,  # a console incident's wave 1: the alerts check the presence
        },
        direct_publish=True,
        start_rescue=True,  # POST /v1/incidents: a dispatcher's incident starts its rescue workflow
        resume_rescue=True,
        dispatch_settings=True,
        report_photos=True,
    ),
    # Fault reports (anyone), their resolution and restocks (managers): the AED, its index, the reports.
    "aed_faults": FunctionGrants(
        tables={AedModel: READ_WRITE, GeoIndexModel: READ_WRITE, AedReportModel: READ_WRITE},
        report_photos=True,
    ),
    "rescue_steps": FunctionGrants(
        tables={
            IncidentModel: READ_WRITE,
            AlertModel: READ_WRITE,
            EventModel: READ_WRITE,
            CreditModel: READ_WRITE,
            # The credit balance, inside the award transaction; a later wave's alerts check the presence.
            ResponderModel: READ_UPDATE,
            GeoIndexModel: READ_WRITE,  # wave 2's search, and releasing AED claims
            # Guard keys: wave 2's alert tallies and busy marks, once-only events, releases at the finish.
            SosKeyModel: READ_WRITE,
            AedModel: READ_WRITE,  # a used AED goes to needs_restock at the close
            # The debrief invitations at the finish (shared/logic/debriefs.py): each opened once, with its
            # notice (a conditional UpdateItem), then the notice cleared.
            DebriefModel: READ_WRITE,
        },
        direct_publish=True,
        dispatch_topic=True,
        resume_rescue=True,
        dispatch_settings=True,
    ),
    # The 120 link (docs/dispatch.md). Registration: the centres' table and their secrets; the status
    # webhooks' log (the admin's list of deliveries, a replay) and a run queued for a replayed one.
    "dispatch_centres": FunctionGrants(
        tables={DispatchCentreModel: READ_WRITE, DeliveryModel: READ_WRITE},
        centre_secrets="issue",
        status_changes="send",
    ),
    # The status webhooks (shared.routes.STREAM_SOURCES, QUEUE_SOURCES). The trigger reads the incidents'
    # and events' streams (the event source mappings' rights) and queues runs, nothing else.
    "dispatch_changes": FunctionGrants(status_changes="send"),
    # The cockpit (docs/cockpit.md). Its routes read the summaries and the responders' geo index, and keep
    # the districts; its stream consumer reads an incident's records and writes its summary.
    "cockpit": FunctionGrants(
        tables={
            RescueSummaryModel: READ,
            DistrictModel: READ_WRITE,
            GeoIndexModel: READ,
            ResponderModel: READ,  # on duty: whose presence has not lapsed (the index's lease outlasts it)
        }
    ),
    "cockpit_changes": FunctionGrants(
        tables={IncidentModel: READ, AlertModel: READ, EventModel: READ, RescueSummaryModel: READ_WRITE}
    ),
    # The runs: the incident, its alerts and events read as they stand, the centres and their secrets
    # read, the log written; the queue's messages taken (their visibility set to the back-off) and a
    # webhook that failed for 24 h parked on the dead-letter queue.
    "dispatch_webhooks": FunctionGrants(
        tables={
            IncidentModel: READ,
            AlertModel: READ,
            EventModel: READ,
            DispatchCentreModel: READ,
            DeliveryModel: READ_WRITE,
        },
        centre_secrets="read",
        status_changes="consume",
        dispatch_settings=True,  # the credit points per reason: the close's credits_awarded
    ),
    # A centre's signed calls: the centre and its secret read, then the SOS's path (the incident and its
    # keys, wave 1's alerts and SMS/push, the workflow started, the merge index written) or a dispatcher's
    # ems_arrived event and close (the workflow resumed).
    "dispatch_inbound": FunctionGrants(
        tables={
            DispatchCentreModel: READ,
            IncidentModel: READ_WRITE,
            SosKeyModel: READ_WRITE,
            AlertModel: READ_WRITE,
            EventModel: READ_WRITE,
            GeoIndexModel: READ_WRITE,
            ResponderModel: READ,  # the alert's transaction: the responder's presence not lapsed
        },
        centre_secrets="read",
        direct_publish=True,
        start_rescue=True,
        resume_rescue=True,
        dispatch_settings=True,
    ),
    # Teaching. Courses and sessions (indexed for "near" until they end), theory progress, attendance.
    "teaching_courses": FunctionGrants(
        tables={
            CourseModel: READ_WRITE,
            TrainingSessionModel: READ_WRITE,
            GeoIndexModel: READ_WRITE,
            TheoryProgressModel: READ_WRITE,
            RegistrationModel: READ,
        }
    ),
    # Seats and the waitlist (transactions on the session's counters), evaluations, promotion SMS.
    "teaching_registrations": FunctionGrants(
        tables={
            TrainingSessionModel: READ_WRITE,
            RegistrationModel: READ_WRITE,
            RegistrationKeyModel: READ_WRITE,
            EvaluationModel: READ_WRITE,
        },
        direct_publish=True,
    ),
    # The only holder of the check-in signing key: it shows codes and accepts them.
    "teaching_checkins": FunctionGrants(
        tables={
            TrainingSessionModel: READ,
            RegistrationModel: READ_WRITE,
            RegistrationKeyModel: READ,
            CourseModel: READ,
            TheoryProgressModel: READ,
        },
        checkin_secret=True,
    ),
    # Examiner pool, sittings, scores and the quality report; a pass writes its certificate (number from
    # the counter) and, with consent, the holder's responder record. Teaching records are only read.
    "certification_exams": FunctionGrants(
        tables={
            ExaminerModel: READ_WRITE,
            ExamModel: READ_WRITE,
            ExamScoreModel: READ_WRITE,
            CertificateModel: READ_WRITE,
            CertificateNumberModel: UPDATE,
            ResponderModel: READ_WRITE,  # created (conditional put) or renewed
            CourseModel: READ,
            TrainingSessionModel: READ,
            RegistrationModel: READ,
            TheoryProgressModel: READ,
            EvaluationModel: READ,
        },
        exam_settings=True,
    ),
    # Verification (anyone), revocation (admin: the responder's certificate cut short and their presence
    # removed from the geo index) and the holder's document (needs their course evaluation).
    "certification_certificates": FunctionGrants(
        tables={
            CertificateModel: READ_WRITE,
            ResponderModel: UPDATE,
            GeoIndexModel: READ_WRITE,
            EvaluationModel: READ,
        },
        exam_settings=True,
    ),
    # The daily expiry reminders (shared.routes.SCHEDULES): the expiry index, the reminder marks, SMS.
    "certification_reminders": FunctionGrants(
        tables={CertificateModel: READ, CertificateReminderModel: READ_WRITE},
        direct_publish=True,
    ),
    # The cockpit's training figures: teaching records, scores and certificates of the period, and the
    # cohort's responders by key (their duty now). Reads only.
    "cockpit_training": FunctionGrants(
        tables={
            CourseModel: READ,
            TrainingSessionModel: READ,
            RegistrationModel: READ,
            EvaluationModel: READ,
            ExamScoreModel: READ,
            CertificateModel: READ,
            ResponderModel: READ,
        },
        exam_settings=True,  # certificate_valid_years: which expiry months hold the period's certificates
    ),
    # The credits leaderboard: the credits' by-month index; the responders' opt-in and display name, read by
    # key (GetItem, BatchGetItem) and set on the responder's own item (a conditional UpdateItem): never a
    # responder created, replaced or deleted (shared/dal/credits.py).
    "credits": FunctionGrants(tables={CreditModel: READ, ResponderModel: READ_UPDATE}),
    # The debriefs after rescues (docs/volunteers.md): the responder's own (a conditional UpdateItem, which
    # creates the item when the answers come before the invitation: hence read_write; nothing is deleted),
    # whether they accepted the incident (its alert) and how it closed; the admins' call-back list (the
    # debriefs' call-queue index) with the names and phones to call (responders read by key).
    "debriefs": FunctionGrants(
        tables={DebriefModel: READ_WRITE, AlertModel: READ, IncidentModel: READ, ResponderModel: READ}
    ),
    # The credits exports and nominations (shared/dal/credits_export.py): the ledger read by month and each
    # listed credit marked with its export (a conditional UpdateItem: never a credit written or deleted);
    # the export records; the people the rows name (responders by key, their certificates by holder); the
    # incidents' outcomes (ROSC) by key. The files and the signing key: credit_exports.
    "credits_export": FunctionGrants(
        tables={
            CreditModel: READ_UPDATE,
            CreditExportModel: READ_WRITE,
            ResponderModel: READ,
            CertificateModel: READ,
            IncidentModel: READ,
        },
        credit_exports=True,
    ),
    # Rescue teams and E-stations (shared/logic/teams.py): the teams; their circles in the geo index; the
    # responders named as members and the E-station's AED, read by key; the members' alerts by team (the
    # alerts' by-team index) for the leader.
    "teams": FunctionGrants(
        tables={
            TeamModel: READ_WRITE,
            GeoIndexModel: READ_WRITE,
            ResponderModel: READ,
            AedModel: READ,
            AlertModel: READ,
        },
    ),
}

# The credits exports' files (infra/constructs/credits.py): the key prefix shared.logic.credits_export
# writes under.
CREDIT_EXPORT_PREFIX = "credit-exports/"

# AED report photos (infra/constructs/aed_faults.py): the key prefix shared.logic.aed_faults writes under.
PHOTO_PREFIX = "aed-reports/"
PHOTO_RETENTION_DAYS = 730

# Lambda
FUNCTION_MEMORY_MB = 1024  # CPU scales with memory: shorter cold starts for pydantic and Powertools
FUNCTION_TIMEOUT_S = 10  # well under API Gateway's 29 s integration limit
# Scheduled functions (shared.routes.SCHEDULES) answer no HTTP caller: they may take minutes (a Scan of
# every AED), and Scheduler retries them on error.
SCHEDULED_FUNCTION_TIMEOUT_S = 300
SCHEDULE_RETRY_ATTEMPTS = 3
SCHEDULE_MAX_EVENT_AGE_S = 6 * 3600  # a daily job still worth running late, never a day late
# Functions fed by event sources (shared.routes.EVENT_FUNCTIONS): no caller waits on them, each has its own
# timeout. dispatch_changes queues a stream batch (at most 100 records: 10 SendMessageBatch calls);
# dispatch_webhooks posts an incident's webhooks one after another, up to ~15 at
# shared.logic.dispatch.outbound.POST_TIMEOUT_S (5 s) each, and leaves the rest to a run of its own.
# cockpit_changes re-derives each incident of a batch (3 consistent reads and a write each, ~100 at most).
EVENT_FUNCTION_TIMEOUTS_S: dict[str, int] = {
    "dispatch_changes": 30,
    "dispatch_webhooks": 90,
    "cockpit_changes": 60,
}

# Status webhooks to the 120 dispatch centres (infra/constructs/dispatch_webhooks.py).
# The FIFO queue of changed incidents: a message stays invisible 6 times the consuming function's timeout
# while a batch runs (AWS's advice for a Lambda event source), and is kept 4 days (SQS's default; a
# webhook's tries last 24 h, SQS counts retention from the send). After STATUS_CHANGES_MAX_RECEIVES
# receives SQS moves it to the parked queue: a backstop, the code parks a webhook itself after 24 h (at
# most hourly tries, some 30 receives).
STATUS_CHANGES_VISIBILITY_FACTOR = 6
STATUS_CHANGES_RETENTION_DAYS = 4
STATUS_CHANGES_MAX_RECEIVES = 60
STATUS_PARKED_RETENTION_DAYS = 14  # SQS's longest: ops read, fix and replay what was parked
STATUS_STREAM_FAILURES_RETENTION_DAYS = 14
# The streams' mappings to dispatch_changes: batches of up to 100 records, handed over as soon as read
# (no batching window: a centre hears within seconds), a failing batch split in two and retried at most
# this many times, then described on the stream-failures queue (alarmed) and skipped.
STATUS_STREAM_BATCH_SIZE = 100
STATUS_STREAM_RETRY_ATTEMPTS = 10
# Log groups of the functions, the API access log and the workflow (an aws_logs.RetentionDays member name;
# this module stays free of aws_cdk so `python -m infra.wheels` starts no jsii runtime).
LOG_RETENTION = "SIX_MONTHS"
LAYER_REQUIREMENTS = REPO_ROOT / "infra" / "lambda-requirements.txt"
WHEELHOUSE = REPO_ROOT / "build" / "wheels"  # filled by `make wheels`; synth then needs no network
# Lambda's Python 3.13 runtime, on the profile's architecture (infra/profile.py: arm64, Graviton, in the
# global profile; x86_64 in the cn one): the layer's wheels must match both.
LAYER_PYTHON_VERSION = "3.13"
LAYER_PLATFORMS: dict[str, str] = {"arm64": "manylinux2014_aarch64", "x86_64": "manylinux2014_x86_64"}
# Lambda's limit on a function's code and layers together, unzipped (`python -m infra.wheels --size`).
LAMBDA_UNZIPPED_LIMIT_BYTES = 250 * 1024 * 1024
# Pure-Python packages PyPI has only as an sdist: built locally into a py3-none-any wheel (checked).
LAYER_SOURCE_ONLY: frozenset[str] = frozenset({"eviltransform", "alibabacloud-tea"})

# The function code asset: the repo root with everything but the two packages a handler imports
# excluded (gitignore syntax, so new top-level folders stay out without anyone remembering to add them).
CODE_ASSET_PACKAGES: tuple[str, ...] = ("functions", "shared")
CODE_ASSET_EXCLUDES: tuple[str, ...] = (
    "/*",
    *(f"!/{package}/" for package in CODE_ASSET_PACKAGES),
    "__pycache__/",
    "*.py[cod]",
    "tests/",
)

# API Gateway
API_NAME = "rescue-nearby-api"
API_STAGE = "prod"
API_THROTTLE_RATE = 200  # requests per second, steady state, across the stage
API_THROTTLE_BURST = 400
# WAF's coarse limit on POST /v1/sos per client address, per 5 minutes: above the platform's own
# (Settings.sos_per_ip per sos_window_s, 30 per 10 minutes by default) so it never refuses what they take.
SOS_WAF_LIMIT_PER_5_MINUTES = 100

# Anonymous routes (shared.routes: roles is None) open a hole cdk-nag rightly reports; each one must say
# here why it is public, or synthesis fails.
PUBLIC_ROUTE_REASONS: dict[str, str] = {
    "GET /v1/certificates/{certificate_no}": (
        "Certificate verification: the QR code on a first-aid certificate leads here, so an employer, a "
        "venue or a patient's family can check it without an account. It answers by exact number only, "
        "with the holder's name masked, the course and the validity; no phone, no id."
    ),
    "GET /v1/health": "Liveness probe for uptime monitors and the load test harness; returns no data.",
    "GET /v1/aeds": (
        "The public AED map: anyone near a collapse must find an AED without an account; AED locations "
        "are public information the Red Cross publishes."
    ),
    "GET /v1/estations": (
        "The public map's E-stations (救护E站): sites with an AED and trained staff, shown beside the AEDs "
        "so anyone near a collapse can find one without an account. Name, address, hours and AED only: "
        "never who its staff are."
    ),
    "GET /v1/aeds/nearby": (
        "Nearest-AED search for bystanders without an account during an emergency; returns only public "
        "AED locations and opening hours."
    ),
    "POST /v1/dispatch/centres/{centre_id}/incidents": (
        "The 120 dispatch centre's CAD system raises incidents here and holds no user token: each request is "
        "signed with the centre's own secret (Standard Webhooks, HMAC-SHA256 over the raw body, at most 5 "
        "minutes old), verified by the function before it reads anything else; unsigned or stale requests "
        "are refused (401) with nothing stored."
    ),
    "POST /v1/dispatch/centres/{centre_id}/incidents/{cad_incident_no}/updates": (
        "The 120 dispatch centre's CAD system reports ambulance arrival, cancellation and closure of the "
        "incidents it raised, signed with the centre's own secret as its incidents are; unsigned or stale "
        "requests are refused (401) with nothing done."
    ),
    "POST /v1/sos": (
        "A bystander at a cardiac arrest must be able to raise an SOS without an account: every minute "
        "without CPR costs about ten percent survival. Retries are idempotent (Idempotency-Key), the body is "
        "validated, and WAF plus stage throttling limit abuse."
    ),
}

# Identity: the Cognito groups, i.e. the roles shared.routes allows (see shared.identity.ROLES)
USER_POOL_NAME = "rescue-nearby-users"
PASSWORD_MIN_LENGTH = 12
# Identity in the cn profile (OidcIdentity, infra/constructs/identity.py): an OIDC issuer's bearer tokens,
# checked by a Lambda TOKEN authorizer (functions/authorizer). It allows OIDC_LEEWAY_S of clock skew on
# exp, and API Gateway caches its answer per token for AUTHORIZER_CACHE_TTL_S: a token is never honoured
# more than their sum past its exp (60 s). Settings.oidc_leeway_s (shared/config.py) allows at most 30.
OIDC_LEEWAY_S = 30
AUTHORIZER_CACHE_TTL_S = 30
AUTHORIZER_MAX_PAST_EXP_S = 60
# API Gateway refuses (401) an Authorization header that is not "Bearer <compact JWS>" without invoking
# the authorizer: a flood of junk costs no Lambda.
AUTHORIZER_TOKEN_PATTERN = r"^[Bb][Ee][Aa][Rr][Ee][Rr] [A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$"
AUTHORIZER_NAME = "rescue-nearby-oidc"

# Notifications
DISPATCH_TOPIC_DISPLAY_NAME = "Rescue Nearby dispatch centre"
UPKEEP_TOPIC_DISPLAY_NAME = "Rescue Nearby AED upkeep"
# App push: the SNS mobile platform applications hold the push credentials (FCM key, APNs certificate), so
# ops create them outside the stack and pass their ARNs as this CDK context value, a JSON object from app
# platform (shared.api.fields.DeviceBody.platform) to platform application ARN:
#   cdk deploy -c push_applications='{"fcm": "arn:aws:sns:<region>:<account>:app/GCM/<name>"}'
# Absent or empty: no push (the device route answers 422, alerts go by SMS).
PUSH_CONTEXT = "push_applications"
# The SNS platform(s) an app platform's application may be (the ARN's app/<PLATFORM>/ part).
PUSH_PLATFORMS: dict[str, frozenset[str]] = {
    "fcm": frozenset({"GCM"}),
    "apns": frozenset({"APNS", "APNS_SANDBOX"}),
}

# Workflow. The state machine gets an explicit name, "<stack name>-<suffix>", so its ARN can be written
# without referring to the resource: the rescue_steps function, which the machine invokes, needs that ARN
# for states:SendTaskSuccess, and a reference would be a cycle (machine -> function -> machine).
STATE_MACHINE_NAME_SUFFIX = "rescue"

# Operations (infra/constructs/alarms.py, runbook docs/deploy.md): alarms go to one encrypted ops topic.
OPS_TOPIC_DISPLAY_NAME = "Rescue Nearby operations alarms"
# Optional CDK context values, each a subscription endpoint (an email address, an https:// URL or an E.164
# phone number; parsed by infra.constructs.notifications.subscription): who gets the ops alarms, and the
# 120 dispatch centre's subscription to the dispatch topic (incidents no volunteer answered).
OPS_ENDPOINT_CONTEXT = "ops_alarm_endpoint"
DISPATCH_CENTRE_ENDPOINT_CONTEXT = "dispatch_centre_endpoint"
# A scheduled function's own errors (EventBridge Scheduler invokes it asynchronously): Lambda retries it
# this many times, then parks the event in the schedules' failed-runs queue (on-failure destination).
SCHEDULED_ASYNC_RETRY_ATTEMPTS = 2
# Identity, optional CDK context values: Cognito's mail through SES (a verified SES identity: an address,
# or a domain to send from no-reply@<domain>), and the app client's OAuth callback URLs (a JSON list or
# comma-separated; without them the client has no OAuth flow at all, only SRP sign-in).
SES_IDENTITY_CONTEXT = "cognito_ses_identity"
SES_FROM_NAME = "Rescue Nearby"
OAUTH_CALLBACKS_CONTEXT = "oauth_callback_urls"
# The access logs of the report photo bucket (who fetched or uploaded a photo, from which IP).
PHOTO_ACCESS_LOG_RETENTION_DAYS = 365

# cfn-lint: the regions the global profile's stack (with Cognito) can deploy to. Not the China regions,
# which have no Cognito (E3006): the cn profile (infra/profile.py) is linted for those instead.
LINT_REGIONS: tuple[str, ...] = ("ap-east-1", "ap-southeast-1", "us-east-1")
# Checks skipped, each with its reason.
LINT_IGNORED_CHECKS: dict[str, str] = {
    "W3005": (
        "CDK adds DependsOn on a function's role next to the GetAtt that already orders them: "
        "redundant, harmless."
    ),
}
