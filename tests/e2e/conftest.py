"""The web pages in a real browser: Debian's Chromium driven by Playwright for Python (no browser
download: `make test` installs chromium and fonts-noto-cjk with apt when missing), against the local
runtime as `make run` starts it (the demo seeded, the stream pollers on).

Every page a test opens is watched: a console error, an uncaught exception or a failed request fails the
test at teardown ("no console errors on any page")."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.e2e.runtime import running

HISTORY_DEADLINE_S = 300
BROWSER_ARGS = [
    "--no-sandbox",  # root in containers and CI
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",  # this machine's closed network refuses Chromium's own calls
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def chromium_executable() -> str:
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    pytest.fail("no Chromium: `make test` installs it (apt-get install chromium fonts-noto-cjk)")


@pytest.fixture(scope="session")
def web_platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`make run` with the demo city: the pages' base URL. One per session (the browser tests share it
    on one xdist worker: their group is "browser")."""
    log = tmp_path_factory.mktemp("web-platform") / "runtime.log"
    with running(log, SEED_DEMO="1", WAVE_WAIT_SECONDS="60") as url:
        # The demo's past (the cockpit's week) is written after the banner: wait for it, with a deadline.
        deadline = time.monotonic() + HISTORY_DEADLINE_S
        while "demo history written" not in log.read_text(encoding="utf-8", errors="replace"):
            assert time.monotonic() < deadline, "no demo history:\n" + log.read_text()[-2000:]
            time.sleep(0.5)
        yield url


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=chromium_executable(), args=BROWSER_ARGS)
        yield launched
        launched.close()


@dataclass
class Watched:
    """A page and everything that went wrong on it."""

    page: Any
    problems: list[str] = field(default_factory=list)
    allowed: list[str] = field(default_factory=list)  # substrings of problems a test expects

    def unexpected(self) -> list[str]:
        return [p for p in self.problems if not any(a in p for a in self.allowed)]


def watch(page: Any) -> Watched:
    watched = Watched(page)
    page.on(
        "console",
        lambda m: watched.problems.append(f"console.{m.type}: {m.text}") if m.type == "error" else None,
    )
    page.on("pageerror", lambda e: watched.problems.append(f"uncaught: {e}"))
    # A navigation aborts what the page it leaves was still loading (net::ERR_ABORTED): not a fault.
    page.on(
        "requestfailed",
        lambda r: (
            None
            if "ERR_ABORTED" in (r.failure or "")
            else watched.problems.append(f"request failed: {r.url} {r.failure}")
        ),
    )
    return watched


@pytest.fixture
def open_page(browser: Any, web_platform: str) -> Iterator[Any]:
    """open_page(path, lang="zh", viewport=...) → a Watched page at that path; checked for errors after."""
    contexts: list[Any] = []
    pages: list[Watched] = []

    def opener(
        path: str, *, lang: str = "zh", viewport: dict[str, int] | None = None, geolocation: Any = None
    ) -> Watched:
        context = browser.new_context(
            viewport=viewport or {"width": 1280, "height": 860},
            locale="zh-CN" if lang == "zh" else "en-GB",
            timezone_id="Asia/Shanghai",
            geolocation=geolocation,
            permissions=["geolocation"] if geolocation else [],
        )
        # The first page's language; a switch on the page then holds for every later page, as for a person.
        key = "rescue-nearby.lang"
        context.add_init_script(f"localStorage.getItem('{key}') || localStorage.setItem('{key}', '{lang}')")
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15_000)
        watched = watch(page)
        pages.append(watched)
        page.goto(web_platform + path)
        return watched

    yield opener
    problems = [p for w in pages for p in w.unexpected()]
    for context in contexts:
        context.close()
    assert not problems, "the page reported errors:\n" + "\n".join(problems)


def token(base_url: str, sub: str, roles: list[str]) -> str:
    answer = requests.post(f"{base_url}/dev/token", json={"sub": sub, "roles": roles}, timeout=10)
    answer.raise_for_status()
    return str(answer.json()["token"])


def sign_in(watched: Watched, sub: str, roles: list[str]) -> None:
    """Signs the page in as the local sign-in dialog does (POST /dev/token, kept in sessionStorage)."""
    watched.page.evaluate(
        "([sub, roles]) => import('/assets/core.js').then((m) => m.devSignIn(sub, roles))", [sub, roles]
    )


def screenshot(watched: Watched, name: str) -> None:
    """Saves the page as docs/screenshots/<name>.png when RESCUE_NEARBY_SCREENSHOTS names a folder
    (`make screenshots` does); a plain test run writes nothing into the repository."""
    folder = os.environ.get("RESCUE_NEARBY_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        watched.page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=False)
