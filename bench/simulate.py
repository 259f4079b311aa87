"""The dispatch simulator's week of Hangzhou (`rescue-nearby simulate`, docs/simulation.md): how long it takes
(the issue asks for under 2 minutes) and what it reports for today's waves and the other presets."""

from __future__ import annotations

import contextlib
import io
import json
import time

from bench.section import Section


def run() -> Section:
    from cli.__main__ import main

    out = io.StringIO()
    started = time.monotonic()
    with contextlib.redirect_stdout(out):
        status = main(["simulate", "--days", "7", "--json", "--plot", ""])
    seconds = time.monotonic() - started
    if status != 0:
        raise RuntimeError(f"rescue-nearby simulate exited {status}")
    report = json.loads(out.getvalue())
    rows = {
        p["policy"]: {
            "responder_within_4_min": round(p["responder_within_4_min"], 3),
            "aed_within_6_min": round(p["aed_within_6_min"], 3),
            "unanswered": round(p["unanswered"], 3),
            "flagged_unanswered": round(p["flagged_unanswered"], 3),
            "alerts_per_responder_month": round(p["alerts_per_responder_month"], 3),
        }
        for p in report["policies"]
    }
    seed = report["command"]["seed"]
    lines = [f"dispatch simulator, a week of synthetic Hangzhou (seed {seed}): {seconds:.1f} s"]
    lines += [f"  {name}: {row}" for name, row in rows.items()]
    return Section(table="\n".join(lines), figures={"week_seconds": round(seconds, 1), "policies": rows})
