"""Bodies of the AED upkeep and coverage routes (the OpenAPI document is generated from these)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, Strict, StringConstraints

from shared.api.schemas import AedOut

CheckResult = Literal["pass", "fail"]
Weekday = Literal["Mo", "Tu", "We", "Th", "Fr", "Sa", "Su"]
Hour = Annotated[int, Strict(), Field(ge=0, le=23, description="local hour, 0-23 (evaluated at HH:00)")]
GridM = Annotated[
    float, Strict(), Field(ge=10, le=5000, allow_inf_nan=False, description="grid spacing in metres")
]


class _Body(BaseModel):
    model_config = ConfigDict(extra="ignore")


class InspectionChecks(BaseModel):
    model_config = ConfigDict(extra="forbid")

    self_test_light: CheckResult
    pads_sealed_in_date: CheckResult
    battery: CheckResult
    cabinet: CheckResult
    signage: CheckResult


class InspectionBody(_Body):
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


class AedDetail(AedOut):
    upkeep: UpkeepOut


class CoverageBody(_Body):
    area: dict[str, Any] = Field(
        description="GeoJSON Polygon or MultiPolygon geometry (WGS-84), e.g. a district"
    )
    day: Weekday
    hour: Hour
    grid_m: GridM = 50


class CoverageOut(BaseModel):
    sample_points: int
    within_100m: float = Field(description="Share (0..1) of sample points within 100 m of a usable, open AED")
    within_300m: float = Field(description="Share within 300 m, about a 4-minute walk")
    usable_aeds: int = Field(description="AEDs with status ok and open then, in the area and 300 m around it")
    day: str
    hour: int
    grid_m: float
    evaluated_at: datetime = Field(description="The next such weekday and hour, HH:00 local time")
