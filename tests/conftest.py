"""Shared fixtures. The environment is set before anything imports shared.config, so every test runs
against the embedded AWS with local credentials that can never reach a real account.

`--clock=2026-12-06T03:00+08:00` runs the whole session at that instant (Sunday 03:00 in Hangzhou): the
wall clock of this process, of every xdist worker and of every local runtime a test starts moves there
and keeps running (time-machine, ticking; local_runtime/clock.py). The suite must pass at any hour."""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import pytest

from local_runtime import clock
from local_runtime.aws import prepare_environment

prepare_environment()
# The rescue workflow's waits, short enough for tests (deployments use the contract's 60 s waves).
os.environ.setdefault("WAVE_WAIT_SECONDS", "1")
os.environ.setdefault("INCIDENT_EXPIRE_SECONDS", "120")
os.environ.setdefault("WEBHOOK_FIRST_RETRY_SECONDS", "1")  # a status webhook's first retry (30 s deployed)
_TRAVEL = pytest.StashKey[Any]()


def _instant(value: str) -> Any:
    try:
        return clock.instant(value)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--clock",
        type=_instant,
        metavar="ISO_INSTANT",
        help="run every test, and every local runtime the tests start, as if the clock read this instant "
        "(with its UTC offset, e.g. 2026-12-06T03:00+08:00); the clock keeps running from there",
    )


def pytest_configure(config: pytest.Config) -> None:
    """Runs in the controller and again in each xdist worker. The controller (or a run without xdist)
    turns --clock into an offset from the real clock in RESCUE_NEARBY_CLOCK; the workers it spawns and
    the local runtimes the tests start inherit that variable, so every process reads the same time."""
    wanted = config.getoption("clock")
    if wanted is not None and (not hasattr(config, "workerinput") or clock.ENV not in os.environ):
        os.environ[clock.ENV] = clock.offset_to(wanted)
    config.stash[_TRAVEL] = clock.travel_from_environment()


def pytest_unconfigure(config: pytest.Config) -> None:
    travel = config.stash.get(_TRAVEL, None)
    if travel is not None:
        travel.stop()


def pytest_report_header(config: pytest.Config) -> str | None:
    return clock.describe(os.environ.get("TIME_ZONE", "Asia/Shanghai")) or None


@pytest.fixture
def aws() -> Iterator[Any]:
    """A fresh embedded AWS per test: tables, topic and state machine as `make run` creates them."""
    from local_runtime import aws as embedded

    running = embedded.start()
    try:
        yield running
    finally:
        running.stop()


@dataclass
class Reply:
    status: int
    body: Any
    headers: Mapping[str, str]


class Api:
    """Calls the real handlers with the events API Gateway would build (claims as its authorizer
    passes them), without HTTP: the integration level."""

    def __init__(self) -> None:
        from local_runtime.lambdas import Functions

        self.functions = Functions()

    def __call__(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        query: Mapping[str, Any] | None = None,
        sub: str | None = None,
        roles: tuple[str, ...] = (),
        raw_body: str | None = None,
        headers: Mapping[str, str] | None = None,
        source_ip: str = "127.0.0.1",
    ) -> Reply:
        from local_runtime.events import match, proxy_event

        route, params, _ = match(method, path)
        assert route is not None, f"no route {method} {path}"
        claims = None
        if sub is not None:
            claims = {"sub": sub, "token_use": "id"}
            if roles:
                claims["cognito:groups"] = ",".join(roles)
        event = proxy_event(
            route,
            path=path,
            path_parameters=params,
            query=urlencode(query or {}, doseq=True),
            headers={"Content-Type": "application/json", **(headers or {})},
            body=raw_body if raw_body is not None else (json.dumps(body) if body is not None else None),
            claims=claims,
            source_ip=source_ip,
        )
        result = self.functions.invoke(route.function, event)
        text = result.get("body") or ""
        headers = {**(result.get("headers") or {})}  # as API Gateway merges them: the last value
        headers |= {
            name: values[-1] for name, values in (result.get("multiValueHeaders") or {}).items() if values
        }
        return Reply(result["statusCode"], json.loads(text) if text else None, headers)


@pytest.fixture
def api(aws: Any) -> Api:
    return Api()
