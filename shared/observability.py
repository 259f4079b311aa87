"""Logger, Tracer and Metrics: created once, imported everywhere."""

from __future__ import annotations

from aws_lambda_powertools import Logger, Tracer

logger = Logger(service="rescue-nearby")
tracer = Tracer(service="rescue-nearby", disabled=None)
