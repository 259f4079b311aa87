"""/docs as a person sees it: the local runtime's Swagger page rendered by a real browser (headless
Chromium), which must list every operation of the OpenAPI 3.1 document. Swagger UI 4 renders only
"Unable to render this definition" for 3.1, which the HTML alone cannot show. `make test` installs
Chromium (apt-get) and Swagger UI (npm ci) when they are missing."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import pytest
import requests

from tests.e2e.test_local_runtime import Platform

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]
METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
BROWSER_TIMEOUT_S = 120


@pytest.fixture(scope="module")
def platform() -> Iterator[Platform]:
    with pytest.MonkeyPatch.context() as env:
        env.setenv("SEED_DEMO", "0")  # the page needs the API's document, not the demo city
        running = Platform()
    yield running
    if running.process.poll() is None:
        running.process.kill()


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    pytest.fail(
        "no Chromium to render /docs in: `make test` installs it "
        "(or: apt-get install -y --no-install-recommends chromium fonts-noto-cjk)"
    )


def rendered_dom(url: str, profile: Path) -> str:
    """The DOM after the page's scripts ran (virtual time waits for /openapi.json and the render)."""
    done = subprocess.run(
        [
            chromium(),
            "--headless",
            "--no-sandbox",  # root in containers and CI
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            f"--user-data-dir={profile}",
            "--virtual-time-budget=15000",
            "--dump-dom",
            url,
        ],
        capture_output=True,
        text=True,
        timeout=BROWSER_TIMEOUT_S,
    )
    assert done.returncode == 0 and done.stdout, f"chromium failed:\n{done.stderr[-3000:]}"
    return done.stdout


class _Operations(HTMLParser):
    """(METHOD, path) of each operation Swagger UI rendered: the text of `.opblock-summary-method`
    followed by the `data-path` of `.opblock-summary-path`."""

    def __init__(self) -> None:
        super().__init__()
        self.found: set[tuple[str, str]] = set()
        self._in_method = False
        self._method = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        classes = (attributes.get("class") or "").split()
        if "opblock-summary-method" in classes:
            self._in_method, self._method = True, ""
        elif "opblock-summary-path" in classes and attributes.get("data-path"):
            self.found.add((self._method.strip().upper(), str(attributes["data-path"])))

    def handle_data(self, data: str) -> None:
        if self._in_method:
            self._method += data

    def handle_endtag(self, tag: str) -> None:
        self._in_method = False


def test_docs_page_renders_every_operation_in_a_browser(platform, tmp_path):
    document = requests.get(f"{platform.url}/openapi.json", timeout=10).json()
    assert document["openapi"].startswith("3.1")
    expected = {
        (method.upper(), path)
        for path, item in document["paths"].items()
        for method in item
        if method in METHODS
    }

    dom = rendered_dom(f"{platform.url}/docs", tmp_path / "profile")

    assert "Unable to render this definition" not in dom, "Swagger UI cannot read this OpenAPI version"
    assert "valid version field" not in dom
    assert 'class="errors-wrapper"' not in dom, "Swagger UI reported errors in the document"
    assert document["info"]["title"] in dom and "OAS 3.1" in dom
    parser = _Operations()
    parser.feed(dom)
    assert {("POST", "/v1/sos"), ("GET", "/v1/aeds/nearby"), ("GET", "/v1/health")} <= parser.found
    assert parser.found == expected, (
        f"missing: {sorted(expected - parser.found)}; unexpected: {sorted(parser.found - expected)}"
    )


def test_assets_are_served_from_the_pinned_package(platform):
    pinned = (Path(__file__).resolve().parents[2] / "package.json").read_text(encoding="utf-8")
    assert '"swagger-ui-dist": "5.' in pinned, "swagger-ui-dist 5.x, pinned exactly"
    bundle = requests.get(f"{platform.url}/docs/swagger-ui-bundle.js", timeout=10)
    assert bundle.status_code == 200 and "javascript" in bundle.headers["Content-Type"]
    css = requests.get(f"{platform.url}/docs/swagger-ui.css", timeout=10)
    assert css.status_code == 200 and css.headers["Content-Type"].startswith("text/css")
    assert requests.get(f"{platform.url}/docs/..%2fpackage.json", timeout=10).status_code == 404
    assert requests.get(f"{platform.url}/docs/nothing.js", timeout=10).status_code == 404
