"""Liveness for load balancers and the apps' status screen."""

from __future__ import annotations

from shared.api.health import Health
from shared.api.http import create_app, entry_point

app = create_app()


@app.get("/v1/health")
def health() -> Health:
    return Health(status="ok")


lambda_handler = entry_point(app)
