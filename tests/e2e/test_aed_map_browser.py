"""AED一张图 in a real browser, on `make run`'s runtime with the demo city: the map draws exactly the AEDs
GET /v1/aeds answers for its view, marked by their state now; a card in words; "near me" by the browser's
position or a typed place lists the same 3 AEDs GET /v1/aeds/nearby does, with walking time; a fault
report needs a sign-in and reaches the AED's manager; on GCJ-02 tiles every AED is drawn where the tiles
put it (300-600 m from its WGS-84 position in Hangzhou). The demo's E-station (救护E站) has its own pin
above the AEDs and a card saying whether it is staffed now; nobody on its staff is named on the page."""

from __future__ import annotations

import base64
import math
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import eviltransform
import pytest
import requests
from playwright.sync_api import expect

from local_runtime.seed import DEMO_ESTATION, DEMO_POINTS
from tests.e2e.conftest import Watched, screenshot, token

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("browser")]
IN77 = DEMO_POINTS["in77"]
SHANGCHENG = DEMO_POINTS["shangcheng"]
ZONE = ZoneInfo("Asia/Shanghai")
BLANK_PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII="
)


def wait_loaded(watched: Watched) -> list[float]:
    """Waits until the map has drawn its current view; that view's box."""
    watched.page.wait_for_function(
        "() => window.rescueNearbyMap && document.body.dataset.loaded"
        " && document.body.dataset.loaded === window.rescueNearbyMap.viewBox().join(',')"
    )
    return list(watched.page.evaluate("() => window.rescueNearbyMap.loadedBox()"))


def move(watched: Watched, lat: float, lng: float, zoom: int) -> list[float]:
    watched.page.wait_for_function("() => window.rescueNearbyMap")
    watched.page.evaluate(
        "([lat, lng, zoom]) => window.rescueNearbyMap.map.setView("
        "window.rescueNearbyMap.toMap(lat, lng), zoom, {animate: false})",
        [lat, lng, zoom],
    )
    return wait_loaded(watched)


def features(base_url: str, box: list[float]) -> dict[str, dict[str, Any]]:
    answer = requests.get(f"{base_url}/v1/aeds", params={"bbox": ",".join(str(v) for v in box)}, timeout=30)
    answer.raise_for_status()
    return {f["properties"]["aed_id"]: f for f in answer.json()["features"]}


def estations(base_url: str, box: list[float]) -> dict[str, dict[str, Any]]:
    answer = requests.get(
        f"{base_url}/v1/estations", params={"bbox": ",".join(str(v) for v in box)}, timeout=30
    )
    answer.raise_for_status()
    return {f["properties"]["team_id"]: f for f in answer.json()["features"]}


def count_line(aeds: int, stations: int, lang: str = "zh") -> str:
    if lang == "zh":
        return f"视野内 {aeds} 台AED" + (f" · {stations} 个救护E站" if stations else "")
    return f"{aeds} AEDs in view" + (f" · E-stations: {stations}" if stations else "")


def open_card(watched: Watched, aed_id: str) -> None:
    watched.page.evaluate(
        "(id) => window.rescueNearbyMap.map.eachLayer((l) => l.feature && l.feature.properties.aed_id === id"
        " && l.openPopup())",
        aed_id,
    )


def allow_tiles(route: Any, host: str) -> None:
    response = route.fetch()
    headers = dict(response.headers)
    headers["content-security-policy"] = headers["content-security-policy"].replace(
        "img-src 'self' data: blob:", f"img-src 'self' data: blob: {host}"
    )
    route.fulfill(response=response, headers=headers)


def metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    dlat = math.radians(b[0] - a[0])
    dlng = math.radians(b[1] - a[1]) * math.cos(math.radians(a[0]))
    return 6_371_008.8 * math.hypot(dlat, dlng)


def test_the_map_draws_exactly_the_aeds_the_api_returns_for_its_view(
    open_page: Any, web_platform: str
) -> None:
    watched = open_page("/map/")
    for lat, lng, zoom in ((IN77[0], IN77[1], 14), (30.30, 120.20, 12), (IN77[0], IN77[1], 17)):
        box = move(watched, lat, lng, zoom)
        expected = features(web_platform, box)
        shown = watched.page.evaluate("() => window.rescueNearbyMap.shownAedIds()")
        assert expected, f"the demo city has AEDs in {box}"
        assert sorted(shown) == sorted(expected), f"view {box}: the map and GET /v1/aeds disagree"
    # At street level nothing is clustered: every pin is on the page, coloured by its state now.
    pins = watched.page.evaluate(
        "() => [...document.querySelectorAll('.leaflet-marker-icon .aed-pin')].map((p) => p.className)"
    )
    by_state = sorted(f["properties"]["state"] for f in expected.values())
    assert sorted(c.split()[1] for c in pins) == by_state
    assert set(by_state) <= {"open", "closed", "out_of_service"}
    expect(watched.page.get_by_test_id("count")).to_have_text(f"视野内 {len(expected)} 台AED")


def test_a_wide_view_is_clustered(open_page: Any, web_platform: str) -> None:
    watched = open_page("/map/")
    box = move(watched, 30.27, 120.20, 11)
    expected = features(web_platform, box)
    assert len(expected) > 100
    clusters = watched.page.locator(".marker-cluster").count()
    pins = watched.page.locator(".leaflet-marker-icon .aed-pin").count()
    assert clusters > 0 and pins + clusters < len(expected), (clusters, pins, len(expected))
    stations = estations(web_platform, box)  # the demo's E-station by 上城区's centre is in this view
    assert len(stations) == 1, stations
    expect(watched.page.get_by_test_id("count")).to_have_text(count_line(len(expected), 1))
    watched.page.get_by_role("button", name="English").click()
    expect(watched.page.get_by_test_id("near-me")).to_have_text("AEDs near me")
    expect(watched.page.get_by_test_id("count")).to_have_text(count_line(len(expected), 1, "en"))


def test_an_aed_card_says_its_state_and_hours_in_words(open_page: Any, web_platform: str) -> None:
    watched = open_page("/map/")
    box = move(watched, IN77[0], IN77[1], 18)
    round_the_clock = [
        f for f in features(web_platform, box).values() if f["properties"]["opening_hours"] == "24/7"
    ]
    assert round_the_clock, "the demo puts 24/7 AEDs by in77"
    chosen = round_the_clock[0]["properties"]
    watched.page.evaluate(
        "(id) => window.rescueNearbyMap.map.eachLayer((l) => l.feature && l.feature.properties.aed_id === id"
        " && l.openPopup())",
        chosen["aed_id"],
    )
    card = watched.page.locator(f".aed-card[data-aed-id='{chosen['aed_id']}']")
    expect(card.locator("h3")).to_have_text(chosen["name"])
    expect(card.get_by_test_id("aed-hours")).to_have_text("全天24小时")
    expect(card.get_by_test_id("aed-state")).to_have_text("开放中")  # 24/7 and in working order
    assert chosen["placement"] in card.inner_text()
    # One closed now, if the hour has one (a metro station at night, a school at the weekend): it says when
    # it opens, on the deployment's clock.
    box = move(watched, 30.27, 120.17, 15)
    closed = [
        f["properties"] for f in features(web_platform, box).values() if f["properties"]["state"] == "closed"
    ]
    if closed:
        shut = closed[0]
        opens = datetime.fromisoformat(shut["next_change_at"]).astimezone(ZoneInfo("Asia/Shanghai"))
        open_card(watched, shut["aed_id"])
        state = watched.page.locator(f".aed-card[data-aed-id='{shut['aed_id']}']").get_by_test_id("aed-state")
        expect(state).to_contain_text("此刻未开放 · ")
        assert state.inner_text().endswith(f"{opens:%H:%M} 开放"), state.inner_text()


@pytest.mark.parametrize("how", ["geolocation", "typed"])
def test_near_me_lists_the_three_nearest_usable_aeds_with_walking_time(
    open_page: Any, web_platform: str, how: str
) -> None:
    lat, lng = IN77
    if how == "geolocation":
        watched = open_page("/map/", geolocation={"latitude": lat, "longitude": lng})
        wait_loaded(watched)
        watched.page.get_by_test_id("near-me").click()
    else:
        watched = open_page("/map/")
        wait_loaded(watched)
        watched.page.get_by_test_id("place").fill(f"{lat},{lng}")
        watched.page.get_by_test_id("place").press("Enter")
    listed = watched.page.get_by_test_id("nearest-aed")
    listed.first.wait_for()
    nearby = requests.get(
        f"{web_platform}/v1/aeds/nearby",
        params={"lat": lat, "lng": lng, "radius_m": 1000, "limit": 3},
        timeout=30,
    ).json()["items"]
    assert len(nearby) == 3
    items = watched.page.locator("[data-testid=nearest] li")
    assert [items.nth(i).get_attribute("data-aed-id") for i in range(items.count())] == [
        a["aed_id"] for a in nearby
    ]
    first = items.first.inner_text()
    minutes = max(1, math.ceil(nearby[0]["distance_m"] * 1.3 / 1.4 / 60))
    assert f"步行约 {minutes} 分钟 · 直线 {round(nearby[0]['distance_m'])} 米" in first


def test_a_fault_report_needs_a_sign_in_and_reaches_the_manager(open_page: Any, web_platform: str) -> None:
    watched = open_page("/map/")
    box = move(watched, IN77[0], IN77[1], 18)
    aed_id = next(iter(features(web_platform, box)))
    watched.page.evaluate(
        "(id) => window.rescueNearbyMap.map.eachLayer((l) => l.feature && l.feature.properties.aed_id === id"
        " && l.openPopup())",
        aed_id,
    )
    watched.page.locator(f".aed-card[data-aed-id='{aed_id}']").get_by_test_id("report").click()
    # Anonymous: the sign-in dialog opens instead of the report.
    dialog = watched.page.locator("dialog.signin")
    expect(dialog).to_be_visible()
    expect(watched.page.locator(".message-bar")).to_have_text("此功能需要登录。")
    dialog.locator("input[name=sub]").fill("walker-1")
    dialog.get_by_test_id("signin-submit").click()
    expect(watched.page.get_by_test_id("who")).to_have_text("walker-1 · 公众")
    watched.page.locator(f".aed-card[data-aed-id='{aed_id}']").get_by_test_id("report").click()
    report = watched.page.get_by_test_id("report-dialog")
    report.locator("select[name=kind]").select_option("locked")
    report.locator("textarea[name=note]").fill("柜门锁着 cabinet locked")
    report.get_by_test_id("report-send").click()
    done = watched.page.locator(f".aed-card[data-aed-id='{aed_id}']").get_by_test_id("report-done")
    expect(done).to_have_text("已提交，感谢！管理员会尽快处理。")
    admin = token(web_platform, "admin-map", ["admin"])
    reports = requests.get(
        f"{web_platform}/v1/aeds/{aed_id}/reports", headers={"Authorization": f"Bearer {admin}"}, timeout=30
    ).json()["items"]
    assert [(r["kind"], r["note"]) for r in reports] == [("locked", "柜门锁着 cabinet locked")]


def test_on_gcj02_tiles_each_aed_is_drawn_where_the_tiles_put_it(
    open_page: Any, web_platform: str, browser: Any
) -> None:
    """AMap's tiles (GCJ-02): the page converts every point with gcoord before drawing it. The test's
    yardstick is eviltransform's WGS-84→GCJ-02 (the server's library), not the page's own code; the tiles
    are answered with a blank PNG (no network here)."""
    amap = "https://webrd0{s}.is.autonavi.com/appmaptile?style=8&x={x}&y={y}&z={z}"
    config = requests.get(f"{web_platform}/config.json", timeout=10).json()
    config["map"]["tiles"] = {"url": amap, "crs": "gcj02", "subdomains": "1234", "attribution": "© AutoNavi"}
    context = browser.new_context(viewport={"width": 1000, "height": 800})
    try:
        context.route("**/config.json", lambda route: route.fulfill(json=config))
        # The server's CSP names the tile host of its own WEB_TILES (none here; tests/unit covers that).
        context.route("**/map/", lambda route: allow_tiles(route, "https://*.is.autonavi.com"))
        context.route(
            "https://*.is.autonavi.com/**", lambda r: r.fulfill(body=BLANK_PNG, content_type="image/png")
        )
        page = context.new_page()
        problems: list[str] = []
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: problems.append(str(e)))
        page.goto(f"{web_platform}/map/")
        watched = Watched(page)
        box = move(watched, IN77[0], IN77[1], 17)
        shown = features(web_platform, box)
        assert sorted(page.evaluate("() => window.rescueNearbyMap.shownAedIds()")) == sorted(shown)
        for aed_id, feature in list(shown.items())[:10]:
            lng, lat = feature["geometry"]["coordinates"]
            drawn = page.evaluate("(id) => window.rescueNearbyMap.markerLatLng(id)", aed_id)
            gcj_lat, gcj_lng = eviltransform.wgs2gcj(lat, lng)
            assert metres((drawn["lat"], drawn["lng"]), (gcj_lat, gcj_lng)) < 0.5
            assert 300 <= metres((drawn["lat"], drawn["lng"]), (lat, lng)) <= 600
        assert page.locator("img.leaflet-tile").count() > 0, "the AMap layer is drawn"
        assert not problems, problems
    finally:
        context.close()


def test_the_demo_e_station_has_its_own_pin_and_a_card_that_names_no_staff(
    open_page: Any, web_platform: str
) -> None:
    watched = open_page("/map/")
    box = move(watched, SHANGCHENG[0], SHANGCHENG[1], 16)
    stations = estations(web_platform, box)
    assert len(stations) == 1, f"the demo has one E-station by 上城区's centre: {stations}"
    [(team_id, feature)] = stations.items()
    p = feature["properties"]
    assert p["name"] == DEMO_ESTATION["name"]
    page = watched.page
    assert page.evaluate("() => window.rescueNearbyMap.shownStationIds()") == [team_id]
    aeds = features(web_platform, box)
    assert p["aed_id"] in aeds, "its AED is on the map too"
    expect(page.get_by_test_id("count")).to_have_text(count_line(len(aeds), 1))
    # Its own pin, in its own pane above the AEDs' (never among their pins or clusters), where it stands.
    pin = page.locator(".leaflet-estations-pane .leaflet-marker-icon .estation-pin")
    expect(pin).to_have_count(1)
    assert page.locator(".leaflet-marker-pane .estation-pin").count() == 0
    panes = page.evaluate(
        "() => ['estations', 'marker'].map((n) =>"
        " Number(getComputedStyle(document.querySelector(`.leaflet-${n}-pane`)).zIndex))"
    )
    assert panes[0] > panes[1], panes
    lng, lat = feature["geometry"]["coordinates"]
    drawn = page.evaluate("(id) => window.rescueNearbyMap.stationLatLng(id)", team_id)
    assert metres((drawn["lat"], drawn["lng"]), (lat, lng)) < 0.5
    # A person's click on the pin opens its card: what it is, where, its hours in words, staffed now or not.
    pin.click()
    card = page.locator(f".estation-card[data-team-id='{team_id}']")
    expect(card.locator("h3")).to_have_text(p["name"])
    expect(card.get_by_test_id("estation-organisation")).to_have_text(p["organisation"])
    expect(card.get_by_test_id("estation-address")).to_have_text(p["address"])
    assert p["opening_hours"] == "Mo-Su 08:00-20:00"
    expect(card.get_by_test_id("estation-hours")).to_have_text("周一至周日 08:00–20:00")
    state = card.get_by_test_id("estation-state")
    change = datetime.fromisoformat(p["next_change_at"]).astimezone(ZONE)
    if p["open_now"]:
        expect(state).to_contain_text("有人值守 · ")
        assert state.inner_text().endswith(f"{change:%H:%M} 结束值守"), state.inner_text()
    else:
        expect(state).to_contain_text("此刻无人值守 · ")
        assert state.inner_text().endswith(f"{change:%H:%M} 开始值守"), state.inner_text()
    # The AED it keeps (24/7 at a pharmacy): its state now, and a way to its own card.
    expect(card.get_by_test_id("estation-aed")).to_contain_text("站内配有AED · 开放中")
    # Nobody on its staff is named on the page (the API's member list is for its leader and admins).
    admin = token(web_platform, "admin-map", ["admin"])
    team = requests.get(
        f"{web_platform}/v1/teams/{team_id}", headers={"Authorization": f"Bearer {admin}"}, timeout=30
    ).json()
    assert len(team["members"]) >= 2, team
    html = page.content()
    for member in team["members"]:
        assert member["responder_id"] not in html and member["name"] not in html, member
    assert "演示志愿者" not in html
    # In English too, the card relabelled in place.
    page.get_by_role("button", name="English").click()
    expect(card.get_by_test_id("estation-state")).to_contain_text(
        "Staffed now · until " if p["open_now"] else "Not staffed now · staffed from "
    )
    expect(card.get_by_test_id("estation-hours")).to_have_text("Mon–Sun 08:00–20:00")
    expect(page.get_by_test_id("count")).to_have_text(count_line(len(aeds), 1, "en"))
    # "Show this AED" opens that AED's own card.
    card.get_by_test_id("estation-show-aed").click()
    expect(page.locator(f".aed-card[data-aed-id='{p['aed_id']}'] h3")).to_have_text(
        aeds[p["aed_id"]]["properties"]["name"]
    )


def test_the_map_on_a_phone(open_page: Any, web_platform: str) -> None:
    watched = open_page(
        "/map/",
        viewport={"width": 390, "height": 844},
        geolocation={"latitude": IN77[0], "longitude": IN77[1]},
    )
    wait_loaded(watched)
    watched.page.get_by_test_id("near-me").click()
    watched.page.get_by_test_id("nearest-aed").first.wait_for()
    wait_loaded(watched)
    screenshot(watched, "aed-map")
    width = watched.page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 390, "nothing runs off a phone's screen"
