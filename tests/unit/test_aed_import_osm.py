"""OpenStreetMap defibrillators (GeoJSON as Overpass turbo exports it) read by the import command."""

from __future__ import annotations

import json

import pytest

from cli.registries import osm_geojson
from cli.registries.records import RegistryFormatError
from shared.geo.datum import gcj02_to_wgs84


def feature(osm_id, tags, geometry=None):
    return {
        "type": "Feature",
        "id": osm_id,
        "properties": {"@id": osm_id, **tags},
        "geometry": geometry or {"type": "Point", "coordinates": [120.1650, 30.2587]},
    }


def read(tmp_path, features, crs=None):
    path = tmp_path / "aeds.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}), encoding="utf-8")
    return osm_geojson.read(path, crs=crs)


AED = {"emergency": "defibrillator", "opening_hours": "Mo-Fr 08:00-18:00"}


def test_a_tagged_node_becomes_a_record_with_its_osm_id_and_tags(tmp_path):
    tags = {
        **AED,
        "name": "湖滨银泰 in77 AED",
        "indoor": "yes",
        "level": "0",
        "access": "customers",
        "defibrillator:location": "B区一楼服务台",
        "phone": "+86 571 8888 0000",
        "addr:city": "杭州市",
    }
    result = read(tmp_path, [feature("node/123", tags)])
    [record] = result.records
    assert record.source_id == "node/123"
    assert (record.lat, record.lng) == (30.2587, 120.1650)
    assert record.name == "湖滨银泰 in77 AED" and record.placement == "B区一楼服务台"
    assert record.opening_hours == "Mo-Fr 08:00-18:00"
    assert record.indoor is True and record.access == "customers" and record.floor == "1"
    assert record.contact_phone == "+86 571 8888 0000" and record.city == "杭州市"


def test_other_features_are_skipped_and_bad_ones_rejected_with_reasons(tmp_path):
    features = [
        feature("node/1", {"amenity": "pharmacy"}),
        feature("node/2", {"emergency": "defibrillator"}),  # no opening_hours
        feature("node/3", {**AED, "opening_hours": "sometimes"}),
        feature("way/4", AED, {"type": "LineString", "coordinates": [[120.1, 30.2], [120.2, 30.3]]}),
        feature("node/5", AED),
        feature("node/5", AED),
    ]
    result = read(tmp_path, features)
    assert [r.source_id for r in result.records] == ["node/5"]
    assert result.skipped == {"not emergency=defibrillator": 1, "duplicate": 1}
    assert [(r.line, r.reason) for r in result.rejected] == [
        (2, "opening_hours missing"),
        (3, "opening_hours not valid"),
        (4, "geometry not a Point or Polygon"),
    ]
    assert result.rows == 6


def test_an_area_is_read_at_the_middle_of_its_corners(tmp_path):
    square = {
        "type": "Polygon",
        "coordinates": [[[120.0, 30.0], [120.002, 30.0], [120.002, 30.002], [120.0, 30.002], [120.0, 30.0]]],
    }
    [record] = read(tmp_path, [feature("way/9", AED, square)]).records
    assert record.lat == pytest.approx(30.001) and record.lng == pytest.approx(120.001)


@pytest.mark.parametrize(
    ("level_ref", "level", "floor"),
    [(None, "0", "1"), (None, "2", "3"), (None, "-1", "B1"), ("GF", "0", "GF"), (None, "0;1", None)],
)
def test_levels_become_floors_as_people_say_them(level_ref, level, floor):
    assert osm_geojson.level_to_floor(level_ref, level) == floor


def test_unknown_access_values_are_dropped_not_sent(tmp_path):
    [record] = read(tmp_path, [feature("node/7", {**AED, "access": "public"})]).records
    assert record.access is None


def test_gcj02_is_converted_to_wgs84(tmp_path):
    [record] = read(tmp_path, [feature("node/8", AED)], crs="gcj02").records
    # GCJ-02 is ~500 m off in Hangzhou: WGS-84 lies north-west of the GCJ-02 reading
    assert (record.lat, record.lng) == pytest.approx(gcj02_to_wgs84(30.2587, 120.1650), abs=1e-6)
    assert 30.2600 < record.lat < 30.2620 and 120.1595 < record.lng < 120.1610


def test_a_file_that_is_not_geojson_cannot_be_read(tmp_path):
    path = tmp_path / "x.geojson"
    path.write_text("[1, 2]", encoding="utf-8")
    with pytest.raises(RegistryFormatError):
        osm_geojson.read(path)
