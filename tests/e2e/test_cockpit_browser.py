"""The Red Cross cockpit (驾驶舱) in a real browser, on `make run`'s runtime with the demo city and its week
of rescue history: signed in as an admin, the last 7 days' rescue figures on the page equal the figures
computed again from the raw incidents and their timelines (tests/e2e/cockpit_expected.py), for the whole
city and for one district; the on-duty map shows no cell under 5; the training funnel and the leaderboard
show what their routes answer; a dispatcher reads it "read-only", a responder is refused; English on the
switch; on a phone the panels stack."""

from __future__ import annotations

import math
import re
import time
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import requests

from tests.e2e.cockpit_expected import expected_rescue_figures
from tests.e2e.conftest import Watched, screenshot, sign_in, token

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("browser")]
DESKTOP = {"width": 1440, "height": 900}
PHONE = {"width": 390, "height": 844}
SOURCES = {"app": "App", "dispatch": "120", "console": "调度台"}  # an incident's source as the page names it
SETTLE_S = 90  # the figures come from summaries a stream poller derives: they may trail the records a little

# What the page shows, read off its figures: the raw values (data-*) and the text a person reads.
READ_FIGURES = """() => {
  const el = (id) => document.querySelector(`[data-testid=${id}]`);
  const num = (id, key = 'value') => {
    const raw = el(id).dataset[key];
    return raw === undefined || raw === '' ? null : Number(raw);
  };
  const medians = {first_accept: 'median-first-accept', first_arrival: 'median-first-arrival',
                   aed_attached: 'median-aed-attached'};
  const entries = (f) => Object.fromEntries(Object.entries(medians).map(([k, id]) => [k, f(id)]));
  return {
    figures: {
      incidents: num('rescues-incidents'),
      by_source: Object.fromEntries(Object.entries(el('rescues-by-source').dataset)
        .filter(([key]) => key !== 'testid').map(([source, n]) => [source, Number(n)])),
      alerted: num('rescues-acceptance', 'alerted'),
      accepted: num('rescues-acceptance', 'accepted'),
      acceptance_rate: num('rescues-acceptance'),
      unanswered: num('rescues-unanswered'),
      open: num('rescues-open'),
      outcomes: Object.fromEntries([...document.querySelectorAll('[data-testid^="outcome-"]')]
        .map((li) => [li.dataset.testid.slice('outcome-'.length), Number(li.dataset.value)])),
      median_s: entries((id) => num(id, 'seconds')),
      measured: entries((id) => num(id, 'measured')),
    },
    text: {
      incidents: el('rescues-incidents').querySelector('.value').textContent,
      by_source: el('rescues-by-source').textContent,
      unanswered: el('rescues-unanswered').querySelector('.value').textContent,
      open: el('rescues-open').querySelector('.value').textContent,
      acceptance: el('rescues-acceptance').querySelector('.value').textContent,
      medians: entries((id) => el(id).querySelector('.value').textContent),
      over: entries((id) => el(id).querySelector('.sub').textContent),
      outcomes: Object.fromEntries([...document.querySelectorAll('[data-testid^="outcome-"]')]
        .map((li) => [li.dataset.testid.slice('outcome-'.length), li.querySelector('.n').textContent])),
    },
  };
}"""


def time_zone(base_url: str) -> str:
    answer = requests.get(f"{base_url}/config.json", timeout=10)
    answer.raise_for_status()
    return str(answer.json()["time_zone"])


def last_seven_days(zone: str) -> tuple[date, date]:
    today = datetime.now(ZoneInfo(zone)).date()
    return today - timedelta(days=6), today


def api_get(base_url: str, bearer: str, path: str, **query: Any) -> Any:
    answer = requests.get(
        f"{base_url}{path}", params=query, headers={"Authorization": f"Bearer {bearer}"}, timeout=60
    )
    answer.raise_for_status()
    return answer.json()


def open_cockpit(open_page: Any, roles: list[str], *, lang: str = "zh", viewport: Any = None) -> Watched:
    """The cockpit signed in with these roles; the browser's clock set to the tests' clock (which
    `--clock` may move) so that the page's "last 7 days" are the tests' too."""
    watched = open_page("/cockpit/", lang=lang, viewport=viewport or DESKTOP)
    watched.page.get_by_test_id("refusal").wait_for()  # not signed in yet: no period chosen so far
    watched.page.clock.install(time=datetime.now(UTC))
    sign_in(watched, f"{roles[0]}-cockpit", roles)
    return watched


def wait_ready(watched: Watched) -> None:
    watched.page.wait_for_selector("[data-testid=cockpit][data-state=ready]", timeout=60_000)


def min_sec(seconds: float) -> str:
    whole = math.floor(seconds + 0.5)  # half up, as the page rounds
    return f"{whole // 60}:{whole % 60:02d}"


def shown_equals_recomputed(
    watched: Watched, base_url: str, bearer: str, first: date, last: date, area: Any
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(what the page shows, the figures recomputed from the raw records) once both agree and the
    records held still while the page loaded; the last pair at the deadline otherwise."""
    deadline = time.monotonic() + SETTLE_S
    while True:
        before = expected_rescue_figures(base_url, bearer, first, last, area)
        watched.page.get_by_test_id("apply").click()
        wait_ready(watched)
        shown = watched.page.evaluate(READ_FIGURES)
        after = expected_rescue_figures(base_url, bearer, first, last, area)
        figures = {key: shown["figures"][key] for key in after}
        if (before == after and figures == after) or time.monotonic() > deadline:
            return shown, after


def assert_rescue_figures(shown: dict[str, Any], expected: dict[str, Any]) -> None:
    assert {key: shown["figures"][key] for key in expected} == expected
    text = shown["text"]
    assert text["incidents"] == str(expected["incidents"])
    assert text["by_source"].split(" · ") == [
        f"{SOURCES[source]} {n}" for source, n in expected["by_source"].items()
    ]
    assert text["unanswered"] == str(expected["unanswered"])
    assert text["open"] == str(expected["open"])
    rate = expected["acceptance_rate"]
    assert text["acceptance"] == ("–" if rate is None else f"{rate * 100:.1f}".removesuffix(".0") + "%")
    for name, seconds in expected["median_s"].items():
        assert text["medians"][name] == ("–" if seconds is None else min_sec(seconds)), name
        if seconds is not None:
            assert str(expected["measured"][name]) in text["over"][name], name
    assert text["outcomes"] == {k: str(v) for k, v in expected["outcomes"].items()}


def assert_on_duty_cells(watched: Watched, base_url: str, bearer: str, district: str | None) -> None:
    """Every cell drawn holds at least 5, and the map draws the cells the route answers (held still)."""
    page = watched.page
    deadline = time.monotonic() + SETTLE_S
    query = {"district": district} if district else {}
    while True:
        answer = api_get(base_url, bearer, "/v1/cockpit/on-duty", **query)
        drawn = page.evaluate(
            "() => [...document.querySelectorAll('[data-testid=on-duty-cell]')]"
            ".map((c) => [c.dataset.geohash, Number(c.dataset.count), c.textContent])"
        )
        listed = {c["geohash"]: c["count"] for c in answer["cells"]}
        if {g: n for g, n, _ in drawn} == listed or time.monotonic() > deadline:
            break
        page.get_by_test_id("apply").click()
        wait_ready(watched)
    assert answer["min_count"] == 5
    assert all(n >= 5 and text == str(n) for _, n, text in drawn), drawn
    assert {g: n for g, n, _ in drawn} == listed
    rule = page.get_by_test_id("on-duty-rule").inner_text()
    assert "5" in rule
    if answer["cells_hidden"]:
        assert str(answer["cells_hidden"]) in page.get_by_test_id("on-duty-hidden").inner_text()


def test_admin_sees_the_weeks_figures_as_the_raw_records_give_them(open_page: Any, web_platform: str) -> None:
    zone = time_zone(web_platform)
    first, last = last_seven_days(zone)
    bearer = token(web_platform, "cockpit-check", ["admin"])
    watched = open_cockpit(open_page, ["admin"])
    page = watched.page
    wait_ready(watched)

    # The period opens on the last 7 days in the deployment's time zone; "最近7天" chooses them again.
    assert page.get_by_test_id("period-from").input_value() == first.isoformat()
    assert page.get_by_test_id("period-to").input_value() == last.isoformat()
    page.get_by_test_id("period-last7").click()
    wait_ready(watched)
    assert page.get_by_test_id("read-only").is_hidden()

    # The whole city
    shown, expected = shown_equals_recomputed(watched, web_platform, bearer, first, last, None)
    assert expected["incidents"] > 0, "the demo seeds a week of rescues"
    assert_rescue_figures(shown, expected)
    city_incidents = expected["incidents"]
    assert_on_duty_cells(watched, web_platform, bearer, None)

    # The training funnel's five numbers and the expiring certificates, as the route answers them
    training = api_get(
        web_platform, bearer, "/v1/cockpit/training", **{"from": first.isoformat(), "to": last.isoformat()}
    )
    for step, value in training["funnel"].items():
        item = page.get_by_test_id(f"funnel-{step.replace('_', '-')}")
        assert item.get_attribute("data-value") == str(value), step
        assert item.locator(".n").inner_text() == str(value), step
    expiring = page.get_by_test_id("certificates-expiring")
    assert expiring.get_attribute("data-within30") == str(training["certificates_expiring"]["within_30_days"])
    assert expiring.get_attribute("data-within60") == str(training["certificates_expiring"]["within_60_days"])
    assert page.get_by_test_id("session-row").count() == len(training["sessions"])

    # The leaderboard lists what the route lists, nobody else
    period = page.get_by_test_id("leaderboard-period").input_value()
    assert period == last.isoformat()[:7]
    board = api_get(web_platform, bearer, "/v1/credits/leaderboard", period=period)["items"]
    if last.day > 1:  # on a month's first day its credits may be only hours old: the board may be empty
        assert board, "the demo opts some of this month's credit holders in"
    rows = page.get_by_test_id("leaderboard-row").evaluate_all(
        "(rows) => rows.map((r) => [...r.cells].map((c) => c.textContent.trim()))"
    )
    assert rows == [[str(r["rank"]), r["display_name"], str(r["points"]), str(r["rescues"])] for r in board]

    # The districts carry a note that their boundaries are demo approximations: the page says so.
    districts = api_get(web_platform, bearer, "/v1/districts")["items"]
    notes = {d["note"] for d in districts if d.get("note")}
    assert all(n in page.get_by_test_id("district-note").inner_text() for n in notes)
    page.get_by_test_id("coverage-needs-district").wait_for()
    screenshot(watched, "cockpit")

    # One district: the district whose week had the most incidents
    chosen = max(
        districts,
        key=lambda d: api_get(
            web_platform,
            bearer,
            "/v1/cockpit/rescues",
            **{"from": first.isoformat(), "to": last.isoformat(), "district": d["district_id"]},
        )["incidents"],
    )
    page.get_by_test_id("district").select_option(chosen["district_id"])
    wait_ready(watched)
    shown, expected = shown_equals_recomputed(watched, web_platform, bearer, first, last, chosen["area"])
    assert 0 < expected["incidents"] < city_incidents
    assert_rescue_figures(shown, expected)
    assert chosen["name"] in page.get_by_test_id("period-shown").inner_text()
    assert_on_duty_cells(watched, web_platform, bearer, chosen["district_id"])
    heat = page.get_by_test_id("coverage-heatmap")
    heat.locator("canvas").first.wait_for()
    assert int(heat.get_attribute("data-sample-points") or 0) > 0
    assert re.search(r"\d+(\.\d)?%", page.get_by_test_id("coverage-summary").inner_text())


def test_a_dispatcher_reads_it_read_only(open_page: Any) -> None:
    watched = open_cockpit(open_page, ["dispatcher"])
    wait_ready(watched)
    badge = watched.page.get_by_test_id("read-only")
    assert badge.is_visible()
    assert "只读" in badge.inner_text()
    assert watched.page.get_by_test_id("refusal").is_hidden()


def test_a_responder_is_refused_with_the_sign_in_button(open_page: Any) -> None:
    watched = open_page("/cockpit/", viewport=DESKTOP)
    asked: list[str] = []
    watched.page.on("request", lambda r: asked.append(r.url) if "/v1/" in r.url else None)
    refusal = watched.page.get_by_test_id("refusal")
    refusal.wait_for()
    assert "登录" in refusal.inner_text()
    sign_in(watched, "responder-cockpit", ["responder"])
    watched.page.get_by_test_id("refusal-text").filter(has_text="无权").wait_for()
    assert watched.page.get_by_test_id("refusal-signin").is_visible()
    assert watched.page.get_by_test_id("cockpit").is_hidden()
    assert asked == [], "nothing is asked of the API for a caller who may not see it"


def test_english_on_the_switch_and_stacked_panels_on_a_phone(open_page: Any) -> None:
    watched = open_cockpit(open_page, ["admin"], viewport=PHONE)
    page = watched.page
    wait_ready(watched)
    page.get_by_test_id("lang").click()
    page.get_by_text("Incidents", exact=True).wait_for()
    headings = page.locator("main.cockpit h2").all_inner_texts()
    assert "Rescues" in headings[0] and "Outcomes" in headings[1]
    cjk = re.compile(r"[\u4e00-\u9fff]")
    assert not [h for h in headings if cjk.search(h)], headings
    assert page.get_by_test_id("outcome-transported").locator(".label").inner_text() == "transported"
    assert page.locator("html").get_attribute("lang") == "en"
    # A phone: one column, each panel under the last, none wider than the screen
    boxes = [page.get_by_test_id(f"panel-{p}").bounding_box() for p in ("rescues", "outcomes", "on-duty")]
    assert all(b is not None for b in boxes)
    assert boxes[0]["x"] == boxes[1]["x"] == boxes[2]["x"]  # type: ignore[index]
    assert boxes[0]["y"] < boxes[1]["y"] < boxes[2]["y"]  # type: ignore[index]
    assert all(b["x"] + b["width"] <= PHONE["width"] for b in boxes)  # type: ignore[index]
    assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]
