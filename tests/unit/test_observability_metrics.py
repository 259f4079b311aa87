"""A function's metrics are flushed once per invocation: one EMF line when it recorded any, nothing
(and no warning) when it recorded none, and never carried into the next invocation."""

from __future__ import annotations

import json
import warnings

import pytest

from shared.observability import SOS_ACCEPTED, count, flushed_per_invocation, function_metrics


def test_one_line_per_invocation_that_recorded_metrics_also_when_it_raises(monkeypatch, capsys):
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "false")
    metrics = function_metrics()

    @flushed_per_invocation(metrics)
    def handler(event: dict[str, int], context: object) -> None:
        count(metrics, SOS_ACCEPTED, event["n"])
        if event.get("fail"):
            raise RuntimeError("the step fails after counting")

    handler({"n": 2}, None)
    with pytest.raises(RuntimeError):
        handler({"n": 3, "fail": 1}, None)
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line[SOS_ACCEPTED] for line in lines] == [[2.0], [3.0]]
    assert {line["_aws"]["CloudWatchMetrics"][0]["Namespace"] for line in lines} == {"RescueNearby"}


def test_an_invocation_that_recorded_nothing_prints_nothing_and_warns_nothing(monkeypatch, capsys):
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "false")
    handler = flushed_per_invocation(function_metrics())(lambda event, context: "ok")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert handler({}, None) == "ok"
    assert capsys.readouterr().out == ""


def test_metrics_turned_off_are_dropped_not_kept_for_the_next_invocation(monkeypatch, capsys):
    metrics = function_metrics()

    @flushed_per_invocation(metrics)
    def handler(event: object, context: object) -> None:
        count(metrics, SOS_ACCEPTED, 1)

    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    handler({}, None)
    handler({}, None)
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "false")
    handler({}, None)
    [line] = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert line[SOS_ACCEPTED] == [1.0]
