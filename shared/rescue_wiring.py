"""The rescue loop's adapters and policy, built once per Lambda instance from the settings."""

from __future__ import annotations

from functools import lru_cache

import boto3
from botocore.config import Config

from shared.config import Settings, settings
from shared.dal.geo_index import DynamoGeoIndex
from shared.dal.incidents import DynamoIncidents, GeoAedClaims
from shared.logic.aed_service import AedService
from shared.logic.rescue import Policy
from shared.messaging.sns import SnsNotifier
from shared.workflow import StepFunctionsWorkflow

# Retries with backoff for throttles and 5xx; the SOS path cannot wait long, so few and quick.
_CLIENT_CONFIG = Config(
    retries={"mode": "standard", "total_max_attempts": 3}, connect_timeout=2, read_timeout=5
)


def policy(config: Settings) -> Policy:
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
    )


class Rescue:
    def __init__(self) -> None:
        config = settings()
        self.policy = policy(config)
        self.store = DynamoIncidents()
        self.geo = DynamoGeoIndex(max_queries=config.geo_max_queries)
        self.claims = GeoAedClaims()
        self.notifier = SnsNotifier(
            boto3.client("sns", region_name=config.region, config=_CLIENT_CONFIG), config.dispatch_topic_arn
        )
        self.workflow = StepFunctionsWorkflow(
            boto3.client("stepfunctions", region_name=config.region, config=_CLIENT_CONFIG),
            config.rescue_state_machine_arn,
        )


@lru_cache(maxsize=1)
def rescue() -> Rescue:
    return Rescue()


@lru_cache(maxsize=1)
def aed_service() -> AedService:
    """AED reports, use and restock (not on the SOS path: built on first use)."""
    from shared.dal.aed_reports import DynamoReports, S3Photos
    from shared.dal.repositories import DynamoAeds

    config = settings()
    s3 = boto3.client(
        "s3",
        region_name=config.region,
        endpoint_url=config.photo_upload_endpoint or None,
        config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
    )
    return AedService(
        DynamoAeds(),
        DynamoGeoIndex(max_queries=config.geo_max_queries),
        DynamoReports(),
        S3Photos(s3, config.photo_bucket),
    )
