"""Logging and metrics: the logger is created once and imported everywhere; each function that emits
metrics creates its own metric set with ``function_metrics()`` and flushes it per invocation.

Tracing: every function runs with Lambda's active tracing (infra/constructs/functions.py), which records
each invocation's segment with no code here. Powertools' Tracer would add a subsegment per AWS call, but
it imports aws_xray_sdk: about 0.2 s of CPU on every cold start (measured: two thirds of what boto3 and
the SOS function's three clients cost), and that cold start is an SOS waiting. The SOS path's AWS calls
are already counted and timed by `make bench`, so the Tracer is not used.

Metrics: CloudWatch embedded metric format, one JSON line on stdout per invocation that recorded any
(CloudWatch Logs turns it into metrics: no API call, no IAM, nothing on the critical path). What is
emitted and where: docs/architecture.md, "Metrics and tracing".
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from aws_lambda_powertools import Logger
from aws_lambda_powertools.metrics import EphemeralMetrics, MetricUnit

SERVICE = "rescue-nearby"
METRICS_NAMESPACE = "RescueNearby"  # the same as infra/constants.py, which sets it for the functions

# The metrics the platform emits (all counts, dimension "service").
SOS_ACCEPTED = "SosAccepted"  # a new SOS stored (a retry with the same Idempotency-Key is not counted)
RESPONDERS_ALERTED = "RespondersAlerted"  # alerts SNS took: by the SOS request, later waves, re-deliveries
ALERTS_FAILED = "AlertsFailed"  # alert publishes that failed (the workflow's next step retries them)
INCIDENTS_UNANSWERED = "IncidentsUnanswered"  # the last wave ended with slots open: dispatch centre told
RESPONDER_ACCEPTED = "ResponderAccepted"  # an alerted responder accepted (a repeated accept is not counted)
# Milliseconds from the SOS function receiving an SOS to SNS taking its first alert (none: nobody near).
SOS_TO_FIRST_ALERT_MS = "SosToFirstAlertMs"

logger = Logger(service=SERVICE)

Handler = TypeVar("Handler", bound=Callable[..., Any])


def function_metrics() -> EphemeralMetrics:
    """One function's metric set. Not Powertools' ``Metrics``, whose instances share one set across the
    process: in Lambda that is one function, but the local runtime and the tests run every function in
    one process, and a workflow step ending on moto's thread would flush the SOS handler's metrics."""
    return EphemeralMetrics(namespace=METRICS_NAMESPACE, service=SERVICE)


def count(metrics: EphemeralMetrics, name: str, value: int) -> None:
    metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)


def milliseconds(metrics: EphemeralMetrics, name: str, value: float) -> None:
    metrics.add_metric(name=name, unit=MetricUnit.Milliseconds, value=round(value, 1))


def flushed_per_invocation(metrics: EphemeralMetrics) -> Callable[[Handler], Handler]:
    """Flush ``metrics`` when each invocation ends, also when it raises: ``metrics.log_metrics`` without
    its warning for invocations that recorded nothing (a malformed SOS, most workflow steps)."""

    def decorate(handler: Handler) -> Handler:
        @functools.wraps(handler)
        def invocation(*args: Any, **kwargs: Any) -> Any:
            try:
                return handler(*args, **kwargs)
            finally:
                if metrics.metric_set:
                    metrics.flush_metrics()
                    # Powertools keeps the set when metrics are turned off (the local runtime): an
                    # invocation never carries the last one's metrics.
                    metrics.clear_metrics()

        return invocation  # type: ignore[return-value]

    return decorate
