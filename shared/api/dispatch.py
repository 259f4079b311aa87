"""Bodies of the 120 link (docs/dispatch.md): a centre's registration, and what a centre's CAD system
sends, signed (an incident, an update), with the Standard Webhooks headers as the document shows them."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler.openapi.params import Header, Path
from pydantic import AwareDatetime, BaseModel, Field, Strict, StringConstraints

from shared.api.fields import Body, Crs, Lat, Lng, Phone, Text
from shared.api.plain import LAT_BOUNDS, LNG_BOUNDS, NOTE_MAX_LENGTH

# A centre's id and a CAD number travel in paths: letters, digits and a few separators only.
CENTRE_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$"
CAD_NO_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$"

CentreIdPath = Annotated[
    str, Path(pattern=CENTRE_ID_PATTERN, description="the centre's id, chosen at registration (e.g. hz120)")
]
# The signed routes take their path parameters as sent: a malformed one is an unknown centre (401) or an
# unknown CAD number (404), never a 422 before the signature is checked.
SignedCentreId = Annotated[str, Path(description="the centre's id, as registered")]
SignedCadNo = Annotated[str, Path(description="the cad_incident_no the centre raised the incident with")]

WebhookId = Annotated[
    str,
    Header(
        alias="webhook-id",
        description="Unique per message, the same on each retry of it: a repeat acts once",
    ),
]
WebhookTimestamp = Annotated[
    str, Header(alias="webhook-timestamp", description="Unix seconds; more than 5 minutes from now: 401")
]
WebhookSignature = Annotated[
    str,
    Header(
        alias="webhook-signature",
        description=(
            'v1,<base64 HMAC-SHA256 of "<webhook-id>.<webhook-timestamp>.<raw body>"> keyed by the secret '
            "after its whsec_ prefix, base64-decoded; several space-separated during a rotation"
        ),
    ),
]

Longitude = Annotated[float, Strict(), Field(ge=LNG_BOUNDS[0], le=LNG_BOUNDS[1], allow_inf_nan=False)]
Latitude = Annotated[float, Strict(), Field(ge=LAT_BOUNDS[0], le=LAT_BOUNDS[1], allow_inf_nan=False)]


class CentreBody(Body):
    name: Text
    callback_url: Annotated[
        str,
        Strict(),
        StringConstraints(strip_whitespace=True, min_length=1, max_length=2048),
        Field(description="Where the platform posts the centre's status webhooks: https://"),
    ]
    area: Annotated[
        tuple[Longitude, Latitude, Longitude, Latitude],
        Field(description="The centre's service area, WGS-84: [minLng, minLat, maxLng, maxLat]"),
    ]


class CentreOut(BaseModel):
    centre_id: str
    name: str
    callback_url: str
    area: list[float]
    created_at: datetime
    updated_at: datetime
    secret: str | None = Field(
        None,
        description=(
            "The signing secret (whsec_ + base64 of 32 bytes): only in the answer that issued it, the first "
            "registration or a rotation; null otherwise. It is never shown again"
        ),
    )
    secret_issued_at: datetime | None = None
    previous_secret_valid_until: datetime | None = Field(
        None, description="After a rotation: until then the secret before it verifies too"
    )


Note = Annotated[str, Strict(), StringConstraints(strip_whitespace=True, max_length=NOTE_MAX_LENGTH)]


class CentreIncidentBody(Body):
    cad_incident_no: Annotated[
        str,
        Strict(),
        StringConstraints(strip_whitespace=True, pattern=CAD_NO_PATTERN),
        Field(description="The centre's own number for the incident: once per centre (a repeat is the same)"),
    ]
    nature: Literal["cardiac_arrest", "suspected_cardiac_arrest", "unconscious", "other"]
    lat: Lat
    lng: Lng
    crs: Crs = None
    address: Annotated[str, Strict(), StringConstraints(strip_whitespace=True, max_length=200)] | None = None
    floor: Annotated[str, Strict(), StringConstraints(strip_whitespace=True, max_length=20)] | None = None
    callback_phone: Phone | None = None
    note: Note | None = None
    call_received_at: Annotated[AwareDatetime, Field(description="ISO 8601 with a UTC offset")] | None = None


class CentreIncidentAccepted(BaseModel):
    incident_id: str
    status: str


class CentreUpdateBody(Body):
    type: Literal["ems_arrived", "cancelled", "closed"]
    outcome: (
        Annotated[
            Literal["rosc", "transported", "deceased", "false_alarm", "cancelled"],
            Field(description="With type closed, and only then"),
        ]
        | None
    ) = None


class CentreUpdateAnswer(BaseModel):
    incident_id: str
    cad_incident_no: str
    type: str
    status: str
    outcome: str | None = None


class Delivery(BaseModel):
    delivery_id: str = Field(description="The webhook-id it is sent under, the same on every try and replay")
    incident_id: str
    type: str = Field(description="incident.created, incident.alerting, responder.accepted, ...")
    status: Literal["pending", "delivered", "failed"]
    attempts: int = Field(description="Tries since it was last due (its creation or a replay)")
    created_at: datetime
    last_attempt_at: datetime | None = None
    last_result: str | None = Field(
        None, description='How the last try went: "HTTP 503", "timed out after 5 s"...'
    )
    delivered_at: datetime | None = None
    failed_at: datetime | None = Field(None, description="When it was parked, after 24 h of failed tries")
    replays: int
    payload: dict[str, Any] = Field(description="The webhook's body as sent: {type, timestamp, data}")


class ReplayBody(Body):
    reason: Text | None = Field(None, description="Why it is sent again (kept in the function's log)")


class DeliveryList(BaseModel):
    items: list[Delivery]
    next_token: str | None = Field(None, description="Absent on the last page")
