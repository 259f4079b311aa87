"""Bodies of the AED coverage routes: the share of an area near an AED usable and open at an hour."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, Strict

from shared.api.fields import Body

Weekday = Literal["Mo", "Tu", "We", "Th", "Fr", "Sa", "Su"]


Hour = Annotated[int, Strict(), Field(ge=0, le=23, description="local hour, 0-23 (evaluated at HH:00)")]


GridM = Annotated[
    float, Strict(), Field(ge=10, le=5000, allow_inf_nan=False, description="grid spacing in metres")
]


class CoverageBody(Body):
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


WeekGridM = Annotated[
    float, Strict(), Field(ge=50, le=5000, allow_inf_nan=False, description="grid spacing in metres")
]


class WeekCoverageBody(Body):
    area: dict[str, Any] = Field(
        description="GeoJSON Polygon or MultiPolygon geometry (WGS-84), e.g. a district"
    )
    grid_m: WeekGridM = 100


class WeekCoverageOut(BaseModel):
    hours: list[list[float]] = Field(
        description="Share within 300 m of a usable, open AED: 7 rows (Mo..Su) of 24 hours (0..23 local)"
    )
    within_100m: list[list[float]] = Field(description="Share within 100 m, the same shape")
    usable_aeds: list[list[int]] = Field(description="AEDs usable and open at each hour, the same shape")
    sample_points: int
    grid_m: float
    week_of: date = Field(
        description="Today (local): each hour is evaluated at its next occurrence from now, as GET/POST "
        "/v1/aeds/coverage evaluate one"
    )
