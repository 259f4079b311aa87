"""The OpenAPI document, generated from the functions' resolvers (their routes, models and docs) and
the route table (who may call what). `make openapi` writes it to docs/openapi.json; a test fails when
the committed copy drifts from the code."""

from __future__ import annotations

import importlib
import importlib.util
import json
from typing import Any

from shared.routes import FUNCTIONS, ROUTES

TITLE = "Rescue Nearby API"
VERSION = "1.0.0"
DESCRIPTION = (
    "Cardiac-arrest SOS to trained volunteers and an AED within minutes. Errors are "
    '{"error": {"code", "message"}}. Roles come from the bearer token: its cognito:groups claim in the '
    "global profile, the OIDC issuer's roles claim (default groups) in the cn profile."
)


def documented_resolver(function: str) -> Any:
    """The resolver a function's routes are documented by: its handler's, or, for a handler that reads
    requests without one (the SOS, for its cold start), the one declared in its contract module."""
    contract = f"functions.{function}.contract"
    module = contract if importlib.util.find_spec(contract) else f"functions.{function}.handler"
    return importlib.import_module(module).app


def build() -> dict[str, Any]:
    document: dict[str, Any] = {}
    for name in FUNCTIONS:
        app = documented_resolver(name)
        part = json.loads(app.get_openapi_json_schema(title=TITLE, version=VERSION, description=DESCRIPTION))
        if not document:
            document = part
            continue
        document["paths"].update(part.get("paths", {}))
        document.setdefault("components", {}).setdefault("schemas", {}).update(
            part.get("components", {}).get("schemas", {})
        )
    document["servers"] = [{"url": "/"}]
    document.setdefault("components", {})["securitySchemes"] = {
        "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
    }
    for route in ROUTES:
        operation = document["paths"][route.path][route.method.lower()]
        if route.signed:
            operation["security"] = []
            who = (
                "a registered 120 dispatch centre, by its Standard Webhooks signature over the raw body "
                "(no token; docs/dispatch.md)"
            )
        elif route.roles is None:
            operation["security"] = []
            who = "anyone, no token needed"
        else:
            operation["security"] = [{"bearer": []}]
            who = (
                ", ".join(sorted(route.roles)) if route.roles else "any signed-in caller (the record decides)"
            )
        operation["description"] = f"Who: {who}."
    document["paths"] = dict(sorted(document["paths"].items()))
    return document


def render() -> str:
    return json.dumps(build(), indent=2, ensure_ascii=False, sort_keys=True) + "\n"


if __name__ == "__main__":
    print(render(), end="")
