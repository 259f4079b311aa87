"""The home page at / in a real browser: it names every page and opens each, Chinese first, English on
the switch, and the choice of language follows the person from page to page."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import screenshot

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("browser")]


def test_home_names_every_page_and_the_language_switch_follows_you(open_page: Any) -> None:
    watched = open_page("/")
    page = watched.page
    expect(page.get_by_test_id("card-map").locator("h2")).to_have_text("AED一张图")
    expect(page.get_by_test_id("card-console").locator("h2")).to_have_text("调度台")
    expect(page.get_by_test_id("card-cockpit").locator("h2")).to_have_text("驾驶舱")
    screenshot(watched, "home")
    page.get_by_test_id("lang").click()
    expect(page.get_by_test_id("card-console").locator("h2")).to_have_text("Dispatch console")
    assert page.evaluate("() => document.documentElement.lang") == "en"
    page.get_by_test_id("card-map").click()
    page.wait_for_url("**/map/")
    expect(page.get_by_test_id("near-me")).to_have_text("AEDs near me")
    page.get_by_test_id("lang").click()
    expect(page.get_by_test_id("near-me")).to_have_text("我附近的AED")


def test_the_api_docs_are_one_click_away(open_page: Any) -> None:
    watched = open_page("/")
    watched.page.get_by_test_id("card-docs").click()
    watched.page.wait_for_url("**/docs")
    watched.page.locator(".swagger-ui .info .title").wait_for()


def test_without_folder_urls_the_pages_link_to_their_index_html(open_page: Any, web_platform: str) -> None:
    """The China regions' CloudFront cannot rewrite /map/ to /map/index.html (no CloudFront Functions):
    config.json says so and every page link names the file."""
    import requests

    config = requests.get(f"{web_platform}/config.json", timeout=10).json() | {"folder_urls": False}
    watched = open_page("/")
    watched.page.context.route("**/config.json", lambda route: route.fulfill(json=config))
    watched.page.reload()
    expect(watched.page.get_by_test_id("card-console")).to_have_attribute("href", "/console/index.html")
    assert watched.page.locator("header nav a").evaluate_all(
        "(links) => links.map((a) => a.getAttribute('href'))"
    ) == [
        "/map/index.html",
        "/console/index.html",
        "/cockpit/index.html",
    ]
    watched.page.get_by_test_id("card-map").click()
    watched.page.wait_for_url("**/map/index.html")
    expect(watched.page.get_by_test_id("near-me")).to_have_text("我附近的AED")
