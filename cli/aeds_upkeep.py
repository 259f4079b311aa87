"""`rescue-nearby aeds upkeep [--api-url URL] [--at DATE]`: run the daily AED upkeep now, on the local
runtime (POST /dev/schedules/aed_upkeep_daily, the same function EventBridge Scheduler runs in the cloud),
and print what it did. ``--at`` runs it as of another date, for demos and tests."""

from __future__ import annotations

import argparse
import sys
from datetime import date
from typing import Any

from cli.api_client import DEFAULT_API_URL, ApiClient, ApiError, ApiUnreachable, is_local

FUNCTION = "aed_upkeep_daily"
EXIT_UNREACHABLE, EXIT_API = 3, 5


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "upkeep",
        help="run the daily AED upkeep now (local runtime)",
        description="Run the daily AED upkeep on the local runtime: expired pads or batteries leave search, "
        "managers get their 30- and 7-day reminders (once each), overdue inspections are flagged. In the "
        "cloud EventBridge Scheduler runs it every day. See docs/aed-upkeep.md.",
    )
    parser.add_argument(
        "--api-url", default=DEFAULT_API_URL, help=f"the local runtime (default {DEFAULT_API_URL})"
    )
    parser.add_argument(
        "--at", type=date.fromisoformat, help="run as of this date (YYYY-MM-DD); default today"
    )
    parser.set_defaults(run=run)


def summary(result: dict[str, Any]) -> str:
    text = (
        f"AED upkeep as of {result['as_of']}: checked {result['checked']} AEDs; "
        f"expired {result['expired']}, reminders sent {result['reminders_sent']}, "
        f"overdue {result['overdue']}"
    )
    if result.get("without_manager"):
        text += f" ({result['without_manager']} AEDs needing a reminder have no manager)"
    return text


def run(args: argparse.Namespace) -> int:
    if not is_local(args.api_url):
        print(
            f"{args.api_url} is not the local runtime: in the cloud the schedule runs the upkeep daily "
            f"(or invoke the {FUNCTION} function, e.g. `aws lambda invoke`)",
            file=sys.stderr,
        )
        return EXIT_API
    body = {"as_of": args.at.isoformat()} if args.at else {}
    try:
        result = ApiClient(args.api_url, attempts=1).post(f"/dev/schedules/{FUNCTION}", body)
    except ApiUnreachable as error:
        print(f"the local runtime is unreachable ({error}); start it with `make run`", file=sys.stderr)
        return EXIT_UNREACHABLE
    except ApiError as error:
        print(f"the upkeep run failed: {error}", file=sys.stderr)
        return EXIT_API
    print(summary(result))
    if result.get("expired_ids"):
        print("taken out of search: " + ", ".join(result["expired_ids"]))
    return 0
