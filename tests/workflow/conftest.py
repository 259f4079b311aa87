"""Fixtures of the workflow tests: the real ASL executed by moto."""

from __future__ import annotations

import time
from types import SimpleNamespace

import pytest

SPEED_UP = 100  # retry back-offs sleep 1/100 of their time


@pytest.fixture
def quick_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """moto's interpreter sleeps each retry's back-off for real (AssessWave1's five take 31 s): here a
    hundredth of it; and the fixed wait before the second finish (FinishLater, 300 s) one second."""
    from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
    from moto.stepfunctions.parser.asl.component.state.wait.wait_function.seconds import Seconds

    sleep = time.sleep
    monkeypatch.setattr(retrier_decl, "time", SimpleNamespace(sleep=lambda s: sleep(s / SPEED_UP)))
    monkeypatch.setattr(Seconds, "_get_wait_seconds", lambda self, env: min(self.seconds, 1))
