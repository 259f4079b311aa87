"""The /docs page: Swagger UI 5 (it reads OpenAPI 3.1, which Swagger UI 4 cannot) from the npm package
swagger-ui-dist, pinned in package.json and package-lock.json and served from node_modules, so the page
works offline. `make run` and `make test` install it (`npm ci`) when it is missing; without it /docs says
how to fix that instead of failing."""

from __future__ import annotations

import html
import mimetypes
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SWAGGER_UI_DIR = ROOT / "node_modules" / "swagger-ui-dist"

PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Rescue Nearby API</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" type="image/png" href="/docs/favicon-32x32.png">
<link rel="stylesheet" href="/docs/swagger-ui.css"></head><body><div id="ui"></div>
<script src="/docs/swagger-ui-bundle.js"></script>
<script>
window.ui = SwaggerUIBundle({url: "/openapi.json", dom_id: "#ui", persistAuthorization: true});
</script>
</body></html>"""

MISSING_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Rescue Nearby API</title>
</head><body style="font-family: sans-serif; max-width: 46em; margin: 3em auto; line-height: 1.5">
<h1>The API docs page needs Swagger UI, which is not installed</h1>
<p>Swagger UI comes from the npm package <code>swagger-ui-dist</code> (pinned in <code>package.json</code>),
expected in <code>{where}</code>. Install it and reload this page:</p>
<pre>cd {root} &amp;&amp; npm ci</pre>
<p>(<code>make run</code> and <code>make test</code> do this for you.) The OpenAPI document itself is served
at <a href="/openapi.json">/openapi.json</a>.</p>
</body></html>"""


def installed() -> bool:
    return (SWAGGER_UI_DIR / "swagger-ui-bundle.js").is_file()


def page() -> tuple[int, bytes]:
    """The status and HTML of /docs: Swagger UI, or (503) how to install it."""
    if installed():
        return 200, PAGE.encode()
    return 503, MISSING_PAGE.format(
        where=html.escape(str(SWAGGER_UI_DIR)), root=html.escape(str(ROOT))
    ).encode()


def asset(path: str) -> tuple[bytes, str] | None:
    """A Swagger UI file (/docs/<name>) and its content type; None when there is no such file."""
    name = Path(path).name  # a bare file name: nothing outside the package directory is reachable
    found = SWAGGER_UI_DIR / name
    if not name or not found.is_file():
        return None
    kind = mimetypes.guess_type(name)[0] or "application/octet-stream"
    if kind.startswith("text/") or kind in ("application/javascript", "application/json"):
        kind += "; charset=utf-8"
    return found.read_bytes(), kind
