"""The route table: the one list of API routes. CDK builds API Gateway from it, the local gateway
routes by it, and each function's resolver is checked against it by tests.

``roles`` is who may call: ``None`` for anonymous routes (no authorizer), an empty set for any signed-in
caller (the logic then decides, e.g. "self or admin"), otherwise the Cognito groups allowed.
"""

from __future__ import annotations

from dataclasses import dataclass

SIGNED_IN: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # API Gateway resource syntax: /v1/aeds/{aed_id}
    function: str  # the Lambda function (folder under functions/) that serves it
    roles: frozenset[str] | None

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
    Route("POST", "/v1/aeds", "aeds", frozenset({"aed_manager", "admin"})),
    Route("GET", "/v1/aeds", "aeds", None),
    Route("GET", "/v1/aeds/nearby", "aeds", None),
    Route("PATCH", "/v1/aeds/{aed_id}", "aeds", frozenset({"aed_manager", "admin"})),
    Route("POST", "/v1/sos", "sos", None),
    Route("GET", "/v1/incidents/{incident_id}", "incidents", SIGNED_IN),
    Route("POST", "/v1/incidents/{incident_id}/responses", "incidents", SIGNED_IN),
    Route("POST", "/v1/incidents/{incident_id}/events", "incidents", SIGNED_IN),
    Route("POST", "/v1/incidents/{incident_id}/close", "incidents", frozenset({"dispatcher", "admin"})),
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


SCHEDULES: tuple[Schedule, ...] = ()

FUNCTIONS: tuple[str, ...] = tuple(dict.fromkeys(r.function for r in ROUTES))


def find_route(method: str, path: str) -> Route | None:
    return next((r for r in ROUTES if r.method == method and r.path == path), None)
