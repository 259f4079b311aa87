"""The geohash library shared/geo relies on, and our bit de-interleave, against every vector of an
independent conformance suite (mmcloughlin/geohash, MIT: see tests/data/README.md)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import pygeohash

from shared.geo import cover
from shared.geo.cover import AXIS_BITS, geohash_axes, point_keys

VECTORS = Path(__file__).resolve().parents[1] / "data" / "geohash_vectors"
DIRECTIONS = ("n", "ne", "e", "se", "s", "sw", "w", "nw")
# (east, north) steps of each direction, in cells.
STEPS = {"n": (0, 1), "ne": (1, 1), "e": (1, 0), "se": (1, -1), "s": (0, -1), "sw": (-1, -1), "w": (-1, 0)}
STEPS["nw"] = (-1, 1)
# The decode vectors carry 10 decimals; a 12-character cell is 1.7e-7 degrees tall, so this still fails
# on any wrong bit.
BOX_TOLERANCE_DEG = 1e-9


@cache
def cases(name: str) -> list[dict[str, Any]]:
    document = json.loads((VECTORS / f"{name}.json").read_text(encoding="utf-8"))
    assert document["license"].startswith("MIT")
    result: list[dict[str, Any]] = document["cases"]
    return result


def deinterleave(value: int, bits: int) -> tuple[int, int]:
    """An integer geohash of ``bits`` bits, split into (longitude bits, latitude bits): written
    independently of shared.geo.cover.geohash_axes, from the geohash definition."""
    lng = lat = 0
    for position in range(bits):
        bit = (value >> (bits - 1 - position)) & 1
        if position % 2 == 0:
            lng = lng << 1 | bit
        else:
            lat = lat << 1 | bit
    return lng, lat


def neighbour(geohash: str, direction: str) -> str:
    east, north = STEPS[direction]
    if north:
        geohash = pygeohash.get_adjacent(geohash, "top" if north > 0 else "bottom")
    if east:
        geohash = pygeohash.get_adjacent(geohash, "right" if east > 0 else "left")
    return geohash


def test_shared_geo_uses_this_library_and_the_suite_is_whole() -> None:
    assert cover.pygeohash is pygeohash
    sizes = [len(cases(name)) for name in ("encode_vectors", "decode_box_vectors", "neighbor_vectors")]
    assert sizes == [4096, 4096, 1000]
    assert (VECTORS / "LICENSE.mmcloughlin-geohash").is_file()


def test_encode_every_vector() -> None:
    wrong = [
        (case["lat"], case["lng"], case["hash"], got)
        for case in cases("encode_vectors")
        if (got := pygeohash.encode(case["lat"], case["lng"], 12)) != case["hash"]
    ]
    assert wrong == []


def test_decode_box_every_vector() -> None:
    wrong = []
    for case in cases("decode_box_vectors"):
        box = pygeohash.get_bounding_box(case["hash"])
        got = (box.min_lat, box.max_lat, box.min_lon, box.max_lon)
        expected = (case["min_lat"], case["max_lat"], case["min_lng"], case["max_lng"])
        if any(abs(g - e) > BOX_TOLERANCE_DEG for g, e in zip(got, expected, strict=True)):
            wrong.append((case["hash"], got, expected))
    assert wrong == []


def test_decode_exactly_agrees_with_the_box_vectors() -> None:
    wrong = []
    for case in cases("decode_box_vectors"):
        lat, lng, lat_err, lng_err = pygeohash.decode_exactly(case["hash"])
        got = (lat - lat_err, lat + lat_err, lng - lng_err, lng + lng_err)
        expected = (case["min_lat"], case["max_lat"], case["min_lng"], case["max_lng"])
        if any(abs(g - e) > BOX_TOLERANCE_DEG for g, e in zip(got, expected, strict=True)):
            wrong.append((case["hash"], got, expected))
    assert wrong == []


def test_neighbours_every_vector_in_order_n_ne_e_se_s_sw_w_nw() -> None:
    wrong = []
    for case in cases("neighbor_vectors"):
        got = [neighbour(case["hash"], d) for d in DIRECTIONS]
        if got != case["neighbors_n_ne_e_se_s_sw_w_nw"]:
            wrong.append((case["hash"], got, case["neighbors_n_ne_e_se_s_sw_w_nw"]))
    assert wrong == []


def test_axes_match_the_64_bit_hashes() -> None:
    """hash_uint64_hex is the geohash as a 64-bit integer (32 bits per axis); our 12-character hash
    holds the top 30 bits of each axis, so the index keys must be those bits exactly."""
    wrong: list[tuple[object, ...]] = []
    for case in cases("encode_vectors"):
        lng32, lat32 = deinterleave(int(case["hash_uint64_hex"], 16), 64)
        expected = (lng32 >> 2, lat32 >> 2)
        keys = point_keys(case["lat"], case["lng"], levels=(AXIS_BITS, 18, 8))
        got_keys = (keys.columns[AXIS_BITS], keys.lat_key)
        if geohash_axes(case["hash"]) != expected or got_keys != expected:
            wrong.append((case["hash"], geohash_axes(case["hash"]), got_keys, expected))
        elif (keys.columns[18], keys.columns[8]) != (lng32 >> 14, lng32 >> 24):
            wrong.append((case["hash"], "column", keys.columns))
    assert wrong == []


def test_axes_match_the_integer_hashes_of_the_neighbour_vectors() -> None:
    """hash_int is an ngeohash integer of hash_int_bits bits (20-50): the same point's bits, shorter."""
    wrong = []
    for case in cases("neighbor_vectors"):
        bits = case["hash_int_bits"]
        lng_bits, lat_bits = (bits + 1) // 2, bits // 2
        lng, lat = geohash_axes(pygeohash.encode(case["lat"], case["lng"], 12))
        got = (lng >> (AXIS_BITS - lng_bits), lat >> (AXIS_BITS - lat_bits))
        if got != deinterleave(case["hash_int"], bits):
            wrong.append((case["hash"], bits, got, deinterleave(case["hash_int"], bits)))
    assert wrong == []


def test_neighbours_are_one_column_or_one_latitude_key_apart() -> None:
    """What the column-major cover rests on: a geohash cell's east/west neighbour is the next column,
    its north/south neighbour the next latitude key (longitude wraps at ±180°)."""
    wrong = []
    for case in cases("neighbor_vectors"):
        for hashes, bits in (
            ([case["hash"], *case["neighbors_n_ne_e_se_s_sw_w_nw"]], 5 * len(case["hash"])),
            ([case["hash_int"], *case["hash_int_neighbors"]], case["hash_int_bits"]),
        ):
            lng_bits, lat_bits = (bits + 1) // 2, bits // 2
            axes = [geohash_axes(h) if isinstance(h, str) else deinterleave(h, bits) for h in hashes]
            (x, y), around = axes[0], axes[1:]
            for direction, got in zip(DIRECTIONS, around, strict=True):
                east, north = STEPS[direction]
                if got != ((x + east) % (1 << lng_bits), (y + north) % (1 << lat_bits)):
                    wrong.append((case["hash"], direction, bits, got))
    assert wrong == []
