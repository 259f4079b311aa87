"""Bodies of the AED upkeep and coverage routes (the OpenAPI document is generated from these)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, Strict, StringConstraints

from shared.api.fields import Body

CheckResult = Literal["pass", "fail"]


class InspectionChecks(BaseModel):
    model_config = ConfigDict(extra="forbid")

    self_test_light: CheckResult
    pads_sealed_in_date: CheckResult
    battery: CheckResult
    cabinet: CheckResult
    signage: CheckResult


class InspectionBody(Body):
    inspected_on: date | None = Field(None, description="Default: today in the deployment's time zone")
    checks: InspectionChecks
    pads_expire_on: date | None = Field(None, description="The date on the new or checked pads")
    battery_expires_on: date | None = None
    note: Annotated[str, Strict(), StringConstraints(strip_whitespace=True, max_length=1000)] | None = None


class InspectionOut(BaseModel):
    inspection_id: str
    aed_id: str
    inspected_on: date
    inspector: str
    recorded_at: datetime
    checks: dict[str, str]
    failed: list[str]
    pads_expire_on: date | None = None
    battery_expires_on: date | None = None
    note: str | None = None


class InspectionRecorded(InspectionOut):
    aed_status: str = Field(description="The AED's status after the inspection (a failed check: faulty)")
    aed_fault: str | None = None


class Inspections(BaseModel):
    items: list[InspectionOut]
    next_token: str | None = None


class ExpiryOut(BaseModel):
    part: Literal["pads", "battery"]
    on: date


class UpkeepOut(BaseModel):
    next_expiry: ExpiryOut | None = Field(description="The earliest pads or battery expiry, past or not")
    expired: list[str] = Field(description="Parts whose expiry date is past")
    inspection_due_on: date
    inspection_overdue: bool
