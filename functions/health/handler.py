"""Liveness for load balancers and the apps' status screen."""

from __future__ import annotations

from shared.api.http import create_app, entry_point
from shared.api.schemas import Health

app = create_app()


@app.get("/v1/health")
def health() -> Health:
    return Health(status="ok")


lambda_handler = entry_point(app)
