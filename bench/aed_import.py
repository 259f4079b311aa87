"""Importing the whole Taiwan AED registry (tests/data/taiwan_aed_registry_2018.csv) into the local
runtime, the way an operator does: `rescue-nearby aeds import` (its code path: cli.aeds_import.execute)
over HTTP against `SEED_DEMO=0 make run` started in a subprocess, so the command and the platform each
have their own interpreter, as they would.

Figures: rows_per_s (the file's rows over the command's whole wall time, reading included), created and
rejected (by the file's reader and by the API). The table adds the command's summary as it prints it, a
second import of the same file (everything unchanged), and how the number of batches in flight changes
the rate, on the first 1,000 AEDs imported under fresh source names (so each run creates as many).
"""

from __future__ import annotations

import argparse
import io
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

from bench.section import Section
from cli import aeds_import
from cli.api_client import connect
from cli.registries.records import RegistryRead

ROOT = Path(__file__).resolve().parents[1]
TAIWAN = ROOT / "tests" / "data" / "taiwan_aed_registry_2018.csv"
READY_DEADLINE_S = 180
PARALLEL_TRIALS = (1, 2, 4)
TRIAL_RECORDS = 1000


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class _Runtime:
    """`SEED_DEMO=0 make run` on a free port, in a subprocess."""

    def __init__(self) -> None:
        port = _free_port()
        self.url = f"http://127.0.0.1:{port}"
        env = {**os.environ, "PORT": str(port), "SEED_DEMO": "0", "PYTHONUNBUFFERED": "1"}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "local_runtime"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        assert self.process.stdout is not None
        deadline, banner = time.monotonic() + READY_DEADLINE_S, []
        while time.monotonic() < deadline:
            line = self.process.stdout.readline()
            if not line:
                break
            banner.append(line)
            if "Ctrl-C stops it" in line:
                return
        self.stop()
        raise RuntimeError("the local runtime did not come up:\n" + "".join(banner))

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()


def _import(url: str, path: Path, *, parallel: int, source: str | None = None) -> aeds_import.ImportReport:
    args = argparse.Namespace(
        path=str(path),
        format="taiwan-mohw",
        dry_run=False,
        api_url=url,
        token=None,
        crs=None,
        source=source,
        parallel=parallel,
    )
    return aeds_import.execute(args, progress=io.StringIO())


def run() -> Section:
    runtime = _Runtime()
    try:
        first = _import(runtime.url, TAIWAN, parallel=aeds_import.DEFAULT_PARALLEL)
        second = _import(runtime.url, TAIWAN, parallel=aeds_import.DEFAULT_PARALLEL)
        trials = [(p, _trial(runtime.url, p, first.read)) for p in PARALLEL_TRIALS]
    finally:
        runtime.stop()
    figures = {
        "rows_per_s": round(first.rows_per_s, 1),
        "created": first.outcomes["created"],
        "rejected": first.rejected,
    }
    lines = [
        "AED registry import: the whole Taiwan MOHW file through `rescue-nearby aeds import` and HTTP",
        f"into the local runtime (SEED_DEMO=0, a subprocess), {aeds_import.DEFAULT_PARALLEL} batches of "
        f"{aeds_import.BATCH} in flight",
        "",
        first.summary(),
        "",
        "the same file again (nothing to write):",
        f"  {second.outcomes['unchanged']:,} unchanged, {second.outcomes['created']} created, "
        f"{second.outcomes['updated']} updated in {second.seconds:.1f} s ({second.rows_per_s:,.0f} rows/s)",
        "",
        f"batches in flight, {TRIAL_RECORDS:,} new AEDs each (run in this order, onto a growing table):",
        *(f"  {parallel}: {rate:,.0f} AEDs/s" for parallel, rate in trials),
        "  moto answers in pure Python under one interpreter lock: rates compare versions of this code, not "
        "DynamoDB.",
    ]
    return Section("\n".join(lines), figures)


def _trial(url: str, parallel: int, registry: RegistryRead) -> float:
    """AEDs created per second with ``parallel`` batches in flight (source csv:bench-p<n>: all new)."""
    records = registry.records[:TRIAL_RECORDS]
    client = connect(
        argparse.Namespace(api_url=url, token=None), sub=aeds_import.TOKEN_SUB, roles=["aed_manager"]
    )
    source = f"csv:bench-p{parallel}"
    report = aeds_import.ImportReport(str(TAIWAN), "taiwan-mohw", source, url, registry)
    started = time.monotonic()
    aeds_import.send(client, source, records, report, parallel, io.StringIO())
    elapsed = time.monotonic() - started
    if report.outcomes["created"] != len(records):
        raise RuntimeError(f"the trial with {parallel} in flight created {report.outcomes['created']}")
    return len(records) / elapsed
