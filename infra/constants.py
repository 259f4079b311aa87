"""Every name and number the CDK app uses, in one place.

Construct ids here become CloudFormation logical ids: renaming one replaces the resource (a table
replaced is a table emptied), so treat them as stable.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pynamodb.models import Model

from shared.dal.models import AedModel, GeoIndexModel, IncidentModel, ResponderModel

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
)

# Least privilege: which tables each function (shared.routes.FUNCTIONS) may read and write. A function
# missing here fails synthesis: granting data access is a decision, never a default.
FUNCTION_TABLES: dict[str, tuple[type[Model], ...]] = {
    "health": (),
    "responders": (ResponderModel, GeoIndexModel),
    "aeds": (AedModel, GeoIndexModel),
}

# Lambda
FUNCTION_MEMORY_MB = 1024  # CPU scales with memory: shorter cold starts for pydantic and Powertools
FUNCTION_TIMEOUT_S = 10  # well under API Gateway's 29 s integration limit
# Log groups of the functions, the API access log and the workflow (an aws_logs.RetentionDays member name;
# this module stays free of aws_cdk so `python -m infra.wheels` starts no jsii runtime).
LOG_RETENTION = "SIX_MONTHS"
LAYER_REQUIREMENTS = REPO_ROOT / "infra" / "lambda-requirements.txt"
WHEELHOUSE = REPO_ROOT / "build" / "wheels"  # filled by `make wheels`; synth then needs no network
# Lambda's Python 3.13 runtime on Graviton: the layer's wheels must match both.
LAYER_PYTHON_VERSION = "3.13"
LAYER_PLATFORM = "manylinux2014_aarch64"
# Pure-Python packages PyPI has only as an sdist: built locally into a py3-none-any wheel (checked).
LAYER_SOURCE_ONLY: frozenset[str] = frozenset({"eviltransform"})

# The function code asset: the repo root with everything but the two packages a handler imports
# excluded (gitignore syntax, so new top-level folders stay out without anyone remembering to add them).
CODE_ASSET_EXCLUDES: tuple[str, ...] = (
    "/*",
    "!/functions/",
    "!/shared/",
    "__pycache__/",
    "*.py[cod]",
    "tests/",
)

# API Gateway
API_NAME = "rescue-nearby-api"
API_STAGE = "prod"
API_THROTTLE_RATE = 200  # requests per second, steady state, across the stage
API_THROTTLE_BURST = 400

# Anonymous routes (shared.routes: roles is None) open a hole cdk-nag rightly reports; each one must say
# here why it is public, or synthesis fails.
PUBLIC_ROUTE_REASONS: dict[str, str] = {
    "GET /v1/health": "Liveness probe for uptime monitors and the load test harness; returns no data.",
    "GET /v1/aeds": (
        "The public AED map: anyone near a collapse must find an AED without an account; AED locations "
        "are public information the Red Cross publishes."
    ),
    "GET /v1/aeds/nearby": (
        "Nearest-AED search for bystanders without an account during an emergency; returns only public "
        "AED locations and opening hours."
    ),
}

# Identity: the Cognito groups, i.e. the roles shared.routes allows (see shared.identity.ROLES)
USER_POOL_NAME = "rescue-nearby-users"
PASSWORD_MIN_LENGTH = 12

# Notifications
DISPATCH_TOPIC_DISPLAY_NAME = "Rescue Nearby dispatch centre"

# cfn-lint: the regions this stack (with Cognito) can deploy to. Not the China regions, which have no
# Cognito (E3006): a China deployment needs another infra Identity first.
LINT_REGIONS: tuple[str, ...] = ("ap-east-1", "ap-southeast-1", "us-east-1")
# Checks skipped, each with its reason.
LINT_IGNORED_CHECKS: dict[str, str] = {
    "W3005": (
        "CDK adds DependsOn on a function's role next to the GetAtt that already orders them: "
        "redundant, harmless."
    ),
}
