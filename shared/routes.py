"""The route table: the one list of API routes. CDK builds API Gateway from it, the local gateway
routes by it, and each function's resolver is checked against it by tests.

``roles`` is who may call: ``None`` for anonymous routes (no authorizer), an empty set for any signed-in
caller (the logic then decides, e.g. "self or admin"), otherwise the Cognito groups allowed.

``signed``: a route a 120 dispatch centre calls, signed as Standard Webhooks specifies (docs/dispatch.md).
It takes no token, so API Gateway and the local gateway treat it as anonymous (``roles`` is None) and hand
the handler the raw body and headers; the handler verifies the signature before it reads anything else.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

SIGNED_IN: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # API Gateway resource syntax: /v1/aeds/{aed_id}
    function: str  # the Lambda function (folder under functions/) that serves it
    roles: frozenset[str] | None
    signed: bool = False  # the caller is a dispatch centre, by its signature (roles is then None)

    def __post_init__(self) -> None:
        if self.signed and self.roles is not None:
            raise ValueError(f"{self.method} {self.path}: a signed route takes no token (roles None)")

    @property
    def anonymous(self) -> bool:
        return self.roles is None

    @property
    def resolver_path(self) -> str:
        """The same path in Powertools' syntax: /v1/aeds/<aed_id>."""
        return self.path.replace("{", "<").replace("}", ">")


ROUTES: tuple[Route, ...] = (
    Route("GET", "/v1/health", "health", None),
    Route("POST", "/v1/responders", "responders", frozenset({"admin", "trainer"})),
    Route("GET", "/v1/responders/nearby", "responders", frozenset({"dispatcher", "admin"})),
    Route("GET", "/v1/responders/{responder_id}", "responders", SIGNED_IN),
    Route("PUT", "/v1/responders/{responder_id}/presence", "responders", SIGNED_IN),
    Route("GET", "/v1/responders/{responder_id}/credits", "responders", SIGNED_IN),
    Route("PUT", "/v1/responders/{responder_id}/device", "responders", SIGNED_IN),
    Route("POST", "/v1/aeds", "aed_registry", frozenset({"aed_manager", "admin"})),
    Route("GET", "/v1/aeds", "aed_registry", None),
    Route("GET", "/v1/aeds/nearby", "aed_registry", None),
    Route("PATCH", "/v1/aeds/{aed_id}", "aed_registry", frozenset({"aed_manager", "admin"})),
    Route("GET", "/v1/aeds/{aed_id}", "aed_registry", SIGNED_IN),
    Route("POST", "/v1/aeds/import", "aed_import", frozenset({"aed_manager", "admin"})),
    Route("GET", "/v1/aeds/coverage", "aed_coverage", frozenset({"aed_manager", "dispatcher", "admin"})),
    Route("POST", "/v1/aeds/coverage", "aed_coverage", frozenset({"aed_manager", "dispatcher", "admin"})),
    # The cockpit's heat map: the same coverage at each of the week's 168 hours, in one request
    Route(
        "POST", "/v1/aeds/coverage/week", "aed_coverage", frozenset({"aed_manager", "dispatcher", "admin"})
    ),
    Route("POST", "/v1/aeds/{aed_id}/inspections", "aed_upkeep", frozenset({"aed_manager", "admin"})),
    Route("GET", "/v1/aeds/{aed_id}/inspections", "aed_upkeep", frozenset({"aed_manager", "admin"})),
    Route("POST", "/v1/sos", "rescue_sos", None),
    Route("GET", "/v1/incidents/{incident_id}", "rescue_incidents", SIGNED_IN),
    Route("POST", "/v1/incidents/{incident_id}/responses", "rescue_incidents", SIGNED_IN),
    Route("POST", "/v1/incidents/{incident_id}/events", "rescue_incidents", SIGNED_IN),
    Route(
        "POST", "/v1/incidents/{incident_id}/close", "rescue_incidents", frozenset({"dispatcher", "admin"})
    ),
    Route("POST", "/v1/incidents/{incident_id}/aed-reports", "rescue_incidents", SIGNED_IN),
    # The dispatchers' console: every incident, and a rescue's timeline (an alerted responder's own part)
    Route("GET", "/v1/incidents", "rescue_incidents", frozenset({"dispatcher", "admin"})),
    # ... and an incident a dispatcher raises for a caller (the SOS's intake, source "console")
    Route("POST", "/v1/incidents", "rescue_incidents", frozenset({"dispatcher", "admin"})),
    Route("GET", "/v1/incidents/{incident_id}/timeline", "rescue_incidents", SIGNED_IN),
    Route("POST", "/v1/aeds/{aed_id}/reports", "aed_faults", SIGNED_IN),
    Route("GET", "/v1/aeds/{aed_id}/reports", "aed_faults", frozenset({"aed_manager", "admin"})),
    Route(
        "POST",
        "/v1/aeds/{aed_id}/reports/{report_id}/resolution",
        "aed_faults",
        frozenset({"aed_manager", "admin"}),
    ),
    Route("POST", "/v1/aeds/{aed_id}/restock", "aed_faults", frozenset({"aed_manager", "admin"})),
    # The 120 link (docs/dispatch.md): centres registered by admins; incidents and updates signed by a centre
    Route("PUT", "/v1/dispatch/centres/{centre_id}", "dispatch_centres", frozenset({"admin"})),
    Route("GET", "/v1/dispatch/centres/{centre_id}/deliveries", "dispatch_centres", frozenset({"admin"})),
    Route(
        "POST",
        "/v1/dispatch/centres/{centre_id}/deliveries/{delivery_id}/replay",
        "dispatch_centres",
        frozenset({"admin"}),
    ),
    Route("POST", "/v1/dispatch/centres/{centre_id}/incidents", "dispatch_inbound", None, signed=True),
    Route(
        "POST",
        "/v1/dispatch/centres/{centre_id}/incidents/{cad_incident_no}/updates",
        "dispatch_inbound",
        None,
        signed=True,
    ),
    # Teaching: courses, sessions, theory, registrations with a waitlist, check-in, evaluations
    Route("POST", "/v1/courses", "teaching_courses", frozenset({"trainer", "admin"})),
    Route("GET", "/v1/courses/{course_id}", "teaching_courses", SIGNED_IN),
    Route("PUT", "/v1/courses/{course_id}/theory/{module_id}", "teaching_courses", SIGNED_IN),
    Route("GET", "/v1/courses/{course_id}/theory", "teaching_courses", SIGNED_IN),
    Route("POST", "/v1/sessions", "teaching_courses", frozenset({"trainer", "admin"})),
    Route("GET", "/v1/sessions", "teaching_courses", SIGNED_IN),
    Route("GET", "/v1/sessions/{session_id}/attendance", "teaching_courses", SIGNED_IN),
    Route("POST", "/v1/sessions/{session_id}/registrations", "teaching_registrations", SIGNED_IN),
    Route("GET", "/v1/registrations/{registration_id}", "teaching_registrations", SIGNED_IN),
    Route("DELETE", "/v1/registrations/{registration_id}", "teaching_registrations", SIGNED_IN),
    Route("POST", "/v1/registrations/{registration_id}/evaluation", "teaching_registrations", SIGNED_IN),
    Route("GET", "/v1/sessions/{session_id}/checkin-code", "teaching_checkins", SIGNED_IN),
    Route("POST", "/v1/sessions/{session_id}/checkins", "teaching_checkins", SIGNED_IN),
    # Exams apart from teaching, certificates, and the training quality report
    Route("PUT", "/v1/examiners/{examiner_id}", "certification_exams", frozenset({"admin"})),
    Route("DELETE", "/v1/examiners/{examiner_id}", "certification_exams", frozenset({"admin"})),
    Route("GET", "/v1/examiners", "certification_exams", frozenset({"admin", "trainer"})),
    Route("POST", "/v1/exams", "certification_exams", frozenset({"trainer", "admin"})),
    Route("GET", "/v1/exams/{exam_id}", "certification_exams", frozenset({"trainer", "admin", "examiner"})),
    Route("POST", "/v1/exams/{exam_id}/scores", "certification_exams", frozenset({"examiner"})),
    Route("GET", "/v1/training/quality", "certification_exams", frozenset({"trainer", "admin"})),
    Route("GET", "/v1/certificates/{certificate_no}", "certification_certificates", None),
    # The Red Cross cockpit's training figures; the credits leaderboard (opt-in, the responder's own)
    Route("GET", "/v1/cockpit/training", "cockpit_training", frozenset({"admin", "dispatcher", "trainer"})),
    Route("PUT", "/v1/responders/{responder_id}/leaderboard", "credits", SIGNED_IN),
    Route("GET", "/v1/credits/leaderboard", "credits", SIGNED_IN),
    # The credits ledger for the provincial public-credit platform (signed files), and the annual
    # nominations for the 最美救护员 selection (docs/volunteers.md)
    Route("POST", "/v1/credits/exports", "credits_export", frozenset({"admin"})),
    Route("GET", "/v1/credits/exports", "credits_export", frozenset({"admin"})),
    Route("GET", "/v1/credits/exports/{export_id}", "credits_export", frozenset({"admin"})),
    Route("GET", "/v1/credits/nominations", "credits_export", frozenset({"admin"})),
    Route(
        "POST", "/v1/certificates/{certificate_no}/revoke", "certification_certificates", frozenset({"admin"})
    ),
    Route("GET", "/v1/certificates/{certificate_no}/document", "certification_certificates", SIGNED_IN),
    # The Red Cross cockpit (docs/cockpit.md): rescue figures of a period, responders on duty by map cell
    # (cells of 5 or more only), and the districts both are filtered by
    Route("PUT", "/v1/districts/{district_id}", "cockpit", frozenset({"admin"})),
    Route("GET", "/v1/districts", "cockpit", frozenset({"admin", "dispatcher"})),
    Route("GET", "/v1/cockpit/rescues", "cockpit", frozenset({"admin", "dispatcher"})),
    Route("GET", "/v1/cockpit/on-duty", "cockpit", frozenset({"admin", "dispatcher"})),
    # The debrief after a rescue (docs/volunteers.md): a responder who accepted submits and reads their own
    # (the logic decides: others 404); admins list the requests to call back and mark a call done
    Route("PUT", "/v1/incidents/{incident_id}/debrief", "debriefs", SIGNED_IN),
    Route("GET", "/v1/incidents/{incident_id}/debrief", "debriefs", SIGNED_IN),
    Route("GET", "/v1/debriefs", "debriefs", frozenset({"admin"})),
    Route("POST", "/v1/debriefs/{incident_id}/{responder_id}/call-done", "debriefs", frozenset({"admin"})),
    # Rescue teams and E-stations (docs/volunteers.md): admins manage them, a leader the members and hours
    # (the logic decides), the leader reads the team's responses; the public map reads the E-stations.
    Route("POST", "/v1/teams", "teams", frozenset({"admin"})),
    Route("GET", "/v1/teams", "teams", frozenset({"admin"})),
    Route("GET", "/v1/teams/{team_id}", "teams", SIGNED_IN),
    Route("PATCH", "/v1/teams/{team_id}", "teams", SIGNED_IN),
    Route("DELETE", "/v1/teams/{team_id}", "teams", frozenset({"admin"})),
    Route("GET", "/v1/teams/{team_id}/responses", "teams", SIGNED_IN),
    Route("GET", "/v1/estations", "teams", None),
)

# Functions no route reaches: the rescue workflow's steps (invoked by Step Functions).
WORKFLOW_FUNCTIONS: tuple[str, ...] = ("rescue_steps",)


@dataclass(frozen=True)
class Schedule:
    """A function run on a clock: EventBridge Scheduler in the cloud, a command (and the local runtime's
    /dev/schedules/<function>) on one machine. ``cron`` is EventBridge's cron(...) in the deployment's
    time zone (shared.config Settings.time_zone)."""

    function: str
    cron: str
    description: str


SCHEDULES: tuple[Schedule, ...] = (
    Schedule(
        "aed_upkeep_daily",
        "cron(0 2 * * ? *)",
        "AED upkeep: expired pads/batteries out of search, expiry and inspection reminders to managers",
    ),
    Schedule(
        "certification_reminders",
        "cron(0 10 * * ? *)",  # 10:00 local: a text people read in the daytime
        "Certificate expiry reminders by SMS to holders, 60, 30 and 7 days before the last valid day",
    ),
)
# Functions a clock invokes (EventBridge Scheduler; locally POST /dev/schedules/<function>).
SCHEDULED_FUNCTIONS: tuple[str, ...] = tuple(dict.fromkeys(s.function for s in SCHEDULES))

FUNCTIONS: tuple[str, ...] = tuple(dict.fromkeys(r.function for r in ROUTES))


@dataclass(frozen=True)
class StreamSource:
    """A function fed by DynamoDB Streams: a Lambda event source mapping per table in the cloud
    (infra/constructs/dispatch_webhooks.py), a poller of the embedded tables' streams on one machine
    (local_runtime/pollers.py). ``tables``: the tables' setting names (shared.config.Settings)."""

    function: str
    tables: tuple[str, ...]


@dataclass(frozen=True)
class QueueSource:
    """A function fed by an SQS queue (``queue``: the setting naming the queue's URL), in batches of up
    to ``batch_size``, reporting the messages that failed (the rest are deleted)."""

    function: str
    queue: str
    batch_size: int


# The status webhooks to dispatch centres (docs/dispatch.md): a change to an incident or its events wakes
# dispatch_changes, which queues the incident on a FIFO queue (one group per incident); dispatch_webhooks
# takes the queue in order and posts what the centres have not yet heard. Never on the SOS's path.
STREAM_SOURCES: tuple[StreamSource, ...] = (
    StreamSource("dispatch_changes", ("incidents_table", "events_table")),
    # The cockpit's rescue summaries (docs/cockpit.md): any change to an incident, its alerts or its events
    # re-derives that incident's summary (infra/constructs/cockpit.py).
    StreamSource("cockpit_changes", ("incidents_table", "alerts_table", "events_table")),
)
QUEUE_SOURCES: tuple[QueueSource, ...] = (QueueSource("dispatch_webhooks", "status_changes_queue_url", 10),)
EVENT_FUNCTIONS: tuple[str, ...] = (
    *(s.function for s in STREAM_SOURCES),
    *(q.function for q in QUEUE_SOURCES),
)

# The API's Lambda TOKEN authorizer in the cn profile (an OIDC issuer's JWTs): API Gateway calls it
# before every non-anonymous route; the local gateway does the same in both profiles.
AUTHORIZER_FUNCTION = "authorizer"


def find_route(method: str, path: str) -> Route | None:
    return next((r for r in ROUTES if r.method == method and r.path == path), None)


def scheduled_day(event: dict[str, Any], now: datetime, time_zone: str) -> date:
    """The local day a scheduled run acts for. The event may carry ``as_of`` (YYYY-MM-DD: run as of that
    day, for demos and tests; the schedule never sets it) and ``scheduled_time`` (set by the schedule: a
    retry hours later still acts for the day it was scheduled). Neither: today in ``time_zone``."""
    if event.get("as_of"):
        return date.fromisoformat(str(event["as_of"]))
    if event.get("scheduled_time"):
        now = datetime.fromisoformat(str(event["scheduled_time"]).replace("Z", "+00:00"))
    return now.astimezone(ZoneInfo(time_zone)).date()
