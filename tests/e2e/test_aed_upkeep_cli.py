"""`rescue-nearby aeds upkeep` and `rescue-nearby aeds coverage` as an operator runs them: the installed
console script against a local runtime in a subprocess (as `SEED_DEMO=0 make run` starts it)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.e2e.runtime import running

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]
ROOT = Path(__file__).resolve().parents[2]
COMMAND = Path(sys.executable).parent / "rescue-nearby"  # the console script pyproject installs
HUBIN = (30.2590, 120.1650)


@pytest.fixture(scope="module")
def api_url(tmp_path_factory) -> Iterator[str]:
    with running(tmp_path_factory.mktemp("runtime") / "runtime.log", SEED_DEMO="0") as url:
        yield url


def call(url: str, method: str = "GET", body: Any = None, token: str | None = None) -> Any:
    data = json.dumps(body).encode() if body is not None else None
    headers = {"Content-Type": "application/json", **({"Authorization": f"Bearer {token}"} if token else {})}
    request = urllib.request.Request(url, data=data, headers=headers, method=method)
    with urllib.request.urlopen(request, timeout=60) as reply:
        return json.loads(reply.read())


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(COMMAND), "aeds", *args], capture_output=True, text=True, timeout=300, cwd=ROOT
    )


def test_upkeep_command_takes_expired_aeds_out_of_search_once_and_reminds_the_manager(api_url):
    token = call(f"{api_url}/dev/token", "POST", {"sub": "manager-e2e", "roles": ["aed_manager"]})["token"]
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    expired = call(
        f"{api_url}/v1/aeds",
        "POST",
        {
            "lat": 30.2600,
            "lng": 120.1650,
            "name": "pads expired",
            "opening_hours": "24/7",
            "pads_expire_on": (today - timedelta(days=1)).isoformat(),
        },
        token,
    )["aed_id"]
    soon = call(
        f"{api_url}/v1/aeds",
        "POST",
        {
            "lat": 30.2605,
            "lng": 120.1650,
            "name": "battery in 7 days",
            "opening_hours": "24/7",
            "battery_expires_on": (today + timedelta(days=7)).isoformat(),
        },
        token,
    )["aed_id"]
    nearby = f"{api_url}/v1/aeds/nearby?lat={HUBIN[0]}&lng={HUBIN[1]}&radius_m=500"
    assert {i["aed_id"] for i in call(nearby)["items"]} == {expired, soon}

    first = cli("upkeep", "--api-url", api_url)
    assert first.returncode == 0, first.stderr
    assert re.search(r"checked 2 AEDs; expired 1, reminders sent 2, overdue 0", first.stdout), first.stdout
    assert expired in first.stdout
    assert [i["aed_id"] for i in call(nearby)["items"]] == [soon]
    again = cli("upkeep", "--api-url", api_url)
    assert "expired 0, reminders sent 0" in again.stdout, again.stdout
    outbox = call(f"{api_url}/dev/outbox?to=manager-e2e")["items"]
    assert sorted((m["kind"], m["aed_id"]) for m in outbox) == [
        ("battery_expiry_7d", soon),
        ("pads_expired", expired),
    ]
    # Half a year on, nobody has inspected either: both overdue, one reminder each.
    later = cli("upkeep", "--api-url", api_url, "--at", (today + timedelta(days=200)).isoformat())
    assert re.search(r"reminders sent \d+, overdue 2", later.stdout), later.stdout


def test_coverage_command_by_bbox_and_by_district(api_url, tmp_path):
    box = cli(
        "coverage",
        "--bbox",
        "120.16,30.255,120.17,30.265",
        "--day",
        "We",
        "--hour",
        "15",
        "--grid-m",
        "25",
        "--api-url",
        api_url,
    )
    assert box.returncode == 0, box.stderr
    assert "within 100 m:" in box.stdout and "within 300 m (a 4-minute walk):" in box.stdout
    assert re.search(r"T15:00:00\+08:00 \(We 15:00\)", box.stdout), box.stdout
    square = [[120.16, 30.255], [120.17, 30.255], [120.17, 30.265], [120.16, 30.265], [120.16, 30.255]]
    far = [[121.0, 31.0], [121.01, 31.0], [121.01, 31.01], [121.0, 31.0]]
    districts = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"name": "湖滨"},
                "geometry": {"type": "Polygon", "coordinates": [square]},
            },
            {
                "type": "Feature",
                "properties": {"name": "far"},
                "geometry": {"type": "Polygon", "coordinates": [far]},
            },
        ],
    }
    path = tmp_path / "districts.geojson"
    path.write_text(json.dumps(districts, ensure_ascii=False), encoding="utf-8")
    district = cli(
        "coverage",
        "--district",
        str(path),
        "--feature-name",
        "湖滨",
        "--day",
        "We",
        "--hour",
        "15",
        "--grid-m",
        "25",
        "--api-url",
        api_url,
    )
    assert district.returncode == 0, district.stderr
    assert box.stdout.splitlines()[1:] == district.stdout.splitlines()[1:]  # the same square, the same shares
    ambiguous = cli("coverage", "--district", str(path), "--day", "We", "--hour", "15", "--api-url", api_url)
    assert ambiguous.returncode == 2 and "--feature-name" in ambiguous.stderr
    too_fine = cli(
        "coverage", "--bbox", "120.0,30.0,120.9,30.9", "--day", "Su", "--hour", "3", "--api-url", api_url
    )
    assert too_fine.returncode == 5 and "use a larger grid_m" in too_fine.stderr
