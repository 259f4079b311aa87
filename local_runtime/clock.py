"""The local runtime at another hour: a dev-only clock, so that the platform (and its test suite) can be
tried at 3 a.m. on a Sunday without waiting for one. Lambda code never reads it: only the local runtime's
entry points (`python -m local_runtime`, `python -m local_runtime.demo`) and the test suite's `--clock`.

``RESCUE_NEARBY_CLOCK`` holds either
- an ISO-8601 instant with its UTC offset, ``2026-12-06T03:00+08:00``: the process starts at that instant;
- or a signed number of seconds from the real clock, ``-3600`` or ``+432000.25``: what `pytest --clock`
  hands its workers and the local runtimes it starts, so that every process of a test session reads the
  same time however late it starts.

From there the clock keeps running (time-machine, ``tick=True``). Only the wall clock moves: monotonic
clocks, timeouts and sleeps stay real, so moto's waits and the workflow's timings are unchanged.
"""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

ENV = "RESCUE_NEARBY_CLOCK"


def instant(value: str) -> datetime:
    """An ISO-8601 instant that says its UTC offset (an hour without a zone means nothing here)."""
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise ValueError(f"not an ISO-8601 instant: {value!r} (e.g. 2026-12-06T03:00+08:00)") from None
    if parsed.tzinfo is None:
        raise ValueError(f"{value!r} has no UTC offset (e.g. 2026-12-06T03:00+08:00)")
    return parsed


def destination(value: str, real_now: float | None = None) -> datetime:
    """Where ``RESCUE_NEARBY_CLOCK``'s value sends the clock, read against the real clock now."""
    value = value.strip()
    if value[:1] in ("+", "-"):
        try:
            offset_s = float(value)
        except ValueError:
            raise ValueError(f"{ENV}={value!r}: neither an ISO-8601 instant nor signed seconds") from None
        return datetime.fromtimestamp((_real_time() if real_now is None else real_now) + offset_s, UTC)
    return instant(value)


def offset_to(target: datetime) -> str:
    """The value that sends a process started later to the same running clock as one that travels to
    ``target`` now."""
    return f"{target.timestamp() - _real_time():+.6f}"


def _real_time() -> float:
    """The real clock, even in a process that travels already."""
    from time_machine import escape_hatch  # a dev dependency, as the whole local runtime is

    return escape_hatch.time.time() if escape_hatch.is_travelling() else time.time()


def travel_from_environment() -> Any | None:
    """Start the travel ``RESCUE_NEARBY_CLOCK`` asks for (ticking); None when it is unset. Call it before
    anything reads the time. The returned traveller's ``stop()`` ends it."""
    value = os.environ.get(ENV, "").strip()
    if not value:
        return None
    import time_machine  # a dev dependency, as the whole local runtime is

    traveller = time_machine.travel(destination(value), tick=True)
    traveller.start()
    # time-machine starts the ticking at the first read, not at start(): read now, so that the clock runs
    # from this moment and processes sent by the same offset agree (else one that reads late lags).
    time.time()
    return traveller


def describe(time_zone: str) -> str:
    """For a banner: the time this process reads when it travels, in the deployment's zone; else ""."""
    if not os.environ.get(ENV, "").strip():
        return ""
    now = datetime.now(ZoneInfo(time_zone))
    return f"clock moved by {ENV}: it reads {now:%a %Y-%m-%d %H:%M %z} ({time_zone}) and runs on"
