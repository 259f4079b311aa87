"""`make demo`: one rescue through the local runtime, every stage on its timeline, exit 0."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("demo")]
ROOT = Path(__file__).resolve().parents[2]
DEADLINE_S = 300  # seeding takes ~15 s and the rescue ~5 s; generous for a loaded CI machine
TIMELINE = re.compile(r"^\s*\+\d+\.\ds  ", re.MULTILINE)


@pytest.fixture(scope="module")
def demo() -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    for key in ("WAVE_WAIT_SECONDS", "INCIDENT_EXPIRE_SECONDS", "TIME_ZONE"):
        env.pop(key, None)  # the demo's own short waits, the deployment's time zone
    return subprocess.run(
        [sys.executable, "-m", "local_runtime.demo"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=DEADLINE_S,
    )


def timeline(demo: subprocess.CompletedProcess[str]) -> list[str]:
    return [line.strip() for line in demo.stdout.splitlines() if TIMELINE.match(line)]


def test_the_rescue_goes_through_and_exits_0(demo):
    assert demo.returncode == 0, demo.stdout + demo.stderr
    assert "went through every stage" in demo.stdout
    assert "FAILED" not in demo.stdout + demo.stderr


def test_the_timeline_shows_every_stage_in_order(demo):
    lines = timeline(demo)
    stages = [
        ("sos", r"SOS: .*湖滨银泰 in77"),
        ("alerted", r"\d+ responders alerted .*\d+ m \((SMS|PUSH)\)"),
        ("accepted", r"accepted: .* → role (cpr|aed)"),
        ("stand-down", r"\d+ stand-downs sent"),
        ("arrived", r"arrived; incident status on_scene"),
        ("cpr started", r"cpr\): cpr started"),
        ("aed attached", r"aed\): aed attached"),
        ("shock", r"aed\): shock delivered"),
        ("ems", r"ems arrived"),
        ("closed", r"closed the incident: outcome rosc"),
        ("points", r"points awarded to .*: \+\d+ \("),
        ("debrief", r"3 debrief invitations sent: …\w{5} \((SMS|PUSH)\)"),
        ("outcome", r"opens the debrief \(IES-6\): told “The patient reached hospital with a pulse\.”"),
        ("final", r"incident closed \(rosc\)"),
        ("restock", r"status needs_restock \(pads used\), out of search"),
        ("back", r"AED manager fitted new pads \(expire \d{4}-\d\d-\d\d\): .+ is back in search"),
    ]
    position = -1
    for name, pattern in stages:
        hits = [i for i, line in enumerate(lines) if re.search(pattern, line)]
        assert hits, f"no {name} line in the timeline:\n" + "\n".join(lines)
        assert hits[0] > position, f"{name} out of order:\n" + "\n".join(lines)
        position = hits[0]


def test_every_acceptor_gets_points_and_the_roles_are_two_cpr_and_one_aed(demo):
    lines = timeline(demo)
    roles = sorted(m.group(1) for line in lines if (m := re.search(r"accepted: .* → role (\w+)", line)))
    assert roles == ["aed", "cpr", "cpr"]
    runner = next(line for line in lines if "→ role aed" in line)
    assert re.search(r"role aed: fetch .+, placement .+, [\d.]+ k?m from the patient", runner), runner
    points = [int(m.group(1)) for line in lines if (m := re.search(r"points awarded .*: \+(\d+)", line))]
    assert len(points) == 3 and all(p > 0 for p in points)


def test_elapsed_times_never_go_backwards(demo):
    """Each line is dated from the SOS; lines dated by what the platform did may repeat a time."""
    times = [float(line[1 : line.index("s")]) for line in timeline(demo)]
    assert times[0] == 0.0
    assert times == sorted(times)
