"""The credits leaderboard: a responder's opt-in, and the board of a month or a year (opted-in only)."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Path, Query

from shared import wiring
from shared.api.credits import Leaderboard, LeaderboardEntryBody, LeaderboardEntryOut, LeaderboardRow
from shared.api.http import ERROR_RESPONSES, create_app, current_caller, entry_point
from shared.logic import credits as logic

app = create_app()

ResponderId = Annotated[str, Path(min_length=1, max_length=128)]
PeriodQ = Annotated[str, Query(pattern=r"^\d{4}(-\d{2})?$", description="YYYY-MM (a month) or YYYY (a year)")]
BoardLimitQ = Annotated[int, Query(ge=1, le=logic.MAX_LIMIT, description="at most 100")]


@app.put("/v1/responders/<responder_id>/leaderboard", responses=ERROR_RESPONSES)
def put_entry(responder_id: ResponderId, body: LeaderboardEntryBody) -> LeaderboardEntryOut:
    entry, shown = logic.set_entry(
        wiring.leaderboard(), current_caller(app), responder_id, body.opt_in, body.display_name
    )
    return LeaderboardEntryOut(opt_in=entry.opt_in, display_name=shown)


@app.get("/v1/credits/leaderboard", responses=ERROR_RESPONSES)
def board(period: PeriodQ, limit: BoardLimitQ = logic.DEFAULT_LIMIT) -> Leaderboard:
    rows = logic.leaderboard(wiring.leaderboard(), period, limit)
    return Leaderboard(
        period=period,
        items=[
            LeaderboardRow(rank=r.rank, display_name=r.display_name, points=r.points, rescues=r.rescues)
            for r in rows
        ],
    )


lambda_handler = entry_point(app)
