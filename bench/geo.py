"""Geo search, side by side in one run: this project's DynamoGeoIndex, the dynamodb-geo library
(dynamodbgeo 0.0.3, the Python port of awslabs/dynamodb-geo) and a full table Scan, on the embedded AWS.

For each dataset (Taipei AEDs, Hangzhou responders) and radius (300 m, 1 km, 2 km), 200 seeded searches;
per system: recall against brute force, Queries per search, sequential rounds per search, and items read
÷ items returned (sum of ScannedCount ÷ sum of results). Counts only: moto's latency means nothing.
How each run keeps moto fast without changing a count: see bench/geo_runs.py. Then this project's bound
where covers used to blow up (poles, ±180°): bench/geo_bounds.py, the figures' ``bounds``.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import time
import zlib
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from typing import Any

from bench import geo_bounds, geo_runs
from bench.datasets import Dataset, hangzhou_responders, query_centres, taipei_aeds
from bench.geo_runs import Measured, Run, Search
from bench.section import Section

RADII_M = (300.0, 1000.0, 2000.0)
# 200 is the benchmark; BENCH_SEARCHES=20 makes a quick smoke run (its figures are not the benchmark's).
SEARCHES_PER_RADIUS = int(os.environ.get("BENCH_SEARCHES", "200"))
SYSTEMS = ("this project", "dynamodb-geo", "full Scan")
FIGURE_KEYS = {"this project": None, "dynamodb-geo": "dynamodbgeo", "full Scan": "scan"}
TARGETS = "targets for this project: recall 1.0, ≤ 6 Queries in 1 round, read ratio ≤ 1.5"


def searches_for(dataset: Dataset) -> list[Search]:
    searches = []
    for radius in RADII_M:
        seed = zlib.crc32(f"{dataset.name}/{radius:.0f}".encode())
        for lat, lng in query_centres(dataset, SEARCHES_PER_RADIUS, seed):
            searches.append(Search(radius, lat, lng))
    return searches


def _job(what: str, dataset: Dataset, searches: Sequence[Search]) -> Any:
    """Runs in a worker process: each run gets its own process and embedded AWS."""
    runners: dict[str, Callable[[Dataset, Sequence[Search]], Any]] = {
        "truth": geo_runs.brute_force,
        "this project": geo_runs.run_ours,
        "dynamodb-geo": geo_runs.run_dynamodbgeo,
        "full Scan": geo_runs.run_scan,
    }
    started, cpu_started = time.monotonic(), time.process_time()
    result = runners[what](dataset, searches)
    return result, time.monotonic() - started, time.process_time() - cpu_started


@dataclass
class Row:
    system: str
    dataset: str
    radius_m: float
    searches: int
    recall: float
    missed_searches: int
    exact_order: int  # searches whose hits equal brute force exactly, order and ties included
    beyond_radius: int  # items returned farther than the radius
    queries: float
    rounds: float
    read_ratio: float
    returned: float


def _rows(run: Run, searches: Sequence[Search], truth: Sequence[list[tuple[float, str]]]) -> list[Row]:
    rows = []
    for radius in RADII_M:
        picked = [i for i, s in enumerate(searches) if s.radius_m == radius]
        ms: list[Measured] = [run.measured[i] for i in picked]
        expected = sum(len(truth[i]) for i in picked)
        found = missed = exact = beyond = 0
        for i, m in zip(picked, ms, strict=True):
            truth_ids = {entity_id for _, entity_id in truth[i]}
            got_ids = {entity_id for _, entity_id in m.hits}
            found += len(truth_ids & got_ids)
            missed += bool(truth_ids - got_ids)
            exact += m.hits == truth[i]
            beyond += sum(distance > radius for distance, _ in m.hits)
        returned = sum(len(m.hits) for m in ms)
        read = sum(m.items_read for m in ms)
        rows.append(
            Row(
                system=run.system,
                dataset=run.dataset,
                radius_m=radius,
                searches=len(ms),
                recall=found / expected if expected else 1.0,
                missed_searches=missed,
                exact_order=exact,
                beyond_radius=beyond,
                queries=sum(m.queries for m in ms) / len(ms),
                rounds=sum(m.rounds for m in ms) / len(ms),
                read_ratio=read / returned if returned else (0.0 if read == 0 else float("inf")),
                returned=returned / len(ms),
            )
        )
    return rows


def _figures(rows: Sequence[Row], system: str) -> dict[str, float]:
    mine = [r for r in rows if r.system == system]
    return {
        "recall_min": min(r.recall for r in mine),
        "queries_per_search_max": round(max(r.queries for r in mine), 3),
        "rounds_per_search_max": round(max(r.rounds for r in mine), 3),
        "read_ratio_max": round(max(r.read_ratio for r in mine), 3),
    }


def _table(rows: Sequence[Row], datasets: Sequence[Dataset], runs: Sequence[Run], seconds: float) -> str:
    lines = [
        "Geo search benchmark: counts on the embedded AWS (moto), never latency",
        f"{SEARCHES_PER_RADIUS} seeded searches per dataset and radius; centres where the data is "
        "(a random point moved up to 1 km)",
    ]
    lines += [f"  {d.name}: {d.description}" for d in datasets]
    header = (
        f"{'system':<13} {'dataset':<20} {'radius':>7} {'recall':>8} {'missed':>6} {'exact order':>11} "
        f"{'beyond r':>8} {'Queries':>8} {'rounds':>7} {'read/ret':>8} {'ret/search':>10}"
    )
    lines += ["", header, "-" * len(header)]
    for r in rows:
        exact = f"{r.exact_order}/{r.searches}" if r.system == "this project" else "-"
        lines.append(
            f"{r.system:<13} {r.dataset:<20} {r.radius_m:>5.0f} m {r.recall:>8.6f} {r.missed_searches:>6} "
            f"{exact:>11} {r.beyond_radius:>8} {r.queries:>8.2f} {r.rounds:>7.2f} {r.read_ratio:>8.3f} "
            f"{r.returned:>10.1f}"
        )
    lines += [
        "",
        "recall: found ÷ brute force (haversine over the whole dataset); missed: searches missing an item;",
        "exact order: hits identical to brute force, nearest first, ties by id; beyond r: returned items",
        "farther than the radius; Queries and rounds: per search (dynamodb-geo queries one range after",
        "another, a Scan pages one after another); read/ret: sum of ScannedCount ÷ sum of items returned.",
        "",
        "worst over datasets and radii:",
    ]
    for system in SYSTEMS:
        f = _figures(rows, system)
        lines.append(
            f"  {system:<13} recall {f['recall_min']:.6f}, {f['queries_per_search_max']:.2f} Queries in "
            f"{f['rounds_per_search_max']:.2f} rounds, read ratio {f['read_ratio_max']:.3f}"
        )
    lines.append(f"  ({TARGETS})")
    lines += [
        "",
        "runs (each process has its own embedded AWS; wall clock summed over processes, CPU, writes):",
    ]
    for run in runs:
        note = f"; {run.note}" if run.note else ""
        writes = f"{run.items_loaded:,} item writes"
        split = f" in {run.processes} processes" if run.processes > 1 else ""
        times = f"{run.seconds:>6.1f} s{split}, {run.cpu_seconds:>6.1f} s CPU"
        lines.append(f"  {run.system:<13} {run.dataset:<20} {times}, {writes}{note}")
    lines.append(f"  geo section: {seconds:.0f} s wall clock")
    return "\n".join(lines)


def _parts(dataset: Dataset, what: str) -> list[tuple[float, ...]]:
    """Radii per job: a big dataset's runs are split so that two cores finish at about the same time."""
    if what in ("this project", "dynamodb-geo") and len(dataset.points) > 5000:
        return [RADII_M[-1:], RADII_M[:-1]]
    return [RADII_M]


def _estimate(what: str, dataset: Dataset, radii: Sequence[float]) -> float:
    """Rough CPU cost, to start the longest jobs first."""
    weight = {"dynamodb-geo": 2.0, "this project": 1.3, "full Scan": 0.2, "truth": 0.1}[what]
    return weight * len(dataset.points) * sum(r * r for r in radii)


def run(workers: int | None = None) -> Section:
    started = time.monotonic()
    datasets = [taipei_aeds(), hangzhou_responders()]
    searches = {d.name: searches_for(d) for d in datasets}
    jobs = sorted(
        ((what, d, radii) for d in datasets for what in ("truth", *SYSTEMS) for radii in _parts(d, what)),
        key=lambda job: -_estimate(*job),
    )
    workers = workers or int(os.environ.get("BENCH_WORKERS", "0")) or min(len(jobs), os.cpu_count() or 1)
    truth: dict[str, list[list[tuple[float, str]]]] = {
        d.name: [[] for _ in searches[d.name]] for d in datasets
    }
    measured: dict[tuple[str, str], list[Measured | None]] = {
        (system, d.name): [None] * len(searches[d.name]) for system in SYSTEMS for d in datasets
    }
    parts: dict[tuple[str, str], list[Run]] = {(system, d.name): [] for system in SYSTEMS for d in datasets}
    with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        futures: dict[Future[Any], tuple[str, Dataset, tuple[float, ...], list[int]]] = {}
        for what, d, radii in jobs:
            picked = [i for i, s in enumerate(searches[d.name]) if s.radius_m in radii]
            future = pool.submit(_job, what, d, [searches[d.name][i] for i in picked])
            futures[future] = (what, d, radii, picked)
        for future in as_completed(futures):
            what, d, radii, picked = futures[future]
            result, wall, cpu = future.result()
            radii_text = "/".join(f"{r:.0f}" for r in radii)
            print(
                f"[bench geo] {what} on {d.name} ({radii_text} m): {wall:.0f} s, {cpu:.0f} s CPU",
                file=sys.stderr,
                flush=True,
            )
            if what == "truth":
                for i, found in zip(picked, result, strict=True):
                    truth[d.name][i] = found
                continue
            result.seconds, result.cpu_seconds = wall, cpu
            parts[(what, d.name)].append(result)
            for i, m in zip(picked, result.measured, strict=True):
                measured[(what, d.name)][i] = m
    runs = {key: _merge(part_runs, measured[key]) for key, part_runs in parts.items()}
    rows = [
        row
        for system in SYSTEMS
        for d in datasets
        for row in _rows(runs[(system, d.name)], searches[d.name], truth[d.name])
    ]
    ordered_runs = [runs[(system, d.name)] for system in SYSTEMS for d in datasets]
    figures: dict[str, Any] = _figures(rows, "this project")
    for system in SYSTEMS[1:]:
        figures[str(FIGURE_KEYS[system])] = _figures(rows, system)
    bounds_table, figures["bounds"] = geo_bounds.run()
    table = _table(rows, datasets, ordered_runs, time.monotonic() - started)
    return Section(f"{table}\n\n{bounds_table}", figures)


def _merge(part_runs: Sequence[Run], measured: Sequence[Measured | None]) -> Run:
    first = part_runs[0]
    return Run(
        system=first.system,
        dataset=first.dataset,
        measured=[m for m in measured if m is not None],
        items_loaded=sum(r.items_loaded for r in part_runs),
        seconds=sum(r.seconds for r in part_runs),
        note=first.note,
        cpu_seconds=sum(r.cpu_seconds for r in part_runs),
        processes=len(part_runs),
    )
