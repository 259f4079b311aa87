"""Bodies of AED fault reports, their resolution, and restock after use."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field, Strict, StringConstraints

from shared.api.fields import Body
from shared.api.rescue import AedAssignment

ReportKind = Literal["locked", "missing", "broken", "wrong_location"]
PhotoType = Literal["image/jpeg", "image/png", "image/heic", "image/webp"]
Note = Annotated[str, Strict(), StringConstraints(strip_whitespace=True, max_length=500)]
AedIdText = Annotated[str, Strict(), StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]


class NewReportBody(Body):
    kind: ReportKind
    note: Note | None = None
    photo_content_type: PhotoType | None = Field(
        None, description="Ask for a presigned upload of one photo of this type"
    )


class RescueReportBody(NewReportBody):
    aed_id: AedIdText


class PhotoUploadOut(BaseModel):
    """POST the form ``fields`` and then the photo as the field ``file`` (multipart) to ``url``."""

    url: str
    fields: dict[str, str]
    expires_at: datetime
    max_bytes: int


class ReportOut(BaseModel):
    report_id: str
    aed_id: str
    kind: str
    state: Literal["open", "confirmed", "cleared"]
    created_at: datetime
    note: str | None = None
    incident_id: str | None = None
    suspends: bool = Field(description="Made inside a rescue: the AED is out of search until resolved")
    reporter: str | None = None
    reporter_role: str | None = None
    photo_url: str | None = Field(
        None, description="Presigned, short-lived; present when a photo was asked for"
    )
    resolved_at: datetime | None = None
    resolved_by: str | None = None
    resolution_note: str | None = None


class ReportCreated(BaseModel):
    report_id: str
    state: str
    upload: PhotoUploadOut | None = None


class RescueReportCreated(ReportCreated):
    role: Literal["cpr", "aed"] | None = Field(None, description="Your role now (after any re-route)")
    aed: AedAssignment | None = Field(None, description="The AED to fetch now, if any")
    rerouted: int = Field(description="AED runners sent to another AED, or to CPR")


class ReportPage(BaseModel):
    items: list[ReportOut]
    next_token: str | None = None


class ResolutionBody(Body):
    decision: Literal["confirmed", "cleared"]
    note: Note | None = None


class ResolutionOut(BaseModel):
    report: ReportOut
    aed_status: str
    aed_searchable: bool


class RestockBody(Body):
    pads_replaced: Literal[True] = Field(description="Confirms new pads are fitted (must be true)")
    pads_expire_on: date
    battery_expires_on: date | None = None
