"""`rescue-nearby aeds import PATH --format {taiwan-mohw,osm-geojson,csv}`: read a registry file, send its
AEDs to POST /v1/aeds/import in batches of 100 (a few at once), and summarise what happened."""

from __future__ import annotations

import argparse
import re
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, TextIO

from cli.api_client import ApiClient, ApiError, ApiUnreachable, AuthRefused, add_api_options, connect
from cli.registries import csv_template, osm_geojson, taiwan_mohw
from cli.registries.records import ImportRecord, RegistryFormatError, RegistryRead

FORMATS: dict[str, ModuleType] = {"taiwan-mohw": taiwan_mohw, "osm-geojson": osm_geojson, "csv": csv_template}
BATCH = 100  # the API's limit per request
# Batches in flight at once. On the local runtime (moto, one interpreter lock) 1, 2 and 4 made 90, 95, 100
# and, in a second run, 159, 118, 210 new AEDs/s (bench/aed_import.py): 4 was fastest both times; a
# deployed API, a Lambda per request, takes far more.
DEFAULT_PARALLEL = 4
TOKEN_SUB, TOKEN_ROLES = "aed-import-cli", ["aed_manager"]
SOURCE_PATTERN = re.compile(r"^(taiwan-mohw|osm|csv:[A-Za-z0-9][A-Za-z0-9._-]{0,63})$")
# Exit statuses: 0 finished (rejected rows included); otherwise it could not run.
EXIT_UNREADABLE, EXIT_UNREACHABLE, EXIT_AUTH, EXIT_API = 2, 3, 4, 5


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "import",
        help="load AEDs from a registry file through the API",
        description="Load AEDs from a registry file through POST /v1/aeds/import. Re-importing the same "
        "file updates what changed and duplicates nothing. See docs/aed-import.md.",
    )
    parser.add_argument("path", help="the registry file")
    parser.add_argument("--format", required=True, choices=sorted(FORMATS), help="the file's format")
    parser.add_argument("--dry-run", action="store_true", help="read and report; send nothing")
    add_api_options(parser)
    parser.add_argument(
        "--crs",
        choices=("wgs84", "gcj02"),
        default=None,
        help="datum of the file's coordinates (gcj02: AMap/Tencent, converted to WGS-84); a csv row's own "
        "crs column wins",
    )
    parser.add_argument(
        "--source",
        help='the registry\'s name, part of every AED\'s identity: default "taiwan-mohw", "osm", or '
        '"csv:<file name>" for csv',
    )
    parser.add_argument(
        "--parallel",
        type=int,
        default=DEFAULT_PARALLEL,
        help=f"batches in flight (default {DEFAULT_PARALLEL})",
    )
    parser.set_defaults(run=run)


class ImportFailed(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class ImportReport:
    path: str
    format: str
    source: str
    api_url: str | None  # None: dry run
    read: RegistryRead
    outcomes: Counter[str] = field(default_factory=Counter)  # created, updated, unchanged, rejected
    server_rejections: Counter[str] = field(default_factory=Counter)  # the API's reason -> items
    seconds: float = 0.0

    @property
    def rows_per_s(self) -> float:
        return self.read.rows / self.seconds if self.seconds else 0.0

    @property
    def rejected(self) -> int:
        return len(self.read.rejected) + self.outcomes["rejected"]

    def summary(self) -> str:
        read = self.read
        if self.api_url is None:
            head = f"Dry run, nothing sent: {self.path} ({self.format}, source {self.source})"
        else:
            head = (
                f"Imported {self.path} ({self.format}, source {self.source}) into {self.api_url} "
                f"in {self.seconds:.1f} s ({self.rows_per_s:,.0f} rows/s)"
            )
        lines = [head, f"  read       {read.rows:>7,} rows"]
        if self.api_url is None:
            lines.append(f"  to send    {len(read.records):>7,} AEDs")
        else:
            lines += [
                f"  {name:<10} {self.outcomes[name]:>7,}" for name in ("created", "updated", "unchanged")
            ]
        lines.append(f"  rejected   {self.rejected:>7,}")
        parser_lines: dict[str, list[int]] = {}
        for rejected in read.rejected:
            parser_lines.setdefault(rejected.reason, []).append(rejected.line)
        for reason, where in sorted(parser_lines.items(), key=lambda kv: -len(kv[1])):
            shown = ", ".join(str(n) for n in where[:5]) + (", …" if len(where) > 5 else "")
            lines.append(f"    {reason:<34} {len(where):>5,}  (file; line {shown})")
        for reason, count in self.server_rejections.most_common():
            lines.append(f"    {reason:<34} {count:>5,}  (API)")
        lines.append(f"  skipped    {sum(read.skipped.values()):>7,}")
        for reason, count in sorted(read.skipped.items(), key=lambda kv: -kv[1]):
            lines.append(f"    {reason:<34} {count:>5,}")
        closed = sum(1 for r in read.records if r.opening_hours == "off")
        if closed:
            lines.append(
                f'  note: {closed:,} AEDs have no open hours on any day in the file: imported as "off" '
                "(on the map, never sent to a rescue)"
            )
        return "\n".join(lines)


def default_source(fmt: str, path: str) -> str:
    if fmt == "taiwan-mohw":
        return "taiwan-mohw"
    if fmt == "osm-geojson":
        return "osm"
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", Path(path).stem).strip("-._")[:64] or "registry"
    return f"csv:{stem}"


def execute(args: argparse.Namespace, progress: TextIO = sys.stderr) -> ImportReport:
    """Read, send, tally. Raises ImportFailed when it cannot run (the exit status is on it)."""
    started = time.monotonic()
    source = args.source or default_source(args.format, args.path)
    if not SOURCE_PATTERN.match(source):
        raise ImportFailed(EXIT_UNREADABLE, f'--source "{source}": taiwan-mohw, osm or csv:<name>')
    try:
        read = FORMATS[args.format].read(args.path, crs=args.crs)
    except (OSError, UnicodeDecodeError, RegistryFormatError) as error:
        raise ImportFailed(EXIT_UNREADABLE, f"cannot read {args.path}: {error}") from error
    report = ImportReport(args.path, args.format, source, None if args.dry_run else args.api_url, read)
    if not args.dry_run:
        try:
            client = connect(args, sub=TOKEN_SUB, roles=TOKEN_ROLES)
            send(client, source, read.records, report, max(1, args.parallel), progress)
        except AuthRefused as error:
            raise ImportFailed(EXIT_AUTH, f"the API refused the token: {error}") from error
        except ApiUnreachable as error:
            raise ImportFailed(EXIT_UNREACHABLE, f"the API is unreachable: {error}") from error
        except ApiError as error:
            raise ImportFailed(EXIT_API, f"the API refused a batch: {error}") from error
    report.seconds = time.monotonic() - started
    return report


def send(
    client: ApiClient,
    source: str,
    records: Sequence[ImportRecord],
    report: ImportReport,
    parallel: int,
    progress: TextIO,
) -> None:
    batches = [records[i : i + BATCH] for i in range(0, len(records), BATCH)]
    started, done = time.monotonic(), 0

    def post(batch: Sequence[ImportRecord]) -> Callable[[], int]:
        answer = client.post("/v1/aeds/import", {"source": source, "items": [r.item() for r in batch]})
        results = answer["results"]

        def tally() -> int:
            for result in results:
                report.outcomes[result["outcome"]] += 1
                if result["outcome"] == "rejected":
                    report.server_rejections[str(result.get("reason"))] += 1
            return len(batch)

        return tally

    with ThreadPoolExecutor(max_workers=parallel, thread_name_prefix="import") as pool:
        pending = {pool.submit(post, batch) for batch in batches}
        while pending:
            finished, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in finished:
                if future.exception() is not None:
                    for other in pending:
                        other.cancel()
                    raise future.exception()  # type: ignore[misc]
                done += future.result()()
                rate = done / max(time.monotonic() - started, 1e-9)
                share = done * 100 // max(len(records), 1)
                print(
                    f"sent {done:,}/{len(records):,} AEDs ({share}%), {rate:,.0f}/s",
                    file=progress,
                    flush=True,
                )


def run(args: argparse.Namespace) -> int:
    try:
        report = execute(args)
    except ImportFailed as error:
        print(f"rescue-nearby aeds import: {error}", file=sys.stderr)
        return error.status
    print(report.summary())
    return 0
