"""Bodies of the debrief after a rescue: the responder's answers, their view, the admins' call-back list."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field, Strict, StringConstraints

from shared.api.fields import Body
from shared.logic import debriefs as logic

Action = Literal[
    "arrived",
    "cpr",
    "fetched_aed",
    "attached_aed",
    "shock_delivered",
    "supported_others",
    "handed_over_to_ems",
    "did_not_reach_patient",
]
Answer = Annotated[int, Strict(), Field(ge=logic.ANSWER_MIN, le=logic.ANSWER_MAX)]


class DebriefBody(Body):
    did: Annotated[
        list[Action],
        Field(
            min_length=1, max_length=len(logic.ACTIONS), description="What you did: at least one, none twice"
        ),
    ]
    ies6: Annotated[
        list[Answer],
        Field(
            min_length=len(logic.SCALE_ITEMS),
            max_length=len(logic.SCALE_ITEMS),
            description=(
                "The IES-6 (Thoresen et al. 2010): one answer per item of `scale.items` in its order, "
                "each an integer 0 (not at all) to 4 (extremely): how much it distressed or bothered you "
                "since the rescue"
            ),
        ),
    ]
    call_me: Annotated[bool, Strict(), Field(description="I would like someone to call me")]
    note: (
        Annotated[str, Strict(), StringConstraints(strip_whitespace=True, max_length=logic.NOTE_MAX)] | None
    ) = Field(
        default=None, description="Anything else you want to tell (seen by you and the admins who call)"
    )


class ScaleItemOut(BaseModel):
    item_id: str = Field(description="Its number in the IES-R")
    en: str
    zh: str


class ScaleOut(BaseModel):
    name: str = Field(description="IES-6")
    source: str
    answers: list[str] = Field(description="The labels of 0..4")
    items: list[ScaleItemOut]
    cut_off: int = Field(description="A sum at or above it asks for a call")


class SharedOutcome(BaseModel):
    outcome: Literal["rosc", "transported"]
    en: str
    zh: str


class DebriefOut(BaseModel):
    incident_id: str
    responder_id: str
    status: Literal["invited", "open", "submitted"] = Field(
        description="invited: the invitation went, no answers yet; open: no invitation yet (it follows the "
        "close within moments); submitted: answered"
    )
    invited_at: datetime | None = None
    submitted_at: datetime | None = None
    did: list[str] | None = None
    note: str | None = None
    ies6: list[int] | None = None
    score: int | None = Field(default=None, description="The IES-6 sum, 0-24")
    band: Literal["below_cut_off", "at_or_above_cut_off"] | None = None
    call_me: bool = False
    needs_call: bool = Field(
        default=False, description="Asked for a call, or the score at or above the cut-off"
    )
    call_done: bool = Field(default=False, description="Someone called (who is not shown)")
    shared_outcome: SharedOutcome | None = Field(
        default=None, description="Only when the incident closed with rosc or transported: nothing else"
    )
    scale: ScaleOut


class CallRequestOut(BaseModel):
    incident_id: str
    responder_id: str
    name: str | None = Field(description="None when the responder's record is gone")
    phone: str | None
    asked_at: datetime = Field(description="When the debrief was submitted")
    score: int | None
    band: Literal["below_cut_off", "at_or_above_cut_off"] | None
    call_me: bool = Field(description="The responder asked; false: the score alone put them on the list")
    note: str | None = Field(default=None, description="What the responder wrote, if anything")


class CallRequestList(BaseModel):
    items: list[CallRequestOut]
    next_token: str | None = None


class CallDoneBody(Body):
    """``{}``: the call is marked done by the admin who sends it, now (nothing else is recorded)."""


class CallDoneOut(BaseModel):
    incident_id: str
    responder_id: str
    call_done_at: datetime
    call_done_by: str
