"""Every single fault on the SOS path is survived. One AWS call of the SOS request fails at a time (a
throttle, a 5xx, a timeout: injected through botocore's ``before-call`` event on the session every client
and the data layer share), and for each: one incident, every eligible responder alerted exactly once
(after the app's retry with the same Idempotency-Key where the SOS answered 5xx; the workflow's first
state delivers what the request could not).

The workflow's steps are held back until the SOS request has answered, so the calls counted are the
request's own and the n-th call is a point on the SOS path; they then run as usual.
"""

from __future__ import annotations

import dataclasses
import itertools
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError, ReadTimeoutError

from local_runtime import aws as embedded
from local_runtime import lambda_adapter, outbox
from shared import wiring
from shared.config import settings
from shared.dal.models.rescue import CreditModel, IncidentModel
from tests.conftest import Api
from tests.integration.rescue_helpers import PATIENT, north_of, responder, until

RESPONDERS_AT_M = (60, 250, 600)  # all eligible, all within wave 1's 1,000 m


def _faults() -> Iterator[Exception]:
    """Throttle, 5xx and timeout, in turn."""
    for kind in itertools.cycle(("throttle", "5xx", "timeout")):
        if kind == "throttle":
            yield ClientError({"Error": {"Code": "ThrottlingException", "Message": "injected"}}, "injected")
        elif kind == "5xx":
            error = {"Code": "ServiceUnavailable", "Message": "injected"}
            yield ClientError({"Error": error, "ResponseMetadata": {"HTTPStatusCode": 503}}, "injected")
        else:
            yield ReadTimeoutError(endpoint_url="https://injected")


class Injector:
    """Counts the AWS calls made while armed; the ``fail_at``-th one (1-based) raises ``fault``."""

    def __init__(self) -> None:
        self.armed = False
        self.fail_at: int | None = None
        self.fault: Exception | None = None
        self.calls: list[tuple[str, str]] = []
        self._lock = threading.Lock()

    def __call__(self, model: Any, **_: Any) -> None:
        if not self.armed:
            return
        with self._lock:
            self.calls.append((model.service_model.service_name, model.name))
            failing = len(self.calls) == self.fail_at
        if failing and self.fault is not None:
            raise self.fault


def _clients() -> list[Any]:
    """Every client the SOS path and the steps use: each copies its session's event hooks when it is
    made, so the injector goes on each one (and on the session, for clients made later)."""
    return [wiring.dynamodb().client, wiring.sns(), wiring.stepfunctions()]


def hook(injector: Injector) -> None:
    for events in [wiring.botocore_session(), *(c.meta.events for c in _clients())]:
        events.register("before-call", injector, unique_id="fault-injector")


def unhook() -> None:
    for events in [wiring.botocore_session(), *(c.meta.events for c in _clients())]:
        events.unregister("before-call", unique_id="fault-injector")


@contextmanager
def platform(injector: Injector) -> Iterator[tuple[Any, Api, threading.Event]]:
    """A fresh embedded AWS with three responders on duty; rescue_steps waits for the returned event."""
    running = embedded.start()
    hook(injector)
    release = threading.Event()
    real_invoke = lambda_adapter._functions.invoke

    def held(name: str, event: dict[str, Any]) -> dict[str, Any]:
        release.wait(timeout=60)
        return real_invoke(name, event)

    lambda_adapter._functions.invoke = held  # type: ignore[method-assign]
    try:
        api = Api()
        for metres in RESPONDERS_AT_M:
            responder(api, at=north_of(*PATIENT, metres))
        yield running, api, release
    finally:
        release.set()
        lambda_adapter._functions.invoke = real_invoke  # type: ignore[method-assign]
        running.stop()


def raise_sos(api: Api, injector: Injector) -> Any:
    injector.armed = True
    try:
        return api(
            "POST", "/v1/sos", {"lat": PATIENT[0], "lng": PATIENT[1]}, headers={"Idempotency-Key": "tap-1"}
        )
    finally:
        injector.armed = False


def parked(running: Any, incident_id: str) -> bool:
    arn = running.state_machine_arn.replace(":stateMachine:", ":execution:") + ":" + incident_id
    history = boto3.client("stepfunctions").get_execution_history(executionArn=arn, maxResults=1000)
    return any(e["type"] == "WaitStateEntered" for e in history["events"])


def test_every_single_fault_on_the_sos_path_is_survived() -> None:
    injector = Injector()
    try:
        with platform(injector) as (_, api, release):  # the path's calls, with no fault
            assert raise_sos(api, injector).status == 202
            release.set()
        points = list(injector.calls)
        assert len(points) >= 10, points
        outcomes: list[tuple[int, tuple[str, str], type, int]] = []
        for point, fault in zip(range(1, len(points) + 1), _faults(), strict=False):
            injector.calls, injector.fail_at, injector.fault = [], point, fault
            with platform(injector) as (running, api, release):
                first = raise_sos(api, injector)
                failed_call = injector.calls[point - 1] if len(injector.calls) >= point else ("-", "-")
                answer = first
                if first.status >= 500:  # the app retries the same SOS
                    answer = api(
                        "POST",
                        "/v1/sos",
                        {"lat": PATIENT[0], "lng": PATIENT[1]},
                        headers={"Idempotency-Key": "tap-1"},
                    )
                assert answer.status == 202, (point, failed_call, first.body, answer.body)
                release.set()
                incident_id = answer.body["incident_id"]

                def everyone_alerted(incident_id: str = incident_id) -> bool:
                    got = Counter(m["to"] for m in outbox.read() if m.get("kind") == "alert")
                    return len(got) == len(RESPONDERS_AT_M) and parked(running, incident_id)

                until(
                    everyone_alerted, deadline_s=60, what=f"every responder alerted (fault at {failed_call})"
                )
                alerts = Counter(m["to"] for m in outbox.read() if m.get("kind") == "alert")
                assert sorted(alerts.values()) == [1] * len(RESPONDERS_AT_M), (point, failed_call, alerts)
                assert [m.incident_id for m in IncidentModel.scan()] == [incident_id], (point, failed_call)
                outcomes.append((point, failed_call, type(fault), first.status))
        print(f"\n{len(outcomes)} fault points on the SOS path, each survived:")
        for point, call, kind, status in outcomes:
            print(f"  {point:2d}. {call[0]}.{call[1]}: {kind.__name__} -> first answer {status}")
    finally:
        unhook()


# --- the workflow's steps -------------------------------------------------------------------------


class StepInjector(Injector):
    """Counts the calls the workflow's steps make (each named by its step), and fails the first call
    that matches ``fail_on`` (step, service, operation)."""

    def __init__(self) -> None:
        super().__init__()
        self.step: str | None = None
        self.fail_on: tuple[str, str, str] | None = None
        self.failed: tuple[str, str, str] | None = None
        self.main = threading.get_ident()

    def __call__(self, model: Any, **_: Any) -> None:
        # The steps' own calls: the test's requests (the accept, the close) run on its own thread.
        if self.step is None or threading.get_ident() == self.main:
            return
        call = (self.step, model.service_model.service_name, model.name)
        with self._lock:
            self.calls.append(call)
            failing = self.failed is None and call == self.fail_on
            if failing:
                self.failed = call
        if failing and self.fault is not None:
            raise self.fault


def rescue(api: Api, running: Any, injector: StepInjector, release: threading.Event) -> tuple[str, list[str]]:
    """SOS (three responders alerted), the nearest accepts, the waves run out, the dispatcher closes:
    the incident and the responders, the acceptor first."""
    incident_id = raise_sos(api, Injector()).body["incident_id"]
    alerted = {m["to"] for m in outbox.read() if m.get("kind") == "alert"}
    view = api("GET", f"/v1/incidents/{incident_id}", sub="d", roles=("dispatcher",)).body
    nearest = min(view["alerts"], key=lambda a: a["distance_m"])["responder_id"]
    assert (
        api("POST", f"/v1/incidents/{incident_id}/responses", {"action": "accept"}, sub=nearest).status == 200
    )
    release.set()  # the workflow runs from here, alone

    def awaiting_closure() -> bool:
        arn = running.state_machine_arn.replace(":stateMachine:", ":execution:") + ":" + incident_id
        history = boto3.client("stepfunctions").get_execution_history(executionArn=arn, maxResults=1000)
        entered = [
            e["stateEnteredEventDetails"]["name"]
            for e in history["events"]
            if "stateEnteredEventDetails" in e
        ]
        return "AwaitClosure" in entered and any(
            m.incident_id == incident_id and m.closure_token for m in IncidentModel.scan()
        )

    until(awaiting_closure, deadline_s=60, what="the workflow to wait for the close")
    closed = api(
        "POST",
        f"/v1/incidents/{incident_id}/close",
        {"outcome": "transported"},
        sub="d",
        roles=("dispatcher",),
    )
    assert closed.status == 200
    return incident_id, [nearest, *sorted(alerted - {nearest})]


@pytest.mark.usefixtures("quick_retries")
def test_every_single_fault_in_the_workflows_steps_is_survived(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each (step, service, operation) the rescue's steps call, failed once (throttle, 5xx, timeout in
    turn), over a whole rescue: every responder alerted once, everyone but the acceptor stood down
    once, the acceptor's points given once, the dispatch centre told once, the execution succeeded."""
    policy = dataclasses.replace(wiring.policy(), wave_wait_s=1)
    monkeypatch.setattr(wiring, "policy", lambda: policy)
    injector = StepInjector()
    real_invoke = lambda_adapter._functions.invoke

    def named(name: str, event: dict[str, Any]) -> dict[str, Any]:
        injector.step = event.get("action")
        try:
            return real_invoke(name, event)
        finally:
            injector.step = None

    monkeypatch.setattr(lambda_adapter._functions, "invoke", named)
    try:
        with platform(injector) as (running, api, release):
            rescue(api, running, injector, release)
            until(lambda: _succeeded(running), deadline_s=60, what="the rescue to finish")
        points = list(dict.fromkeys(injector.calls))
        assert {p[0] for p in points} >= {"redeliver", "assess", "wave", "unanswered", "park", "finish"}, (
            points
        )
        survived = []
        for point, fault in zip(points, _faults(), strict=False):
            injector.calls, injector.fail_on, injector.failed, injector.fault = [], point, None, fault
            with platform(injector) as (running, api, release):
                incident_id, (acceptor, *others) = rescue(api, running, injector, release)
                until(
                    lambda: _succeeded(running),
                    deadline_s=90,
                    what=f"the rescue to finish (fault at {point})",
                )
                sent = Counter((m["to"], m["kind"]) for m in outbox.read())
                assert {rid: sent[(rid, "alert")] for rid in [acceptor, *others]} == dict.fromkeys(
                    [acceptor, *others], 1
                ), point
                assert {rid: sent[(rid, "stand_down")] for rid in others} == dict.fromkeys(others, 1), point
                assert sent[(acceptor, "stand_down")] == 0, point
                credits = [c for c in CreditModel.scan() if c.responder_id == acceptor]
                assert [(c.credit_key, c.points) for c in credits] == [(f"{incident_id}#accepted", 5)], point
                assert len(dispatch_centre_messages(running)) == 1, point  # unanswered: a CPR slot open
                survived.append((point, type(fault).__name__, injector.failed is not None))
        print(f"\n{len(survived)} fault points in the workflow's steps, each survived:")
        for (step, service, operation), kind, hit in survived:
            print(f"  {step}: {service}.{operation}: {kind}{'' if hit else ' (not reached this run)'}")
    finally:
        unhook()


def dispatch_centre_messages(running: Any) -> list[Any]:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.sns.models import sns_backends

    topic = sns_backends[DEFAULT_ACCOUNT_ID][settings().region].topics[running.dispatch_topic_arn]
    return list(topic.sent_notifications)


def _succeeded(running: Any) -> bool:
    executions = boto3.client("stepfunctions").list_executions(stateMachineArn=running.state_machine_arn)
    return [e["status"] for e in executions["executions"]] == ["SUCCEEDED"]
