"""`rescue-nearby aeds coverage (--bbox ... | --district FILE.geojson [--feature-name NAME]) --day Su
--hour 3 [--grid-m 50]`: the share of an area within 100 m and 300 m of a usable AED open then."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from cli.api_client import ApiError, ApiUnreachable, AuthRefused, add_api_options, connect

TOKEN_SUB, TOKEN_ROLES = "aed-coverage-cli", ["aed_manager"]
DAYS = ("Mo", "Tu", "We", "Th", "Fr", "Sa", "Su")
EXIT_UNREADABLE, EXIT_UNREACHABLE, EXIT_AUTH, EXIT_API = 2, 3, 4, 5


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "coverage",
        help="AED coverage of an area at an hour of the week",
        description="The share of sample points within 100 m and within 300 m (a 4-minute walk) of an AED "
        "that is usable and open at that hour (the next such weekday, HH:00 local). See docs/aed-upkeep.md.",
    )
    area = parser.add_mutually_exclusive_group(required=True)
    area.add_argument("--bbox", help="minLng,minLat,maxLng,maxLat (WGS-84)")
    area.add_argument("--district", type=Path, help="a GeoJSON file: Polygon/MultiPolygon, Feature(s)")
    parser.add_argument("--feature-name", help="the feature of --district to use (a property's value)")
    parser.add_argument("--day", required=True, choices=DAYS)
    parser.add_argument("--hour", required=True, type=int, choices=range(24), metavar="0-23")
    parser.add_argument("--grid-m", type=float, default=50.0, help="sample grid in metres (default 50)")
    add_api_options(parser)
    parser.set_defaults(run=run)


class Unreadable(Exception):
    pass


def district_geometry(path: Path, feature_name: str | None) -> dict[str, Any]:
    """The Polygon/MultiPolygon of a GeoJSON file: the geometry itself, its one feature, or the feature
    with a property equal to ``feature_name``."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise Unreadable(f"cannot read {path}: {error}") from error
    if not isinstance(document, dict):
        raise Unreadable(f"{path}: not a GeoJSON object")
    if document.get("type") in ("Polygon", "MultiPolygon"):
        return document
    features = document.get("features") if document.get("type") == "FeatureCollection" else [document]
    features = [f for f in features or [] if isinstance(f, dict) and f.get("type") == "Feature"]
    if feature_name is not None:
        features = [
            f for f in features if feature_name in {str(v) for v in (f.get("properties") or {}).values()}
        ]
    if len(features) != 1:
        names = sorted(
            str((f.get("properties") or {}).get("name", "?")) for f in features[:20] if isinstance(f, dict)
        )
        raise Unreadable(
            f"{path}: {len(features)} features match; pick one with --feature-name (e.g. {', '.join(names)})"
            if features
            else f"{path}: no feature{' named ' + feature_name if feature_name else ''}"
        )
    geometry = features[0].get("geometry") or {}
    if geometry.get("type") not in ("Polygon", "MultiPolygon"):
        raise Unreadable(f"{path}: the feature's geometry is {geometry.get('type')}, not a (Multi)Polygon")
    return dict(geometry)


def run(args: argparse.Namespace) -> int:
    try:
        client = connect(args, sub=TOKEN_SUB, roles=TOKEN_ROLES)
        if args.bbox:
            query = {"bbox": args.bbox, "day": args.day, "hour": args.hour, "grid_m": args.grid_m}
            result = client.get("/v1/aeds/coverage", query)
            where = f"bbox {args.bbox}"
        else:
            geometry = district_geometry(args.district, args.feature_name)
            body = {"area": geometry, "day": args.day, "hour": args.hour, "grid_m": args.grid_m}
            result = client.post("/v1/aeds/coverage", body)
            where = f"{args.district}{' (' + args.feature_name + ')' if args.feature_name else ''}"
    except Unreadable as error:
        print(error, file=sys.stderr)
        return EXIT_UNREADABLE
    except AuthRefused as error:
        print(f"the API refused the token: {error}", file=sys.stderr)
        return EXIT_AUTH
    except ApiUnreachable as error:
        print(f"the API is unreachable: {error}", file=sys.stderr)
        return EXIT_UNREACHABLE
    except ApiError as error:
        print(f"the API refused the request: {error}", file=sys.stderr)
        return EXIT_API
    print(
        f"AED coverage of {where} at {result['evaluated_at']} ({result['day']} {result['hour']:02d}:00), "
        f"grid {result['grid_m']:g} m: {result['sample_points']:,} sample points, "
        f"{result['usable_aeds']:,} usable open AEDs\n"
        f"  within 100 m: {result['within_100m']:.1%}\n"
        f"  within 300 m (a 4-minute walk): {result['within_300m']:.1%}"
    )
    return 0
