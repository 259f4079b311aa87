"""The web pages on the local runtime (docs/web.md): web/ as it is, the map and chart libraries from
node_modules (only the files web/vendor.json lists, the same list infra/web_assets.py deploys), and
/config.json made from the settings, with the headers CloudFront adds in the cloud. The pages call the
API on the same origin, so the local runtime needs no CORS."""

from __future__ import annotations

import json
import mimetypes
from functools import lru_cache
from pathlib import Path
from typing import Any

from shared.config import settings

ROOT = Path(__file__).resolve().parents[1]
WEB = ROOT / "web"
NODE_MODULES = ROOT / "node_modules"
PAGES = ("map", "console", "cockpit")  # folders with an index.html, served at /<folder>/
HANGZHOU = (30.2741, 120.1551)  # the map opens on 杭州市 (武林广场)

# What the deployed pages get from CloudFront's response headers policy (infra/constructs/web.py).
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "X-Frame-Options": "DENY",
}


@lru_cache(maxsize=1)
def vendor_files() -> frozenset[str]:
    """/vendor/<package>/<path> the pages may load: web/vendor.json's list, nothing else in node_modules."""
    listed: dict[str, list[str]] = json.loads((WEB / "vendor.json").read_text(encoding="utf-8"))
    return frozenset(f"{package}/{path}" for package, paths in listed.items() for path in paths)


def config() -> dict[str, Any]:
    """/config.json for the local runtime: same-origin API, sign-in through /dev/token."""
    tiles = dict(settings().web_tiles)
    if "max_zoom" in tiles:
        tiles["max_zoom"] = int(tiles["max_zoom"])  # type: ignore[assignment]
    tiles.setdefault("crs", "wgs84")
    from local_runtime.seed import DISTRICTS

    return {
        "api_url": "",
        "time_zone": settings().time_zone,
        "map": {"center": list(HANGZHOU), "zoom": 13, "tiles": tiles},
        "identity": {"kind": "dev", "roles_claim": "cognito:groups"},
        "places": [
            {"name": d.name, "lat": d.lat, "lng": d.lng, "note": "demo district centre"} for d in DISTRICTS
        ],
        "docs_url": "/docs",
        "folder_urls": True,
    }


def content_security_policy(tiles_url: str) -> str:
    tile_host = ""
    if tiles_url.startswith(("https://", "http://")):
        host = tiles_url.split("/")[2].replace("{s}", "*")
        tile_host = f" {tiles_url.split(':')[0]}://{host}"
    return (
        "default-src 'self'; script-src 'self'; style-src 'self'; "
        f"img-src 'self' data: blob:{tile_host}; connect-src 'self'; font-src 'self'; "
        "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
    )


def serve(path: str) -> tuple[int, bytes, str, dict[str, str]] | None:
    """(status, body, content type, headers) for a page path; None when the path is not the pages'."""
    headers = {
        **SECURITY_HEADERS,
        "Content-Security-Policy": content_security_policy(settings().web_tiles.get("url", "")),
    }
    if path == "/config.json":
        body = json.dumps(config(), ensure_ascii=False).encode()
        return 200, body, "application/json", {**headers, "Cache-Control": "no-store"}
    if path.rstrip("/") in {f"/{page}" for page in PAGES} and not path.endswith("/"):
        return 308, b"", "text/plain", {"Location": path + "/"}
    found: Path | None
    folder = path.removesuffix("index.html")  # /map/index.html is /map/, as S3 has it
    if folder == "/" or folder.rstrip("/") in {f"/{page}" for page in PAGES}:
        found = WEB / folder.strip("/") / "index.html"
    elif path.startswith("/assets/"):
        found = _inside(WEB / "assets", path.removeprefix("/assets/"))
    elif path.startswith("/vendor/"):
        name = path.removeprefix("/vendor/")
        if name not in vendor_files():
            return None
        found = NODE_MODULES / name
        if not found.is_file():
            message = f"{name} is missing from node_modules: run npm ci (make run does)"
            return 503, message.encode(), "text/plain; charset=utf-8", headers
    else:
        return None
    if found is None or not found.is_file():
        return None
    kind = mimetypes.guess_type(found.name)[0] or "application/octet-stream"
    if kind.startswith("text/") or kind in ("application/javascript", "application/json"):
        kind += "; charset=utf-8"
    return 200, found.read_bytes(), kind, {**headers, "Cache-Control": "no-cache"}


def _inside(folder: Path, relative: str) -> Path | None:
    """The file under ``folder`` named by ``relative``; None for anything that climbs out of it."""
    candidate = (folder / relative).resolve()
    return candidate if candidate.is_relative_to(folder.resolve()) else None
