"""Bodies of the credits leaderboard: a responder's opt-in and the board of a period."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field, Strict, StringConstraints

from shared.api.fields import Body

DisplayName = Annotated[
    str,
    Strict(),
    StringConstraints(strip_whitespace=True, min_length=1, max_length=20),
    Field(description="At most 20 characters, no phone or certificate number; omit for the masked name"),
]


class LeaderboardEntryBody(Body):
    opt_in: Annotated[bool, Strict()]
    display_name: DisplayName | None = None


class LeaderboardEntryOut(BaseModel):
    opt_in: bool
    display_name: str = Field(description="As shown on the board: the chosen name or the masked one")


class LeaderboardRow(BaseModel):
    rank: int
    display_name: str
    points: int
    rescues: int = Field(description="Incidents the points came from")


class Leaderboard(BaseModel):
    period: str
    items: list[LeaderboardRow]
