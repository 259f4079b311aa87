"""The local runtime's pages: only web/ and the npm files web/vendor.json lists are reachable, folder URLs
redirect as CloudFront's rewrite does, /config.json says where the API and the tiles are."""

from __future__ import annotations

import json

import pytest

from local_runtime import pages
from shared.config import settings


def test_each_page_is_its_folder_index_and_a_bare_folder_redirects() -> None:
    for page in ("map", "console", "cockpit"):
        status, _, _, headers = pages.serve(f"/{page}") or (0, b"", "", {})
        assert (status, headers.get("Location")) == (308, f"/{page}/")
    status, body, kind, headers = pages.serve("/") or (0, b"", "", {})
    assert (status, kind) == (200, "text/html; charset=utf-8")
    assert "script-src 'self'" in headers["Content-Security-Policy"]
    assert b"/assets/home.js" in body


@pytest.mark.parametrize(
    "path",
    [
        "/assets/../../pyproject.toml",
        "/assets/../map/../../shared/config.py",
        "/vendor/leaflet/package.json",  # in node_modules, not in web/vendor.json
        "/vendor/../pyproject.toml",
        "/web/index.html",
        "/local_runtime/pages.py",
    ],
)
def test_nothing_outside_the_pages_is_served(path: str) -> None:
    assert pages.serve(path) is None


def test_every_vendor_file_the_pages_load_is_listed_and_installed() -> None:
    listed = pages.vendor_files()
    html = "".join(
        (pages.WEB / folder / "index.html").read_text(encoding="utf-8")
        for folder in ("", *pages.PAGES)
        if (pages.WEB / folder / "index.html").exists()
    )
    loaded = {part.split('"')[0] for part in html.split('"/vendor/')[1:]}
    assert loaded and loaded <= listed, loaded - listed
    for name in listed:
        served = pages.serve(f"/vendor/{name}")
        assert served is not None and served[0] == 200, f"{name}: run npm ci"


def test_config_json_names_the_same_origin_api_and_the_tiles(monkeypatch: pytest.MonkeyPatch) -> None:
    amap = "https://webrd0{s}.is.autonavi.com/appmaptile?x={x}&y={y}&z={z}&style=8"
    monkeypatch.setenv("WEB_TILES", json.dumps({"url": amap, "crs": "gcj02", "max_zoom": "18"}))
    settings.cache_clear()
    try:
        status, body, _, headers = pages.serve("/config.json") or (0, b"", "", {})
        config = json.loads(body)
        assert status == 200 and config["api_url"] == ""
        assert config["map"]["tiles"] == {"url": amap, "crs": "gcj02", "max_zoom": 18}
        assert config["identity"]["kind"] == "dev"
        assert (
            "img-src 'self' data: blob: https://webrd0*.is.autonavi.com;"
            in headers["Content-Security-Policy"]
        )
    finally:
        monkeypatch.delenv("WEB_TILES")
        settings.cache_clear()
    config = json.loads((pages.serve("/config.json") or (0, b"{}", "", {}))[1])
    assert config["map"]["tiles"] == {"crs": "wgs84"}  # no base map: the pages draw on a blank plane
