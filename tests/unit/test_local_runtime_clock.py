"""RESCUE_NEARBY_CLOCK, the local runtime's dev-only clock (and what `pytest --clock` hands its workers and
subprocesses): an ISO instant, or seconds from the real clock; anything else is refused."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from time_machine import escape_hatch

from local_runtime import clock

ROOT = Path(__file__).resolve().parents[2]


def real_time() -> float:  # the suite may run under --clock
    return escape_hatch.time.time() if escape_hatch.is_travelling() else time.time()


def test_an_iso_instant_or_signed_seconds_from_the_real_clock():
    sunday_3am = datetime(2026, 12, 5, 19, 0, tzinfo=UTC)
    assert clock.destination("2026-12-06T03:00+08:00") == sunday_3am
    real_now = 1_800_000_000.0
    assert clock.destination("-3600", real_now) == datetime.fromtimestamp(real_now - 3600, UTC)
    assert clock.destination("+90.5", real_now) == datetime.fromtimestamp(real_now + 90.5, UTC)
    offset = float(clock.offset_to(sunday_3am))
    assert clock.destination(f"{offset:+f}").timestamp() == pytest.approx(sunday_3am.timestamp(), abs=5)


@pytest.mark.parametrize("value", ["2026-12-06T03:00", "tomorrow", "+3h", "2026-13-01T00:00+08:00"])
def test_an_instant_without_offset_or_that_is_no_instant_is_refused(value):
    with pytest.raises(ValueError):
        clock.destination(value)


def test_a_process_started_with_it_reads_that_time_and_the_clock_runs_on():
    script = (
        "import time; from local_runtime import clock; clock.travel_from_environment(); "
        "from datetime import datetime; a = time.time(); time.sleep(0.3); "
        "print(datetime.now().astimezone().isoformat(), time.time() - a)"
    )
    env = {**os.environ, clock.ENV: "2026-12-06T03:00+08:00", "TZ": "Asia/Shanghai"}
    shown = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert shown.returncode == 0, shown.stderr
    now, ticked = shown.stdout.split()
    assert now.startswith("2026-12-06T03:00:0") and float(ticked) >= 0.25


def test_processes_sent_by_the_same_offset_read_the_same_time_however_late_they_first_read_it():
    """What `pytest --clock` relies on: a local runtime that first reads the clock seconds after it
    started (importing moto) agrees with the test that started it."""
    target = datetime(2026, 12, 5, 19, 0, tzinfo=UTC)
    env = {**os.environ, clock.ENV: clock.offset_to(target)}  # from the real clock, as --clock does
    script = (
        "import time; from local_runtime import clock; clock.travel_from_environment(); "
        "time.sleep(1); print(time.time())"
    )
    started = real_time()
    shown = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    finished = real_time()
    assert shown.returncode == 0, shown.stderr
    read = float(shown.stdout) - target.timestamp()  # seconds after the target, as the subprocess saw it
    assert 1.0 <= read <= finished - started + 0.01
