"""The credits leaderboard through the real handlers on the embedded AWS: only responders who opted in
appear, ranked by the points their rescues earned in the period (credits written by the rescue's close),
an opt-out removes them at once, names are masked unless chosen, and the routes' roles hold."""

from __future__ import annotations

from datetime import UTC, date, datetime

from ulid import ULID

from shared.dal.rescue import DynamoIncidents
from shared.dal.responders import DynamoResponders
from shared.logic.ports import Responder
from shared.logic.rescue.ports import Award, Incident

# Mid-December 2026 in UTC; 2026-12-31T17:00Z is already January 2027 in Hangzhou (UTC+8).
DECEMBER = datetime(2026, 12, 10, 4, 0, tzinfo=UTC)
NEW_YEAR_LOCAL = datetime(2026, 12, 31, 17, 0, tzinfo=UTC)
SIGNED_IN = {"sub": "viewer-1"}


def responder(responder_id: str, name: str) -> None:
    DynamoResponders().create(
        Responder(responder_id, name, "+8613800000000", f"RN-2026-{responder_id}", date(2029, 1, 1), DECEMBER)
    )


def rescue(at: datetime, awards: dict[str, list[tuple[str, int]]]) -> None:
    """A closed incident whose close awarded these points (as shared.logic.rescue.closure does)."""
    incidents = DynamoIncidents()
    incident = Incident(str(ULID()), "closed", 30.259, 120.165, at, 2, 1)
    incidents.create(incident, None, "body")
    given = [Award(r, reason, points) for r, items in awards.items() for reason, points in items]
    assert incidents.award(incident.incident_id, given, at)


def opt(api, responder_id: str, opt_in: bool, display_name: str | None = None):
    body: dict[str, object] = {"opt_in": opt_in}
    if display_name is not None:
        body["display_name"] = display_name
    return api("PUT", f"/v1/responders/{responder_id}/leaderboard", body, sub=responder_id)


def board(api, period: str, **query):
    reply = api("GET", "/v1/credits/leaderboard", query={"period": period, **query}, **SIGNED_IN)
    assert reply.status == 200, reply.body
    return reply.body


def test_only_those_who_opted_in_appear_ranked_by_points_and_an_opt_out_is_immediate(api):
    for rid, name in (("r-zhang", "张三明"), ("r-li", "李四"), ("r-smith", "John Smith"), ("r-wang", "王五")):
        responder(rid, name)
    rescue(DECEMBER, {"r-zhang": [("arrived", 10), ("cpr_started", 20)], "r-li": [("arrived", 10)]})
    rescue(DECEMBER, {"r-li": [("arrived", 10), ("aed_attached", 30)], "r-wang": [("arrived", 10)]})
    rescue(DECEMBER, {"r-smith": [("arrived", 10)], "r-wang": [("cpr_started", 20), ("aed_attached", 30)]})
    rescue(NEW_YEAR_LOCAL, {"r-zhang": [("arrived", 10)]})  # January 2027 in Hangzhou's time

    # Nobody chose yet: nobody appears, whatever their points.
    assert board(api, "2026-12")["items"] == []
    assert opt(api, "r-zhang", True).body == {"opt_in": True, "display_name": "张*明"}
    assert opt(api, "r-li", True, "西湖李").body == {"opt_in": True, "display_name": "西湖李"}
    assert opt(api, "r-smith", True).body == {"opt_in": True, "display_name": "J*** S."}
    # r-wang (the most points: 60) never opts in.
    december = board(api, "2026-12")
    assert december == {
        "period": "2026-12",
        "items": [
            {"rank": 1, "display_name": "西湖李", "points": 50, "rescues": 2},
            {"rank": 2, "display_name": "张*明", "points": 30, "rescues": 1},
            {"rank": 3, "display_name": "J*** S.", "points": 10, "rescues": 1},
        ],
    }
    assert all("王" not in item["display_name"] for item in december["items"])
    # The local month: the credit at 17:00 UTC on 31 December counts in January.
    assert board(api, "2027-01")["items"] == [
        {"rank": 1, "display_name": "张*明", "points": 10, "rescues": 1}
    ]
    assert [i["points"] for i in board(api, "2026")["items"]] == [50, 30, 10]
    assert [i["display_name"] for i in board(api, "2026-12", limit=2)["items"]] == ["西湖李", "张*明"]

    # A PUT replaces the choice: without a display name, the masked one.
    assert opt(api, "r-li", False).body == {"opt_in": False, "display_name": "李*"}
    assert [i["display_name"] for i in board(api, "2026-12")["items"]] == ["张*明", "J*** S."]
    assert [i["rank"] for i in board(api, "2026-12")["items"]] == [1, 2]


def test_equal_scores_share_a_rank(api):
    for rid, name in (("a", "甲乙丙"), ("b", "丁戊己"), ("c", "庚辛壬")):
        responder(rid, name)
        opt(api, rid, True)
    rescue(DECEMBER, {"a": [("arrived", 10)], "b": [("arrived", 10)], "c": [("arrived", 5)]})
    assert [(i["rank"], i["points"]) for i in board(api, "2026-12")["items"]] == [(1, 10), (1, 10), (3, 5)]


def test_only_the_responder_chooses_and_names_are_checked(api):
    responder("r-1", "张三明")
    body = {"opt_in": True}
    assert api("PUT", "/v1/responders/r-1/leaderboard", body).status == 401
    assert api("PUT", "/v1/responders/r-1/leaderboard", body, sub="r-2").status == 404  # not theirs to see
    assert api("PUT", "/v1/responders/r-1/leaderboard", body, sub="admin-1", roles=("admin",)).status == 403
    assert api("PUT", "/v1/responders/nobody/leaderboard", body, sub="nobody").status == 404
    assert opt(api, "r-1", True, "x" * 21).status == 422
    phone = opt(api, "r-1", True, "救 13800138000")
    assert phone.status == 422 and phone.body["error"]["code"]
    assert opt(api, "r-1", True, "a\u0000b").status == 422
    assert api("PUT", "/v1/responders/r-1/leaderboard", {"opt_in": "yes"}, sub="r-1").status == 422
    assert opt(api, "r-1", True, "  西湖  救护员 ").body["display_name"] == "西湖 救护员"


def test_the_board_needs_a_signed_in_caller_and_a_period(api):
    assert api("GET", "/v1/credits/leaderboard", query={"period": "2026-12"}).status == 401
    for period in ("2026-13", "26-12", "2026-1", "", "1999"):
        assert api("GET", "/v1/credits/leaderboard", query={"period": period}, **SIGNED_IN).status == 422
    assert (
        api("GET", "/v1/credits/leaderboard", query={"period": "2026", "limit": 101}, **SIGNED_IN).status
        == 422
    )
    assert board(api, "2026") == {"period": "2026", "items": []}
