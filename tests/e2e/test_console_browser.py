"""The dispatcher console in Chromium, on the runtime `make run` starts (the demo city seeded): an SOS
raised through the API shows within 3 s, an accept shows the responder's role within 3 s (both
measured and printed), the ambulance on scene and the close move it to the closed list with its outcome,
the form raises an incident once, a close someone else made first is said in words, English on the
switch, and a responder is refused."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
import requests
from playwright.sync_api import expect

from tests.e2e.conftest import Watched, screenshot, sign_in, token

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("browser")]

REFRESH_LIMIT_S = 3.0
SOMETHING = re.compile(r"\S")
DISPATCHER = ("dispatcher-e2e", ["dispatcher"])
DESKTOP = {"width": 1366, "height": 900}
# Where the demo city has volunteers on duty (the README's example); each test its own patient, more than
# the 50 m apart that would make one SOS join another's incident.
PATIENTS = {"live": (30.2587, 120.1650), "409": (30.2621, 120.1650)}


def call(base: str, method: str, path: str, bearer: str | None = None, **kwargs: Any) -> requests.Response:
    headers = {**kwargs.pop("headers", {}), **({"Authorization": f"Bearer {bearer}"} if bearer else {})}
    return requests.request(method, base + path, headers=headers, timeout=15, **kwargs)


def console(open_page: Any, lang: str = "zh", viewport: dict[str, int] | None = None) -> Watched:
    """The console signed in as a dispatcher, its first list drawn."""
    watched = open_page("/console/", lang=lang, viewport=viewport or DESKTOP)
    sign_in(watched, *DISPATCHER)
    page = watched.page
    page.get_by_test_id("console").wait_for(state="visible")
    expect(page.get_by_test_id("updated")).to_have_text(SOMETHING)
    return watched


def row(page: Any, incident_id: str) -> Any:
    return page.locator(f'[data-testid=incident-row][data-incident-id="{incident_id}"]')


def test_an_sos_shows_within_3_s_an_accept_shows_its_role_and_closing_moves_it_to_closed(
    open_page: Any, web_platform: str
) -> None:
    watched = console(open_page)
    page = watched.page
    dispatcher = token(web_platform, *DISPATCHER)
    lat, lng = PATIENTS["live"]
    sent = time.monotonic()
    sos = call(
        web_platform,
        "POST",
        "/v1/sos",
        json={"lat": lat, "lng": lng},
        headers={"Idempotency-Key": "e2e-live"},
    )
    answered = time.monotonic()  # the API's 202
    assert sos.status_code == 202, sos.text
    incident_id = sos.json()["incident_id"]
    row(page, incident_id).wait_for(state="visible", timeout=(REFRESH_LIMIT_S + 5) * 1000)
    sos_to_row = time.monotonic() - answered
    print(
        f"\nconsole refresh: SOS 202 → its row on screen {sos_to_row:.2f} s"
        f" (the SOS request itself took {answered - sent:.2f} s; the incident is listed before its 202)"
    )
    assert sos_to_row <= REFRESH_LIMIT_S
    assert row(page, incident_id).get_by_test_id("row-source").inner_text() == "App"

    row(page, incident_id).click()
    page.get_by_test_id("detail").wait_for(state="visible")
    alerts = call(web_platform, "GET", f"/v1/incidents/{incident_id}", dispatcher).json()["alerts"]
    alerted = [a["responder_id"] for a in sorted(alerts, key=lambda a: a["distance_m"])]
    assert alerted, "the demo city has volunteers on duty by the patient: wave 1 alerts some"
    page.locator(f'[data-testid=responder-row][data-responder-id="{alerted[0]}"]').wait_for()

    first = alerted[0]
    accept = call(
        web_platform, "POST", f"/v1/incidents/{incident_id}/responses",
        token(web_platform, first, ["responder"]), json={"action": "accept"},
    )  # fmt: skip
    accepted = time.monotonic()
    assert accept.status_code == 200, accept.text
    role = accept.json()["role"]
    words = {"cpr": "心肺复苏", "aed": "取AED"}[role]
    role_cell = page.locator(
        f'[data-testid=responder-row][data-responder-id="{first}"] [data-testid=responder-role]'
    )
    page.locator(f'[data-responder-id="{first}"] [data-testid=responder-role] .role-{role}').wait_for(
        timeout=(REFRESH_LIMIT_S + 5) * 1000
    )
    accept_to_role = time.monotonic() - accepted
    print(f"console refresh: accept 200 → the responder's role ({role}) on screen {accept_to_role:.2f} s")
    assert accept_to_role <= REFRESH_LIMIT_S
    assert role_cell.inner_text().strip() == words
    # The list's row counts the accept too, and the timeline says it in words.
    expect(row(page, incident_id).get_by_test_id("row-accepted")).to_have_text(re.compile(r"^[1-3] "))
    assert (
        page.locator("[data-testid=timeline-entry][data-type=accepted]").first.inner_text().count(words) == 1
    )

    for other in alerted[1:]:  # a second accept, for the screenshot's two rings
        second = call(
            web_platform, "POST", f"/v1/incidents/{incident_id}/responses",
            token(web_platform, other, ["responder"]), json={"action": "accept"},
        )  # fmt: skip
        if second.status_code == 200:
            page.locator(f'[data-responder-id="{other}"][data-state=accepted]').wait_for()
            break
    screenshot(watched, "console")

    page.get_by_test_id("ems-arrived").click()
    page.locator("[data-testid=timeline-entry][data-type=ems_arrived]").wait_for()
    assert page.get_by_test_id("ems-arrived").is_disabled()
    page.get_by_test_id("outcome").select_option("transported")
    page.get_by_test_id("close").click()
    assert "已送医" in page.get_by_test_id("close-question").inner_text()  # the confirm step
    page.get_by_test_id("close-yes").click()
    page.get_by_test_id("closed-as").wait_for(state="visible")
    assert page.get_by_test_id("closed-as").inner_text() == "已结案：已送医"
    row(page, incident_id).wait_for(state="detached", timeout=10_000)  # off the open list

    page.get_by_test_id("tab-closed").click()
    closed_row = row(page, incident_id)
    closed_row.wait_for(timeout=10_000)
    assert closed_row.get_by_test_id("row-outcome").inner_text() == "已送医"


def test_the_form_raises_one_incident_for_a_caller_even_on_a_double_click(
    open_page: Any, web_platform: str
) -> None:
    watched = console(open_page)
    page = watched.page
    page.locator("[data-testid=raise] summary").click()
    # A point on the map, away from its centre (where other tests' patients are): the place is filled in.
    page.get_by_test_id("console-map").click(position={"x": 70, "y": 90})
    place = page.get_by_test_id("raise-place").input_value()
    lat, lng = (float(v) for v in place.split(","))
    page.get_by_test_id("raise-phone").fill("+8613900001111")
    page.get_by_test_id("raise-note").fill("E2E 来电：老人倒地")
    page.get_by_test_id("raise-send").dblclick()
    expect(page.get_by_test_id("raise-result")).to_have_text(SOMETHING)
    page.get_by_test_id("detail").wait_for(state="visible")

    dispatcher = token(web_platform, *DISPATCHER)
    listed = call(web_platform, "GET", "/v1/incidents?status=open&limit=100", dispatcher).json()["items"]
    mine = [i for i in listed if abs(i["lat"] - lat) < 1e-5 and abs(i["lng"] - lng) < 1e-5]
    assert len(mine) == 1, mine  # one incident, however many clicks
    assert mine[0]["source"] == "console"
    view = call(web_platform, "GET", f"/v1/incidents/{mine[0]['incident_id']}", dispatcher).json()
    assert view["caller_phone"] == "+8613900001111" and view["note"] == "E2E 来电：老人倒地"
    assert row(page, mine[0]["incident_id"]).get_by_test_id("row-source").inner_text() == "调度台"
    timeline_text = page.get_by_test_id("timeline").inner_text()
    assert "调度员 dispatcher-e2e 代呼救者发起" in timeline_text
    call(
        web_platform,
        "POST",
        f"/v1/incidents/{mine[0]['incident_id']}/close",
        dispatcher,
        json={"outcome": "cancelled"},
    )


def test_a_close_someone_else_made_first_is_said_in_words(open_page: Any, web_platform: str) -> None:
    dispatcher = token(web_platform, *DISPATCHER)
    lat, lng = PATIENTS["409"]
    raised = call(
        web_platform, "POST", "/v1/incidents", dispatcher,
        json={"lat": lat, "lng": lng}, headers={"Idempotency-Key": "e2e-409"},
    )  # fmt: skip
    assert raised.status_code == 202, raised.text
    incident_id = raised.json()["incident_id"]
    watched = console(open_page)
    watched.allowed.append("409")  # Chromium logs the refused request; the page says it in words
    page = watched.page
    row(page, incident_id).click()
    page.get_by_test_id("outcome").select_option("rosc")
    page.get_by_test_id("close").click()

    def closed_first(route: Any) -> None:  # the 120 centre (here: the API) closes it a moment before
        call(
            web_platform,
            "POST",
            f"/v1/incidents/{incident_id}/close",
            dispatcher,
            json={"outcome": "cancelled"},
        )
        route.continue_()

    page.route(f"**/v1/incidents/{incident_id}/close", closed_first)
    page.get_by_test_id("close-yes").click()
    expect(page.get_by_test_id("action-error")).to_have_text("该事件已结案（可能已由其他调度员或120关闭）。")
    page.get_by_test_id("closed-as").wait_for(state="visible")
    assert page.get_by_test_id("closed-as").inner_text() == "已结案：已取消"  # the close that won


def test_english_on_the_switch(open_page: Any) -> None:
    watched = console(open_page)
    page = watched.page
    assert page.get_by_test_id("tab-open").inner_text() == "进行中的事件"
    page.get_by_test_id("lang").click()
    assert page.get_by_test_id("tab-open").inner_text() == "Open incidents"
    assert page.get_by_test_id("tab-closed").inner_text() == "Closed"
    assert page.locator("table.incidents th").all_inner_texts() == [
        "Time",
        "Source",
        "Status",
        "Alerted",
        "Accepted",
    ]
    assert page.get_by_test_id("refresh-note").inner_text() == "refreshed every 1 s"
    assert page.locator("[data-testid=raise] summary").inner_text() == "Raise for a caller"


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_responder_is_told_the_page_is_for_dispatchers(open_page: Any, lang: str) -> None:
    watched = open_page("/console/", lang=lang, viewport={"width": 390, "height": 844})
    page = watched.page
    page.get_by_test_id("refusal").wait_for(state="visible")  # nobody signed in
    assert page.locator("[data-action=console-signin]").is_visible()
    sign_in(watched, "responder-e2e", ["responder"])
    expect(page.get_by_test_id("refusal-who")).to_have_text(SOMETHING)
    text = page.get_by_test_id("refusal").inner_text()
    expected = "此页面供调度员使用" if lang == "zh" else "This page is for dispatchers"
    assert expected in text
    assert page.get_by_test_id("console").is_hidden()
