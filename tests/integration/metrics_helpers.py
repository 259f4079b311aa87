"""Reading the metrics the functions print: CloudWatch EMF documents, one JSON line each on stdout
(shared/observability.py; what is emitted: docs/architecture.md, "Metrics and tracing")."""

from __future__ import annotations

import json
from typing import Any


def emf_lines(out: str) -> list[dict[str, Any]]:
    """The EMF documents among the captured output (the logger writes JSON lines too)."""
    documents = []
    for line in out.splitlines():
        try:
            document = json.loads(line)
        except ValueError:
            continue
        if isinstance(document, dict) and "_aws" in document:
            documents.append(document)
    return documents


def metrics_of(document: dict[str, Any]) -> dict[str, float]:
    """Metric name → value, checked against the document's own declaration (namespace, unit)."""
    [declared] = document["_aws"]["CloudWatchMetrics"]
    assert declared["Namespace"] == "RescueNearby"
    assert declared["Dimensions"] == [["service"]] and document["service"] == "rescue-nearby"
    units = {m["Name"]: m["Unit"] for m in declared["Metrics"]}
    assert all(unit == ("Milliseconds" if name.endswith("Ms") else "Count") for name, unit in units.items())
    return {m["Name"]: sum(document[m["Name"]]) for m in declared["Metrics"]}


def emitted(out: str, name: str) -> list[dict[str, float]]:
    """Every EMF document in ``out`` that carries the metric ``name``, as name → value."""
    return [m for m in map(metrics_of, emf_lines(out)) if name in m]
