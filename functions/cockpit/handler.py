"""The Red Cross cockpit's rescue figures, districts and responders on duty (docs/cockpit.md): read from
the summaries the stream keeps (cockpit_changes), the tiny districts table and the responders' geo index."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Query

from shared import wiring
from shared.api.cockpit import DistrictBody, DistrictList, DistrictOut, OnDuty, RescueFigures
from shared.api.http import ERROR_RESPONSES, create_app, entry_point
from shared.config import settings
from shared.logic.cockpit import districts, on_duty, rescues

app = create_app()
config = settings()

DateQ = Annotated[date, Query(description="a local date (deployment time zone), YYYY-MM-DD, inclusive")]
FromQ = Annotated[date, Query(alias="from", description="the first local date, YYYY-MM-DD, inclusive")]
DistrictQ = Annotated[
    str | None, Query(min_length=1, max_length=64, description="a district_id; none: the whole city")
]


@app.put("/v1/districts/<district_id>", responses=ERROR_RESPONSES)
def put_district(district_id: str, body: DistrictBody) -> DistrictOut:
    district = districts.put_district(
        wiring.districts(),
        district_id,
        name=body.name,
        name_en=body.name_en,
        area=body.area,
        note=body.note,
        now=datetime.now(UTC),
    )
    return DistrictOut.model_validate(district.shown())


@app.get("/v1/districts", responses=ERROR_RESPONSES)
def list_districts() -> DistrictList:
    return DistrictList(
        items=[DistrictOut.model_validate(d.shown()) for d in districts.list_districts(wiring.districts())]
    )


@app.get("/v1/cockpit/rescues", responses=ERROR_RESPONSES)
def rescue_figures(from_: FromQ, to: DateQ, district: DistrictQ = None) -> RescueFigures:
    span = rescues.period(from_, to, config.time_zone)
    area = districts.district_area(wiring.districts(), district)
    found = rescues.rescue_figures(wiring.rescue_summaries(), span, area)
    return RescueFigures.model_validate({"from": from_, "to": to, "district": district, **found})


@app.get("/v1/cockpit/on-duty", responses=ERROR_RESPONSES)
def responders_on_duty(district: DistrictQ = None) -> OnDuty:
    store = wiring.districts()
    areas = (
        [districts.district_area(store, district)] if district is not None else [d.shape for d in store.all()]
    )
    return OnDuty.model_validate(
        on_duty.on_duty(
            wiring.geo_index(), wiring.responders(), [a for a in areas if a is not None], datetime.now(UTC)
        )
    )


lambda_handler = entry_point(app)
