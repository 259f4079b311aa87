"""`rescue-nearby simulate`: the dispatch rules over a synthetic Hangzhou, policy against policy.

Prints a table per policy (or JSON with --json) and saves a plot of how soon the first responder and the
first AED reach the patient. The model and its sources: docs/simulation.md. Touches no AWS."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from cli.simulation import city as city_model
from cli.simulation import engine

DEFAULT_POLICIES = ("today", "nearest10-direct")
DEFAULT_SEED = 20251130


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "simulate",
        help="run the dispatch rules over a synthetic Hangzhou and compare policies",
        description=__doc__,
    )
    parser.add_argument("--days", type=int, default=7, help="simulated days (default 7)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="random seed: same seed, same report")
    parser.add_argument(
        "--acceptance", type=float, default=0.29, help="probability an alerted responder accepts (0.29)"
    )
    parser.add_argument(
        "--policies",
        nargs="+",
        default=list(DEFAULT_POLICIES),
        metavar="POLICY",
        help=f"presets ({', '.join(engine.PRESETS)}) or label:field=value,... over today's Policy",
    )
    parser.add_argument("--responders", type=int, help="registered responders (default: from the model)")
    parser.add_argument("--plot", default="docs/simulation.png", help="PNG path ('' for none)")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from shared import wiring

    started = time.monotonic()
    if not 0 <= args.acceptance <= 1 or args.days < 1:
        print("--acceptance is a probability (0..1) and --days at least 1", file=sys.stderr)
        return 2
    try:
        policies = [engine.policy_from(spec, wiring.policy()) for spec in args.policies]
    except (ValueError, TypeError) as error:
        print(error, file=sys.stderr)
        return 2
    city = city_model.build(args.seed, args.days, responders=args.responders)
    behaviour = engine.Behaviour(acceptance=args.acceptance)
    results = [engine.simulate(city, policy, behaviour, args.seed, name) for name, policy in policies]
    summaries = [engine.summarise(r) for r in results]
    if args.plot:
        plot(results, Path(args.plot), args)
    report = {
        "command": {"days": args.days, "seed": args.seed, "acceptance": args.acceptance},
        "city": city_model.summary(city),
        "policies": [
            {**s, "settings": {k: getattr(r.policy, k) for k in POLICY_FIELDS}}
            for s, r in zip(summaries, results, strict=True)
        ],
        "seconds": round(time.monotonic() - started, 1),
    }
    print(json.dumps(report, indent=2, ensure_ascii=False) if args.json else table(report))
    return 0


POLICY_FIELDS = ("wave1_radius_m", "wave1_size", "wave2_radius_m", "wave2_size", "wave_wait_s", "cpr_slots",
                 "aed_slots", "aed_radius_m")  # fmt: skip


def _time(seconds: float | None) -> str:
    return "—" if seconds is None else f"{int(seconds // 60)}:{int(seconds % 60):02d}"


def _share(value: float) -> str:
    return f"{100 * value:.0f}%"


def table(report: dict[str, Any]) -> str:
    city = report["city"]
    lines = [
        f"Synthetic Hangzhou, {city['days']} days, seed {report['command']['seed']}, acceptance "
        f"{report['command']['acceptance']:.0%}: {city['arrests']} arrests, "
        f"{city['responders_registered']:,} registered responders, {city['aeds_usable']:,} usable AEDs",
        "",
        "| policy | first responder median / p90 | AED median / p90 | responder ≤ 4 min | AED ≤ 6 min "
        "| unanswered | alerts per responder per month | alerts per arrest |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for p in report["policies"]:
        lines.append(
            f"| {p['policy']} | {_time(p['first_responder_median_s'])} / {_time(p['first_responder_p90_s'])} "
            f"| {_time(p['aed_median_s'])} / {_time(p['aed_p90_s'])} | {_share(p['responder_within_4_min'])} "
            f"| {_share(p['aed_within_6_min'])} | {_share(p['unanswered'])} "
            f"| {p['alerts_per_responder_month']:.2f} | {p['alerts_per_arrest']:.1f} |"
        )
    lines += [
        "",
        "Times run from the SOS (wave 1's alerts) to arrival, over the arrests someone reached; the shares "
        "are of all arrests. Unanswered: nobody accepted.",
        f"({report['seconds']} s)",
    ]
    return "\n".join(lines)


def plot(results: list[engine.RunResult], path: Path, args: argparse.Namespace) -> None:
    """Two panels: the share of all arrests reached by a responder, and by an AED, against minutes."""
    import matplotlib

    matplotlib.use("Agg")  # no display: a file only
    import matplotlib.pyplot as plt

    figure, panels = plt.subplots(1, 2, figsize=(12, 5), sharey=True)
    measures = (
        ("first_on_scene_s", "First responder on scene", engine.FIRST_RESPONDER_TARGET_S),
        ("aed_on_scene_s", "AED on scene", engine.AED_TARGET_S),
    )
    for panel, (attribute, title, target) in zip(panels, measures, strict=True):
        for result in results:
            times = sorted(
                t / 60 for t in (getattr(o, attribute) for o in result.outcomes) if t is not None and t < 1200
            )
            total = len(result.outcomes) or 1
            xs = [0.0, *[x for t in times for x in (t, t)], 20.0]
            ys = [
                0.0,
                *[y for i in range(len(times)) for y in (i / total, (i + 1) / total)],
                len(times) / total,
            ]
            panel.plot(xs, [100 * y for y in ys], label=result.policy_name, linewidth=2)
        panel.axvline(target / 60, color="grey", linestyle="--", linewidth=1)
        panel.text(target / 60 + 0.2, 3, f"{target // 60} min", color="grey")
        panel.set_title(title)
        panel.set_xlim(0, 20)
        panel.set_ylim(0, 100)
        panel.set_xlabel("minutes after the SOS")
        panel.grid(alpha=0.3)
    panels[0].set_ylabel("% of all arrests reached")
    panels[0].legend(loc="lower right")
    panels[1].text(19.5, 95, "a policy without an AED runner stays at 0", ha="right", color="grey")
    figure.suptitle(
        f"Synthetic Hangzhou, {args.days} days, seed {args.seed}, acceptance {args.acceptance:.0%} "
        "(rescue-nearby simulate)"
    )
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)
