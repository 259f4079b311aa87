"""`rescue-nearby aeds import` as an operator runs it: the installed console script against a local
runtime in a subprocess (started as `SEED_DEMO=0 make run` starts it), on a slice of the Taiwan file."""

from __future__ import annotations

import csv
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from cli.registries import taiwan_mohw
from tests.e2e.runtime import free_port, running

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]
ROOT = Path(__file__).resolve().parents[2]
COMMAND = Path(sys.executable).parent / "rescue-nearby"  # the console script pyproject installs
TAIWAN = ROOT / "tests" / "data" / "taiwan_aed_registry_2018.csv"
SLICE_ROWS = 400  # the file's first rows: aircraft, hotels, schools... and one AED repeated


@pytest.fixture(scope="module")
def api_url(tmp_path_factory) -> Iterator[str]:
    with running(tmp_path_factory.mktemp("runtime") / "runtime.log", SEED_DEMO="0") as url:
        yield url


@pytest.fixture(scope="module")
def taiwan_slice(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("registry") / "taiwan_slice.csv"
    with (
        TAIWAN.open(encoding="utf-8", newline="") as source,
        path.open("w", encoding="utf-8", newline="") as out,
    ):
        reader = csv.reader(source)
        writer = csv.writer(out)
        for number, row in enumerate(reader):
            if number > SLICE_ROWS:
                break
            writer.writerow(row)
    return path


def run(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(COMMAND), "aeds", "import", *args], capture_output=True, text=True, timeout=timeout
    )


def figure(summary: str, name: str) -> int:
    found = re.search(rf"^  {name}\s+([\d,]+)", summary, re.MULTILINE)
    assert found, summary
    return int(found.group(1).replace(",", ""))


def test_import_then_reimport_of_real_rows(api_url, taiwan_slice):
    expected = taiwan_mohw.read(taiwan_slice)
    assert expected.rows == SLICE_ROWS and expected.skipped["aircraft"] > 0

    first = run(str(taiwan_slice), "--format", "taiwan-mohw", "--api-url", api_url)
    assert first.returncode == 0, first.stderr
    assert figure(first.stdout, "read") == SLICE_ROWS
    assert figure(first.stdout, "created") == len(expected.records)
    assert figure(first.stdout, "unchanged") == 0
    assert figure(first.stdout, "skipped") == sum(expected.skipped.values())
    assert re.search(r"aircraft\s+" + str(expected.skipped["aircraft"]), first.stdout)
    assert f"sent {len(expected.records):,}/{len(expected.records):,} AEDs (100%)" in first.stderr

    second = run(str(taiwan_slice), "--format", "taiwan-mohw", "--api-url", api_url)
    assert second.returncode == 0, second.stderr
    assert figure(second.stdout, "created") == 0 and figure(second.stdout, "updated") == 0
    assert figure(second.stdout, "unchanged") == len(expected.records)


def test_a_dry_run_reads_and_sends_nothing(taiwan_slice):
    reply = run(str(taiwan_slice), "--format", "taiwan-mohw", "--dry-run", "--api-url", "http://127.0.0.1:9")
    assert reply.returncode == 0, reply.stderr
    assert "Dry run, nothing sent" in reply.stdout and "sent " not in reply.stderr


def test_it_exits_non_zero_with_a_clear_message_when_it_cannot_run(tmp_path, taiwan_slice):
    missing = run(str(tmp_path / "nope.csv"), "--format", "taiwan-mohw")
    assert missing.returncode == 2 and "cannot read" in missing.stderr

    wrong_format = run(str(taiwan_slice), "--format", "osm-geojson", "--dry-run")
    assert wrong_format.returncode == 2 and "not GeoJSON" in wrong_format.stderr

    deployed = run(str(taiwan_slice), "--format", "taiwan-mohw", "--api-url", "https://api.example.org")
    assert deployed.returncode == 4 and "--token is required" in deployed.stderr

    closed_port = f"http://127.0.0.1:{free_port()}"
    unreachable = run(str(taiwan_slice), "--format", "taiwan-mohw", "--api-url", closed_port, timeout=120)
    assert unreachable.returncode == 3 and "unreachable" in unreachable.stderr


def test_a_refused_token_is_reported(api_url, taiwan_slice):
    reply = run(str(taiwan_slice), "--format", "taiwan-mohw", "--api-url", api_url, "--token", "forged")
    assert reply.returncode == 4 and "refused the token" in reply.stderr
