"""Bodies of the credits exports to the provincial public-credit platform and of the annual nominations."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field, Strict, StringConstraints

from shared.api.fields import Body

Period = Annotated[
    str,
    Strict(),
    StringConstraints(strip_whitespace=True, min_length=4, max_length=7),
    Field(description="YYYY-MM (a month) or YYYY (a year), local months (deployment time zone)"),
]


class ExportBody(Body):
    period: Period


class ExportFileOut(BaseModel):
    name: Literal["credits.jsonl", "credits.csv"]
    key: str = Field(description="its S3 key in the exports bucket; the signature's is key + .sig")
    media_type: str
    bytes: int
    sha256: str = Field(description="hex SHA-256 of the file's exact bytes")
    signature: str = Field(description="base64 of the detached ed25519 signature of the file's exact bytes")
    url: str = Field(description="the file, a presigned GET valid 15 minutes")
    signature_url: str = Field(description="the raw 64-byte signature (<name>.sig), a presigned GET")


class ExportCounts(BaseModel):
    listed: int = Field(description="credits in the files")
    points: int
    excluded_revoked: int = Field(
        description="earned at or after their certificate's revocation: never exported"
    )
    already_exported: int = Field(description="listed by an earlier export: not again")
    held_elsewhere: int = Field(description="claimed by an export still running: that one lists them")


class ExportOut(BaseModel):
    export_id: str
    period: str
    status: Literal["building", "ready", "failed", "abandoned"]
    created_at: datetime
    created_by: str
    finished_at: datetime | None = None
    counts: ExportCounts
    key_id: str | None = Field(None, description="ed25519:<first 16 hex of SHA-256 of the raw public key>")
    public_key: str | None = Field(None, description="the verifying key, PEM (SubjectPublicKeyInfo)")
    files: list[ExportFileOut]


class ExportPage(BaseModel):
    items: list[ExportOut]
    next_token: str | None = Field(None, description="absent on the last page")


class NomineeOut(BaseModel):
    rank: int = Field(description="equal rescues, ROSC rescues, AED rescues and points share a rank")
    responder_id: str
    certificate_no: str
    name: str = Field(description="masked: 张*明")
    rescues: int = Field(description="incidents with an AED this responder attached, or closed with ROSC")
    aed_rescues: int
    rosc_rescues: int
    points: int = Field(description="all their points of the year")


class Nominations(BaseModel):
    year: str
    items: list[NomineeOut]
