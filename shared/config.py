"""Deployment settings: read from the environment once, here and nowhere else."""

from __future__ import annotations

import json
import os
from functools import lru_cache

from pydantic import BaseModel, ConfigDict, Field


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True)

    responders_table: str = Field("rescue-nearby-responders", alias="RESPONDERS_TABLE")
    aeds_table: str = Field("rescue-nearby-aeds", alias="AEDS_TABLE")
    geo_table: str = Field("rescue-nearby-geo-index", alias="GEO_INDEX_TABLE")
    incidents_table: str = Field("rescue-nearby-incidents", alias="INCIDENTS_TABLE")
    alerts_table: str = Field("rescue-nearby-alerts", alias="ALERTS_TABLE")
    events_table: str = Field("rescue-nearby-incident-events", alias="EVENTS_TABLE")
    credits_table: str = Field("rescue-nearby-credits", alias="CREDITS_TABLE")
    sos_keys_table: str = Field("rescue-nearby-sos-keys", alias="SOS_KEYS_TABLE")
    # Teaching (shared/dal/models/teaching.py)
    training_courses_table: str = Field("rescue-nearby-training-courses", alias="TRAINING_COURSES_TABLE")
    training_sessions_table: str = Field("rescue-nearby-training-sessions", alias="TRAINING_SESSIONS_TABLE")
    training_registrations_table: str = Field(
        "rescue-nearby-training-registrations", alias="TRAINING_REGISTRATIONS_TABLE"
    )
    training_registration_keys_table: str = Field(
        "rescue-nearby-training-registration-keys", alias="TRAINING_REGISTRATION_KEYS_TABLE"
    )
    training_theory_table: str = Field("rescue-nearby-training-theory", alias="TRAINING_THEORY_TABLE")
    training_evaluations_table: str = Field(
        "rescue-nearby-training-evaluations", alias="TRAINING_EVALUATIONS_TABLE"
    )
    # The Secrets Manager secret that signs session check-in codes (ARN or name).
    checkin_secret_id: str = Field("", alias="CHECKIN_SECRET_ID")
    # Exams and certificates (shared/dal/certification.py)
    examiners_table: str = Field("rescue-nearby-examiners", alias="EXAMINERS_TABLE")
    exams_table: str = Field("rescue-nearby-exams", alias="EXAMS_TABLE")
    exam_scores_table: str = Field("rescue-nearby-exam-scores", alias="EXAM_SCORES_TABLE")
    certificates_table: str = Field("rescue-nearby-certificates", alias="CERTIFICATES_TABLE")
    certificate_numbers_table: str = Field(
        "rescue-nearby-certificate-numbers", alias="CERTIFICATE_NUMBERS_TABLE"
    )
    certificate_reminders_table: str = Field(
        "rescue-nearby-certificate-reminders", alias="CERTIFICATE_REMINDERS_TABLE"
    )
    aed_inspections_table: str = Field("rescue-nearby-aed-inspections", alias="AED_INSPECTIONS_TABLE")
    upkeep_reminders_table: str = Field("rescue-nearby-upkeep-reminders", alias="UPKEEP_REMINDERS_TABLE")
    # The "AED upkeep" SNS topic: reminders to AED managers (message attributes manager_id, aed_id).
    upkeep_topic_arn: str = Field("", alias="UPKEEP_TOPIC_ARN")
    aed_reports_table: str = Field("rescue-nearby-aed-reports", alias="AED_REPORTS_TABLE")
    # Photos attached to AED fault reports (uploaded straight to S3 with a presigned POST).
    photo_bucket: str = Field("rescue-nearby-photos", alias="PHOTO_BUCKET")
    # Where the presigned POST points: empty in the cloud (S3's own endpoint); the local runtime sets its
    # embedded S3's address so a phone or curl can upload.
    photo_upload_endpoint: str = Field("", alias="PHOTO_UPLOAD_ENDPOINT")
    dispatch_topic_arn: str = Field("", alias="DISPATCH_TOPIC_ARN")
    rescue_state_machine_arn: str = Field("", alias="RESCUE_STATE_MACHINE_ARN")
    # SNS mobile platform applications by app platform, as JSON: {"fcm": "arn:...", "apns": "arn:..."}.
    # They hold the push credentials (FCM key, APNs certificate), so ops create them outside the stack.
    push_applications: dict[str, str] = Field(default_factory=dict, alias="PUSH_APPLICATIONS")
    region: str = Field("cn-north-1", alias="AWS_REGION")
    time_zone: str = Field("Asia/Shanghai", alias="TIME_ZONE")
    presence_ttl_s: int = Field(900, alias="PRESENCE_TTL_SECONDS", gt=0)
    geo_max_queries: int = Field(6, alias="GEO_MAX_QUERIES", ge=1)
    # Dispatch (the contract's defaults; every one configurable per deployment)
    wave1_radius_m: float = Field(1000, alias="WAVE1_RADIUS_M", gt=0, le=5000)
    wave1_size: int = Field(10, alias="WAVE1_SIZE", ge=1, le=50)
    wave2_radius_m: float = Field(2000, alias="WAVE2_RADIUS_M", gt=0, le=5000)
    wave2_size: int = Field(20, alias="WAVE2_SIZE", ge=0, le=50)
    wave_wait_s: int = Field(60, alias="WAVE_WAIT_SECONDS", ge=1)
    cpr_slots: int = Field(2, alias="CPR_SLOTS", ge=1, le=10)
    aed_slots: int = Field(1, alias="AED_SLOTS", ge=0, le=1)
    aed_radius_m: float = Field(1000, alias="AED_RADIUS_M", gt=0, le=5000)
    incident_expire_s: int = Field(3 * 3600, alias="INCIDENT_EXPIRE_SECONDS", ge=1)
    notice_lease_s: int = Field(20, alias="NOTICE_LEASE_SECONDS", ge=1)
    # Credit points per (incident, responder, reason), as JSON: {"arrived": 10, ...}
    credit_points: dict[str, int] = Field(
        default_factory=lambda: {
            "accepted": 5,
            "arrived": 10,
            "cpr_started": 20,
            "aed_attached": 20,
            "shock_delivered": 10,
        },
        alias="CREDIT_POINTS",
    )

    # Exams: the pass mark of each rubric skill, 0..100, as JSON ({"cpr": 80, ...}; all six skills). The
    # figures are this deployment's choice, set by the training centre, not quoted from a Red Cross rule.
    pass_marks: dict[str, int] = Field(
        default_factory=lambda: {
            "cpr": 80,
            "aed": 80,
            "bleeding_control": 60,
            "bandaging": 60,
            "fixation": 60,
            "carrying": 60,
        },
        alias="PASS_MARKS",
    )
    certificate_valid_years: int = Field(3, alias="CERTIFICATE_VALID_YEARS", ge=1, le=10)
    # Where a certificate's QR code points, "{certificate_no}" filled in (e.g. a public verification page);
    # empty: the API's own GET /v1/certificates/{certificate_no}, at the host the request came to.
    certificate_verify_url: str = Field("", alias="CERTIFICATE_VERIFY_URL")

    @classmethod
    def from_environ(cls) -> Settings:
        # Fall back to AWS_DEFAULT_REGION, which tools set when AWS_REGION (set by Lambda) is absent.
        env = dict(os.environ)
        if "AWS_REGION" not in env and "AWS_DEFAULT_REGION" in env:
            env["AWS_REGION"] = env["AWS_DEFAULT_REGION"]
        values: dict[str, object] = {k: v for k, v in env.items() if k.isupper()}
        for name in ("CREDIT_POINTS", "PUSH_APPLICATIONS", "PASS_MARKS"):
            if isinstance(values.get(name), str):
                values[name] = json.loads(str(values[name]) or "{}")
        return cls.model_validate(values)


@lru_cache(maxsize=1)
def settings() -> Settings:
    return Settings.from_environ()
