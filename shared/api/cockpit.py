"""Bodies of the cockpit's rescue figures, districts and responders on duty (docs/cockpit.md)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from pydantic import BaseModel, Field, Strict, StringConstraints

from shared.api.fields import Body, OptionalText

Name = Annotated[str, Strict(), StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


class DistrictBody(Body):
    name: Name = Field(description="The district's name, e.g. 西湖区")
    name_en: Name | None = Field(default=None, description="Its English name, e.g. West Lake")
    area: dict[str, Any] = Field(description="GeoJSON Polygon or MultiPolygon geometry (WGS-84)")
    note: OptionalText = Field(default=None, description="e.g. where the boundary comes from")


class DistrictOut(BaseModel):
    district_id: str
    name: str
    name_en: str | None = None
    area: dict[str, Any]
    note: str | None = None


class DistrictList(BaseModel):
    items: list[DistrictOut]


class BySource(BaseModel):
    app: int = Field(description="raised by an SOS from the app")
    dispatch: int = Field(description="raised by a 120 dispatch centre")
    console: int = Field(description="raised by a dispatcher on the console, for a caller")


class Outcomes(BaseModel):
    rosc: int
    transported: int
    deceased: int
    false_alarm: int
    cancelled: int
    expired: int


class Times(BaseModel):
    first_accept: float | None = Field(description="median seconds from the first alert to the first accept")
    first_arrival: float | None = Field(
        description="median seconds from the first alert to the first arrival"
    )
    aed_attached: float | None = Field(description="median seconds from the first alert to an AED attached")


class Measured(BaseModel):
    first_accept: int = Field(description="incidents the median is over")
    first_arrival: int
    aed_attached: int


class RescueFigures(BaseModel):
    from_: date = Field(alias="from", serialization_alias="from")
    to: date
    district: str | None = None
    incidents: int = Field(
        description="incidents created in the period (a merged SOS counts in its incident)"
    )
    by_source: BySource
    alerted: int = Field(description="alerts sent: responders alerted, summed over the incidents")
    accepted: int
    acceptance_rate: float | None = Field(description="accepted / alerted; null when nobody was alerted")
    unanswered: int = Field(description="incidents whose last wave ended with a slot open")
    open: int = Field(description="incidents not closed yet")
    outcomes: Outcomes
    median_s: Times
    measured: Measured

    model_config = {"populate_by_name": True}


class OnDutyCell(BaseModel):
    geohash: str
    bounds: list[float] = Field(description="[minLng, minLat, maxLng, maxLat], WGS-84")
    count: int


class OnDuty(BaseModel):
    precision: int = Field(description="geohash precision of the cells")
    min_count: int = Field(description="a cell is shown only when it holds at least this many")
    cells: list[OnDutyCell]
    cells_hidden: int = Field(description="cells holding 1 to min_count - 1, not shown")
    total: int | None = Field(description="everyone on duty in the district; null when under min_count")
