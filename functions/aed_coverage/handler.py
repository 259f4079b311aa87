"""AED coverage for planners: the share of an area within 100 m and 300 m of an AED usable and open at
an hour of the week. Its own function: CPU-heavy, reading the usable-AED index only."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Query

from shared import wiring
from shared.api.aed_coverage import CoverageBody, CoverageOut, WeekCoverageBody, WeekCoverageOut
from shared.api.http import ERROR_RESPONSES, create_app, entry_point
from shared.config import settings
from shared.errors import ValidationFailed
from shared.logic import aed_coverage as logic

app = create_app()
config = settings()

BboxQ = Annotated[
    str,
    Query(
        pattern=r"^\s*-?[0-9.]+\s*,\s*-?[0-9.]+\s*,\s*-?[0-9.]+\s*,\s*-?[0-9.]+\s*$",
        description="minLng,minLat,maxLng,maxLat; at most 1 degree a side",
    ),
]
DayQ = Annotated[str, Query(pattern="^(Mo|Tu|We|Th|Fr|Sa|Su)$", description="Mo, Tu, We, Th, Fr, Sa or Su")]
HourQ = Annotated[int, Query(ge=0, le=23, description="local hour, 0-23 (evaluated at HH:00)")]
GridQ = Annotated[float, Query(ge=10, le=5000, allow_inf_nan=False, description="grid spacing in metres")]


def _out(result: logic.Coverage) -> CoverageOut:
    return CoverageOut(
        sample_points=result.sample_points,
        within_100m=round(result.within_100m, 4),
        within_300m=round(result.within_300m, 4),
        usable_aeds=result.usable_aeds,
        day=result.day,
        hour=result.hour,
        grid_m=result.grid_m,
        evaluated_at=result.evaluated_at,
    )


@app.get("/v1/aeds/coverage", responses=ERROR_RESPONSES)
def coverage_of_box(bbox: BboxQ, day: DayQ, hour: HourQ, grid_m: GridQ = 50) -> CoverageOut:
    try:
        min_lng, min_lat, max_lng, max_lat = (float(x) for x in bbox.split(","))
    except ValueError as error:
        raise ValidationFailed("bbox: four numbers, minLng,minLat,maxLng,maxLat") from error
    area = logic.area_from_bbox(min_lng, min_lat, max_lng, max_lat)
    return _out(
        logic.coverage(
            wiring.geo_index(),
            area,
            day=day,
            hour=hour,
            grid_m=grid_m,
            now=datetime.now(UTC),
            time_zone=config.time_zone,
        )
    )


@app.post("/v1/aeds/coverage", responses=ERROR_RESPONSES)
def coverage_of_area(body: CoverageBody) -> CoverageOut:
    area = logic.area_from_geojson(body.area)
    return _out(
        logic.coverage(
            wiring.geo_index(),
            area,
            day=body.day,
            hour=body.hour,
            grid_m=body.grid_m,
            now=datetime.now(UTC),
            time_zone=config.time_zone,
        )
    )


@app.post("/v1/aeds/coverage/week", responses=ERROR_RESPONSES)
def coverage_week(body: WeekCoverageBody) -> WeekCoverageOut:
    """The cockpit's heat map: coverage at each of the week's 168 hours, in one request."""
    week = logic.coverage_week(
        wiring.geo_index(),
        logic.area_from_geojson(body.area),
        grid_m=body.grid_m,
        now=datetime.now(UTC),
        time_zone=config.time_zone,
    )
    return WeekCoverageOut(
        hours=[[round(x, 4) for x in day] for day in week.within_300m],
        within_100m=[[round(x, 4) for x in day] for day in week.within_100m],
        usable_aeds=week.usable_aeds,
        sample_points=week.sample_points,
        grid_m=week.grid_m,
        week_of=week.week_of,
    )


lambda_handler = entry_point(app)
