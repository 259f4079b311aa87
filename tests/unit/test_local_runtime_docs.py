"""/docs without Swagger UI installed says how to install it (503), and serves nothing outside the package."""

from __future__ import annotations

from local_runtime import api_docs


def test_without_node_modules_the_page_says_how_to_fix_it(monkeypatch, tmp_path):
    monkeypatch.setattr(api_docs, "SWAGGER_UI_DIR", tmp_path / "node_modules" / "swagger-ui-dist")
    status, page = api_docs.page()
    assert status == 503
    text = page.decode()
    assert "npm ci" in text and "swagger-ui-dist" in text and "/openapi.json" in text
    assert api_docs.asset("/docs/swagger-ui-bundle.js") is None


def test_assets_come_only_from_the_package_directory(monkeypatch, tmp_path):
    package = tmp_path / "swagger-ui-dist"
    package.mkdir()
    (package / "swagger-ui-bundle.js").write_text("window.SwaggerUIBundle = 1;", encoding="utf-8")
    (package / "swagger-ui.css").write_text("body {}", encoding="utf-8")
    (tmp_path / "secret.txt").write_text("no", encoding="utf-8")
    monkeypatch.setattr(api_docs, "SWAGGER_UI_DIR", package)

    status, page = api_docs.page()
    assert status == 200 and b'src="/docs/swagger-ui-bundle.js"' in page
    body, kind = api_docs.asset("/docs/swagger-ui-bundle.js") or (b"", "")
    assert body == b"window.SwaggerUIBundle = 1;" and "javascript" in kind and "charset=utf-8" in kind
    assert (api_docs.asset("/docs/swagger-ui.css") or (b"", ""))[1] == "text/css; charset=utf-8"
    assert api_docs.asset("/docs/../secret.txt") is None
    assert api_docs.asset("/docs/") is None
