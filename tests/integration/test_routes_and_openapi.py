"""One route table: every function serves exactly its routes, and the committed OpenAPI document is
what the code generates."""

from __future__ import annotations

from pathlib import Path

from local_runtime.openapi import documented_resolver, render
from shared.routes import FUNCTIONS, ROUTES

DOC = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"


def test_each_function_serves_exactly_its_routes_in_the_route_table():
    for name in FUNCTIONS:
        app = documented_resolver(name)
        served = {(method, path) for path, methods in _paths(app).items() for method in methods}
        expected = {(r.method, r.path) for r in ROUTES if r.function == name}
        assert served == expected, name


def _paths(app) -> dict[str, set[str]]:
    import json

    schema = json.loads(app.get_openapi_json_schema())
    return {path: {m.upper() for m in ops} for path, ops in schema["paths"].items()}


def test_committed_openapi_document_matches_the_code():
    assert DOC.read_text(encoding="utf-8") == render(), "run `make openapi` and commit docs/openapi.json"
